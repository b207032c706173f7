"""The pipeline: dossier files in, one linked dataset (a named graph per dossier) out."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .dossier import parse, read
from .errors import DossierError, KgError, Problem
from .export import DEFAULT_FORMATS, atomic_write, get_format
from .mapping import Index, dedupe_sorted, map_record
from .record import Record, extract
from .vocab import DEFAULT_BASE, KG, RDF_TYPE, check_base, name_key

DOSSIER_SUFFIX = ".txt"


def bundled_seeds() -> list[Path]:
    """The seed dossiers shipped inside the package."""
    root = files("kg.seeds")
    with as_file(root) as path:
        return sorted(p for p in Path(path).iterdir() if p.suffix == DOSSIER_SUFFIX)


def find_dossiers(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and directories (searched recursively for *.txt) into dossier paths."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-":
            found.append(path)  # standard input
        elif path.is_dir():
            inside = [Path(p) for p in _walk(str(path))]
            if not inside:
                raise KgError(f"no dossiers (*{DOSSIER_SUFFIX} files) in this directory",
                              str(path))
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise KgError("no such file or directory", str(path))
    # One order whatever the order given, so outputs and duplicate handling are deterministic.
    return sorted(set(found), key=lambda p: (p.name, str(p)))


def _walk(root: str) -> Iterator[str]:
    """Dossier files under ``root``, recursively; symbolic links to directories are not
    followed (as ``Path.rglob`` does not)."""
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.endswith(DOSSIER_SUFFIX) and entry.is_file():
                    yield entry.path


@dataclass
class BuildResult:
    """What a build produced: records, the sorted quads, and every problem found."""

    base: str
    records: list[Record]
    quads: list[ox.Quad]
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def graphs(self) -> dict[str, list[ox.Quad]]:
        """Quads grouped by named graph (one per dossier)."""
        out: dict[str, list[ox.Quad]] = {}
        for q in self.quads:
            out.setdefault(q.graph_name.value, []).append(q)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for the build summary: dossiers, triples, entities by class, problems."""
        distinct = {q.triple for q in self.quads}
        types = Counter(t.object.value for t in distinct if t.predicate.value == RDF_TYPE)
        return summarize(len(self.records), len(distinct), len(self.quads),
                         len({q.graph_name for q in self.quads}), types, self.problems)

    def report(self) -> dict[str, Any]:
        """The build report: summary, and per dossier its status, quads and problems."""
        from .mapping import dossier_iri

        per_graph = Counter(q.graph_name.value for q in self.quads)
        rows = []
        for rec in self.records:
            graph = dossier_iri(self.base, rec.title)
            rows.append((rec.file, rec.title, graph, per_graph.get(graph, 0)))
        return make_report(self.summary(), rows, self.problems)


def summarize(dossiers: int, triples: int, quads: int, graphs: int,
              types: dict[str, int] | Counter[str], problems: Sequence[Problem]) -> dict[str, Any]:
    """The summary block of the build report (and of ``kg build``'s output)."""
    sev = Counter(p.severity for p in problems)
    classes = {cls.removeprefix(KG): n for cls, n in types.items() if cls.startswith(KG)}
    return {
        "dossiers": dossiers,
        "triples": triples,
        "quads": quads,
        "graphs": graphs,
        "entities": dict(sorted(classes.items())),
        "not_understood": sev.get("not-understood", 0),
        "warnings": sev.get("warning", 0),
        "errors": sev.get("error", 0),
    }


def make_report(summary: dict[str, Any], rows: Sequence[tuple[str, str, str, int]],
                problems: Sequence[Problem]) -> dict[str, Any]:
    """The build report: every dossier (in file order) with its status, quads and problems;
    the per-dossier quads add up to ``summary['quads']``."""
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        by_file.setdefault(p.file, []).append(p)
    def counts(file: str) -> dict[str, int]:
        if file not in by_file:
            return {"not_understood": 0, "warnings": 0, "errors": 0}
        sev = Counter(p.severity for p in by_file[file])
        return {"not_understood": sev["not-understood"], "warnings": sev["warning"],
                "errors": sev["error"]}

    dossiers = [{"file": f, "title": t, "graph": g, "status": "ok", "quads": n, **counts(f),
                 "problems": [p.as_dict() for p in by_file.get(f, [])]}
                for f, t, g, n in rows]
    ok = {f for f, *_ in rows}
    for name in sorted({p.file for p in problems if p.severity == "error"} - ok):
        dossiers.append({"file": name, "status": "error", "quads": 0, **counts(name),
                         "problems": [p.as_dict() for p in by_file.get(name, [])]})
    dossiers.sort(key=lambda d: d["file"])
    return {"summary": summary, "dossiers": dossiers}


