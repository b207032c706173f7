"""Loading graphs into a triple store: the embedded on-disk store, and what all back-ends share.

kg hands every back-end the same thing: a mapping from named-graph IRI to that graph's quads
(one named graph per dossier).  Loading *replaces* each named graph as a whole, so loading a
corpus twice leaves the triples of one load, an edited dossier replaces its old facts, and
``prune`` removes the graphs of dossiers that are gone.

The embedded store is pyoxigraph's :class:`~pyoxigraph.Store`: a RocksDB-backed SPARQL 1.1
store in a directory.  Each graph is replaced by one SPARQL Update request
(``DROP SILENT GRAPH`` + ``INSERT DATA``), which pyoxigraph runs as one transaction: a killed
load never leaves a graph half-replaced, and re-running it completes it.

Remote SPARQL 1.1 servers live in :mod:`kg.endpoint`; both return a :class:`LoadReport`.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from kg.errors import KgError
from kg.rdfio import read_file
from kg.vocab import DEFAULT_BASE

#: Named-graph IRI -> the quads of that graph (every quad's graph_name is that IRI).
Graphs = dict[str, list[ox.Quad]]
#: What a query gives back: solutions (variable -> term), triples, or a boolean.
QueryResult = list[dict[str, Any]] | list[ox.Triple] | bool
#: Called after each write with the number of triples it carried (a progress bar's ``update``).
Progress = Callable[[int], None]

#: Graphs under this prefix are kg's dossier graphs: the only ones ``prune`` may remove.
DOSSIER_GRAPH_PREFIX = DEFAULT_BASE + "dossier/"
#: Bytes of N-Quads per bulk-load call when ``kg build`` fills a fresh store.
BULK_SLICE_BYTES = 16 * 1024 * 1024
#: Bulk-load calls running side by side (see :func:`_bulk_load`).
BULK_LOAD_THREADS = 2
#: Default embedded store directory (``kg build`` loads there, ``kg query`` reads there).
DEFAULT_STORE_DIR = Path("out/store")

_XSD = "http://www.w3.org/2001/XMLSchema#"


class StoreError(KgError):
    """A store could not be opened, read or written."""


# ---------------------------------------------------------------------------- reports


@dataclass
class LoadReport:
    """What a load did: triples per graph sent, graphs removed, and what verification found."""

    target: str
    method: str
    loaded: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    #: graph -> (distinct triples sent, triples found on the target); only graphs that differ.
    #: "Distinct" is by value: a store keeps one of ``"1.0"`` and ``"1.00"``.
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    verified: bool = False
    seconds: float = 0.0
    #: The triples with watched predicates (see :func:`synced_store`) that an update of the store
    #: added or removed, graph by graph; None after a fresh load.
    changed: set[ox.Triple] | None = field(default=None, repr=False)

    @property
    def triples(self) -> int:
        """Triples written, over all graphs."""
        return sum(self.loaded.values())

    @property
    def ok(self) -> bool:
        """True when verification (if run) found every graph as sent."""
        return not self.mismatches

    def summary(self) -> str:
        """One line for a terminal."""
        rate = self.triples / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"loaded {len(self.loaded)} graphs, {self.triples} triples into {self.target} "
            f"({self.method}) in {self.seconds:.2f} s ({rate:,.0f} triples/s)"
        )
        if self.removed:
            text += f"; removed {len(self.removed)} graphs"
        if self.verified:
            text += "; verified" if self.ok else f"; {len(self.mismatches)} graphs differ"
        return text

    def mismatch_lines(self) -> list[str]:
        """One line per graph whose count on the target differs from what was sent."""
        return [
            f"{iri}: sent {sent} triples, found {found}"
            for iri, (sent, found) in sorted(self.mismatches.items())
        ]


# ---------------------------------------------------------------------------- graphs in


def group_quads(
    quads: Iterable[ox.Quad | ox.Triple], default_graph: str | None = None
) -> Graphs:
    """Group quads by named graph; default-graph quads go to ``default_graph`` or are refused."""
    graphs: dict[str, dict[ox.Quad, None]] = {}
    target = ox.NamedNode(default_graph) if default_graph else None
    for quad in quads:
        if isinstance(quad, ox.Triple) or isinstance(quad.graph_name, ox.DefaultGraph):
            if target is None:
                raise StoreError(
                    f"triple {_triple_of(quad)} is in the default graph; kg loads named graphs "
                    "only (name the graph)"
                )
            quad = ox.Quad(quad.subject, quad.predicate, quad.object, target)
        if not isinstance(quad.graph_name, ox.NamedNode):
            raise StoreError(f"graph {quad.graph_name} is not an IRI; kg loads named graphs only")
        graphs.setdefault(quad.graph_name.value, {})[quad] = None
    return {iri: sorted(qs, key=str) for iri, qs in sorted(graphs.items())}


def read_graphs(paths: Iterable[Path | str], base_iri: str | None = None) -> Graphs:
    """Read RDF files (N-Quads, TriG, Turtle, N-Triples, RDF/XML, JSON-LD) into named graphs.

    Quads keep their graph; triples of a graph format (or a dataset's default graph) go into a
    graph named by the file's ``file:`` IRI, since kg never writes the default graph.
    """
    quads: list[ox.Quad] = []
    for raw in paths:
        file_graph = ox.NamedNode(Path(raw).resolve().as_uri())
        for graph in read_file(raw, base_iri=base_iri).values():
            quads.extend(ox.Quad(q.subject, q.predicate, q.object, file_graph)
                         if isinstance(q.graph_name, ox.DefaultGraph) else q for q in graph)
    return group_quads(quads)


def graphs_from_paths(
    paths: Sequence[Path | str] | None, base: str = DEFAULT_BASE
) -> Graphs:
    """Named graphs from dossiers (``.txt``, mapped by :func:`kg.build.build`) and RDF files.

    ``None`` or no paths means the bundled seed dossiers.
    """
    paths = [Path(p) for p in paths or []]
    dossiers = [p for p in paths if p.suffix.lower() == ".txt"]
    rdf_files = [p for p in paths if p.suffix.lower() != ".txt"]
    graphs: Graphs = {}
    if dossiers or not paths:
        from kg.build import build  # imported late: the mapper is the heavy part of kg

        graphs.update(build(dossiers or None, base=base).graphs())
    for iri, quads in read_graphs(rdf_files).items():
        graphs[iri] = sorted({*graphs.get(iri, []), *quads}, key=str)
    return dict(sorted(graphs.items()))


def triples_of(quads: Iterable[ox.Quad | ox.Triple]) -> list[ox.Triple]:
    """The triples of some quads, graph dropped, deduplicated and sorted."""
    return sorted({_triple_of(q) for q in quads}, key=str)


def _triple_of(quad: ox.Quad | ox.Triple) -> ox.Triple:
    return quad if isinstance(quad, ox.Triple) else quad.triple


# ---------------------------------------------------------------------------- comparing by value

_NUMERIC = {
    _XSD + name
    for name in ("decimal", "integer", "int", "long", "short", "byte", "nonNegativeInteger",
                 "nonPositiveInteger", "positiveInteger", "negativeInteger", "unsignedLong",
                 "unsignedInt", "unsignedShort", "unsignedByte")
}
_FLOATING = {_XSD + "double", _XSD + "float"}
_DURATION = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def _decimal_key(text: str) -> str:
    value = Decimal(text.strip())
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _duration_key(text: str) -> tuple[int, str]:
    """A duration as (months, seconds).

    Virtuoso returns durations as a bare number: seconds for day-time durations (``"P5D"`` comes
    back as ``"432000.0"``) and months for year-month ones (``"P1Y2M"`` as ``"14"``).
    """
    text = text.strip()
    match = _DURATION.match(text)
    if match:
        sign = -1 if match.group(1) else 1
        y, mo, d, h, mi = (int(g or 0) for g in match.groups()[1:6])
        s = Decimal(match.group(7) or 0)
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
        return sign * (y * 12 + mo), _decimal_key(str(sign * seconds))
    if re.fullmatch(r"-?\d+", text):
        return int(text), "0"
    return 0, _decimal_key(text)


def value_key(term: Any) -> tuple[Any, ...]:
    """A hashable key under which two RDF terms are equal when they denote the same value.

    Servers rewrite literals to a canonical form (``"893.50"`` comes back as ``"893.5"``,
    ``"true"`` as ``"1"``, language tags lower-cased), so graphs are compared by value.
    """
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Triple):
        return ("triple", value_key(term.subject), value_key(term.predicate),
                value_key(term.object))
    if not isinstance(term, ox.Literal):
        return ("other", str(term))
    if term.language:
        return ("lang", term.value, term.language.lower())
    datatype = term.datatype.value
    text = term.value
    try:
        if datatype in _NUMERIC:
            return ("number", _decimal_key(text))
        if datatype in _FLOATING:
            number = float(text)
            if math.isnan(number) or math.isinf(number):
                return ("number", str(number))
            return ("number", _decimal_key(f"{number:.12g}"))
        if datatype == _XSD + "boolean":
            return ("boolean", text.strip() in {"true", "1"})
        if datatype == _XSD + "dateTime":
            return ("dateTime", datetime.fromisoformat(text.strip()).isoformat())
        if datatype == _XSD + "duration":
            return ("duration", *_duration_key(text))
    except (ValueError, InvalidOperation):
        pass  # not a valid lexical form: compare it as written
    return ("literal", text, datatype)


def triple_key(triple: ox.Triple | ox.Quad) -> tuple[Any, ...]:
    """A triple's value key (graph ignored)."""
    t = _triple_of(triple)
    return (value_key(t.subject), value_key(t.predicate), value_key(t.object))


def distinct_by_value(triples: Iterable[ox.Triple | ox.Quad]) -> int:
    """How many triples a server that stores values (not lexical forms) will hold."""
    return len({triple_key(t) for t in triples})


def same_by_value(a: Iterable[ox.Triple | ox.Quad], b: Iterable[ox.Triple | ox.Quad]) -> bool:
    """True when two blank-node-free graphs hold the same triples by value."""
    return {triple_key(t) for t in a} == {triple_key(t) for t in b}


def result_by_value(result: QueryResult) -> Any:
    """A query result in a form that compares equal across stores (rows as a multiset)."""
    if isinstance(result, bool):
        return result
    rows: Counter[Any] = Counter()
    for row in result:
        if isinstance(row, ox.Triple):
            rows[triple_key(row)] += 1
        else:
            rows[frozenset((k, value_key(v)) for k, v in row.items() if v is not None)] += 1
    return rows


# ---------------------------------------------------------------------------- SPARQL text


def nt_line(triple: ox.Triple | ox.Quad) -> str:
    """One triple as an N-Triples line (also valid inside SPARQL ``INSERT DATA``)."""
    t = _triple_of(triple)
    return f"{t.subject} {t.predicate} {t.object} .\n"


def iri_ref(iri: str) -> str:
    """An IRI as a SPARQL/N-Triples ``<…>`` reference (validated)."""
    return str(ox.NamedNode(iri))


def replace_graph_update(iri: str, triples: Iterable[ox.Triple | ox.Quad]) -> str:
    """One SPARQL Update request that replaces a named graph as a whole."""
    g = iri_ref(iri)
    body = "".join(nt_line(t) for t in triples)
    return f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{body}}} }}"


