"""`kg query` as a user runs it (click's CliRunner)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from conftest import SEEDS
from rdflib.compare import isomorphic

from kg import build, write_outputs
from kg.cli import main
from kg.query import bundled_names


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A `kg build` output folder (kg.nq, kg.ttl) of the bundled seeds."""
    out = tmp_path_factory.mktemp("out")
    write_outputs(build([str(SEEDS)]), out, ["nq", "ttl"])
    return out


def kg(*args: str):
    return CliRunner().invoke(main, ["query", *args], catch_exceptions=False)


def test_mission_sputnik_22(built: Path) -> None:
    result = kg("mission", "--param", "name=Sputnik 22", "--data", str(built / "kg.nq"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["mission", "title", "part"]
    assert all("Mars 2MV-4 No.1" in line for line in lines[2:-1])
    assert "1962-057A" in result.output and lines[-1].endswith("rows)")


def test_lineage_mars_1_in_launch_order(built: Path) -> None:
    result = kg("lineage", "-p", "name=Mars 1", "--data", str(built), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    titles = [r["title"] for r in rows]
    assert titles.index("Mars 1M No.1") < titles.index("Mars 1") < titles.index("Mars 5")
    times = [r["launchTime"] for r in rows if r["launchTime"]]
    assert times == sorted(times)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_dossiers_as_data(engine: str) -> None:
    result = kg("aliases", "-p", "name=mars 1960b", "--data", str(SEEDS), "--engine", engine,
                "-f", "tsv")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "?title\t?knownAs\t?kind\t?mission"
    assert '"Marsnik 2"' in result.output


def test_list_shows_every_query_with_params() -> None:
    result = kg("--list")
    for name in bundled_names():
        assert f"\n{name} [" in "\n" + result.output
    assert '--param name (string, default "Sputnik 22")' in result.output


def test_unknown_name_suggests_nearest() -> None:
    result = kg("linage")
    assert result.exit_code == 2
    assert "did you mean 'lineage'" in result.output


def test_syntax_error_in_user_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE {\n  ?x ?p \n  FILTER( }\n")
    result = kg(str(bad))
    assert result.exit_code == 2
    assert f"{bad}:3: column" in result.output and "Traceback" not in result.output


def test_bad_param_value_and_name(built: Path) -> None:
    assert kg("mission", "-p", "nom=x", "--data", str(built)).exit_code == 2
    result = kg("lineage", "-p", "name", "--data", str(built))
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_user_query_value_is_data_not_syntax(tmp_path: Path, built: Path) -> None:
    echo = tmp_path / "echo.rq"
    echo.write_text("# param: text string = \"\"\nSELECT ?text WHERE { }\n")
    nasty = 'x" } } SELECT * WHERE { ?s ?p ?o } #'
    result = kg(str(echo), "-p", f"text={nasty}", "--data", str(built), "-f", "json")
    doc = json.loads(result.output)
    assert doc["head"]["vars"] == ["text"]
    assert doc["results"]["bindings"] == [{"text": {"type": "literal", "value": nasty}}]


def test_construct_formats(tmp_path: Path, built: Path) -> None:
    out = tmp_path / "wd.ttl"
    result = kg("wikidata", "-p", "name=Sputnik 22", "--data", str(built), "-o", str(out))
    assert result.exit_code == 0
    graph = rdflib.Graph().parse(out)
    p377 = rdflib.URIRef("http://www.wikidata.org/prop/direct/P377")
    assert {str(o) for o in graph.objects(None, p377)} == {"00443"}
    jsonld = kg("schema-org", "-p", "name=Mars 3", "--data", str(built), "-f", "jsonld")
    assert len(rdflib.Graph().parse(data=jsonld.output, format="json-ld")) > 5
    nt = kg("schema-org", "-p", "name=Mars 3", "--data", str(built), "-f", "nt")
    assert isomorphic(rdflib.Graph().parse(data=nt.output, format="nt"),
                                     rdflib.Graph().parse(data=jsonld.output, format="json-ld"))


def test_format_must_fit_the_answer(built: Path) -> None:
    result = kg("stats", "--data", str(built), "-f", "ttl")
    assert result.exit_code == 2 and "CONSTRUCT" in result.output


def test_default_data_is_out_kg_nq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    Path("out/kg.nq").write_text(
        "<urn:m> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://w3id.org/spacekg/ontology#Mission> <urn:g> .\n"
        "<urn:m> <http://www.w3.org/2000/01/rdf-schema#label> \"Test Mission\" <urn:g> .\n")
    result = kg("aliases", "-f", "csv")
    assert result.output.splitlines()[1:] == ["Test Mission,Test Mission,title,urn:m"]
    Path("out/kg.nq").unlink()
    seeds = kg("mission", "-p", "name=sputnik 22", "-f", "csv")
    assert "Mars 2MV-4 No.1" in seeds.output


def test_store_and_data_are_exclusive(built: Path, tmp_path: Path) -> None:
    result = kg("stats", "--data", str(built), "--store", str(tmp_path))
    assert result.exit_code == 2 and "only one" in result.output


def test_embedded_store(tmp_path: Path) -> None:
    from kg.store import load_build_result

    load_build_result(build([str(SEEDS)]).quads, tmp_path / "store")
    result = kg("lineage", "-p", "name=sputnik 24", "--store", str(tmp_path / "store"), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["relation"] for r in rows if r["title"] == "Mars 2MV-3 No.1"] == ["this mission"]
