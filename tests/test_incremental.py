"""Rebuilding after an edit: unchanged parts are copied from the previous build's files, the
store is patched, the corpus rules' results are kept while nothing they read changed and redone
only around what changed otherwise — and every output is what a clean build of the same input
gives, byte for byte."""

from __future__ import annotations

import filecmp
import os
import random
import re
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SEEDS

from kg.build import build_to
from kg.validate import validate_whole

FORMATS = ["ttl", "nq", "jsonld", "trig", "nt", "rdfxml", "jsonld-framed"]
MARS_3 = "009_8397344267009733.txt"
ZOND_2 = "005_b24a7eb7dffc4cfd.txt"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    shutil.copytree(SEEDS, src, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return src


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _rebuild_equals_clean(src: Path, out: Path, tmp_path: Path, formats: list[str] = FORMATS):
    """Rebuild ``out`` in place, build ``src`` afresh elsewhere, and compare every file."""
    again = build_to([src], out, formats, jobs=1)
    clean_dir = tmp_path / f"clean-{len(list(tmp_path.iterdir()))}"
    clean = build_to([src], clean_dir, formats, jobs=1, cache=False)
    for f in sorted(clean_dir.glob("kg.*")) + [clean_dir / "report.json"]:
        assert filecmp.cmp(f, out / f.name, shallow=False), f.name
    assert again.validation.results == clean.validation.results
    assert again.validation.findings == clean.validation.findings
    return again


def _store_quads(out: Path) -> set[ox.Quad]:
    store = ox.Store.read_only(str(out / "store"))
    try:
        return set(store.quads_for_pattern(None, None, None))
    finally:
        del store


def test_an_edit_copies_the_rest_and_keeps_the_corpus_results(corpus: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build_to([corpus], out, FORMATS, jobs=1)
    assert first.result.copied == 0 and "validate (store part)" in first.result.timings
    _edit(corpus / ZOND_2, "890 kg", "891 kg")  # nothing the corpus rules read
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert (again.result.extracted, again.result.rendered, again.result.copied) == (1, 1, 11)
    assert again.result.signed == 1  # the index did not change: the others keep their signature
    assert "validate (corpus rules kept)" in again.result.timings
    assert list(again.store.loaded) == [d.graph for d in again.result.done if d.title == "Zond 2"]
    assert _store_quads(out) == set(ox.parse(path=out / "kg.nq", format=ox.RdfFormat.N_QUADS))


def test_an_edit_that_closes_a_cycle_runs_the_corpus_rules_again_around_it(corpus: Path,
                                                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    _edit(corpus / MARS_3, "- Next Mission: Mars 4", "- Next Mission: Mars 2")
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert "validate (corpus rules around the change)" in again.result.timings
    cycle = [r for r in again.validation.results if "NoPredecessorCycle" in r.constraint]
    assert cycle, again.validation.text()
    graphs: dict[str, list[ox.Quad]] = {}
    for q in ox.parse(path=out / "kg.nq", format=ox.RdfFormat.N_QUADS):
        graphs.setdefault(q.graph_name.value, []).append(q)
    assert again.validation.results == validate_whole(graphs)[1]
    # Undo it: the cycle goes, again by running the rules around the change.
    _edit(corpus / MARS_3, "- Next Mission: Mars 2", "- Next Mission: Mars 4")
    undone = _rebuild_equals_clean(corpus, out, tmp_path)
    assert not [r for r in undone.validation.results if "NoPredecessorCycle" in r.constraint]


MARS_4 = "010_e9acd5f9d606209c.txt"


def _rule_foci(outcome: object, rule: str) -> set[str]:
    return {r.focus.rsplit("/", 1)[-1][:-1] for r in outcome.validation.results
            if rule in r.constraint}


def test_the_rules_redone_around_an_edit_reach_missions_its_triples_do_not_name(
        corpus: Path, tmp_path: Path) -> None:
    """Mars 4 naming Mars 2 as its successor closes the loop Mars 2 -> Mars 3 -> Mars 4: Mars 3
    is on it though no changed triple names it, and the walk along the chain finds it."""
    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    _edit(corpus / MARS_4, "- Next Mission: Mars 5", "- Next Mission: Mars 2")
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert "validate (corpus rules around the change)" in again.result.timings
    assert _rule_foci(again, "NoPredecessorCycle") == {"mars-2", "mars-3", "mars-4"}


def test_a_removed_dossier_changes_the_verdict_on_the_mission_naming_it(
        corpus: Path, tmp_path: Path) -> None:
    """The disagreement warning needs both missions to have a dossier: removing Mars 3's takes
    the warning off Mars 2 (which names Mars 3 as its successor), though Mars 2's own triples
    stay as they were."""
    out = tmp_path / "out"
    _edit(corpus / MARS_3, "- Previous Mission: Mars 2", "- Previous Mission: Kosmos 419")
    build_to([corpus], out, FORMATS, jobs=1)
    assert "mars-2" in _rule_foci(build_to([corpus], out, FORMATS, jobs=1), "SequenceAgrees")
    (corpus / MARS_3).unlink()
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert "validate (corpus rules around the change)" in again.result.timings
    assert "mars-2" not in _rule_foci(again, "SequenceAgrees")


MARS_2 = "008_ecbb1391f9b2d7e7.txt"


def test_corpus_results_are_located_again_when_their_dossiers_change(
        corpus: Path, tmp_path: Path, monkeypatch) -> None:
    """The corpus rules' results keep their place in the dossiers from the last build while the
    dossiers that place them are the same (an edit elsewhere), and are placed again when one of
    them changes: here a line put into Mars 2's infobox moves the lines a warning cites."""
    import kg.validate

    out = tmp_path / "out"
    _edit(corpus / MARS_3, "- Previous Mission: Mars 2", "- Previous Mission: Kosmos 419")
    first = build_to([corpus], out, FORMATS, jobs=1)
    warned = [f for f in first.validation.findings if "SequenceAgrees" in f.constraint]
    assert warned and {f.file for f in warned} >= {MARS_2}
    calls = []
    locate = kg.validate.locate_corpus
    monkeypatch.setattr(kg.validate, "locate_corpus", lambda *a: calls.append(a) or locate(*a))

    _edit(corpus / ZOND_2, "890 kg", "891 kg")  # not where the warnings are placed
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert "validate (corpus rules kept)" in again.result.timings
    assert len(calls) == 1  # (the clean build's)

    _edit(corpus / MARS_2, "- Mission Type:", "- Spacecraft Type: 4M\n- Mission Type:")
    moved = _rebuild_equals_clean(corpus, out, tmp_path)
    assert len(calls) == 3  # this build's, and the clean one's
    lines = {f.lines for f in moved.validation.findings
             if "SequenceAgrees" in f.constraint and f.file == MARS_2}
    assert lines and lines != {f.lines for f in warned if f.file == MARS_2}


def test_added_and_removed_dossiers(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    # Removing Mars 2 leaves its mission a node other dossiers mention: its statements move to
    # the shared part of the union formats.
    (corpus / "008_ecbb1391f9b2d7e7.txt").unlink()
    removed = _rebuild_equals_clean(corpus, out, tmp_path)
    assert removed.result.copied == 11 and removed.store.removed
    assert _store_quads(out) == set(ox.parse(path=out / "kg.nq", format=ox.RdfFormat.N_QUADS))
    # Its title left the index: only the dossiers naming it (Mars 1 and Mars 3) are signed again.
    assert removed.result.signed == 2
    shutil.copy(SEEDS / "008_ecbb1391f9b2d7e7.txt", corpus / "zz_mars2.txt")
    added = _rebuild_equals_clean(corpus, out, tmp_path)
    assert (added.result.rendered, added.result.copied) == (1, 11)


def test_outputs_changed_by_hand_are_written_afresh(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    with open(out / "kg.ttl", "ab") as fh:
        fh.write(b"# edited by hand\n")
    _edit(corpus / ZOND_2, "890 kg", "891 kg")
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    assert again.result.copied == 0
    # Other formats asked for: nothing to copy from either.
    fewer = _rebuild_equals_clean(corpus, out, tmp_path, ["ttl", "nq"])
    assert fewer.result.copied == 0


def test_a_rename_is_a_new_dossier(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    (corpus / ZOND_2).rename(corpus / "zond-2.txt")
    again = _rebuild_equals_clean(corpus, out, tmp_path)
    # Redone (its file name is in its provenance); the other eleven copied.
    assert (again.result.rendered, again.result.copied) == (1, 11)


def test_an_edit_is_seen_whatever_the_file_times_say(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = 1_600_000_000
    for p in corpus.iterdir():
        os.utime(p, (old, old))  # old enough for kg to trust its stat record of the file
    build_to([corpus], out, ["nq"], jobs=1)
    assert build_to([corpus], out, ["nq"], jobs=1).result.extracted == 0
    zond = corpus / ZOND_2
    size = zond.stat().st_size
    _edit(zond, "890 kg", "891 kg")  # same size
    os.utime(zond, (old, old))  # and the old modification time back
    assert zond.stat().st_size == size
    again = build_to([corpus], out, ["nq"], jobs=1)
    assert (again.result.extracted, again.result.rendered) == (1, 1)
    build_to([corpus], tmp_path / "clean", ["nq"], jobs=1, cache=False)
    assert filecmp.cmp(out / "kg.nq", tmp_path / "clean" / "kg.nq", shallow=False)


def test_the_cache_keeps_near_one_build(corpus: Path, tmp_path: Path) -> None:
    # Every base IRI gives every dossier a new part; parts no build uses any more are dropped
    # once they are a third of the cache, so it does not grow with every change.
    import sqlite3

    out = tmp_path / "out"
    counts = []
    for i in range(10):
        build_to([corpus], out, ["nq"], base=f"https://example.org/{i}/", jobs=1,
                 validate=False, store=None)
        with sqlite3.connect(out / ".kg-cache" / "cache.sqlite") as db:
            counts.append(db.execute("SELECT COUNT(*) FROM part").fetchone()[0])
    assert counts[:9] == [12 * (i + 1) for i in range(9)] and counts[9] == 12
    again = _rebuild_equals_clean(corpus, out, tmp_path, ["nq"])
    assert again.result.rendered == 12  # the base changed back to the default


def test_without_copy_file_range_the_bytes_are_read_and_written(corpus: Path, tmp_path: Path,
                                                                 monkeypatch) -> None:
    import errno

    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)

    def refuse(*_args: object) -> int:
        raise OSError(errno.EXDEV, "not between these files")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    _edit(corpus / ZOND_2, "890 kg", "891 kg")
    assert _rebuild_equals_clean(corpus, out, tmp_path).result.copied == 11


def test_a_copy_that_fails_leaves_the_last_build_whole(corpus: Path, tmp_path: Path,
                                                        monkeypatch) -> None:
    import errno

    from kg import chunks
    from kg.errors import KgError

    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    before = {p.name: p.read_bytes() for p in out.glob("kg.*")}

    def full(src: int, dst: int, offset: int, count: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(chunks, "copy_range", full)  # runs on the files' own threads
    _edit(corpus / ZOND_2, "890 kg", "891 kg")
    with pytest.raises(KgError, match="No space left on device"):
        build_to([corpus], out, FORMATS, jobs=1)
    assert {p.name: p.read_bytes() for p in out.glob("kg.*")} == before
    assert not list(out.glob(".kg.*.tmp"))  # no half-written file left beside them
    monkeypatch.undo()
    _rebuild_equals_clean(corpus, out, tmp_path)


def _infobox_value(text: str, key: str) -> str | None:
    found = re.search(rf"^- {re.escape(key)}: (.*)$", text, re.M)
    return found.group(1) if found else None


def _edit_at_random(src: Path, rng: random.Random, serial: int) -> str:
    """One edit of what the corpus rules read: a predecessor or successor, a launch site, a
    title, a removed or an added dossier. Returns what it did."""
    files = sorted(src.glob("*.txt"))
    titles = [re.match(r"= (.*) =", f.read_text("utf-8")).group(1) for f in files]
    victim = rng.choice(files)
    text = victim.read_text("utf-8")
    kind = rng.choice(["previous", "next", "site", "title", "remove", "add"])
    if kind in {"previous", "next"}:
        key = "Previous Mission" if kind == "previous" else "Next Mission"
        value = rng.choice(titles)
        if _infobox_value(text, key) is None:
            text = re.sub(r"^(= .* =\n\n)", rf"\g<1>- {key}: {value}\n", text)
        else:
            text = re.sub(rf"^- {key}: .*$", f"- {key}: {value}", text, count=1, flags=re.M)
    elif kind == "site":
        sites = [v for f in files if (v := _infobox_value(f.read_text("utf-8"), "Launch Site"))]
        value = rng.choice(sites)
        if _infobox_value(text, "Launch Site") is None:
            text = re.sub(r"^(= .* =\n\n)", rf"\g<1>- Launch Site: {value}\n", text)
        else:
            text = re.sub(r"^- Launch Site: .*$", f"- Launch Site: {value}", text, count=1,
                          flags=re.M)
    elif kind == "title":
        value = f"Renamed {serial}"
        text = re.sub(r"^= .* =", f"= {value} =", text, count=1)
    elif kind == "remove":
        victim.unlink()
        return f"removed {victim.name}"
    else:
        victim = src / f"zz_added_{serial}.txt"
        value = f"Added {serial}"
        text = re.sub(r"^= .* =", f"= {value} =", text, count=1)
    victim.write_text(text, "utf-8")
    return f"{kind} of {victim.name}: {value}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_corpus_rules_redone_around_random_edits_give_a_full_runs_results(
        seed: int, tmp_path: Path) -> None:
    """Edits of predecessors, successors, launch sites and titles, removed and added dossiers,
    one after the other on a generated corpus: after each, the rebuild runs the corpus rules
    only around what changed, and its report is what a clean build of the same files gives."""
    from kg.bench.corpus import generate

    src, out = tmp_path / "in", tmp_path / "out"
    generate(150, src, seed=seed)
    build_to([src], out, ["nq"], jobs=1)
    rng = random.Random(seed)
    around = 0
    seen: set[str] = set()
    for serial in range(8):
        what = _edit_at_random(src, rng, serial)
        again = build_to([src], out, ["nq"], jobs=1)
        clean = build_to([src], tmp_path / f"clean-{serial}", ["nq"], jobs=1, cache=False)
        assert again.validation.results == clean.validation.results, what
        assert again.validation.findings == clean.validation.findings, what
        around += "validate (corpus rules around the change)" in again.result.timings
        seen.update(r.constraint for r in again.validation.results)
        shutil.rmtree(tmp_path / f"clean-{serial}")
    assert around >= 6  # the others kept the rules' results (an edit that changed nothing)
    corpus_rules = {"NoPredecessorCycle", "SequenceAgrees", "PadBelongsToSite", "oneLabel"}
    assert any(rule in c for c in seen for rule in corpus_rules), seen  # results to compare


def test_the_output_directory_spelt_otherwise_is_still_the_last_build(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-o out`` and then ``-o /abs/path/out``: the same files, copied from, and the same store,
    patched; not written and loaded afresh."""
    monkeypatch.chdir(tmp_path)
    build_to([corpus], "out", FORMATS, jobs=1)
    _edit(corpus / ZOND_2, "890 kg", "891 kg")
    again = _rebuild_equals_clean(corpus, (tmp_path / "out").resolve(), tmp_path)
    assert again.result.copied == 11
    assert "validate (corpus rules kept)" in again.result.timings
    assert list(again.store.loaded) == [d.graph for d in again.result.done if d.title == "Zond 2"]


def test_dossiers_named_by_another_path_are_not_read_again(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder named relatively, then absolutely: its files' hashes taken the first time stand."""
    import kg.pipeline

    time.sleep(2.1)  # a file changed in the last two seconds is hashed at every build
    monkeypatch.chdir(tmp_path)
    hashed: list[str] = []
    real = kg.pipeline._hash_one
    monkeypatch.setattr(kg.pipeline, "_hash_one", lambda p: (hashed.append(p), real(p))[1])
    build_to([Path("in")], tmp_path / "out", ["nq"], jobs=1)
    assert len(hashed) == 12
    again = build_to([tmp_path / "in"], tmp_path / "out", ["nq"], jobs=1)
    assert len(hashed) == 12 and again.result.copied == 12


def _count_openings(monkeypatch, store: Path) -> list[str]:
    """Every opening of ``store`` (or of the fresh store beside it) from now on, by kg.store."""
    import kg.store

    real = ox.Store
    opened: list[str] = []

    class Counted:
        read_only = staticmethod(real.read_only)

        def __new__(cls, path: str | None = None) -> ox.Store:
            if path is not None and Path(path).parent == store.parent:
                opened.append(Path(path).name)
            return real(path)

    monkeypatch.setattr(kg.store.ox, "Store", Counted)
    return opened


def test_a_build_opens_its_store_once(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    # Opening the RocksDB store costs several syncs of its files, which wait behind the output
    # files' writes: a build loads or updates the store and validates on the one opening.
    out = tmp_path / "out"
    opened = _count_openings(monkeypatch, out / "store")
    build_to([corpus], out, FORMATS, jobs=1)
    assert opened == [".store.new", "store"]  # filled beside the old one, then opened once
    opened.clear()
    _edit(corpus / ZOND_2, "890 kg", "891 kg")
    again = build_to([corpus], out, FORMATS, jobs=1)
    assert opened == ["store"] and list(again.store.loaded)
    assert again.validation.conforms is not None


def test_a_validation_that_fails_does_not_keep_the_store(corpus: Path, tmp_path: Path,
                                                         monkeypatch) -> None:
    # The store is open while the build validates on it; an error there must not leave it
    # locked, although its traceback keeps the frames that held it.
    import kg.validate

    out = tmp_path / "out"
    build_to([corpus], out, FORMATS, jobs=1)
    _edit(corpus / ZOND_2, "890 kg", "891 kg")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("validation broke")

    monkeypatch.setattr(kg.validate, "validate_store", broken)
    with pytest.raises(RuntimeError, match="validation broke") as failed:
        build_to([corpus], out, FORMATS, jobs=1)
    monkeypatch.undo()
    assert failed.traceback  # (kept alive while the store is opened again)
    ox.Store(str(out / "store")).flush()  # RocksDB refuses it while the lock is held
    _rebuild_equals_clean(corpus, out, tmp_path)
