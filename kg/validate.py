"""SHACL validation of kg's graphs, with a report that points back at dossier files and lines.

The shapes in ``kg/shapes/`` come in two scopes.  ``corpus.ttl`` holds the rules across dossiers
and runs once on the merged graph; every other file only needs one dossier's named graph and runs
per graph (independent tasks: :func:`validate_graphs` takes a ``mapper`` so a process pool can
run them).  The results, deduplicated, are the results of one pyshacl run of all shapes over the
merged graph (:func:`validate_whole` does that run; the tests compare the two).

    >>> from kg import build
    >>> from kg.validate import validate
    >>> report = validate(build())
    >>> report.conforms, report.exit_code()
    (True, 0)
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD

from .errors import KgError
from .vocab import KG, PROV, SKOS

CORPUS_SHAPES = "corpus.ttl"
ONTOLOGY_SHAPES = "ontology.ttl"
SHAPES_NS = "https://w3id.org/spacekg/shapes#"
SEVERITIES = ("Violation", "Warning", "Info")
EXIT_CONFORMS, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2

#: Properties from other vocabularies that kg's model uses (not declared in kg's ontology).
EXTERNAL_PROPERTIES = (str(RDF.type), str(RDFS.label), SKOS + "altLabel", SKOS + "prefLabel",
                       SKOS + "inScheme", PROV + "wasDerivedFrom")

_K = rdflib.Namespace(KG)

Graphs = Mapping[str | None, Sequence[ox.Quad | ox.Triple]]


# ---------------------------------------------------------------------------- shapes


def shapes_files() -> dict[str, str]:
    """The shipped shapes files, name -> Turtle text."""
    root = files("kg.shapes")
    return {f.name: f.read_text("utf-8") for f in sorted(root.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".ttl")}


@cache
def shapes_graph(scope: str = "all") -> rdflib.Graph:
    """Shapes for ``scope``: 'dossier' (per graph), 'corpus' (merged graph) or 'all'."""
    if scope not in {"dossier", "corpus", "all"}:
        raise ValueError(scope)
    g = rdflib.Graph()
    for name, text in shapes_files().items():
        if scope == "all" or (name == CORPUS_SHAPES) == (scope == "corpus"):
            g.parse(data=text, format="turtle", publicID=SHAPES_NS)
    return g


def ontology_shapes_text() -> str:
    """The Turtle of ``shapes/ontology.ttl``, derived from the shipped ontology.

    One closed shape lists every declared property (anything else is flagged), and one shape per
    property with an ``rdfs:domain`` requires its subjects to be of that class.  A test keeps the
    file in step with the ontology: regenerate with
    ``python -c "from kg.validate import ontology_shapes_text as t; print(t(), end='')"
    > shapes/ontology.ttl``.
    """
    from .ontology import declared_properties, ontology

    onto = ontology()
    declared = sorted(declared_properties() | set(EXTERNAL_PROPERTIES))

    def curie(iri: str) -> str:
        for prefix, ns in (("kg", KG), ("rdf", str(RDF)), ("rdfs", str(RDFS)), ("skos", SKOS),
                           ("prov", PROV)):
            if iri.startswith(ns) and iri[len(ns):].replace("_", "").isalnum():
                return f"{prefix}:{iri[len(ns):]}"
        return f"<{iri}>"

    lines = [
        "@prefix sh:   <http://www.w3.org/ns/shacl#> .",
        f"@prefix kg:   <{KG}> .",
        f"@prefix kgsh: <{SHAPES_NS}> .",
        f"@prefix rdf:  <{RDF}> .",
        f"@prefix rdfs: <{RDFS}> .",
        f"@prefix skos: <{SKOS}> .",
        f"@prefix prov: <{PROV}> .",
        "",
        "# GENERATED from kg/data/ontology.ttl by kg.validate.ontology_shapes_text(): do not edit.",
        "# The ontology's own consistency: every property used in the data is declared in the",
        "# shipped ontology (or is one of the few rdf/rdfs/skos/prov terms kg uses), and the",
        "# subject of every property with an rdfs:domain is of that class. Per-dossier shapes.",
        "",
        "kgsh:DeclaredProperties a sh:NodeShape ;",
        "    sh:targetSubjectsOf rdf:type, rdfs:label ;",
        "    sh:closed true ;",
        "    sh:ignoredProperties (",
        *[f"        {curie(p)}" for p in declared],
        "    ) ;",
        "    sh:severity sh:Violation ;",
        '    sh:message "This property is not declared in the kg ontology." .',
    ]
    for prop in sorted(declared_properties()):
        domain = onto.value(rdflib.URIRef(prop), RDFS.domain)
        if domain is None or not prop.startswith(KG):
            continue
        local = prop[len(KG):]
        lines += [
            "",
            f"kgsh:Domain-{local} a sh:NodeShape ;",
            f"    sh:targetSubjectsOf {curie(prop)} ;",
            f"    sh:class {curie(str(domain))} ;",
            "    sh:severity sh:Violation ;",
            f'    sh:message "Only a {curie(str(domain))} may have {curie(prop)} '
            f'(the ontology\'s rdfs:domain)." .',
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- running pyshacl


@dataclass(frozen=True)
class ShaclResult:
    """One sh:ValidationResult, as plain comparable terms (N-Triples strings)."""

    focus: str
    path: str | None
    value: str | None
    shape: str
    component: str
    severity: str
    message: str
    constraint: str  # sh:sourceConstraint of a SPARQL constraint, else the shape


def result_key(r: ShaclResult) -> tuple[str, ...]:
    """Sort key of a result (absent path or value sort first)."""
    return (r.focus, r.path or "", r.value or "", r.shape, r.constraint, r.component,
            r.severity, r.message)


def _nt(term: Any) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.BNode):
        return "_:b"  # shapes never name blank nodes the data cares about
    return term.n3()


def _path_text(g: rdflib.Graph, path: Any) -> str | None:
    """A result path as text: the IRI, or '|'-joined IRIs of an sh:alternativePath."""
    if path is None or isinstance(path, rdflib.URIRef):
        return _nt(path)
    alt = g.value(path, SH.alternativePath)
    if alt is not None:
        return "|".join(sorted(_nt(t) or "" for t in rdflib.collection.Collection(g, alt)))
    inv = g.value(path, SH.inversePath)
    return f"^{_nt(inv)}" if inv is not None else "_:path"


def results_of(report: rdflib.Graph) -> list[ShaclResult]:
    """The results of an sh:ValidationReport graph (any engine's)."""
    out = []
    # Top-level results only: engines also type nested sh:detail results as ValidationResult.
    for r in report.objects(None, SH.result):
        messages = sorted(str(m) for m in report.objects(r, SH.resultMessage))
        sev = report.value(r, SH.resultSeverity)
        out.append(ShaclResult(
            focus=_nt(report.value(r, SH.focusNode)) or "",
            path=_path_text(report, report.value(r, SH.resultPath)),
            value=_nt(report.value(r, SH.value)),
            shape=_nt(report.value(r, SH.sourceShape)) or "",
            component=_nt(report.value(r, SH.sourceConstraintComponent)) or "",
            severity=str(sev).removeprefix(str(SH)) if sev is not None else "Violation",
            message=messages[0] if messages else "",
            constraint=_nt(report.value(r, SH.sourceConstraint) or report.value(r, SH.sourceShape))
            or "",
        ))
    return sorted(set(out), key=result_key)


@cache
def _prepared(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


def _cache_sparql_parsing() -> None:
    """Make rdflib parse each SPARQL text once.

    pyshacl hands rdflib the same query string for every focus node of a SHACL-SPARQL constraint,
    and parsing costs ~60 ms a time (most of a run's time); a prepared query gives the same
    answers with different initial bindings, which is what rdflib's prepareQuery is for.
    """
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    original = SPARQLProcessor.query
    if getattr(original, "_kg_cached", False):
        return

    def query(self: Any, query: Any, initBindings: Any = None, initNs: Any = None,  # noqa: N803
              base: str | None = None, DEBUG: bool = False) -> Any:  # noqa: N803
        if isinstance(query, str):
            query = _prepared(query, base, tuple(sorted((initNs or {}).items())))
        return original(self, query, initBindings, initNs, base, DEBUG)

    query._kg_cached = True  # type: ignore[attr-defined]
    SPARQLProcessor.query = query  # type: ignore[method-assign]


def run_pyshacl(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, list[ShaclResult]]:
    """One pyshacl run: (sh:conforms, results)."""
    import pyshacl

    _cache_sparql_parsing()

    conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                               advanced=False, inplace=True)
    return bool(conforms), results_of(report)


_XSD_STRING = str(XSD.string)


def to_rdflib(term: Any) -> Any:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return rdflib.Literal(term.value, datatype=None if dt == _XSD_STRING else rdflib.URIRef(dt))
    raise TypeError(f"unsupported term {term!r}")


def rdflib_graph(triples: Iterable[ox.Quad | ox.Triple]) -> rdflib.Graph:
    """The triples (graph names dropped) as one rdflib graph."""
    g = rdflib.Graph()
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g


def validate_one_graph(triples: Sequence[ox.Quad | ox.Triple]) -> list[ShaclResult]:
    """Run the per-dossier shapes on one dossier's graph (a self-contained, picklable task).

    kg's compiled engine (:mod:`kg.shacl`); tests hold it to pyshacl's exact results.
    """
    from .shacl import engine

    return engine("dossier").validate(triples)


def validate_one_graph_pyshacl(triples: Sequence[ox.Quad | ox.Triple]) -> list[ShaclResult]:
    """The same with pyshacl, the reference implementation (``kg validate --engine pyshacl``)."""
    return run_pyshacl(rdflib_graph(triples), shapes_graph("dossier"))[1]


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Finding:
    """A validation result with what a person needs to act on it."""

    severity: str
    message: str
    focus: str
    focus_label: str | None
    path: str | None
    value: str | None
    value_label: str | None
    shape: str
    constraint: str
    component: str
    mission: str | None
    mission_label: str | None
    dossier: str | None
    file: str | None
    lines: tuple[int, ...]

    @property
    def where(self) -> str | None:
        """``file:line[,line]`` the failing fact came from, when known."""
        if not self.file:
            return None
        return f"{self.file}:{','.join(map(str, self.lines))}" if self.lines else self.file

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "focus": self.focus,
                "focus_label": self.focus_label, "path": self.path, "value": self.value,
                "value_label": self.value_label, "file": self.file, "lines": list(self.lines),
                "shape": self.shape, "constraint": self.constraint, "component": self.component}


