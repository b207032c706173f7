"""The linked graph: IRIs, cross-dossier links, provenance, determinism, exports, golden file."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import SEEDS
from rdflib.compare import isomorphic

from kg import build, write, write_outputs
from kg.build import BuildResult
from kg.export import FORMATS
from kg.ontology import context_from_ontology, declared_properties
from kg.vocab import DEFAULT_BASE, KG, RDFS_LABEL

GOLDEN = Path(__file__).parent / "golden" / "seed.nq"
SEED_GRAPH = DEFAULT_BASE + "dossier/mars-2mv-4-no-1"
M = DEFAULT_BASE + "mission/"


def parse_back(quads, fmt: str) -> rdflib.Dataset:
    """Write ``quads`` in ``fmt`` with kg and read them back with rdflib."""
    out = io.BytesIO()
    write(quads, out, fmt, DEFAULT_BASE)
    parser = {"ttl": "turtle", "nq": "nquads", "trig": "trig", "nt": "nt", "rdfxml": "xml",
              "jsonld": "json-ld"}[fmt]
    ds = rdflib.Dataset()
    ds.parse(data=out.getvalue().decode("utf-8"), format=parser)
    return ds


def triples_of(result: BuildResult) -> set[tuple[str, str, str]]:
    return {(t.subject.value, t.predicate.value, str(t.object)) for t in
            {q.triple for q in result.quads}}


def test_references_by_alias_meet_the_dossier_node(seeds_build: BuildResult) -> None:
    t = triples_of(seeds_build)
    prev, nxt = KG + "previousMission", KG + "nextMission"
    assert (M + "mars-2mv-4-no-1", prev, f"<{M}mars-1m-no-2>") in t      # 'Mars 1960B'
    assert (M + "mars-2mv-4-no-1", nxt, f"<{M}mars-1>") in t
    assert (M + "mars-1", prev, f"<{M}mars-2mv-4-no-1>") in t            # 'Sputnik 22'
    assert (M + "mars-1", nxt, f"<{M}mars-2mv-3-no-1>") in t             # 'Sputnik 24'
    assert (M + "mars-2mv-3-no-1", nxt, f"<{M}mars-2m-no-521>") in t     # 'Mars 1969A'
    assert (M + "mars-2m-no-521", prev, f"<{M}mars-2mv-3-no-1>") in t
    # A mission without a dossier is still a labelled kg:Mission node.
    assert (M + "mars-1969b", RDFS_LABEL, '"Mars 1969B"') in t


def test_corpus_is_one_connected_graph_of_missions(seeds_build: BuildResult) -> None:
    edges: dict[str, set[str]] = {}
    for s, p, o in triples_of(seeds_build):
        if p in {KG + "previousMission", KG + "nextMission"}:
            o = o.strip("<>")
            edges.setdefault(s, set()).add(o)
            edges.setdefault(o, set()).add(s)
    missions = {q.subject.value for q in seeds_build.quads
                if q.predicate.value.endswith("wasDerivedFrom")}
    # Zond 2 belongs to another programme and only names Zond 1: it is its own component.
    start = M + "mars-1m-no-1"
    seen, todo = {start}, [start]
    while todo:
        for n in edges.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    assert missions - seen == {M + "zond-2"}
    # shared entities are single nodes
    t = triples_of(seeds_build)
    sites = {o for s, p, o in t if p == KG + "launchSite"}
    assert sites == {f"<{DEFAULT_BASE}launch-site/baikonur>"}
    programmes = {o for s, p, o in t if p == KG + "programme"}
    assert programmes == {f"<{DEFAULT_BASE}programme/mars-program>",
                          f"<{DEFAULT_BASE}programme/zond-program>"}


def test_graph_hygiene(seeds_build: BuildResult) -> None:
    triples = {q.triple for q in seeds_build.quads}
    assert not any(isinstance(x, ox.BlankNode) for t in triples for x in (t.subject, t.object))
    declared = declared_properties()
    used = {t.predicate.value for t in triples if t.predicate.value.startswith(KG)}
    assert used <= declared, used - declared
    labels: dict[str, int] = {}
    for t in triples:
        if t.predicate.value == RDFS_LABEL:
            labels[t.subject.value] = labels.get(t.subject.value, 0) + 1
    named = {t.subject.value for t in triples}
    assert named == set(labels) and set(labels.values()) == {1}
    assert {q.graph_name.value for q in seeds_build.quads} == {
        DEFAULT_BASE + "dossier/" + p for p in
        ["mars-2mv-4-no-1", "mars-1", "mars-1m-no-2", "mars-1m-no-1", "mars-2mv-3-no-1",
         "zond-2", "mars-2m-no-521", "kosmos-419", "mars-2", "mars-3", "mars-4", "mars-5"]}


def test_provenance_points_at_lines(seeds_build: BuildResult) -> None:
    t = triples_of(seeds_build)
    line26 = SEED_GRAPH + "#L26"
    assert (line26, KG + "statesProperty", f"<{KG}launchTime>") in t
    assert (line26, KG + "lineNumber",
            '"26"^^<http://www.w3.org/2001/XMLSchema#integer>') in t
    assert (SEED_GRAPH, KG + "fileName", '"000_9d7a1e61a93c14a6.txt"') in t
    line18 = SEED_GRAPH + "#L18"                     # Apsis: gee
    assert (line18, KG + "rawValue", '"gee"') in t
    assert not [o for s, p, o in t if s == line18 and p == KG + "statesProperty"]


def test_golden_seed_graph() -> None:
    result = build([str(SEEDS)])
    seed = [q for q in result.quads if q.graph_name.value == SEED_GRAPH]
    out = io.BytesIO()
    write(seed, out, "nq", DEFAULT_BASE)
    if os.environ.get("KG_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(out.getvalue())
    got = rdflib.Graph().parse(data=out.getvalue().decode(), format="nquads")
    want = rdflib.Graph().parse(GOLDEN, format="nquads")
    assert isomorphic(got, want)


def test_same_input_gives_byte_identical_files(tmp_path: Path) -> None:
    names = list(FORMATS)
    a, b = tmp_path / "a", tmp_path / "b"
    write_outputs(build([str(SEEDS)]), a, names)
    write_outputs(build([str(p) for p in sorted(SEEDS.glob("*.txt"), reverse=True)]), b, names)
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


@pytest.mark.parametrize("fmt", ["ttl", "nq", "trig", "nt", "rdfxml", "jsonld"])
def test_every_format_parses_back_to_the_same_graph(seeds_build: BuildResult, fmt: str) -> None:
    ds = parse_back(seeds_build.quads, fmt)
    union = rdflib.Graph()
    for s, p, o, _g in ds.quads((None, None, None, None)):
        union.add((s, p, o))
    nt = io.BytesIO()
    write(seeds_build.quads, nt, "nt", DEFAULT_BASE)
    expected = rdflib.Graph().parse(data=nt.getvalue().decode(), format="nt")
    assert isomorphic(union, expected)


def test_context_matches_the_ontology() -> None:
    shipped = json.loads((Path(__file__).parent.parent / "kg" / "data" /
                          "context.jsonld").read_text("utf-8"))
    assert shipped == context_from_ontology()


def test_framed_jsonld_nests_spacecraft_and_launch(seeds_build: BuildResult) -> None:
    out = io.BytesIO()
    write(seeds_build.quads, out, "jsonld-framed", DEFAULT_BASE)
    doc = json.loads(out.getvalue())
    missions = [n for n in doc["@graph"] if n.get("@type") == "Mission" and "spacecraft" in n]
    assert len(missions) == 12
    seed = next(m for m in missions if m["label"] == "Mars 2MV-4 No.1")
    assert seed["spacecraft"]["cosparId"] == "1962-057A"
    assert seed["launch"]["launchTime"] == {"@value": "1962-10-24T17:55:04Z",
                                            "@type": "xsd:dateTime"}


def test_custom_base() -> None:
    result = build([str(SEEDS / "000_9d7a1e61a93c14a6.txt")], base="https://example.org/x/")
    assert all(q.graph_name.value.startswith("https://example.org/x/dossier/")
               for q in result.quads)
    with pytest.raises(ValueError):
        build([str(SEEDS)], base="not an iri")


HOSTILE = ('= Evil "quote" > <tag> """ \u202e =\n'
           '- Operator: A"B>C\\D\n- Manufacturer: x\u0000y\n- Launch Rocket: R """ \' \n'
           '- Programme: {braces} |pipe| ^caret^ `tick`\n- Colour: line\\nbreak\n\n'
           'It was also known as Evil "Two" and launched in 1999.\n')


@pytest.mark.parametrize("fmt", ["ttl", "nq", "trig", "nt", "rdfxml", "jsonld"])
def test_hostile_values_stay_valid_rdf(tmp_path: Path, fmt: str) -> None:
    src = tmp_path / "evil.txt"
    src.write_text(HOSTILE.replace("\u0000", ""), encoding="utf-8")
    result = build([str(src)])
    assert not result.errors
    ds = parse_back(result.quads, fmt)
    labels = {str(o) for _s, p, o, _g in ds.quads((None, rdflib.RDFS.label, None, None))}
    assert 'Evil "quote" > <tag> """ \u202e' in labels
    assert 'A"B>C\\D' in labels
