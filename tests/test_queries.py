"""Every bundled query, with its example parameters, on rdflib and pyoxigraph (and a real SPARQL
server when one is installed): the engines agree, and each answer is what the corpus says."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import GOLD, corpus_files

from kg import build
from kg.query import (
    EndpointSource,
    Query,
    QueryError,
    Result,
    bind,
    bundled,
    bundled_names,
    load,
    oxigraph_source,
    rdflib_source,
    run,
)
from kg.store import value_key
from kg.vocab import name_key

WDT = "http://www.wikidata.org/prop/direct/"
SCHEMA = "https://schema.org/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def corpus():
    return build([str(p) for p in corpus_files()])


@pytest.fixture(scope="module")
def sources(corpus):
    return {"oxigraph": oxigraph_source(corpus.quads), "rdflib": rdflib_source(corpus.quads)}


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    files = sorted(GOLD.glob("*.json"))
    if not files:
        pytest.skip("no gold files beside the corpus")
    return [json.loads(f.read_text("utf-8")) for f in files]


def comparable(result: Result) -> object:
    """A result by value (servers canonicalise literals); row order kept (all are ORDER BY)."""
    if result.is_graph:
        return sorted(map(repr, {tuple(value_key(t) for t in (x.subject, x.predicate, x.object))
                                 for x in result.triples}))
    if result.boolean is not None:
        return result.boolean
    return [sorted((k, value_key(v)) for k, v in row.items()) for row in result.rows]


def example(sources, query_name: str, engine: str = "oxigraph", **params: str) -> Result:
    query = bundled(query_name)
    return run(query, sources[engine], params or query.example_params())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def names_of(g: dict) -> set[str]:
    return {g["title"], *g["aliases"]}


def resolve(gold: list[dict], name: str | None) -> str | None:
    """The title of the dossier a reference names (title or alias), else the name itself."""
    if name is None:
        return None
    for g in gold:
        if name_key(name) in {name_key(n) for n in names_of(g)}:
            return g["title"]
    return name


# ---------------------------------------------------------------------------- every query


@pytest.mark.parametrize("name", bundled_names())
def test_header_is_complete(name: str) -> None:
    query = bundled(name)
    assert query.title and query.description and query.examples
    assert query.examples[0].startswith(f"kg query {name}")
    for param in query.params:
        assert param.default is not None, "bundled queries run without parameters"
        assert f"?{param.name}" in query.text
    assert set(query.example_params()) <= {p.name for p in query.params}


@pytest.mark.parametrize("name", bundled_names())
def test_rdflib_and_oxigraph_agree(sources, name: str) -> None:
    on_oxigraph = example(sources, name, "oxigraph")
    on_rdflib = example(sources, name, "rdflib")
    assert comparable(on_oxigraph) == comparable(on_rdflib)
    assert on_oxigraph.rows or on_oxigraph.triples


# ---------------------------------------------------------------------------- answers


def test_mission_found_by_alias_in_any_case(sources, gold) -> None:
    for g in gold:
        for name in names_of(g):
            result = example(sources, "mission", name=name.upper())
            assert set(result.column("title")) == {g["title"]}, name


def test_mission_sputnik_22_facts(sources, gold) -> None:
    seed = next(g for g in gold if "Sputnik 22" in g["aliases"])
    result = example(sources, "mission", name="Sputnik 22")
    facts = defaultdict(set)
    for row in result.rows:
        facts[row["property"].value.rsplit("#", 1)[-1]].add(
            (row.get("valueLabel") or row["value"]).value)
    assert facts["cosparId"] == {seed["cospar_id"]}
    assert facts["satcatNumber"] == {str(seed["satcat"])}
    assert {when(t) for t in facts["launchTime"]} == {when(seed["launch_datetime"])}
    assert facts["launchVehicle"] == {seed["launch_vehicle"]}
    assert facts["launchSite"] == {seed["launch_site"]}
    assert facts["launchPad"] == {seed["launch_pad"]}
    assert facts["altLabel"] == set(seed["aliases"])
    assert {i.lower() for i in facts["carriesInstrument"]} == {
        i.lower() for i in seed["instruments"]}
    assert facts["upperStage"] == {seed["extra"]["upper_stage"]}


def chain(gold: list[dict], title: str) -> list[str]:
    """The lineage from the gold files: links stated by either side, back then forward."""
    nxt: dict[str, set[str]] = defaultdict(set)
    for g in gold:
        if g["previous_mission"]:
            nxt[resolve(gold, g["previous_mission"])].add(g["title"])
        if g["next_mission"]:
            nxt[g["title"]].add(resolve(gold, g["next_mission"]))
    prev = defaultdict(set)
    for a, bs in nxt.items():
        for b in bs:
            prev[b].add(a)
    first = title
    while prev[first]:
        (first,) = prev[first]
    order = [first]
    while nxt[order[-1]]:
        (following,) = nxt[order[-1]]
        order.append(following)
    return order


def test_lineage_of_mars_1_in_launch_order(sources, gold) -> None:
    result = example(sources, "lineage", name="Mars 1")
    titles = result.column("title")
    assert titles == chain(gold, "Mars 1")
    assert [int(p) for p in result.column("position")] == list(range(1, len(titles) + 1))
    times = [when(t) for t in result.column("launchTime") if t]
    assert times == sorted(times) and len(times) == sum(
        1 for g in gold if g["title"] in titles and g["launch_datetime"])
    relation = dict(zip(titles, result.column("relation"), strict=True))
    assert relation["Mars 1"] == "this mission"
    assert relation[titles[0]] == "predecessor" and relation[titles[-1]] == "successor"


def test_timeline_is_in_launch_order(sources, gold) -> None:
    everything = example(sources, "timeline", programme="")
    expected = sorted((g for g in gold if g["launch_datetime"]),
                      key=lambda g: when(g["launch_datetime"]))
    assert everything.column("title") == [g["title"] for g in expected]
    mars = example(sources, "timeline", programme="MARS PROGRAM")
    assert mars.column("title") == [g["title"] for g in expected
                                    if g["programme"] == "Mars program"]
    row = mars.rows[mars.column("title").index("Mars 1")]
    assert (row["previous"].value, row["next"].value) == ("Mars 2MV-4 No.1", "Mars 2MV-3 No.1")


@pytest.mark.parametrize(("query", "column", "key"), [
    ("by-vehicle", "launchVehicle", "launch_vehicle"),
    ("by-site", "launchSite", "launch_site"),
])
def test_launches_per_vehicle_and_site(sources, gold, query, column, key) -> None:
    result = example(sources, query, **{bundled(query).params[0].name: ""})
    rows = {(r[column].value, r["title"].value) for r in result.rows}
    assert rows == {(g[key], g["title"]) for g in gold if g[key]}
    counts = {r[column].value: int(r["launches"].value) for r in result.rows}
    assert counts == dict(Counter(g[key] for g in gold if g[key]))


def test_by_site_finds_pads(sources, gold) -> None:
    result = example(sources, "by-site", site="81/23")
    assert set(result.column("title")) == {g["title"] for g in gold
                                           if g["launch_pad"] == "Site 81/23"}


@pytest.mark.parametrize(("query", "column", "key"), [
    ("by-operator", "operatorName", "operators"),
    ("by-manufacturer", "manufacturerName", "manufacturers"),
])
def test_missions_per_operator_and_maker(sources, gold, query, column, key) -> None:
    result = example(sources, query, **{bundled(query).params[0].name: ""})
    assert {(r[column].value, r["title"].value) for r in result.rows} == {
        (who, g["title"]) for g in gold for who in g[key]}


def test_instruments_with_their_spacecraft(sources, gold) -> None:
    result = example(sources, "instruments", instrument="", mission="")
    got = {(r["title"].value, r["instrumentName"].value.lower()) for r in result.rows}
    assert got == {(g["title"], i.lower()) for g in gold for i in g["instruments"]}
    one = example(sources, "instruments", instrument="", mission="sputnik 22")
    assert set(one.column("title")) == {"Mars 2MV-4 No.1"}


def test_aliases_are_every_name(sources, gold) -> None:
    for g in gold:
        result = example(sources, "aliases", name=g["title"])
        expected = names_of(g) | ({g["extra"]["short_name"]} if g["extra"].get("short_name")
                                  else set())
        assert set(result.column("knownAs")) == expected, g["title"]


def test_stats(sources, gold) -> None:
    result = example(sources, "stats")
    stats = {(r["statistic"].value, r["key"].value): int(r["count"].value) for r in result.rows}
    decades = Counter(g["launch_datetime"][:3] + "0s" for g in gold if g["launch_datetime"])
    assert {k: v for (s, k), v in stats.items() if s == "missions per decade"} == decades
    operators = Counter(o for g in gold for o in g["operators"])
    assert {k: v for (s, k), v in stats.items() if s == "missions per operator"} == operators
    referenced = {resolve(gold, g[k]) for g in gold for k in ("previous_mission", "next_mission")}
    missions = {g["title"] for g in gold} | (referenced - {None})
    kg_mission = "https://w3id.org/spacekg/ontology#Mission"
    assert stats[("entities per class", kg_mission)] == len(missions)


def test_quality(sources, gold) -> None:
    result = example(sources, "quality")
    got = {(r["title"].value, r["problem"].value) for r in result.rows}
    expected = set()
    for g in gold:
        for key, problem in (("cospar_id", "no COSPAR ID"), ("launch_datetime", "no launch time"),
                             ("launch_vehicle", "no launch vehicle"),
                             ("launch_site", "no launch site")):
            if not g[key]:
                expected.add((g["title"], problem))
    titles = {g["title"] for g in gold}
    for g in gold:
        for key in ("previous_mission", "next_mission"):
            target = resolve(gold, g[key])
            if target and target not in titles:
                expected.add((target, "no dossier (dangling reference)"))
    assert got == expected


def test_wikidata_statements(sources, gold, corpus) -> None:
    result = example(sources, "wikidata", name="")
    by_label = {t.subject.value: t.object for t in result.triples
                if t.predicate.value == RDFS_LABEL and t.object.language == "en"}
    statements = defaultdict(set)
    for t in result.triples:
        statements[(t.subject.value, t.predicate.value)].add(t.object)
    for g in gold:
        (item,) = [s for s, label in by_label.items() if label.value == g["title"]]
        if g["satcat"]:
            assert statements[(item, WDT + "P377")] == {ox.Literal(f"{g['satcat']:05d}")}
        if g["cospar_id"]:
            assert statements[(item, WDT + "P247")] == {ox.Literal(g["cospar_id"])}
        (date,) = statements[(item, WDT + "P619")]
        assert when(date.value) == when(g["launch_datetime"])
        (vehicle,) = statements[(item, WDT + "P375")]
        assert by_label[vehicle.value].value == g["launch_vehicle"]
        aliases = {a.value for a in statements[(item, "http://www.w3.org/2004/02/skos/core#altLabel")]}
        assert aliases == set(g["aliases"])
    seed = example(sources, "wikidata")  # the example: Sputnik 22 only
    assert (ox.Literal("00443") in
            {t.object for t in seed.triples if t.predicate.value == WDT + "P377"})


def test_schema_org_events_and_places(sources, gold) -> None:
    result = example(sources, "schema-org", name="")
    triples = {(t.subject.value, t.predicate.value, t.object) for t in result.triples}
    names = {s: o.value for s, p, o in triples if p == SCHEMA + "name"}
    starts = {s: o.value for s, p, o in triples if p == SCHEMA + "startDate"}
    places = {s: o.value for s, p, o in triples if p == SCHEMA + "location"}
    for g in gold:
        (mission,) = [s for s, n in names.items() if n == g["title"]]
        (launch,) = [o.value for s, p, o in triples if s == mission and p == SCHEMA + "subEvent"]
        assert when(starts[launch]) == when(g["launch_datetime"])
        assert names[places[launch]] in {g["launch_site"], g["launch_pad"]}
    types = Counter(o.value for s, p, o in triples if p.endswith("#type"))
    assert types[SCHEMA + "Event"] == 2 * len(gold) and types[SCHEMA + "Place"] >= 1


# ---------------------------------------------------------------------------- binding


NASTY = ['Sputnik 22" } UNION { ?s ?p ?o } #', "a'b\"c{d}e\\f\ng", "''' \"\"\" >", "Марс-4"]


@pytest.mark.parametrize("value", NASTY)
def test_values_cannot_change_the_query(sources, value: str) -> None:
    echo = Query("echo", "SELECT ?name WHERE { }", "echo.rq")
    for source in sources.values():
        assert [r["name"].value for r in run(echo, source, {"name": value}).rows] == [value]
    assert example(sources, "mission", name=value).rows == (
        [] if value != "Марс-4" else example(sources, "mission", name="Mars 4").rows)


def test_params_are_typed_and_scoped() -> None:
    text = "# param: n integer = 3\n# param: d date = \"1962-10-24\"\nSELECT ?n ?d WHERE { }"
    query = Query("t", text, "t.rq", params=load_header(text).params)
    assert "\"3\"^^<http://www.w3.org/2001/XMLSchema#integer>" in bind(query)
    with pytest.raises(QueryError, match="expects an integer"):
        bind(query, {"n": "three"})
    with pytest.raises(QueryError, match="no parameter 'x'"):
        bind(query, {"x": "1"})
    construct = "CONSTRUCT { ?s <http://p> ?v } WHERE { ?s ?p ?o FILTER (?o = ?v) }"
    bound = bind(Query("c", construct, "c.rq"), {"v": "x"})
    assert bound.startswith("CONSTRUCT { ?s <http://p> ?v } WHERE { VALUES (?v)")


def load_header(text: str) -> Query:
    from kg.query import parse_header
    return parse_header(text, "t", "t.rq")


def test_user_file_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x\nWHERE {\n  ?x ?p \n  FILTER( }\n")
    with pytest.raises(QueryError) as err:
        load(bad)
    assert err.value.line == 4 and err.value.message.startswith("column ")
    assert str(err.value).startswith(f"{bad}:4: column")


# ---------------------------------------------------------------------------- real servers


@pytest.fixture(scope="module")
def oxigraph_endpoint(tmp_path_factory, corpus):
    servers = pytest.importorskip("servers")
    from kg.endpoint import load_endpoint
    from kg.store import group_quads

    server = servers.oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
    with servers.running(server):
        load_endpoint(group_quads(corpus.quads), server.config())
        yield server


@pytest.mark.parametrize("name", bundled_names())
def test_same_answers_on_oxigraph_server(sources, oxigraph_endpoint, name: str) -> None:
    # Oxigraph server's default graph is not the union: kg names the dossier graphs.
    source = EndpointSource(oxigraph_endpoint.config().query_url)
    assert comparable(example({"server": source}, name, "server")) == comparable(
        example(sources, name))
    assert source.default_graphs()


# ---------------------------------------------------------------------------- hostile queries

#: Values that try codepoint escapes: rdflib replaces \uXXXX anywhere in a query before parsing.
ESCAPED = ['\\u0022 } UNION { ?s ?p ?o } #', '\\U00000022 }', '\\\\u0041', '\\u005c\\u0022',
           '\\uZZ', 'x\\', '\x00 \r \t']


@pytest.mark.parametrize("value", ESCAPED)
def test_codepoint_escapes_in_values_stay_text_on_every_engine(value: str) -> None:
    from kg.query import oxigraph_source, rdflib_source

    echo = Query("echo", "SELECT ?name WHERE { }", "echo.rq")
    for source in (oxigraph_source([]), rdflib_source([])):
        assert [r["name"].value for r in run(echo, source, {"name": value}).rows] == [value]


@pytest.mark.parametrize("value", ["http://x> } UNION { ?s ?p ?o } #<", "http://x/\\u003e",
                                   "http://x/ y", "http://x/\x00"])
def test_iri_parameters_cannot_close_the_iri(value: str) -> None:
    query = load_header("# param: x iri = \"http://a/\"\nSELECT ?x WHERE { }")
    with pytest.raises(QueryError, match="expects an iri"):
        bind(query, {"x": value})


@pytest.mark.parametrize(("text", "value"), [
    ("# param: n integer = 1\nSELECT ?n WHERE { }", "1) } UNION { ?s ?p ?o } #"),
    ("# param: d date = \"1962-10-24\"\nSELECT ?d WHERE { }", "1962-10-24\" } #"),
    ("# param: t dateTime = \"1962-10-24T00:00:00Z\"\nSELECT ?t WHERE { }", "1962-10-24T00:00:00Z\""),
    ("# param: b boolean = true\nSELECT ?b WHERE { }", "true } #"),
])
def test_typed_parameters_refuse_trailing_syntax(text: str, value: str) -> None:
    with pytest.raises(QueryError, match="expects"):
        bind(load_header(text), {text.split()[2]: value})


def test_parameter_names_cannot_carry_syntax() -> None:
    echo = Query("echo", "SELECT ?name WHERE { }", "echo.rq")
    with pytest.raises(QueryError, match="bad parameter name"):
        bind(echo, {"x) { } SELECT * { ?s ?p ?o } #": "1"})


@pytest.fixture
def sparql_server():
    """A loopback SPARQL endpoint that answers every request with one solution and logs it."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            hits.append(self.path)
            body = json.dumps({"head": {"vars": ["o"]}, "results": {"bindings": [
                {"o": {"type": "literal", "value": "from afar"}}]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sparql", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("spelling", ["SERVICE", "service", "S\\u0045RVICE", "SERVICE SILENT"])
def test_service_is_refused_unless_allowed(sparql_server, tmp_path: Path, spelling: str) -> None:
    from click.testing import CliRunner

    from kg.cli import main
    from kg.query import rdflib_source

    url, hits = sparql_server
    rq = tmp_path / "remote.rq"
    rq.write_text(f"# title: remote\nSELECT ?o WHERE {{\n  {spelling} <{url}> {{ ?s ?p ?o }}\n}}\n")
    query = Query("remote", rq.read_text(), str(rq))
    with pytest.raises(QueryError, match="SERVICE clause refused") as err:
        run(query, rdflib_source([]))  # rdflib undoes codepoint escapes: S\u0045RVICE calls out
    assert err.value.line == 3
    data = tmp_path / "empty.nq"
    data.write_text("")
    result = CliRunner().invoke(main, ["query", str(rq), "--data", str(data)])
    assert result.exit_code == 2  # pyoxigraph reads S\u0045RVICE as a syntax error
    assert "--allow-service" in result.output or "\\" in spelling
    assert hits == []
    if spelling == "SERVICE":  # what the refusal prevents: the engine really calls out
        allowed = run(query, rdflib_source([]), allow_service=True)
        assert [r["o"].value for r in allowed.rows] == ["from afar"] and hits


def test_service_as_a_word_in_strings_iris_and_comments_is_fine() -> None:
    text = ('# SERVICE in a comment\nSELECT ?service WHERE { ?service <http://e/SERVICE> '
            '"SERVICE <http://x/> {}" }')
    from kg.query import check_no_service

    check_no_service(Query("ok", text, "ok.rq"))


def test_rdflib_engine_fetches_no_from_graph(sparql_server) -> None:
    from kg.query import rdflib_source

    url, hits = sparql_server
    query = Query("from", f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", "from.rq")
    assert run(query, rdflib_source([])).rows == []
    assert hits == []