def report_json(report: dict[str, Any]) -> bytes:
    """The build report as JSON: the summary indented, then one dossier per line (quick to
    write for a large corpus, and it still diffs line by line)."""
    summary = json.dumps(report["summary"], indent=1, ensure_ascii=False).replace("\n", "\n ")
    rows = ",\n  ".join(json.dumps(d, ensure_ascii=False, separators=(",", ":"))
                        for d in report["dossiers"])
    body = f'{{\n "summary": {summary},\n "dossiers": [\n  {rows}\n ]\n}}\n' if rows else \
        f'{{\n "summary": {summary},\n "dossiers": []\n}}\n'
    return body.encode("utf-8")


def extract_all(paths: Sequence[Path]) -> tuple[list[Record], list[Problem]]:
    """Read and extract every dossier; a bad one becomes an error problem, the rest go on."""
    records: list[Record] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            dossier = read(path) if str(path) != "-" else _stdin()
        except DossierError as exc:
            problems.append(Problem("error", exc.file or str(path), exc.line, exc.message))
            continue
        rec = extract(dossier)
        if (duplicate := claim_title(rec, seen)) is not None:
            problems.append(duplicate)
            continue
        records.append(rec)
        problems.extend(rec.problems)
    return records, problems


def claim_title(rec: Record, seen: dict[str, str]) -> Problem | None:
    """Record ``rec``'s title as taken, or the error if another dossier already has it:
    duplicate titles are reported, never merged silently (the first file in order wins)."""
    return claim(name_key(rec.title), rec.title, rec.file, rec.title_line, seen)


def claim(key: str, title: str, file: str, line: int, seen: dict[str, str]) -> Problem | None:
    """:func:`claim_title` for a title whose key is known already."""
    if key in seen:
        return Problem("error", file, line,
                       f"duplicate title {title!r}: {seen[key]} has the same title; "
                       "this dossier was not merged into the graph")
    seen[key] = file
    return None


