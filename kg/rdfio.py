"""The one reader for RDF graph files kg takes as input (``kg validate``, ``kg load``, ``kg query``).

Graph files come from other people, so reading one must never reach out or blow up:

* nothing is fetched: pyoxigraph parses without a document loader, and kg resolves JSON-LD
  ``@context`` references itself -- a context next to the input (same directory or below) or
  one the caller maps to a local file (``context_map``) is inlined; any other URL, or a
  ``file:`` path outside the input's directory, is refused;
* RDF/XML entity expansion is off: pyoxigraph expands internal entities (a "billion laughs"
  document of 1 kB becomes a 1 GB literal), so kg refuses external, parameter and nested entity
  declarations and any plain ones whose references would grow the document by more than its
  own size or 16 MiB;
* files over a size limit (``KG_MAX_RDF_MB``, default 1024) and JSON or XML nested deeper than
  :data:`MAX_DEPTH` are refused before parsing (pyoxigraph's RDF/XML parser is quadratic in
  depth, so a 2 MB file of nested elements takes minutes);
* a malformed file gives an :class:`RdfInputError` naming file, line and column.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname
from xml.parsers import expat

import pyoxigraph as ox

from .errors import KgError

#: File extension -> RDF format kg reads.
FORMATS: dict[str, ox.RdfFormat] = {
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}
#: Environment variable that raises the size limit (in MB) for one run.
MAX_MB_ENV = "KG_MAX_RDF_MB"
DEFAULT_MAX_MB = 1024
#: Deepest JSON or XML nesting accepted (kg's own framed JSON-LD nests fewer than 10 levels).
MAX_DEPTH = 256
#: Most JSON-LD contexts one document may pull in (guards against context cycles and fan-out).
MAX_CONTEXTS = 64
_MIN_ENTITY_BUDGET = 16 * 2**20

#: Graph name (None for the default graph; quads keep their own graph_name) -> its quads.
Graphs = dict[str | None, list[ox.Quad]]


class RdfInputError(KgError):
    """An RDF file kg refuses or cannot parse; printed as ``file:line:column: message``."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 column: int | None = None):
        super().__init__(message, file, line)
        self.column = column

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x)
        return f"{where}: {self.message}" if where else self.message


def rdf_format(path: str | Path) -> ox.RdfFormat | None:
    """The RDF format of a file by its extension, or None if kg does not read it as RDF."""
    return FORMATS.get(Path(path).suffix.lower())


def max_bytes_default() -> int:
    """The size limit: ``KG_MAX_RDF_MB`` megabytes if set, else 1024 MB."""
    raw = os.environ.get(MAX_MB_ENV, "").strip()
    try:
        return int(float(raw) * 2**20) if raw else DEFAULT_MAX_MB * 2**20
    except ValueError:
        raise KgError(f"{MAX_MB_ENV} must be a number of megabytes, got {raw!r}") from None


def read_files(paths: Iterable[str | Path], **options: Any) -> Graphs:
    """Read several RDF files into one mapping graph name -> quads (see :func:`read_file`)."""
    graphs: Graphs = {}
    for path in paths:
        for name, quads in read_file(path, **options).items():
            graphs.setdefault(name, []).extend(quads)
    return graphs


