"""Writing output one dossier at a time, so memory stays flat however large the corpus.

Every file kg writes is assembled from per-dossier parts in dossier-graph order. A triple
about a node the dossier *owns* (its mission, spacecraft, launch, dossier record, source lines
and instruments, all minted from its title) is written with that dossier; statements about shared
nodes (rockets, sites, organisations, concepts, missions without a dossier) are repeated in
every named graph that mentions them, so the union formats collect them once and write them
last. The layout depends only on the data, never on batch sizes or worker counts: the same
input gives the same bytes.
"""

from __future__ import annotations

import errno
import json
import os
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .vocab import PATHS, PREFIXES, RDF_TYPE, resource_prefixes

UNION_FORMATS = ("ttl", "nt", "rdfxml", "jsonld", "jsonld-framed")
_NO_COPY_RANGE = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}  # read/write instead
_OX = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
       "rdfxml": ox.RdfFormat.RDF_XML, "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}


def prefixes(base: str) -> dict[str, str]:
    """The prefixes of Turtle, TriG and RDF/XML output."""
    return {**PREFIXES, **resource_prefixes(base)}


def owner_key(base: str, graph: str) -> str | None:
    """The dossier slug a named graph belongs to (``None`` for a graph that is not a dossier)."""
    head = base + PATHS["Dossier"] + "/"
    return graph[len(head):] if graph.startswith(head) and "#" not in graph else None


def _owned(base: str, key: str) -> tuple[frozenset[str], tuple[str, str]]:
    """The nodes minted for dossier ``key``: exact IRIs, and IRI prefixes."""
    exact = frozenset(base + PATHS[k] + "/" + key
                      for k in ("Mission", "Spacecraft", "Launch", "Dossier"))
    return exact, (base + PATHS["Dossier"] + "/" + key + "#",
                   base + PATHS["Instrument"] + "/" + key + ".")


def _key(t: ox.Triple | ox.Quad) -> tuple[str, str, str]:
    return (str(t.subject), str(t.predicate), str(t.object))


@dataclass
class Part:
    """One dossier's share of every output file, plus the shared triples it mentions."""

    graph: str
    data: dict[str, bytes]
    shared: list[str]  # N-Triples lines: cheap to pickle, hash and compare
    quads: int
    own: int = 0  # triples about nodes the dossier owns
    types: dict[str, int] = field(default_factory=dict)  # own nodes per class IRI
    results: list[Any] = field(default_factory=list)  # per-dossier SHACL results, if asked
    findings: list[Any] = field(default_factory=list)  # the results located in the dossier
    corpus: str = ""  # digest of the lines the corpus rules read, when validating


def _strip(text: bytes, header: bytes, footer: bytes = b"") -> bytes:
    if text.startswith(header):
        text = text[len(header):]
    if footer and text.endswith(footer):
        text = text[: -len(footer)]
    return text


class Layout:
    """Headers and footers of each format for one base IRI (computed once)."""

    def __init__(self, base: str):
        self.base = base
        self.prefixes = prefixes(base)
        self.header: dict[str, bytes] = {}
        self.footer: dict[str, bytes] = {}
        for fmt in ("ttl", "trig"):
            self.header[fmt] = ox.serialize([], format=_OX[fmt], prefixes=self.prefixes)
        empty = ox.serialize([], format=ox.RdfFormat.RDF_XML, prefixes=self.prefixes)
        cut = empty.index(b">\n", empty.index(b"<rdf:RDF")) + 2
        self.header["rdfxml"], self.footer["rdfxml"] = empty[:cut], empty[cut:]

    def serialize(self, fmt: str, items: Sequence[Any]) -> bytes:
        """Serialise a body without the file's header and footer."""
        if fmt in ("nt", "nq"):
            return ox.serialize(items, format=_OX[fmt])
        raw = ox.serialize(items, format=_OX[fmt], prefixes=self.prefixes)
        return _strip(raw, self.header[fmt], self.footer.get(fmt, b""))


def keyed(statements: Iterable[ox.Triple | ox.Quad]) -> list[tuple[str, ox.Triple]]:
    """One graph's distinct triples (quads: their triples) with their N-Triples lines
    (``<s> <p> o .``), sorted by line.

    The lines come from one call of pyoxigraph's N-Triples writer, not three ``str()`` per
    triple: a third less time. It escapes line breaks in literals, so each ``\\n`` ends a line (not
    ``str.splitlines``, which also splits at U+2028 and others that N-Triples leaves as they are).
    """
    distinct = list(dict.fromkeys(t if isinstance(t, ox.Triple) else t.triple
                                  for t in statements))
    text = ox.serialize(distinct, format=ox.RdfFormat.N_TRIPLES).decode()
    return sorted(zip(text.split("\n")[:-1], distinct, strict=True))


