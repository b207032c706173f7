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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .vocab import PATHS, PREFIXES, RDF_TYPE, resource_prefixes

UNION_FORMATS = ("ttl", "nt", "rdfxml", "jsonld", "jsonld-framed")
DATASET_FORMATS = ("nq", "trig")
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


def keyed(quads: Iterable[ox.Quad]) -> list[tuple[str, ox.Quad]]:
    """Distinct quads with their N-Triples lines (``<s> <p> o .``), sorted by line."""
    return sorted((f"{q.subject} {q.predicate} {q.object} .", q) for q in set(quads))


def split_line(line: str) -> tuple[str, str, str]:
    """The three N-Triples terms of a line :func:`keyed` made. Subjects and predicates are IRIs
    or blank node labels, neither of which holds a space."""
    s, p, rest = line.split(" ", 2)
    return s, p, rest[:-2]


def render(graph: str, keyed_quads: list[tuple[str, ox.Quad]], formats: Sequence[str],
           layout: Layout) -> Part:
    """Serialise one dossier's named graph (its quads as :func:`keyed` gives them) into its part
    of each requested format."""
    from .export import jsonld_nodes  # the JSON-LD writer lives with the other writers

    quads = [q for _line, q in keyed_quads]
    key = owner_key(layout.base, graph)
    own: list[ox.Triple] = []
    shared: list[str] = []
    if key is None:
        shared = [line for line, _q in keyed_quads]
    else:
        exact, prefixes = _owned(layout.base, key)
        for line, q in keyed_quads:
            subject = q.subject.value
            if subject in exact or subject.startswith(prefixes):
                own.append(q.triple)
            else:
                shared.append(line)
    data: dict[str, bytes] = {}
    for fmt in formats:
        if fmt in DATASET_FORMATS:
            data[fmt] = layout.serialize(fmt, quads)
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
    return Part(graph, data, shared, len(quads), len(own), types)


def _json_items(nodes: list[dict[str, Any]]) -> bytes:
    # One node object per line: the C encoder (no indent) is several times faster, and
    # line-per-node output still diffs well.
    return b"".join(json.dumps(n, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                    + b"\n" for n in nodes)


class Assembler:
    """Appends dossier parts to open output streams, then writes the shared statements once."""

    def __init__(self, streams: dict[str, IO[bytes]], layout: Layout, graphs: Iterable[str]):
        self.streams = streams
        self.layout = layout
        self.owners = {k for g in graphs if (k := owner_key(layout.base, g))}
        self.shared: set[str] = set()
        self.triples = 0  # distinct triples in the union formats, once finished
        self.types: dict[str, int] = {}  # nodes per class IRI, once finished
        self._mission_head = layout.base + PATHS["Mission"] + "/"
        self.json_started: dict[str, bool] = {}
        for fmt, out in streams.items():
            if fmt in ("ttl", "trig", "rdfxml"):
                out.write(self.layout.header[fmt])
            elif fmt.startswith("jsonld"):
                from .export import context

                head = json.dumps({"@context": context()}, ensure_ascii=False, indent=1)
                out.write(head[:-2].encode("utf-8") + b',\n "@graph": [\n')
                self.json_started[fmt] = False

    def _redundant(self, line: str) -> bool:
        # Said by the dossier that owns the subject: its own part already holds it.
        head = "<" + self._mission_head
        if not line.startswith(head):
            return False
        return line[len(head):line.index(">")] in self.owners

    def add(self, part: Part) -> None:
        for fmt, out in self.streams.items():
            body = part.data.get(fmt, b"")
            if fmt.startswith("jsonld"):
                self._json(fmt, out, body)
            else:
                out.write(body)
        self.shared.update(t for t in part.shared if not self._redundant(t))
        self.triples += part.own
        for cls, n in part.types.items():
            self.types[cls] = self.types.get(cls, 0) + n

    def _json(self, fmt: str, out: IO[bytes], body: bytes) -> None:
        if not body:
            return
        if self.json_started[fmt]:
            out.write(b",\n")
        out.write(body.rstrip(b"\n").replace(b"}\n{", b"},\n{"))  # one node per line
        self.json_started[fmt] = True

    def finish(self) -> None:
        from .export import jsonld_nodes

        text = "\n".join(sorted(self.shared)).encode("utf-8")
        shared = sorted((t for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)), key=_key)
        self.triples += len(shared)
        for t in shared:
            if t.predicate.value == RDF_TYPE:
                self.types[t.object.value] = self.types.get(t.object.value, 0) + 1
        for fmt, out in self.streams.items():
            if fmt in ("ttl", "nt", "rdfxml"):
                out.write(self.layout.serialize(fmt, shared))
                if fmt == "rdfxml":
                    out.write(self.layout.footer["rdfxml"])
            elif fmt.startswith("jsonld"):
                self._json(fmt, out, _json_items(jsonld_nodes(shared)))
                out.write(b"\n ]\n}\n")


def write_parts(parts: Iterable[Part], graphs: Sequence[str], targets: dict[str, Path],
                layout: Layout) -> Assembler:
    """Write each format to its target path from dossier parts given in graph order.

    Files appear atomically: each is written to a temporary file renamed into place at the end.
    """
    from contextlib import ExitStack

    from .export import atomic_write

    with ExitStack() as stack:
        streams = {fmt: stack.enter_context(atomic_write(p)) for fmt, p in targets.items()}
        assembler = Assembler(streams, layout, graphs)
        for part in parts:
            assembler.add(part)
        assembler.finish()
    return assembler
