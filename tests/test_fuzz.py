"""Any bytes give records or a clean DossierError; whatever kg writes parses back, escaped.

The property lives in :mod:`kg.bench.fuzz` (one ``check``), run here by hypothesis and by a
short coverage-guided atheris run; ``KG_FUZZ_SECONDS=600 pytest tests/test_fuzz.py -k atheris``
runs a long one (the default budget is 8 s, ~20 s with start-up).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kg import values
from kg.bench.fuzz import check, map_bytes
from kg.export import FORMATS, write
from kg.vocab import DEFAULT_BASE

FUZZ = settings(deadline=None, max_examples=300, suppress_health_check=list(HealthCheck))

#: A value: anything, or pieces of it joined by the punctuation values are split at. A rocket
#: name led by '/' once crashed the reader, found by atheris in CI; with plain text this test
#: never found it, with these values it does in two runs out of three (on the code before).
VALUE = st.one_of(
    st.text(max_size=60),
    st.builds("".join, st.lists(st.one_of(
        st.sampled_from(["/", " / ", "(", ")", "-", ",", ";", " and ", "[1]", "–", ":", "."]),
        st.text(max_size=12)), max_size=6)),
)
#: Dossier-shaped text: the structure the reader branches on, filled with anything.
LINE = st.one_of(
    st.builds(lambda k, v: f"- {k}: {v}", st.sampled_from(
        ["Launch Date", "Launch Rocket", "COSPAR ID", "Mass", "Operator", "Orbit regime",
         "Launch Site", "Mission duration", "Periapsis", "SATCAT", "Next Mission", "Power"]),
        VALUE),
    st.builds(lambda t: f"== {t} ==", st.sampled_from(
        ["Launch", "Instruments", "Designations", "See also", "Mission"])),
    st.text(max_size=120),
)
DOSSIER = st.builds(lambda title, lines: "\n".join([f"= {title} =", *lines]),
                    st.text(min_size=1, max_size=40), st.lists(LINE, max_size=12))


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_give_records_or_a_clean_error(data: bytes) -> None:
    check(data, formats=("nq", "ttl"), rdflib=False)


@FUZZ
@given(DOSSIER)
@example("= T =\n- Launch Rocket: / Molniya 8K78")  # found by atheris in CI (an IndexError)
def test_dossier_shaped_text_round_trips_in_every_format(text: str) -> None:
    check(text.encode("utf-8"), formats=("nq", "ttl", "trig", "nt", "jsonld"), rdflib=True)


@pytest.mark.parametrize("vehicle", ["/ Molniya 8K78", "(Molniya)", "/", "-Molniya"])
def test_a_rocket_name_led_by_punctuation_still_finds_its_serial_in_the_prose(vehicle: str) -> None:
    from kg.dossier import decode, parse
    from kg.record import extract

    text = (f"= T =\n- Launch Rocket: {vehicle}\n\n== Launch ==\n"
            "The Molniya flew with serial number T103-16.\n")
    record = extract(parse(decode(text.encode(), "t.txt"), "t.txt"))
    wanted = "T103-16" if "Molniya" in vehicle else None
    assert record.get("vehicle_serial") == wanted
    check(text.encode(), formats=("nq", "ttl"), rdflib=False)


VALUE_PARSERS = [values.clean, values.parse_number, values.parse_count, values.parse_int,
                 values.parse_positive_int, values.parse_mass_kg, values.parse_length,
                 values.parse_angle_deg, values.parse_power_w, values.parse_plain_decimal,
                 values.parse_duration, values.parse_when, values.find_dates, values.find_time,
                 values.split_list, values.split_qualifier, values.parse_cospar]


@FUZZ
@given(st.text(max_size=200))
def test_value_parsers_never_raise(text: str) -> None:
    for parse in VALUE_PARSERS:
        parse(text)


# ---------------------------------------------------------------------------- hostile strings

HOSTILE = {
    "quotes": 'say "hi" and \'bye\'',
    "angle": "a > b <c> <http://evil/> .",
    "nul-escape": "\\u0000 and \\U0001F600 as text",
    "newlines-in-value": "one \\n two \\r three",
    "triple-quotes": 'x """ y \'\'\' z',
    "backslash": "C:\\path\\to\\",
    "rtl": "\u202eevil\u202c \u200f mark",
    "turtle-breakout": '" ; <http://evil/p> "pwned" . #',
    "long-line": "L" * 100_000,
    "nested-parens": "(" * 5000 + "core" + ")" * 5000,
    "json-breakout": '"}, {"@id": "http://evil/"',
    "xml-breakout": "</rdf:Description><rdf:Description rdf:about='http://evil/'>&amp;",
}


