"""Loading into real SPARQL 1.1 servers started here: Oxigraph server and Virtuoso 7.

Each server runs on 127.0.0.1 on a free port in a temporary directory and is stopped by pid
(see ``servers.py``).  Graphs are compared by value: both servers canonicalise literals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import OxigraphServer, Proxy, VirtuosoServer, oxigraph_server, virtuoso_server

from kg import query as kg_query
from kg.endpoint import (
    STAGING_PREFIX,
    Client,
    EndpointConfig,
    EndpointError,
    drop_graph,
    load_endpoint,
    query_endpoint,
    read_graph,
    remote_graph_names,
    verify_endpoint,
    with_options,
)
from kg.store import (
    DOSSIER_GRAPH_PREFIX,
    EmbeddedBackend,
    distinct_by_value,
    group_quads,
    read_graphs,
    result_by_value,
    same_by_value,
    triple_key,
    value_key,
)

FIXTURES = Path(__file__).parent / "fixtures" / "store"
V1, V2 = FIXTURES / "corpus-v1.nq", FIXTURES / "corpus-v2.nq"
XSD_DURATION = "http://www.w3.org/2001/XMLSchema#duration"
USER, PASSWORD = "kg-loader", "s3cret pass"
FAST = {"retries": 1, "backoff": 0.05, "timeout": 60.0}

Graphs = dict[str, list[ox.Quad]]


# ---------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    yield from _serving(oxigraph_server(tmp_path_factory.mktemp("oxigraph")))


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    yield from _serving(virtuoso_server(tmp_path_factory.mktemp("virtuoso")))


def _serving(server):
    """Start a server for a module's tests and stop it (by pid) afterwards."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def auth_proxy(oxigraph: OxigraphServer) -> Iterator[Proxy]:
    with Proxy(oxigraph.base, USER, PASSWORD) as proxy:
        yield proxy


def proxied(proxy: Proxy, **options: object) -> EndpointConfig:
    """Oxigraph behind the basic-auth proxy, credentials from the environment."""
    env = {"KG_ENDPOINT_USER": USER, "KG_ENDPOINT_PASSWORD": PASSWORD}
    return EndpointConfig.from_env(f"{proxy.base}/query", f"{proxy.base}/update",
                                   f"{proxy.base}/store", env=env, **options)


def virtuoso_netrc(server: VirtuosoServer, tmp: Path, **options: object) -> EndpointConfig:
    """Virtuoso's digest-authenticated endpoints, credentials from a netrc-style file."""
    netrc = tmp / "netrc"
    netrc.write_text(f"machine 127.0.0.1:{server.port} login dba password dba\n")
    netrc.chmod(0o600)
    base = server.base
    return EndpointConfig.from_env(f"{base}/sparql", f"{base}/sparql-auth",
                                   f"{base}/sparql-graph-crud-auth",
                                   env={"KG_NETRC": str(netrc), "KG_ENDPOINT_AUTH": "digest"},
                                   **options)


TARGETS = [
    "oxigraph-gsp", "oxigraph-update", "oxigraph-basic-gsp", "oxigraph-basic-update",
    "virtuoso-gsp", "virtuoso-update", "virtuoso-digest-gsp", "virtuoso-digest-update",
]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, EndpointConfig, str]:
    """(server name, config, load method), with the server's kg graphs removed first."""
    name = request.param
    method = name.rsplit("-", 1)[1]
    if name.startswith("oxigraph-basic"):
        config = proxied(request.getfixturevalue("auth_proxy"))
    elif name.startswith("oxigraph"):
        config = request.getfixturevalue("oxigraph").config()
    elif name.startswith("virtuoso-digest"):
        config = virtuoso_netrc(request.getfixturevalue("virtuoso"), tmp_path)
    else:
        config = request.getfixturevalue("virtuoso").config()
    config = with_options(config, batch_size=100, **FAST)
    clean(config)
    return name.split("-")[0], config, method


def clean(config: EndpointConfig) -> None:
    """Drop what the tests write: dossier graphs, staging graphs, http://a/ graphs."""
    client = Client(config)
    try:
        for prefix in (DOSSIER_GRAPH_PREFIX, STAGING_PREFIX, "http://a/"):
            for graph in remote_graph_names(client, prefix):
                drop_graph(client, graph)
    finally:
        client.close()


