"""The streaming build: same bytes as the in-memory build, on any number of cores, and
incremental — a changed dossier is the only one redone."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import build, write_outputs
from kg.build import find_dossiers
from kg.export import FORMATS
from kg.pipeline import stream_build
from kg.vocab import DEFAULT_BASE

ALL = list(FORMATS)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    shutil.copytree(SEEDS, src, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return src


def _same(a: Path, b: Path) -> None:
    for f in sorted(a.glob("kg.*")):
        assert filecmp.cmp(f, b / f.name, shallow=False), f.name


@pytest.fixture
def workers_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand even the seeds' few dossiers to the worker processes (a build maps up to
    ``LOCAL_MAX`` dossiers itself)."""
    monkeypatch.setattr("kg.pipeline.LOCAL_MAX", 0)


@pytest.mark.parametrize("jobs", [1, 2])
def test_streaming_build_writes_the_same_bytes(corpus: Path, tmp_path: Path, jobs: int,
                                               workers_map: None) -> None:
    paths = find_dossiers([corpus])
    write_outputs(build(paths), tmp_path / "mem", ALL)
    result = stream_build(paths, tmp_path / "stream", ALL, DEFAULT_BASE, jobs=jobs)
    assert result.extracted == 12 and result.rendered == 12 and not result.errors
    _same(tmp_path / "mem", tmp_path / "stream")


