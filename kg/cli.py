"""The ``kg`` command line: a thin layer over the library (the only module importing click)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .build import build as build_dataset
from .build import build_to
from .dossier import decode, parse, read
from .errors import EXIT_DOSSIER_ERRORS, EXIT_OK, KgError
from .export import DEFAULT_FORMATS, FORMATS, get_format, write
from .record import extract as extract_record
from .vocab import DEFAULT_BASE

FORMAT_NAMES = sorted(FORMATS)


def _fail(exc: KgError) -> None:
    click.echo(f"kg: error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _formats(values: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            try:
                names.append(get_format(name.strip()).name)
            except KeyError:
                raise click.BadParameter(
                    f"unknown format {name!r}; choose from {', '.join(FORMAT_NAMES)}",
                    param_hint="--format") from None
    return list(dict.fromkeys(names))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kg")
def main() -> None:
    """kg: space-mission dossiers to a linked knowledge graph.

    \b
    kg build                      build the bundled seeds into ./out/
    kg build dossiers/ -o out/    build a folder of dossiers
    kg extract seeds/000_*.txt    show what kg reads from one dossier
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default="out",
              show_default=True, help="Directory to write into.")
@click.option("-f", "--format", "formats", multiple=True,
              help=f"Output format(s), repeatable or comma-separated: {', '.join(FORMAT_NAMES)}."
                   f"  [default: {', '.join(DEFAULT_FORMATS)}]")
@click.option("--base", default=DEFAULT_BASE, show_default=True,
              help="Base IRI for the resources kg mints.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes, and threads for the corpus rules.  [default: all cores]")
@click.option("--store", "store_dir", default="store", show_default=True,
              help="Embedded store to load, relative to the output directory.")
@click.option("--no-store", is_flag=True, help="Do not load the embedded store.")
@click.option("--no-validate", is_flag=True, help="Skip the SHACL validation (kg validate).")
@click.option("--no-cache", is_flag=True,
              help="Ignore and do not keep the cache that makes rebuilds incremental.")
@click.option("--report", "report_file", type=click.Path(path_type=Path), default=None,
              help="Where to write the build report (JSON).  [default: OUTPUT/report.json]")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", is_flag=True, help="List every problem, warnings included.")
