"""Bundled and user SPARQL queries: load, bind parameters safely, run anywhere, format results.

The same query text runs on every engine.  kg's data lives in named graphs (one per dossier)
and kg never writes the default graph, so every query reads the *union* of the named graphs as
its default graph: pyoxigraph with ``use_default_graph_as_union``, rdflib with a
``Dataset(default_union=True)``, and a SPARQL endpoint either as it is (Virtuoso's default
graph is the union; Oxigraph server with ``--union-default-graph``; Fuseki with
``unionDefaultGraph``) or, when its default graph does not hold kg's data, with every dossier
graph named as a ``default-graph-uri`` of the request (SPARQL 1.1 Protocol dataset).

An engine may give the union as a bag (pyoxigraph repeats a triple stated in two graphs), so
the bundled queries use DISTINCT / COUNT(DISTINCT …) wherever a repeat could show.

Parameters are bound as RDF terms in a ``VALUES`` block placed at the start of the main
``WHERE`` group: each value is a typed literal or IRI serialised with N-Triples escaping, so a
value with quotes, braces or newlines cannot change the query.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path
from typing import IO, Any, Protocol

import pyoxigraph as ox

from .errors import KgError
from .rdfio import rdf_format, read_file
from .vocab import DEFAULT_BASE, KG, PREFIXES, XSD, resource_prefixes

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

#: Namespaces used to shorten IRIs in the table output (besides kg's own).
DISPLAY_PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "schema": "https://schema.org/",
}


class QueryError(KgError):
    """A query that cannot be found, parsed, bound or run."""


# ---------------------------------------------------------------------------- parameters


def _typed(datatype: str) -> Any:
    def make(text: str) -> ox.Literal:
        return ox.Literal(text, datatype=ox.NamedNode(XSD + datatype))
    return make


def _integer(text: str) -> ox.Literal:
    return _typed("integer")(str(int(text.strip())))


def _decimal(text: str) -> ox.Literal:
    value = Decimal(text.strip())
    if not value.is_finite():
        raise ValueError(text)
    return _typed("decimal")(format(value, "f"))


def _boolean(text: str) -> ox.Literal:
    value = {"true": "true", "1": "true", "false": "false", "0": "false"}[text.strip().lower()]
    return _typed("boolean")(value)


def _date(text: str) -> ox.Literal:
    return _typed("date")(date.fromisoformat(text.strip()).isoformat())


def _datetime(text: str) -> ox.Literal:
    datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return _typed("dateTime")(text.strip())


#: Parameter type name -> maker of the RDF term from the command-line text.
PARAM_TYPES: dict[str, Any] = {
    "string": ox.Literal,
    "integer": _integer,
    "decimal": _decimal,
    "boolean": _boolean,
    "date": _date,
    "dateTime": _datetime,
    "iri": ox.NamedNode,
}

_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """A declared query parameter: a SPARQL variable of the same name, bound before the run."""

    name: str
    type: str = "string"
    default: str | None = None
    doc: str = ""

    def term(self, text: str) -> Term:
        """The RDF term for ``text``, or a QueryError saying what was expected."""
        try:
            return PARAM_TYPES[self.type](text)
        except (ValueError, KeyError, InvalidOperation, TypeError):
            raise QueryError(f"parameter {self.name!r} expects {_article(self.type)} "
                             f"{self.type}, got {text!r}") from None

    def describe(self) -> str:
        """``name (type, default "x")``: how ``--list`` shows it."""
        default = "required" if self.default is None else f"default {json.dumps(self.default)}"
        return f"{self.name} ({self.type}, {default})"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# ---------------------------------------------------------------------------- queries

_HEADER_LINE = re.compile(r"^#\s*(title|description|param|example)\s*:\s*(.*?)\s*$")
_PARAM_SPEC = re.compile(
    r"^(?P<name>\w+)\s+(?P<type>\w+)"
    r"(?:\s*=\s*(?P<default>\"(?:[^\"\\]|\\.)*\"|\S+))?"
    r"(?:\s+--\s*(?P<doc>.*))?$")


@dataclass(frozen=True)
class Query:
    """A SPARQL query with the metadata of its comment header."""

    name: str
    text: str
    source: str
    title: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    examples: tuple[str, ...] = ()

    @property
    def form(self) -> str:
        """``select``, ``construct``, ``ask`` or ``describe``."""
        return query_form(self.text)

    def param(self, name: str) -> Param | None:
        """The declared parameter called ``name``."""
        return next((p for p in self.params if p.name == name), None)

    def example_params(self) -> dict[str, str]:
        """The ``--param`` values of the first example call in the header."""
        if not self.examples:
            return {}
        words = shlex.split(self.examples[0])
        pairs = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--param", "-p")]
        return dict(split_assignment(p) for p in pairs)


def parse_header(text: str, name: str, source: str) -> Query:
    """Read the leading comment block: ``# title:``, ``# description:``, ``# param:``, ``# example:``."""
    meta: dict[str, Any] = {"title": "", "description": "", "params": [], "examples": []}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            spec = _PARAM_SPEC.match(value)
            if not spec or spec["type"] not in PARAM_TYPES or not _VARNAME.match(spec["name"]):
                raise QueryError(f"bad parameter declaration {value!r}; expected "
                                 f"'NAME TYPE [= DEFAULT] [-- text]' with TYPE one of "
                                 f"{', '.join(PARAM_TYPES)}", source, number)
            default = spec["default"]
            if default is not None and default.startswith('"'):
                default = json.loads(default)
            param = Param(spec["name"], spec["type"], default, spec["doc"] or "")
            if default is not None:
                param.term(default)  # a default must be valid for its own type
            meta["params"].append(param)
        elif key == "example":
            meta["examples"].append(value)
        else:
            meta[key] = value
    return Query(name, text, source, meta["title"], meta["description"],
                 tuple(meta["params"]), tuple(meta["examples"]))


