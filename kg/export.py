"""Writers for every format kg emits, in one registry keyed by name, extension and media type.

Output is deterministic: quads are sorted before writing and no run-specific data is added, so
the same input gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .mapping import sort_key
from .vocab import KG, PREFIXES, RDF_TYPE, XSD, resource_prefixes


@dataclass(frozen=True)
class Format:
    """An output format: its name, file extension, media type and writer."""

    name: str
    extension: str
    media_type: str
    write: Callable[[Sequence[ox.Quad], IO[bytes], str], None]
    dataset: bool  # keeps named graphs


def triples(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    """The union graph: distinct triples, sorted."""
    return sorted({q.triple for q in quads}, key=lambda t: (str(t.subject), str(t.predicate),
                                                            str(t.object)))


def _prefixes(base: str) -> dict[str, str]:
    return {**PREFIXES, **resource_prefixes(base)}


def _ox_writer(fmt: ox.RdfFormat, dataset: bool, prefixed: bool):
    def write(quads: Sequence[ox.Quad], out: IO[bytes], base: str) -> None:
        data: Iterable[Any] = sorted(set(quads), key=sort_key) if dataset else triples(quads)
        kwargs = {"prefixes": _prefixes(base)} if prefixed else {}
        ox.serialize(data, out, format=fmt, **kwargs)
    return write


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


def _node_objects(quads: Sequence[ox.Quad]) -> dict[str, dict[str, Any]]:
    by_iri, coerce, prefixes = _terms()
    vocab = context().get("@vocab", KG)
    nodes: dict[str, dict[str, Any]] = {}
    for t in triples(quads):
        s = t.subject.value
        node = nodes.setdefault(s, {"@id": s})
        p = t.predicate.value
        o = t.object
        if p == RDF_TYPE:
            cls = o.value
            short = cls[len(vocab):] if cls.startswith(vocab) else _compact_iri(cls, prefixes)
            node.setdefault("@type", []).append(short)
            continue
        term = by_iri.get(p, p)
        want = coerce.get(term)
        if isinstance(o, ox.NamedNode):
            value: Any = o.value if want == "@id" else {"@id": o.value}
        else:
            dt = o.datatype.value if o.datatype else XSD + "string"
            if o.language:
                value = {"@value": o.value, "@language": o.language}
            elif want is not None and want == dt or dt == XSD + "string" and want is None:
                value = o.value
            else:
                value = {"@value": o.value, "@type": _compact_iri(dt, prefixes)}
        node.setdefault(term, []).append(value)
    for node in nodes.values():
        for key, vals in list(node.items()):
            if isinstance(vals, list) and len(vals) == 1:
                node[key] = vals[0]
    return nodes


def _dump(doc: dict[str, Any], out: IO[bytes]) -> None:
    out.write(json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))
    out.write(b"\n")


def write_jsonld(quads: Sequence[ox.Quad], out: IO[bytes], base: str) -> None:
    """Compacted JSON-LD of the union graph with kg's context inline (no remote fetch needed)."""
    nodes = _node_objects(quads)
    _dump({"@context": context(), "@graph": [nodes[k] for k in sorted(nodes)]}, out)


_NESTED = ("spacecraft", "launch")


def write_jsonld_framed(quads: Sequence[ox.Quad], out: IO[bytes], base: str) -> None:
    """JSON-LD with one object per mission, its spacecraft and launch nested inside it."""
    nodes = _node_objects(quads)
    embedded: set[str] = set()
    missions = []
    for key in sorted(nodes):
        node = nodes[key]
        if node.get("@type") != "Mission" or "spacecraft" not in node:
            continue
        framed = dict(node)
        for term in _NESTED:
            ref = node.get(term)
            if isinstance(ref, str) and ref in nodes:
                framed[term] = nodes[ref]
                embedded.add(ref)
        embedded.add(key)
        missions.append(framed)
    rest = [nodes[k] for k in sorted(nodes) if k not in embedded]
    _dump({"@context": context(), "@graph": missions + rest}, out)


# ------------------------------------------------------------------ registry

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", "ttl", "text/turtle", _ox_writer(ox.RdfFormat.TURTLE, False, True), False),
        Format("nq", "nq", "application/n-quads", _ox_writer(ox.RdfFormat.N_QUADS, True, False),
               True),
        Format("jsonld", "jsonld", "application/ld+json", write_jsonld, False),
        Format("trig", "trig", "application/trig", _ox_writer(ox.RdfFormat.TRIG, True, True),
               True),
        Format("nt", "nt", "application/n-triples",
               _ox_writer(ox.RdfFormat.N_TRIPLES, False, False), False),
        Format("rdfxml", "rdf", "application/rdf+xml",
               _ox_writer(ox.RdfFormat.RDF_XML, False, True), False),
        Format("jsonld-framed", "framed.jsonld", "application/ld+json", write_jsonld_framed,
               False),
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


def write(quads: Sequence[ox.Quad], dest: IO[bytes] | str | Path, fmt: str | Format,
          base: str) -> None:
    """Write ``quads`` to a binary stream or (atomically) to a file path."""
    f = fmt if isinstance(fmt, Format) else get_format(fmt)
    if isinstance(dest, str | Path):
        with atomic_write(Path(dest)) as out:
            f.write(quads, out, base)
    else:
        f.write(quads, dest, base)


class atomic_write:  # noqa: N801 - used like open()
    """Write to a temp file beside ``path`` and rename it into place only on success."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=self.path.parent)
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