def test_files_finished_later_are_in_place_once_complete(corpus: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``finish_later``: the build returns with the files still being written (the store and
    the validation go on meanwhile); they are in place, the same bytes, once it completes."""
    import threading

    from kg import chunks

    paths = find_dossiers([corpus])
    now = stream_build(paths, tmp_path / "now", ALL, DEFAULT_BASE, jobs=1)
    synced = threading.Event()  # the files' syncs wait for it: the disk is slow today
    real = chunks.Sink._sync

    def slow_sync(self: Any) -> None:
        assert synced.wait(30)
        real(self)

    monkeypatch.setattr(chunks.Sink, "_sync", slow_sync)
    later = stream_build(paths, tmp_path / "later", ALL, DEFAULT_BASE, jobs=1, finish_later=True)
    assert not list((tmp_path / "later").glob("kg.*"))  # not renamed into place yet
    assert later.written and not any(p.exists() for p in later.written)
    before = later.graph_nquads(later.done[:2])  # through the build's own connection
    synced.set()
    later.close()
    assert later.graph_nquads(later.done[:2]) == before and len(before) == 2
    _same(tmp_path / "now", tmp_path / "later")
    assert (tmp_path / "later/.kg-cache/manifest.pickle").is_file()
    assert now.timings.keys() == later.timings.keys()


def test_files_finished_later_go_into_place_once_synced_without_waiting_for_the_build(
        corpus: Path, tmp_path: Path) -> None:
    # A rebuild's store update and checks take a while; the files (renamed into place, the
    # previous ones closed, the manifest saved) need not wait for them.
    import time

    paths = find_dossiers([corpus])
    stream_build(paths, tmp_path / "out", ALL, DEFAULT_BASE, jobs=1)
    first = {p.name: p.stat().st_ino for p in (tmp_path / "out").glob("kg.*")}
    shutil.copytree(tmp_path / "out", tmp_path / "first", ignore=shutil.ignore_patterns(".kg-cache"))
    manifest = tmp_path / "out/.kg-cache/manifest.pickle"
    manifest.unlink()
    later = stream_build(paths, tmp_path / "out", ALL, DEFAULT_BASE, jobs=1, finish_later=True)
    deadline = time.monotonic() + 60
    while not manifest.exists() and time.monotonic() < deadline:  # complete() not called
        time.sleep(0.01)
    assert manifest.exists()
    assert {p.name: p.stat().st_ino for p in (tmp_path / "out").glob("kg.*")}.keys() == first.keys()
    assert all(p.stat().st_ino != first[p.name] for p in (tmp_path / "out").glob("kg.*"))
    later.close()
    _same(tmp_path / "first", tmp_path / "out")


def test_a_file_named_twice_is_built_once(corpus: Path, tmp_path: Path,
                                         workers_map: None) -> None:
    paths = find_dossiers([corpus])
    once = stream_build(paths, tmp_path / "once", ["nq"], DEFAULT_BASE, jobs=2)
    twice = stream_build([*paths, paths[3], paths[0]], tmp_path / "twice", ["nq"],
                         DEFAULT_BASE, jobs=2)
    assert len(twice.done) == 12 and twice.problems == once.problems
    assert (tmp_path / "once/kg.nq").read_bytes() == (tmp_path / "twice/kg.nq").read_bytes()


def test_only_what_changed_is_redone(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = find_dossiers([corpus])
    first = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    again = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert (again.extracted, again.rendered) == (0, 0)
    assert again.quads == first.quads
    # An edit that no other dossier depends on: only that dossier is redone.
    zond = corpus / "005_b24a7eb7dffc4cfd.txt"
    zond.write_text(zond.read_text("utf-8").replace("890 kg", "891 kg"), "utf-8")
    edited = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert (edited.extracted, edited.rendered) == (1, 1)
    write_outputs(build(paths), tmp_path / "mem", ALL)
    _same(tmp_path / "mem", out)


def test_a_changed_alias_reaches_the_dossiers_that_use_it(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = find_dossiers([corpus])
    stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    # Mars 1M No.2 stops calling itself 'Mars 1960B': the seed's 'Previous Mission: Mars 1960B'
    # no longer resolves to it, so the seed's graph must be redone too.
    m1960b = corpus / "002_4d4a0691bdf51de9.txt"
    m1960b.write_text(m1960b.read_text("utf-8").replace("Mars 1960B", "Mars 1960X"), "utf-8")
    edited = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert edited.extracted == 1 and edited.rendered >= 2
    write_outputs(build(paths), tmp_path / "mem", ALL)
    _same(tmp_path / "mem", out)


def test_errors_are_reported_and_the_rest_written(corpus: Path, tmp_path: Path) -> None:
    (corpus / "zz_bad.txt").write_bytes(b"\xff\xfe not utf-8")
    result = stream_build(find_dossiers([corpus]), tmp_path / "out", ["nq"], DEFAULT_BASE, jobs=2)
    assert [p.file for p in result.errors] == ["zz_bad.txt"]
    assert len(result.done) == 12 and (tmp_path / "out" / "kg.nq").stat().st_size > 0


def _records(corpus: Path) -> list:
    import hashlib

    from kg.dossier import decode, parse
    from kg.record import extract

    return [extract(parse(decode(p.read_bytes(), p.name), p.name,
                          hashlib.sha256(p.read_bytes()).hexdigest()))
            for p in find_dossiers([corpus])]


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_TERM = st.one_of(
    st.builds(ox.Literal, _TEXT),
    st.builds(lambda t, lang: ox.Literal(t, language=lang), _TEXT,
              st.sampled_from(["en", "ru", "zh-Hant"])),
    st.builds(lambda t: ox.Literal(t, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
              _TEXT),
    st.builds(lambda t: ox.NamedNode("https://example.org/é/" + quote(t)), _TEXT),
    st.builds(ox.BlankNode, st.sampled_from(["b0", "b1"])))


_SPO = st.lists(st.tuples(st.sampled_from(["https://example.org/s", "https://example.org/ü"]),
                          st.sampled_from(["https://example.org/p", "https://example.org/q"]),
                          _TERM), max_size=30)


@given(_SPO)
def test_a_graph_s_quads_come_once_each_with_their_own_n_triples_line(
        spo: list[tuple[str, str, Any]]) -> None:
    # keyed() takes the lines from one N-Triples serialisation of the whole graph: each must
    # be its own triple's line (quotes, backslashes, line breaks and unicode in literals).
    from kg.chunks import keyed

    g = ox.NamedNode("https://example.org/g")
    quads = [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, g) for s, p, o in spo]
    for statements in (quads, [q.triple for q in quads]):
        pairs = keyed(statements)
        assert [t for _line, t in pairs] == sorted({q.triple for q in quads}, key=_line)
        for line, t in pairs:
            assert line == _line(t)
        assert [line for line, _t in pairs] == sorted(line for line, _t in pairs)


@given(_SPO, st.sampled_from(["https://example.org/g", "_:g1", ""]))
def test_a_graph_s_n_quads_and_trig_are_pyoxigraph_s_own(spo: list[tuple[str, str, Any]],
                                                         graph: str) -> None:
    # render() makes a graph's N-Quads from its N-Triples lines, not with pyoxigraph's writer:
    # byte for byte what that writer gives, in a named, a blank-node and the default graph.
    from kg.chunks import Layout, keyed, render
    from kg.vocab import DEFAULT_BASE

    name = (ox.DefaultGraph() if not graph else ox.BlankNode(graph[2:])
            if graph.startswith("_:") else ox.NamedNode(graph))
    quads = [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, name) for s, p, o in spo]
    pairs = keyed(quads)
    layout = Layout(DEFAULT_BASE)
    part = render(graph, pairs, ["nq", "trig"], layout)
    in_order = [ox.Quad(t.subject, t.predicate, t.object, name) for _line, t in pairs]
    assert part.data["nq"] == ox.serialize(in_order, format=ox.RdfFormat.N_QUADS)
    assert part.data["trig"] == layout.serialize("trig", in_order)
    assert set(ox.parse(part.data["nq"], format=ox.RdfFormat.N_QUADS)) == set(quads)


def test_write_keeps_every_quad_in_its_own_graph_named_blank_or_default() -> None:
    # The same triple in a named graph, two blank-node graphs and the default graph: four
    # quads in N-Quads and TriG, one triple in Turtle.
    import io

    from kg.export import write
    from kg.vocab import DEFAULT_BASE

    t = ox.Triple(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"),
                  ox.Literal("o"))
    quads = [ox.Quad(t.subject, t.predicate, t.object, g)
             for g in (ox.NamedNode("https://example.org/g"), ox.BlankNode("g1"),
                       ox.BlankNode("g2"), ox.DefaultGraph())]
    for fmt, want in (("nq", set(quads)), ("trig", set(quads)), ("ttl", {t})):
        out = io.BytesIO()
        write(quads, out, fmt, DEFAULT_BASE)
        back = list(ox.parse(out.getvalue(), format=ox.RdfFormat.from_extension(fmt)))
        assert len(back) == len(want)
        if fmt == "nq":  # blank node labels are kept in N-Quads
            assert set(back) == want


def _line(t: ox.Triple | ox.Quad) -> str:
    return f"{t.subject} {t.predicate} {t.object} ."


def test_index_changes_ignore_order_and_see_every_name(corpus: Path) -> None:
    from kg.mapping import Index

    records = _records(corpus)
    index = Index.of(records).frozen()
    assert index.changes(Index.of(list(reversed(records))).frozen()) == set()
    # A rebuild keeps a signature while none of the entries it depends on changed; here an
    # alias moves.
    m1960b = corpus / "002_4d4a0691bdf51de9.txt"
    m1960b.write_text(m1960b.read_text("utf-8").replace("Mars 1960B", "Mars 1960X"), "utf-8")
    assert {"a:mars 1960b", "a:mars 1960x"} <= Index.of(_records(corpus)).frozen().changes(index)


_NAMES = ["Mars 1", "mars 1", "Mars-1", "Zond 2", "Sputnik 22", "Baikonur", "Bajkonur", "1M",
          "Молния", "Kosmos 21", "Mars 1960A"]
_CLASSES = ["Organization", "LaunchSite", "LaunchVehicle", "mission-type"]


def _contributions(draw: Any) -> list[Any]:
    from kg.mapping import entity_key
    from kg.vocab import name_key

    names = st.sampled_from(_NAMES)
    out = []
    for title in draw(st.lists(names, max_size=5, unique_by=name_key)):
        aliases = [(name_key(a), title) for a in draw(st.lists(names, max_size=2))]
        forms = [(c, entity_key(c, n), n)
                 for c, n in draw(st.lists(st.tuples(st.sampled_from(_CLASSES), names),
                                           max_size=3))]
        refs = [(r, name_key(r), "f.txt") for r in draw(st.lists(names, max_size=2))]
        out.append((name_key(title), title, aliases, forms, refs))
    return out


@st.composite
def _two_indexes_and_links(draw: Any) -> tuple[Any, Any, Any]:
    from kg.mapping import Index

    first, second = Index(), Index()
    common = _contributions(draw)
    for names in common + _contributions(draw):
        first.take(names)
    for names in common + _contributions(draw):
        second.take(names)
    names = st.sampled_from(_NAMES)
    fields = (("previous_mission", tuple(draw(st.lists(names, max_size=2)))),
              ("operator", tuple(draw(st.lists(names, max_size=2)))),
              ("launch_site", tuple(draw(st.lists(names, max_size=1)))),
              ("launch_pad", tuple(draw(st.lists(names, max_size=1)))),
              ("orbit_regime", tuple((n, None) for n in draw(st.lists(names, max_size=1)))))
    site = draw(st.sampled_from([None, *_NAMES]))
    return first.finalize(), second.finalize(), (site, tuple(f for f in fields if f[1]))


@settings(max_examples=300, deadline=None)
@given(_two_indexes_and_links())
def test_a_view_whose_entries_did_not_change_is_the_same(case: tuple[Any, Any, Any]) -> None:
    # What lets a rebuild keep a signature without computing it: if none of the index entries
    # a dossier's links went through changed, its index view (hence its signature) is the same.
    from kg.pipeline import index_view

    first, second, linked = case
    deps: set[str] = set()
    view = index_view(linked, first, deps)
    assert index_view(linked, first.frozen(), set()) == view  # freezing keeps every answer
    changed = first.frozen().changes(second.frozen())
    if deps.isdisjoint(changed):
        assert index_view(linked, second, set()) == view
    assert changed == second.frozen().changes(first.frozen())


def test_the_index_handed_to_workers_is_removed(corpus: Path, tmp_path: Path,
                                                workers_map: None) -> None:
    # Workers fork before the corpus is read; the index reaches them as a file, gone once the
    # build is done.
    result = stream_build(find_dossiers([corpus]), tmp_path / "out", ["nq"], DEFAULT_BASE,
                          jobs=2)
    assert result.rendered == 12
    assert not (tmp_path / "out" / ".kg-cache" / "index.pickle").exists()


def test_the_main_process_collects_less_often_during_a_build_and_as_before_after(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The main process keeps an object or more per dossier; at Python's default thresholds a
    # collection walked them all again every 700 allocations (0.07 s of a 1.8 s 10k rebuild).
    # A library call must leave the caller's collector as it found it.
    import gc

    from kg import pipeline

    seen: list[tuple[int, ...]] = []
    real = pipeline._phase_a

    def spy(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.get_threshold())
        real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_phase_a", spy)
    before = gc.get_threshold()
    assert before != pipeline.WORKER_GC_THRESHOLDS
    result = stream_build(find_dossiers([corpus]), tmp_path / "out", ["nq"], DEFAULT_BASE, jobs=1)
    assert result.rendered == 12
    assert seen == [pipeline.WORKER_GC_THRESHOLDS]
    assert gc.get_threshold() == before



def test_the_build_keeps_those_thresholds_while_it_reports_loads_and_validates(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # After the files come the report (a few objects per dossier), the store and the checks:
    # at the default thresholds a full collection ran there (0.05 s of a 10k rebuild).
    import gc
    import sys

    from kg import pipeline

    build_module = sys.modules["kg.build"]  # (kg.build is also the name of a function)
    seen: list[tuple[int, ...]] = []
    real = build_module._finish_build

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "_finish_build", spy)
    before = gc.get_threshold()
    outcome = build_module.build_to([corpus], tmp_path / "out", ["nq"], jobs=1)
    assert outcome.validation is not None and outcome.store is not None
    assert seen == [pipeline.WORKER_GC_THRESHOLDS]
    assert gc.get_threshold() == before

def _collector_view(job: Any) -> tuple[tuple[int, ...], bool, bool]:
    """In a worker: its collector thresholds, whether anything is frozen, and whether the
    index loaded for ``job`` is still among the objects a full collection walks."""
    import gc

    from kg.pipeline import _state

    index = _state(job)["index"]
    return gc.get_threshold(), gc.get_freeze_count() > 0, any(o is index
                                                              for o in gc.get_objects())


def test_workers_keep_their_index_out_of_the_collectors_walks(corpus: Path,
                                                               tmp_path: Path) -> None:
    # A full collection walks every object the collector tracks; a worker's index (400,000
    # objects at 100k dossiers) outlives every batch, so it is frozen once loaded, and the
    # collector runs less often in a worker. Before, a 100k dossier cost twice a 10k one.
    import pickle

    from kg.mapping import Index
    from kg.pipeline import WORKER_GC_THRESHOLDS, Job, _pool

    path = tmp_path / "index.pickle"
    path.write_bytes(pickle.dumps(Index.of(_records(corpus)).frozen()))
    pool = _pool(2)
    assert pool is not None
    try:
        thresholds, frozen, walked = pool.submit(
            _collector_view, Job("t", path, DEFAULT_BASE, ("nq",), False)).result()
    finally:
        pool.shutdown()
    assert thresholds == WORKER_GC_THRESHOLDS
    assert frozen and not walked