def hostile_dossier(text: str) -> bytes:
    return (f"= Probe {text} =\n- Launch Rocket: {text}\n- Operator: {text}\n"
            f"- Mass: {text} kg\n\n== Launch ==\nIt was launched {text}.\n").encode()


def literal_values(quads: list[ox.Quad]) -> set[str]:
    return {q.object.value for q in quads if isinstance(q.object, ox.Literal)}


RDFLIB_FORMATS = {"nq": "nquads", "trig": "trig", "ttl": "turtle", "nt": "nt",
                  "jsonld": "json-ld", "jsonld-framed": "json-ld", "rdfxml": "xml"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_comes_out_escaped_and_round_trips(name: str) -> None:
    text = HOSTILE[name]
    quads = map_bytes(hostile_dossier(text))
    assert quads is not None
    # kept verbatim as the raw value of its source line, wherever the mapper put it
    assert text in literal_values(quads)
    assert not any(q.subject.value.startswith("http://evil") for q in quads)
    check(hostile_dossier(text), formats=tuple(FORMATS), rdflib=False)
    for fmt, rdflib_name in RDFLIB_FORMATS.items():
        if name == "long-line" and fmt in ("nq", "nt"):
            continue  # rdflib's line parser takes ~10 s on a 100k literal; pyoxigraph read it
        buffer = io.BytesIO()
        write(quads, buffer, fmt, DEFAULT_BASE)
        dataset = rdflib.Dataset()
        dataset.parse(data=buffer.getvalue().decode("utf-8"), format=rdflib_name,
                      publicID=DEFAULT_BASE)
        assert text in {str(o) for _, _, o, _ in dataset.quads() if isinstance(o, rdflib.Literal)}
        assert len({(s, p, o) for s, p, o, _ in dataset.quads()}) == len({q.triple for q in quads})


def test_control_characters_give_well_formed_rdf_xml() -> None:
    quads = map_bytes(hostile_dossier("bell \x07 escape \x1b form \x0c"))
    assert quads is not None
    buffer = io.BytesIO()
    write(quads, buffer, "rdfxml", DEFAULT_BASE)
    rdflib.Graph().parse(data=buffer.getvalue().decode("utf-8"), format="xml")


def test_nul_and_binary_are_refused_cleanly() -> None:
    assert map_bytes(b"= T =\n- Mass: 1\x00kg\n") is None
    assert map_bytes(b"\xff\xfe= T =") is None


# ---------------------------------------------------------------------------- coverage-guided


def test_atheris_finds_nothing_in_a_short_budget(tmp_path) -> None:
    pytest.importorskip("atheris")
    seconds = os.environ.get("KG_FUZZ_SECONDS", "8")
    done = subprocess.run([sys.executable, "-m", "kg.bench.fuzz", "--seconds", seconds,
                           "--corpus", str(tmp_path / "corpus")],
                          capture_output=True, text=True, timeout=int(seconds) + 120,
                          cwd=tmp_path)
    # atheris prints the finding's traceback on stdout, libFuzzer's report on stderr
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]
    assert "Done" in done.stderr
