"""A compiled SHACL engine for the subset of SHACL Core and SHACL-SPARQL that kg's shapes use.

pyshacl is the reference (``kg.validate.run_pyshacl``), and a test checks that this engine gives
exactly its results, focus node for focus node, on the corpus, on every broken fixture and on a
generated corpus. This engine exists for speed: shapes are read once, each dossier's graph is
indexed in plain dicts, and SHACL-SPARQL constraints run on pyoxigraph — thousands of dossiers a
second instead of a handful. A shape using a feature outside the subset is refused when the
shapes are compiled (:class:`Unsupported`), never evaluated approximately.
"""

from __future__ import annotations

import gc
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache, partial
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD

from .locality import Reach
from .validate import ShaclResult, result_key, shapes_graph

_RDF_TYPE = str(RDF.type)
_NUMERIC = {str(XSD[t]) for t in ("integer", "decimal", "double", "float", "int", "long",
                                  "short", "byte", "nonNegativeInteger", "positiveInteger",
                                  "negativeInteger", "nonPositiveInteger", "unsignedInt",
                                  "unsignedLong", "unsignedShort", "unsignedByte")}
_HANDLED = {SH.path, SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.nodeKind,
            SH.pattern, SH.flags, SH["or"], SH.node, SH.closed, SH.ignoredProperties,
            SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive, SH["in"],
            SH.minLength, SH.maxLength, SH.property, SH.sparql, SH.message,
            SH.severity, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode,
            SH.name, SH.description, SH.order, SH.group, SH.deactivated}


#: Focus nodes around a change beyond which a constraint runs on the whole store again.
AROUND_LIMIT = 2000


class Unsupported(ValueError):
    """The shapes use a SHACL feature this engine does not implement."""


def _nt(term: Any) -> str:
    """N-Triples form of a node (see :class:`Data`) or a pyoxigraph term, as
    :class:`ShaclResult` holds terms."""
    if isinstance(term, str):
        return "_:b" if term.startswith("_:") else term
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal):
        return rdflib_literal(term).n3()
    return f"<{term.value}>"


def _id(term: Any) -> Any:
    """A node as :class:`Data` holds it: IRIs and blank nodes as their N-Triples text (cheap to
    hash and compare), literals as pyoxigraph literals."""
    return term if isinstance(term, ox.Literal) else str(term)


@cache
def _rdflib_dt(dt: str) -> rdflib.URIRef | None:
    return None if dt == str(XSD.string) else rdflib.URIRef(dt)


def rdflib_literal(term: ox.Literal) -> rdflib.Literal:
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=_rdflib_dt(term.datatype.value))


def _to_ox(term: Any) -> Any:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    raise Unsupported(f"blank node {term} as a constant in a shape")


# ------------------------------------------------------------------ the data


_EMPTY: dict[str, list[Any]] = {}
_SUBCLASS = str(rdflib.RDFS.subClassOf)


def _link(table: dict[Any, dict[str, list[Any]]], a: Any, p: str, b: Any) -> None:
    by_pred = table.get(a)
    if by_pred is None:
        table[a] = {p: [b]}
    elif (values := by_pred.get(p)) is None:
        by_pred[p] = [b]
    else:
        values.append(b)