# ---------------------------------------------------------------------------- helpers


def virtuoso_lossy(quad: ox.Quad | ox.Triple) -> bool:
    """Virtuoso keeps a duration as months *or* seconds: ``P4M21D`` comes back as ``"4"``."""
    obj = quad.object
    if not (isinstance(obj, ox.Literal) and obj.datatype.value == XSD_DURATION):
        return False
    _, months, seconds = value_key(obj)
    return months != 0 and seconds != "0"


def without_durations(graphs: Graphs) -> Graphs:
    """Virtuoso's SPARQL Update cannot create xsd:duration literals at all (SR553)."""
    return {g: [q for q in qs if not (isinstance(q.object, ox.Literal)
                                      and q.object.datatype.value == XSD_DURATION)]
            for g, qs in graphs.items()}


def assert_server_holds(config: EndpointConfig, graphs: Graphs, server: str = "") -> None:
    """The server's kg graphs are exactly ``graphs``, each equal by value (graph by graph)."""
    client = Client(config)
    try:
        assert remote_graph_names(client, DOSSIER_GRAPH_PREFIX) == sorted(
            g for g in graphs if g.startswith(DOSSIER_GRAPH_PREFIX))
        assert remote_graph_names(client, STAGING_PREFIX) == []
    finally:
        client.close()
    for iri, quads in graphs.items():
        back = read_graph(config, iri)
        if server == "virtuoso":
            # equal by value except each mixed duration, which comes back as months alone
            sent, got = {triple_key(q) for q in quads}, {triple_key(t) for t in back}
            lossy = {triple_key(q) for q in quads if virtuoso_lossy(q)}
            assert sent - got == lossy, iri
            assert {k[:2] for k in got - sent} == {k[:2] for k in lossy}, iri
            assert len(back) == distinct_by_value(quads), iri
        else:
            assert same_by_value(back, quads), iri


def versioned(graphs: Graphs, version: str) -> Graphs:
    """The graphs with a version triple added to each, so two loads differ in every graph."""
    out: Graphs = {}
    for iri, quads in graphs.items():
        g = ox.NamedNode(iri)
        extra = ox.Quad(g, ox.NamedNode("http://a/version"), ox.Literal(version), g)
        out[iri] = [*quads, extra]
    return out


def wholly_one_of(config: EndpointConfig, iri: str, *versions: Graphs) -> bool:
    back = read_graph(config, iri)
    return any(iri in v and same_by_value(back, v[iri]) for v in versions)


# ---------------------------------------------------------------------------- round trips


def test_round_trip_is_the_build_by_value(target, seeds_build) -> None:
    server, config, method = target
    graphs = seeds_build.graphs()
    if server == "virtuoso" and method == "update":
        graphs = without_durations(graphs)
    report = load_endpoint(graphs, config, method=method)
    assert report.method == method
    assert report.verified and report.ok, report.mismatch_lines()
    assert report.triples == sum(len(q) for q in graphs.values())
    assert_server_holds(config, graphs, server)


def test_virtuoso_keeps_mixed_durations_lossily(virtuoso, seeds_build) -> None:
    """A known Virtuoso limit, shown rather than hidden: ``P4M21D`` is stored as 4 months."""
    config = virtuoso.config(**FAST)
    clean(config)
    graphs = seeds_build.graphs()
    lossy = {(g, triple_key(q)) for g, qs in graphs.items() for q in qs if virtuoso_lossy(q)}
    load_endpoint(graphs, config, method="gsp")
    found = {(g, triple_key(t)) for g in graphs for t in read_graph(config, g)}
    assert lossy and not lossy & found


def test_virtuoso_update_refuses_durations_with_a_readable_error(virtuoso, seeds_build) -> None:
    config = virtuoso.config(**FAST)
    clean(config)
    with pytest.raises(EndpointError) as err:
        load_endpoint(seeds_build.graphs(), config, method="update")
    message = str(err.value)
    assert "xsd:duration" in message and "<" not in message.split(": ", 1)[1]


