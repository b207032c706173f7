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
