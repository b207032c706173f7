"""The synthetic corpus generator: deterministic, readable by kg, and stating what it says it states."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import SEEDS

from kg import build, extract, read
from kg.bench.corpus import _UNKNOWN, TRUTH_FILE, generate, main
from kg.record import KEYS, to_json
from kg.vocab import DEFAULT_BASE, KG, fold, iri, name_key

N = 200


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("corpus")
    generate(N, out, seed=7, truth=True)
    truth = [json.loads(line) for line in (out / TRUTH_FILE).read_text("utf-8").splitlines()]
    return out, truth


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_same_seed_same_bytes_other_seed_other_corpus(tmp_path: Path) -> None:
    generate(300, tmp_path / "a", seed=3)
    generate(300, tmp_path / "b", seed=3)
    generate(300, tmp_path / "c", seed=4)
    a = _files(tmp_path / "a")
    assert len(a) == 300 and a == _files(tmp_path / "b")
    assert set(a).isdisjoint(_files(tmp_path / "c"))


def test_smaller_corpus_is_a_prefix(tmp_path: Path) -> None:
    generate(100, tmp_path / "small", seed=1)
    generate(400, tmp_path / "large", seed=1)
    small, large = _files(tmp_path / "small"), _files(tmp_path / "large")
    same = [name for name in small if large.get(name) == small[name]]
    assert len(same) >= 90  # all but the last programme, which the small corpus cuts short


def test_names_titles_and_truth_file(corpus: tuple[Path, list[dict]]) -> None:
    out, truth = corpus
    names = sorted(p.name for p in out.glob("*.txt"))
    assert len(names) == N == len(truth) and [t["file"] for t in truth] == names
    assert [p.name for p in out.iterdir() if p.suffix != ".txt"] == [TRUTH_FILE]
    for i, t in enumerate(truth):
        digest = hashlib.sha256(t["title"].encode("utf-8")).hexdigest()[:16]
        assert t["file"] == f"{i:06d}_{digest}.txt"


def test_titles_unique_and_varied(tmp_path: Path) -> None:
    generate(5000, tmp_path)
    titles = [p.open(encoding="utf-8").readline().strip().strip("= ")
              for p in sorted(tmp_path.glob("*.txt"))]
    assert len({name_key(t) for t in titles}) == len(titles) == 5000
    assert any(re.search(r"[\u0400-\u04FF]", t) for t in titles)  # Cyrillic
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in titles)  # CJK
    assert any(re.search(r"[áàâéèêíîóôöúûü]", t) for t in titles)  # accented Latin
    assert any(t.startswith("Kosmos ") for t in titles)


def test_covers_the_seed_keys_and_quirks(tmp_path: Path) -> None:
    generate(1000, tmp_path)
    text = "\n".join(p.read_text("utf-8") for p in tmp_path.glob("*.txt"))
    keys = {fold(m) for m in re.findall(r"^- ([^:\n]+):", text, re.MULTILINE)}
    seed_keys = {fold(line.key) for p in SEEDS.glob("*.txt") for line in read(p).infobox}
    assert seed_keys <= keys
    assert len(keys) > 2 * len(seed_keys)  # synonyms and casing variants too
    for quirk in [r"- Launch Date: UTC$", r"- Decay Date: –$", r"\(achieved\), \w+ \(intended\)",
                  r"- Apsis: (gee|helion|areion)$", r"was launched at \d\d:\d\d:\d\d UTC on \d",
                  r"\d\d:\d\d(:\d\d)? MSK", r"[A-Z][a-z]+ \d{1,2}, \d{4}, (at )?\d\d:\d\d",
                  r"- Launch Date: \d{4}-\d\d-\d\d", r" lb$", r"also known as ",
                  r"The designations Sputnik \d+, and later Sputnik \d+", r"Harvard designation",
                  r"Site \d+/\d+ at the Baikonur Cosmodrome", r"pieces of debris",
                  r"\(Russian: [\u0400-\u04FF]", r"\(Chinese: [\u4e00-\u9fff]", r"taken off the probe",
                  r"== Scientific Instruments ==", r"per revolution", r"serial number"]:
        assert re.search(quirk, text, re.MULTILINE), quirk


def test_unknown_keys_are_unknown_to_kg() -> None:
    assert not {fold(k) for k, _ in _UNKNOWN} & set(KEYS)


def test_every_dossier_reads_as_intended(corpus: tuple[Path, list[dict]]) -> None:
    out, truth = corpus
    fields = set()
    for t in truth:
        rec = extract(read(out / t["file"]))
        kinds = [p.severity for p in rec.problems]
        assert kinds == ["not-understood"] * t["unknown_keys"], (t["file"], rec.problems)
        got = {name: sorted(json.dumps(to_json(v), ensure_ascii=False) for v in rec.values(name))
               for name in rec.facts}
        want = {name: sorted(json.dumps(v, ensure_ascii=False) for v in values)
                for name, values in t["facts"].items()}
        assert got == want, t["file"]
        fields |= set(want)
    assert {"launch_time", "cospar_id", "previous_mission", "next_mission", "aliases",
            "harvard_designation", "launch_pad", "instruments", "upper_stage", "debris_count",
            "vehicle_serial", "orbit_regime", "orbital_period"} <= fields


def test_chains_link_to_generated_missions(corpus: tuple[Path, list[dict]]) -> None:
    out, truth = corpus
    result = build([out])
    links = {(q.subject.value, q.predicate.value.removeprefix(KG), q.object.value)
             for q in result.quads if q.predicate.value in {KG + "previousMission", KG + "nextMission"}}

    def mission(title: str) -> str:
        return iri(DEFAULT_BASE, "Mission", name_key(title))

    titles = {name_key(t["title"]) for t in truth}
    by_alias = 0
    for t in truth:
        for prop, field in (("previousMission", "previous"), ("nextMission", "next")):
            target = t[f"{field}_title"]
            written = t["facts"].get(f"{field}_mission", [None])[0]
            if target:
                assert (mission(t["title"]), prop, mission(target)) in links, (t["file"], written)
                by_alias += name_key(written) != name_key(target)
            elif written:  # a mission outside the corpus keeps a node of its own
                assert name_key(written) not in titles
                assert (mission(t["title"]), prop, mission(written)) in links
    assert by_alias > 10


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["5", str(tmp_path), "--truth", "--seed", "2"]) == 0
    assert len(list(tmp_path.glob("*.txt"))) == 5 and (tmp_path / TRUTH_FILE).is_file()
    assert "wrote 5 dossiers" in capsys.readouterr().err
    assert main(["5", str(tmp_path)]) == 2  # refuses a directory that already holds dossiers