def build(paths: tuple[Path, ...], out_dir: Path, formats: tuple[str, ...], base: str,
          jobs: int | None, store_dir: str, no_store: bool, no_validate: bool, no_cache: bool,
          report_file: Path | None, quiet: bool, verbose: bool) -> None:
    """Build dossiers (files or folders; default: the bundled seeds) into RDF files,
    validate them, and load them into the embedded store (OUTPUT/store).

    \b
    Examples:
      kg build
      kg build my-dossiers/ -o build/ --format ttl,trig
      kg build a.txt b.txt --base https://example.org/space/ --no-store
    Exit status: 0 ok, 1 some dossiers had errors (the rest are written), 2 usage error.
    """
    names = _formats(formats) if formats else list(DEFAULT_FORMATS)
    try:
        with _progress("building", _dossier_count(paths)) as progress:
            outcome = build_to([str(p) for p in paths] or None, out_dir, names, base, jobs,
                               cache=not no_cache, validate=not no_validate,
                               store=None if no_store else store_dir, progress=progress,
                               report=report_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base") from None
    except KgError as exc:
        _fail(exc)
    result = outcome.result
    for p in result.problems:
        if p.severity == "error" or (not quiet and (verbose or p.severity == "not-understood")):
            click.echo(str(p), err=True)
    if not quiet:
        s = result.summary()
        click.echo(f"{s['dossiers']} dossiers, {s['triples']} triples in {s['graphs']} named "
                   f"graphs ({s['quads']} quads)")
        click.echo("entities: " + ", ".join(f"{k} {v}" for k, v in s["entities"].items()))
        click.echo(f"lines not understood: {s['not_understood']}, warnings: {s['warnings']}, "
                   f"errors: {s['errors']}" + ("" if verbose or not s["warnings"]
                                               else " (-v lists warnings)"))
        click.echo("wrote " + ", ".join(str(p) for p in outcome.files))
        if outcome.store is not None:
            click.echo(f"loaded the embedded store {out_dir / store_dir}")
    report = outcome.validation
    if report is not None and (not quiet or not report.conforms):
        click.echo(f"validation: {report.summary()}"
                   + ("" if report.conforms else " (kg validate shows them)"), err=quiet)
    sys.exit(EXIT_DOSSIER_ERRORS if outcome.errors else EXIT_OK)


def _dossier_count(paths: tuple[Path, ...]) -> int:
    from .build import bundled_seeds, find_dossiers

    try:
        return len(find_dossiers(paths) if paths else bundled_seeds())
    except KgError:
        return 0  # build_to reports it


def _progress(label: str, dossiers: int):
    """A progress bar on a terminal (quiet in pipes and CI); yields its update callback.

    The build reports each dossier twice: once read and extracted, once mapped and written.
    """
    import contextlib

    if not sys.stderr.isatty() or os.environ.get("CI") or dossiers < 100:
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        with click.progressbar(length=2 * dossiers, label=label, file=sys.stderr) as b:
            yield b.update

    return bar()


@main.command()
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
def extract(file: Path) -> None:
    """Print the record kg reads from one dossier, as JSON ('-' reads stdin).

    \b
    Example:
      kg extract seeds/000_9d7a1e61a93c14a6.txt
    """
    try:
        if str(file) == "-":
            dossier = parse(decode(sys.stdin.buffer.read(), "<stdin>"), "<stdin>")
        else:
            dossier = read(file)
    except KgError as exc:
        _fail(exc)
    rec = extract_record(dossier)
    click.echo(json.dumps(rec.as_json(), indent=1, ensure_ascii=False))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-f", "--format", "fmt", default="ttl", show_default=True,
              help=f"One of: {', '.join(FORMAT_NAMES)}.")
@click.option("-o", "--output", "out", default="-", show_default=True,
              help="File to write, '-' for stdout.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI.")
def convert(paths: tuple[Path, ...], fmt: str, out: str, base: str) -> None:
    """Build dossiers and write one format to a file or stdout.

    \b
    Example:
      kg convert seeds/ -f nq | wc -l
    """
    name = _formats((fmt,))[0]
    try:
        result = build_dataset([str(p) for p in paths] or None, base=base)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base") from None
    except KgError as exc:
        _fail(exc)
    for p in result.errors:
        click.echo(str(p), err=True)
    if out == "-":
        write(result.quads, sys.stdout.buffer, name, base)
        sys.stdout.buffer.flush()
    else:
        write(result.quads, out, name, base)
    sys.exit(EXIT_DOSSIER_ERRORS if result.errors else EXIT_OK)


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "turtle", "json"]),
              default="text", show_default=True, help="Report format (turtle: sh:ValidationReport).")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--base", default=DEFAULT_BASE, show_default=True,
              help="Base IRI for the resources minted from dossiers.")
@click.option("--engine", "shacl_engine", type=click.Choice(["kg", "pyshacl"]), default="kg",
              show_default=True,
              help="kg's compiled SHACL engine, or pyshacl (the reference; much slower).")
def validate_cmd(paths: tuple[Path, ...], fmt: str, strict: bool, base: str,
                 shacl_engine: str) -> None:
    """Check dossiers or graph files against kg's SHACL shapes (default: the bundled seeds).

    \b
    PATHS are dossiers (*.txt, folders of them) or graph files kg writes (.ttl .trig .nq .nt
    .rdf .jsonld).  The report groups results by mission, with the dossier file and line.
    \b
    Examples:
      kg validate
      kg validate my-dossiers/ --strict
      kg validate out/kg.trig --format turtle > report.ttl
    Exit status: 0 conforms (warnings allowed unless --strict), 1 violations, 2 usage or
    input error.
    """
    from .validate import validate as run_validation

    try:
        report = run_validation([str(p) for p in paths] or None, base=base,
                                engine=shacl_engine)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base") from None
    except KgError as exc:
        click.echo(f"kg: error: {exc}", err=True)
        sys.exit(2)
    for problem in report.problems:
        click.echo(problem, err=True)
    click.echo(report.render(fmt), nl=False)
    sys.exit(report.exit_code(strict))