class Data:
    """One graph indexed for shape evaluation (subject -> predicate -> objects).

    Nodes are held as :func:`_id` gives them: IRIs and blank nodes as N-Triples text, literals as
    pyoxigraph literals. ``quads`` are the graph's distinct quads or triples; ``spo`` their
    terms so, when the caller has them (see :meth:`from_lines`).
    """

    def __init__(self, quads: Iterable[ox.Triple | ox.Quad],
                 spo: Iterable[tuple[Any, str, Any]] | None = None, distinct: bool = False):
        self.out: dict[Any, dict[str, list[Any]]] = {}
        self.subjects_of: dict[str, set[Any]] = defaultdict(set)
        self.instances: dict[str, set[Any]] = defaultdict(set)
        self.quads = list(dict.fromkeys(quads)) if spo is None else list(quads)
        if spo is None:
            spo = ((_id(t.subject), t.predicate.value, _id(t.object)) for t in self.quads)
        seen: set[tuple[Any, str, Any]] = set()
        out, subjects_of, instances = self.out, self.subjects_of, self.instances
        for s, p, o in spo:
            if not distinct:
                if (s, p, o) in seen:  # the same triple in two graphs
                    continue
                seen.add((s, p, o))
            _link(out, s, p, o)
            subjects_of[p].add(s)
            if p == _RDF_TYPE and isinstance(o, str):
                instances[o[1:-1]].add(s)
        self._inv: dict[Any, dict[str, list[Any]]] | None = None
        self._objects_of: dict[str, set[Any]] | None = None
        self._store: ox.Store | None = None
        self.kept: list[str] = []  # N-Quads lines, see from_lines
        self._types: dict[Any, frozenset[str]] = {}

    @property
    def inv(self) -> dict[Any, dict[str, list[Any]]]:
        """object -> predicate -> subjects; built when first asked (for inverse paths only)."""
        if self._inv is None:
            self._inv = {}
            for s, by_pred in self.out.items():
                for p, objects in by_pred.items():
                    for o in objects:
                        _link(self._inv, o, p, s)
        return self._inv

    @property
    def objects_of(self) -> dict[str, set[Any]]:
        """predicate -> its objects; built when first asked (for sh:targetObjectsOf only)."""
        if self._objects_of is None:
            self._objects_of = defaultdict(set)
            for by_pred in self.out.values():
                for p, objects in by_pred.items():
                    self._objects_of[p].update(objects)
        return self._objects_of

    @classmethod
    def from_lines(cls, pairs: list[tuple[str, ox.Triple]], graph: str,
                   keep: frozenset[str] | None = None) -> Data:
        """From one graph's (N-Triples line, triple) pairs as :func:`kg.chunks.keyed` gives
        them: the terms come from the line, and only a literal object is read from its triple.
        ``kept`` lists, as N-Quads lines in ``graph``, the triples whose predicate is
        in ``keep`` (None: all of them)."""
        from .chunks import quad_end

        kept: list[str] = []
        end = quad_end(graph)

        def spo() -> Iterator[tuple[Any, str, Any]]:
            for line, t in pairs:  # as kg.chunks.split_line, inline: this runs per triple
                s, p, o = line.split(" ", 2)
                p = p[1:-1]
                if keep is None or p in keep:
                    kept.append(line[:-1] + end)
                yield s, p, (t.object if o[0] == '"' else o[:-2])

        data = cls([t for _line, t in pairs], spo(), distinct=True)
        data.kept = kept
        return data

    def values(self, node: Any, path: Path) -> list[Any]:
        if len(path.steps) == 1:  # the usual case: values are distinct already
            pred, inverse = path.steps[0]
            return (self.inv if inverse else self.out).get(node, _EMPTY).get(pred, ())
        out: list[Any] = []
        for pred, inverse in path.steps:
            source = self.inv if inverse else self.out
            out.extend(source.get(node, _EMPTY).get(pred, ()))
        return list(dict.fromkeys(out))

    def has_type(self, node: Any, cls: str) -> bool:
        # No rdfs:subClassOf reasoning beyond what the data states (as pyshacl without
        # inference): kg's data never states subclass triples, so a direct type check suffices
        # unless the data graph itself carries them.
        types = self._types.get(node)
        if types is None:  # asked for many shapes: each node's types are listed once
            types = self._types[node] = frozenset(
                o[1:-1] for o in self.out.get(node, _EMPTY).get(_RDF_TYPE, ())
                if isinstance(o, str) and o.startswith("<"))
        if cls in types:
            return True
        return bool(types) and bool(self.subjects_of.get(_SUBCLASS)) and \
            any(self._subclass(t, cls) for t in types)

    def _subclass(self, sub: str, sup: str, seen: frozenset[str] = frozenset()) -> bool:
        for parent in self.out.get(f"<{sub}>", _EMPTY).get(_SUBCLASS, ()):
            if not isinstance(parent, str) or not parent.startswith("<"):
                continue
            iri = parent[1:-1]
            if iri not in seen and (iri == sup or self._subclass(iri, sup, seen | {sub})):
                return True
        return False

    def store(self) -> ox.Store:
        if self._store is None:
            self._store = ox.Store()
            graph = ox.NamedNode("urn:kg:validation")  # queried as the union default graph
            self._store.extend(ox.Quad(t.subject, t.predicate, t.object, graph)
                               for t in self.quads)
        return self._store


# ------------------------------------------------------------------ compiled shapes


@dataclass(frozen=True)
class Path:
    """A predicate path, an inverse path, or an alternative of those."""

    steps: tuple[tuple[str, bool], ...]
    text: str  # as kg.validate reports it


