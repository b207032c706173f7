"""Writers for every format kg emits, in one registry keyed by name, extension and media type.

Output is deterministic: quads are sorted before writing and no run-specific data is added, so
the same input gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .vocab import KG, RDF_TYPE, XSD


@dataclass(frozen=True)
class Format:
    """An output format: its name, file extension, media type, and whether it keeps graphs."""

    name: str
    extension: str
    media_type: str
    dataset: bool


# ------------------------------------------------------------------ JSON-LD


@cache
def context() -> dict[str, Any]:
    """kg's JSON-LD context (shipped as kg/data/context.jsonld)."""
    return json.loads(files("kg.data").joinpath("context.jsonld").read_text("utf-8"))["@context"]


@cache
def _terms() -> tuple[dict[str, str], dict[str, str | None], dict[str, str]]:
    """(property IRI -> term, term -> coerced type, prefix -> namespace) from the context."""
    ctx = context()
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        if ":" in value and not value.startswith("http"):
            pfx, local = value.split(":", 1)
            if pfx in prefixes:
                return prefixes[pfx] + local
        return value if "://" in value else ctx.get("@vocab", "") + value

    by_iri: dict[str, str] = {}
    coerce: dict[str, str | None] = {}
    for term, spec in ctx.items():
        if term.startswith("@") or term in prefixes:
            continue
        if isinstance(spec, str):
            by_iri[expand(spec)] = term
            coerce[term] = None
        else:
            by_iri[expand(spec["@id"])] = term
            t = spec.get("@type")
            coerce[term] = t if t in (None, "@id") else expand(t)
    return by_iri, coerce, prefixes


def _compact_iri(value: str, prefixes: dict[str, str]) -> str:
    best = ""
    for pfx, ns in prefixes.items():
        if value.startswith(ns) and len(ns) > len(prefixes.get(best, "")):
            local = value[len(ns):]
            if local and all(c.isalnum() or c in "-_." for c in local):
                best = pfx
    return f"{best}:{value[len(prefixes[best]):]}" if best else value


@cache
def _predicate_plan(p: str) -> tuple[str, str | None]:
    """(JSON-LD term, coerced type) for a predicate IRI."""
    by_iri, coerce, _prefixes = _terms()
    term = by_iri.get(p, p)
    return term, coerce.get(term)


@cache
def _class_name(cls: str) -> str:
    vocab = context().get("@vocab", KG)
    return cls[len(vocab):] if cls.startswith(vocab) else _compact_iri(cls, _terms()[2])


@cache
def _datatype_name(dt: str) -> str:
    return _compact_iri(dt, _terms()[2])


_XSD_STRING = XSD + "string"


def _node_objects(triples: Iterable[ox.Triple]) -> dict[str, dict[str, Any]]:
    """Compacted JSON-LD node objects, one per subject, values in the triples' order."""
    nodes: dict[str, dict[str, Any]] = {}
    named = ox.NamedNode
    for t in triples:
        s = t.subject.value
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": s}
        p = t.predicate.value
        o = t.object
        if p == RDF_TYPE:
            node.setdefault("@type", []).append(_class_name(o.value))
            continue
        term, want = _predicate_plan(p)
        if isinstance(o, named):
            value: Any = o.value if want == "@id" else {"@id": o.value}
        else:
            dt = o.datatype.value
            if o.language:
                value = {"@value": o.value, "@language": o.language}
            elif (want is not None and want == dt) or (dt == _XSD_STRING and want is None):
                value = o.value
            else:
                value = {"@value": o.value, "@type": _datatype_name(dt)}
        values = node.get(term)
        if values is None:
            node[term] = [value]
        else:
            values.append(value)
    for node in nodes.values():
        for key, vals in node.items():
            if isinstance(vals, list) and len(vals) == 1:
                node[key] = vals[0]
    return nodes


_NESTED = ("spacecraft", "launch")


def jsonld_nodes(triples: Sequence[ox.Triple], framed: bool = False) -> list[dict[str, Any]]:
    """Node objects for ``triples`` (sorted by subject); framed: a mission's spacecraft and
    launch nested inside it, each mission followed by the rest of its nodes."""
    nodes = _node_objects(triples)  # callers pass triples sorted by subject
    if not framed:
        return [nodes[k] for k in sorted(nodes)]
    out: list[dict[str, Any]] = []
    embedded: set[str] = set()
    for key in sorted(nodes):
        node = nodes[key]
        if node.get("@type") != "Mission" or "spacecraft" not in node:
            continue
        framed_node = dict(node)
        for term in _NESTED:
            ref = node.get(term)
            if isinstance(ref, str) and ref in nodes:
                framed_node[term] = nodes[ref]
                embedded.add(ref)
        embedded.add(key)
        out.append(framed_node)
    return out + [nodes[k] for k in sorted(nodes) if k not in embedded]


# ------------------------------------------------------------------ registry

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", "ttl", "text/turtle", False),
        Format("nq", "nq", "application/n-quads", True),
        Format("jsonld", "jsonld", "application/ld+json", False),
        Format("trig", "trig", "application/trig", True),
        Format("nt", "nt", "application/n-triples", False),
        Format("rdfxml", "rdf", "application/rdf+xml", False),
        Format("jsonld-framed", "framed.jsonld", "application/ld+json", False),
    )
}
ALIASES = {"turtle": "ttl", "nquads": "nq", "n-quads": "nq", "ntriples": "nt", "n-triples": "nt",
           "json-ld": "jsonld", "xml": "rdfxml", "rdf": "rdfxml", "rdf/xml": "rdfxml",
           "framed": "jsonld-framed"}
DEFAULT_FORMATS = ("ttl", "nq", "jsonld")


def get_format(name: str) -> Format:
    """Look a format up by name, alias, extension or media type."""
    key = name.lower().lstrip(".")
    key = ALIASES.get(key, key)
    if key in FORMATS:
        return FORMATS[key]
    for f in FORMATS.values():
        if key in {f.extension, f.media_type}:
            return f
    raise KeyError(name)


def write(quads: Iterable[ox.Quad], dest: IO[bytes] | str | Path, fmt: str | Format,
          base: str) -> None:
    """Write ``quads`` to a binary stream or (atomically) to a file path, in kg's layout."""
    from .chunks import Assembler, Layout, graph_key, keyed, render

    f = fmt if isinstance(fmt, Format) else get_format(fmt)
    by_graph: dict[str, list[ox.Quad]] = {}
    for q in quads:
        by_graph.setdefault(graph_key(q.graph_name), []).append(q)
    layout = Layout(base)

    def emit(out: IO[bytes]) -> None:
        from contextlib import ExitStack

        with ExitStack() as stack:
            assembler = Assembler({f.name: out}, layout, by_graph)
            # On leaving, every byte is in ``out``: the file's own thread writes it.
            stack.push(assembler.stop)
            for graph in sorted(by_graph):
                assembler.add(render(graph, keyed(by_graph[graph]), [f.name], layout))
            assembler.finish()

    if isinstance(dest, str | Path):
        with atomic_write(Path(dest)) as out:
            emit(out)
    else:
        emit(dest)


class atomic_write:  # noqa: N801 - used like open()
    """Write to a temp file beside ``path`` and rename it into place only on success."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=self.path.parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
        finally:
            if exc_type is None:
                os.replace(self.tmp, self.path)
            else:
                Path(self.tmp).unlink(missing_ok=True)
