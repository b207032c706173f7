"""The embedded on-disk store: whole-graph replace, prune, export, queries, killed loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.build import build
from kg.errors import KgError
from kg.store import (
    DOSSIER_GRAPH_PREFIX,
    EmbeddedBackend,
    StoreError,
    export_store,
    graphs_from_paths,
    group_quads,
    load_store,
    query_store,
    read_graphs,
    result_by_value,
    same_by_value,
    store_graphs,
    synced_store,
    value_key,
)

FIXTURES = Path(__file__).parent / "fixtures" / "store"
V1, V2 = FIXTURES / "corpus-v1.nq", FIXTURES / "corpus-v2.nq"
XSD = "http://www.w3.org/2001/XMLSchema#"


def lit(value: str, datatype: str | None = None, language: str | None = None) -> ox.Literal:
    if language:
        return ox.Literal(value, language=language)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype) if datatype else None)


def assert_store_holds(store_dir: Path, graphs: dict[str, list[ox.Quad]]) -> None:
    """The store holds exactly these named graphs, each equal by value."""
    held = store_graphs(store_dir)
    assert sorted(held) == sorted(graphs)
    for iri, quads in graphs.items():
        assert same_by_value(held[iri], quads), iri


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[ox.Quad]]:
    return build().graphs()


# ---------------------------------------------------------------------------- reading graphs


def test_read_graphs_keeps_named_graphs_and_names_triple_files(tmp_path: Path) -> None:
    graphs = read_graphs([V1, FIXTURES / "extra.ttl", FIXTURES / "extra.trig"])
    ttl_graph = (FIXTURES / "extra.ttl").resolve().as_uri()
    assert sorted(graphs) == sorted([
        DOSSIER_GRAPH_PREFIX + "luna-9", DOSSIER_GRAPH_PREFIX + "mars-1",
        DOSSIER_GRAPH_PREFIX + "venera-7", DOSSIER_GRAPH_PREFIX + "zond-1", ttl_graph])
    assert len(graphs[ttl_graph]) == 2
    # the TriG file adds one triple to mars-1's ten from the N-Quads file
    assert len(graphs[DOSSIER_GRAPH_PREFIX + "mars-1"]) == 11
    assert all(q.graph_name.value == iri for iri, qs in graphs.items() for q in qs)


def test_read_graphs_reports_the_file_of_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nq"
    bad.write_text("<http://a> <http://b> .\n")
    with pytest.raises(KgError) as err:
        read_graphs([bad])
    assert err.value.file == str(bad)


def test_default_graph_quads_are_refused_unless_named() -> None:
    triple = ox.Quad(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"), lit("x"))
    with pytest.raises(StoreError, match="default graph"):
        group_quads([triple])
    grouped = group_quads([triple], default_graph="http://a/g")
    assert list(grouped) == ["http://a/g"]


def test_graphs_from_paths_maps_dossiers_and_reads_rdf_files(seeds) -> None:
    seed = sorted((Path(__file__).parents[1] / "seeds").glob("*.txt"))[0]
    graphs = graphs_from_paths([seed, FIXTURES / "extra.trig"])
    assert len(graphs) == 3  # one dossier graph + mars-1 and zond-1 from the TriG file
    dossier_graphs = {iri for iri in graphs if iri in seeds}
    assert len(dossier_graphs) >= 1


# ---------------------------------------------------------------------------- comparing by value


@pytest.mark.parametrize(("a", "b"), [
    (lit("893.50", "decimal"), lit("893.5", "decimal")),
    (lit("true", "boolean"), lit("1", "boolean")),
    (lit("7.47E2", "double"), lit("747.0", "double")),
    (lit("P5D", "duration"), lit("432000.0", "duration")),
    (lit("P1Y2M", "duration"), lit("14", "duration")),
    (lit("1962-10-24T17:55:04Z", "dateTime"), lit("1962-10-24T17:55:04+00:00", "dateTime")),
    (lit("x", language="en-GB"), lit("x", language="en-gb")),
    (lit("x"), lit("x", "string")),
])
def test_value_key_equates_canonical_forms(a: ox.Literal, b: ox.Literal) -> None:
    assert value_key(a) == value_key(b)


@pytest.mark.parametrize(("a", "b"), [
    (lit("893.5", "decimal"), lit("893.51", "decimal")),
    (lit("true", "boolean"), lit("0", "boolean")),
    (lit("P4M21D", "duration"), lit("4", "duration")),
    (lit("x", language="en"), lit("x")),
    (lit("1962", "gYear"), lit("1962")),
    (ox.NamedNode("http://a/x"), lit("http://a/x")),
])
def test_value_key_keeps_different_values_apart(a: object, b: object) -> None:
    assert value_key(a) != value_key(b)


# ---------------------------------------------------------------------------- loading


def test_loading_twice_leaves_the_triples_of_one_load(tmp_path: Path, seeds) -> None:
    store = tmp_path / "store"
    first = load_store(seeds, store)
    second = load_store(seeds, store)
    assert first.ok and second.ok and second.verified
    assert second.loaded == first.loaded
    assert_store_holds(store, seeds)
    assert len(query_store(store, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")) == len(
        {q for qs in seeds.values() for q in qs})


def test_a_fresh_build_store_loaded_in_slices_side_by_side_holds_the_whole_file(
        tmp_path: Path, seeds, monkeypatch: pytest.MonkeyPatch) -> None:
    # kg build fills a fresh store from its N-Quads file in slices, two calls at a time: with
    # 2 KB slices the seeds' file goes in ~200 calls, and every quad of it must be there once.
    import kg.store

    nquads = tmp_path / "kg.nq"
    nquads.write_bytes(ox.serialize(sorted((q for qs in seeds.values() for q in qs), key=str),
                                    format=ox.RdfFormat.N_QUADS))
    monkeypatch.setattr(kg.store, "BULK_SLICE_BYTES", 2048)
    with synced_store(tmp_path / "store", nquads, sorted(seeds)) as (opened, report):
        assert len(opened) == sum(map(len, seeds.values()))
    del opened  # (the store stays open, and may be compacting, while a reference is kept)
    assert sorted(report.loaded) == sorted(seeds)
    assert_store_holds(tmp_path / "store", seeds)
    assert nquads.stat().st_size // 2048 > 100


@pytest.mark.parametrize("known", [False, True])
def test_a_store_synced_with_changed_graphs_replaces_them_and_drops_the_vanished(
        tmp_path: Path, seeds, known: bool) -> None:
    # A rebuild replaces the graphs it redid and removes those of dossiers gone since. The
    # graphs to remove are found by listing the store, or, when the build knows what the store
    # held (``held``: the last build's graphs), among those: the same store either way.
    store = tmp_path / "store"
    load_store(seeds, store)
    iris = sorted(seeds)
    kept, edited, gone = iris[2:], iris[0], iris[1]
    new = [ox.Quad(q.subject, q.predicate, ox.Literal("edited"), q.graph_name)
           for q in seeds[edited][:3]]
    changed = {edited: ox.serialize(new, format=ox.RdfFormat.N_QUADS)}
    held = iris if known else None
    with synced_store(store, tmp_path / "unused.nq", [edited, *kept], changed,
                      held=held) as (opened, report):
        assert report.removed == [gone]
        assert report.loaded == {edited: 3}
    del opened
    assert_store_holds(store, {edited: new, **{iri: seeds[iri] for iri in kept}})


@given(lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"),
                      max_size=60),
       unterminated=st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")),
       size=st.integers(1, 100))
def test_slices_of_a_file_end_where_lines_end_and_give_back_every_byte(
        lines: list[bytes], unterminated: bytes, size: int) -> None:
    # The bulk load reads its file in blocks and finishes each block's last line: no quad is
    # cut in two between two loader calls, and none is lost or read twice.
    import io

    from kg.store import line_slices

    data = b"".join(lines) + unterminated
    slices = list(line_slices(io.BytesIO(data), size))
    assert b"".join(slices) == data
    assert all(s.endswith(b"\n") for s in slices[:-1])
    assert all(s for s in slices)
    for s in slices:  # a block of ``size`` bytes, and the rest of its last line if it cut one
        assert len(s) <= size or s.find(b"\n", size - 1) in (len(s) - 1, -1)


def test_a_failing_slice_fails_the_load_and_keeps_the_previous_store(
        tmp_path: Path, seeds, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last of ~150 slices is broken: its error comes from a thread, after the file is read.
    import kg.store

    store = tmp_path / "store"
    load_store(seeds, store)
    bad = tmp_path / "bad.nq"
    bad.write_bytes(b"<http://example.org/s> <http://example.org/p> <http://example.org/o> "
                    b"<http://example.org/g> .\n" * 100_000 + b"not n-quads\n")
    monkeypatch.setattr(kg.store, "BULK_SLICE_BYTES", 64 * 1024)
    with pytest.raises(SyntaxError), synced_store(store, bad, ["http://example.org/g"]):
        pass
    assert_store_holds(store, seeds)


def test_freed_memory_is_handed_back_where_the_c_library_can() -> None:
    # After a bulk load the build trims the C heap (glibc's malloc_trim: 1000 -> 790 MiB for
    # the corpus rules' phase of a 100k build). Here: 250 MB allocated in a thread and freed
    # but for every 16th block, which keeps glibc from giving the rest back by itself.
    import ctypes
    import threading

    from kg.store import release_freed_memory

    if not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.skip("no malloc_trim here (not glibc): the build skips the trim too")

    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    held: list[bytes] = []

    def churn() -> None:
        blocks = [bytes(64_000) for _ in range(4000)]
        held.extend(blocks[::16])

    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    before = rss()
    release_freed_memory()
    assert before - rss() > 10 * 2**20


def test_an_edited_dossier_replaces_its_old_facts(tmp_path: Path) -> None:
    store = tmp_path / "store"
    v1, v2 = read_graphs([V1]), read_graphs([V2])
    load_store(v1, store)
    report = load_store(v2, store)
    assert report.ok and not report.removed
    held = store_graphs(store)
    mars = DOSSIER_GRAPH_PREFIX + "mars-1"
    assert same_by_value(held[mars], v2[mars])
    # luna-9 is gone from the corpus but nothing asked to prune it
    assert DOSSIER_GRAPH_PREFIX + "luna-9" in held


def test_prune_removes_graphs_of_vanished_dossiers_only(tmp_path: Path) -> None:
    store = tmp_path / "store"
    other = group_quads(ox.parse(path=FIXTURES / "extra.ttl"), default_graph="http://a/other")
    load_store({**read_graphs([V1]), **other}, store)
    v2 = read_graphs([V2])
    report = load_store(v2, store, prune=True)
    assert report.removed == [DOSSIER_GRAPH_PREFIX + "luna-9"]
    assert_store_holds(store, {**v2, **other})  # a graph outside the dossier prefix stays
    load_store(v2, store, prune=True, prune_prefix="")
    assert_store_holds(store, v2)


def test_build_then_load_from_a_changed_corpus(tmp_path: Path) -> None:
    seeds_dir = Path(__file__).parents[1] / "seeds"
    corpus = tmp_path / "dossiers"
    corpus.mkdir()
    files = sorted(seeds_dir.glob("*.txt"))
    for f in files:
        (corpus / f.name).write_bytes(f.read_bytes())
    store = tmp_path / "store"
    before = build([corpus]).graphs()
    load_store(before, store)
    (corpus / files[0].name).unlink()
    after = build([corpus]).graphs()
    report = load_store(after, store, prune=True)
    assert len(report.removed) == len(set(before) - set(after)) >= 1
    assert_store_holds(store, after)


# ---------------------------------------------------------------------------- export, query


@pytest.mark.parametrize("fmt", ["nq", "trig"])
def test_export_writes_the_store_back_out(tmp_path: Path, fmt: str, seeds) -> None:
    store = tmp_path / "store"
    load_store(seeds, store)
    dest = tmp_path / f"out.{fmt}"
    count = export_store(store, fmt, dest)
    assert count == sum(len(q) for q in seeds.values())
    again = read_graphs([dest])
    assert sorted(again) == sorted(seeds)
    for iri in seeds:
        assert same_by_value(again[iri], seeds[iri])


def test_export_of_a_missing_store_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        export_store(tmp_path / "nothing", "nq", tmp_path / "x.nq")


def test_backend_answers_queries_from_the_store(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "store")
    backend.load(read_graphs([V1]))
    assert backend.graph_names() == sorted(read_graphs([V1]))
    rows = backend.query(
        "SELECT ?m WHERE { GRAPH ?g { ?m <https://w3id.org/spacekg/ontology#landed> true } }")
    assert result_by_value(rows) == result_by_value([
        {"m": ox.NamedNode("https://w3id.org/spacekg/id/mission/luna-9")},
        {"m": ox.NamedNode("https://w3id.org/spacekg/id/mission/venera-7")}])
    assert backend.query("ASK { GRAPH ?g { ?s ?p 893.5 } }") is True


# ---------------------------------------------------------------------------- killed loads

KILLED_LOAD = textwrap.dedent("""
    import os, signal, sys
    from kg.store import load_store, read_graphs
    graphs = read_graphs([sys.argv[2]])
    done = []
    def progress(n):
        done.append(n)
        if len(done) == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)
    load_store(graphs, sys.argv[1], progress=progress)
