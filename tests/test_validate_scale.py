"""Validation as the streaming build does it (core constraints per dossier in the workers,
SPARQL and corpus rules once on the store) equals one pyshacl run over the whole graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, SEEDS

from kg.bench.corpus import generate
from kg.build import build_to
from kg.validate import validate_whole


def _graphs(nq: Path) -> dict[str, list[ox.Quad]]:
    graphs: dict[str, list[ox.Quad]] = {}
    for q in ox.parse(path=nq, format=ox.RdfFormat.N_QUADS):
        graphs.setdefault(q.graph_name.value, []).append(q)
    return graphs


def _check(src: Path, out: Path) -> list:
    outcome = build_to([src], out, ["nq"], jobs=2)
    _conforms, reference = validate_whole(_graphs(out / "kg.nq"))
    assert outcome.validation.results == reference
    return reference


def test_bundled_corpus_with_broken_dossiers(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(SEEDS, src, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name in ("cospar-year.txt", "decay-before-launch.txt", "satcat-malformed.txt",
                 "own-predecessor.txt"):
        shutil.copy(FIXTURES / "shapes" / name, src / name)
    shutil.copytree(FIXTURES / "shapes" / "sequence-disagrees", src / "sequence")
    assert len(_check(src, tmp_path / "out")) >= 5


@pytest.mark.slow
def test_generated_1k_corpus(tmp_path: Path) -> None:
    generate(1000, tmp_path / "in", seed=11)
    _check(tmp_path / "in", tmp_path / "out")