def test_load_twice_then_edit_then_prune(target) -> None:
    server, config, method = target
    v1, v2 = read_graphs([V1]), read_graphs([V2])
    load_endpoint(v1, config, method=method)
    again = load_endpoint(v1, config, method=method)
    assert again.ok
    assert_server_holds(config, v1, server)
    edited = load_endpoint(v2, config, method=method)
    assert edited.ok and not edited.removed
    assert wholly_one_of(config, DOSSIER_GRAPH_PREFIX + "mars-1", v2)
    assert wholly_one_of(config, DOSSIER_GRAPH_PREFIX + "luna-9", v1)  # not pruned yet
    pruned = load_endpoint(v2, config, method=method, prune=True)
    assert pruned.removed == [DOSSIER_GRAPH_PREFIX + "luna-9"]
    assert_server_holds(config, v2, server)


def test_big_graphs_go_through_a_staging_graph(oxigraph) -> None:
    config = oxigraph.config(batch_size=7, **FAST)
    clean(config)
    v1 = read_graphs([V1])
    batches: list[int] = []
    report = load_endpoint(v1, config, method="update", progress=batches.append)
    assert report.ok and max(batches) == 7 and len(batches) > len(v1)
    assert_server_holds(config, v1)


def test_prune_leaves_graphs_outside_the_dossier_prefix_alone(virtuoso) -> None:
    config = virtuoso.config(**FAST)
    clean(config)
    client = Client(config)
    try:
        before = remote_graph_names(client)  # Virtuoso's own system graphs
        other = group_quads(ox.parse(path=FIXTURES / "extra.ttl"), default_graph="http://a/other")
        load_endpoint({**read_graphs([V1]), **other}, config)
        report = load_endpoint(read_graphs([V2]), config, prune=True)
        assert report.removed == [DOSSIER_GRAPH_PREFIX + "luna-9"]
        after = remote_graph_names(client)
        assert set(before) | {"http://a/other"} <= set(after)
    finally:
        client.close()
    with pytest.raises(EndpointError, match="prune every graph"):
        load_endpoint({}, config, prune=True, prune_prefix="")


# ---------------------------------------------------------------------------- verification


@pytest.mark.parametrize("server", ["oxigraph", "virtuoso"])
def test_verification_names_the_graph_that_differs(request, server: str) -> None:
    config = request.getfixturevalue(server).config(**FAST)
    clean(config)
    graphs = read_graphs([V1])
    load_endpoint(graphs, config)
    assert verify_endpoint(graphs, config) == {}
    venera = DOSSIER_GRAPH_PREFIX + "venera-7"
    Client(config).update(
        f"DELETE WHERE {{ GRAPH <{venera}> {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> "
        f"?o }} }}")
    assert verify_endpoint(graphs, config) == {venera: (9, 7)}


# ---------------------------------------------------------------------------- HTTP behaviour


def test_wrong_basic_credentials_are_refused_without_retrying(auth_proxy) -> None:
    config = with_options(proxied(auth_proxy), password="wrong", retries=3, backoff=5.0)
    rejected = auth_proxy.rejected
    with pytest.raises(EndpointError) as err:
        load_endpoint(read_graphs([V1]), config)
    assert err.value.status == 401
    assert auth_proxy.rejected == rejected + 1


def test_missing_credentials_are_refused(auth_proxy) -> None:
    config = EndpointConfig(f"{auth_proxy.base}/query", gsp_url=f"{auth_proxy.base}/store",
                            **FAST)
    with pytest.raises(EndpointError) as err:
        load_endpoint(read_graphs([V1]), config)
    assert err.value.status == 401


def test_wrong_digest_credentials_are_refused(virtuoso) -> None:
    config = with_options(virtuoso.auth_config(**FAST), password="wrong")
    with pytest.raises(EndpointError) as err:
        load_endpoint(read_graphs([V1]), config)
    assert err.value.status == 401


