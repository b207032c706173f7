"""The dossier reader and the record: format tolerance, prose rules, and clean errors."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import DossierError, extract, parse, read
from kg.dossier import MAX_BYTES, decode

SEED = SEEDS / "000_9d7a1e61a93c14a6.txt"


def record(text: str):
    return extract(parse(text, "t.txt"))


def test_seed_reads_into_title_short_name_infobox_and_sections() -> None:
    d = read(SEED)
    assert d.title == "Mars 2MV-4 No.1"
    assert d.short_name == "2MV-4 No.1"
    assert [(i.key, i.value) for i in d.infobox][:2] == [("Mission Type", "Mars flyby"),
                                                         ("Operator", "Soviet Union")]
    assert d.infobox[0].line == 4
    assert [h for _, h in d.headings] == ["Launch", "Designations", "Scientific Instruments",
                                          "See also"]


def test_seed_facts_from_prose_and_nothing_not_understood() -> None:
    rec = extract(read(SEED))
    assert rec.get("launch_time").iso() == "1962-10-24T17:55:04Z"
    assert rec.facts["launch_time"][0].source == "prose"
    assert set(rec.values("aliases")) == {"Sputnik 22", "Sputnik 29"}
    assert rec.get("launch_site") == "Baikonur Cosmodrome"
    assert rec.get("launch_pad") == "Site 1/5"
    assert rec.values("upper_stage") == ["Blok L"]
    assert rec.values("instruments") == ["Imaging System", "Magnetometer"]
    assert rec.get("debris_count") == 22
    assert rec.get("debris_decay_start").iso() == "1962-10-29"
    assert rec.get("debris_decay_end").iso() == "1963-02-26"
    assert not [p for p in rec.problems if p.severity == "not-understood"]
    statuses = {s.key: s.status for s in rec.lines if s.key}
    assert statuses["Apsis"] == "template"          # 'gee' is template wording, no fact
    assert statuses["Launch Date"] == "empty"       # a leftover unit states nothing
    assert statuses["Decay Date"] == "empty"        # a dash states nothing
    assert rec.get("decay_date") is None


def test_tolerates_bom_crlf_trailing_spaces_key_case_and_synonyms() -> None:
    text = ("\ufeff= Probe X =  \r\n\r\nPX-1 \r\n- LAUNCH  rocket : Vostok-K[2] \r\n"
            "- launch vehicle: Vostok-K\r\n- Rocket: Vostok-K\r\n- cospar_id: 1961-001a\r\n\r\n"
            "Probe X was a probe.\r\n")
    d = parse(decode(text.encode("utf-8"), "x.txt"), "x.txt")
    rec = extract(d)
    assert d.title == "Probe X" and d.short_name == "PX-1"
    assert rec.values("launch_vehicle") == ["Vostok-K"]
    assert rec.get("cospar_id") == "1961-001A"
    assert all(s.status == "mapped" for s in rec.lines if s.key)


def test_unknown_key_is_reported_and_kept() -> None:
    rec = record("= P =\n- Colour: Blue\n- Launch Mass: heavy\n")
    kinds = [(p.line, p.severity) for p in rec.problems]
    assert kinds == [(2, "not-understood"), (3, "not-understood")]
    assert "expected a mass" in rec.problems[1].message
    kept = {s.key: s.value for s in rec.lines if s.status == "not-understood"}
    assert kept == {"Colour": "Blue", "Launch Mass": "heavy"}


def test_qualified_regimes_and_malformed_ids_kept_with_warnings() -> None:
    rec = record("= P =\n- Orbit Regime: Low Earth (achieved), Heliocentric (planned)\n"
                 "- Satcat: -44x\n- Cospar Id: 1962-57A\n")
    assert rec.values("orbit_regime") == [("Low Earth", "achieved"), ("Heliocentric", "intended")]
    assert rec.get("satcat") == "-44x"
    assert rec.get("cospar_id") == "1962-57A"
    assert sorted(p.line for p in rec.problems if p.severity == "warning") == [3, 4]


def test_infobox_wins_over_prose_and_disagreement_is_reported() -> None:
    rec = record("= P =\n- Launch Date: 4 November 1962\n\n== Launch ==\n"
                 "It was launched at 10:00 UTC on 5 November 1962 from the Baikonur Cosmodrome.\n")
    assert rec.get("launch_time").iso() == "1962-11-04"
    assert [p.line for p in rec.problems if p.severity == "warning"] == [5]


def test_prose_refines_a_consistent_infobox_date() -> None:
    rec = record("= P =\n- Launch Date: 4 November 1962\n\n"
                 "The probe was launched at 15:35 UTC on 4 November 1962.\n")
    assert rec.get("launch_time").iso() == "1962-11-04T15:35Z"
    assert not rec.problems


def test_counterfactual_and_other_events_are_not_launch_times() -> None:
    rec = record("= P =\n\nThe launch was originally scheduled for 1 May 1970. "
                 "It fired its engine at 15:45 UTC on 12 February 1974.\n")
    assert rec.get("launch_time") is None


@pytest.mark.parametrize(("prose", "lexical"), [
    # A four-digit number in a name is not a year; the full date later in the sentence wins.
    ("Kosmos 1843 lifted off on June 30, 1967, at 06:24:28 UTC from Site 43/4.",
     "1967-06-30T06:24:28Z"),
    ("Probe C, tracked in the West as Sputnik 2078, was launched in 1962 towards Mars.", "1962"),
    ("It was launched in 1962, on 24 October 1962 at 17:55 UTC.", "1962-10-24T17:55:00Z"),
    ("In 1971 the probe lifted off from Baikonur.", "1971"),
])
def test_prose_launch_date_is_the_most_precise_date_not_a_designation(prose: str,
                                                                     lexical: str) -> None:
    rec = record(f"= Probe C =\n\n{prose}\n")
    assert rec.get("launch_time").lexical() == lexical


def test_aliases_stop_at_lowercase_words_and_skip_other_missions() -> None:
    rec = record("= Probe A =\n\nProbe A, also known as Sputnik 22 in the West, was lost. "
                 "NASA called it Probe 1960A, and Western papers nicknamed it Probenik 1. "
                 "The other one, Probe B, was lost later.\n")
    assert rec.values("aliases") == ["Sputnik 22", "Probe 1960A", "Probenik 1"]


def test_instruments_removed_before_launch_are_not_carried() -> None:
    rec = record("= P =\n\n== Payload ==\nA camera and the Vega spectrometer were removed "
                 "before launch. The Zulfar camera stayed.\n")
    assert rec.values("instruments") == ["Zulfar camera"]


@pytest.mark.parametrize(("data", "line", "expected"), [
    (b"", 1, "empty file"),
    (b"\n\n   \n", 1, "empty file"),
    (b"- Mission Type: x\n", 1, "expected a title line"),
    (b"\n\nhello\n", 3, "expected a title line"),
    (b"= T =\nabc\x00def", 2, "binary data"),
    (b"= T =\n\xff\xfe bad", 2, "not UTF-8"),
])
def test_bad_dossiers_name_the_line_and_what_was_expected(data: bytes, line: int,
                                                         expected: str) -> None:
    with pytest.raises(DossierError) as err:
        parse(decode(data, "bad.txt"), "bad.txt")
    assert err.value.line == line and expected in err.value.message
    assert str(err.value).startswith(f"bad.txt:{line}: ")


def test_oversized_file_is_refused(tmp_path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"= Big =\n" + b"x" * (MAX_BYTES + 1))
    with pytest.raises(DossierError, match="MB"):
        read(big)


def test_variety_fixture() -> None:
    rec = extract(read(FIXTURES / "dossiers" / "mariner4.txt"))
    assert rec.get("launch_time").iso() == "1964-11-28T14:22:01Z"
    assert rec.get("satcat") == 1008 and rec.get("cospar_id") == "1964-077A"
    assert rec.values("operator") == ["NASA", "JPL"]
    assert rec.get("launch_site") == "Cape Canaveral Air Force Station"
    assert rec.get("orbital_period") == "P567DT2H38M24S"
    assert rec.values("upper_stage") == ["Agena D"]
    assert rec.values("aliases") == ["Mariner IV"]
    assert [p.line for p in rec.problems] == [24]  # 'Launch window' is not an infobox key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_reader_never_crashes_on_any_text(text: str) -> None:
    try:
        d = parse(text, "fuzz.txt")
    except DossierError as exc:
        assert exc.message
        return
    extract(d)


lines = st.one_of(
    st.builds(lambda k, v: f"- {k}: {v}", st.sampled_from(
        ["Launch Date", "Satcat", "Launch Mass", "Orbit Regime", "Launch Site", "Foo",
         "Mission Duration", "Cospar Id", "Next Mission"]), st.text(max_size=40)),
    st.text(max_size=80), st.just("== Launch =="), st.just("== Instruments =="),
    st.builds(lambda t: f"- {t}", st.text(max_size=30)),
)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and "=" not in t),
       st.lists(lines, max_size=15))
def test_dossier_shaped_text_always_maps_to_valid_rdf(title: str, body: list[str]) -> None:
    import io

    import pyoxigraph as ox

    from kg.export import write
    from kg.mapping import Index, map_record

    text = f"= {title} =\n" + "\n".join(body)
    try:
        rec = extract(parse(text, "fuzz.txt"))
    except DossierError:
        return
    quads = map_record(rec, Index.of([rec]), "https://w3id.org/spacekg/id/")
    for fmt in ("nq", "ttl"):
        out = io.BytesIO()
        write(quads, out, fmt, "https://w3id.org/spacekg/id/")
        back = list(ox.parse(out.getvalue(), format=ox.RdfFormat.from_extension(fmt)))
        assert len(back) == len({q.triple for q in quads} if fmt == "ttl" else set(quads))


def test_other_agencies_and_date_styles() -> None:
    change = extract(read(FIXTURES / "dossiers" / "change4.txt"))
    assert change.values("aliases") == ["嫦娥四号"]
    assert change.get("launch_site") == "Xichang Satellite Launch Center"
    assert change.get("launch_pad") == "LC-2"
    assert change.get("landing_date").iso() == "2019-01-03T02:26Z"
    assert change.get("duration_note") == "Lander: 5 years, 2 months (elapsed)"
    m2020 = extract(read(FIXTURES / "dossiers" / "perseverance.txt"))
    assert m2020.get("short_name") == "Perseverance" and not m2020.values("aliases")
    assert m2020.get("launch_time").iso() == "2020-07-30T11:50:00Z"
    assert m2020.get("launch_pad") == "Space Launch Complex 41"   # = 'SLC-41' in the infobox
    assert m2020.get("launch_contractor") == "United Launch Alliance"
    assert m2020.get("next_mission") is None and not m2020.problems


@pytest.mark.parametrize(("text", "field", "expected"), [
    ("= X 1 =\n\nThe probe was launched from ELA-3 at the Guiana Space Centre on 12 April 2018.\n",
     "launch_pad", "ELA-3"),
    ("= X 1 =\n\n- Launch Rocket: Atlas-Agena B\n\nThe Atlas-Agena B rocket carried serial "
     "number 5D.\n", "vehicle_serial", "5D"),
    ("= X 1 =\n- Manufacturer: Airbus Defence and Space\n", "manufacturer",
     "Airbus Defence and Space"),
    ("= X 1 =\n\nThe probe was launched on 1962-10-24T17:55:04Z from the Baikonur Cosmodrome.\n",
     "launch_time", "1962-10-24T17:55:04Z"),
    ("= X 1 =\n- Launch Site: Wenchang Spacecraft Launch Site LC-101\n", "launch_site",
     "Wenchang Spacecraft Launch Site"),
    ("= X 1 =\n- Launch Site: Baikonur Site 1/5\n", "launch_pad", "Site 1/5"),
])
def test_format_variety_found_by_the_generator(text: str, field: str, expected: str) -> None:
    value = record(text).get(field)
    assert (value.iso() if hasattr(value, "iso") else value) == expected