def split_line(line: str) -> tuple[str, str, str]:
    """The three N-Triples terms of a line :func:`keyed` made. Subjects and predicates are IRIs
    or blank node labels, neither of which holds a space."""
    s, p, rest = line.split(" ", 2)
    return s, p, rest[:-2]


def render(graph: str, keyed_triples: list[tuple[str, ox.Triple]], formats: Sequence[str],
           layout: Layout) -> Part:
    """Serialise one named graph (its triples as :func:`keyed` gives them) into its part of
    each requested format. ``graph`` is the graph's IRI, a blank node's ``_:label``, or "" for
    the default graph."""
    from .export import jsonld_nodes  # the JSON-LD writer lives with the other writers

    key = owner_key(layout.base, graph)
    own: list[ox.Triple] = []
    shared: list[str] = []
    if key is None:
        shared = [line for line, _t in keyed_triples]
    else:
        exact, prefixes = _owned(layout.base, key)
        # The subject, as the line starts with it: one test per line, no term built.
        heads = (*(f"<{iri}> " for iri in exact), *(f"<{head}" for head in prefixes))
        for line, t in keyed_triples:
            if line.startswith(heads):
                own.append(t)
            else:
                shared.append(line)
    data: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "nq":
            data[fmt] = _nquads(graph, keyed_triples)
        elif fmt == "trig":
            name = _graph_name(graph)
            data[fmt] = layout.serialize(fmt, [ox.Quad(t.subject, t.predicate, t.object, name)
                                               for _line, t in keyed_triples])
        elif fmt in ("ttl", "nt", "rdfxml"):
            data[fmt] = layout.serialize(fmt, own)
        elif fmt == "jsonld":
            data[fmt] = _json_items(jsonld_nodes(own))
        elif fmt == "jsonld-framed":
            data[fmt] = _json_items(jsonld_nodes(own, framed=True))
    types: dict[str, int] = {}
    for t in own:
        if t.predicate.value == RDF_TYPE:
            types[t.object.value] = types.get(t.object.value, 0) + 1
    return Part(graph, data, shared, len(keyed_triples), len(own), types)


