"""Graph files from others: nothing fetched, no entity bombs, size and nesting limits, positions."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.rdfio import RdfInputError, read_file

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that serves a JSON-LD context and records every request."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = json.dumps({"@context": {"name": "http://schema.org/name"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/context.jsonld", hits
    finally:
        server.shutdown()
        server.server_close()


def jsonld(tmp_path: Path, context: object, name: str = "data.jsonld") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"@context": context, "@id": "http://e/a", "name": "x"}))
    return path


# ---------------------------------------------------------------------------- JSON-LD contexts


def test_pyoxigraph_itself_fetches_no_remote_context(http_server) -> None:
    url, hits = http_server
    doc = json.dumps({"@context": url, "@id": "http://e/a", "name": "x"})
    with pytest.raises(SyntaxError, match="LoadDocumentCallback"):
        list(ox.parse(doc, format=ox.RdfFormat.JSON_LD))
    assert hits == []


def test_remote_context_is_refused_and_never_fetched(tmp_path: Path, http_server) -> None:
    url, hits = http_server
    for context in (url, [url], {"@import": url}, {"name": {"@id": "http://e/n", "@context": url}}):
        with pytest.raises(RdfInputError, match="is a URL: kg never fetches"):
            read_file(jsonld(tmp_path, context))
    assert hits == []


def test_a_context_map_gives_a_local_copy(tmp_path: Path, http_server) -> None:
    url, hits = http_server
    local = tmp_path / "elsewhere" / "ctx.json"
    local.parent.mkdir()
    local.write_text(json.dumps({"@context": {"name": "http://schema.org/name"}}))
    graphs = read_file(jsonld(tmp_path, url), context_map={url: local})
    assert [q.predicate.value for q in graphs[None]] == ["http://schema.org/name"]
    assert hits == []


def test_file_context_beside_the_input_is_read_but_not_outside(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    ctx = {"@context": {"name": "http://schema.org/name"}}
    (data / "ctx.jsonld").write_text(json.dumps(ctx))
    (tmp_path / "secret.jsonld").write_text(json.dumps(ctx))
    assert len(read_file(jsonld(data, "ctx.jsonld"))[None]) == 1
    for ref in ("../secret.jsonld", (tmp_path / "secret.jsonld").as_uri()):
        with pytest.raises(RdfInputError, match="outside the input's directory"):
            read_file(jsonld(data, ref))


def test_context_cycles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.jsonld").write_text(json.dumps({"@context": "b.jsonld"}))
    (tmp_path / "b.jsonld").write_text(json.dumps({"@context": "a.jsonld"}))
    with pytest.raises(RdfInputError, match="context cycle"):
        read_file(jsonld(tmp_path, "a.jsonld", "data.jsonld"))


def test_deep_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonld"
    path.write_text('{"@id": "http://e/a", "http://e/p": ' + "[" * 300 + "1" + "]" * 300 + "}")
    with pytest.raises(RdfInputError, match="nested deeper than 256"):
        read_file(path)
    assert read_file(path, max_depth=400)  # the limit is what refused it


# ---------------------------------------------------------------------------- RDF/XML entities

XML = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
{entities}
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">
 <rdf:Description rdf:about="http://e/s"><ex:p>{body}</ex:p></rdf:Description>
</rdf:RDF>
"""


def laughs(levels: int) -> str:
    decls = ['<!ENTITY l0 "ha">']
    decls += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return XML.format(entities="\n".join(decls), body=f"&l{levels};")


def test_pyoxigraph_expands_entities_so_kg_must_refuse_them(tmp_path: Path) -> None:
    # 5 levels: 213 bytes of declarations become a 200,000-character literal
    (quad,) = ox.parse(laughs(5), format=ox.RdfFormat.RDF_XML)
    assert len(quad.object.value) == 200_000
    bomb = tmp_path / "laughs.rdf"
    bomb.write_text(laughs(9))  # 2 GB if expanded
    with pytest.raises(RdfInputError, match="entity expansion is off"):
        read_file(bomb)


