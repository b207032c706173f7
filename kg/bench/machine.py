"""How fast the machine is right now, so that one benchmark run's seconds can be set beside
another's: a shared machine's speed moves by the hour (a host taking a quarter of the CPU, a
disk writing at half its rate), and the ratios measured within a run do not show by how much.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Steps of the Python loop timed (about 0.6 s on the 2-core machine kg is measured on).
LOOP_STEPS = 10_000_000
#: Strings put in a dict and sorted, timed (memory-bound, as kg's own work is).
OBJECTS = 1_000_000
#: Bytes written and synced to time the disk.
DISK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Speed:
    loop: float  # seconds for LOOP_STEPS steps of a Python loop
    objects: float  # seconds for OBJECTS strings put in a dict and sorted
    steal: float | None  # share of the CPU's time the host took meanwhile (Linux), 0..1
    disk: float  # bytes per second, written and synced

    def __str__(self) -> str:
        steal = "" if self.steal is None else f" ({self.steal:.0%} of the CPU taken by the host)"
        return (f"machine now: a {LOOP_STEPS // 10**6}-million-step Python loop "
                f"{self.loop:.2f} s, {OBJECTS // 10**6} million strings in a dict and sorted "
                f"{self.objects:.2f} s{steal}; the disk writes and syncs "
                f"{self.disk / 1e6:,.0f} MB/s")


def cpu_times() -> list[int] | None:
    """The system's CPU time counters from ``/proc/stat`` (user, nice, system, idle, iowait,
    irq, softirq, steal, ...), or None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    return [int(f) for f in fields[1:]] if fields and fields[0] == "cpu" else None


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of the CPU time between two :func:`cpu_times` readings that was stolen (the
    8th counter), or None if either reading is missing or holds no steal counter."""
    if before is None or after is None or min(len(before), len(after)) < 8:
        return None
    # guest time (9th, 10th counters) is already counted in user time
    total = sum(after[:8]) - sum(before[:8])
    return (after[7] - before[7]) / total if total > 0 else None


def loop(steps: int = LOOP_STEPS) -> float:
    """Seconds for a plain Python loop of ``steps`` additions."""
    started = time.perf_counter()
    s = 0
    for i in range(steps):
        s += i
    return time.perf_counter() - started


def objects(count: int = OBJECTS) -> float:
    """Seconds for putting ``count`` new strings in a dict and sorting them (by their reversed
    text): work that goes to memory, as kg's does, where a loop keeps its few variables in the
    core's cache (one evening the loop took 0.66 s while a 1k build and the bound took 3.3 and
    3.0 times their seconds of a run earlier that day: the loop alone did not show it)."""
    started = time.perf_counter()
    table = {str(i): i for i in range(count)}
    sorted(table, key=lambda text: text[::-1])
    return time.perf_counter() - started


def disk(work: Path, size: int = DISK_BYTES) -> float:
    """Bytes per second for writing ``size`` bytes to a file in ``work`` and syncing it."""
    path = work / ".kg-bench-disk"
    block = os.urandom(2**20)
    blocks = max(1, size // len(block))
    try:
        started = time.perf_counter()
        with open(path, "wb") as fh:
            for _ in range(blocks):
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        return blocks * len(block) / (time.perf_counter() - started)
    finally:
        path.unlink(missing_ok=True)


def measure(work: Path, steps: int = LOOP_STEPS, count: int = OBJECTS,
            size: int = DISK_BYTES) -> Speed:
    """The machine's speed now (the disk's where ``work`` is)."""
    before = cpu_times()
    seconds, built = loop(steps), objects(count)
    return Speed(seconds, built, steal_share(before, cpu_times()), disk(work, size))
