"""The streaming build: dossiers flow through in batches, across cores, with a content cache.

Memory stays flat whatever the corpus size: records and rendered parts live in an on-disk cache
(SQLite, beside the output), only the corpus index (names, aliases, labels) is held in memory,
and every output file is assembled part by part. A dossier whose bytes, and whose view of the
corpus index, have not changed since the last build is not read, extracted or mapped again.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from .chunks import Assembler, Drop, Layout, Part, Previous, Reuse, Writing, keyed, render, start_writing
from .dossier import decode, parse
from .errors import DossierError, Problem
from .export import get_format
from .manifest import Manifest, identity
from .mapping import FIELDS, Contribution, Index, contribution, dossier_iri, entity_key, map_triples
from .record import Record, extract
from .vocab import name_key, pad_key

FRESH_LIMIT = 1000  # up to this many redone dossiers, the store is patched rather than reloaded
BATCH = 64  # dossiers per task sent to a worker: big enough to amortise, small enough to balance
LOCAL_MAX = BATCH  # up to this many dossiers to map, this process maps them itself
Progress = Callable[[int], None]


@cache
def code_version() -> str:
    """Hash of kg's own source: a cache written by other code is never reused."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in [*sorted(root.glob("*.py")), root / "data" / "ontology.ttl",
                 *sorted((root / "shapes").glob("*.ttl"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------ cache


class Cache:
    """Records by dossier hash, and rendered parts by (hash, index view, formats, base)."""

    def __init__(self, path: Path | None):
        self.path = path
        if path is None:
            self.db = sqlite3.connect(":memory:")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # (check_same_thread off: a build hands the connection to a thread to close it)
            self.db = sqlite3.connect(path, timeout=60, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS record (sha TEXT, version TEXT, name TEXT, data BLOB,"
            " light BLOB, PRIMARY KEY (sha, version, name));"
            "CREATE TABLE IF NOT EXISTS part (sha TEXT, sig TEXT, data BLOB,"
            " PRIMARY KEY (sha, sig));"
            "DROP TABLE IF EXISTS sig;"  # kg 0.x before the signatures kept their dependencies
            "CREATE TABLE IF NOT EXISTS signature (ctx TEXT, sha TEXT, name TEXT, sig TEXT,"
            " deps TEXT, PRIMARY KEY (ctx, sha, name));"
            "CREATE TABLE IF NOT EXISTS file (path TEXT PRIMARY KEY, stat TEXT, sha TEXT);"
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);")
        self.version = code_version()

    def _columns(self, column: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        """One column of this version's records for many (sha, name) at once: a query per few
        hundred, by hash (which the primary key leads with)."""
        wanted = set(keys)
        shas = list(dict.fromkeys(sha for sha, _name in keys))
        found: dict[tuple[str, str], bytes] = {}
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            rows = self.db.execute(
                f"SELECT sha, name, {column} FROM record WHERE version=? AND sha IN"
                f" ({','.join('?' * len(chunk))})", [self.version, *chunk])  # noqa: S608
            found.update(((sha, name), data) for sha, name, data in rows
                         if (sha, name) in wanted)
        return found

    def records_of(self, keys: Sequence[tuple[str, str]]) -> list[Record | None]:
        """The record of each (sha, name) (None: not extracted by this kg version)."""
        found = self._columns("data", keys)
        return [pickle.loads(data) if (data := found.get(key)) is not None else None
                for key in keys]

    def lights(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Light]:
        """What the main process needs of the records (see :func:`light`) of many (sha, name)."""
        return {key: pickle.loads(data) for key, data in self._columns("light", keys).items()}

    def file_shas(self) -> dict[str, tuple[str, str]]:
        """Content hashes taken earlier: path -> (its stat then, its hash)."""
        return {path: (stat, sha) for path, stat, sha in
                self.db.execute("SELECT path, stat, sha FROM file")}

    def records(self) -> set[tuple[str, str]]:
        """The (sha, file name) of every record this kg version extracted."""
        return set(self.db.execute("SELECT sha, name FROM record WHERE version=?",
                                   (self.version,)))

    def put_files(self, rows: Iterable[tuple[str, str, str]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO file VALUES (?, ?, ?)", rows)

    def put_records(self, rows: Iterable[tuple[str, str, bytes, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?, ?)",
                                ((sha, self.version, name, data, light)
                                 for sha, name, data, light in rows))

    def shape_reads(self) -> tuple[frozenset[str] | None, frozenset[str] | None, Any]:
        """:func:`corpus_reads`, the per-dossier SPARQL constraints' predicates (see
        :meth:`kg.shacl.Engine.sparql_reads`) and the corpus rules' reaches (see
        :meth:`kg.shacl.Engine.reaches`), kept in the cache: deriving them parses the shapes'
        SPARQL (rdflib's parser), which would otherwise cost a rebuild of one dossier a good
        part of its time. The key is this kg version, whose hash covers the shapes."""
        from .shacl import engine

        key = f"shape-reads:{self.version}"
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is not None:
            return pickle.loads(row[0])
        reads = corpus_reads(), engine("dossier").sparql_reads(), engine("corpus").reaches()
        with self.db:
            self.db.execute("DELETE FROM meta WHERE key LIKE '%reads:%'")
            self.db.execute("INSERT INTO meta VALUES (?, ?)", (key, pickle.dumps(reads)))
        return reads

    def has_part(self, sha: str, sig: str) -> bool:
        return self.db.execute("SELECT 1 FROM part WHERE sha=? AND sig=?",
                               (sha, sig)).fetchone() is not None

    def part(self, sha: str, sig: str) -> Part | None:
        row = self.db.execute("SELECT data FROM part WHERE sha=? AND sig=?", (sha, sig)).fetchone()
        return _unpack(row[0]) if row else None

    def put_parts(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO part VALUES (?, ?, ?)", rows)

    def signatures(self, ctx: str) -> tuple[dict[tuple[str, str], tuple[str, str]],
                                            Index | None]:
        """The part signatures (and what each depends on in the index) that the last build
        computed in context ``ctx``, and that build's index."""
        rows = self.db.execute("SELECT sha, name, sig, deps FROM signature WHERE ctx=?", (ctx,))
        known = {(sha, name): (sig, deps) for sha, name, sig, deps in rows}
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (f"index:{ctx}",)).fetchone()
        return known, (pickle.loads(row[0]) if row is not None and known else None)

    def put_signatures(self, ctx: str, rows: Iterable[tuple[str, str, str, str]],
                       gone: Iterable[tuple[str, str]], index: bytes) -> None:
        """Make the signatures of context ``ctx`` those of this build, given the ``rows`` (sha,
        name, signature, deps) new or changed since the last build's and the (sha, name) of
        those ``gone``, and keep the index they were computed with (pickled) in the same
        transaction: they only make sense together. Other contexts' rows are dropped."""
        with self.db:
            self.db.execute("DELETE FROM signature WHERE ctx != ?", (ctx,))
            self.db.executemany("DELETE FROM signature WHERE ctx=? AND sha=? AND name=?",
                                ((ctx, sha, name) for sha, name in gone))
            self.db.executemany("INSERT OR REPLACE INTO signature VALUES (?, ?, ?, ?, ?)",
                                ((ctx, sha, name, sig, deps) for sha, name, sig, deps in rows))
            self.db.execute("DELETE FROM meta WHERE key LIKE 'index:%'")
            self.db.execute("INSERT INTO meta VALUES (?, ?)",
                            (f"index:{ctx}", index))

    def prune(self, done: Sequence[Done], paths: Sequence[Path]) -> None:
        """Forget what the build that made ``done`` did not use (records of other kg versions,
        parts of earlier edits, files no longer there), once that is a third of the cache or
        more: the cache stays near the size of one build instead of growing with every edit."""
        slack = len(done) // 2 + 100
        count = {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
                 for t in ("record", "part", "file")}
        if max(count["record"], count["part"]) <= len(done) + slack and \
                count["file"] <= len(paths) + slack:
            return
        with self.db:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS used (a TEXT, b TEXT,"
                            " PRIMARY KEY (a, b))")
            self.db.execute("DELETE FROM used")
            self.db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)",
                                ((d.sha, os.path.basename(d.file)) for d in done))
            self.db.execute("DELETE FROM record WHERE version != ? OR NOT EXISTS (SELECT 1 FROM"
                            " used WHERE a = record.sha AND b = record.name)", (self.version,))
            self.db.execute("DELETE FROM used")
            self.db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)",
                                ((d.sha, d.sig) for d in done))
            self.db.execute("DELETE FROM part WHERE NOT EXISTS (SELECT 1 FROM used"
                            " WHERE a = part.sha AND b = part.sig)")
            self.db.execute("DELETE FROM used")
            self.db.executemany("INSERT OR IGNORE INTO used VALUES (?, '')",
                                ((os.path.abspath(p),) for p in paths))
            self.db.execute("DELETE FROM file WHERE NOT EXISTS (SELECT 1 FROM used"
                            " WHERE a = file.path)")
            self.db.execute("DELETE FROM used")

    def close(self) -> None:
        self.db.close()


# ------------------------------------------------------------------ phase A: read + extract


def _hash_one(path: str) -> tuple[str, Problem | None]:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest(), None
    except OSError as exc:
        return "", Problem("error", path, None, f"cannot read: {exc.strerror}")


Light = tuple[str, str, int, list[Problem], Contribution, bytes]


def light(rec: Record) -> Light:
    """What the main process needs of a record: its file, title, title line and problems, its
    :func:`~kg.mapping.contribution` to the corpus index and its :func:`links` (pickled)."""
    return (rec.file, rec.title, rec.title_line, rec.problems, contribution(rec),
            pickle.dumps(links(rec), protocol=5))


def _extract_batch(items: list[tuple[str, str]]
                   ) -> list[tuple[str, bytes | None, bytes | None, Problem | None]]:
    """Worker: read and extract each (path, sha); return pickled records (full, light) or
    errors. The worker reads the file itself, so the main process never holds the corpus."""
    out: list[tuple[str, bytes | None, bytes | None, Problem | None]] = []
    for path, sha in items:
        name = Path(path).name
        try:
            dossier = parse(decode(Path(path).read_bytes(), name), name, sha)
        except DossierError as exc:
            out.append((path, None, None,
                        Problem("error", exc.file or name, exc.line, exc.message)))
            continue
        except OSError as exc:
            out.append((path, None, None, Problem("error", path, None,
                                                  f"cannot read: {exc.strerror}")))
            continue
        rec = extract(dossier)
        out.append((path, pickle.dumps(rec, protocol=5), pickle.dumps(light(rec), protocol=5),
                    None))
    return out


# ------------------------------------------------------------------ phase B: map + render


_VIEW_FIELDS = [(f, kind, cls) for f, (_node, _prop, kind, cls) in FIELDS.items()
                if kind in {"mission", "pad"} or (kind in {"entity", "concept", "regime"} and cls)]
_VIEW_KINDS = {f: (kind, cls) for f, kind, cls in _VIEW_FIELDS}
Links = tuple[str | None, tuple[tuple[str, tuple[Any, ...]], ...]]


def links(rec: Record) -> Links:
    """The names a record links to, as its index view reads them: small enough to keep in memory
    for every dossier of a large corpus, unlike the records."""
    return rec.get("launch_site"), tuple(
        (f, tuple(values)) for f, _kind, _cls in _VIEW_FIELDS if (values := rec.values(f)))


def index_view(linked: Links, index: Index, deps: set[str]) -> list[tuple[str, ...]]:
    """What a record's graph depends on in the corpus index (names it links, their labels); the
    index entries those answers came from are added to ``deps``, named as
    :meth:`~kg.mapping.Index.changes` names what changed between two indexes."""
    site, fields = linked
    kinds = _VIEW_KINDS
    view: list[tuple[str, ...]] = []
    for fname, values in fields:
        kind, cls = kinds[fname]
        for value in values:
            if kind == "mission":
                # Which mission: is the name a title, whose alias is it; then that one's label.
                name = name_key(value)
                key = index.resolve(name)
                view.append(("m", value, key, index.mission_label(key)))
                deps.update(("t:" + name, "a:" + name, "t:" + key, "f:Mission|" + key))
            elif kind == "pad":
                skey = entity_key("LaunchSite", site) if site else ""
                key = f"{skey}|{pad_key(value)}"
                view.append(("pad", key, index.label("LaunchPad", key, value)))
                deps.add("f:LaunchPad|" + key)
            else:
                name = value[0] if kind == "regime" else value
                key = entity_key(cls, name)
                view.append((cls, key, index.label(cls, key, name)))
                deps.add(f"f:{cls}|{key}")
    return view


def signature(sha: str, file: str, linked: Links, index: Index, base: str,
              formats: Sequence[str]) -> tuple[str, str]:
    """Cache key of a rendered part (from the record, its index view, the base and the formats)
    and the index entries it depends on (newline-separated)."""
    deps: set[str] = set()
    view = sorted(index_view(linked, index, deps))
    text = repr((code_version(), sha, file, base, tuple(formats), view))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), "\n".join(sorted(deps))


_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class Job:
    """What a phase-B worker needs besides its dossiers. The index travels as a file: workers
    are forked before the corpus is read, while this process is still small, and load it once."""

    token: str  # identifies this build's index
    index_path: Path | None  # None: the index is in this process already (no workers)
    base: str
    formats: tuple[str, ...]
    validate: bool
    reads: frozenset[str] | None = None  # the corpus rules' predicates (N-Triples), or any
    sparql: frozenset[str] | None = None  # the per-dossier SPARQL constraints' ones, or any


def _state(job: Job) -> dict[str, Any]:
    """A worker's index and layout for ``job``'s build, loaded once.

    The index is then frozen out of the garbage collector's sight: it lives as long as the
    worker, and every full collection would otherwise walk all of it again. It is what made a
    100k dossier cost nearly twice a 10k one: its 400,000 objects were walked some 500 times,
    a third of the workers' time.
    """
    if _STATE.get("token") != job.token:
        assert job.index_path is not None
        _STATE.clear()
        gc.unfreeze()  # a previous build's index (a worker outlives one build only in tests)
        index = pickle.loads(job.index_path.read_bytes())
        _STATE.update(token=job.token, index=index, layout=Layout(job.base))
        gc.freeze()
    return _STATE


def _start(pool: ProcessPoolExecutor | None) -> None:
    """Fork the workers now (the pool forks them on its first task)."""
    if pool is not None:
        pool.submit(int).result()


# ------------------------------------------------------------------ the build


@dataclass(slots=True)
class Done:
    """A dossier that made it into the graph: enough to report on it, without its record."""

    file: str
    title: str
    sha: str
    graph: str
    links: bytes | None = None  # pickled Links, until the part's signature is computed
    quads: int = 0
    sig: str = ""  # the signature of its part
    corpus: str = ""  # digest of its triples the corpus rules read


@dataclass
class StreamResult:
    """What a streaming build did: per-dossier outcomes, problems, and what was redone."""

    base: str
    files: list[str]
    done: list[Done] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    quads: int = 0
    triples: int = 0
    extracted: int = 0
    rendered: int = 0
    written: list[Path] = field(default_factory=list)
    nquads: Path | None = None
    types: dict[str, int] = field(default_factory=dict)
    checks: dict[str, tuple[list[Any], list[Any]]] = field(default_factory=dict)  # graph ->
    # its per-dossier SHACL results, and the same located in the dossier; graphs with results
    corpus_reads: frozenset[str] | None = None  # what the corpus rules read (N-Triples IRIs)
    reaches: Any = None  # and how far from their focus nodes (kg.shacl.Engine.reaches)
    copied: int = 0  # parts copied from the previous build's files
    signed: int = 0  # part signatures computed (the others were kept from the last build)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    jobs: int = 1  # the worker processes the build ran (the store's checks take as many threads)
    _pending: Callable[..., None] | None = field(default=None, repr=False)  # see complete()
    _scratch: Any = field(default=None, repr=False)  # a build without cache: its scratch dir
    _cache_path: Path | None = field(default=None, repr=False)

    def complete(self) -> None:
        """Wait until the output files are in place (``stream_build(finish_later=True)``
        returns before); what failed writing them is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending()

    def graph_nquads(self, done: Sequence[Done]) -> dict[str, bytes] | None:
        """The N-Quads of these dossiers' graphs, from the build's cache (None when one of
        them is not there), read before :meth:`release_cache`."""
        pending = self._pending
        if pending is not None and pending.cache is not None and pending.closing is None:
            return _graph_nquads(pending.cache, done)
        db = Cache(self._cache_path)
        try:
            return _graph_nquads(db, done)
        finally:
            db.close()

    def release_cache(self) -> None:
        """Let the build's connection to its cache go, closing it on a thread (with
        ``stream_build(finish_later=True)``; :meth:`complete` waits for it)."""
        if self._pending is not None:
            self._pending.release_cache()

    def close(self) -> None:
        """Complete the files and remove the scratch directory of a build without cache."""
        try:
            self.complete()
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None

    @property
    def shacl(self) -> list[Any]:
        """Per-dossier SHACL results."""
        return [r for results, _located in self.checks.values() for r in results]

    @property
    def findings(self) -> list[Any]:
        """The same results, located in their dossiers (in the same order)."""
        return [f for _results, located in self.checks.values() for f in located]

    def corpus_key(self) -> str:
        """Digest of every graph's triples that the corpus rules read: while it holds, their
        results hold."""
        text = repr((code_version(), [(d.graph, d.corpus) for d in self.done]))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        """Counts for the build summary, as :meth:`kg.build.BuildResult.summary` gives them."""
        from .build import summarize

        return summarize(len(self.done), self.triples, self.quads, len(self.done), self.types,
                         self.problems)

    def report(self) -> dict[str, Any]:
        """The build report: summary, and per dossier its status, quads and problems."""
        from .build import make_report

        rows = [(d.file, d.title, d.graph, d.quads) for d in self.done]
        return make_report(self.summary(), rows, self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def _pool(jobs: int) -> ProcessPoolExecutor | None:
    if jobs <= 1:
        return None
    import multiprocessing as mp

    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)


#: A worker's garbage-collector thresholds. Mapping a dossier allocates thousands of
#: short-lived containers; at Python's default (700) a collection ran every few triples and,
#: with the survivors promoted and walked again, took a tenth of a worker's time (2 s of 22 s
#: at 10k dossiers; 0.4 s with these).
WORKER_GC_THRESHOLDS = (20_000, 20, 20)


def _worker_init() -> None:
    """A worker starts: what it inherited from the main process (modules, mostly) is put out
    of the collector's sight, and the collector runs less often."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def stream_build(paths: Sequence[Path], out_dir: Path, formats: Sequence[str], base: str,
                 jobs: int | None = None, use_cache: bool = True,
                 progress: Progress | None = None, validate: bool = False,
                 finish_later: bool = False) -> StreamResult:
    """Build ``paths`` into files in ``out_dir``; see the module docstring.

    With ``finish_later``, it returns once every part is handed to the files' threads, which
    go on copying and syncing: the files are in place after :meth:`StreamResult.complete`
    (which :meth:`StreamResult.close` calls too). A build without the cache keeps its N-Quads
    for the store (when they are not one of the ``formats``) in a scratch directory that
    :meth:`StreamResult.close` removes.
    """
    with fewer_collections():
        return _stream_build(paths, out_dir, formats, base, jobs, use_cache, progress, validate,
                             finish_later)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run this process's garbage collector at the workers' thresholds for a while, then as it
    was. The main process keeps an object or more for every dossier (its light record, its
    entry in the corpus index, its place in the files): at Python's default, every 700 of them
    started a collection walking the ones before (0.07 s of a 1.8 s one-edit rebuild at 10k)."""
    old = gc.get_threshold()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _stream_build(paths: Sequence[Path], out_dir: Path, formats: Sequence[str], base: str,
                  jobs: int | None, use_cache: bool, progress: Progress | None,
                  validate: bool, finish_later: bool) -> StreamResult:
    import tempfile

    jobs = jobs or os.cpu_count() or 1
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = None if use_cache else tempfile.TemporaryDirectory(prefix=".kg-cache-", dir=out_dir)
    db_path = (out_dir / ".kg-cache" / "cache.sqlite") if tmp is None else \
        Path(tmp.name) / "cache.sqlite"
    cache_db = Cache(db_path)
    paths = list(dict.fromkeys(paths))  # a file named twice is built once
    result = StreamResult(base, [str(p) for p in paths], jobs=jobs, _cache_path=db_path)
    # One pool for both phases, forked before the corpus is read: each worker starts as small
    # as this process is now, however large the corpus (a later fork would copy, page by page
    # as the worker allocates, everything the corpus index left behind here).
    pool = _pool(jobs)
    finished = False
    try:
        _start(pool)
        started = time.perf_counter()
        index = Index()
        _phase_a(paths, cache_db, pool, jobs, result, index, progress)
        result.problems.extend(index.finalize().problems)
        index = index.frozen()
        result.timings["extract"] = time.perf_counter() - started
        result.done.sort(key=lambda d: d.graph)  # files list graphs in IRI order
        rendered = list(dict.fromkeys([*formats, "nq"]))  # N-Quads always: the store loads it
        targets = {f: out_dir / f"kg.{get_format(f).extension}" for f in formats}
        targets.setdefault("nq", db_path.parent / "build.nq")
        result.nquads = targets["nq"]
        key = hashlib.sha256(repr((code_version(), base, rendered, validate,
                                   sorted((f, os.path.realpath(t)) for f, t in targets.items()))
                                  ).encode()).hexdigest()
        manifest_path = db_path.parent / "manifest.pickle"
        manifest = Manifest.load(manifest_path, key) if tmp is None else None
        parts, previous = _phase_b(db_path, cache_db, pool, index, base, rendered, jobs, result,
                                   progress, validate, manifest, targets)
        del index  # the workers have it (or, mapping here, the worker state does)
        order = [d.graph for d in result.done]
        started = time.perf_counter()
        try:
            writing = start_writing(parts, order, targets, Layout(base), previous)
        except BaseException:
            if previous is not None:
                _close_later(list(previous.fds.values()))
            raise
        finish = _Finish(writing, previous, result, key, targets,
                         manifest_path if tmp is None else None)
        try:
            if pool is not None:  # done with the workers: their memory is free for what follows
                pool.shutdown()
                pool = None
            result.timings["map+write"] = time.perf_counter() - started
            result.written = [p for f, p in targets.items() if f in formats]
            result.triples = writing.assembler.triples
            result.types = writing.assembler.types
            if tmp is None:
                cache_db.prune(result.done, paths)
        except BaseException:
            finish(complete=False)  # the files given up; the previous ones stay
            raise
        result._pending = finish
        finish.start()  # the files are finished on a thread once they are synced
        finished = True
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if finished:
            finish.cache = cache_db  # open still: see StreamResult.release_cache
        else:
            cache_db.close()
        if tmp is not None and not finished:
            tmp.cleanup()
    result._scratch = tmp
    if not finish_later:
        result.complete()
    return result


@dataclass
class _Finish:
    """The end of a build's writing (see :meth:`StreamResult.complete`): the files' threads
    done, the files in place, the previous build's files closed, and the manifest saved.

    Once every part is handed over, :meth:`start` does that on a thread of its own as soon as
    the files are synced, while the build goes on with the store and the checks; the build
    then only waits for it (:meth:`__call__`). The files are still renamed into place only
    when every one of them was written, so a failed copy leaves the previous files whole."""

    writing: Writing
    previous: Previous | None
    result: StreamResult
    key: str
    targets: dict[str, Path]
    manifest_path: Path | None  # None: no cache, no manifest
    cache: Cache | None = None  # the build's connection to its cache, until released
    closing: threading.Thread | None = None  # closing it
    finishing: threading.Thread | None = None  # the files' end, see start()
    failed: BaseException | None = None  # what went wrong there, raised by __call__

    def start(self) -> None:
        self.finishing = threading.Thread(target=self._finish, name="kg-finish-files")
        self.finishing.start()

    def _finish(self) -> None:
        try:
            try:
                self.writing.complete()
            finally:
                self._close_previous()  # freeing their pages goes on meanwhile
            if self.manifest_path is not None:
                _manifest(self.key, self.targets, self.result, self.writing.assembler).save(
                    self.manifest_path)
        except BaseException as exc:  # noqa: BLE001 - raised again in the build's thread
            self.failed = exc

    def _close_previous(self) -> None:
        if self.previous is not None:
            _close_later(list(self.previous.fds.values()))

    def release_cache(self) -> None:
        # Closing moves SQLite's write-ahead log into the database and syncs it, and the system
        # makes that sync wait for the output files' (0.35 s of a one-edit rebuild at 10k): on
        # a thread, while the build goes on.
        if self.cache is not None and self.closing is None:
            self.closing = threading.Thread(target=self.cache.close, name="kg-close-cache")
            self.closing.start()

    def __call__(self, complete: bool = True) -> None:
        """Wait for the files (``complete``, after :meth:`start`), or give them up before it."""
        started = time.perf_counter()
        self.release_cache()
        try:
            if complete:
                assert self.finishing is not None, "start() first"
                self.finishing.join()
                if self.failed is not None:
                    raise self.failed
            else:
                assert self.finishing is None, "the files are being finished already"
                try:
                    self.writing.abandon()
                finally:
                    self._close_previous()
        finally:
            if self.closing is not None:
                self.closing.join()
            timings = self.result.timings
            timings["map+write"] = timings.get("map+write", 0.0) + time.perf_counter() - started


def _close_later(fds: list[int]) -> None:
    """Close the previous build's files, replaced by now: the system frees their pages and
    blocks on the last close, which takes a while for big files; this goes on meanwhile."""
    def close() -> None:
        for fd in fds:
            os.close(fd)

    threading.Thread(target=close, name="kg-close-previous").start()


def _phase_a(paths: Sequence[Path], cache_db: Cache, pool: ProcessPoolExecutor | None, jobs: int,
             result: StreamResult, index: Index, progress: Progress | None) -> None:
    """Read and extract every dossier (cached by content hash) and feed the index, in order."""
    entries: list[tuple[str, str, str, Problem | None]] = []
    todo: list[tuple[str, str]] = []
    hashed: list[tuple[str, str, str]] = []
    known, extracted = cache_db.file_shas(), cache_db.records()
    for path in paths:
        sha, problem = _content_hash(str(path), known, hashed)
        entries.append((str(path), path.name, sha, problem))
        if problem is None and (sha, path.name) not in extracted:
            todo.append((str(path), sha))
    del known, extracted
    cache_db.put_files(hashed)
    shas = dict(todo)
    batches = list(_batches(todo, BATCH))
    results = windowed(pool, _extract_batch, batches, 4 * jobs)
    failed: dict[str, Problem] = {}
    seen: dict[str, str] = {}
    fresh: dict[str, bytes] = {}  # path -> its light record, pickled, as extracted just now
    lights: dict[tuple[str, str], Light] = {}  # cached records' light parts, read ahead
    filer = _Filer(cache_db.path, Cache.put_records) if todo else None
    try:
        for k, (path, name, sha, problem) in enumerate(entries):
            # Pull finished batches (in order) until this dossier is extracted or failed.
            while path in shas and path not in fresh and path not in failed:
                batch = next(results)
                rows = []
                for bpath, data, lite, bproblem in batch:
                    if bproblem is not None:
                        failed[bpath] = bproblem
                    else:
                        assert lite is not None
                        fresh[bpath] = lite
                        rows.append((shas[bpath], os.path.basename(bpath), data, lite))
                assert filer is not None
                filer.put(rows)
                result.extracted += len(batch)
                if progress:
                    progress(len(batch))
            problem = problem or failed.pop(path, None)
            if problem is not None:
                fresh.pop(path, None)
                result.problems.append(problem)
                continue
            if path in shas:
                found = pickle.loads(fresh.pop(path))
            elif (found := lights.get((sha, name))) is None:
                lights = cache_db.lights([(s, n) for p, n, s, e in entries[k:k + 2000]
                                          if e is None and p not in shas])
                found = lights[sha, name]
            _admit(result, index, seen, found, sha)
    finally:
        if filer is not None:
            filer.close()  # the records are all in before the workers read them


def _admit(result: StreamResult, index: Index, seen: dict[str, str], found: Light,
           sha: str) -> None:
    """Take one extracted dossier into the build (unless its title is taken already)."""
    from .build import claim

    file, title, line, problems, names, linked = found
    if (duplicate := claim(names[0], title, file, line, seen)) is not None:
        result.problems.append(duplicate)
        return
    index.take(names)
    result.problems.extend(problems)
    result.done.append(Done(file, title, sha, dossier_iri(result.base, title, names[0]),
                            links=linked))


def _content_hash(path: str, known: dict[str, tuple[str, str]],
                  hashed: list[tuple[str, str, str]]) -> tuple[str, Problem | None]:
    """A dossier's SHA-256, read again only when its size, times or inode changed since it was
    last hashed (as git's index does; new hashes are added to ``hashed``), and never trusted
    for a file changed in the last seconds, which a later change could leave with the same
    times."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return "", Problem("error", path, None, f"cannot read: {exc.strerror}")
    stat = ":".join(map(str, identity(st)))
    key = os.path.abspath(path)  # the same file, however the folder was named
    if (seen := known.get(key)) is not None and seen[0] == stat:
        return seen[1], None
    sha, problem = _hash_one(path)
    if problem is None and max(st.st_mtime_ns, st.st_ctime_ns) < time.time_ns() - 2 * 10**9:
        hashed.append((key, stat, sha))
    return sha, problem


_WORKER_DB: dict[str, Cache] = {}


def _worker_cache(db_path: Path) -> Cache:
    if str(db_path) not in _WORKER_DB:
        _WORKER_DB[str(db_path)] = Cache(db_path)
    return _WORKER_DB[str(db_path)]


def _render_from_cache(args: tuple[Path, Job, list[tuple[str, str]]]
                       ) -> list[tuple[bytes, bytes]]:
    """Worker: load each (sha, name) record from the cache, map, render and validate it."""
    db_path, job, items = args
    return _render(_worker_cache(db_path), job, items)


def _render(db: Cache, job: Job, items: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Each dossier's part, pickled: as is (for the files) and compressed (for the cache)."""
    state = _state(job)
    index, layout, base, formats = state["index"], state["layout"], job.base, job.formats
    parts: list[Part] = []
    graphs: dict[str, list[tuple[str, Any]]] = {}
    for rec in db.records_of(items):
        assert rec is not None
        graph = dossier_iri(base, rec.title)
        graphs[graph] = keyed(map_triples(rec, index, base))
        parts.append(render(graph, graphs[graph], formats, layout))
        if job.validate:
            parts[-1].corpus = corpus_digest((line for line, _q in graphs[graph]), job.reads)
    if job.validate:
        _validate_batch(parts, graphs, job.sparql)
    # Parts are cached for incremental builds, compressed in the workers (a fifth of the disk).
    # The main process takes each part as is too: decompressing would take it as long as
    # compressing takes the worker, and its time is taken from the workers'.
    return [(raw, zlib.compress(raw, 1))
            for raw in (pickle.dumps(part, protocol=5) for part in parts)]


def corpus_reads() -> frozenset[str] | None:
    """The predicates the corpus rules read, as N-Triples IRIs; None: any triple."""
    from .shacl import engine

    reads = engine("corpus").reads()
    return None if reads is None else frozenset(f"<{p}>" for p in reads)


def corpus_digest(lines: Iterable[str], reads: frozenset[str] | None) -> str:
    """Digest of a graph's N-Triples lines (sorted) whose predicate is in ``reads`` (None:
    all), the predicates the corpus rules read."""
    digest = hashlib.sha256()
    for line in lines:
        if reads is None or line.split(" ", 2)[1] in reads:
            digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()[:32]


def _validate_batch(parts: list[Part], graphs: dict[str, list[tuple[str, Any]]],
                    wanted: frozenset[str] | None) -> None:
    """Run the per-dossier shapes on a batch of dossiers and file each result with its dossier.

    Core constraints run per graph; the SHACL-SPARQL ones once over the batch's graphs in one
    pyoxigraph store (their joins stay within one dossier's nodes, so this gives the same
    results as graph by graph, at a fraction of the cost). A result is located (dossier, file,
    lines) from its own dossier's graph. The batch's store holds only the triples whose
    predicate is in ``wanted`` (None: all of them), the predicates the SPARQL constraints read.
    The corpus rules run later, once, on the build's store.
    """
    import pyoxigraph as ox

    from .shacl import Data, engine
    from .validate import Provenance

    dossier_shapes = engine("dossier")
    by_graph = {p.graph: p for p in parts}
    found: dict[str, list[Any]] = {}
    kept: list[str] = []  # the triples the SPARQL constraints read (a tenth), as N-Quads
    for part in parts:
        data = Data.from_lines(graphs[part.graph], part.graph, wanted)
        kept.extend(data.kept)
        results = dossier_shapes.validate(data, sparql=False)
        if results:
            found[part.graph] = results
    # Parsed in pyoxigraph, no Python object per quad; leniently: the lines are pyoxigraph's own
    # output from terms it checked.
    store = ox.Store()
    store.load("".join(kept).encode(), format=ox.RdfFormat.N_QUADS, lenient=True)
    sparql = dossier_shapes.validate_store(store)
    if sparql:  # which dossier's graph a SPARQL result came from
        batch = Provenance.from_lines({g: (line for line, _q in quads)
                                       for g, quads in graphs.items()})
        for r in sparql:
            graph = batch.finding(r).dossier or parts[0].graph
            found.setdefault(graph, []).append(r)
    for graph, results in found.items():
        prov = Provenance.from_lines({graph: [line for line, _q in graphs[graph]]})
        part = by_graph[graph]
        for r in results:
            part.results.append(r)
            part.findings.append(prov.finding(r))


def windowed(pool: Executor | None, fn: Callable[[Any], Any],
             items: Iterable[Any], window: int) -> Iterator[Any]:
    """Like ``pool.map`` in order, but with at most ``window`` tasks in flight, so results
    never pile up in memory faster than they are consumed."""
    if pool is None:
        yield from map(fn, items)
        return
    from collections import deque

    queue: deque[Any] = deque()
    for item in items:
        queue.append(pool.submit(fn, item))
        if len(queue) >= window:
            yield queue.popleft().result()
    while queue:
        yield queue.popleft().result()


def _phase_b(db_path: Path, cache_db: Cache, pool: ProcessPoolExecutor | None, index: Index,
             base: str, formats: Sequence[str], jobs: int, result: StreamResult,
             progress: Progress | None, validate: bool, manifest: Manifest | None,
             targets: dict[str, Path]) -> tuple[Iterator[Part | Reuse | Drop], Previous | None]:
    """Each dossier's part in order: copied from the previous build's files when unchanged
    (and those files are still as it left them), from the cache, or mapped and rendered now."""
    flags = [*formats, f"validate={validate}"]
    # A signature depends on the dossier and on the index entries its links resolve through:
    # an unchanged dossier none of whose entries changed since the last build keeps its
    # signature (after an edit, all but a few), the others are computed again.
    ctx = hashlib.sha256(repr((code_version(), base, flags)).encode()).hexdigest()
    known, last_index = cache_db.signatures(ctx)
    changed = index.changes(last_index) if last_index is not None else None
    del last_index
    rows: list[tuple[str, str, str, str]] = []  # signatures new or changed since the last
    fresh = 0
    for done in result.done:
        assert done.links is not None
        name = os.path.basename(done.file)
        old = known.pop((done.sha, name), None)
        if old is not None and changed is not None and (
                not changed or changed.isdisjoint(old[1].split("\n"))):
            sig, deps = old
        else:
            sig, deps = signature(done.sha, done.file, pickle.loads(done.links), index, base,
                                  flags)
            fresh += 1
            if (sig, deps) != old:
                rows.append((done.sha, name, sig, deps))
        done.links = None  # not needed any more
        done.sig = sig
    result.signed = fresh
    pickled = None  # the index, pickled once: kept with the signatures, read by the workers
    if rows or known or changed:  # (what is left in ``known``: dossiers gone since)
        pickled = pickle.dumps(index, protocol=5)
        cache_db.put_signatures(ctx, rows, known, pickled)
    del known, rows
    reuse, drops, previous = _splice_plan(result.done, manifest, cache_db, targets)
    todo = [i for i, d in enumerate(result.done)
            if i not in reuse and not cache_db.has_part(d.sha, d.sig)]
    result.rendered = len(todo)
    result.copied = len(reuse)
    reads, sparql, result.reaches = cache_db.shape_reads() if validate else (None, None, None)
    result.corpus_reads = reads
    token = secrets.token_hex(8)  # this build's index, as the workers hold it
    job = Job(token, None, base, tuple(formats), validate, reads, sparql)
    if len(todo) <= LOCAL_MAX:  # a few edits: quicker here than handing the index to workers
        pool = None
    if pool is None:
        _STATE.update(token=token, index=index, layout=Layout(base))
    elif todo:
        job = replace(job, index_path=db_path.parent / "index.pickle")
        job.index_path.write_bytes(pickled or pickle.dumps(index, protocol=5))
    return _parts(db_path, cache_db, pool, job, jobs, result, progress, todo, reuse, drops,
                  manifest), previous


def _splice_plan(done: list[Done], manifest: Manifest | None, cache_db: Cache,
                 targets: dict[str, Path]
                 ) -> tuple[dict[int, int], list[tuple[str, str]], Previous | None]:
    """Which parts to copy from the previous build's files (new place -> old place), which of
    its parts to take out (sha, signature), and those files, opened; or nothing to copy."""
    if manifest is None:
        return {}, [], None
    old = {g: j for j, g in enumerate(manifest.graphs)}
    reuse: dict[int, int] = {}
    for i, d in enumerate(done):
        j = old.get(d.graph)
        if j is not None and manifest.sigs[j] == d.sig and manifest.shas[j] == d.sha:
            reuse[i] = j
    kept = set(reuse.values())
    drops = [(manifest.shas[j], manifest.sigs[j]) for j in range(len(manifest.graphs))
             if j not in kept]
    # Copying pays while most parts stay; a taken-out part must be in the cache to subtract it.
    if 2 * len(reuse) < len(done) or not all(cache_db.has_part(*k) for k in drops):
        return {}, [], None
    previous = manifest.open(targets)
    return (reuse, drops, previous) if previous is not None else ({}, [], None)


def _parts(db_path: Path, cache_db: Cache, pool: ProcessPoolExecutor | None, job: Job, jobs: int,
           result: StreamResult, progress: Progress | None, todo: list[int],
           reuse: dict[int, int], drops: list[tuple[str, str]], manifest: Manifest | None
           ) -> Iterator[Part | Reuse | Drop]:
    for sha, sig in drops:
        old = cache_db.part(sha, sig)
        assert old is not None
        yield Drop(old)
    todo_set = set(todo)
    batches = list(_batches(todo, BATCH))
    payload = ((db_path, job, [(result.done[i].sha, os.path.basename(result.done[i].file)) for i in b])
               for b in batches)
    # In this process, with this process's connection to the cache.
    here: Callable[[tuple[Path, Job, list[tuple[str, str]]]], list[tuple[bytes, bytes]]] = \
        lambda args: _render(cache_db, args[1], args[2])  # noqa: E731
    fresh = windowed(pool, _render_from_cache if pool is not None else here, payload,
                      2 * jobs + 1)
    pending = iter(batches)
    ready: dict[int, bytes] = {}  # parts pickled, not compressed
    filer = _Filer(db_path) if todo else None
    try:
        for i, done in enumerate(result.done):
            if i in reuse:
                assert manifest is not None
                j = reuse[i]
                done.quads, done.corpus = manifest.quads[j], manifest.corpus[j]
                if (checks := manifest.checks.get(done.graph)) is not None:
                    result.checks[done.graph] = checks
                result.quads += done.quads
                yield Reuse(j)
                continue
            if i in todo_set:
                while i not in ready:
                    batch, datas = next(pending), next(fresh)
                    ready.update(zip(batch, (raw for raw, _packed in datas), strict=True))
                    filer.put([(result.done[j].sha, result.done[j].sig, packed)
                               for j, (_raw, packed) in zip(batch, datas, strict=True)])
                    if progress:
                        progress(len(batch))
                part = pickle.loads(ready.pop(i))
            else:
                cached = cache_db.part(done.sha, done.sig)
                assert cached is not None
                part = cached
            done.quads, done.corpus = part.quads, part.corpus
            if part.results:
                result.checks[done.graph] = (part.results, part.findings)
            result.quads += part.quads
            yield part
        if pool is not None:  # every part is in: the workers go before the files are finished
            pool.shutdown()
    finally:
        if filer is not None:
            filer.close()
        if job.index_path is not None:
            job.index_path.unlink(missing_ok=True)


class _Filer:
    """Files rows in the cache (with the :class:`Cache` method ``put``: records, parts) on a
    thread of its own, with its own connection: the build goes on while SQLite writes (and,
    every few megabytes, checkpoints and syncs)."""

    BACKLOG = 4  # batches queued at most before the caller waits

    def __init__(self, db_path: Path | None,
                 put: Callable[[Cache, list[Any]], None] = Cache.put_parts):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        assert db_path is not None
        self.db_path, self.method = db_path, put
        self.db: Cache | None = None  # opened on the thread: a connection stays on its thread
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="kg-cache")
        self.queued: deque[Any] = deque()

    def _put(self, rows: list[Any]) -> None:
        if self.db is None:
            self.db = Cache(self.db_path)
        self.method(self.db, rows)

    def put(self, rows: list[Any]) -> None:
        queued = self.queued
        while queued and (queued[0].done() or len(queued) >= self.BACKLOG):
            queued.popleft().result()  # raises what went wrong there
        queued.append(self.thread.submit(self._put, rows))

    def close(self) -> None:
        """Wait until every part is filed (raising what failed), and close."""
        try:
            while self.queued:
                self.queued.popleft().result()
        finally:
            if self.db is not None:
                self.thread.submit(self.db.close).result()
            self.thread.shutdown()


def _manifest(key: str, targets: dict[str, Path], result: StreamResult,
              assembler: Assembler) -> Manifest:
    from array import array

    return Manifest(
        key, {f: (os.path.realpath(p), identity(p.stat())) for f, p in targets.items()},
        [d.graph for d in result.done], [d.sha for d in result.done],
        [d.sig for d in result.done], array("q", (d.quads for d in result.done)),
        [d.corpus for d in result.done], result.checks,
        assembler.spans, assembler.tails,
        assembler.shared, assembler.own, dict(+assembler.own_types), assembler.tail_key,
        assembler.tail_triples, assembler.tail_types)


def _graph_nquads(db: Cache, done: Sequence[Done]) -> dict[str, bytes] | None:
    found: dict[str, bytes] = {}
    for d in done:
        part = db.part(d.sha, d.sig)
        if part is None or "nq" not in part.data:
            return None
        found[d.graph] = part.data["nq"]
    return found


def _unpack(data: bytes) -> Part:
    return pickle.loads(zlib.decompress(data))