@dataclass
class Shape:
    iri: str  # N-Triples form
    severity: str
    message: str
    path: Path | None = None
    targets: list[tuple[str, Any]] = field(default_factory=list)
    checks: list[tuple[str, Any]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[tuple[str, str, str, str]] = field(default_factory=list)  # iri, query, sev, msg
    closed: frozenset[str] | None = None
    #: The checks but the counts, compiled: (component, test of one value node), see :func:`_test`.
    tests: list[tuple[str, Callable[[Any, Data], bool]]] = field(default_factory=list)
    within: tuple[int, int] = (0, sys.maxsize)  # sh:minCount and sh:maxCount, or the defaults

    def may_fail(self, values: Sequence[Any], data: Data) -> bool:
        """Could a focus node with these values fail this property shape? A count out of
        range or a value failing a test says yes; then :meth:`Engine._failed` says how."""
        low, high = self.within
        if not low <= len(values) <= high:
            return True
        return bool(values) and not all(test(v, data) for _c, test in self.tests for v in values)


def _severity(g: rdflib.Graph, node: Any) -> str:
    sev = g.value(node, SH.severity)
    return str(sev).removeprefix(str(SH)) if sev is not None else "Violation"


def _message(g: rdflib.Graph, node: Any) -> str:
    msgs = sorted(str(m) for m in g.objects(node, SH.message))
    return msgs[0] if msgs else ""


def _path(g: rdflib.Graph, node: Any) -> Path:
    if isinstance(node, rdflib.URIRef):
        return Path(((str(node), False),), node.n3())
    alt = g.value(node, SH.alternativePath)
    if alt is not None:
        members = list(Collection(g, alt))
        if not all(isinstance(m, rdflib.URIRef) for m in members):
            raise Unsupported("sh:alternativePath of non-IRI paths")
        return Path(tuple((str(m), False) for m in members),
                    "|".join(sorted(m.n3() for m in members)))
    inv = g.value(node, SH.inversePath)
    if isinstance(inv, rdflib.URIRef):
        return Path(((str(inv), True),), f"^{inv.n3()}")
    raise Unsupported(f"path {node}")


class Engine:
    """The shapes of one shapes graph, compiled once and applied to any number of graphs."""

    def __init__(self, shapes: rdflib.Graph):
        self.g = shapes
        self.node_shapes: dict[Any, Shape] = {}
        roots = set(shapes.subjects(RDF.type, SH.NodeShape)) | {
            s for p in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
            for s in shapes.subjects(p, None)}
        self.roots = [self._node_shape(s) for s in sorted(roots, key=str)]
        self.roots = [s for s in self.roots if s.targets]

    # -- compiling

    def _node_shape(self, node: Any) -> Shape:
        if node in self.node_shapes:
            return self.node_shapes[node]
        g = self.g
        shape = Shape(node.n3() if isinstance(node, rdflib.URIRef) else "_:b",
                      _severity(g, node), _message(g, node))
        self.node_shapes[node] = shape
        if (node, SH.deactivated, rdflib.Literal(True)) in g:
            return shape
        for p, kind in ((SH.targetClass, "class"), (SH.targetSubjectsOf, "subjectsOf"),
                        (SH.targetObjectsOf, "objectsOf"), (SH.targetNode, "node")):
            for t in g.objects(node, p):
                shape.targets.append((kind, str(t) if kind != "node" else _id(_to_ox(t))))
        shape.checks = self._checks(node)
        for prop in sorted(g.objects(node, SH.property), key=str):
            shape.properties.append(self._property_shape(prop))
        for c in sorted(g.objects(node, SH.sparql), key=str):
            if (c, SH.deactivated, rdflib.Literal(True)) in g:
                continue
            # A result's severity is its shape's (SHACL 5.3.2), whatever the constraint node says.
            shape.sparql.append((c.n3() if isinstance(c, rdflib.URIRef) else "_:b",
                                 self._query(c), shape.severity, _message(g, c)))
        if g.value(node, SH.closed) == rdflib.Literal(True):
            ignored = g.value(node, SH.ignoredProperties)
            allowed = {str(i) for i in Collection(g, ignored)} if ignored is not None else set()
            for prop in shape.properties:
                if prop.path and len(prop.path.steps) == 1 and not prop.path.steps[0][1]:
                    allowed.add(prop.path.steps[0][0])
            shape.closed = frozenset(allowed)
        self._compile(shape)
        return shape

    def _property_shape(self, node: Any) -> Shape:
        g = self.g
        shape = Shape(node.n3() if isinstance(node, rdflib.URIRef) else "_:b",
                      _severity(g, node), _message(g, node), _path(g, g.value(node, SH.path)))
        for p in set(g.predicates(node, None)) - {RDF.type, rdflib.RDFS.comment,
                                                    rdflib.RDFS.label}:
            if p not in _HANDLED:
                raise Unsupported(f"{p} on {node}")
        if g.value(node, SH.property) is not None or g.value(node, SH.sparql) is not None:
            raise Unsupported(f"nested property or SPARQL constraints on {node}")
        shape.checks = self._checks(node)
        for p, kind in ((SH.minCount, "minCount"), (SH.maxCount, "maxCount")):
            v = g.value(node, p)
            if v is not None:
                shape.checks.append((kind, int(v)))
        self._compile(shape)
        return shape

    def _compile(self, shape: Shape) -> None:
        """Give ``shape`` its checks as tests and its counts as a range (see :class:`Shape`)."""
        counts = dict.fromkeys(("minCount", "maxCount"))
        tests = []
        for kind, arg in shape.checks:
            if kind in counts:
                counts[kind] = arg  # (a property shape has one of each at most)
            else:
                tests.append((_COMPONENT[kind], _test(self, kind, arg)))
        shape.tests = tests
        shape.within = (counts["minCount"] or 0,
                        sys.maxsize if counts["maxCount"] is None else counts["maxCount"])

    def _checks(self, node: Any) -> list[tuple[str, Any]]:
        g = self.g
        checks: list[tuple[str, Any]] = []
        for p in set(g.predicates(node, None)):
            if p not in _HANDLED and p not in {RDF.type, rdflib.RDFS.comment, rdflib.RDFS.label}:
                raise Unsupported(f"{p} on {node}")
        for cls in g.objects(node, SH["class"]):
            checks.append(("class", str(cls)))
        for dt in g.objects(node, SH.datatype):
            checks.append(("datatype", str(dt)))
        for kind in g.objects(node, SH.nodeKind):
            checks.append(("nodeKind", str(kind).removeprefix(str(SH))))
        for pat in g.objects(node, SH.pattern):
            flags = str(g.value(node, SH.flags) or "")
            checks.append(("pattern", re.compile(str(pat), re.IGNORECASE if "i" in flags else 0)))
        for p, kind in ((SH.minInclusive, "minInclusive"), (SH.minExclusive, "minExclusive"),
                        (SH.maxInclusive, "maxInclusive"), (SH.maxExclusive, "maxExclusive")):
            for bound in g.objects(node, p):
                checks.append((kind, _number(_to_ox(bound))))
        for p, kind in ((SH.minLength, "minLength"), (SH.maxLength, "maxLength")):
            for n in g.objects(node, p):
                checks.append((kind, int(n)))
        for lst in g.objects(node, SH["in"]):
            checks.append(("in", frozenset(_id(_to_ox(t)) for t in Collection(g, lst))))
        for lst in g.objects(node, SH["or"]):
            checks.append(("or", [self._node_shape(m) for m in Collection(g, lst)]))
        for ref in g.objects(node, SH.node):
            checks.append(("node", self._node_shape(ref)))
        return checks

    def _query(self, c: Any) -> str:
        g = self.g
        text = g.value(c, SH.select)
        if text is None:
            raise Unsupported(f"SPARQL constraint {c} without sh:select")
        prefixes = []
        for decl_owner in g.objects(c, SH.prefixes):
            for decl in g.objects(decl_owner, SH.declare):
                prefixes.append(f"PREFIX {g.value(decl, SH.prefix)}: "
                                f"<{g.value(decl, SH.namespace)}>")
        body = str(text)
        if re.search(r"\$(?!this\b)\w", body) or "SERVICE" in body.upper().split():
            raise Unsupported(f"pre-bound variables other than $this in {c}")
        # $this unbound, then only rows whose ?this is a focus node: for these joins the same
        # solutions as pre-binding (SHACL's substitution), in one query per graph.
        return "\n".join(prefixes) + "\n" + body.replace("$this", "?this")

    def reads(self) -> frozenset[str] | None:
        """The predicates whose triples these shapes' results depend on, or None when any triple
        may matter (a closed shape, a variable or negated predicate in a SPARQL constraint).

        Results over a graph that changed only in other predicates' triples are the same: a
        build uses this to keep the corpus rules' results when no such triple changed.
        """
        preds = {_RDF_TYPE, _SUBCLASS}  # class targets and sh:class read types (and subclasses)
        for shape in self.node_shapes.values():
            for sub in (shape, *shape.properties):
                if sub.closed is not None:
                    return None
                for kind, target in sub.targets:
                    if kind in {"subjectsOf", "objectsOf"}:
                        preds.add(target)
                if sub.path is not None:
                    preds.update(iri for iri, _inverse in sub.path.steps)
                if not _add_query_reads(preds, sub.sparql):
                    return None
        return frozenset(preds)

    def sparql_reads(self) -> frozenset[str] | None:
        """The predicates :meth:`validate_store` reads without ``core``: its SPARQL constraints'
        IRIs and their shapes' targets; None when a query may read any triple.

        A store holding only the triples with these predicates gives the same results: a build
        loads no more than that for each batch of dossiers."""
        return self._sparql_reads

    @cached_property
    def _sparql_reads(self) -> frozenset[str] | None:
        preds = {_RDF_TYPE}
        for shape in self.roots:
            if shape.sparql:
                preds.update(t for kind, t in shape.targets if kind in {"subjectsOf", "objectsOf"})
                if not _add_query_reads(preds, shape.sparql):
                    return None
        return frozenset(preds)

    # -- evaluating

    def focus_nodes(self, shape: Shape, data: Data) -> list[Any]:
        if len(shape.targets) == 1 and shape.targets[0][0] == "subjectsOf":  # most shapes
            return list(data.subjects_of.get(shape.targets[0][1], ()))
        found: dict[Any, None] = {}
        for kind, target in shape.targets:
            if kind == "class":
                nodes: Iterable[Any] = data.instances.get(target, ())
                if data.subjects_of.get(_SUBCLASS):
                    nodes = [n for n in data.out if data.has_type(n, target)]
            elif kind == "subjectsOf":
                nodes = data.subjects_of.get(target, ())
            elif kind == "objectsOf":
                nodes = data.objects_of.get(target, ())
            else:
                nodes = [target]
            found.update(dict.fromkeys(nodes))
        return list(found)

    def conforms(self, shape: Shape, node: Any, data: Data) -> bool:
        """Does ``node`` conform to ``shape`` (as sh:node / sh:or members are checked)?"""
        if shape.sparql:
            raise Unsupported(f"SPARQL constraints in {shape.iri}, used through sh:node/sh:or")
        for _component, test in shape.tests:
            if not test(node, data):
                return False
        for prop in shape.properties:
            if self._property_results(prop, node, data):
                return False
        return shape.closed is None or not self._closed(shape, node, data)

    def _closed(self, shape: Shape, node: Any, data: Data) -> list[tuple[str, Any]]:
        assert shape.closed is not None
        return [(p, o) for p, objs in data.out.get(node, _EMPTY).items() if p not in shape.closed
                for o in objs]

    def _property_results(self, prop: Shape, focus: Any, data: Data) -> list[ShaclResult]:
        assert prop.path is not None
        values = data.values(focus, prop.path)
        return self._failed(prop, focus, values, data) if prop.may_fail(values, data) else []

    def _failed(self, prop: Shape, focus: Any, values: Sequence[Any], data: Data
                ) -> list[ShaclResult]:
        """The results of property shape ``prop`` on a focus node with these values."""
        assert prop.path is not None
        failed: list[tuple[str, Any]] = []
        low, high = prop.within
        if len(values) < low:
            failed.append(("MinCountConstraintComponent", None))
        if len(values) > high:
            failed.append(("MaxCountConstraintComponent", None))
        for component, test in prop.tests:
            failed += [(component, v) for v in values if not test(v, data)]
        if not failed:
            return []
        fnt = _nt(focus)
        return [ShaclResult(fnt, prop.path.text, None if v is None else _nt(v), prop.iri,
                            f"<{SH}{component}>", prop.severity, prop.message, prop.iri)
                for component, v in failed]

    def validate(self, triples: Iterable[ox.Triple | ox.Quad], sparql: bool = True
                 ) -> list[ShaclResult]:
        """Every result of every shape on one graph, sorted and distinct.

        With ``sparql=False`` the SHACL-SPARQL constraints are left out (run them for many
        graphs at once with :meth:`validate_store`).
        """
        data = triples if isinstance(triples, Data) else Data(triples)
        results: set[ShaclResult] = set()
        for shape in self.roots:
            focus = self.focus_nodes(shape, data)
            if not focus:
                continue
            for component, test in shape.tests:
                for node in focus:
                    if not test(node, data):
                        fnt = _nt(node)
                        results.add(ShaclResult(fnt, None, fnt, shape.iri, f"<{SH}{component}>",
                                                shape.severity, shape.message, shape.iri))
            for prop in shape.properties:  # property by property: its lookups made once
                assert prop.path is not None
                path, may_fail = prop.path, prop.may_fail
                for node in focus:
                    values = data.values(node, path)
                    if may_fail(values, data):
                        results.update(self._failed(prop, node, values, data))
            if shape.closed is not None:
                for node in focus:
                    for p, o in self._closed(shape, node, data):
                        results.add(ShaclResult(_nt(node), f"<{p}>", _nt(o), shape.iri,
                                                f"<{SH}ClosedConstraintComponent>",
                                                shape.severity, shape.message, shape.iri))
            if shape.sparql and sparql:
                results.update(self._sparql(shape, set(focus), data.store()))
        return sorted(results, key=result_key)

    def validate_store(self, store: ox.Store, core: bool = False, jobs: int = 1
                       ) -> list[ShaclResult]:
        """Run the SPARQL constraints (and, with ``core``, the count constraints) on a store's
        union of named graphs: one query per constraint, however many dossiers it holds, up to
        ``jobs`` of them side by side (pyoxigraph evaluates a query without Python's lock).

        Raises :class:`Unsupported` for a core constraint that has no SPARQL form here.
        """
        runs: list[Callable[[], list[ShaclResult]]] = []
        for shape in self.roots:
            if not shape.sparql and not core:
                continue
            if core and (shape.checks or shape.closed is not None):
                raise Unsupported(f"node constraints of {shape.iri} on a store")
            focus = _StoreFocus(shape, store)  # one per shape: its constraints share what it asked
            runs += [partial(self._sparql, shape, focus, store, [c]) for c in shape.sparql]
            if core:
                runs += [partial(self._store_counts, prop, focus, store)
                         for prop in shape.properties]
        if jobs > 1 and len(runs) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(jobs, len(runs)), thread_name_prefix="kg-rules") as pool:
                found = list(pool.map(lambda run: run(), runs))
        else:
            found = [run() for run in runs]
        return sorted(set().union(*found), key=result_key)

    def _store_counts(self, prop: Shape, focus: _StoreFocus, store: ox.Store
                      ) -> list[ShaclResult]:
        assert prop.path is not None
        if len(prop.path.steps) != 1 or prop.path.steps[0][1]:
            raise Unsupported(f"path of {prop.iri} on a store")
        pred = prop.path.steps[0][0]
        out = []
        for kind, arg in prop.checks:
            if kind not in {"minCount", "maxCount"}:
                raise Unsupported(f"{kind} of {prop.iri} on a store")
            if kind == "minCount" and arg > 0:
                raise Unsupported(f"minCount of {prop.iri} on a store")  # needs the focus set
            # Grouped over the shape's focus nodes only, not every node with the property: the
            # groups of a large store (25 M quads) would otherwise take gigabytes. The focus
            # nodes come DISTINCT from a subquery: a shared node is typed in every graph that
            # mentions it, and joining those copies with its values is quadratic.
            query = (f"SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ "
                     f"{{ {focus.select} }} "
                     f"?this <{pred}> ?v }} GROUP BY ?this "
                     f"HAVING (COUNT(DISTINCT ?v) > {int(arg)})")
            for row in store.query(query, use_default_graph_as_union=True):
                if _id(row["this"]) in focus:
                    out.append(_count_result(prop, row["this"]))
        return out

    def _sparql(self, shape: Shape, focus: set[Any] | _StoreFocus, store: ox.Store,
                constraints: Iterable[tuple[str, str, str, str]] | None = None
                ) -> list[ShaclResult]:
        out = []
        for constraint in shape.sparql if constraints is None else constraints:
            for row in store.query(constraint[1], use_default_graph_as_union=True):
                if _id(row["this"]) in focus:
                    out.append(_sparql_result(shape, constraint, row))
        return out

    def validate_store_around(self, store: ox.Store, changed: Iterable[ox.Triple],
                              previous: Iterable[ShaclResult],
                              reaches: dict[tuple[str, str], Reach | None] | None = None,
                              limit: int = AROUND_LIMIT) -> list[ShaclResult]:
        """What :meth:`validate_store` (with ``core``) gives on ``store``, from its results
        before ``changed`` triples were added or removed: each constraint runs again only on
        the focus nodes within its reach of the change (:mod:`kg.locality`), its other results
        stand. A constraint whose reach is unbounded or passes ``limit`` nodes runs on the
        whole store, as does one whose results another constraint could also give.
        ``reaches``: :meth:`reaches`, if known."""
        from .locality import around

        changed = list(changed)
        units = self._units()
        reaches = self.reaches() if reaches is None else reaches
        keys = [key for key, *_ in units]
        shared = {k for k in keys if keys.count(k) > 1}
        results = list(previous)
        for key, shape, constraint in units:
            reach = reaches.get(key)
            focus = _StoreFocus(shape, store)
            nodes = None if reach is None or key in shared else around(store, reach, changed,
                                                                       limit)
            if nodes is not None and any(isinstance(n, ox.BlankNode) for n in nodes):
                nodes = None  # results name blank nodes alike: no telling whose they are
            if nodes is None:
                results = [r for r in results if (r.shape, r.constraint) != key]
                if isinstance(constraint, Shape):
                    results += self._store_counts(constraint, focus, store)
                else:
                    results += self._sparql(shape, focus, store, [constraint])
                continue
            again = {_nt(n) for n in nodes}
            results = [r for r in results if (r.shape, r.constraint) != key or r.focus not in again]
            for node in nodes:
                if node not in focus:  # (a literal too: sh:targetNode may name one)
                    continue
                if isinstance(constraint, Shape):
                    results += self._count_on(constraint, node, store)
                else:
                    results += [_sparql_result(shape, constraint, row) for row in store.query(
                        constraint[1], use_default_graph_as_union=True,
                        substitutions={ox.Variable("this"): node})]
        return sorted(set(results), key=result_key)

    def _units(self) -> list[tuple[tuple[str, str], Shape, Any]]:
        """Each constraint a store validation runs: (its results' shape and constraint, its
        node shape, the constraint: a SPARQL one or a property shape)."""
        units: list[tuple[tuple[str, str], Shape, Any]] = []
        for shape in self.roots:
            if shape.checks or shape.closed is not None:
                raise Unsupported(f"node constraints of {shape.iri} on a store")
            units += [((shape.iri, c[0]), shape, c) for c in shape.sparql]
            units += [((prop.iri, prop.iri), shape, prop) for prop in shape.properties]
        return units

    def reaches(self) -> dict[tuple[str, str], Reach | None]:
        """Each store constraint's reach (see :mod:`kg.locality`) with its shape's targets, by
        its results' shape and constraint; None where it has no bound. Deriving them parses
        the SPARQL (rdflib's parser): a build keeps them in its cache."""
        from .locality import pattern_reach, query_reach

        this, anything = ("var", "this"), ("var", " value")
        found: dict[tuple[str, str], Reach | None] = {}
        for key, shape, constraint in self._units():
            edges = []
            for kind, target in shape.targets:
                if kind == "class":
                    edges.append((this, frozenset({_RDF_TYPE}), 1, ("const", target)))
                elif kind == "subjectsOf":
                    edges.append((this, frozenset({target}), 1, anything))
                elif kind == "objectsOf":
                    edges.append((anything, frozenset({target}), 1, this))
            targets = pattern_reach(edges)
            if isinstance(constraint, Shape):
                assert constraint.path is not None
                reach = pattern_reach([(this, frozenset(p for p, _i in constraint.path.steps),
                                        1, anything)])
            else:
                reach = query_reach(constraint[1], collect=False)
            found[key] = None if reach is None or targets is None else reach | targets
        gc.collect()  # the parser's reference cycles hold the callers' frames (see query_reads)
        return found

    def _count_on(self, prop: Shape, node: Any, store: ox.Store) -> list[ShaclResult]:
        """:meth:`_store_counts` for one focus node."""
        assert prop.path is not None
        pred = ox.NamedNode(prop.path.steps[0][0])
        values = {q.object for q in store.quads_for_pattern(node, pred, None, None)}
        return [_count_result(prop, node)
                for kind, arg in prop.checks if kind == "maxCount" and len(values) > arg]


