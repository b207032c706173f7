"""Peak memory of a process tree (the build forks workers), sampled from /proc."""

from __future__ import annotations

import os
import threading
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task = Path(f"/proc/{pid}/task")
    try:
        for t in task.iterdir():
            text = (t / "children").read_text()
            kids.extend(int(c) for c in text.split())
    except OSError:
        pass
    return kids


def _pss(pid: int) -> int:
    """Proportional set size: resident memory with pages shared between processes (a forked
    worker shares its parent's) counted once across them, not once per process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def tree_rss(pid: int | None = None, children_only: bool = False) -> int:
    """Memory of ``pid`` (default: this process) and all its descendants (PSS, in bytes).

    With ``children_only``, a child that is still a copy of ``pid`` (forked, not yet running
    its program) is left out: its pages are ``pid``'s, and half of them would count as its own.
    """
    root = pid or os.getpid()
    todo = _children(root) if children_only else [root]
    if children_only:
        mine = _cmdline(root)
        todo = [c for c in todo if _cmdline(c) != mine]
    total = 0
    while todo:
        p = todo.pop()
        total += _pss(p)
        todo.extend(_children(p))
    return total


class PeakRSS:
    """Context manager sampling the tree's resident memory every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05, children_only: bool = False):
        self.interval = interval
        self.children_only = children_only
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(children_only=self.children_only))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = tree_rss(children_only=self.children_only)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(children_only=self.children_only))