def _stdin():
    import sys

    from .dossier import decode
    return parse(decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>")


def build(paths: Iterable[str | Path] | None = None, base: str = DEFAULT_BASE) -> BuildResult:
    """Build the linked dataset from dossier files or directories (default: the bundled seeds)."""
    check_base(base)
    dossier_paths = bundled_seeds() if paths is None else find_dossiers(paths)
    records, problems = extract_all(dossier_paths)
    index = Index.of(records)
    quads: list[ox.Quad] = []
    for rec in records:
        quads.extend(map_record(rec, index, base))
    problems.extend(index.problems)
    return BuildResult(base, records, dedupe_sorted(quads), _dedupe(problems),
                       [str(p) for p in dossier_paths])


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def write_outputs(result: BuildResult, out_dir: str | Path,
                  formats: Sequence[str] = DEFAULT_FORMATS, stem: str = "kg",
                  report: str | Path | None = None) -> list[Path]:
    """Write the dataset in each format, plus the build report (``report``, default
    ``report.json`` beside them); return the paths written."""
    from .chunks import Layout, keyed, render, write_parts

    out = Path(out_dir)
    names = [get_format(n).name for n in formats]
    layout = Layout(result.base)
    graphs = result.graphs()
    order = sorted(graphs)
    parts = (render(g, keyed(graphs[g]), names, layout) for g in order)
    targets = {n: out / f"{stem}.{get_format(n).extension}" for n in names}
    write_parts(parts, order, targets, layout)
    report_path = Path(report) if report is not None else out / "report.json"
    with atomic_write(report_path) as fh:
        fh.write(report_json(result.report()))
    return [*targets.values(), report_path]


@dataclass
class BuildOutcome:
    """Everything ``kg build`` did: the build, its validation report and its store load."""

    result: Any  # kg.pipeline.StreamResult, or BuildResult for standard input
    files: list[Path]
    validation: Any = None  # kg.validate.Report
    store: Any = None  # kg.store.LoadReport

    @property
    def errors(self) -> list[Problem]:
        return self.result.errors


def build_to(paths: Sequence[str | Path] | None, out_dir: str | Path,
             formats: Sequence[str] = DEFAULT_FORMATS, base: str = DEFAULT_BASE,
             jobs: int | None = None, cache: bool = True, validate: bool = True,
             store: str | Path | None = "store", progress: Any = None,
             report: str | Path | None = None) -> BuildOutcome:
    """What ``kg build`` does: build into ``out_dir``, validate, and load the embedded store.

    Dossier files stream through :func:`kg.pipeline.stream_build` (parallel, cached,
    incremental); standard input (``-``) is built in memory. ``store`` is a directory (relative
    paths are inside ``out_dir``), or None for no store.
    """
    import sqlite3

    try:
        with build_lock(Path(out_dir)):
            return _build_to(paths, out_dir, formats, base, jobs, cache, validate, store,
                             progress, report)
    except (OSError, sqlite3.OperationalError) as exc:
        # A full disk, a read-only directory: one line, and the previous outputs stay whole
        # (every file is written aside and renamed into place only when complete).
        reason = getattr(exc, "strerror", None) or str(exc)
        raise KgError(f"cannot write the build: {reason}", str(out_dir)) from None


class build_lock:  # noqa: N801 - used like open()
    """An exclusive lock on an output directory: a second ``kg build`` into it is refused
    rather than interleaved with the first."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / ".kg-cache" / "build.lock"

    def __enter__(self) -> build_lock:
        import fcntl
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise KgError("another kg build is writing into this directory; wait for it to "
                          "finish or choose another -o", str(self.path.parent.parent)) from None
        return self

    def __exit__(self, *exc: object) -> None:
        import os

        os.close(self.fd)  # closing releases the lock, also if the process is killed


def _validate_on(db: Any, result: Any, outcome: BuildOutcome, state: Any,
                 sigs: dict[str, str]) -> tuple[str, list[Any], Any]:
    """Validate a streamed build on its open store ``db`` into ``outcome``; return the corpus
    rules' key, results and their places in the dossiers, for the next build's ``state``.

    The corpus rules' results are kept from ``state`` (the last build's
    :class:`kg.manifest.StoreState`) while no triple they read has changed, redone only around
    the triples the store's update changed when it says which, and run afresh otherwise. Their
    places in the dossiers are found again unless the last build took them from the same graphs,
    by their signatures ``sigs``."""
    from .manifest import Located
    from .validate import corpus_results, involved_graphs, locate_corpus, validate_store

    started = time.perf_counter()
    corpus_key = result.corpus_key()
    reused = state is not None and state.corpus_key == corpus_key
    delta = outcome.store.changed  # (the load's report, which the store's sync just made)
    if reused:
        corpus = state.corpus
        stage = "validate (corpus rules kept)"
    elif state is not None and delta is not None:
        from .shacl import engine

        corpus = engine("corpus").validate_store_around(db, delta, state.corpus, result.reaches)
        stage = "validate (corpus rules around the change)"
    else:
        corpus = corpus_results(db, result.jobs)
        stage = "validate (store part)"
    involved = involved_graphs(db, corpus)
    taken = {g: sigs.get(g, "") for g in involved}
    known = state.located if state is not None else None
    if known is not None and known.graphs == taken and all(r in known.findings for r in corpus):
        located = {r: known.findings[r] for r in corpus}
    else:
        located = locate_corpus(db, corpus, involved)
    outcome.validation = validate_store(db, result.shacl, result.findings, len(result.done),
                                        result.triples, [str(p) for p in result.errors], corpus,
                                        located)
    result.timings[stage] = time.perf_counter() - started
    return corpus_key, corpus, Located(taken, located)


def _build_to(paths: Sequence[str | Path] | None, out_dir: str | Path, formats: Sequence[str],
              base: str, jobs: int | None, cache: bool, validate: bool, store: str | Path | None,
              progress: Any, report: str | Path | None) -> BuildOutcome:
    from .pipeline import fewer_collections, stream_build

    check_base(base)
    out = Path(out_dir)
    names = [get_format(n).name for n in formats]
    if paths and any(str(p) == "-" for p in paths):  # standard input: everything in memory
        result = build(paths, base)
        files = write_outputs(result, out, names, report=report)
        outcome = BuildOutcome(result, files)
        if validate:
            from .validate import validate as run_validation

            outcome.validation = run_validation(result, base=base)
        if store is not None:
            from .store import load_build_result

            outcome.store = load_build_result(result.quads, out / store)
        return outcome
    dossier_paths = bundled_seeds() if not paths else find_dossiers(paths)
    # The files' threads go on copying and syncing while the store is updated and the graph
    # validated; the files are in place when this returns. The garbage collector runs at the
    # build's thresholds throughout: the report alone makes a few objects per dossier.
    with fewer_collections():
        streamed = stream_build(dossier_paths, out, names, base, jobs, cache, progress,
                                validate=validate, finish_later=True)
        try:
            return _finish_build(streamed, out, report, validate, store, cache)
        finally:
            streamed.close()


def _finish_build(result: Any, out: Path, report: str | Path | None, validate: bool,
                  store: str | Path | None, cache: bool) -> BuildOutcome:
    """After a streamed build: the report, the store brought up to date, the validation."""
    from concurrent.futures import ThreadPoolExecutor

    report_path = Path(report) if report is not None else out / "report.json"
    text = report_json(result.report())
    # The report is written on a thread: syncing it waits for the output files' syncs.
    with ThreadPoolExecutor(1, thread_name_prefix="kg-report") as writer:
        written = writer.submit(_write_report, report_path, text)
        outcome = _store_and_validate(result, out, validate, store, cache)
        written.result()
    outcome.files.append(report_path)
    return outcome


def _write_report(path: Path, text: bytes) -> None:
    with atomic_write(path) as fh:
        fh.write(text)


def _store_and_validate(result: Any, out: Path, validate: bool, store: str | Path | None,
                        cache: bool) -> BuildOutcome:
    nquads = result.nquads
    outcome = BuildOutcome(result, list(result.written))
    from .manifest import StoreState
    from .pipeline import FRESH_LIMIT, code_version
    from .store import synced_store

    graphs = [d.graph for d in result.done]
    store_dir = out / (store if store is not None else ".kg-cache/validation-store")
    # What the store held after the last build: the graphs that differ are replaced, the corpus
    # rules' results kept while no triple they read has changed.
    state_path = out / ".kg-cache" / "store.pickle"
    state = StoreState.load(state_path, code_version()) if cache else None
    if state is not None and (state.path != os.path.realpath(store_dir) or not store_dir.is_dir()):
        state = None
    if store is not None or validate:
        started = time.perf_counter()
        changed = None
        if state is not None:
            redo = [d for d in result.done if state.sigs.get(d.graph) != d.sig]
            changed = result.graph_nquads(redo) if len(redo) <= FRESH_LIMIT else None
        result.release_cache()
        if changed is None:
            result.complete()  # the store is loaded afresh from the N-Quads file
        state_path.unlink(missing_ok=True)  # the store changes now; no state until it is done
        # The triples the corpus rules read that the update changes: their results before it
        # are then redone only around those (when the last build validated).
        reads = result.corpus_reads if validate and state is not None and state.corpus_key \
            else None
        watch = None if reads is None else frozenset(p[1:-1] for p in reads)
        held = state.sigs.keys() if state is not None else None  # what the store holds
        with synced_store(store_dir, nquads, graphs, changed, watch, held) as (db, outcome.store):
            try:
                result.timings["load"] = time.perf_counter() - started
                sigs = {d.graph: d.sig for d in result.done}
                corpus_key, corpus, located = "", [], None
                if validate:
                    corpus_key, corpus, located = _validate_on(db, result, outcome, state, sigs)
                closing = time.perf_counter()
            finally:
                del db  # (a traceback keeps this frame: it must not keep the store's lock)
        result.timings["load"] += time.perf_counter() - closing  # its writes flushed
        if cache:
            StoreState(code_version(), os.path.realpath(store_dir), sigs, corpus_key, corpus,
                       located).save(state_path)
    if store is None:
        outcome.store = None
    return outcome