def graph_key(name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str:
    """A graph's name as :func:`render` takes it: its IRI, ``_:label`` for a blank node, ""
    for the default graph (:func:`_graph_name` is the way back)."""
    if isinstance(name, ox.NamedNode):
        return name.value
    return f"_:{name.value}" if isinstance(name, ox.BlankNode) else ""


def _graph_name(graph: str) -> ox.NamedNode | ox.BlankNode | ox.DefaultGraph:
    if not graph:
        return ox.DefaultGraph()
    return ox.BlankNode(graph[2:]) if graph.startswith("_:") else ox.NamedNode(graph)


def quad_end(graph: str) -> str:
    """What follows a graph's N-Triples line, less its final ``.``, to make the N-Quads line
    pyoxigraph's writer would write (``graph`` as :func:`render` takes it; tested)."""
    if not graph:
        return ".\n"
    return f"{graph} .\n" if graph.startswith("_:") else f"<{graph}> .\n"


def _nquads(graph: str, keyed_triples: list[tuple[str, ox.Triple]]) -> bytes:
    """A graph's N-Quads, from its N-Triples lines (see :func:`quad_end`)."""
    end = quad_end(graph)
    return "".join([line[:-1] + end for line, _t in keyed_triples]).encode()


def _json_items(nodes: list[dict[str, Any]]) -> bytes:
    # One node object per line: the C encoder (no indent) is several times faster, and
    # line-per-node output still diffs well.
    return b"".join(json.dumps(n, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                    + b"\n" for n in nodes)


class Sink:
    """An output stream that knows its position, and that can copy byte ranges of the previous
    build's file (kernel-side where the system can) instead of writing them again.

    For the JSON-LD formats a part's body is one run of node objects: bodies are joined by
    ``,\n``, which a copy of consecutive bodies carries along.

    The file is written by a thread of its own, in order, in runs of about a megabyte: the
    files are written (or a rebuild's copied) side by side, each synced as soon as it is
    complete, while this thread goes on with the next parts. When the system holds back
    writers (a 100k build writes gigabytes faster than a disk takes them), the file's thread
    waits, not the build.
    """

    BACKLOG = 8  # writes and copies queued at most before the caller waits
    RUN = 1 << 20  # bytes gathered before they go to the file's thread

    def __init__(self, out: IO[bytes], json_items: bool, old: int | None = None):
        self.out = out
        self.json = json_items
        self.old = old  # file descriptor of the previous build's file, when splicing
        self.pos = 0  # bytes written, plus bytes queued for copying
        self.started = False  # JSON: a node object was written
        self._pending: tuple[int, int] | None = None  # a range of the old file still to copy
        self._gathered: list[bytes] = []  # bytes to write, not yet handed to the thread
        self._size = 0  # (their length)
        self._thread: ThreadPoolExecutor | None = ThreadPoolExecutor(
            1, thread_name_prefix="kg-write")
        self._queued: deque[Future[None]] = deque()

    def _run(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue ``fn(*args)`` on the file's own thread (after what is queued)."""
        assert self._thread is not None, "the sink was stopped"
        queued = self._queued
        while queued and (queued[0].done() or len(queued) >= self.BACKLOG):
            queued.popleft().result()  # raises what went wrong there
        queued.append(self._thread.submit(fn, *args))

    def write(self, data: bytes) -> None:
        if self._pending is not None:  # (then nothing is gathered: a copy came last)
            self.flush()
        self._gathered.append(data)
        self._size += len(data)
        self.pos += len(data)
        if self._size >= self.RUN:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._gathered:
            data = b"".join(self._gathered) if len(self._gathered) > 1 else self._gathered[0]
            self._gathered, self._size = [], 0
            self._run(self.out.write, data)

    def body(self, data: bytes) -> tuple[int, int]:
        """Write one part's body; return where it is in this file."""
        if self.json:
            if not data:
                return self.pos, self.pos
            if self.started:
                self.write(b",\n")
            self.started = True
        start = self.pos
        self.write(data)
        return start, self.pos

    def copy(self, start: int, end: int) -> tuple[int, int]:
        """Copy a body that the previous file holds at ``start:end``; return its new place."""
        if start == end:
            return self.pos, self.pos
        gap = 2 if self.json else 0  # the separator between two JSON bodies
        pending = self._pending
        if pending is not None and pending[1] + gap == start and (self.started or not gap):
            self._pending = (pending[0], end)
            self.pos += gap
        else:
            if self.json and self.started:
                self.write(b",\n")
            self.flush()
            self._pending = (start, end)
        self.pos += end - start
        self.started = True
        return self.pos - (end - start), self.pos

    def copy_rest(self, start: int) -> None:
        """Copy the previous file from ``start`` to its end."""
        assert self.old is not None
        self.flush()
        self._pending = (start, os.fstat(self.old).st_size)
        self.pos += self._pending[1] - start
        self.flush()

    def flush(self) -> None:
        """Hand what is gathered, or the range to copy, to the file's thread."""
        self._hand_over()
        if self._pending is None:
            return
        start, end = self._pending
        self._pending = None
        self._run(self._copy, start, end)

    def _copy(self, start: int, end: int) -> None:
        assert self.old is not None
        self.out.flush()
        copy_range(self.old, self.out.fileno(), start, end - start)
        self.out.seek(0, os.SEEK_END)  # the buffered writer's idea of the position, renewed

    def _sync(self) -> None:
        self.out.flush()
        os.fsync(self.out.fileno())

    def sync(self) -> Future[None]:
        """Start writing the file to disk (after what is queued); the future says when done."""
        self.flush()
        assert self._thread is not None, "the sink was stopped"
        self._queued.append(self._thread.submit(self._sync))
        return self._queued[-1]

    def stop(self) -> None:
        """Wait for the file's thread, if any, and end it; what failed there is raised."""
        if self._thread is None:
            return
        self._thread.shutdown(wait=True)
        self._thread = None
        queued, self._queued = self._queued, deque()
        for future in queued:
            future.result()


def copy_range(src: int, dst: int, offset: int, count: int) -> None:
    """Append ``count`` bytes of file ``src`` from ``offset`` to file ``dst`` (at its position)."""
    if hasattr(os, "copy_file_range"):
        try:
            while count > 0 and (n := os.copy_file_range(src, dst, count, offset)):
                offset += n
                count -= n
        except OSError as exc:
            if exc.errno not in _NO_COPY_RANGE:
                raise
    while count > 0:  # no copy_file_range here, or not between these files: read and write
        chunk = os.pread(src, min(count, 1 << 22), offset)
        if not chunk:
            raise OSError(f"the previous output file ended {count} bytes early")
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view):]
        offset += len(chunk)
        count -= len(chunk)


@dataclass
class Previous:
    """What the previous build wrote, to copy from: its files (open), and where each part's
    body and the shared statements are in them. See :class:`kg.splice.Manifest`."""

    fds: dict[str, int]
    spans: dict[str, Sequence[int]]  # format -> start, end of each graph's body, in its order
    tails: dict[str, int]  # format -> where the shared statements start
    shared: Counter[str]  # every part's shared lines, counted
    own: int
    own_types: dict[str, int]
    tail_key: str
    tail_triples: int
    tail_types: dict[str, int]


class Assembler:
    """Appends dossier parts to open output streams, then writes the shared statements once.

    Given the previous build (:class:`Previous`), an unchanged part is copied from the previous
    file (:meth:`reuse`), a replaced or removed one subtracted (:meth:`drop`), and the shared
    statements copied too when they are the same.
    """

    def __init__(self, streams: dict[str, IO[bytes]], layout: Layout, graphs: Iterable[str],
                 previous: Previous | None = None):
        self.layout = layout
        self.previous = previous
        self.sinks = {fmt: Sink(out, fmt.startswith("jsonld"),
                                previous.fds[fmt] if previous else None)
                      for fmt, out in streams.items()}
        self.owners = {k for g in graphs if (k := owner_key(layout.base, g))}
        self.shared: Counter[str] = previous.shared if previous else Counter()  # (taken over)
        self.own = previous.own if previous else 0  # triples about nodes dossiers own
        self.own_types: Counter[str] = Counter(previous.own_types if previous else {})
        self.triples = 0  # distinct triples in the union formats, once finished
        self.types: dict[str, int] = {}  # nodes per class IRI, once finished
        # Two machine integers per part and format (a list would hold an object per number).
        self.spans: dict[str, array[int]] = {fmt: array("q") for fmt in streams}
        self.tails: dict[str, int] = {}
        self.tail_key = ""
        self.tail_triples = 0
        self.tail_types: dict[str, int] = {}
        self._mission_head = layout.base + PATHS["Mission"] + "/"
        for fmt, sink in self.sinks.items():
            if fmt in ("ttl", "trig", "rdfxml"):
                sink.write(self.layout.header[fmt])
            elif fmt.startswith("jsonld"):
                from .export import context

                head = json.dumps({"@context": context()}, ensure_ascii=False, indent=1)
                sink.write(head[:-2].encode("utf-8") + b',\n "@graph": [\n')

    def _redundant(self, line: str) -> bool:
        # Said by the dossier that owns the subject: its own part already holds it.
        head = "<" + self._mission_head
        if not line.startswith(head):
            return False
        return line[len(head):line.index(">")] in self.owners

    def add(self, part: Part) -> None:
        for fmt, sink in self.sinks.items():
            body = part.data.get(fmt, b"")
            if fmt.startswith("jsonld"):
                body = body.rstrip(b"\n").replace(b"}\n{", b"},\n{")  # one node per line
            self.spans[fmt].extend(sink.body(body))
        self.shared.update(part.shared)
        self.own += part.own
        self.own_types.update(part.types)

    def reuse(self, index: int) -> None:
        """Copy the body of the previous build's ``index``-th part, unchanged."""
        assert self.previous is not None
        for fmt, sink in self.sinks.items():
            spans = self.previous.spans[fmt]
            self.spans[fmt].extend(sink.copy(spans[2 * index], spans[2 * index + 1]))

    def drop(self, part: Part) -> None:
        """Take out what a part of the previous build counted (it was replaced or removed)."""
        self.shared.subtract(part.shared)
        self.own -= part.own
        self.own_types.subtract(part.types)

    def finish(self) -> None:
        import hashlib

        from .export import jsonld_nodes

        text = "\n".join(sorted(line for line, n in self.shared.items()
                                if n > 0 and not self._redundant(line)))
        started = [fmt for fmt, sink in self.sinks.items() if sink.started]
        self.tail_key = hashlib.sha256(repr(started).encode() + text.encode()).hexdigest()
        for fmt, sink in self.sinks.items():
            self.tails[fmt] = sink.pos
        prev = self.previous
        if prev is not None and prev.tail_key == self.tail_key:
            for fmt, sink in self.sinks.items():
                sink.copy_rest(prev.tails[fmt])
            self.tail_triples, self.tail_types = prev.tail_triples, dict(prev.tail_types)
        else:
            self._write_tail(text.encode("utf-8"), jsonld_nodes)
        for sink in self.sinks.values():
            sink.flush()
        for line in [line for line, n in self.shared.items() if n <= 0]:
            del self.shared[line]  # lines no part says any more
        self.triples = self.own + self.tail_triples
        types = +self.own_types + Counter(self.tail_types)
        self.types = dict(types)

    def stop(self, failing: type[BaseException] | None = None, *_exc: object) -> None:
        """Wait for the files' threads and end them (see :class:`Sink`), raising what failed
        there unless the build is ``failing`` already (an ``__exit__`` for ``ExitStack.push``)."""
        errors = []
        for sink in self.sinks.values():
            try:
                sink.stop()
            except Exception as exc:  # noqa: BLE001 - every thread ends first
                errors.append(exc)
        if errors and failing is None:
            raise errors[0]

    def _write_tail(self, text: bytes, jsonld_nodes: Any) -> None:
        shared = sorted((t for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)), key=_key)
        self.tail_triples = len(shared)
        for t in shared:
            if t.predicate.value == RDF_TYPE:
                self.tail_types[t.object.value] = self.tail_types.get(t.object.value, 0) + 1
        for fmt, sink in self.sinks.items():
            if fmt in ("ttl", "nt", "rdfxml"):
                sink.write(self.layout.serialize(fmt, shared))
                if fmt == "rdfxml":
                    sink.write(self.layout.footer["rdfxml"])
            elif fmt.startswith("jsonld"):
                items = _json_items(jsonld_nodes(shared)).rstrip(b"\n")
                sink.body(items.replace(b"}\n{", b"},\n{"))
                sink.write(b"\n ]\n}\n")


