"""Shared fixtures: where the corpus and its gold files are, and one build of the seeds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CORPUS = Path(os.environ.get("KG_CORPUS", ROOT.parent / "shared" / "corpus"))
GOLD = CORPUS / "gold"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def corpus_files() -> list[Path]:
    """The shared corpus dossiers if present beside the clone, else the bundled seeds."""
    base = CORPUS if CORPUS.is_dir() else SEEDS
    return sorted(base.glob("*.txt"))


def gold_for(path: Path) -> dict | None:
    gold = GOLD / (path.stem + ".json")
    return json.loads(gold.read_text("utf-8")) if gold.is_file() else None


@pytest.fixture(scope="session")
def seeds_build():
    """One build of the bundled seeds, shared by the tests that only read it."""
    from kg import build

    return build([str(SEEDS)])