@main.command("query")
@click.argument("query", required=False)
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Bind a query parameter (repeatable); typed as the query declares.")
@click.option("--data", multiple=True, type=click.Path(path_type=Path),
              help="RDF file, `kg build` output folder, or dossiers (built in memory).")
@click.option("--store", "store_dir", type=click.Path(path_type=Path),
              help="Embedded store directory (read-only).")
@click.option("--endpoint", help="SPARQL 1.1 query endpoint URL.")
@click.option("--engine", type=click.Choice(["oxigraph", "rdflib"]), default="oxigraph",
              show_default=True, help="In-memory engine for --data.")
@click.option("-f", "--format", "fmt",
              type=click.Choice(["table", "csv", "tsv", "json", "ttl", "nt", "jsonld"]),
              help="Result format  [default: table; ttl for CONSTRUCT]")
@click.option("-o", "--output", default="-", help="File to write, '-' for stdout.")
@click.option("--list", "list_queries", is_flag=True, help="List the bundled queries.")
@click.option("--show", is_flag=True, help="Print the query with its parameters bound; don't run.")
@click.option("--allow-service", is_flag=True,
              help="Run SERVICE clauses (the engine then fetches from the servers they name).")
def query_cmd(query: str | None, params: tuple[str, ...], data: tuple[Path, ...],
              store_dir: Path | None, endpoint: str | None, engine: str, fmt: str | None,
              output: str, list_queries: bool, show: bool, allow_service: bool) -> None:
    """Run a bundled query (by NAME) or a SPARQL file over the graph.

    \b
    Examples:
      kg query --list
      kg query mission --param name="Sputnik 22"
      kg query lineage -p name="Mars 1" --format csv
      kg query wikidata -o wikidata.ttl
      kg query my.rq --data out/kg.nq
      kg query timeline --endpoint http://localhost:7878/query
    With no --data/--store/--endpoint: ./out/store, else ./out/kg.nq, else the bundled seeds.
    """
    from . import query as q
    from .export import atomic_write

    if list_queries:
        click.echo(q.listing(), nl=False)
        return
    if not query:
        raise click.UsageError("give a query NAME or FILE.rq (kg query --list shows the names)")
    try:
        loaded = q.load(query)
        given = dict(q.split_assignment(p) for p in params)
        if show:
            click.echo(q.bind(loaded, given), nl=False)
            return
        with q.open_source(list(data), store_dir, endpoint, engine) as source:
            result = q.run(loaded, source, given, allow_service)
        name = q.pick_format(result, fmt, output)
        if output == "-":
            q.write_result(result, sys.stdout.buffer, name)
            sys.stdout.buffer.flush()
        else:
            with atomic_write(Path(output)) as fh:
                q.write_result(result, fh, name)
    except KgError as exc:
        _fail(exc)


# --- store commands (load, export) are registered below this line ---

# >>> store commands (owned by the stores work: kg/store.py, kg/endpoint.py) >>>