""")


def test_a_killed_load_leaves_whole_graphs_and_rerunning_completes_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    v1, v2 = read_graphs([V1]), read_graphs([V2])
    load_store(v1, store)
    # SIGKILL the loading process right after its first graph was written
    done = subprocess.run([sys.executable, "-c", KILLED_LOAD, str(store), str(V2), "1"],
                          check=False, timeout=120)
    assert done.returncode == -signal.SIGKILL
    held = store_graphs(store)
    for iri, quads in held.items():  # every graph is wholly the old or wholly the new one
        assert any(iri in v and same_by_value(quads, v[iri]) for v in (v1, v2)), iri
    assert any(same_by_value(held[i], v2[i]) and not same_by_value(v1[i], v2[i])
               for i in held if i in v1 and i in v2)
    report = load_store(v2, store, prune=True)
    assert report.ok
    assert_store_holds(store, v2)


def test_store_is_locked_while_another_process_writes(tmp_path: Path) -> None:
    """Two writers on one store: the second gets a user error, not a traceback."""
    store = tmp_path / "store"
    load_store(read_graphs([V1]), store)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(store)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="cannot open store"):
            load_store(read_graphs([V2]), store)
    finally:
        holder.communicate("", timeout=60)
    assert os.path.isdir(store)


# ---------------------------------------------------------------------------- the CLI


def test_cli_load_then_export_round_trips(tmp_path: Path, seeds) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    store, out = tmp_path / "store", tmp_path / "all.nq"
    runner = CliRunner()
    first = runner.invoke(main, ["load", "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "loaded 12 graphs" in first.output and "verified" in first.output
    again = runner.invoke(main, ["load", "--store", str(store), str(V1), "--prune"])
    assert again.exit_code == 0 and "removed 11 graphs" in again.output  # mars-1 stays
    exported = runner.invoke(main, ["export", "--store", str(store), "-f", "nq", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    exported_graphs, v1 = read_graphs([out]), read_graphs([V1])
    assert sorted(exported_graphs) == sorted(v1)
    assert all(same_by_value(exported_graphs[g], v1[g]) for g in v1)


def test_cli_load_refuses_server_options_without_an_endpoint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["load", "--store", str(tmp_path / "s"),
                                       "--gsp-endpoint", "http://127.0.0.1:9/store"])
    assert result.exit_code == 2 and "need --endpoint" in result.output