@pytest.mark.parametrize("decl", [
    '<!ENTITY x SYSTEM "file:///etc/passwd">',
    '<!ENTITY x PUBLIC "-//x//EN" "http://127.0.0.1:9/x.dtd">',
    '<!ENTITY % p "y"> <!ENTITY x "z">',
])
def test_external_and_parameter_entities_are_refused(tmp_path: Path, decl: str) -> None:
    path = tmp_path / "ext.rdf"
    path.write_text(XML.format(entities=decl, body="&x;"))
    with pytest.raises(RdfInputError, match="entity expansion is off"):
        read_file(path)


def test_plain_entities_as_ontology_editors_write_them_are_read(tmp_path: Path) -> None:
    path = tmp_path / "onto.owl"
    path.write_text(XML.format(entities='<!ENTITY owl "http://www.w3.org/2002/07/owl#">',
                               body="&owl;Thing"))
    (quad,) = read_file(path)[None]
    assert quad.object.value == "http://www.w3.org/2002/07/owl#Thing"


def test_many_uses_of_a_plain_entity_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "wide.rdf"
    path.write_text(XML.format(entities=f'<!ENTITY big "{"x" * 100_000}">', body="&big;" * 200))
    with pytest.raises(RdfInputError, match="would expand the file"):
        read_file(path)


def test_deep_xml_is_refused_before_the_slow_parser_sees_it(tmp_path: Path) -> None:
    path = tmp_path / "deep.rdf"
    path.write_text(f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:e="http://e/"><rdf:Description>'
                    + "<e:p><rdf:Description>" * 20_000 + "</rdf:Description></e:p>" * 20_000
                    + "</rdf:Description></rdf:RDF>")
    with pytest.raises(RdfInputError, match="nested deeper than 256 elements"):
        read_file(path)


# ---------------------------------------------------------------------------- size, positions


def test_size_limit_is_clear_and_can_be_raised(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.nt"
    path.write_text('<http://e/s> <http://e/p> "x" .\n' * 40_000)  # ~1.3 MB
    monkeypatch.setenv("KG_MAX_RDF_MB", "1")
    with pytest.raises(RdfInputError, match="over kg's limit of 1 MB.*KG_MAX_RDF_MB"):
        read_file(path)
    monkeypatch.setenv("KG_MAX_RDF_MB", "2")
    assert len(read_file(path)[None]) == 40_000


@pytest.mark.parametrize(("name", "text", "line", "column"), [
    ("bad.nq", "<http://e/s> <http://e/p> <http://e/o> <http://e/g> .\n<http://e/s> <http://e/p> .\n",
     2, 27),
    ("bad.ttl", "@prefix e: <http://e/> .\n\ne:s e:p e:o ;\n   e:q \"open .\n", 4, 8),
    ("bad.jsonld", '{"@id": "http://e/a",\n  "http://e/p": [1, }\n', 2, 21),
    ("bad.rdf", f'<rdf:RDF xmlns:rdf="{RDF}">\n  <a></b>\n</rdf:RDF>\n', 2, 8),
])
def test_malformed_file_names_line_and_column(tmp_path: Path, name: str, text: str, line: int,
                                              column: int) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RdfInputError) as err:
        read_file(path)
    assert (err.value.file, err.value.line, err.value.column) == (str(path), line, column)
    assert str(err.value).startswith(f"{path}:{line}:{column}: ")


@pytest.mark.parametrize("command", [
    ["validate"],
    ["load", "--store", "STORE"],
    ["query", "stats", "--data"]])
def test_commands_report_refusals_in_one_line(tmp_path: Path, http_server,
                                              command: list[str]) -> None:
    url, hits = http_server
    path = jsonld(tmp_path, url)
    args = [str(tmp_path / "store") if a == "STORE" else a for a in command]
    result = CliRunner().invoke(main, [*args, str(path)])
    assert result.exit_code == 2, result.output
    assert "is a URL: kg never fetches" in result.output
    assert "Traceback" not in result.output
    assert hits == []