def solutions_to_rows(solutions: ox.QuerySolutions) -> list[dict[str, Any]]:
    """pyoxigraph solutions as plain dicts (variable name -> term, unbound left out)."""
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        rows.append({n: solution[n] for n in names if solution[n] is not None})
    return rows


# ---------------------------------------------------------------------------- embedded store


@contextlib.contextmanager
def open_store(store_dir: Path | str, read_only: bool = False) -> Iterator[ox.Store]:
    """Open the on-disk store (created if missing unless ``read_only``), closed on exit."""
    path = Path(store_dir)
    try:
        if read_only:
            if not path.is_dir():
                raise StoreError("no store here (run `kg load` or `kg build` first)",
                                 file=str(path))
            store = ox.Store.read_only(str(path))
        else:
            path.mkdir(parents=True, exist_ok=True)
            store = ox.Store(str(path))
    except OSError as err:
        raise StoreError(f"cannot open store: {err}", file=str(path)) from err
    try:
        yield store
    except BaseException as err:
        # The frames the error came through may hold the store, and its traceback keeps them:
        # their variables are cleared (not their lines), else the lock outlives the block.
        traceback.clear_frames(err.__traceback__)
        raise
    finally:
        if not read_only:
            store.flush()
        del store  # RocksDB's lock is released when the last reference goes