def _count_result(prop: Shape, node: Any) -> ShaclResult:
    assert prop.path is not None
    return ShaclResult(_nt(node), prop.path.text, None, prop.iri,
                       f"<{SH}MaxCountConstraintComponent>", prop.severity, prop.message, prop.iri)


def _sparql_result(shape: Shape, constraint: tuple[str, str, str, str], row: Any
                   ) -> ShaclResult:
    iri, _query, severity, message = constraint
    path = row["path"] if _has(row, "path") else None
    value = row["value"] if _has(row, "value") else None
    return ShaclResult(
        _nt(row["this"]), None if path is None else _nt(path),
        None if value is None else _nt(value), shape.iri,
        f"<{SH}SPARQLConstraintComponent>", severity, _fill(message, row), iri)


class _StoreFocus:
    """The focus nodes of a shape in a store, asked node by node: a check over a large store
    never holds all of them (every mission, rocket, site... of the corpus) in memory."""

    def __init__(self, shape: Shape, store: ox.Store):
        patterns = []
        for kind, target in shape.targets:
            if kind == "class":
                patterns.append(f"{{ ?this a <{target}> }}")
            elif kind == "subjectsOf":
                patterns.append(f"{{ ?this <{target}> ?o }}")
            elif kind == "objectsOf":
                patterns.append(f"{{ ?s <{target}> ?this }}")
            else:
                patterns.append(f"{{ VALUES ?this {{ {target} }} }}")
        self.patterns = " UNION ".join(patterns)
        self.select = f"SELECT DISTINCT ?this WHERE {{ {self.patterns} }}"
        self.store = store
        self.known: dict[Any, bool] = {}
        self._all: set[Any] | None = None

    def __contains__(self, node: Any) -> bool:
        key = _id(node)
        if key not in self.known:
            if isinstance(key, str) and key.startswith("_:"):  # no blank node in VALUES
                if self._all is None:
                    self._all = {_id(row["this"]) for row in
                                 self.store.query(self.select, use_default_graph_as_union=True)}
                self.known[key] = key in self._all
            else:
                query = f"ASK {{ VALUES ?this {{ {key} }} {self.patterns} }}"
                self.known[key] = bool(self.store.query(query, use_default_graph_as_union=True))
        return self.known[key]