def read_file(path: str | Path, *, base_iri: str | None = None,
              context_map: Mapping[str, str | Path] | None = None,
              max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Graphs:
    """Read one RDF file safely into graph name (None = default graph) -> quads.

    ``context_map`` maps JSON-LD context URLs to local files; relative IRIs resolve against
    ``base_iri`` (default: the file's ``file:`` IRI).
    """
    path = Path(path)
    name = str(path)
    fmt = rdf_format(path)
    if fmt is None:
        raise RdfInputError(f"not an RDF file kg reads (extension {path.suffix!r}; use "
                            f"{', '.join(FORMATS)})", name)
    limit = max_bytes_default() if max_bytes is None else max_bytes
    data = _read_limited(path, limit)
    base = base_iri or path.resolve().as_uri()
    rewritten = False
    if fmt == ox.RdfFormat.JSON_LD:
        data, rewritten = _inline_contexts(data, path, context_map or {}, limit, max_depth)
    elif fmt == ox.RdfFormat.RDF_XML:
        _check_xml(data, name, max_depth)
    graphs: Graphs = {}
    try:
        for quad in ox.parse(data, format=fmt, base_iri=base):
            graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
            graphs.setdefault(graph, []).append(quad)
    except SyntaxError as err:
        message = _PARSER_PREFIX.sub("", str(err).splitlines()[0] if str(err) else "")
        # after inlining contexts the positions are those of kg's rewrite, not the user's file
        line, column = (None, None) if rewritten else (err.lineno, err.offset)
        raise RdfInputError(f"not valid {fmt.name}: {message}", name, line, column) from None
    return graphs


_PARSER_PREFIX = re.compile(r"^Parser error at line \d+ (?:column \d+|between columns \d+ and \d+): ")


def _read_limited(path: Path, limit: int) -> bytes:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise RdfInputError(
                f"file is {size / 2**20:.1f} MB, over kg's limit of {limit / 2**20:.0f} MB for "
                f"RDF input; set {MAX_MB_ENV} to raise it", name)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except FileNotFoundError:
        raise RdfInputError("no such file", name) from None
    except IsADirectoryError:
        raise RdfInputError("is a directory, not an RDF file", name) from None
    except OSError as err:
        raise RdfInputError(err.strerror or str(err), name) from None
    if len(data) > limit:
        raise RdfInputError(f"file is over kg's limit of {limit / 2**20:.0f} MB for RDF input; "
                            f"set {MAX_MB_ENV} to raise it", name)
    return data


# ---------------------------------------------------------------------------- JSON-LD


def _load_json(data: bytes, name: str, max_depth: int) -> Any:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise RdfInputError(f"not UTF-8 (byte {err.start})", name) from None
    except json.JSONDecodeError as err:
        raise RdfInputError(f"not valid JSON: {err.msg}", name, err.lineno, err.colno) from None
    except RecursionError:
        raise RdfInputError(f"JSON nested deeper than {max_depth} levels", name) from None
    _check_depth(doc, name, max_depth)
    return doc


def _check_depth(doc: Any, name: str, max_depth: int) -> None:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise RdfInputError(f"JSON nested deeper than {max_depth} levels", name)
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


class _Contexts:
    """Resolves ``@context`` references of one document to local JSON, never to the network."""

    def __init__(self, input_path: Path, context_map: Mapping[str, str | Path], limit: int,
                 max_depth: int):
        self.root = input_path.resolve().parent
        self.name = str(input_path)
        self.map = {url: Path(p).resolve() for url, p in context_map.items()}
        self.limit, self.max_depth = limit, max_depth
        self.loaded = 0
        self.changed = False

    def local_file(self, ref: str, base: str) -> tuple[Path, str]:
        """The local file a context reference names, and its IRI (the base for its own refs)."""
        url = urljoin(base, ref)
        if url in self.map:
            return self.map[url], url
        parts = urlsplit(url)
        if parts.scheme == "file" and not parts.netloc:
            file = Path(url2pathname(parts.path)).resolve()
            if file.is_relative_to(self.root):
                return file, url
            raise RdfInputError(f"JSON-LD @context {ref!r} is outside the input's directory; "
                                "kg reads contexts only from beside the input or from a "
                                "context map", self.name)
        raise RdfInputError(f"JSON-LD @context {ref!r} is a URL: kg never fetches anything "
                            "while parsing; inline the context, save it next to the file and "
                            "refer to it by relative path, or map the URL to a local file",
                            self.name)

    def load(self, ref: str, base: str, chain: tuple[str, ...]) -> Any:
        file, key = self.local_file(ref, base)
        self.loaded += 1
        if key in chain or self.loaded > MAX_CONTEXTS:
            raise RdfInputError(f"JSON-LD @context {ref!r}: context cycle or more than "
                                f"{MAX_CONTEXTS} contexts", self.name)
        doc = _load_json(_read_limited(file, self.limit), str(file), self.max_depth)
        if not isinstance(doc, dict) or "@context" not in doc:
            raise RdfInputError("not a JSON-LD context document (no top-level @context)", str(file))
        self.changed = True
        return self.context(doc["@context"], key, (*chain, key))

    def context(self, value: Any, base: str, chain: tuple[str, ...]) -> Any:
        """A context value with every reference replaced by the JSON it names."""
        if isinstance(value, str):
            return self.load(value, base, chain)
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:  # a referenced array context is spliced in place
                resolved = self.context(item, base, chain)
                out.extend(resolved if isinstance(item, str) and isinstance(resolved, list)
                           else [resolved])
            return out
        if isinstance(value, dict):
            value = {k: self.walk(v, base, chain) for k, v in value.items()}
            imported = value.pop("@import", None)
            if isinstance(imported, str):
                loaded = self.load(imported, base, chain)
                if not isinstance(loaded, dict):
                    raise RdfInputError(f"JSON-LD @import {imported!r} is not a single context",
                                        self.name)
                value = {**loaded, **value}
            elif imported is not None:
                value["@import"] = imported
        return value

    def walk(self, value: Any, base: str, chain: tuple[str, ...] = ()) -> Any:
        """Any JSON value with the contexts inside it resolved (scoped contexts included)."""
        if isinstance(value, list):
            return [self.walk(v, base, chain) for v in value]
        if isinstance(value, dict):
            return {k: self.context(v, base, chain) if k == "@context" else self.walk(v, base, chain)
                    for k, v in value.items()}
        return value


def _inline_contexts(data: bytes, path: Path, context_map: Mapping[str, str | Path], limit: int,
                     max_depth: int) -> tuple[bytes, bool]:
    """The JSON-LD text with local contexts inlined, and whether anything changed."""
    doc = _load_json(data, str(path), max_depth)
    contexts = _Contexts(path, context_map, limit, max_depth)
    doc = contexts.walk(doc, path.resolve().as_uri())
    if not contexts.changed:
        return data, False
    _check_depth(doc, str(path), max_depth)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), True


