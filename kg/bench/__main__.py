"""``python -m kg.bench``: kg's pipeline at scale, against a bound and a naive peer, in one run.

For each corpus size it generates dossiers (:mod:`kg.bench.corpus`), then measures, on the same
data and in the same process run:

- **kg**: ``kg build`` (extract + map + Turtle, N-Quads, JSON-LD + embedded store + SHACL
  validation), a bundled query on the store, and rebuilds after one edit: of the prose, and of
  a successor (which the corpus rules read);
- **bound**: pyoxigraph parsing the N-Quads kg wrote and serialising them as Turtle — what it
  costs just to handle that many triples in a compiled library;
- **naive peer**: the same dossiers through one rdflib Graph, rdflib's Turtle serialiser and one
  pyshacl call over the whole graph (only up to ``--naive-max`` dossiers: beyond that it takes
  hours; larger sizes show the ratio extrapolated linearly from the largest size measured, and
  say so).

It prints time, dossiers/s, triples/s and peak memory (resident, all processes) per stage, and
the ratios kg/bound and naive/kg; before each size, how fast the machine is just then
(:mod:`kg.bench.machine`), to set one run's seconds beside another's. Each timed stage starts
once the system has written back what the stage before it wrote (``os.sync()``): the generated
corpus, a build's store. Timings on a shared machine are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import machine
from .memory import PeakRSS

#: One-edit rebuilds timed of each kind (prose, successor) after the full build.
REBUILDS = 5


def _measure(fn: Callable[[], Any], children_only: bool = False,
             interval: float = 0.05) -> tuple[float, int, Any]:
    with PeakRSS(interval, children_only=children_only) as mem:
        started = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - started
    return seconds, mem.peak, value


def _row(stage: str, seconds: float, dossiers: int, triples: int, peak: int | None,
         note: str = "") -> str:
    rate = f"{dossiers / seconds:>10,.0f}" if seconds else f"{'-':>10}"
    trate = f"{triples / seconds:>12,.0f}" if seconds and triples else f"{'-':>12}"
    mem = f"{peak / 2**20:>8,.0f}" if peak else f"{'-':>8}"
    return f"  {stage:<34} {seconds:>9.2f} {rate} {trate} {mem}  {note}"


def bound(nquads: Path, out: Path) -> float:
    """pyoxigraph alone: parse the N-Quads, write Turtle."""
    import pyoxigraph as ox

    started = time.perf_counter()
    triples = (q.triple for q in ox.parse(path=nquads, format=ox.RdfFormat.N_QUADS))
    ox.serialize(triples, out, format=ox.RdfFormat.TURTLE)
    return time.perf_counter() - started


def naive(src: Path) -> tuple[float, int]:
    """One rdflib Graph, rdflib's Turtle serialiser, one pyshacl call: (seconds, triples)."""
    import pyshacl
    import rdflib

    from kg import build
    from kg.validate import shapes_graph, to_rdflib

    started = time.perf_counter()
    result = build([src])
    graph = rdflib.Graph()
    for q in result.quads:
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    graph.serialize(io.BytesIO(), format="turtle")
    pyshacl.validate(graph, shacl_graph=shapes_graph("all"), inference="none")
    return time.perf_counter() - started, len(graph)


