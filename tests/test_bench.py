"""The benchmark script keeps working (a small run; figures are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys


def test_benchmark_runs_end_to_end(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kg.bench", "--sizes", "20,150", "--naive-max", "20", "--work",
         str(tmp_path)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    for stage in ("kg build (all of the above)", "bound: pyoxigraph nq -> ttl",
                  "kg build, one dossier edited", "ratios: kg/bound"):
        assert stage in proc.stdout


def test_peak_memory_counts_a_child_once_it_runs_its_own_program() -> None:
    # Between fork and exec a child is a copy of the benchmark (which holds what earlier stages
    # left): half its pages would count as the build's. Once it runs, its memory is counted.
    import os
    import time

    from kg.bench.memory import tree_rss

    ballast = bytearray(200 << 20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    pid = os.fork()
    if pid == 0:  # the copy: waits, then leaves without running anything of the parent's
        time.sleep(1.0)
        os._exit(0)
    try:
        time.sleep(0.2)
        assert tree_rss(children_only=True) < 50 << 20
    finally:
        os.waitpid(pid, 0)
    code = "b = bytearray(120 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(5)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 4
        while tree_rss(children_only=True) < 100 << 20:
            assert time.monotonic() < deadline, "the running child's memory is not counted"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    del ballast