def _progress_bar(total: int):
    """A progress bar on a terminal, nothing otherwise; yields the update callback or None."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        with click.progressbar(length=total, label="loading", file=sys.stderr) as b:
            yield b.update

    return bar()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default="out/store",
              show_default=True, help="On-disk store directory (the default target).")
@click.option("--endpoint", metavar="QUERY_URL",
              help="Load into a SPARQL 1.1 server instead: its query endpoint.")
@click.option("--update-endpoint", metavar="URL",
              help="Its SPARQL Update endpoint [default: the query endpoint].")
@click.option("--gsp-endpoint", metavar="URL",
              help="Its Graph Store Protocol endpoint (PUT per named graph); without it kg "
                   "uses SPARQL Update.")
@click.option("--method", type=click.Choice(["auto", "gsp", "update"]), default="auto",
              show_default=True, help="How to write to a server.")
@click.option("--prune", is_flag=True,
              help="Remove dossier graphs that are not in this load (their dossier is gone).")
@click.option("--no-verify", is_flag=True, help="Skip the per-graph triple count check.")
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Triples per SPARQL Update request.")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for each HTTP request.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Retries on 5xx answers and connection errors (exponential backoff).")
@click.option("--base", default=DEFAULT_BASE, show_default=True,
              help="Base IRI for the resources kg mints.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
def load(paths: tuple[Path, ...], store_dir: Path, endpoint: str | None,
         update_endpoint: str | None, gsp_endpoint: str | None, method: str, prune: bool,
         no_verify: bool, batch_size: int, timeout: float, retries: int, base: str,
         quiet: bool) -> None:
    """Load dossiers or RDF files into a triple store, replacing each dossier's graph whole.

    \b
    PATHS are dossiers (*.txt, folders of them) or RDF files (.nq .trig .ttl .nt .rdf
    .jsonld); none means the bundled seeds.  Credentials for a server come from
    KG_ENDPOINT_USER / KG_ENDPOINT_PASSWORD or a netrc file (KG_NETRC, default ~/.netrc);
    KG_ENDPOINT_AUTH=digest for digest auth.
    \b
    Examples:
      kg load                                  # seeds into ./out/store
      kg load dossiers/ --store db/ --prune
      kg load --endpoint http://localhost:7878/query \\
              --update-endpoint http://localhost:7878/update \\
              --gsp-endpoint http://localhost:7878/store
      kg load --endpoint http://localhost:8890/sparql \\
              --gsp-endpoint http://localhost:8890/sparql-graph-crud-auth
    Exit status: 0 ok, 1 a graph on the target differs from what was sent, 2 usage error.
    """
    from .endpoint import EndpointConfig, load_endpoint
    from .store import graphs_from_paths, load_store

    try:
        dossiers = [p for p in paths if p.is_dir() or p.suffix.lower() == ".txt"]
        rdf_files = [p for p in paths if p not in dossiers]
        graphs = graphs_from_paths([*_dossier_files(dossiers), *rdf_files] if paths else None,
                                   base=base)
        total = sum(len(q) for q in graphs.values())
        with _progress_bar(total) as progress:
            if endpoint:
                config = EndpointConfig.from_env(endpoint, update_endpoint, gsp_endpoint,
                                                 batch_size=batch_size, timeout=timeout,
                                                 retries=retries)
                report = load_endpoint(graphs, config, method=method, prune=prune,
                                       prune_prefix=base + "dossier/", verify=not no_verify,
                                       progress=progress)
            else:
                if update_endpoint or gsp_endpoint:
                    raise click.UsageError("--update-endpoint and --gsp-endpoint need --endpoint")
                report = load_store(graphs, store_dir, prune=prune,
                                    prune_prefix=base + "dossier/", verify=not no_verify,
                                    progress=progress)
    except KgError as exc:
        _fail(exc)
    for line in report.mismatch_lines():
        click.echo(f"kg: differs: {line}", err=True)
    if not quiet:
        click.echo(report.summary())
    sys.exit(EXIT_DOSSIER_ERRORS if report.mismatches else EXIT_OK)


def _dossier_files(paths: list[Path]) -> list[Path]:
    from .build import find_dossiers

    return find_dossiers(paths) if paths else []


@main.command("export")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default="out/store",
              show_default=True, help="On-disk store directory.")
@click.option("-f", "--format", "fmt", default="nq", show_default=True,
              help=f"One of: {', '.join(FORMAT_NAMES)}.")
@click.option("-o", "--output", "out", default="-", show_default=True,
              help="File to write, '-' for stdout.")
@click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI (prefixes).")
def export_cmd(store_dir: Path, fmt: str, out: str, base: str) -> None:
    """Write the store back out in any format kg writes.

    \b
    Example:
      kg export --store out/store --format trig -o kg.trig
    """
    from .store import export_store

    name = _formats((fmt,))[0]
    try:
        export_store(store_dir, name, None if out == "-" else out, base)
    except KgError as exc:
        _fail(exc)


# <<< store commands <<<