def store_graph_names(store: ox.Store) -> list[str]:
    """The named graphs of a store that hold at least one triple, sorted."""
    names = {q.graph_name.value for q in store.quads_for_pattern(None, None, None, None)
             if isinstance(q.graph_name, ox.NamedNode)}
    return sorted(names)


def store_counts(store: ox.Store, iris: Iterable[str] | None = None) -> dict[str, int]:
    """Triples per named graph in a store (all graphs, or just ``iris``)."""
    counts: Counter[str] = Counter()
    wanted = set(iris) if iris is not None else None
    for quad in store.quads_for_pattern(None, None, None, None):
        g = quad.graph_name
        if isinstance(g, ox.NamedNode) and (wanted is None or g.value in wanted):
            counts[g.value] += 1
    if wanted is not None:
        for iri in wanted:
            counts.setdefault(iri, 0)
    return dict(counts)


def load_into(
    store: ox.Store,
    graphs: Mapping[str, Sequence[ox.Quad]],
    *,
    prune: bool = False,
    prune_prefix: str = DOSSIER_GRAPH_PREFIX,
    verify: bool = True,
    progress: Progress | None = None,
    target: str = "embedded store",
) -> LoadReport:
    """Replace each named graph of an open store, one transaction per graph."""
    started = time.perf_counter()
    report = LoadReport(target=target, method="embedded")
    expected: dict[str, int] = {}
    for iri, quads in graphs.items():
        triples = triples_of(quads)
        try:
            store.update(replace_graph_update(iri, triples))
        except (OSError, SyntaxError) as err:
            raise StoreError(f"loading graph <{iri}> failed: {err}") from err
        report.loaded[iri] = len(triples)
        expected[iri] = distinct_by_value(triples)
        if progress:
            progress(len(triples))
    if prune:
        for iri in [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]:
            if iri.startswith(prune_prefix) and iri not in graphs:
                store.remove_graph(ox.NamedNode(iri))
                report.removed.append(iri)
    if verify:
        found = store_counts(store, report.loaded)
        report.mismatches = {
            iri: (sent, found[iri]) for iri, sent in expected.items() if found[iri] != sent
        }
        report.verified = True
    report.seconds = time.perf_counter() - started
    return report