def test_retries_ride_over_gateway_errors(oxigraph) -> None:
    graphs = read_graphs([V1])
    with Proxy(oxigraph.base, fail_first=2) as proxy:
        config = EndpointConfig(f"{proxy.base}/query", f"{proxy.base}/update",
                                f"{proxy.base}/store", retries=2, backoff=0.01)
        clean(config)
        assert load_endpoint(graphs, config).ok
    with Proxy(oxigraph.base, fail_first=2) as proxy:
        config = EndpointConfig(f"{proxy.base}/query", gsp_url=f"{proxy.base}/store",
                                retries=1, backoff=0.01)
        with pytest.raises(EndpointError) as err:
            load_endpoint(graphs, config)
        assert err.value.status == 503 and proxy.requests == 2


def test_an_unreachable_server_is_a_one_line_error(oxigraph) -> None:
    dead = OxigraphServer(oxigraph.binary, oxigraph.workdir)  # a free port nobody listens on
    config = dead.config(retries=1, backoff=0.01)
    with pytest.raises(EndpointError, match="cannot reach server"):
        load_endpoint(read_graphs([V1]), config)


def test_gsp_falls_back_to_update_on_a_server_without_it(oxigraph) -> None:
    base = oxigraph.base
    config = EndpointConfig(f"{base}/query", f"{base}/update", f"{base}/no-graph-store", **FAST)
    clean(config)
    graphs = read_graphs([V1])
    report = load_endpoint(graphs, config)
    assert report.method == "update" and report.ok
    assert_server_holds(config, graphs)
    with pytest.raises(EndpointError):
        load_endpoint(graphs, config, method="gsp")


def test_a_put_without_a_graph_is_never_built(oxigraph) -> None:
    with pytest.raises(EndpointError, match="without"):
        EndpointConfig(f"{oxigraph.base}/query", gsp_url=f"{oxigraph.base}/store?default")
    client = Client(oxigraph.config())
    with pytest.raises(EndpointError, match="without a named graph"):
        client.gsp_url("")
    assert client.gsp_url("https://w3id.org/spacekg/id/dossier/a?b=c&d#e").endswith(
        "/store?graph=https%3A%2F%2Fw3id.org%2Fspacekg%2Fid%2Fdossier%2Fa%3Fb%3Dc%26d%23e")
    with pytest.raises(EndpointError, match="not an IRI"):
        client.gsp_url("dossier a")
    with pytest.raises(EndpointError, match="without a named graph"):
        load_endpoint({"": []}, oxigraph.config(**FAST), method="gsp")


def test_virtuoso_errors_come_back_as_one_line_of_text(virtuoso) -> None:
    with pytest.raises(EndpointError) as err:
        query_endpoint(virtuoso.config(**FAST), "SELECT * WHERE { ?s ?p }")
    text = str(err.value)
    assert err.value.status in (400, 500) and "\n" not in text and "<html" not in text.lower()
    assert "37000" in text  # Virtuoso's SPARQL syntax error code


# ---------------------------------------------------------------------------- credentials


