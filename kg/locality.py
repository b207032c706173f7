"""How far from its focus node a shape's constraint reads, and so which focus nodes a change of
some triples can give another verdict.

A constraint whose every triple pattern is joined to ``$this`` through variables reads, for a
focus node ``X``, only triples within a few hops of ``X`` (any number along a path with ``+`` or
``*``). A changed triple can then alter the verdict on ``X`` only if one of its ends, standing
where a variable of some pattern could match it, lies within that many hops of ``X`` along the
predicates that join two variables. Walking those predicates back from the changed triples'
ends, in the store as it is now, finds every such ``X``: a removed triple on the way from ``X``
is itself changed, so its nearer end is a start of the walk. kg's build uses this to run the
corpus rules again only around what an edit changed (see :meth:`kg.shacl.Engine.validate_store_around`).
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

INF = math.inf
_THIS = "this"


@dataclass(frozen=True)
class Reach:
    """What a constraint reads around its focus node.

    ``starts``: for each predicate a pattern reads, which end of a changed triple with it starts
    the walk back to the focus nodes (True: the subject), and within how many steps of it they
    lie (INF: unbounded); ``through``: predicates of patterns joining two variables, which the
    walk follows (both ways). A triple of any other predicate matches no pattern.
    """

    starts: frozenset[tuple[str, bool, float]]
    through: frozenset[str]

    @property
    def hops(self) -> float:
        """The farthest a focus node can lie from a start of the walk."""
        return max((budget for _p, _s, budget in self.starts), default=0)

    def __or__(self, other: Reach) -> Reach:
        return Reach(self.starts | other.starts, self.through | other.through)


def pattern_reach(edges: Iterable[tuple[Any, frozenset[str], float, Any]]) -> Reach | None:
    """The reach of a set of triple patterns ``(subject, predicates, length, object)``, where a
    subject or object is ``("var", name)`` or a constant, and ``length`` the most triples the
    pattern spans (1 for a predicate, more for a sequence path, INF for ``+``/``*``). None when
    a pattern is not joined to ``$this`` through variables (it reads beyond any neighbourhood).

    A changed triple that matches a pattern ``u p v`` in some solution for focus node ``X``
    has its ends where ``u`` and ``v`` are, ``X`` within ``d(u)`` steps of one and ``d(v)`` of
    the other (their distances from ``$this``): the walk starts from the nearer. A path's
    triple lies anywhere along it: the walk starts from both its ends, ``length - 1`` steps
    further.
    """
    edges = list(edges)

    def is_var(node: Any) -> bool:
        return isinstance(node, tuple) and node[0] == "var"

    links: dict[Any, list[tuple[Any, float]]] = {}
    for s, _preds, length, o in edges:
        for node in (s, o):
            if is_var(node):
                links.setdefault(node, [])
        if is_var(s) and is_var(o):
            links[s].append((o, length))
            links[o].append((s, length))
    this = ("var", _THIS)
    dist: dict[Any, float] = {this: 0}
    todo: list[tuple[float, int, Any]] = [(0, 0, this)]
    tie = 0
    while todo:
        d, _t, node = heapq.heappop(todo)
        if d > dist[node]:
            continue
        for other, length in links.get(node, ()):
            if other not in dist or d + length < dist[other]:
                dist[other] = d + length
                tie += 1
                heapq.heappush(todo, (d + length, tie, other))
    if any(node not in dist for node in links):
        return None
    starts: set[tuple[str, bool, float]] = set()
    through: set[str] = set()
    for s, preds, length, o in edges:
        ds, do = (dist[s] if is_var(s) else None), (dist[o] if is_var(o) else None)
        if ds is None and do is None:
            return None  # constants only: the same triple for every focus node
        if ds is not None and do is not None:
            through |= preds
        if length != 1:
            budget = min(d for d in (ds, do) if d is not None) + length - 1
            starts |= {(p, side, budget) for p in preds for side in (True, False)}
        elif do is None or (ds is not None and ds <= do):
            starts |= {(p, True, ds) for p in preds}
        else:
            starts |= {(p, False, do) for p in preds}
    return Reach(frozenset(starts), frozenset(through))


def query_reach(query: str, collect: bool = True) -> Reach | None:
    """The reach of a SPARQL constraint's query (``?this`` standing for ``$this``), or None when
    it cannot be bounded: a variable or negated predicate, or a pattern not joined to ``?this``.
    ``collect=False`` leaves the parser's reference cycles to the caller's ``gc.collect()``.
    """
    from rdflib import BNode, URIRef, Variable
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    def path_of(p: Any) -> tuple[frozenset[str], float] | None:
        if isinstance(p, URIRef):
            return frozenset({str(p)}), 1
        if isinstance(p, InvPath):
            return path_of(p.arg)
        if isinstance(p, MulPath):
            inner = path_of(p.path)
            return None if inner is None else (inner[0], INF if p.mod in "*+" else inner[1])
        if isinstance(p, SequencePath | AlternativePath):
            parts = [path_of(a) for a in p.args]
            if any(x is None for x in parts):
                return None
            preds = frozenset().union(*(x[0] for x in parts))  # type: ignore[index]
            lengths = [x[1] for x in parts]  # type: ignore[index]
            return preds, sum(lengths) if isinstance(p, SequencePath) else max(lengths)
        return None  # a variable, a negated property set

    def node(term: Any) -> Any:
        if isinstance(term, Variable | BNode):
            return ("var", str(term))
        return ("const", str(term))

    edges: list[tuple[Any, frozenset[str], float, Any]] = []
    bounded = True

    def walk(item: Any) -> None:
        nonlocal bounded
        if isinstance(item, CompValue):
            if item.name in {"BGP", "TriplesBlock"}:
                for s, p, o in item.get("triples") or ():
                    found = path_of(p) if isinstance(p, URIRef | Path) else None
                    if found is None or isinstance(p, NegatedPath):
                        bounded = False
                    else:
                        edges.append((node(s), found[0], found[1], node(o)))
            if item.name in {"ServiceGraphPattern", "Graph"}:
                bounded = False
            for value in item.values():
                walk(value)
        elif isinstance(item, list | tuple | set | frozenset):
            for value in item:
                walk(value)

    walk(prepareQuery(query).algebra)
    if collect:
        gc.collect()  # the parser's reference cycles (see kg.shacl.query_reads)
    return pattern_reach(edges) if bounded else None


def around(store: ox.Store, reach: Reach, changed: Iterable[ox.Triple], limit: int
           ) -> set[Any] | None:
    """Every node a constraint of this reach may judge differently after ``changed`` (the
    triples added or removed, in any graph), walked in ``store`` as it is now; None when the
    walk passes ``limit`` nodes (the whole store is then as quick to check)."""
    by_pred: dict[str, list[tuple[bool, float]]] = {}
    for pred, subject, budget in reach.starts:
        by_pred.setdefault(pred, []).append((subject, budget))
    left: dict[Any, float] = {}  # node -> steps the walk may still take from it
    for t in changed:
        for subject, budget in by_pred.get(t.predicate.value, ()):
            node = t.subject if subject else t.object
            left[node] = max(left.get(node, -1), budget)
    if len(left) > limit:
        return None
    through = [ox.NamedNode(p) for p in sorted(reach.through)]
    frontier = [n for n in left if left[n] > 0]
    while frontier:
        found: dict[Any, float] = {}
        for n in frontier:
            for p in through:
                near = [q.subject for q in store.quads_for_pattern(None, p, n, None)]
                if not isinstance(n, ox.Literal):
                    near += [q.object for q in store.quads_for_pattern(n, p, None, None)]
                for m in near:
                    if left.get(m, -1) < left[n] - 1:
                        found[m] = max(found.get(m, -1), left[n] - 1)
        left.update(found)
        if len(left) > limit:
            return None
        frontier = [m for m, budget in found.items() if budget > 0]
    return set(left)
