"""Load figures: triples per second into each store, against a plain upload as the bound.

``python -m kg.bench.load [--copies N]`` builds the bundled seeds, replicates them N times
under distinct IRIs (so every copy is new data), and loads the result

* into the embedded store (pyoxigraph, one transaction per graph),
* into Oxigraph server and Virtuoso 7, each started here on 127.0.0.1 in a temporary directory,
  through kg's Graph Store Protocol path (one PUT per graph, then verification) and its
  SPARQL Update path,
* and, as the bound, as one plain HTTP upload of the same data with no kg code in the way
  (Oxigraph: the N-Quads in one ``POST /store``; Virtuoso: the N-Triples in one
  ``POST /sparql-graph-crud?graph=…``, since it takes no N-Quads).

A server whose binary is missing is left out, and says so.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.bench.servers import OxigraphServer, Server, VirtuosoServer, find_binary
from kg.build import build
from kg.endpoint import EndpointConfig, load_endpoint
from kg.store import Graphs, group_quads, load_store, nt_line


def replicate(graphs: Graphs, copies: int) -> Graphs:
    """``copies`` copies of the graphs, every IRI under the base made distinct per copy."""
    base = "https://w3id.org/spacekg/id/"

    def rename(term, k: int):
        if isinstance(term, ox.NamedNode) and term.value.startswith(base):
            return ox.NamedNode(f"{term.value}-{k}" if "#" not in term.value
                                else term.value.replace("#", f"-{k}#", 1))
        return term

    quads = [
        ox.Quad(rename(q.subject, k), q.predicate, rename(q.object, k), rename(q.graph_name, k))
        for k in range(copies) for qs in graphs.values() for q in qs
    ]
    return group_quads(quads)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def plain_upload(url: str, body: bytes, media_type: str) -> None:
    """One POST of the whole body: the bound for any loader talking HTTP to this server."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": media_type})
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()


def bench_server(server: Server, config: EndpointConfig, graphs: Graphs,
                 bound: Callable[[], None], update: bool = True) -> list[tuple[str, float]]:
    rows = []
    server.start()
    try:
        seconds = timed(lambda: load_endpoint(graphs, config, method="gsp"))
        rows.append((f"{server.name} server, kg load (GSP PUT per graph, verified)", seconds))
        if update:
            seconds = timed(lambda: load_endpoint(graphs, config, method="update"))
            rows.append((f"{server.name} server, kg load (SPARQL Update, verified)", seconds))
        rows.append((f"{server.name} server, plain upload in one request (bound)", timed(bound)))
    finally:
        server.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the load figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20,
                        help="copies of the seed corpus to load (default 20)")
    args = parser.parse_args(argv)
    graphs = replicate(build().graphs(), args.copies)
    triples = sum(len(q) for q in graphs.values())
    nquads = "".join(str(q) + " .\n" for qs in graphs.values() for q in qs).encode()
    ntriples = "".join(nt_line(q) for qs in graphs.values() for q in qs).encode()
    print(f"corpus: {args.copies} copies of the seeds, {len(graphs)} named graphs, "
          f"{triples} triples")
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        root = Path(tmp)
        rows.append(("embedded store (pyoxigraph), kg load",
                     timed(lambda: load_store(graphs, root / "store"))))
        if binary := find_binary("oxigraph"):
            ox_server = OxigraphServer(binary, root / "oxigraph")
            (root / "oxigraph").mkdir()
            config = ox_server.config(batch_size=5000)
            rows += bench_server(ox_server, config, graphs, lambda: plain_upload(
                f"{ox_server.base}/store", nquads, "application/n-quads"))
        else:
            print("oxigraph: not installed (pip install oxigraph), left out")
        if binary := find_binary("virtuoso-t"):
            (root / "virtuoso").mkdir()
            vt_server = VirtuosoServer(binary, root / "virtuoso")
            config = vt_server.config(batch_size=5000)
            # Virtuoso's SPARQL Update cannot create xsd:duration literals: GSP only there.
            rows += bench_server(vt_server, config, graphs, lambda: plain_upload(
                f"{vt_server.base}/sparql-graph-crud?graph=urn:kg:bench", ntriples,
                "application/n-triples"), update=False)
        else:
            print("virtuoso: not installed (apt-get install virtuoso-opensource), left out")
    bounds = {name.split(",")[0]: s for name, s in rows if "bound" in name}
    width = max(len(name) for name, _ in rows)
    print(f"{'target':<{width}}  {'seconds':>8}  {'triples/s':>10}  {'of bound':>8}")
    for name, seconds in rows:
        bound = bounds.get(name.split(",")[0])
        ratio = f"{bound / seconds:8.2f}" if bound and "bound" not in name else f"{'':8}"
        print(f"{name:<{width}}  {seconds:8.2f}  {triples / seconds:10,.0f}  {ratio}")


if __name__ == "__main__":
    main()
