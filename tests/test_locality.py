"""The corpus rules redone only around a change (kg.locality, Engine.validate_store_around) give
what the whole store's run gives: on the shipped rules' reach, on small stores, and on random
stores changed at random (hypothesis)."""

from __future__ import annotations

import math

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.locality import around, query_reach
from kg.shacl import engine

KG = "https://w3id.org/spacekg/ontology#"
ID = "https://w3id.org/spacekg/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
PREFIX = f"PREFIX kg: <{KG}>\n"


def _n(name: str) -> ox.NamedNode:
    return ox.NamedNode(ID + name)


def _p(name: str) -> ox.NamedNode:
    return ox.NamedNode(name if name.startswith("http") else KG + name)


def test_the_shipped_rules_reach() -> None:
    reach = {key[1].rsplit("#", 1)[-1][:-1]: r for key, r in engine("corpus").reaches().items()}
    assert reach["NoPredecessorCycle"].hops == math.inf  # a path with +
    assert reach["SequenceAgrees"].hops == 1  # the other mission's dossier
    assert reach["PadBelongsToSite"].hops == 1  # the pad's site
    assert reach["SharedNode-oneLabel"].hops == 0
    # rdf:type's objects are constants (the classes): a type change starts at the typed node.
    assert (RDF_TYPE, False, 0) not in reach["SequenceAgrees"].starts
    assert (RDF_TYPE, True, 0) in reach["SequenceAgrees"].starts


def test_a_sequence_path_counts_its_steps() -> None:
    reach = query_reach(PREFIX + "SELECT ?this WHERE { ?this kg:a/kg:b ?x . ?x kg:c ?y }")
    assert reach is not None and reach.hops == 2  # ?x is two steps out: ?x kg:c starts there
    assert (KG + "c", True, 2) in reach.starts and (KG + "a", False, 1) in reach.starts
    assert {KG + "a", KG + "b", KG + "c"} <= reach.through


def test_queries_without_a_bound_reach() -> None:
    for body in ("?this ?p ?o",  # a variable predicate reads anything
                 "?this kg:a ?x . ?y kg:b ?z",  # a pattern not joined to ?this
                 "?this kg:a ?x . <http://e/a> kg:b <http://e/b>",  # the same for every node
                 "?this kg:a ?x . GRAPH ?g { ?x kg:b ?y }",
                 "?this !kg:a ?x"):
        assert query_reach(PREFIX + f"SELECT ?this WHERE {{ {body} }}") is None, body


def _chain_store(names: list[str]) -> ox.Store:
    store = ox.Store()
    for a, b in zip(names, names[1:], strict=False):
        store.add(ox.Quad(_n(b), _p("previousMission"), _n(a), _n("g")))
    return store


def test_the_walk_follows_the_reach() -> None:
    store = _chain_store(["a", "b", "c", "d", "e"])
    changed = [ox.Triple(_n("c"), _p("previousMission"), _n("b"))]
    cycle = query_reach(PREFIX + "SELECT ?this WHERE { ?this kg:previousMission+ ?x }")
    one = query_reach(PREFIX + "SELECT ?this WHERE { ?this kg:previousMission ?x . "
                               "?x kg:previousMission ?y }")
    assert around(store, cycle, changed, 100) == {_n(x) for x in "abcde"}
    # c's predecessor changed: c itself, d (two steps back from d pass it), and b (an end).
    assert around(store, one, changed, 100) == {_n(x) for x in "bcd"}
    assert around(store, cycle, changed, 3) is None  # past the limit: run on the whole store


# -- random stores, random changes ------------------------------------------------------------

MISSIONS = [f"m{i}" for i in range(5)]
#: Typed nodes and the missions' dossiers, in every store (a change may still flip them).
BASE = ({(m, RDF_TYPE, KG + "Mission") for m in MISSIONS}
        | {(m, DERIVED, f"d{m}") for m in MISSIONS}
        | {(f"l{i}", RDF_TYPE, KG + "Launch") for i in range(3)}
        | {(f"p{j}", RDF_TYPE, KG + "LaunchPad") for j in range(2)})
EDGES = sorted(
    {(m, LABEL, f'"{label}"') for m in MISSIONS for label in ("A", "B")}
    | {(a, KG + rel, b) for a in MISSIONS for b in MISSIONS for rel in
       ("previousMission", "nextMission")}
    | {(f"l{i}", KG + "launchPad", f"p{j}") for i in range(3) for j in range(2)}
    | {(f"l{i}", KG + "launchSite", f"s{j}") for i in range(3) for j in range(2)}
    | {(f"p{j}", KG + "partOfSite", f"s{k}") for j in range(2) for k in range(2)}
    | {(f"p{j}", LABEL, f'"{label}"') for j in range(2) for label in ("P", "Q")})
UNIVERSE = sorted(BASE) + EDGES


def _term(text: str) -> ox.NamedNode | ox.Literal:
    if text.startswith('"'):
        return ox.Literal(text.strip('"'))
    return ox.NamedNode(text) if text.startswith("http") else _n(text)


def _store(triples: set[tuple[str, str, str]]) -> ox.Store:
    store = ox.Store()
    for s, p, o in triples:  # each triple in its subject's graph, as a dossier states it
        store.add(ox.Quad(_term(s), ox.NamedNode(p), _term(o), _n(f"graph/{s}")))
    return store


def _triple(t: tuple[str, str, str]) -> ox.Triple:
    return ox.Triple(_term(t[0]), ox.NamedNode(t[1]), _term(t[2]))


@settings(deadline=None, max_examples=200, suppress_health_check=list(HealthCheck))
@given(st.sets(st.sampled_from(EDGES), max_size=25),
       st.sets(st.sampled_from(UNIVERSE), min_size=1, max_size=4))
def test_redone_around_a_random_change_equals_the_whole_run(edges, flips) -> None:
    rules = engine("corpus")
    before = BASE | edges
    after = before ^ flips
    previous = rules.validate_store(_store(before), core=True)
    store = _store(after)
    ours = rules.validate_store_around(store, [_triple(t) for t in flips], previous)
    assert ours == rules.validate_store(store, core=True)


def test_a_literal_focus_node_is_judged_again() -> None:
    """A shape may target a literal (sh:targetNode): a change around it is judged again too."""
    import rdflib

    from kg.shacl import Engine

    shapes = rdflib.Graph().parse(format="turtle", data='''
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/> .
        ex:OneName a sh:NodeShape ; sh:targetNode "A" ; sh:sparql ex:NameOnce .
        ex:NameOnce a sh:SPARQLConstraint ; sh:message "two nodes named {$this}" ; sh:select """
            SELECT $this WHERE {
                ?x <http://www.w3.org/2000/01/rdf-schema#label> $this .
                ?y <http://www.w3.org/2000/01/rdf-schema#label> $this . FILTER (?x != ?y) }""" .
    ''')
    rules = Engine(shapes)
    one = {("m1", LABEL, '"A"')}
    two = one | {("m2", LABEL, '"A"')}
    for before, after in ((one, two), (two, one)):
        previous = rules.validate_store(_store(before), core=True)
        store = _store(after)
        expected = rules.validate_store(store, core=True)
        assert rules.validate_store_around(store, [_triple(t) for t in before ^ after],
                                           previous) == expected
        assert expected or after == one