def load_store(
    graphs: Mapping[str, Sequence[ox.Quad]],
    store_dir: Path | str = DEFAULT_STORE_DIR,
    *,
    prune: bool = False,
    prune_prefix: str = DOSSIER_GRAPH_PREFIX,
    verify: bool = True,
    progress: Progress | None = None,
) -> LoadReport:
    """Load named graphs into the on-disk store at ``store_dir``, replacing each graph whole.

    With ``prune``, graphs under ``prune_prefix`` that are not in ``graphs`` are removed
    (their dossier is gone); ``prune_prefix=""`` prunes every other named graph.
    """
    with open_store(store_dir) as store:
        return load_into(store, graphs, prune=prune, prune_prefix=prune_prefix, verify=verify,
                         progress=progress, target=str(store_dir))


def load_build_result(quads: Iterable[ox.Quad], store_dir: Path | str = DEFAULT_STORE_DIR,
                      *, prune: bool = True) -> LoadReport:
    """What ``kg build`` calls: load its quads into ``store_dir`` (pruning vanished dossiers)."""
    return load_store(group_quads(quads), store_dir, prune=prune)


def store_quads(store_dir: Path | str) -> list[ox.Quad]:
    """Every quad of the store at ``store_dir``, sorted."""
    with open_store(store_dir, read_only=True) as store:
        return sorted(store.quads_for_pattern(None, None, None, None), key=str)


def store_graphs(store_dir: Path | str) -> Graphs:
    """The store's content grouped by named graph."""
    return group_quads(store_quads(store_dir))


def export_store(store_dir: Path | str, fmt: str, dest: Path | str | BinaryIO | None = None,
                 base: str = DEFAULT_BASE) -> int:
    """Write the whole store out in any format kg writes (``dest`` None: standard output).

    Returns the number of quads written.
    """
    from kg.export import get_format, write  # the one table of kg's writers

    try:
        format_ = get_format(fmt)
    except KeyError:
        raise StoreError(f"unknown format {fmt!r}") from None
    quads = store_quads(store_dir)
    if dest is None:
        write(quads, sys.stdout.buffer, format_, base)
        sys.stdout.buffer.flush()
    else:
        write(quads, dest, format_, base)
    return len(quads)