def bundled_names() -> list[str]:
    """Names of the queries shipped in ``kg/queries/``."""
    return sorted(p.name[:-3] for p in files("kg.queries").iterdir() if p.name.endswith(".rq"))


def bundled(name: str) -> Query:
    """A bundled query by name; an unknown name suggests the nearest ones."""
    names = bundled_names()
    if name not in names:
        near = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise QueryError(f"no bundled query {name!r}{hint} (kg query --list shows them all)")
    text = files("kg.queries").joinpath(f"{name}.rq").read_text("utf-8")
    return parse_header(text, name, f"{name}.rq")


def load(name_or_path: str | Path) -> Query:
    """A bundled query by name, or a ``.rq`` file (checked for syntax, with line and column)."""
    path = Path(name_or_path)
    if path.suffix in (".rq", ".sparql") or path.exists() or "/" in str(name_or_path):
        try:
            text = path.read_text("utf-8-sig")
        except FileNotFoundError:
            raise QueryError("no such query file", str(path)) from None
        except (OSError, UnicodeDecodeError) as err:
            raise QueryError(f"cannot read query file: {err}", str(path)) from None
        query = parse_header(text, path.stem, str(path))
        check_syntax(query)
        return query
    return bundled(str(name_or_path))


_OX_ERROR = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


def _without_service(text: str) -> str:
    """``SERVICE [SILENT] <x>`` as ``GRAPH <x>``, padded so every line and column stays put."""
    out, last = [], None
    for kind, word, start, _ in _tokens(text):
        if kind == "word" and (word.upper() == "SERVICE" or (last == "SERVICE"
                                                            and word.upper() == "SILENT")):
            out.append((start, "GRAPH".ljust(len(word)) if word.upper() == "SERVICE"
                        else " " * len(word)))
        if kind not in ("comment",) and word.strip():
            last = word.upper()
    for start, replacement in reversed(out):
        text = text[:start] + replacement + text[start + len(replacement):]
    return text


def check_syntax(query: Query) -> None:
    """Raise a QueryError with line and column if the query is not SPARQL 1.1."""
    try:
        # pyoxigraph runs what it parses: never let the check itself call a SERVICE
        ox.Store().query(_without_service(query.text))
    except SyntaxError as err:
        message = str(err)
        match = _OX_ERROR.search(message)
        if match:
            line, column, detail = int(match[1]), int(match[2]), match[3]
            detail = " ".join(detail.split())
            if len(detail) > 160:
                detail = detail[:157] + "..."
            raise QueryError(f"column {column}: SPARQL syntax error: {detail}", query.source,
                             line) from None
        raise QueryError(f"SPARQL syntax error: {message.splitlines()[0]}", query.source) from None