def run_size(n: int, work: Path, jobs: int, naive_max: int, seed: int,
             naive_rate: list[float], query_max: int | None) -> None:
    from kg.bench.corpus import generate
    from kg.query import bundled, open_source, run

    src, out = work / f"in-{n}", work / f"out-{n}"
    started = time.perf_counter()
    generate(n, src, seed=seed)
    print(f"\n{n:,} dossiers (generated in {time.perf_counter() - started:.1f} s)")
    print(f"  {machine.measure(work)}")
    print(f"  {'stage':<34} {'seconds':>9} {'dossiers/s':>10} {'triples/s':>12} {'peak MiB':>8}")

    os.sync()  # each timed stage starts with the disk's write-back of the one before done
    seconds, peak, outcome = _measure(lambda: _kg_build(src, out, jobs), children_only=True)
    triples = outcome["triples"]
    for stage, secs in outcome["timings"].items():
        print(_row(f"kg: {stage}", secs, n, triples, None))
    print(_row("kg build (all of the above)", seconds, n, triples, peak,
               f"{triples:,} triples, {outcome['quads']:,} quads; "
               f"validation: {outcome['validation']}"))

    if query_max is None or n <= query_max:
        q_seconds, _, rows = _measure(lambda: _query(out / "store", bundled, open_source, run))
        print(_row("kg query stats (embedded store)", q_seconds, n, 0, None, f"{rows} rows"))

    # Rebuilds after one dossier is edited, REBUILDS of each kind (spread over the corpus), each
    # kind reported by its median: a rebuild takes seconds, most of them copying the outputs,
    # which a shared disk makes vary from one run to the next; and the store's files, left
    # overlapping by the bulk load, are merged by RocksDB during the first ten updates or so
    # (see the README), which the ten rebuilds cover. The prose edit leaves what the corpus
    # rules read alone; the successor edit does not.
    files = sorted(src.glob("*.txt"))
    for kind in ("prose", "successor"):
        runs: list[tuple[float, int, dict[str, Any]]] = []
        for k in range(1, REBUILDS + 1):
            at = k * n // (REBUILDS + 1)
            victim = files[min(at + (kind == "successor"), n - 1)]
            edit(victim, kind, files[(at + n // 3) % n])
            os.sync()
            # Memory sampled every quarter second, not every 50 ms: a sample reads every
            # process's page tables (3 ms), CPU the rebuild of a second or two would miss.
            runs.append(_measure(lambda: _kg_build(src, out, jobs), children_only=True,
                                 interval=0.25))
        inc_seconds, _, inc = sorted(runs, key=lambda r: r[0])[REBUILDS // 2]
        inc_peak = max(r[1] for r in runs)
        rules = next(stage.split("(")[1].rstrip(")") for stage in inc["timings"]
                     if stage.startswith("validate"))
        each = ", ".join(f"{r[0]:.2f}" for r in runs)
        print(_row(f"kg build, one {kind} edit", inc_seconds, n, triples, inc_peak,
                   f"median of {REBUILDS} ({each} s): redid {inc['extracted']} extract / "
                   f"{inc['rendered']} map, copied {inc['copied']}, {rules}; "
                   f"{100 * inc_seconds / seconds:.1f}% of the full build"))

    os.sync()
    b_seconds, b_peak, _ = _measure(lambda: bound(out / "kg.nq", work / "bound.ttl"))
    print(_row("bound: pyoxigraph nq -> ttl", b_seconds, n, triples, b_peak))

    n_seconds = None
    if n <= naive_max:
        os.sync()
        n_seconds, n_peak, (nv_seconds, _nv_triples) = _measure(lambda: naive(src))
        naive_rate.append(n_seconds / n)
        print(_row("naive: rdflib + ttl + 1 pyshacl", n_seconds, n, triples, n_peak))
    print(f"  ratios: kg/bound = {seconds / b_seconds:.1f}x, "
          f"{naive_ratio(seconds, n, n_seconds, naive_rate)}, peak memory {peak / 2**20:,.0f} MiB")
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


def naive_ratio(seconds: float, n: int, measured: float | None, rates: list[float]) -> str:
    """naive/kg at ``n`` dossiers: measured, else extrapolated linearly from the largest size
    the naive peer ran at (its seconds per dossier last in ``rates``), else not known."""
    if measured is not None:
        return f"naive/kg = {measured / seconds:.1f}x"
    if rates:
        return (f"naive/kg = {rates[-1] * n / seconds:.1f}x (naive extrapolated linearly from "
                f"the largest measured size)")
    return "naive/kg not measured (--naive-max is below every size so far)"


def edit(path: Path, kind: str, other: Path) -> None:
    """Edit one dossier: ``prose`` ends the first paragraph after the infobox with a word
    (nothing the corpus rules read: no fact changes, and no line moves, which would renumber
    the dossier's source lines); ``successor`` makes the dossier ``other``'s title its next
    mission."""
    text = path.read_text("utf-8")
    if kind == "prose":
        # Not the line after the title: in most dossiers that is the short name, an alias.
        end = re.search(r"^- .*\n(?!- )", text, re.M)
        para = re.compile(r"^(?![-=\s]).+$", re.M).search(text, end.end() if end else 0)
        if para is None:
            raise ValueError(f"{path}: no paragraph after the infobox to edit")
        text = text[:para.end()] + " Edited." + text[para.end():]
    else:
        from kg.dossier import read

        title = read(other).title
        line = f"- Next Mission: {title}"
        if re.search(r"^- Next Mission:", text, re.M):
            text = re.sub(r"^- Next Mission:.*$", lambda _m: line, text, count=1, flags=re.M)
        else:  # the first line of the infobox
            text = re.sub(r"^(?=- )", lambda _m: line + "\n", text, count=1, flags=re.M)
    path.write_text(text, "utf-8")


_BUILD = """
import json, sys
from kg.build import build_to
o = build_to([sys.argv[1]], sys.argv[2], ["ttl", "nq", "jsonld"], jobs=int(sys.argv[3]))
r = o.result
print(json.dumps({"timings": r.timings, "triples": r.triples, "quads": r.quads,
                  "extracted": r.extracted, "rendered": r.rendered, "copied": r.copied,
                  "validation": o.validation.summary()}))
"""


def _kg_build(src: Path, out: Path, jobs: int) -> dict[str, Any]:
    """``kg build`` (validation and store included) in a fresh process, so its peak memory is
    its own, not what earlier stages of the benchmark left in this one."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _BUILD, str(src), str(out), str(jobs)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def _query(store: Path, bundled: Any, open_source: Any, run: Any) -> int:
    query = bundled("stats")
    with open_source(store=store) as source:
        result = run(query, source, query.example_params())
    return len(result.rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kg.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="comma-separated corpus sizes [default: %(default)s]")
    parser.add_argument("--naive-max", type=int, default=1000,
                        help="largest size the naive peer runs at [default: %(default)s]")
    parser.add_argument("--query-max", type=int, default=None,
                        help="largest size the bundled 'stats' query runs at [default: every "
                             "size]")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch directory, made if missing [default: the system's]")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"kg benchmark on {platform.node()}: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
          f"Python {platform.python_version()}, jobs={args.jobs}")
    naive_rate: list[float] = []
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)  # a scratch directory named, not made yet
    with tempfile.TemporaryDirectory(prefix="kg-bench-", dir=args.work) as tmp:
        for n in sizes:
            run_size(n, Path(tmp), args.jobs, args.naive_max, args.seed, naive_rate,
                     args.query_max)


if __name__ == "__main__":
    main()
