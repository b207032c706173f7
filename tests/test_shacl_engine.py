"""kg's compiled SHACL engine gives exactly pyshacl's results: corpus, every fixture, and a
generated corpus."""

from __future__ import annotations

import pytest
from rdflib.namespace import RDFS
from test_validate import EXPECTED, fixture_graphs

from kg.shacl import engine
from kg.validate import result_key, validate_whole


def _both(graphs) -> tuple[list, list]:
    triples = [t for quads in graphs.values() for t in quads]
    _conforms, reference = validate_whole(graphs)
    return engine("all").validate(triples), reference


def test_same_results_as_pyshacl_on_the_corpus(seeds_build) -> None:
    ours, reference = _both(seeds_build.graphs())
    assert ours == reference


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_results_as_pyshacl_on_each_fixture(name: str) -> None:
    ours, reference = _both(fixture_graphs(name))
    assert reference, "the fixture must break something"
    assert ours == reference


def test_sequence_disagreement_is_a_warning() -> None:
    ours, _reference = _both(fixture_graphs("sequence-disagrees"))
    assert {r.severity for r in ours if "SequenceAgrees" in r.constraint} == {"Warning"}


def test_split_per_dossier_equals_the_whole(seeds_build) -> None:
    graphs = fixture_graphs("sequence-disagrees") | dict(seeds_build.graphs())
    whole = engine("all").validate([t for q in graphs.values() for t in q])
    split = set()
    for quads in graphs.values():
        split.update(engine("dossier").validate(quads))
    split.update(engine("corpus").validate([t for q in graphs.values() for t in q]))
    assert sorted(split, key=result_key) == whole


@pytest.mark.parametrize("jobs", [1, 2])
def test_corpus_rules_on_a_store_equal_pyshacl(seeds_build, jobs: int) -> None:
    # As a streaming build runs them: once, on the store's union of named graphs, each rule on
    # a thread of its own with jobs=2. Two graphs name one rocket differently, so the one-label
    # rule (a grouped count) must fire; and two missions are made each other's predecessor, so
    # the cycle and the sequence rules fire too.
    import pyoxigraph as ox

    from kg.validate import rdflib_graph, run_pyshacl, shapes_graph

    graphs = dict(seeds_build.graphs())
    rocket = next(q for quads in graphs.values() for q in quads
                  if q.predicate.value.endswith("#launchVehicle")).object
    other = ox.NamedNode("https://w3id.org/spacekg/id/dossier/other")
    graphs[other.value] = [ox.Quad(rocket, ox.NamedNode(str(RDFS.label)),
                                   ox.Literal("Another name"), other)]
    missions = sorted({q.subject for quads in graphs.values() for q in quads
                       if q.predicate.value.endswith("#launch")}, key=str)[:2]
    previous = ox.NamedNode("https://w3id.org/spacekg/ontology#previousMission")
    graphs[other.value] += [ox.Quad(missions[0], previous, missions[1], other),
                            ox.Quad(missions[1], previous, missions[0], other)]
    store = ox.Store()
    store.extend(q for quads in graphs.values() for q in quads)
    ours = engine("corpus").validate_store(store, core=True, jobs=jobs)
    merged = rdflib_graph(t for quads in graphs.values() for t in quads)
    reference = run_pyshacl(merged, shapes_graph("corpus"))[1]
    assert f"<{rocket.value}>" in {r.focus for r in ours}
    assert {r.constraint.rsplit("#", 1)[-1].rstrip(">") for r in ours} >= {
        "NoPredecessorCycle", "SequenceAgrees"}
    assert ours == reference


def test_what_the_corpus_rules_read() -> None:
    # A build keeps the corpus rules' results while none of these triples changed: the set
    # must hold every predicate the rules look at, or None.
    reads = engine("corpus").reads()
    assert reads is not None
    kg, rdf = "https://w3id.org/spacekg/ontology#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    assert {f"{kg}previousMission", f"{kg}nextMission", f"{kg}launchPad", f"{kg}partOfSite",
            f"{rdf}type", "http://www.w3.org/2000/01/rdf-schema#label"} <= reads
    assert f"{kg}launchTime" not in reads
    # Closed shapes look at every predicate of their focus nodes.
    assert engine("dossier").reads() is None