# ---------------------------------------------------------------------------- binding

_TOKEN = re.compile(r'''
    (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7-\uffff]+)
  | (?P<word>[A-Za-z_][\w.-]*:[\w.:%-]*|:[\w.:%-]*|[A-Za-z_][\w-]*)
  | (?P<open>\{) | (?P<close>\})
  | (?P<other>.)
''', re.X | re.S)


def _tokens(text: str) -> Iterator[tuple[str, str, int, int]]:
    """(kind, text, start, depth) for each token outside comments, strings and IRIs."""
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "close":
            depth -= 1
        yield kind, m.group(), m.start(), depth
        if kind == "open":
            depth += 1


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def check_no_service(query: Query) -> None:
    """Refuse a query with a ``SERVICE`` clause: it would make the engine fetch from a URL."""
    # also with codepoint escapes undone (S\u0045RVICE), as an engine that processes them sees it
    decoded = _CODEPOINT.sub(lambda m: chr(int(m[1] or m[2], 16)), query.text)
    for text in (query.text, decoded):
        for kind, word, start, _ in _tokens(text):
            if kind == "word" and word.upper() == "SERVICE":
                line = text.count("\n", 0, start) + 1
                raise QueryError("SERVICE clause refused: it makes the query engine fetch data "
                                 "from another server; pass --allow-service to run it",
                                 query.source, line)


