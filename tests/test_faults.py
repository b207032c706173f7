"""Faults: a killed or disk-full ``kg build`` leaves the previous outputs whole; a killed
``kg load --store`` re-run gives exactly the triples of the input."""

from __future__ import annotations

import hashlib
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store import read_graphs, store_graphs

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
KG = [sys.executable, "-c", "from kg.cli import main; main()"]
#: Build flags that keep a run short: the outputs only (the store has its own test below).
FAST = ["--no-store", "--no-validate", "--no-cache", "-j", "1", "-q"]


def kg_build(inputs: list[Path], out: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen([*KG, "build", *map(str, inputs), "-o", str(out), *FAST],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def outputs(out: Path) -> dict[str, str]:
    """Visible output files -> SHA-256 (a killed writer's hidden temp file is not an output)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}


def assert_outputs_parse(out: Path) -> None:
    """Every RDF output parses to a non-empty graph; the report is whole JSON."""
    for path in out.glob("kg.*"):
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        assert fmt is not None and list(ox.parse(path=path, format=fmt)), path
    json.loads((out / "report.json").read_text("utf-8"))


@pytest.fixture
def previous_build(tmp_path: Path) -> Path:
    """A finished build of two seeds: what a failed rebuild must leave as it was."""
    out = tmp_path / "out"
    done = kg_build(SEEDS[:2], out)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err.decode()
    return out


def test_killed_build_leaves_the_previous_outputs_whole(previous_build: Path, tmp_path: Path) -> None:
    before = outputs(previous_build)
    corpus = tmp_path / "many"
    corpus.mkdir()
    for round_ in range(8):  # a bigger input, so the kill lands while outputs are written
        for seed in SEEDS:
            text = seed.read_text("utf-8").replace("=", f"= Copy {round_} of", 1)
            (corpus / f"{round_}-{seed.name}").write_text(text, "utf-8")
    build = kg_build([corpus], previous_build)
    while build.poll() is None and not any(p.name.startswith(".")
                                           for p in previous_build.iterdir()):
        time.sleep(0.005)  # wait for the first temp file: the write has begun
    build.send_signal(signal.SIGKILL)
    build.communicate(timeout=60)
    after = outputs(previous_build)
    # every visible output is the old file or a complete new one, never a torn one
    assert set(after) == set(before)
    assert_outputs_parse(previous_build)


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


#: Over what a build writes besides its outputs, under the size of its N-Quads output (~570 kB):
#: the limit is hit while the outputs are being written.
LIMIT = 150_000


def test_disk_full_build_fails_and_keeps_the_previous_outputs(previous_build: Path) -> None:
    before = outputs(previous_build)
    build = kg_build(SEEDS, previous_build, preexec_fn=lambda: _limit_file_size(LIMIT))
    build.communicate(timeout=120)
    assert build.returncode != 0
    assert outputs(previous_build) == before
    assert not [p for p in previous_build.iterdir() if p.name.endswith(".tmp")], \
        "a failed write must remove its temp file"
    assert_outputs_parse(previous_build)


def test_disk_full_build_says_so_in_one_line(previous_build: Path) -> None:
    build = kg_build(SEEDS, previous_build, preexec_fn=lambda: _limit_file_size(LIMIT))
    _, err = build.communicate(timeout=120)
    assert build.returncode != 0 and b"Traceback" not in err, err.decode()[-2000:]


def test_killed_store_load_then_rerun_gives_exact_triples(tmp_path: Path) -> None:
    from kg import build
    from kg.export import write

    data = tmp_path / "kg.nq"
    write(build([str(p) for p in SEEDS]).quads, data, "nq", "https://w3id.org/spacekg/id/")
    store = tmp_path / "store"
    load = [*KG, "load", str(data), "--store", str(store), "--quiet"]
    first = subprocess.Popen(load, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while first.poll() is None and not store.exists():
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    again = subprocess.run(load, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    want = read_graphs([data])
    got = store_graphs(store)
    assert {iri: set(qs) for iri, qs in got.items()} == {iri: set(qs) for iri, qs in want.items()}