def query_store(store_dir: Path | str, sparql: str, dataset: Sequence[str] | None = None
                ) -> QueryResult:
    """Run a SPARQL query against the on-disk store."""
    with open_store(store_dir, read_only=True) as store:
        return query_open_store(store, sparql, dataset)


def query_open_store(store: ox.Store, sparql: str, dataset: Sequence[str] | None = None
                     ) -> QueryResult:
    """Run a SPARQL query on an open store; results as rows, triples or a boolean.

    ``dataset`` names the graphs to query, as the SPARQL protocol's ``default-graph-uri`` and
    ``named-graph-uri`` do: they are the named graphs and their merge is the default graph.
    """
    options: dict[str, Any] = {}
    if dataset is not None:
        graphs = [ox.NamedNode(g) for g in dataset]
        options = {"default_graph": graphs, "named_graphs": graphs}
    try:
        result = store.query(sparql, **options)
    except SyntaxError as err:
        raise StoreError(f"query does not parse: {err}") from err
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        return solutions_to_rows(result)
    return sorted(result, key=str)


# ---------------------------------------------------------------------------- back-ends


@dataclass(frozen=True)
class EmbeddedBackend:
    """The on-disk pyoxigraph store as a back-end (same surface as the remote one)."""

    store_dir: Path

    name = "embedded"

    def load(self, graphs: Mapping[str, Sequence[ox.Quad]], *, prune: bool = False,
             verify: bool = True, progress: Progress | None = None) -> LoadReport:
        """Replace each named graph; see :func:`load_store`."""
        return load_store(graphs, self.store_dir, prune=prune, verify=verify, progress=progress)

    def graph_names(self) -> list[str]:
        """Named graphs holding triples."""
        with open_store(self.store_dir, read_only=True) as store:
            return store_graph_names(store)

    def read_graph(self, iri: str) -> list[ox.Triple]:
        """The triples of one named graph."""
        with open_store(self.store_dir, read_only=True) as store:
            return triples_of(store.quads_for_pattern(None, None, None, ox.NamedNode(iri)))

    def query(self, sparql: str, dataset: Sequence[str] | None = None) -> QueryResult:
        """Run a SPARQL query (over ``dataset``'s graphs if given)."""
        return query_store(self.store_dir, sparql, dataset)


def backend(target: Path | str | Any) -> Any:
    """The back-end for a target: a store directory, or an :class:`kg.endpoint.EndpointConfig`."""
    from kg.endpoint import EndpointBackend, EndpointConfig

    if isinstance(target, EndpointConfig):
        return EndpointBackend(target)
    return EmbeddedBackend(Path(target))


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the system, where the C library can (glibc).

    A bulk load allocates hundreds of megabytes in its threads' heaps; freed, they stay the
    process's until trimmed, and a 100k build's peak came when the corpus rules' queries
    allocated on top of them.
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the symbols the process has loaded: libc's
    except (OSError, AttributeError):  # not glibc: musl, macOS, Windows
        return
    trim(0)


def line_slices(fh: BinaryIO, size: int) -> Iterator[bytes]:
    """A file's bytes in slices of about ``size`` bytes, each ending where a line does."""
    while block := fh.read(size):
        yield block if block.endswith(b"\n") else block + fh.readline()


def _bulk_load(store: ox.Store, nquads: Path) -> None:
    """Bulk-load an N-Quads file in slices, :data:`BULK_LOAD_THREADS` slices at a time.

    One call on a big file takes memory in proportion (1.6 GiB for 2.5 M quads); 16 MB slices
    keep each call near 150 MB. A call parses its slice and then sorts and writes it, one step
    after the other, so two calls side by side keep both cores busy: at 10k dossiers the load
    takes a fifth less time, and RocksDB, given fewer and larger runs to merge, writes a third
    fewer bytes (2.2 GB instead of 3.2 GB for an 800 MB store).

    The file is kg's own output, written by pyoxigraph from terms it checked, so it is parsed
    leniently (IRIs are not checked a second time: a tenth of the load's time).
    """
    from concurrent.futures import ThreadPoolExecutor

    from kg.pipeline import windowed

    def load(chunk: bytes) -> None:
        store.bulk_load(chunk, format=ox.RdfFormat.N_QUADS, lenient=True)

    with ThreadPoolExecutor(BULK_LOAD_THREADS, thread_name_prefix="kg-load") as pool, \
            open(nquads, "rb") as fh:
        slices = line_slices(fh, BULK_SLICE_BYTES)
        # One slice more than threads in flight: the next is read while the others load.
        for _done in windowed(pool, load, slices, BULK_LOAD_THREADS + 1):
            pass