def query_form(text: str) -> str:
    """``select``, ``construct``, ``ask`` or ``describe``: what a query returns."""
    for kind, word, _, depth in _tokens(text):
        if kind == "word" and depth == 0 and word.upper() in (
                "SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
            return word.lower()
    raise QueryError("not a SPARQL query (SELECT, CONSTRUCT, ASK or DESCRIBE)")


def _groups_using(text: str, names: Iterable[str]) -> dict[int, list[str]]:
    """Offset just after each ``{`` whose group itself mentions one of ``names`` -> those names.

    A CONSTRUCT template is not a group pattern and is skipped.
    """
    wanted = set(names)
    uses: dict[int, list[str]] = {}
    stack: list[int] = []
    form = None
    in_template = False
    main = -1
    for kind, word, start, depth in _tokens(text):
        if kind == "open" and depth == 0 and main < 0 and not in_template and form:
            main = start + 1
        if kind == "word" and depth == 0 and word.upper() in (
                "SELECT", "CONSTRUCT", "ASK", "DESCRIBE", "WHERE"):
            form = form or word.upper()
            in_template = form == "CONSTRUCT" and word.upper() == "CONSTRUCT"
        elif kind == "open":
            stack.append(-1 if in_template and depth == 0 else start + 1)
        elif kind == "close" and stack:
            stack.pop()
            if depth == 0:
                in_template = False
        elif kind == "var" and stack and stack[-1] >= 0 and word[1:] in wanted:
            group = uses.setdefault(stack[-1], [])
            if word[1:] not in group:
                group.append(word[1:])
    # a parameter used only outside group patterns (e.g. projected) is bound in the main group
    unused = sorted(wanted - {n for group in uses.values() for n in group})
    if unused and main >= 0:
        uses.setdefault(main, []).extend(unused)
    return uses


def term_text(term: Term) -> str:
    """A term in SPARQL / N-Triples syntax (quotes, braces, newlines escaped)."""
    return str(term)


_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def sparql_term(term: Term) -> str:
    """A term as SPARQL query text, safe from codepoint-escape processing.

    SPARQL lets ``\\uXXXX`` stand for a character anywhere in a query, and some engines (rdflib)
    replace them before parsing: a value holding backslash-``u`` would then change.  So a
    ``u``/``U`` after an escaped backslash is itself written as a codepoint escape (the 8-digit
    form: rdflib reads ``\\u`` followed by more hex digits as one longer escape).
    """
    if not isinstance(term, ox.Literal):
        return str(term)
    text = re.sub(r'[\\"\n\r\t]', lambda m: _STRING_ESCAPES[m[0]], term.value)
    text = re.sub(r"(?<=\\\\)[uU]", lambda m: f"\\U{ord(m[0]):08X}", text)
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype.value == XSD + "string":
        return f'"{text}"'
    return f'"{text}"^^<{term.datatype.value}>'


def values_block(bindings: Mapping[str, Term]) -> str:
    """``VALUES (?a ?b) { (term term) }`` for the bindings."""
    names = sorted(bindings)
    for name in names:
        if not _VARNAME.match(name):
            raise QueryError(f"bad parameter name {name!r}: use letters, digits and '_'")
    head = " ".join(f"?{n}" for n in names)
    row = " ".join(sparql_term(bindings[n]) for n in names)
    return f" VALUES ({head}) {{ ({row}) }} "


def resolve_params(query: Query, given: Mapping[str, str | Term]) -> dict[str, Term]:
    """Declared parameters with defaults applied and texts turned into typed terms.

    An undeclared name is an error for a query that declares parameters; a query without
    declarations takes any name, as a plain string (or as the term given).
    """
    declared = {p.name: p for p in query.params}
    out: dict[str, Term] = {}
    for name, value in given.items():
        param = declared.get(name)
        if param is None and declared:
            known = ", ".join(sorted(declared))
            raise QueryError(f"query {query.name!r} has no parameter {name!r} (it takes {known})")
        if not isinstance(value, str):
            out[name] = value
        else:
            out[name] = (param or Param(name)).term(value)
    for param in query.params:
        if param.name not in out:
            if param.default is None:
                raise QueryError(f"query {query.name!r} needs --param {param.name}=…")
            out[param.name] = param.term(param.default)
    return out


def bind(query: Query, params: Mapping[str, str | Term] | None = None) -> str:
    """The query text with its parameters bound.

    Each group pattern that mentions a parameter opens with a ``VALUES`` block binding it, so
    the value is in scope wherever the variable is used (nested groups, EXISTS, subqueries)
    under SPARQL's bottom-up evaluation -- the effect of pre-binding, in plain SPARQL 1.1.
    """
    bindings = resolve_params(query, params or {})
    text = query.text
    for at, names in sorted(_groups_using(text, bindings).items(), reverse=True):
        text = text[:at] + values_block({n: bindings[n] for n in names}) + text[at:]
    return text


def split_assignment(text: str) -> tuple[str, str]:
    """``key=value`` -> (key, value); the value may hold '=' and anything else."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise QueryError(f"--param expects KEY=VALUE, got {text!r}")
    return key.strip(), value


# ---------------------------------------------------------------------------- results


@dataclass
class Result:
    """A query's answer: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE)."""

    form: str
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    @property
    def is_graph(self) -> bool:
        """True for CONSTRUCT and DESCRIBE answers."""
        return self.form in ("construct", "describe")

    def column(self, name: str) -> list[str | None]:
        """The lexical values of one variable, row by row (None where unbound)."""
        return [row[name].value if name in row else None for row in self.rows]


def _from_ox(result: Any, form: str) -> Result:
    if isinstance(result, ox.QueryBoolean):
        return Result(form, boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = [{n: s[n] for n in names if s[n] is not None} for s in result]
        return Result(form, names, rows)
    return Result(form, triples=sorted(set(result), key=str))


def _to_ox(term: Any) -> Term:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD + "string")))
    raise QueryError(f"unexpected term in an rdflib result: {term!r}")


class Source(Protocol):
    """Somewhere a query runs: it takes the bound query text and gives a Result."""

    def run(self, text: str) -> Result: ...


@dataclass
class OxigraphSource:
    """A pyoxigraph store (in memory or on disk), its named graphs' union as default graph."""

    store: ox.Store

    def run(self, text: str) -> Result:
        form = query_form(text)
        try:
            answer = self.store.query(text, use_default_graph_as_union=True)
        except SyntaxError as err:
            raise QueryError(f"SPARQL syntax error: {err}") from None
        except OSError as err:
            raise QueryError(f"query failed: {err}") from None
        return _from_ox(answer, form)