def test_credentials_from_the_environment_win_over_netrc(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine db.example login n-user password n-pass\n")
    netrc.chmod(0o600)
    env = {"KG_NETRC": str(netrc)}
    from_file = EndpointConfig.from_env("https://db.example/sparql", env=env)
    assert (from_file.user, from_file.password, from_file.verify_tls) == ("n-user", "n-pass", True)
    env |= {"KG_ENDPOINT_USER": "e-user", "KG_ENDPOINT_PASSWORD": "e-pass",
            "KG_ENDPOINT_AUTH": "digest", "KG_CA_BUNDLE": "/etc/ca.pem"}
    from_env = EndpointConfig.from_env("https://db.example/sparql", env=env)
    assert (from_env.user, from_env.auth, from_env.verify_tls) == ("e-user", "digest",
                                                                   "/etc/ca.pem")
    assert "e-pass" not in repr(from_env)
    other_host = EndpointConfig.from_env("https://other.example/sparql", env={"KG_NETRC":
                                                                              str(netrc)})
    assert other_host.user is None
    with pytest.raises(EndpointError, match="not found"):
        EndpointConfig.from_env("https://db.example/sparql", env={"KG_NETRC": str(tmp_path)})
    insecure = EndpointConfig.from_env("https://db.example/sparql",
                                       env={"KG_NETRC": str(netrc), "KG_INSECURE_TLS": "1"})
    assert insecure.verify_tls is False


# ---------------------------------------------------------------------------- killed loads


@pytest.fixture
def own_oxigraph(tmp_path: Path) -> Iterator[OxigraphServer]:
    """A server of this test's own, since the test kills it."""
    server = oxigraph_server(tmp_path / "oxigraph")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_virtuoso(tmp_path: Path) -> Iterator[VirtuosoServer]:
    server = virtuoso_server(tmp_path / "virtuoso")
    server.start()
    yield server
    server.stop()


def killing_after(server: OxigraphServer | VirtuosoServer, writes: int):
    """A progress callback that SIGKILLs the server after ``writes`` writes went through."""
    count = [0]

    def progress(_: int) -> None:
        count[0] += 1
        if count[0] == writes:
            server.kill()

    return progress


@pytest.mark.parametrize("server_name", ["own_oxigraph", "own_virtuoso"])
def test_a_killed_gsp_load_is_completed_by_rerunning_it(request, server_name, seeds_build):
    server = request.getfixturevalue(server_name)
    config = server.config(**FAST)
    graphs = seeds_build.graphs()
    if server_name == "own_virtuoso":
        graphs = {g: [q for q in qs if not virtuoso_lossy(q)] for g, qs in graphs.items()}
    v1, v2 = versioned(graphs, "1"), versioned(graphs, "2")
    assert load_endpoint(v1, config, method="gsp").ok
    with pytest.raises(EndpointError, match="cannot reach server"):
        load_endpoint(v2, config, method="gsp", progress=killing_after(server, 3))
    server.start()  # same data directory: what was committed before the kill is there
    states = {g: [wholly_one_of(config, g, v) for v in (v1, v2)] for g in graphs}
    assert all(any(s) for s in states.values())  # no graph is half-replaced
    assert sum(s[1] for s in states.values()) == 3
    report = load_endpoint(v2, config, method="gsp")
    assert report.ok
    assert_server_holds(config, v2, server.name)


def test_a_killed_update_load_leaves_no_graph_half_replaced(own_oxigraph, seeds_build):
    server = own_oxigraph
    config = server.config(batch_size=40, **FAST)
    graphs = seeds_build.graphs()
    v1, v2 = versioned(graphs, "1"), versioned(graphs, "2")
    assert load_endpoint(v1, config, method="update").ok
    first = next(iter(v2))
    assert len(v2[first]) > 3 * 40  # so the kill lands between batches of one graph
    with pytest.raises(EndpointError, match="cannot reach server"):
        load_endpoint(v2, config, method="update", progress=killing_after(server, 3))
    server.start()
    assert wholly_one_of(config, first, v1)  # half its batches are only in the staging graph
    client = Client(config)
    assert len(remote_graph_names(client, STAGING_PREFIX)) == 1
    client.close()
    assert load_endpoint(v2, config, method="update").ok
    assert_server_holds(config, v2)


# ---------------------------------------------------------------------------- same answers

EXTRA_QUERIES = {
    "missions-by-operator": """
        PREFIX kg: <https://w3id.org/spacekg/ontology#>
        SELECT ?operator (COUNT(DISTINCT ?m) AS ?missions)
        WHERE { GRAPH ?g { ?m kg:operator ?operator } }
        GROUP BY ?operator""",
    "typed-values": """
        SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(isLiteral(?o)
            && DATATYPE(?o) != <http://www.w3.org/2001/XMLSchema#duration>) } }""",
    "graph-sizes": """
        SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }
        GROUP BY ?g""",
    "labels-in-default-graph": """
        SELECT ?m ?label WHERE { ?m <http://www.w3.org/2000/01/rdf-schema#label> ?label }""",
    "construct-launches": """
        PREFIX kg: <https://w3id.org/spacekg/ontology#>
        CONSTRUCT { ?s ?p ?o } WHERE { ?s a kg:Launch ; ?p ?o }""",
    "any-mission": """
        ASK { GRAPH ?g { ?m a <https://w3id.org/spacekg/ontology#Mission> } }""",
}


@pytest.fixture(scope="module")
def loaded_everywhere(oxigraph, virtuoso, tmp_path_factory, seeds_build):
    """The seeds in the embedded store, in Oxigraph server and in Virtuoso."""
    graphs = seeds_build.graphs()
    embedded = EmbeddedBackend(tmp_path_factory.mktemp("embedded") / "store")
    assert embedded.load(graphs).ok
    configs = {"oxigraph": oxigraph.config(**FAST), "virtuoso": virtuoso.config(**FAST)}
    for config in configs.values():
        clean(config)
        assert load_endpoint(graphs, config).ok
    return embedded, configs, sorted(graphs)


def comparable(result: kg_query.Result) -> object:
    """A kg.query result as a value that compares equal across stores."""
    if result.boolean is not None:
        return result.boolean
    return result_by_value(result.triples if result.is_graph else result.rows)


@pytest.mark.parametrize("name", kg_query.bundled_names())
def test_bundled_queries_answer_alike_from_every_store(name: str, loaded_everywhere,
                                                      monkeypatch) -> None:
    """Each bundled query, with its example parameters, as `kg query` runs it on each store."""
    # Virtuoso evaluates lineage's property paths slowly on a loaded 2-core machine: allow it.
    monkeypatch.setenv("KG_ENDPOINT_TIMEOUT", "240")
    embedded, configs, _ = loaded_everywhere
    query = kg_query.bundled(name)
    params = query.example_params()
    with kg_query.open_source(store=embedded.store_dir) as source:
        expected = comparable(kg_query.run(query, source, params))
    assert expected not in (Counter(), False), "the example should find something in the seeds"
    for server, config in configs.items():
        try:
            with kg_query.open_source(endpoint=config.query_url) as source:
                got = comparable(kg_query.run(query, source, params))
        except EndpointError as err:
            # Virtuoso 7.2 sometimes gives up on lineage's transitive paths with its own
            # "SR171: Transaction timed out"; when it answers, the answer must be the same.
            if server == "virtuoso" and name in VIRTUOSO_MAY_TIME_OUT and "timed out" in str(err):
                pytest.xfail(f"Virtuoso timed out on {name}: {err}")
            raise
        if server == "virtuoso" and name in VIRTUOSO_DIFFERS:
            assert got != expected, f"Virtuoso now agrees on {name}: drop it from the list"
            pytest.xfail(f"Virtuoso 7.2 answers {name} differently: {VIRTUOSO_DIFFERS[name]}")
        assert got == expected, server


#: Bundled queries Virtuoso 7.2 answers differently (found by the test above; to look into).
VIRTUOSO_DIFFERS: dict[str, str] = {}  # none since the queries use DISTINCT and plain paths
#: Bundled queries whose property paths Virtuoso 7.2 may abandon with a transaction timeout.
VIRTUOSO_MAY_TIME_OUT = {"lineage"}


@pytest.mark.parametrize("name", sorted(EXTRA_QUERIES))
def test_queries_answer_alike_over_the_dossier_graphs(name: str, loaded_everywhere) -> None:
    """Over the dossier graphs as dataset (Virtuoso would otherwise add its system graphs)."""
    embedded, configs, dataset = loaded_everywhere
    sparql = EXTRA_QUERIES[name]
    expected = result_by_value(embedded.query(sparql, dataset))
    assert expected, "the query should find something in the seeds"
    for server, config in configs.items():
        assert result_by_value(query_endpoint(config, sparql, dataset)) == expected, server


# ---------------------------------------------------------------------------- the CLI


def test_cli_loads_into_virtuoso_with_credentials_from_a_netrc_file(virtuoso, tmp_path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    config = virtuoso_netrc(virtuoso, tmp_path, **FAST)
    clean(config)
    env = {"KG_NETRC": str(tmp_path / "netrc"), "KG_ENDPOINT_AUTH": "digest",
           "KG_ENDPOINT_USER": "", "KG_ENDPOINT_PASSWORD": ""}
    args = ["load", str(V1), "--endpoint", config.query_url, "--update-endpoint",
            config.update, "--gsp-endpoint", str(config.gsp_url), "--retries", "1"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "loaded 3 graphs" in result.output and "(gsp)" in result.output
    assert_server_holds(config, read_graphs([V1]), "virtuoso")
    refused = CliRunner().invoke(main, args, env={**env, "KG_NETRC": str(tmp_path / "none")})
    assert refused.exit_code == 2 and "credentials file not found" in refused.output
