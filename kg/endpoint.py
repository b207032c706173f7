"""Loading into any SPARQL 1.1 server: Graph Store Protocol first, SPARQL Update as fallback.

* Graph Store HTTP Protocol: one ``PUT {gsp}?graph=IRI`` per named graph, an idempotent
  replace.  A ``PUT`` without ``graph`` would replace the whole dataset; kg never sends one.
* SPARQL 1.1 Update, for servers without it: a graph that fits in one batch is replaced by one
  request (``DROP SILENT GRAPH`` + ``INSERT DATA``).  A bigger one is written in batches into a
  staging graph, then swapped in by one ``MOVE`` request, so an interrupted load never leaves a
  graph half-replaced; re-running the load completes it.

Credentials come from the environment or a netrc-style file (see :meth:`EndpointConfig.from_env`),
never from the command line.  Basic and digest auth, TLS verified by default, timeouts, retries
with exponential backoff on 5xx and connection errors.  After a load the triple count of every
graph is checked against what was sent (by value: servers canonicalise literals).
"""

from __future__ import annotations

import hashlib
import html
import netrc
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from kg.errors import KgError
from kg.store import (
    DOSSIER_GRAPH_PREFIX,
    LoadReport,
    Progress,
    QueryResult,
    distinct_by_value,
    iri_ref,
    nt_line,
    replace_graph_update,
    solutions_to_rows,
    triples_of,
)

#: Environment variables read by :meth:`EndpointConfig.from_env`.
ENV_USER = "KG_ENDPOINT_USER"
ENV_PASSWORD = "KG_ENDPOINT_PASSWORD"
ENV_AUTH = "KG_ENDPOINT_AUTH"  # basic | digest
ENV_NETRC = "KG_NETRC"  # a netrc-style file; default ~/.netrc
ENV_CA_BUNDLE = "KG_CA_BUNDLE"  # a CA bundle to verify the server's certificate with
ENV_INSECURE = "KG_INSECURE_TLS"  # "1": do not verify TLS certificates (explicit opt-in)

#: Staging graphs of the Update fallback live under this prefix (never a dossier graph).
STAGING_PREFIX = "urn:kg:staging:"
#: Status codes after which a request is tried again.
RETRY_STATUS = frozenset({500, 502, 503, 504})
#: A GSP endpoint answering the first PUT with one of these does not speak GSP: use Update.
NO_GSP_STATUS = frozenset({404, 405, 501})

NT_MEDIA_TYPE = "application/n-triples"
RESULTS_MEDIA_TYPE = "application/sparql-results+json"