@dataclass
class RdflibSource:
    """An rdflib Dataset whose default graph is the union of its graphs."""

    dataset: Any

    def run(self, text: str) -> Result:
        form = query_form(text)
        from rdflib.plugins import sparql

        # rdflib would fetch the IRI of a FROM clause from the web; kg's FROM names graphs
        load, sparql.SPARQL_LOAD_GRAPHS = sparql.SPARQL_LOAD_GRAPHS, False
        try:
            answer = self.dataset.query(text)
        except Exception as err:  # rdflib raises pyparsing and plain exceptions alike
            raise QueryError(f"rdflib could not run the query: {err}") from None
        finally:
            sparql.SPARQL_LOAD_GRAPHS = load
        if answer.type == "ASK":
            return Result(form, boolean=bool(answer.askAnswer))
        if answer.type == "SELECT":
            names = [str(v) for v in answer.vars]
            rows = [{n: _to_ox(b[v]) for n, v in zip(names, answer.vars, strict=True)
                     if b.get(v) is not None} for b in answer.bindings]
            return Result(form, names, rows)
        triples = {ox.Triple(_to_ox(s), _to_ox(p), _to_ox(o)) for s, p, o in answer.graph}
        return Result(form, triples=sorted(triples, key=str))


#: How an endpoint's default graph is made the union: "auto" finds out, "server" trusts the
#: server's default graph, "graphs" always names every dossier graph as a default-graph-uri.
UNION_MODES = ("auto", "server", "graphs")
_PROBE_UNION = f"ASK {{ ?m a <{KG}Mission> }}"
_DOSSIER_GRAPHS = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?d a <{KG}Dossier> }} }}"


@dataclass
class EndpointSource:
    """A SPARQL 1.1 endpoint over the SPARQL 1.1 Protocol (POST, form-encoded)."""

    url: str
    union: str = "auto"
    _default_graphs: list[str] | None = None

    def _post(self, text: str, accept: str, graphs: Sequence[str] = ()) -> Any:
        from .endpoint import Client, EndpointConfig

        client = Client(EndpointConfig.from_env(self.url))
        try:
            data = [("query", text), *(("default-graph-uri", g) for g in graphs)]
            return client.request("POST", self.url, data=data, headers={"Accept": accept})
        finally:
            client.close()

    def _select(self, text: str, graphs: Sequence[str] = ()) -> Result:
        response = self._post(text, "application/sparql-results+json", graphs)
        form = query_form(text)
        result = _from_ox(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON),
                          form)
        if form == "ask" and result.boolean is None:  # Virtuoso answers ASK with a row
            values = [t.value for row in result.rows for t in row.values()]
            result = Result(form, boolean=bool(values) and values[0] not in ("0", "false"))
        return result

    def default_graphs(self) -> list[str]:
        """The default-graph-uri list to send: none if the server's default graph is the union."""
        if self._default_graphs is None:
            graphs: list[str] = []
            if self.union == "graphs" or (
                    self.union == "auto" and not self._select(_PROBE_UNION).boolean):
                rows = self._select(_DOSSIER_GRAPHS).rows
                graphs = sorted(r["g"].value for r in rows if "g" in r)
            self._default_graphs = graphs
        return self._default_graphs

    def run(self, text: str) -> Result:
        form = query_form(text)
        graphs = self.default_graphs()
        if form in ("select", "ask"):
            return self._select(text, graphs)
        response = self._post(text, "application/n-triples, text/turtle;q=0.5", graphs)
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
        try:
            triples = {q.triple for q in ox.parse(response.content, format=fmt)}
        except SyntaxError as err:
            raise QueryError(f"unreadable {media} answer: {err}", self.url) from None
        return Result(form, triples=sorted(triples, key=str))


def oxigraph_source(quads: Iterable[ox.Quad]) -> OxigraphSource:
    """An in-memory pyoxigraph store holding ``quads``."""
    store = ox.Store()
    store.extend(quads)
    return OxigraphSource(store)


