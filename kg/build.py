"""The pipeline: dossier files in, one linked dataset (a named graph per dossier) out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .dossier import parse, read
from .errors import DossierError, KgError, Problem
from .export import DEFAULT_FORMATS, atomic_write, get_format
from .mapping import Index, dedupe_sorted, map_record
from .record import Record, extract
from .vocab import DEFAULT_BASE, KG, RDF_TYPE, check_base, name_key

DOSSIER_SUFFIX = ".txt"


def bundled_seeds() -> list[Path]:
    """The seed dossiers shipped inside the package."""
    root = files("kg.seeds")
    with as_file(root) as path:
        return sorted(p for p in Path(path).iterdir() if p.suffix == DOSSIER_SUFFIX)


def find_dossiers(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and directories (searched recursively for *.txt) into dossier paths."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-":
            found.append(path)  # standard input
        elif path.is_dir():
            inside = sorted(p for p in path.rglob(f"*{DOSSIER_SUFFIX}") if p.is_file())
            if not inside:
                raise KgError(f"no dossiers (*{DOSSIER_SUFFIX} files) in this directory",
                              str(path))
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise KgError("no such file or directory", str(path))
    # One order whatever the order given, so outputs and duplicate handling are deterministic.
    return sorted(set(found), key=lambda p: (p.name, str(p)))


@dataclass
class BuildResult:
    """What a build produced: records, the sorted quads, and every problem found."""

    base: str
    records: list[Record]
    quads: list[ox.Quad]
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def graphs(self) -> dict[str, list[ox.Quad]]:
        """Quads grouped by named graph (one per dossier)."""
        out: dict[str, list[ox.Quad]] = {}
        for q in self.quads:
            out.setdefault(q.graph_name.value, []).append(q)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for the build summary: dossiers, triples, entities by class, problems."""
        distinct = {q.triple for q in self.quads}
        classes = Counter(
            t.object.value.removeprefix(KG) for t in distinct
            if t.predicate.value == RDF_TYPE and t.object.value.startswith(KG)
        )
        sev = Counter(p.severity for p in self.problems)
        return {
            "dossiers": len(self.records),
            "triples": len(distinct),
            "quads": len(self.quads),
            "graphs": len({q.graph_name for q in self.quads}),
            "entities": dict(sorted(classes.items())),
            "not_understood": sev.get("not-understood", 0),
            "warnings": sev.get("warning", 0),
            "errors": sev.get("error", 0),
        }

    def report(self) -> dict[str, Any]:
        """The build report: summary, and per dossier its status, counts and problems."""
        per_graph = Counter(q.graph_name.value for q in self.quads)
        from .mapping import dossier_iri
        dossiers = []
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        for rec in self.records:
            probs = by_file.get(rec.file, [])
            dossiers.append({
                "file": rec.file,
                "title": rec.title,
                "graph": dossier_iri(self.base, rec.title),
                "status": "ok",
                "quads": per_graph.get(dossier_iri(self.base, rec.title), 0),
                "problems": [p.as_dict() for p in probs],
            })
        failed = sorted({p.file for p in self.errors} - {r.file for r in self.records})
        for name in failed:
            dossiers.append({"file": name, "status": "error", "quads": 0,
                             "problems": [p.as_dict() for p in by_file.get(name, [])]})
        return {"summary": self.summary(), "dossiers": dossiers}


def extract_all(paths: Sequence[Path]) -> tuple[list[Record], list[Problem]]:
    """Read and extract every dossier; a bad one becomes an error problem, the rest go on."""
    records: list[Record] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            dossier = read(path) if str(path) != "-" else _stdin()
        except DossierError as exc:
            problems.append(Problem("error", exc.file or str(path), exc.line, exc.message))
            continue
        rec = extract(dossier)
        key = name_key(rec.title)
        if key in seen:
            problems.append(Problem(
                "error", rec.file, rec.title_line,
                f"duplicate title {rec.title!r}: {seen[key]} has the same title; "
                "this dossier was not merged into the graph"))
            continue
        seen[key] = rec.file
        records.append(rec)
        problems.extend(rec.problems)
    return records, problems


def _stdin():
    import sys

    from .dossier import decode
    return parse(decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>")


def build(paths: Iterable[str | Path] | None = None, base: str = DEFAULT_BASE) -> BuildResult:
    """Build the linked dataset from dossier files or directories (default: the bundled seeds)."""
    check_base(base)
    dossier_paths = bundled_seeds() if paths is None else find_dossiers(paths)
    records, problems = extract_all(dossier_paths)
    index = Index.of(records)
    quads: list[ox.Quad] = []
    for rec in records:
        quads.extend(map_record(rec, index, base))
    problems.extend(index.problems)
    return BuildResult(base, records, dedupe_sorted(quads), _dedupe(problems),
                       [str(p) for p in dossier_paths])


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def write_outputs(result: BuildResult, out_dir: str | Path,
                  formats: Sequence[str] = DEFAULT_FORMATS, stem: str = "kg") -> list[Path]:
    """Write the dataset in each format, plus ``report.json``; return the paths written."""
    from .chunks import Layout, render, write_parts

    out = Path(out_dir)
    names = [get_format(n).name for n in formats]
    layout = Layout(result.base)
    graphs = result.graphs()
    order = sorted(graphs)
    parts = (render(g, graphs[g], names, layout) for g in order)
    written = write_parts(parts, order, out, names, layout, stem)
    report = out / "report.json"
    with atomic_write(report) as fh:
        fh.write(json.dumps(result.report(), indent=1, ensure_ascii=False).encode("utf-8"))
        fh.write(b"\n")
    written.append(report)
    return written
