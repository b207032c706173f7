"""SHACL validation: the corpus conforms, each broken fixture trips exactly its constraint, the
per-dossier split equals one pyshacl run, and the report names the dossier file and line."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from conftest import SEEDS

from kg import build
from kg.cli import main
from kg.validate import (
    Report,
    ShaclResult,
    ontology_shapes_text,
    shapes_graph,
    validate,
    validate_graphs,
    validate_whole,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "shapes"
BASE_GRAPH = "https://w3id.org/spacekg/id/dossier/testflight-1"
PREFIXES = {
    "mission": "https://w3id.org/spacekg/id/mission/",
    "spacecraft": "https://w3id.org/spacekg/id/spacecraft/",
    "launch": "https://w3id.org/spacekg/id/launch/",
    "dossier": "https://w3id.org/spacekg/id/dossier/",
    "organization": "https://w3id.org/spacekg/id/organization/",
    "launch-pad": "https://w3id.org/spacekg/id/launch-pad/",
    "mission-type": "https://w3id.org/spacekg/id/mission-type/",
}
SHAPES = "https://w3id.org/spacekg/shapes#"

#: Dossier fixtures (a file or a folder of dossiers): shape, focus nodes, message fragment.
DOSSIER_FIXTURES = {
    "cospar-year.txt": ("CosparYearIsLaunchYear", ["spacecraft:testflight-1"], "launch year 1963"),
    "decay-before-launch.txt": ("LaunchNotAfterDecayOrLanding", ["spacecraft:testflight-1"],
                                "cannot decay or land before"),
    "satcat-malformed.txt": ("Spacecraft-satcat", ["spacecraft:testflight-1"], "positive integer"),
    "cospar-malformed.txt": ("Spacecraft-cosparId-pattern", ["spacecraft:testflight-1"],
                             "Malformed COSPAR ID"),
    "cospar-missing.txt": ("Spacecraft-cosparId-missing", ["spacecraft:testflight-1"],
                           "no COSPAR ID"),
    "own-predecessor.txt": ("NotOwnPredecessor", ["mission:testflight-1"], "its own previous"),
    "launch-time-missing.txt": ("Launch-time-missing", ["launch:testflight-1"], "no launch time"),
    "debris-before-launch.txt": ("LaunchNotAfterDebrisDecay", ["launch:testflight-1"],
                                 "after the debris decay date"),
    "sequence-disagrees": ("SequenceAgrees", ["mission:testflight-1"], "dossiers disagree"),
    "predecessor-cycle": ("NoPredecessorCycle", ["mission:testflight-1", "mission:testflight-2"],
                          "chain loops"),
}


def expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    if curie.startswith("<"):
        return curie[1:-1]
    return PREFIXES[prefix] + local if prefix in PREFIXES else curie


def graph_fixtures() -> dict[str, tuple[str, list[str], str]]:
    """The .ttl / .ru fixtures with the expectations in their header comments."""
    out = {}
    for path in sorted(FIX.glob("*.ttl")) + sorted(FIX.glob("*.ru")):
        head = dict(re.findall(r"^# (shape|focus|message): ?(.*)$", path.read_text("utf-8"), re.M))
        out[path.name] = (head["shape"], [head["focus"]], head["message"])
    return out


EXPECTED = {**DOSSIER_FIXTURES, **graph_fixtures()}


@cache
def _base_quads() -> tuple[ox.Quad, ...]:
    return tuple(build([FIX / "base.txt"]).quads)


def fixture_graphs(name: str) -> dict[str | None, list[ox.Quad]]:
    """The named graphs of a fixture: built dossiers, or the base dossier with a patch."""
    path = FIX / name
    if path.suffix == ".txt" or path.is_dir():
        return dict(build([path]).graphs())
    store = ox.Store()
    store.extend(_base_quads())
    if path.suffix == ".ttl":
        graph = ox.NamedNode(BASE_GRAPH)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph)
                     for t in ox.parse(path=path, format=ox.RdfFormat.TURTLE))
    else:
        store.update(path.read_text("utf-8"))
    graphs: dict[str | None, list[ox.Quad]] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        graphs.setdefault(q.graph_name.value, []).append(q)
    return graphs


@pytest.fixture(scope="module")
def seeds_report(seeds_build) -> Report:
    return validate(seeds_build)


# ---------------------------------------------------------------------------- the shapes


def test_ontology_shapes_are_generated_from_the_ontology() -> None:
    shipped = (Path(__file__).resolve().parent.parent / "shapes" / "ontology.ttl").read_text()
    assert shipped == ontology_shapes_text(), "regenerate shapes/ontology.ttl (see its docstring)"


def test_every_constraint_has_a_broken_fixture() -> None:
    """Every named shape carrying a message (and the domain family) is tripped by a fixture."""
    g = shapes_graph("all")
    with_message = {str(s).removeprefix(SHAPES) for s in g.subjects(rdflib.SH.message, None)
                    if isinstance(s, rdflib.URIRef)}
    covered = {shape for shape, _f, _m in EXPECTED.values()}
    domain = {s for s in with_message if s.startswith("Domain-")}
    assert domain and domain & covered
    assert with_message - domain - covered == set()


def test_shapes_use_only_core_and_sparql() -> None:
    """No SHACL-AF or JavaScript: other engines (Jena) must understand every shape."""
    g = shapes_graph("all")
    advanced = {rdflib.SH.rule, rdflib.SH.target, rdflib.SH.js, rdflib.SH.jsFunctionName}
    assert not [t for t in g if t[1] in advanced]


# ---------------------------------------------------------------------------- the corpus


def test_bundled_corpus_conforms(seeds_report: Report) -> None:
    assert seeds_report.conforms, seeds_report.text()
    assert seeds_report.count("Violation") == 0
    assert seeds_report.exit_code() == 0
    assert seeds_report.graphs == 12


def test_split_equals_one_pyshacl_run_on_the_corpus(seeds_build, seeds_report: Report) -> None:
    _conforms, whole = validate_whole(seeds_build.graphs())
    assert seeds_report.results == whole


# ---------------------------------------------------------------------------- the fixtures


def _run(name: str) -> tuple[Report, list[ShaclResult]]:
    graphs = fixture_graphs(name)
    return validate_graphs(graphs), validate_whole(graphs)[1]


def test_base_fixture_is_clean() -> None:
    report, whole = _run("base.txt")
    assert report.findings == [] and whole == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_trips_exactly_its_constraint(name: str) -> None:
    shape, focus, message = EXPECTED[name]
    report, whole = _run(name)
    assert report.results == whole  # per-dossier split + corpus rules == one pyshacl run
    assert {f.constraint for f in report.findings} == {f"<{SHAPES}{shape}>"}, report.text()
    focus_nodes = {f.focus if not f.focus.startswith("_:") else "_:b" for f in report.findings}
    assert focus_nodes == {expand(x) for x in focus}
    assert all(message in f.message for f in report.findings), report.text()


@pytest.mark.parametrize("name,line,key", [
    ("cospar-year.txt", 6, "1963-057A"),
    ("decay-before-launch.txt", 15, "1962-10-20"),
    ("satcat-malformed.txt", 7, "-44x"),
])
def test_report_names_dossier_file_and_line(name: str, line: int, key: str) -> None:
    report = validate([FIX / name])
    (finding,) = report.findings
    assert finding.severity == "Violation"
    assert (finding.file, finding.lines) == (name, (line,))
    assert finding.mission_label == "Testflight 1"
    assert key in (finding.value or "")
    text = report.text()
    assert f"{name}:{line}" in text and "Testflight 1" in text and "VIOLATION" in text


# ---------------------------------------------------------------------------- the CLI


def test_cli_validate_dir_exits_1_naming_file_and_line(tmp_path: Path) -> None:
    for name in ("cospar-year.txt", "decay-before-launch.txt", "satcat-malformed.txt"):
        text = (FIX / name).read_text().replace("Testflight 1", f"Testflight {name[:5]}")
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1, result.output
    for where in ("cospar-year.txt:6", "decay-before-launch.txt:15", "satcat-malformed.txt:7"):
        assert where in result.output


def test_cli_validate_seeds_conform_and_formats() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["validate", str(SEEDS)])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("kg validate: conforms: 0 violations")
    ttl = runner.invoke(main, ["validate", "--format", "turtle"])
    g = rdflib.Graph().parse(data=ttl.output, format="turtle")
    assert (None, rdflib.RDF.type, rdflib.SH.ValidationReport) in g
    doc = json.loads(runner.invoke(main, ["validate", "-f", "json"]).output)
    assert doc["conforms"] is True and doc["violations"] == 0 and doc["graphs"] == 12


def test_cli_validate_graph_files(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    runner.invoke(main, ["build", str(FIX / "cospar-year.txt"), "-o", str(out),
                         "-f", "trig,ttl", "--no-validate"])
    for name in ("kg.trig", "kg.ttl"):
        result = runner.invoke(main, ["validate", str(out / name), "-f", "json"])
        assert result.exit_code == 1, result.output
        (group,) = json.loads(result.output)["missions"]
        (finding,) = group["results"]
        assert (finding["file"], finding["lines"]) == ("cospar-year.txt", [6])


def test_cli_validate_strict_fails_on_warnings() -> None:
    path = str(FIX / "launch-time-missing.txt")
    assert CliRunner().invoke(main, ["validate", path]).exit_code == 0
    assert CliRunner().invoke(main, ["validate", "--strict", path]).exit_code == 1


@pytest.mark.parametrize("args", [["validate", "no/such/file.ttl"], ["validate", "-f", "xml"],
                                  ["validate", "--base", "not an iri"]])
def test_cli_validate_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_cli_validate_bad_graph_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2 and "bad.ttl" in result.output


def test_build_validates_by_default(tmp_path: Path) -> None:
    runner = CliRunner()
    on = runner.invoke(main, ["build", str(FIX / "satcat-malformed.txt"), "-o", str(tmp_path)])
    assert "validation: does not conform: 1 violation" in on.output
    off = runner.invoke(main, ["build", str(SEEDS), "-o", str(tmp_path), "--no-validate"])
    assert off.exit_code == 0 and "validation" not in off.output
