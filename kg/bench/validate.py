"""Benchmark ``kg validate``: missions per second, against one pyshacl call over the whole graph.

    python -m kg.bench.validate [--copies N]

The corpus is the bundled seeds copied N times under new titles (so N x 12 dossiers, linked to
the seeds' missions).  kg's validation (per-dossier shapes per named graph, then the corpus rules
on the merged graph) is timed against a single ``pyshacl.validate`` of all shapes over the merged
graph, run in a fresh process without kg's SPARQL parse cache, as a plain pyshacl user would.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kg.build import build, bundled_seeds
from kg.validate import validate_graphs, validate_whole

_REFERENCE = """
import sys, time, pyshacl
from kg.build import build
from kg.validate import rdflib_graph, shapes_graph
result = build([sys.argv[1]])
data, shapes = rdflib_graph(result.quads), shapes_graph("all")
start = time.perf_counter()
pyshacl.validate(data, shacl_graph=shapes, inference="none", inplace=True)
print(time.perf_counter() - start)
"""


def corpus(copies: int, into: Path) -> int:
    """Write ``copies`` renamed copies of the seeds into ``into``; the number of dossiers."""
    n = 0
    for seed in bundled_seeds():
        text = seed.read_text("utf-8")
        for i in range(copies):
            title = re.search(r"^= (.+) =", text, re.M)
            assert title
            renamed = text.replace(title.group(0), f"= {title.group(1)} copy {i} =", 1)
            (into / f"{seed.stem}-{i}.txt").write_text(renamed, "utf-8")
            n += 1
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of the 12 seeds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        n = corpus(args.copies, Path(tmp))
        result = build([tmp])
        graphs = result.graphs()
        start = time.perf_counter()
        report = validate_graphs(graphs)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        _conforms, whole = validate_whole(graphs)  # same process: with the parse cache
        cached = time.perf_counter() - start
        plain = float(subprocess.run([sys.executable, "-c", _REFERENCE, tmp], check=True,
                                     capture_output=True, text=True).stdout)
    assert report.results == whole, "split validation differs from one pyshacl run"
    missions = n
    print(f"{missions} dossiers, {report.triples} triples, {len(report.results)} results")
    print(f"kg validate (per dossier + corpus rules): {ours:.2f} s, {missions / ours:.1f} missions/s")
    print(f"one pyshacl call, whole graph (plain):     {plain:.2f} s, {missions / plain:.1f} missions/s"
          f"  -> kg is {plain / ours:.1f}x faster")
    print(f"one pyshacl call, whole graph (kg's SPARQL parse cache): {cached:.2f} s"
          f"  -> ratio {cached / ours:.2f}")


if __name__ == "__main__":
    main()