@contextlib.contextmanager
def synced_store(store_dir: Path | str, nquads: Path, graphs: Sequence[str],
                 changed: Mapping[str, bytes] | None = None,
                 watch: frozenset[str] | None = None, held: Collection[str] | None = None
                 ) -> Iterator[tuple[ox.Store, LoadReport]]:
    """Make the store at ``store_dir`` hold exactly a build's named graphs; yield it, still open,
    with the load's report (the store is flushed and closed on exit).

    With ``changed`` (graph IRI -> that graph's N-Quads, for the dossiers a build redid) and an
    existing store, only those graphs are replaced and vanished dossiers removed, each graph in
    one transaction. Otherwise the build's N-Quads file is bulk-loaded into a fresh store beside
    the old one, which then takes its place: a reader never sees a half-loaded store.

    When graphs are replaced and ``watch`` (predicate IRIs) is given, the report's ``changed``
    holds the triples with those predicates that differ between each replaced or removed graph
    and what it held before. ``held``, if known, names the graphs the store holds (those of the
    build that last synced it): the graphs to remove are then found among them, not by listing
    every graph in the store (a 10k rebuild's update: 0.11-0.22 s listing, 0.02-0.04 s not).

    The store stays open for what the build does next (its validation): one opening and one
    flush of RocksDB's files per build.
    """
    import shutil

    started = time.perf_counter()
    path = Path(store_dir)
    report = LoadReport(target=str(path), method="embedded")
    replacing = changed if changed is not None and path.is_dir() else None
    if replacing is None:
        fresh = path.with_name(f".{path.name}.new")
        old = path.with_name(f".{path.name}.old")
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)  # --store a/b: a need not exist yet
        loading = ox.Store(str(fresh))
        _bulk_load(loading, Path(nquads))
        loading.flush()
        del loading
        release_freed_memory()  # the load's buffers, freed in its threads' heaps
        if path.exists():
            path.rename(old)
        fresh.rename(path)
        shutil.rmtree(old, ignore_errors=True)
        report.loaded = dict.fromkeys(graphs, 0)
    with open_store(path) as store:
        if replacing is not None:
            report.changed = _replace_graphs(store, replacing, set(graphs), watch, report, held)
        report.seconds = time.perf_counter() - started
        try:
            yield store, report
        finally:
            del store  # (a traceback keeps this frame: see open_store)


def _replace_graphs(store: ox.Store, changed: Mapping[str, bytes], wanted: set[str],
                    watch: frozenset[str] | None, report: LoadReport,
                    held: Collection[str] | None = None) -> set[ox.Triple] | None:
    """Replace the ``changed`` graphs, remove those not ``wanted`` (of those ``held``, if known,
    else of all the store has), noted in ``report``; return the triples with ``watch``
    predicates that differ, if watched."""
    diff: set[ox.Triple] = set()

    def watched(quads: Iterable[ox.Quad]) -> set[ox.Triple]:
        return {q.triple for q in quads if q.predicate.value in watch} if watch else set()

    for iri, data in changed.items():
        quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
        before = watched(store.quads_for_pattern(None, None, None, ox.NamedNode(iri)))
        diff |= before ^ watched(quads)
        store.update(replace_graph_update(iri, triples_of(quads)))
        report.loaded[iri] = len(quads)
    if held is None:  # every graph the store holds, listed
        held = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    for iri in sorted(set(held).difference(wanted)):
        g = ox.NamedNode(iri)
        if store.contains_named_graph(g):
            diff |= watched(store.quads_for_pattern(None, None, None, g))
            store.remove_graph(g)
            report.removed.append(iri)
    return diff if watch is not None else None