def rdflib_source(quads: Iterable[ox.Quad]) -> RdflibSource:
    """An in-memory rdflib Dataset holding ``quads``, queried over the union of its graphs."""
    import rdflib

    buffer = io.BytesIO()
    ox.serialize(list(quads), buffer, format=ox.RdfFormat.N_QUADS)
    dataset = rdflib.Dataset(default_union=True)
    # keep literals as written ("…Z", not rdflib's "+00:00"), as every other engine does
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        dataset.parse(data=buffer.getvalue().decode("utf-8"), format="nquads")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    return RdflibSource(dataset)


ENGINES = {"oxigraph": oxigraph_source, "rdflib": rdflib_source}
#: Files a ``kg build`` output directory is read from, best first.
BUILD_OUTPUTS = ("kg.nq", "kg.trig", "kg.ttl", "kg.nt")


def read_data(paths: Sequence[str | Path], base: str = DEFAULT_BASE) -> list[ox.Quad]:
    """Quads from RDF files, ``kg build`` output folders, or dossiers (built in memory)."""
    from .build import build

    quads: list[ox.Quad] = []
    dossiers: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            output = next((path / n for n in BUILD_OUTPUTS if (path / n).is_file()), None)
            if output is None:
                dossiers.append(str(path))
                continue
            path = output
        if rdf_format(path) is None:
            dossiers.append(str(path))
            continue
        for graph in read_file(path).values():
            quads.extend(graph)
    if dossiers:
        quads.extend(build(dossiers, base=base).quads)
    return quads


@contextmanager
def open_source(data: Sequence[str | Path] = (), store: str | Path | None = None,
                endpoint: str | None = None, engine: str = "oxigraph",
                union: str = "auto") -> Iterator[Source]:
    """The source a query runs on; with nothing given, kg's default build output.

    Default: ``./out/store`` if it exists, else ``./out/kg.nq``, else the bundled seeds built
    in memory.
    """
    if sum(bool(x) for x in (data, store, endpoint)) > 1:
        raise QueryError("give only one of --data, --store and --endpoint")
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r} (oxigraph or rdflib)")
    if endpoint:
        if union not in UNION_MODES:
            raise QueryError(f"unknown union mode {union!r} ({', '.join(UNION_MODES)})")
        yield EndpointSource(endpoint, union)
        return
    if store is None and not data and Path("out/store").is_dir():
        store = Path("out/store")
    if store is not None:
        from .store import open_store

        with open_store(store, read_only=True) as opened:
            yield OxigraphSource(opened)
        return
    if not data and Path("out/kg.nq").is_file():
        data = [Path("out/kg.nq")]
    if data:
        quads = read_data(data)
    else:
        from .build import build

        quads = build().quads
    yield ENGINES[engine](quads)


def run(query: Query, source: Source, params: Mapping[str, str | Term] | None = None,
        allow_service: bool = False) -> Result:
    """Bind the parameters and run the query on a source (``SERVICE`` only if allowed)."""
    if not allow_service:
        check_no_service(query)
    return source.run(bind(query, params))


# ---------------------------------------------------------------------------- formatting


def _display_prefixes(base: str) -> list[tuple[str, str]]:
    table = {**PREFIXES, **resource_prefixes(base), **DISPLAY_PREFIXES}
    return sorted(table.items(), key=lambda kv: -len(kv[1]))


