"""What the previous build left behind, described well enough to reuse it.

A :class:`Manifest` says where each dossier's part is in every output file the last build
wrote, so the next build copies the bytes of unchanged parts instead of writing them again.
A :class:`StoreState` says which version of each named graph the build's store holds, and
the corpus rules' results on it. Both identify what they describe exactly (files by inode,
size and change times; graphs by their part signatures): anything else, and the next build does
the work in full.
"""

from __future__ import annotations

import os
import pickle
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunks import Previous
from .export import atomic_write

Identity = tuple[int, int, int, int]


def identity(st: os.stat_result) -> Identity:
    """A file version: a rewrite or a rename into place changes one of these."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _load(path: Path, cls: type, key: str) -> Any:
    try:
        with open(path, "rb") as fh:
            found = pickle.load(fh)
    except Exception:  # missing, truncated, or written by other code: not reusable  # noqa: BLE001
        return None
    return found if isinstance(found, cls) and found.key == key else None


def _save(obj: Any, path: Path) -> None:
    with atomic_write(path) as fh:
        pickle.dump(obj, fh, protocol=5)


@dataclass
class Manifest:
    """The output files of a build and each dossier part's place in them."""

    key: str  # code version, base IRI, formats and options the files were written with
    files: dict[str, tuple[str, Identity]]  # format -> path, identity
    graphs: list[str]  # dossier graphs, in file order
    shas: list[str]
    sigs: list[str]  # part signature of each graph
    quads: array  # quads of each graph
    corpus: list[str]  # digest of each graph's triples the corpus rules read
    checks: dict[str, tuple[list[Any], list[Any]]]  # graph -> its SHACL results, located
    spans: dict[str, array]  # format -> start and end of each graph's body
    tails: dict[str, int]  # format -> start of the shared statements
    shared: Counter[str]
    own: int
    own_types: dict[str, int]
    tail_key: str
    tail_triples: int
    tail_types: dict[str, int]

    @classmethod
    def load(cls, path: Path, key: str) -> Manifest | None:
        return _load(path, cls, key)

    def save(self, path: Path) -> None:
        _save(self, path)

    def open(self, targets: dict[str, Path]) -> Previous | None:
        """The previous files, opened for copying, if every one of them is still the file this
        manifest describes (the same path however it is spelt: relative, absolute)."""
        if ({f: os.path.realpath(p) for f, p in targets.items()}
                != {f: p for f, (p, _i) in self.files.items()}):
            return None
        fds: dict[str, int] = {}
        try:
            for fmt, path in targets.items():
                fds[fmt] = os.open(path, os.O_RDONLY)
                if identity(os.fstat(fds[fmt])) != self.files[fmt][1]:
                    raise FileNotFoundError(path)
        except OSError:
            for fd in fds.values():
                os.close(fd)
            return None
        return Previous(fds, self.spans, self.tails, self.shared, self.own, self.own_types,
                        self.tail_key, self.tail_triples, self.tail_types)


@dataclass
class Located:
    """The corpus rules' results located in their dossiers (:func:`kg.validate.locate_corpus`),
    with the signature of each graph that was read to locate them: while those graphs are the
    same, so are the findings."""

    graphs: dict[str, str]  # graph -> part signature
    findings: dict[Any, Any]  # ShaclResult -> Finding


@dataclass
class StoreState:
    """Which version of each dossier graph a build's store holds, and the corpus rules' results
    over it (with the digest of the triples they read)."""

    key: str  # code version
    path: str  # the store directory
    sigs: dict[str, str]  # graph -> part signature
    corpus_key: str = ""
    corpus: list[Any] = field(default_factory=list)
    located: Located | None = None  # the corpus results located in their dossiers

    @classmethod
    def load(cls, path: Path, key: str) -> StoreState | None:
        return _load(path, cls, key)

    def save(self, path: Path) -> None:
        _save(self, path)