@dataclass
class Report:
    """The outcome of ``kg validate``: findings grouped by mission, with renderings."""

    findings: list[Finding]
    graphs: int
    triples: int
    problems: list[str] = field(default_factory=list)  # input problems (dossiers not read)
    results: list[ShaclResult] = field(default_factory=list)  # the raw SHACL results

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    @property
    def conforms(self) -> bool:
        """No violations (warnings and infos allowed)."""
        return self.count("Violation") == 0

    def exit_code(self, strict: bool = False) -> int:
        """0 conforms, 1 violations (or warnings with ``strict``), 2 input problems."""
        if self.problems:
            return EXIT_INPUT
        if not self.conforms or (strict and self.count("Warning")):
            return EXIT_VIOLATIONS
        return EXIT_CONFORMS

    def by_mission(self) -> list[tuple[str | None, str | None, list[Finding]]]:
        """Findings grouped by mission (missions by label, then shared nodes last)."""
        groups: dict[str | None, list[Finding]] = defaultdict(list)
        labels: dict[str | None, str | None] = {}
        for f in self.findings:
            groups[f.mission].append(f)
            labels[f.mission] = f.mission_label
        order = sorted(groups, key=lambda m: (m is None, labels[m] or m or ""))
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return [(m, labels[m], sorted(groups[m], key=lambda f: (
            rank.get(f.severity, 9), f.where or "", f.focus, f.message, f.value or "")))
            for m in order]

    def summary(self) -> str:
        verdict = "conforms" if self.conforms else "does not conform"
        counts = ", ".join(f"{self.count(s)} {s.lower()}{'s' if self.count(s) != 1 else ''}"
                           for s in SEVERITIES)
        return f"{verdict}: {counts} ({self.graphs} graphs, {self.triples} triples)"

    def text(self) -> str:
        """The human report: by mission, severity, message, node, value, file:line."""
        out = [f"kg validate: {self.summary()}"]
        for mission, label, findings in self.by_mission():
            out.append("")
            out.append(f"{label or mission}" + (f"  <{mission}>" if mission else "")
                       if mission else "Shared nodes (not one mission's)")
            for f in findings:
                out.append(f"  {f.severity.upper():9} {f.message}")
                node = f.focus_label or f.focus
                detail = f"node: {node}"
                if f.path:
                    detail += f"  property: {_short(f.path)}"
                if f.value is not None:
                    detail += f"  value: {f.value_label or f.value}"
                out.append(f"            {detail}")
                if f.where:
                    out.append(f"            at {f.where}")
        return "\n".join(out) + "\n"

    def json(self) -> str:
        """The report as JSON: summary counts and the findings grouped by mission."""
        doc = {
            "conforms": self.conforms,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "graphs": self.graphs,
            "triples": self.triples,
            "problems": self.problems,
            "missions": [{"mission": m, "label": label,
                          "results": [f.as_dict() for f in fs]}
                         for m, label, fs in self.by_mission()],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"

    def graph(self) -> rdflib.Graph:
        """The standard sh:ValidationReport (sh:conforms is SHACL's: true only with no results).

        Each result links the dossier source lines its value came from with ``rdfs:seeAlso``.
        """
        g = rdflib.Graph()
        g.bind("sh", SH)
        g.bind("kg", _K)
        g.bind("kgsh", rdflib.Namespace(SHAPES_NS))
        report = rdflib.BNode("report")
        g.add((report, RDF.type, SH.ValidationReport))
        g.add((report, SH.conforms, rdflib.Literal(not self.findings)))
        for i, f in enumerate(sorted(self.findings, key=lambda f: (f.focus, f.shape, f.value or ""))):
            r = rdflib.BNode(f"r{i}")
            g.add((report, SH.result, r))
            g.add((r, RDF.type, SH.ValidationResult))
            focus = rdflib.BNode() if f.focus.startswith("_:") else (
                _term(f.focus) if f.focus.startswith('"') else rdflib.URIRef(f.focus))
            g.add((r, SH.focusNode, focus))
            if f.path and not f.path.startswith(("_:", "^")) and "|" not in f.path:
                g.add((r, SH.resultPath, _term(f.path)))
            if f.value is not None and not f.value.startswith("_:"):
                g.add((r, SH.value, _term(f.value)))
            g.add((r, SH.resultSeverity, SH[f.severity]))
            g.add((r, SH.resultMessage, rdflib.Literal(f.message)))
            if not f.shape.startswith("_:"):
                g.add((r, SH.sourceShape, _term(f.shape)))
            g.add((r, SH.sourceConstraintComponent, _term(f.component)))
            for line in f.lines if f.dossier else ():
                g.add((r, RDFS.seeAlso, rdflib.URIRef(f"{f.dossier}#L{line}")))
        return g

    def turtle(self) -> str:
        return self.graph().serialize(format="turtle")

    def render(self, fmt: str) -> str:
        """The report as 'text', 'turtle' or 'json'."""
        if fmt == "text":
            return self.text()
        if fmt == "turtle":
            return self.turtle()
        if fmt == "json":
            return self.json()
        raise ValueError(f"unknown report format {fmt!r}; choose text, turtle or json")


def _term(nt: str) -> Any:
    """An N-Triples term back to rdflib."""
    if nt.startswith("<"):
        return rdflib.URIRef(nt[1:-1])
    g = rdflib.Graph().parse(data=f"<urn:s> <urn:p> {nt} .", format="nt")
    return next(iter(g.objects()))


def _short(path: str) -> str:
    for prefix, ns in (("kg:", KG), ("rdfs:", str(RDFS)), ("skos:", SKOS), ("prov:", PROV)):
        path = path.replace(f"<{ns}", prefix)
    return path.replace(">", "").replace("<", "")


# ---------------------------------------------------------------------------- provenance


class Provenance:
    """Where facts came from: which named graph (dossier) states a triple, and on which line."""

    def __init__(self, graphs: Graphs):
        self.triple_graphs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self.subject_graphs: dict[str, Counter[str]] = defaultdict(Counter)
        self.out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.inv: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for name, triples in graphs.items():
            self._add(name, ((str(t.subject), str(t.predicate), str(t.object)) for t in triples))

    @classmethod
    def from_lines(cls, graphs: Mapping[str, Iterable[str]]) -> Provenance:
        """The same from N-Triples lines (``<s> <p> o .``) per graph, as kg's writers make
        them: no term objects to build."""
        from .chunks import split_line

        prov = cls({})
        for name, lines in graphs.items():
            prov._add(name, map(split_line, lines))
        return prov

    def _add(self, name: str | None, triples: Iterable[tuple[str, str, str]]) -> None:
        for s, p, o in triples:
            if name is not None:
                self.triple_graphs[(s, p, o)].add(name)
                self.subject_graphs[s][name] += 1
            self.out[s][p].append(o)
            self.inv[o][p].append(s)

    def first(self, node: str, prop: str) -> str | None:
        values = sorted(set(self.out.get(node, {}).get(prop, ())))
        return values[0] if values else None

    def label(self, node: str | None) -> str | None:
        if node is None or not node.startswith("<"):
            return None
        lit = self.first(node, f"<{RDFS.label}>")
        return _lexical(lit) if lit else None

    def dossier_of(self, focus: str, prop: str | None, value: str | None) -> str | None:
        """The dossier a result's fact came from (N-Triples IRI), if one can be told."""
        if prop and value is not None and (focus, prop, value) in self.triple_graphs:
            return "<" + sorted(self.triple_graphs[(focus, prop, value)])[0] + ">"
        owner = self.owner_mission(focus)
        if owner and (d := self.first(owner, f"<{PROV}wasDerivedFrom>")):
            return d
        if focus in self.out and self.first(focus, f"<{RDF.type}>") == f"<{KG}Dossier>":
            return focus
        if (dossiers := self.inv.get(focus, {}).get(f"<{KG}sourceLine>")):
            return sorted(dossiers)[0]
        if focus in self.subject_graphs:  # the graph that says most about the node
            name = min(self.subject_graphs[focus].items(), key=lambda kv: (-kv[1], kv[0]))[0]
            return f"<{name}>"
        return None

    def owner_mission(self, node: str) -> str | None:
        """The mission a mission, spacecraft or launch node belongs to."""
        if self.first(node, f"<{PROV}wasDerivedFrom>"):
            return node
        for prop in ("spacecraft", "launch"):
            owners = sorted(self.inv.get(node, {}).get(f"<{KG}{prop}>", ()))
            if owners:
                return owners[0]
        return None

    def mission_of(self, focus: str, dossier: str | None) -> str | None:
        """The mission to group a result under."""
        if f"<{KG}Mission>" in self.out.get(focus, {}).get(f"<{RDF.type}>", ()):
            return focus
        if (owner := self.owner_mission(focus)):
            return owner
        if dossier:
            missions = sorted(self.inv.get(dossier, {}).get(f"<{PROV}wasDerivedFrom>", ()))
            return missions[0] if missions else None
        return None

    def lines(self, dossier: str | None, prop: str | None) -> tuple[int, ...]:
        """Line numbers of the dossier's source lines that stated ``prop``."""
        if not dossier or not prop:
            return ()
        props = {f"<{p}>" for p in prop.strip("<>").split(">|<")}
        found = set()
        for line in self.out.get(dossier, {}).get(f"<{KG}sourceLine>", ()):
            stated = set(self.out.get(line, {}).get(f"<{KG}statesProperty>", ()))
            if stated & props and (n := self.first(line, f"<{KG}lineNumber>")):
                found.add(int(_lexical(n)))
        return tuple(sorted(found))

    def actual_property(self, focus: str, path: str | None, value: str | None) -> str | None:
        """For an alternative path, the one property that links focus and value."""
        if not path or "|" not in path or value is None:
            return path
        for p in path.split("|"):
            if value in self.out.get(focus, {}).get(p, ()):
                return p
        return path

    def finding(self, r: ShaclResult) -> Finding:
        path = self.actual_property(r.focus, r.path, r.value)
        dossier = self.dossier_of(r.focus, path, r.value)
        mission = self.mission_of(r.focus, dossier)
        file_lit = self.first(dossier, f"<{KG}fileName>") if dossier else None
        value_label = self.label(r.value) if r.value else None
        return Finding(
            severity=r.severity, message=r.message, focus=r.focus.strip("<>"),
            focus_label=self.label(r.focus), path=path, value=r.value, value_label=value_label,
            shape=r.shape, constraint=r.constraint, component=r.component,
            mission=mission.strip("<>") if mission else None,
            mission_label=self.label(mission), dossier=dossier.strip("<>") if dossier else None,
            file=_lexical(file_lit) if file_lit else None, lines=self.lines(dossier, path))


def _lexical(nt: str) -> str:
    """The lexical form of an N-Triples literal (or the IRI of an IRI)."""
    if nt.startswith("<"):
        return nt[1:-1]
    return next(ox.parse(f"<urn:s> <urn:p> {nt} .", format=ox.RdfFormat.N_TRIPLES)).object.value


# ---------------------------------------------------------------------------- entry points


def validate_graphs(graphs: Graphs, mapper: Callable[..., Iterable[list[ShaclResult]]] = map,
                    problems: Sequence[str] = (), engine: str = "kg") -> Report:
    """Validate named graphs: per-dossier shapes per graph (via ``mapper``), corpus rules merged.

    ``graphs`` maps a graph name (``None`` for default-graph triples) to its quads or triples.
    ``mapper`` is ``map`` or, for parallel runs, a pool's ``map`` over :func:`validate_one_graph`.
    """
    units = [list(triples) for _name, triples in sorted(graphs.items(), key=lambda kv: kv[0] or "")]
    results: set[ShaclResult] = set()
    one = validate_one_graph_pyshacl if engine == "pyshacl" else validate_one_graph
    for found in mapper(one, units):
        results.update(found)
    if engine == "pyshacl":
        merged = rdflib_graph(t for unit in units for t in unit)
        results.update(run_pyshacl(merged, shapes_graph("corpus"))[1])
        triples = len(merged)
    else:
        from .shacl import engine as compiled

        merged_triples = {t.triple if isinstance(t, ox.Quad) else t for u in units for t in u}
        results.update(compiled("corpus").validate(merged_triples))
        triples = len(merged_triples)
    prov = Provenance(graphs)
    ordered = sorted(results, key=result_key)
    return Report([prov.finding(r) for r in ordered], graphs=len(graphs),
                  triples=triples, problems=list(problems), results=ordered)


def corpus_results(store: ox.Store, jobs: int = 1) -> list[ShaclResult]:
    """The corpus rules (``shapes/corpus.ttl``) over a store's union of named graphs, up to
    ``jobs`` rules side by side."""
    from .shacl import engine as compiled

    return compiled("corpus").validate_store(store, core=True, jobs=jobs)


def validate_store(store: ox.Store, dossier_results: Iterable[ShaclResult],
                   dossier_findings: Iterable[Finding], graphs: int, triples: int,
                   problems: Sequence[str] = (),
                   corpus: Sequence[ShaclResult] | None = None,
                   located: Mapping[ShaclResult, Finding] | None = None) -> Report:
    """Finish a streaming build's validation on its store.

    The build's workers ran the per-dossier shapes and located their results; the corpus rules
    run here (unless their ``corpus`` results are given), once, over the store's union of named
    graphs, and their results are located (unless ``located`` holds them, see
    :func:`locate_corpus`).
    """
    if corpus is None:
        corpus = corpus_results(store)
    if located is None:
        located = locate_corpus(store, corpus, involved_graphs(store, corpus))
    where = {r: f for r, f in zip(dossier_results, dossier_findings, strict=True)}
    for r in corpus:
        where.setdefault(r, located[r])
    ordered = sorted(where, key=result_key)
    return Report([where[r] for r in ordered], graphs=graphs, triples=triples,
                  problems=list(problems), results=ordered)


def involved_graphs(store: ox.Store, corpus: Iterable[ShaclResult]) -> set[str]:
    """The named graphs that say something about a result's focus node or value: where
    :func:`locate_corpus` looks."""
    involved: set[str] = set()
    for r in corpus:
        for node in (r.focus, r.value):
            if node and node.startswith("<"):
                q = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {node} ?p ?o }} }}"
                involved.update(row["g"].value for row in store.query(q))
    return involved