def display(term: Term | None, prefixes: Sequence[tuple[str, str]]) -> str:
    """A term as a human reads it: prefixed IRI, literal's text."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in prefixes:
            if term.value.startswith(ns) and len(term.value) > len(ns):
                return f"{prefix}:{term.value[len(ns):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def _rows_of(result: Result) -> tuple[list[str], list[dict[str, Term]]]:
    if result.is_graph:
        names = ["subject", "predicate", "object"]
        return names, [dict(zip(names, (t.subject, t.predicate, t.object), strict=True))
                       for t in result.triples]
    if result.boolean is not None:
        return ["boolean"], [{"boolean": _typed("boolean")(str(result.boolean).lower())}]
    return result.variables, result.rows


def write_table(result: Result, out: IO[bytes], base: str) -> None:
    """An aligned text table (the terminal default for SELECT and ASK)."""
    prefixes = _display_prefixes(base)
    names, rows = _rows_of(result)
    cells = [[display(row.get(n), prefixes).replace("\n", " ") for n in names] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_csv(result: Result, out: IO[bytes], base: str) -> None:
    """SPARQL 1.1 Query Results CSV: IRIs and literal texts, CRLF line ends."""
    names, rows = _rows_of(result)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_cell(row.get(n)) for n in names])
    out.write(text.getvalue().encode("utf-8"))


def _csv_cell(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


def write_tsv(result: Result, out: IO[bytes], base: str) -> None:
    """SPARQL 1.1 Query Results TSV: ``?var`` header, terms in N-Triples syntax."""
    names, rows = _rows_of(result)
    lines = ["\t".join(f"?{n}" for n in names)]
    lines += ["\t".join(term_text(row[n]) if n in row else "" for n in names) for row in rows]
    out.write(("\n".join(lines) + "\n").encode("utf-8"))


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    raise QueryError(f"cannot write {term!r} as SPARQL JSON")


def write_json(result: Result, out: IO[bytes], base: str) -> None:
    """SPARQL 1.1 Query Results JSON."""
    if result.is_graph:
        raise QueryError("json is for SELECT and ASK answers; use --format jsonld for graphs")
    if result.boolean is not None:
        doc: dict[str, Any] = {"head": {}, "boolean": result.boolean}
    else:
        doc = {"head": {"vars": result.variables},
               "results": {"bindings": [{n: _json_term(t) for n, t in row.items()}
                                        for row in result.rows]}}
    out.write((json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def _graph_writer(name: str) -> Any:
    def write(result: Result, out: IO[bytes], base: str) -> None:
        if not result.is_graph:
            raise QueryError(f"{name} is for CONSTRUCT and DESCRIBE answers; "
                             "use table, csv, tsv or json")
        from .export import write as write_rdf

        write_rdf([ox.Quad(t.subject, t.predicate, t.object) for t in result.triples], out,
                  name, base)
    return write


#: Result format name -> writer; ``graph`` formats are for CONSTRUCT/DESCRIBE answers.
RESULT_FORMATS: dict[str, Any] = {
    "table": write_table,
    "csv": write_csv,
    "tsv": write_tsv,
    "json": write_json,
    "ttl": _graph_writer("ttl"),
    "nt": _graph_writer("nt"),
    "jsonld": _graph_writer("jsonld"),
}
_EXTENSIONS = {".txt": "table", ".csv": "csv", ".tsv": "tsv", ".json": "json", ".srj": "json",
               ".ttl": "ttl", ".nt": "nt", ".jsonld": "jsonld"}


def pick_format(result: Result, fmt: str | None, output: str | None = None) -> str:
    """The format asked for, else the output file's extension, else table / Turtle."""
    if fmt is None and output and output != "-":
        fmt = _EXTENSIONS.get(Path(output).suffix.lower())
    if fmt is None:
        return "ttl" if result.is_graph else "table"
    if fmt not in RESULT_FORMATS:
        raise QueryError(f"unknown result format {fmt!r}; choose from "
                         f"{', '.join(RESULT_FORMATS)}")
    return fmt


def write_result(result: Result, out: IO[bytes], fmt: str, base: str = DEFAULT_BASE) -> None:
    """Write a result in one of RESULT_FORMATS."""
    RESULT_FORMATS[fmt](result, out, base)


def format_result(result: Result, fmt: str = "table", base: str = DEFAULT_BASE) -> str:
    """A result written in ``fmt``, as text."""
    buffer = io.BytesIO()
    write_result(result, buffer, fmt, base)
    return buffer.getvalue().decode("utf-8")


def listing() -> str:
    """What ``kg query --list`` prints: each bundled query, its description and parameters."""
    blocks = []
    for name in bundled_names():
        q = bundled(name)
        lines = [f"{name} [{q.form.upper()}] — {q.title}", f"    {q.description}"]
        lines += [f"    --param {p.describe()}" + (f": {p.doc}" if p.doc else "")
                  for p in q.params]
        lines += [f"    e.g. {e}" for e in q.examples]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
