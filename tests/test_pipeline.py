"""The streaming build: same bytes as the in-memory build, on any number of cores, and
incremental — a changed dossier is the only one redone."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS

from kg import build, write_outputs
from kg.build import find_dossiers
from kg.export import FORMATS
from kg.pipeline import stream_build
from kg.vocab import DEFAULT_BASE

ALL = list(FORMATS)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    shutil.copytree(SEEDS, src, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return src


def _same(a: Path, b: Path) -> None:
    for f in sorted(a.glob("kg.*")):
        assert filecmp.cmp(f, b / f.name, shallow=False), f.name


@pytest.fixture
def workers_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand even the seeds' few dossiers to the worker processes (a build maps up to
    ``LOCAL_MAX`` dossiers itself)."""
    monkeypatch.setattr("kg.pipeline.LOCAL_MAX", 0)


@pytest.mark.parametrize("jobs", [1, 2])
def test_streaming_build_writes_the_same_bytes(corpus: Path, tmp_path: Path, jobs: int,
                                               workers_map: None) -> None:
    paths = find_dossiers([corpus])
    write_outputs(build(paths), tmp_path / "mem", ALL)
    result = stream_build(paths, tmp_path / "stream", ALL, DEFAULT_BASE, jobs=jobs)
    assert result.extracted == 12 and result.rendered == 12 and not result.errors
    _same(tmp_path / "mem", tmp_path / "stream")


def test_only_what_changed_is_redone(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = find_dossiers([corpus])
    first = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    again = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert (again.extracted, again.rendered) == (0, 0)
    assert again.quads == first.quads
    # An edit that no other dossier depends on: only that dossier is redone.
    zond = corpus / "005_b24a7eb7dffc4cfd.txt"
    zond.write_text(zond.read_text("utf-8").replace("890 kg", "891 kg"), "utf-8")
    edited = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert (edited.extracted, edited.rendered) == (1, 1)
    write_outputs(build(paths), tmp_path / "mem", ALL)
    _same(tmp_path / "mem", out)


def test_a_changed_alias_reaches_the_dossiers_that_use_it(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = find_dossiers([corpus])
    stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    # Mars 1M No.2 stops calling itself 'Mars 1960B': the seed's 'Previous Mission: Mars 1960B'
    # no longer resolves to it, so the seed's graph must be redone too.
    m1960b = corpus / "002_4d4a0691bdf51de9.txt"
    m1960b.write_text(m1960b.read_text("utf-8").replace("Mars 1960B", "Mars 1960X"), "utf-8")
    edited = stream_build(paths, out, ALL, DEFAULT_BASE, jobs=1)
    assert edited.extracted == 1 and edited.rendered >= 2
    write_outputs(build(paths), tmp_path / "mem", ALL)
    _same(tmp_path / "mem", out)


def test_errors_are_reported_and_the_rest_written(corpus: Path, tmp_path: Path) -> None:
    (corpus / "zz_bad.txt").write_bytes(b"\xff\xfe not utf-8")
    result = stream_build(find_dossiers([corpus]), tmp_path / "out", ["nq"], DEFAULT_BASE, jobs=2)
    assert [p.file for p in result.errors] == ["zz_bad.txt"]
    assert len(result.done) == 12 and (tmp_path / "out" / "kg.nq").stat().st_size > 0


def _records(corpus: Path) -> list:
    import hashlib

    from kg.dossier import decode, parse
    from kg.record import extract

    return [extract(parse(decode(p.read_bytes(), p.name), p.name,
                          hashlib.sha256(p.read_bytes()).hexdigest()))
            for p in find_dossiers([corpus])]


def test_index_digest_ignores_order_and_sees_every_name(corpus: Path) -> None:
    from kg.mapping import Index

    records = _records(corpus)
    digest = Index.of(records).digest()
    assert Index.of(list(reversed(records))).digest() == digest
    # A rebuild reuses signatures only while the digest holds: any name change must move it.
    m1960b = corpus / "002_4d4a0691bdf51de9.txt"
    m1960b.write_text(m1960b.read_text("utf-8").replace("Mars 1960B", "Mars 1960X"), "utf-8")
    assert Index.of(_records(corpus)).digest() != digest


def test_the_index_handed_to_workers_is_removed(corpus: Path, tmp_path: Path,
                                                workers_map: None) -> None:
    # Workers fork before the corpus is read; the index reaches them as a file, gone once the
    # build is done.
    result = stream_build(find_dossiers([corpus]), tmp_path / "out", ["nq"], DEFAULT_BASE,
                          jobs=2)
    assert result.rendered == 12
    assert not (tmp_path / "out" / ".kg-cache" / "index.pickle").exists()
