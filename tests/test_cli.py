"""The kg CLI, called exactly as a user would (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from conftest import SEEDS

from kg.cli import main

SEED = SEEDS / "000_9d7a1e61a93c14a6.txt"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return invoke


def test_build_with_no_arguments_builds_the_bundled_seeds(run, tmp_path: Path) -> None:
    result = run("build", "--no-validate") if _has_no_validate() else run("build")
    assert result.exit_code == 0, result.output
    assert "12 dossiers" in result.output and "lines not understood: 0" in result.output
    for name in ("kg.ttl", "kg.nq", "kg.jsonld", "report.json"):
        assert (tmp_path / "out" / name).is_file()
    g = rdflib.Graph().parse(tmp_path / "out" / "kg.ttl")
    assert len(g) > 1000


def _has_no_validate() -> bool:
    return any(p.name == "validate" for p in main.commands["build"].params)


def test_build_formats_and_output_dir(run, tmp_path: Path) -> None:
    result = run("build", str(SEED), "-o", "o2", "--format", "trig,nt", "-f", "rdfxml")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o2").iterdir() if p.is_file()) == [
        "kg.nt", "kg.rdf", "kg.trig", "report.json"]
    assert (tmp_path / "o2" / "store").is_dir()


@pytest.mark.parametrize("store", [[], ["--no-store"]])
def test_build_without_cache_or_n_quads_still_loads_and_validates(run, tmp_path: Path,
                                                                   store: list[str]) -> None:
    """Without the cache, the N-Quads the store is loaded from (when they are not an output)
    live in a scratch directory until the build is done, then go."""
    result = run("build", "--no-cache", "-f", "ttl", "-o", "o3", *store)
    assert result.exit_code == 0, result.output
    assert "12 dossiers" in result.output
    out = tmp_path / "o3"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["kg.ttl", "report.json"]
    assert not [p for p in out.rglob("*") if p.name.startswith(".kg-cache-")]
    if not store:
        import pyoxigraph as ox

        db = ox.Store.read_only(str(out / "store"))
        assert len(list(db.named_graphs())) == 12
        del db


def test_store_in_a_directory_not_yet_there_is_created(run, tmp_path: Path) -> None:
    """``--store stores/kg`` names a directory whose parent does not exist yet (RocksDB would
    not make it: 'While mkdir if missing: ... No such file or directory')."""
    result = run("build", "-o", "o4", "--store", "stores/kg")
    assert result.exit_code == 0, result.output
    import pyoxigraph as ox

    db = ox.Store.read_only(str(tmp_path / "o4" / "stores" / "kg"))
    assert len(list(db.named_graphs())) == 12
    del db


def test_unknown_format_is_a_usage_error(run) -> None:
    result = run("build", "--format", "yaml")
    assert result.exit_code == 2 and "unknown format 'yaml'" in result.output


def test_bad_base_is_a_usage_error(run) -> None:
    result = run("build", "--base", "nope")
    assert result.exit_code == 2 and "--base" in result.output


def test_missing_path_is_a_usage_error(run) -> None:
    result = run("build", "nowhere")
    assert result.exit_code == 2
    assert "nowhere: no such file or directory" in result.output


def test_directory_without_dossiers(run, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("build", "empty")
    assert result.exit_code == 2 and "no dossiers" in result.output


def test_bad_dossiers_are_reported_and_the_rest_written(run, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a_good.txt").write_bytes(SEED.read_bytes())
    (d / "b_empty.txt").write_bytes(b"")
    (d / "c_binary.txt").write_bytes(b"= X =\n\x00\x01\x02")
    (d / "d_latin1.txt").write_bytes("= Caf\xe9 =\n".encode("latin-1"))
    (d / "e_notitle.txt").write_text("- Operator: NASA\n")
    (d / "f_dup.txt").write_bytes(SEED.read_bytes().replace(b"2MV-4 No.1\n- Mission",
                                                             b"dup\n- Mission"))
    result = run("build", "in", "-o", "out")
    assert result.exit_code == 1
    err = result.output
    assert "b_empty.txt:1: error: empty file" in err
    assert "c_binary.txt:2: error: binary data" in err
    assert "d_latin1.txt:1: error: not UTF-8" in err
    assert "e_notitle.txt:1: error: expected a title line" in err
    assert "f_dup.txt:1: error: duplicate title 'Mars 2MV-4 No.1'" in err
    assert "Traceback" not in err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"]["dossiers"] == 1
    statuses = {d["file"]: d["status"] for d in report["dossiers"]}
    assert statuses["000_9d7a1e61a93c14a6.txt" if False else "a_good.txt"] == "ok"
    assert statuses["b_empty.txt"] == "error"
    g = rdflib.Graph().parse(tmp_path / "out" / "kg.ttl")
    assert (None, rdflib.RDFS.label, rdflib.Literal("Mars 2MV-4 No.1")) in g


def test_not_understood_lines_are_listed(run, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("= X =\n- Mission Type: Flyby\n- Colour: blue\n")
    result = run("build", "x.txt")
    assert result.exit_code == 0
    assert "x.txt:3: not-understood: not understood: unknown infobox key: '- Colour: blue'" \
        in result.output
    assert "lines not understood: 1" in result.output


def test_extract_prints_the_record(run) -> None:
    result = run("extract", str(SEED))
    assert result.exit_code == 0
    rec = json.loads(result.output)
    assert rec["title"] == "Mars 2MV-4 No.1"
    assert rec["facts"]["launch_time"][0] == {"value": "1962-10-24T17:55:04Z", "line": 26,
                                              "source": "prose"}


def test_extract_reads_stdin_and_errors_cleanly(run) -> None:
    ok = run("extract", "-", input=SEED.read_bytes())
    assert ok.exit_code == 0 and json.loads(ok.output)["title"] == "Mars 2MV-4 No.1"
    bad = run("extract", "-", input=b"no title here\n")
    assert bad.exit_code == 1
    assert "<stdin>:1: expected a title line '= Title ='" in bad.output


def test_convert_to_stdout(run) -> None:
    result = run("convert", str(SEED), "-f", "nq")
    assert result.exit_code == 0
    ds = rdflib.Dataset()
    ds.parse(data=result.output, format="nquads")
    assert len(list(ds.quads((None, None, None, None)))) > 100


def test_help_has_examples(run) -> None:
    for cmd in ("build", "extract", "convert"):
        result = run(cmd, "--help")
        assert result.exit_code == 0 and "Example" in result.output


def test_report_accounts_for_every_quad(run, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for seed in list(SEEDS.glob("*.txt"))[:4]:
        (tmp_path / "in" / seed.name).write_bytes(seed.read_bytes())
    (tmp_path / "in" / "zz_bad.txt").write_bytes(b"no title\n")
    (tmp_path / "in" / "zz_odd.txt").write_text("= Odd =\n- Colour: blue\n")
    result = run("build", "in", "--report", "r.json", "-f", "nq", "--no-store", "-q")
    assert result.exit_code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    rows = {d["file"]: d for d in report["dossiers"]}
    assert rows["zz_bad.txt"]["status"] == "error" and rows["zz_bad.txt"]["errors"] == 1
    assert rows["zz_odd.txt"]["not_understood"] == 1
    nquads = (tmp_path / "out" / "kg.nq").read_text().splitlines()
    assert len(set(nquads)) == len(nquads) == report["summary"]["quads"]
    assert sum(d["quads"] for d in report["dossiers"]) == len(nquads)


def test_concurrent_build_into_one_directory_is_refused(run, tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "out" / ".kg-cache" / "build.lock"
    lock.parent.mkdir(parents=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run("build", "--no-store", "--no-validate")
    assert result.exit_code == 2
    assert "another kg build is writing into this directory" in result.output
    assert not (tmp_path / "out" / "kg.ttl").exists()
    assert run("build", "--no-store", "--no-validate").exit_code == 0
