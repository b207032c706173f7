"""Every file kg writes parses in independent tools: Raptor, Jena riot, and PyLD for JSON-LD."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from conftest import SEEDS
from rdflib.compare import isomorphic
from rdftools import local_document_loader, need_jena, need_rapper, rapper_count, riot_validate

from kg import build, write_outputs
from kg.export import FORMATS

RAPPER_SYNTAX = {"ttl": "turtle", "nq": "nquads", "trig": "trig", "nt": "ntriples",
                 "rdfxml": "rdfxml"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("out")
    hostile = out / "in"
    hostile.mkdir()
    for seed in SEEDS.glob("*.txt"):
        (hostile / seed.name).write_bytes(seed.read_bytes())
    (hostile / "zz_evil.txt").write_text(
        '= Evil "quote" > <tag> """ \u202e \\u0000 =\n- Operator: A"B>C\\D\n'
        "- Launch Rocket: R ''' ' \n- Programme: {braces} |pipe| ^caret^ `tick`\n\n"
        "Also known as Ünïcödé 1 (Russian: Марс-9).\n", encoding="utf-8")
    result = build([str(hostile)])
    assert not result.errors
    paths = write_outputs(result, out, list(FORMATS))
    files = {f.name: p for f in FORMATS.values() for p in paths
             if p.name == f"kg.{f.extension}"}
    files["_triples"] = len({q.triple for q in result.quads})
    files["_quads"] = len(result.quads)
    return files


@pytest.mark.parametrize("fmt", sorted(RAPPER_SYNTAX))
def test_rapper_parses_every_format(written: dict, fmt: str) -> None:
    need_rapper()
    expected = written["_quads"] if FORMATS[fmt].dataset else written["_triples"]
    assert rapper_count(written[fmt], RAPPER_SYNTAX[fmt]) == expected


def test_riot_validates_every_file(written: dict) -> None:
    need_jena()
    ok, stderr = riot_validate([written[f] for f in FORMATS])
    assert ok, stderr


@pytest.mark.parametrize("fmt", ["jsonld", "jsonld-framed"])
def test_pyld_reads_the_jsonld_as_the_turtle_graph(written: dict, fmt: str) -> None:
    from pyld import jsonld

    doc = json.loads(written[fmt].read_text("utf-8"))
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": local_document_loader()})
    from_pyld = rdflib.Graph().parse(data=nquads, format="nquads")
    turtle = rdflib.Graph().parse(written["ttl"], format="turtle")
    assert len(from_pyld) == written["_triples"]
    assert isomorphic(from_pyld, turtle)