def _has(row: Any, var: str) -> bool:
    try:
        return row[var] is not None
    except (KeyError, IndexError):
        return False


def _fill(message: str, row: Any) -> str:
    """Substitute {?var} and {$var} in a SPARQL constraint's message, as pyshacl does."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if not _has(row, name):
            return m.group(0)
        term = row[name]
        if isinstance(term, ox.Literal):
            # pyshacl writes the Python value ('1962-10-24T17:55:04+00:00'), not the lexical form
            value = rdflib_literal(term).toPython()
            return value.isoformat() if hasattr(value, "isoformat") else str(value)
        return term.value if isinstance(term, ox.NamedNode) else str(term)
    return re.sub(r"\{[?$](\w+)\}", sub, message)


_COMPONENT = {
    "class": "ClassConstraintComponent", "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent", "pattern": "PatternConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent", "maxLength": "MaxLengthConstraintComponent",
    "in": "InConstraintComponent",
    "or": "OrConstraintComponent", "node": "NodeConstraintComponent",
}


def _number(term: Any) -> Decimal | None:
    if not isinstance(term, ox.Literal) or term.datatype.value not in _NUMERIC:
        return None
    try:
        return Decimal(term.value.strip())
    except InvalidOperation:
        return None


def _well_formed(lexical: str, datatype: str) -> bool:
    # Any text is a valid xsd:string (rdflib never flags one): no Literal needed.
    return datatype == _XSD_STRING or _typed_well_formed(lexical, datatype)


_XSD_STRING = str(XSD.string)


@lru_cache(maxsize=1 << 16)  # bounded: dates are mostly distinct
def _typed_well_formed(lexical: str, datatype: str) -> bool:
    lit = rdflib.Literal(lexical, datatype=rdflib.URIRef(datatype))
    return not getattr(lit, "ill_typed", False)


def _test(engine: Engine, kind: str, arg: Any) -> Callable[[Any, Data], bool]:
    """One constraint as a test of a value node: what :func:`_passes` says, with the
    constraint's kind looked at once, not for every value. (A literal with a language tag
    has the datatype rdf:langString.)"""
    literal = ox.Literal
    if kind == "datatype" and arg == _LANG_STRING:
        return lambda v, _data: isinstance(v, literal) and bool(v.language)
    if kind == "datatype" and arg == _XSD_STRING:  # any text is a well-formed xsd:string
        return lambda v, _data: isinstance(v, literal) and v.datatype.value == arg
    if kind == "datatype":
        return lambda v, _data: isinstance(v, literal) and v.datatype.value == arg \
            and _typed_well_formed(v.value, arg)
    if kind == "class":
        return lambda v, data: not isinstance(v, literal) and data.has_type(v, arg)
    if kind == "in":
        return lambda v, _data: v in arg
    if kind == "nodeKind":
        ok_literal, ok_blank, ok_iri = (arg in kinds for kinds in _NODE_KINDS)
        return lambda v, _data: ok_literal if isinstance(v, literal) else \
            ok_blank if v.startswith("_:") else ok_iri
    if kind in _RANGES and arg is not None:
        return _range_test(_RANGES[kind], arg)
    if kind == "node":
        return lambda v, data: engine.conforms(arg, v, data)
    return partial(_passes, engine, kind, arg)


#: The sh:nodeKind values a literal, a blank node and an IRI satisfy.
_NODE_KINDS = ({"Literal", "IRIOrLiteral", "BlankNodeOrLiteral"},
               {"BlankNode", "BlankNodeOrIRI", "BlankNodeOrLiteral"},
               {"IRI", "BlankNodeOrIRI", "IRIOrLiteral"})
_RANGES: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "minInclusive": lambda n, bound: n >= bound, "minExclusive": lambda n, bound: n > bound,
    "maxInclusive": lambda n, bound: n <= bound, "maxExclusive": lambda n, bound: n < bound}


def _range_test(compare: Callable[[Decimal, Decimal], bool], bound: Decimal
                ) -> Callable[[Any, Data], bool]:
    """A numeric range constraint as a test, its verdicts kept by lexical form and datatype
    (line numbers, counts and the like repeat)."""
    known: dict[tuple[str, str], bool] = {}

    def test(v: Any, _data: Data) -> bool:
        if not isinstance(v, ox.Literal):
            return False
        key = (v.value, v.datatype.value)
        verdict = known.get(key)
        if verdict is None:
            n = _number(v)
            verdict = n is not None and _well_formed(*key) and compare(n, bound)
            if len(known) >= 1 << 16:
                known.clear()
            known[key] = verdict
        return verdict
    return test


def _passes(engine: Engine, kind: str, arg: Any, v: Any, data: Data) -> bool:
    """Does node ``v`` (as :class:`Data` holds it) satisfy one constraint?"""
    literal = isinstance(v, ox.Literal)
    if kind == "datatype":
        if not literal or v.language:
            return arg == _LANG_STRING and literal and bool(v.language)
        return v.datatype.value == arg and _well_formed(v.value, arg)
    if kind == "class":
        return not literal and data.has_type(v, arg)
    bnode = not literal and v.startswith("_:")
    if kind == "nodeKind":
        iri = not literal and not bnode
        return {"IRI": iri, "BlankNode": bnode, "Literal": literal,
                "BlankNodeOrIRI": iri or bnode, "IRIOrLiteral": iri or literal,
                "BlankNodeOrLiteral": bnode or literal}[arg]
    if kind == "pattern":
        if bnode:
            return False
        return arg.search(v.value if literal else v[1:-1]) is not None
    if kind in {"minInclusive", "minExclusive", "maxInclusive", "maxExclusive"}:
        n = _number(v)
        if n is None or arg is None or (literal and not _well_formed(v.value, v.datatype.value)):
            return False
        return {"minInclusive": n >= arg, "minExclusive": n > arg,
                "maxInclusive": n <= arg, "maxExclusive": n < arg}[kind]
    if kind in {"minLength", "maxLength"}:
        if bnode:
            return False
        text = v.value if literal else v[1:-1]
        return len(text) >= arg if kind == "minLength" else len(text) <= arg
    if kind == "in":
        return v in arg
    if kind == "or":
        return any(engine.conforms(member, v, data) for member in arg)
    if kind == "node":
        return engine.conforms(arg, v, data)
    raise Unsupported(kind)


_LANG_STRING = str(rdflib.RDF.langString)


@cache
def engine(scope: str = "all") -> Engine:
    """The compiled engine for kg's shipped shapes ('all', 'dossier' or 'corpus')."""
    return Engine(shapes_graph(scope))