class EndpointError(KgError):
    """A SPARQL server refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None, url: str | None = None):
        super().__init__(message, file=url)
        self.status = status


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how to reach a SPARQL 1.1 server."""

    query_url: str
    #: SPARQL Update endpoint; defaults to ``query_url`` (Virtuoso takes both at ``/sparql``).
    update_url: str | None = None
    #: Graph Store Protocol endpoint (Oxigraph ``/store``, Fuseki ``/ds/data``, Virtuoso
    #: ``/sparql-graph-crud``); without it kg writes with SPARQL Update.
    gsp_url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "basic"
    #: True, False, or the path of a CA bundle.
    verify_tls: bool | str = True
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    batch_size: int = 2000

    def __post_init__(self) -> None:
        if self.auth not in ("basic", "digest"):
            raise EndpointError(f"unknown auth scheme {self.auth!r} (basic or digest)")
        if self.batch_size < 1:
            raise EndpointError("batch size must be at least 1")
        for url in (self.query_url, self.update_url, self.gsp_url):
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                raise EndpointError("not an http(s) URL", url=url)
        if self.gsp_url and re.search(r"(^|&)(graph|default)(=|&|$)", urlsplit(self.gsp_url).query):
            raise EndpointError("give the GSP endpoint without ?graph= or ?default; kg adds the "
                                "graph of each request", url=self.gsp_url)

    @property
    def update(self) -> str:
        """The URL updates go to."""
        return self.update_url or self.query_url

    @classmethod
    def from_env(
        cls,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> EndpointConfig:
        """A config whose credentials and TLS settings come from the environment.

        ``KG_ENDPOINT_USER`` / ``KG_ENDPOINT_PASSWORD`` first; failing that the ``machine`` entry
        for the server's host (``host:port`` tried first) in the netrc-style file ``KG_NETRC``
        (default ``~/.netrc``).  ``KG_ENDPOINT_AUTH`` picks ``basic`` (default) or ``digest``;
        ``KG_CA_BUNDLE`` names a CA bundle; ``KG_INSECURE_TLS=1`` turns verification off;
        ``KG_ENDPOINT_TIMEOUT`` sets the timeout in seconds (default 60).
        """
        env = os.environ if env is None else env
        user, password = env.get(ENV_USER) or None, env.get(ENV_PASSWORD)
        if user is None:
            user, password = _netrc_credentials(env, gsp_url or update_url or query_url)
        verify: bool | str = True
        if env.get(ENV_CA_BUNDLE):
            verify = env[ENV_CA_BUNDLE]
        if env.get(ENV_INSECURE, "").lower() in ("1", "true", "yes"):
            verify = False
        settings: dict[str, Any] = {"user": user, "password": password, "verify_tls": verify}
        if env.get("KG_ENDPOINT_TIMEOUT"):
            settings["timeout"] = float(env["KG_ENDPOINT_TIMEOUT"])
        if env.get(ENV_AUTH):
            settings["auth"] = env[ENV_AUTH].strip().lower()
        settings.update(options)
        return cls(query_url, update_url, gsp_url, **settings)


def _netrc_credentials(env: Mapping[str, str], url: str) -> tuple[str | None, str | None]:
    path = env.get(ENV_NETRC) or str(Path.home() / ".netrc")
    if not Path(path).is_file():
        if env.get(ENV_NETRC):
            raise EndpointError("credentials file not found", url=path)
        return None, None
    try:
        entries = netrc.netrc(path)
    except (netrc.NetrcParseError, OSError) as err:
        raise EndpointError(f"cannot read credentials file: {err}", url=path) from err
    parts = urlsplit(url)
    hosts = [parts.netloc.rpartition("@")[2], parts.hostname or ""]
    for host in hosts:
        found = entries.authenticators(host)
        if found:
            return found[0] or None, found[2]
    return None, None


# ---------------------------------------------------------------------------- HTTP


def _error_text(response: requests.Response, limit: int = 300) -> str:
    """The gist of an error body: Virtuoso answers with HTML pages, others with text."""
    text = response.text or ""
    if "<" in text and ">" in text:
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\s+", " ", text).strip()
    if "SPARQL query:" in text:  # Virtuoso echoes the whole request after the message
        text = text.split("SPARQL query:")[0].strip()
    return text[:limit] + ("…" if len(text) > limit else "")


class Client:
    """An HTTP session to one server, with auth, timeouts and retries."""

    def __init__(self, config: EndpointConfig):
        self.config = config
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "kg-loader"
        self.session.verify = config.verify_tls
        self.session.auth = self._auth()

    def _auth(self) -> AuthBase | None:
        c = self.config
        if c.user is None:
            return None
        if c.auth == "digest":
            return HTTPDigestAuth(c.user, c.password or "")
        return HTTPBasicAuth(c.user, c.password or "")

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def request(self, method: str, url: str, *, ok: Iterable[int] = (), **kwargs: Any
                ) -> requests.Response:
        """Send a request, retrying 5xx answers and connection errors with backoff.

        Raises :class:`EndpointError` on any other non-2xx answer unless its status is in ``ok``.
        """
        c = self.config
        ok = set(ok)
        for attempt in range(c.retries + 1):
            last = attempt == c.retries
            try:
                response = self.session.request(method, url, timeout=c.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as err:
                if last:
                    raise EndpointError(f"cannot reach server: {_reason(err)}", url=url) from err
            else:
                if response.status_code < 300 or response.status_code in ok:
                    return response
                if response.status_code not in RETRY_STATUS or last:
                    raise EndpointError(
                        f"{method} answered {response.status_code}: {_error_text(response)}",
                        status=response.status_code, url=url)
            time.sleep(min(c.backoff * 2**attempt, 30.0))
        raise AssertionError("unreachable")

    # -- SPARQL protocol

    def query(self, sparql: str, accept: str, dataset: Sequence[str] | None = None
              ) -> requests.Response:
        """POST a query (form-encoded, so long queries pass), over ``dataset`` if given."""
        form: list[tuple[str, str]] = [("query", sparql)]
        for graph in dataset or ():
            form += [("default-graph-uri", graph), ("named-graph-uri", graph)]
        return self.request("POST", self.config.query_url, data=form,
                            headers={"Accept": accept})

    def update(self, sparql: str) -> None:
        """POST one update request."""
        self.request("POST", self.config.update, data=sparql.encode("utf-8"),
                     headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def select(self, sparql: str) -> list[dict[str, Any]]:
        """Run a SELECT; rows as dicts of pyoxigraph terms."""
        response = self.query(sparql, RESULTS_MEDIA_TYPE)
        return solutions_to_rows(ox.parse_query_results(response.content,
                                                        ox.QueryResultsFormat.JSON))

    # -- Graph Store Protocol

    def gsp_url(self, graph: str) -> str:
        """``{gsp}?graph=IRI``; a GSP request without a graph is never built."""
        if not graph:
            raise EndpointError("refusing a Graph Store request without a named graph")
        try:
            ox.NamedNode(graph)
        except ValueError as err:
            raise EndpointError(f"graph name <{graph}> is not an IRI: {err}") from err
        base = self.config.gsp_url
        if base is None:
            raise EndpointError("no Graph Store endpoint configured")
        parts = urlsplit(base)
        query = "&".join(q for q in (parts.query, urlencode({"graph": graph})) if q)
        return urlunsplit(parts._replace(query=query))

    def put_graph(self, graph: str, triples: Sequence[ox.Triple]) -> requests.Response:
        """Replace a named graph with one GSP PUT (N-Triples body)."""
        body = "".join(nt_line(t) for t in triples).encode("utf-8")
        return self.request("PUT", self.gsp_url(graph), data=body, ok=NO_GSP_STATUS,
                            headers={"Content-Type": f"{NT_MEDIA_TYPE}; charset=utf-8"})


def _reason(err: Exception) -> str:
    text = str(err)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return match.group(1).strip() if match else text[:200]


# ---------------------------------------------------------------------------- load


def staging_graph(graph: str) -> str:
    """The staging graph a big graph is written into before it replaces ``graph``."""
    return STAGING_PREFIX + hashlib.sha256(graph.encode("utf-8")).hexdigest()[:32]


def _batches(items: Sequence[ox.Triple], size: int) -> Iterator[Sequence[ox.Triple]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _replace_by_update(client: Client, graph: str, triples: Sequence[ox.Triple],
                       progress: Progress | None) -> None:
    size = client.config.batch_size
    if len(triples) <= size or any(_has_blank_node(t) for t in triples):
        # One request: DROP + INSERT DATA run together (blank nodes must stay in one request).
        client.update(replace_graph_update(graph, triples))
        if progress:
            progress(len(triples))
        return
    stage = iri_ref(staging_graph(graph))
    for number, batch in enumerate(_batches(triples, size)):
        body = "".join(nt_line(t) for t in batch)
        drop = f"DROP SILENT GRAPH {stage} ;\n" if number == 0 else ""
        client.update(f"{drop}INSERT DATA {{ GRAPH {stage} {{\n{body}}} }}")
        if progress:
            progress(len(batch))
    client.update(swap_update(staging_graph(graph), graph))


def swap_update(stage: str, graph: str) -> str:
    """One request that replaces ``graph`` by ``stage`` and drops ``stage``.

    Unlike ``MOVE`` it is idempotent: the target is emptied only while the staging graph holds
    triples, so a retry after a lost answer cannot wipe the freshly swapped graph.
    """
    s, g = iri_ref(stage), iri_ref(graph)
    return (
        f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{\n"
        f"  {{ SELECT ?x WHERE {{ GRAPH {s} {{ ?x ?y ?z }} }} LIMIT 1 }}\n"
        f"  GRAPH {g} {{ ?s ?p ?o }} }} ;\n"
        f"ADD SILENT GRAPH {s} TO GRAPH {g} ;\n"
        f"DROP SILENT GRAPH {s}"
    )


def _has_blank_node(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def graph_counts(client: Client, graphs: Iterable[str], chunk: int = 200) -> dict[str, int]:
    """Triples per named graph on the server (0 for a graph that is not there)."""
    names = list(graphs)
    counts = dict.fromkeys(names, 0)
    for start in range(0, len(names), chunk):
        values = " ".join(iri_ref(g) for g in names[start:start + chunk])
        rows = client.select(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
            f"GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
        for row in rows:
            counts[row["g"].value] = int(row["n"].value)
    return counts


def remote_graph_names(client: Client, prefix: str = "") -> list[str]:
    """Named graphs on the server holding triples, optionally only those under ``prefix``."""
    where = f'FILTER(STRSTARTS(STR(?g), "{_escape(prefix)}"))' if prefix else ""
    rows = client.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {where} }}")
    return sorted(row["g"].value for row in rows if isinstance(row.get("g"), ox.NamedNode))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def drop_graph(client: Client, graph: str) -> None:
    """Remove one named graph (never the default graph)."""
    client.update(f"DROP SILENT GRAPH {iri_ref(graph)}")


def load_endpoint(
    graphs: Mapping[str, Sequence[ox.Quad]],
    config: EndpointConfig,
    *,
    method: str = "auto",
    prune: bool = False,
    prune_prefix: str = DOSSIER_GRAPH_PREFIX,
    verify: bool = True,
    progress: Progress | None = None,
) -> LoadReport:
    """Replace each named graph on a SPARQL 1.1 server; see the module docstring.

    ``method`` is ``gsp``, ``update`` or ``auto`` (GSP when a GSP endpoint is configured,
    switching to Update if the server turns out not to speak it).  With ``prune`` the graphs
    under ``prune_prefix`` that are not in ``graphs`` are dropped; kg's staging graphs too.
    """
    if method not in ("auto", "gsp", "update"):
        raise EndpointError(f"unknown load method {method!r} (auto, gsp or update)")
    if method == "gsp" and not config.gsp_url:
        raise EndpointError("the gsp method needs a Graph Store endpoint (--gsp-endpoint)")
    if not prune_prefix and prune:
        raise EndpointError("refusing to prune every graph of a shared server: give a prefix")
    use_gsp = method == "gsp" or (method == "auto" and config.gsp_url is not None)
    started = time.perf_counter()
    client = Client(config)
    report = LoadReport(target=config.gsp_url if use_gsp else config.update,
                        method="gsp" if use_gsp else "update")
    expected: dict[str, int] = {}
    try:
        for graph, quads in graphs.items():
            triples = triples_of(quads)
            if use_gsp:
                response = client.put_graph(graph, triples)
                if response.status_code in NO_GSP_STATUS:
                    if method == "gsp" or report.loaded:
                        raise EndpointError(f"PUT answered {response.status_code}",
                                            status=response.status_code, url=response.url)
                    use_gsp, report.method, report.target = False, "update", config.update
                elif progress:
                    progress(len(triples))
            if not use_gsp:
                _replace_by_update(client, graph, triples, progress)
            report.loaded[graph] = len(triples)
            expected[graph] = distinct_by_value(triples)
        if prune:
            stale = [g for g in remote_graph_names(client, prune_prefix) if g not in graphs]
            stale += remote_graph_names(client, STAGING_PREFIX)
            for graph in stale:
                drop_graph(client, graph)
                report.removed.append(graph)
        if verify:
            found = graph_counts(client, expected)
            report.mismatches = {g: (n, found[g]) for g, n in expected.items() if found[g] != n}
            report.verified = True
    finally:
        client.close()
    report.seconds = time.perf_counter() - started
    return report


def verify_endpoint(graphs: Mapping[str, Sequence[ox.Quad]], config: EndpointConfig
                    ) -> dict[str, tuple[int, int]]:
    """Graphs whose triple count on the server differs from ``graphs``: IRI -> (expected, found)."""
    client = Client(config)
    try:
        expected = {g: distinct_by_value(triples_of(q)) for g, q in graphs.items()}
        found = graph_counts(client, expected)
    finally:
        client.close()
    return {g: (n, found[g]) for g, n in expected.items() if found[g] != n}


# ---------------------------------------------------------------------------- read and query


def read_graph(config: EndpointConfig, graph: str) -> list[ox.Triple]:
    """The triples of one named graph on the server (a CONSTRUCT on the query endpoint)."""
    g = iri_ref(graph)
    sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"
    return query_endpoint(config, sparql)  # type: ignore[return-value]


_PROLOGUE = re.compile(
    r"^(?:\s+|#[^\n]*|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*", re.IGNORECASE)


def query_form(sparql: str) -> str:
    """``select``, ``construct``, ``describe`` or ``ask``: what a query returns."""
    match = re.match(r"(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", sparql[_PROLOGUE.match(sparql).end():],
                     re.IGNORECASE)
    if not match:
        raise EndpointError("not a SPARQL query (SELECT, CONSTRUCT, DESCRIBE or ASK)")
    return match.group(1).lower()


def query_endpoint(config: EndpointConfig, sparql: str, dataset: Sequence[str] | None = None
                   ) -> QueryResult:
    """Run a SPARQL query on the server: rows for SELECT, a boolean for ASK, else triples.

    ``dataset`` names the graphs to query: they are the named graphs (``GRAPH ?g``) and their
    merge is the default graph.  Without it the server decides; Virtuoso then includes its own
    system graphs in both.
    """
    form = query_form(sparql)
    client = Client(config)
    try:
        if form in ("select", "ask"):
            response = client.query(sparql, RESULTS_MEDIA_TYPE, dataset)
        else:  # asked for N-Triples: Virtuoso answers JSON for graphs with invalid numbers
            response = client.query(sparql, f"{NT_MEDIA_TYPE}, text/turtle;q=0.5", dataset)
    finally:
        client.close()
    if form in ("select", "ask"):
        result = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        rows = solutions_to_rows(result)
        if form == "ask":  # Virtuoso answers ASK with one row binding __ASK_RETVAL to 0 or 1
            return bool(rows) and any(v.value not in ("0", "false") for v in rows[0].values())
        return rows
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
    try:
        return triples_of(ox.parse(response.content, format=fmt))
    except SyntaxError as err:
        raise EndpointError(f"unreadable {media} answer: {err}", url=config.query_url) from err


@dataclass(frozen=True)
class EndpointBackend:
    """A SPARQL 1.1 server as a back-end (same surface as :class:`kg.store.EmbeddedBackend`)."""

    config: EndpointConfig

    name = "sparql"

    def load(self, graphs: Mapping[str, Sequence[ox.Quad]], *, prune: bool = False,
             verify: bool = True, progress: Progress | None = None) -> LoadReport:
        """Replace each named graph; see :func:`load_endpoint`."""
        return load_endpoint(graphs, self.config, prune=prune, verify=verify, progress=progress)

    def graph_names(self) -> list[str]:
        """Named graphs holding triples (a server may have its own system graphs)."""
        client = Client(self.config)
        try:
            return remote_graph_names(client)
        finally:
            client.close()

    def read_graph(self, iri: str) -> list[ox.Triple]:
        """The triples of one named graph."""
        return read_graph(self.config, iri)

    def query(self, sparql: str, dataset: Sequence[str] | None = None) -> QueryResult:
        """Run a SPARQL query (over ``dataset``'s graphs if given)."""
        return query_endpoint(self.config, sparql, dataset)

    def dossier_graphs(self, prefix: str = DOSSIER_GRAPH_PREFIX) -> list[str]:
        """kg's dossier graphs on the server: the dataset to query."""
        client = Client(self.config)
        try:
            return remote_graph_names(client, prefix)
        finally:
            client.close()


def with_options(config: EndpointConfig, **changes: Any) -> EndpointConfig:
    """A copy of ``config`` with some settings changed (timeouts, batch size, retries…)."""
    return replace(config, **changes)
