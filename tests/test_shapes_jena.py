"""Jena's SHACL validator agrees with pyshacl on the shapes: same verdict, same focus nodes.

One JVM validates the bundled corpus and every broken fixture (rdftools.jena_shacl_many).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import rdflib
import rdftools
from conftest import SEEDS
from rdflib.namespace import SH
from test_validate import EXPECTED, FIX, fixture_graphs

from kg import build
from kg.validate import validate_whole

SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"


def _focus_nodes(results: list[str]) -> set[str]:
    return {"_:b" if f.startswith("_:") else f for f in results}


def test_jena_agrees_with_pyshacl(tmp_path: Path) -> None:
    rdftools.need_jena()
    cases: dict[str, dict] = {"corpus": dict(build([SEEDS]).graphs())}
    cases.update({name: fixture_graphs(name) for name in sorted(EXPECTED)})
    cases["base.txt"] = fixture_graphs("base.txt")
    data_files, expected = [], {}
    for i, (name, graphs) in enumerate(cases.items()):
        path = tmp_path / f"case-{i}.nt"
        triples = {q.triple for quads in graphs.values() for q in quads}
        ox.serialize(sorted(triples, key=str), path, ox.RdfFormat.N_TRIPLES)
        data_files.append(path)
        conforms, results = validate_whole(graphs)
        expected[name] = (conforms, _focus_nodes([r.focus for r in results]))
    reports = rdftools.jena_shacl_many(sorted(SHAPES_DIR.glob("*.ttl")), data_files)
    assert len(reports) == len(cases)
    for name, report in zip(cases, reports, strict=True):
        conforms = next(report.objects(None, SH.conforms))
        focus = _focus_nodes([f.n3() if not isinstance(f, rdflib.BNode) else "_:b"
                              for r in report.objects(None, SH.result)
                              for f in report.objects(r, SH.focusNode)])
        assert (bool(conforms.toPython()), focus) == expected[name], name
    assert expected["corpus"][1]  # the corpus has Info results, so the check is not vacuous
    assert not expected["base.txt"][0] or expected["base.txt"][1] == set()
    assert FIX.is_dir()