def _add_query_reads(preds: set[str], constraints: Iterable[tuple[str, str, str, str]]) -> bool:
    """Add what each SPARQL constraint's query reads to ``preds``; False if one reads anything."""
    for _iri, query, _sev, _msg in constraints:
        found = query_reads(query)
        if found is None:
            return False
        preds |= found
    return True


def query_reads(query: str) -> frozenset[str] | None:
    """Every IRI a SPARQL query names, a superset of the predicates it reads; None when some
    triple pattern's predicate is a variable or a negated property set (it reads any triple).

    A predicate variable that an enclosing ``FILTER (?p IN (<a>, <b>))`` (alone or in a
    conjunction) restricts reads only those IRIs, when only joins, BINDs and other filters lie
    between the filter and the pattern: the filter drops every solution of any other predicate.
    """
    from rdflib.paths import NegatedPath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    iris: set[str] = set()
    unbounded = False
    through = {"Filter", "Join", "Extend", "BGP", "TriplesBlock"}  # keep the restriction

    def restricted(expr: Any) -> set[Any]:
        if isinstance(expr, CompValue) and expr.name == "ConditionalAndExpression":
            return set().union(*(restricted(e) for e in [expr.expr, *(expr.other or ())]))
        if (isinstance(expr, CompValue) and expr.name == "RelationalExpression"
                and expr.op == "IN" and isinstance(expr.expr, rdflib.Variable)
                and all(isinstance(t, rdflib.URIRef) for t in expr.other or ())):
            return {expr.expr}
        return set()

    def walk(node: Any, bound: frozenset[Any] = frozenset()) -> None:
        nonlocal unbounded
        if isinstance(node, rdflib.URIRef):
            iris.add(str(node))
        elif isinstance(node, NegatedPath):
            unbounded = True
        elif isinstance(node, rdflib.paths.Path):
            walk(list(vars(node).values()))
        elif isinstance(node, CompValue):
            if node.name == "PathNegatedPropertySet":
                unbounded = True
            if node.name == "Filter":
                bound = bound | restricted(node.expr)
            elif node.name not in through:
                bound = frozenset()
            if node.name in {"BGP", "TriplesBlock"}:
                for triple in node.get("triples") or ():
                    if any(isinstance(t, rdflib.Variable) and t not in bound
                           for t in list(triple)[1::3]):
                        unbounded = True
            for value in node.values():
                walk(value, bound)
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                walk(value, bound)

    walk(prepareQuery(query).algebra)
    # The parser leaves reference cycles through tracebacks, which hold the calling frames (and
    # what they hold: a corpus index, an open store and its lock) until a collection.
    gc.collect()
    return None if unbounded else frozenset(iris)
