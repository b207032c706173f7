"""The benchmark script keeps working (a small run; figures are printed, never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys


def test_benchmark_runs_end_to_end(tmp_path) -> None:
    work = tmp_path / "scratch" / "bench"  # not there yet: the benchmark makes it
    proc = subprocess.run(
        [sys.executable, "-m", "kg.bench", "--sizes", "20,150", "--naive-max", "20", "--work",
         str(work)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    assert work.is_dir() and not any(work.iterdir())  # its scratch files removed
    for stage in ("kg build (all of the above)", "bound: pyoxigraph nq -> ttl",
                  "kg build, one prose edit", "kg build, one successor edit", "ratios: kg/bound"):
        assert stage in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if "one successor edit" in line]
    assert rows and all("corpus rules around the change" in row for row in rows), rows
    rows = [line for line in proc.stdout.splitlines() if "one prose edit" in line]
    assert rows and all("corpus rules kept" in row for row in rows), rows
    speeds = re.findall(r"machine now: a 10-million-step Python loop (\d+\.\d\d) s, 1 million "
                        r"strings in a dict and sorted (\d+\.\d\d) s .*"
                        r"the disk writes and syncs ([\d,]+) MB/s", proc.stdout)
    assert len(speeds) == 2 and all(float(s) > 0 and float(o) > 0 and int(d.replace(",", "")) > 0
                                    for s, o, d in speeds), proc.stdout


def test_the_benchmark_edits(tmp_path) -> None:
    from kg.bench.__main__ import edit

    other = tmp_path / "other.txt"
    other.write_text("= Mars 4 =\n\n- Operator: X\n", "utf-8")
    named = tmp_path / "named.txt"
    named.write_text("= Mars 3 =\n\n- Next Mission: Mars 9\n\nProse.\n", "utf-8")
    bare = tmp_path / "bare.txt"
    bare.write_text("= Mars 5 =\n\nMars 5 No.1\n- Operator: Y\n\nProse.\n", "utf-8")
    edit(named, "successor", other)
    edit(bare, "successor", other)
    assert named.read_text("utf-8") == "= Mars 3 =\n\n- Next Mission: Mars 4\n\nProse.\n"
    assert bare.read_text("utf-8") == ("= Mars 5 =\n\nMars 5 No.1\n- Next Mission: Mars 4\n"
                                       "- Operator: Y\n\nProse.\n")
    edit(bare, "prose", other)
    assert bare.read_text("utf-8") == ("= Mars 5 =\n\nMars 5 No.1\n- Next Mission: Mars 4\n"
                                       "- Operator: Y\n\nProse. Edited.\n")


def test_the_prose_edit_changes_no_fact(tmp_path) -> None:
    # The benchmark's prose edit stands for an edit the corpus rules do not read: every fact of
    # every seed dossier stays as it was, on the same line (it once prefixed the short name, an
    # alias; a paragraph added instead renumbered the lines after it).
    import shutil
    from pathlib import Path

    from kg.bench.__main__ import edit
    from kg.dossier import read
    from kg.record import extract

    def facts(path: Path) -> dict[str, list[object]]:
        return {k: [(f.value, f.line) for f in v] for k, v in extract(read(path)).facts.items()}

    seeds = sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))
    assert seeds
    for seed in seeds:
        copy = tmp_path / seed.name
        shutil.copy(seed, copy)
        before = facts(copy)
        edit(copy, "prose", copy)
        assert " Edited.\n" in copy.read_text("utf-8")
        assert facts(copy) == before, seed.name


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


def test_the_naive_ratio_is_measured_extrapolated_or_said_to_be_unknown() -> None:
    from kg.bench.__main__ import naive_ratio

    assert naive_ratio(2.0, 1000, 100.0, [0.1]) == "naive/kg = 50.0x"
    assert naive_ratio(4.0, 2000, None, [0.1]).startswith("naive/kg = 50.0x (naive extrapolated")
    assert naive_ratio(4.0, 2000, None, []) == (
        "naive/kg not measured (--naive-max is below every size so far)")


def test_the_stolen_share_of_the_cpu_is_read_from_two_readings() -> None:
    from kg.bench.machine import cpu_times, steal_share

    # user nice system idle iowait irq softirq steal guest guest_nice
    before = [100, 0, 50, 800, 10, 0, 5, 35, 20, 0]
    after = [200, 0, 70, 900, 10, 0, 5, 85, 60, 0]  # 270 ticks, 50 of them stolen
    assert steal_share(before, after) == 50 / 270  # guest time is within user time already
    assert steal_share(before, before) is None  # no time passed
    assert steal_share(None, after) is None and steal_share(before[:7], after[:7]) is None
    now = cpu_times()
    if now is not None:  # Linux: this machine's own counters, a moment apart
        assert len(now) >= 8
        loop = sum(range(10**6))  # some CPU time between the readings
        share = steal_share(now, cpu_times())
        assert loop and (share is None or 0 <= share <= 1)