@pytest.mark.parametrize(("query", "reads"), [
    ("SELECT ?this WHERE { ?this <http://x/p>/<http://x/q> ?o }", {"http://x/p", "http://x/q"}),
    ("SELECT ?this WHERE { ?this <http://x/p> ?o FILTER NOT EXISTS { ?o <http://x/q> ?this } }",
     {"http://x/p", "http://x/q"}),
    ("SELECT ?this WHERE { ?this ?p ?o }", None),
    ("SELECT ?this WHERE { ?this <http://x/p> ?o FILTER EXISTS { ?o ?any ?this } }", None),
    ("SELECT ?this WHERE { ?this !<http://x/p> ?o }", None),
    # A predicate variable an enclosing IN-list filter pins down reads only those IRIs...
    ("SELECT ?this WHERE { ?this ?p ?o FILTER (?p IN (<http://x/p>, <http://x/q>)) }",
     {"http://x/p", "http://x/q"}),
    ("SELECT ?this WHERE { ?this ?p ?o BIND (1 AS ?n) FILTER (?p IN (<http://x/p>) && ?o) }",
     {"http://x/p"}),
    # ...not when the filter may let other predicates through, or an OPTIONAL lies between.
    ("SELECT ?this WHERE { ?this ?p ?o FILTER (?p IN (<http://x/p>) || ?o) }", None),
    ("SELECT ?this WHERE { ?this ?p ?o FILTER (?p NOT IN (<http://x/p>)) }", None),
    ("SELECT ?this WHERE { ?this <http://x/a> ?x OPTIONAL { ?x ?p ?o }"
     " FILTER (?p IN (<http://x/p>)) }", None),
    ("SELECT ?this WHERE { ?this ?q ?o FILTER (?p IN (<http://x/p>)) }", None),
])
def test_what_a_sparql_constraint_reads(query: str, reads: set[str] | None) -> None:
    from kg.shacl import query_reads

    found = query_reads(query)
    if reads is None:
        assert found is None
    else:
        assert found is not None and reads <= found


@pytest.mark.parametrize("name", ["seeds", *sorted(EXPECTED)])
def test_sparql_constraints_need_only_the_triples_they_read(name: str, seeds_build) -> None:
    # A build runs the per-dossier SPARQL constraints on a store of only these predicates.
    import pyoxigraph as ox

    graphs = dict(seeds_build.graphs()) if name == "seeds" else fixture_graphs(name)
    shapes = engine("dossier")
    reads = shapes.sparql_reads()
    assert reads is not None
    everything, kept = ox.Store(), ox.Store()
    everything.extend(q for quads in graphs.values() for q in quads)
    kept.extend(q for quads in graphs.values() for q in quads if q.predicate.value in reads)
    assert len(kept) < len(everything) / 3
    assert shapes.validate_store(kept) == shapes.validate_store(everything)


def test_compiled_tests_agree_with_the_constraints_they_compile() -> None:
    """Every constraint of the shipped shapes, and kinds or arguments they leave out, compiled
    into a test (kg.shacl._test) says what the constraint says (kg.shacl._passes) of varied
    nodes: IRIs, blank nodes, typed, ill-typed and language-tagged literals."""
    from decimal import Decimal

    import pyoxigraph as ox

    from kg.shacl import Data, _passes, _test

    xsd, rdf = "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    mission = "https://w3id.org/spacekg/ontology#Mission"
    a = ox.NamedNode("https://example.org/a")
    data = Data([ox.Triple(a, ox.NamedNode(rdf + "type"), ox.NamedNode(mission))])
    values: list = ["<https://example.org/a>", "<https://example.org/z>", "_:b1",
                    ox.Literal("x"), ox.Literal("x", language="en"), ox.Literal("", language="ru")]
    for lexical in ("0", "1", "7", "-3", "1.5", " 2 ", "abc", "", "1e3", "2024-01-01", "true"):
        for dt in ("integer", "decimal", "double", "string", "date", "boolean", "gYear"):
            values.append(ox.Literal(lexical, datatype=ox.NamedNode(xsd + dt)))
    eng = engine("all")
    shapes = [*eng.node_shapes.values(), *(p for s in eng.node_shapes.values() for p in s.properties)]
    cases = [(kind, arg) for shape in shapes for kind, arg in shape.checks
             if kind not in {"minCount", "maxCount"}]
    cases += [("datatype", rdf + "langString"), ("datatype", xsd + "string"),
              ("nodeKind", "BlankNode"), ("nodeKind", "BlankNodeOrLiteral"),
              ("nodeKind", "Literal"), ("nodeKind", "BlankNodeOrIRI"), ("nodeKind", "IRIOrLiteral"),
              ("minExclusive", Decimal(0)), ("maxInclusive", Decimal(5)),
              ("maxExclusive", Decimal("1.5")), ("minInclusive", None), ("class", mission),
              ("in", frozenset({"<https://example.org/a>"}))]
    assert {kind for kind, _arg in cases} >= {"datatype", "class", "nodeKind", "minInclusive",
                                             "minExclusive", "node", "pattern", "in"}
    for kind, arg in cases:
        test = _test(eng, kind, arg)
        for v in values * 2:  # twice: a range test keeps its verdicts
            assert test(v, data) == _passes(eng, kind, arg, v, data), (kind, arg, v)