@dataclass(frozen=True)
class Reuse:
    """A part the previous build wrote, unchanged: copied from its files."""

    index: int  # its place in the previous build's order


@dataclass(frozen=True)
class Drop:
    """A part of the previous build that was replaced or removed."""

    part: Part


def write_parts(parts: Iterable[Part | Reuse | Drop], graphs: Sequence[str],
                targets: dict[str, Path], layout: Layout,
                previous: Previous | None = None) -> Assembler:
    """Write each format to its target path from dossier parts given in graph order (with
    ``previous``, parts may also be copied from the previous build's files, see
    :class:`Assembler`).

    Files appear atomically: each is written to a temporary file renamed into place at the end.
    """
    writing = start_writing(parts, graphs, targets, layout, previous)
    writing.complete()
    return writing.assembler


class Writing:
    """Output files whose parts are all given, still being written, copied and synced by their
    threads: :meth:`complete` waits for them and renames the files into place, :meth:`abandon`
    gives them up (the previous files stay). Meanwhile the caller can go on with other work."""

    def __init__(self, stack: ExitStack, assembler: Assembler, syncs: list[Future[None]]):
        self.assembler = assembler
        self._stack = stack
        self._syncs = syncs

    def complete(self) -> None:
        with self._stack:  # what fails here removes the temporary files
            for future in self._syncs:
                future.result()

    def abandon(self) -> None:
        try:
            with self._stack:
                raise _Abandoned
        except _Abandoned:
            pass


class _Abandoned(Exception):
    pass


def start_writing(parts: Iterable[Part | Reuse | Drop], graphs: Sequence[str],
                  targets: dict[str, Path], layout: Layout,
                  previous: Previous | None = None) -> Writing:
    """:func:`write_parts`, returning once every part is handed to the files' threads; the
    files are in place when :meth:`Writing.complete` returns."""
    from .export import atomic_write

    with ExitStack() as stack:
        streams = {fmt: stack.enter_context(atomic_write(p)) for fmt, p in targets.items()}
        assembler = Assembler(streams, layout, graphs, previous)
        stack.push(assembler.stop)  # before the files close, whatever happens
        for item in parts:
            if isinstance(item, Reuse):
                assembler.reuse(item.index)
            elif isinstance(item, Drop):
                assembler.drop(item.part)
            else:
                assembler.add(item)
        assembler.finish()
        # Every file to disk at once (each ``atomic_write`` then finds nothing to sync): the
        # disk gets every file's writes together instead of one file's after another.
        syncs = [sink.sync() for sink in assembler.sinks.values()]
        writing = Writing(stack.pop_all(), assembler, syncs)
    return writing