# ---------------------------------------------------------------------------- RDF/XML

_ENTITY_REF = re.compile(rb"&([^\s&;<>\"']+);")


class _XmlRefused(Exception):
    pass


def _check_xml(data: bytes, name: str, max_depth: int) -> None:
    """Refuse entity declarations that expand and nesting deeper than ``max_depth``.

    Expat does the looking (linear, in C, and it loads no external entity); pyoxigraph parses.
    """
    uses = Counter(_ENTITY_REF.findall(data))
    budget = max(len(data), _MIN_ENTITY_BUDGET)
    growth = 0
    depth = 0

    def entity(entity_name: str, is_parameter: bool, value: str | None, base: str | None,
               system_id: str | None, public_id: str | None, notation: str | None) -> None:
        if is_parameter or value is None or "&" in value or "%" in value:
            raise _XmlRefused("RDF/XML entity declarations other than plain text (external, "
                              "parameter or nested entities) are refused: entity expansion is off")
        nonlocal growth
        growth += len(value.encode("utf-8")) * uses[entity_name.encode("utf-8")]
        if growth > budget:  # checked at the declaration, before expat expands any use
            raise _XmlRefused(f"RDF/XML entities would expand the file by over {budget:,} "
                              "bytes; entity expansion is off beyond the file's own size")

    def start(*_: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > max_depth:
            raise _XmlRefused(f"XML nested deeper than {max_depth} elements")

    def end(*_: Any) -> None:
        nonlocal depth
        depth -= 1

    parser = expat.ParserCreate()
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _XmlRefused as err:
        raise RdfInputError(str(err), name, parser.CurrentLineNumber,
                            parser.CurrentColumnNumber + 1) from None
    except expat.ExpatError as err:
        raise RdfInputError(f"not valid XML: {expat.ErrorString(err.code)}", name, err.lineno,
                            err.offset + 1) from None