def locate_corpus(store: ox.Store, corpus: Iterable[ShaclResult],
                  involved: Iterable[str]) -> dict[ShaclResult, Finding]:
    """The corpus rules' results located in their dossiers, from the ``involved`` graphs
    alone: while those graphs hold the same triples, the findings are the same."""
    # (As N-Triples lines, which the store writes itself: term objects would cost a Python
    # object per attribute.)
    lines = {g: store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g))
             .decode("utf-8").splitlines() for g in sorted(involved)}
    prov = Provenance.from_lines(lines)
    return {r: prov.finding(r) for r in corpus}


def validate_whole(graphs: Graphs) -> tuple[bool, list[ShaclResult]]:
    """The reference: one pyshacl run of every shape over the merged graph."""
    merged = rdflib_graph(t for triples in graphs.values() for t in triples)
    return run_pyshacl(merged, shapes_graph("all"))


def read_graph_files(paths: Iterable[str | Path]) -> dict[str | None, list[ox.Quad]]:
    """Read RDF files in any format kg writes into named graphs (default graph under None),
    through kg's one safe reader (no network, no entity expansion, size and depth limits)."""
    from . import rdfio

    return rdfio.read_files(paths)


def validate(source: Any = None, base: str | None = None,
             mapper: Callable[..., Iterable[list[ShaclResult]]] = map,
             engine: str = "kg") -> Report:
    """Validate a :class:`kg.build.BuildResult`, or paths (dossiers and/or graph files).

    With no source, the bundled seeds are built and validated.
    """
    from .build import BuildResult, build, find_dossiers
    from .vocab import DEFAULT_BASE

    if isinstance(source, BuildResult):
        return validate_graphs(source.graphs(), mapper,
                               [str(p) for p in source.errors], engine)
    paths = [Path(p) for p in source] if source is not None else []
    rdf_files = [p for p in paths if not p.is_dir() and p.suffix.lower() != ".txt" and str(p) != "-"]
    dossiers = [p for p in paths if p not in rdf_files]
    for p in rdf_files:
        if not p.exists():
            raise KgError("no such file or directory", str(p))
    graphs: dict[str | None, list[Any]] = {}
    problems: list[str] = []
    if dossiers or not paths:
        result = build([str(p) for p in find_dossiers(dossiers)] if dossiers else None,
                       base=base or DEFAULT_BASE)
        graphs.update(result.graphs())
        problems = [str(p) for p in result.errors]
    for name, quads in read_graph_files(rdf_files).items():
        graphs.setdefault(name, []).extend(quads)
    if not graphs:
        raise KgError("nothing to validate: no triples in the input")
    return validate_graphs(graphs, mapper, problems, engine)
