"""Independent RDF tools (Raptor, Jena, PyLD) for checking what kg writes.

The tools are Debian packages (``raptor2-utils``, ``libapache-jena-java``,
``default-jre-headless``); ``.ci/run`` installs them.  A test that needs a missing tool is
skipped on a developer machine but fails when the environment variable ``CI`` is set, so the
cross-checks can never silently vanish from CI.  See /work/shared/TOOLS-NOTES.md for the traps.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import rdflib

JAVA_DIR = Path(os.environ.get("KG_JAVA_DIR", "/usr/share/java"))

#: Jena's own jars (Debian names, without version) and the jars they need at run time.
JENA_JARS = [
    "jena-arq", "jena-base", "jena-cmds", "jena-core", "jena-iri", "jena-shacl", "jena-shex",
    "jena-dboe-base", "jena-dboe-index", "jena-dboe-storage", "jena-dboe-trans-data",
    "jena-dboe-transaction", "jena-tdb", "jena-tdb2", "jena-rdfconnection",
]
JENA_DEPS = [
    "commons-cli", "commons-codec", "commons-compress", "commons-csv", "commons-io",
    "commons-lang3", "dexx.collection", "gson", "guava", "httpclient", "httpclient-cache",
    "httpcore", "jackson-core", "jackson-databind", "jackson-annotations", "jsonld-java",
    "jakarta.json-api", "protobuf", "slf4j-api", "slf4j-simple", "thrift", "titanium-json-ld",
    "commons-logging",
]

# The shaded Xerces inside jena-core looks its message bundles up under ``xerces/impl/...``
# but Debian's jar keeps them under ``org/apache/jena/ext/xerces/impl/...``.
_BUNDLE_PREFIX = "org/apache/jena/ext/"
_BUNDLE_DIRS = ("org/apache/jena/ext/xerces/impl/msg/", "org/apache/jena/ext/xerces/impl/xpath/regex/")

INSTALL = {
    "rapper": "apt-get install raptor2-utils",
    "java": "apt-get install --no-install-recommends default-jre-headless",
    "jena": "apt-get install --no-install-recommends libapache-jena-java default-jre-headless",
}


# ---------------------------------------------------------------------------- skip or fail


def need(available: bool, tool: str) -> None:
    """Skip the calling test if ``tool`` is missing; fail instead when running in CI."""
    if available:
        return
    message = f"{tool} is not installed ({INSTALL.get(tool, 'see TOOLS-NOTES')})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}, but CI must run this check")
    pytest.skip(message)


def need_rapper() -> None:
    """Skip (or fail in CI) unless Raptor's ``rapper`` is on PATH."""
    need(shutil.which("rapper") is not None, "rapper")


def need_jena() -> None:
    """Skip (or fail in CI) unless java and the Debian Jena jars are present."""
    need(shutil.which("java") is not None, "java")
    need(all((JAVA_DIR / f"{name}.jar").is_file() for name in JENA_JARS), "jena")


# ---------------------------------------------------------------------------- Raptor


def rapper_count(path: str | Path, syntax: str) -> int:
    """Triples (Raptor counts quads as triples) in ``path``; AssertionError on a parse error."""
    proc = subprocess.run(["rapper", "-i", syntax, "-c", str(path)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"rapper -i {syntax} failed on {path}:\n{proc.stderr}")
    for line in proc.stderr.splitlines():
        if "returned" in line and "triples" in line:
            return int(line.split("returned")[1].split()[0])
    raise AssertionError(f"no count in rapper output:\n{proc.stderr}")


# ---------------------------------------------------------------------------- Jena


def _cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path(tempfile.gettempdir())))
    return root / f"kg-rdftools-{os.getuid()}"


def _bundle_dir(jena_core: Path) -> Path:
    """Extract jena-core's Xerces message bundles where the shaded classes look for them."""
    stamp = hashlib.sha256(f"{jena_core.resolve()}:{jena_core.stat().st_mtime}".encode()).hexdigest()
    target = _cache_dir() / f"xerces-{stamp[:16]}"
    if (target / ".done").is_file():
        return target
    tmp = Path(tempfile.mkdtemp(prefix="xerces-", dir=_cache_dir().parent))
    with zipfile.ZipFile(jena_core) as jar:
        for name in jar.namelist():
            if name.endswith(".properties") and name.startswith(_BUNDLE_DIRS):
                dest = tmp / name.removeprefix(_BUNDLE_PREFIX)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(jar.read(name))
    (tmp / ".done").touch()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(target)
    except OSError:  # another process got there first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@cache
def jena_classpath() -> str:
    """The class path for Jena's commands: the bundle fix first, then Jena and its deps."""
    jars = [JAVA_DIR / f"{name}.jar" for name in (*JENA_JARS, *JENA_DEPS)]
    present = [str(j) for j in jars if j.is_file()]
    return os.pathsep.join([str(_bundle_dir(JAVA_DIR / "jena-core.jar")), *present])


def jena(main_class: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run one Jena command-line class in a fresh JVM."""
    return subprocess.run(["java", "-Xshare:auto", "-cp", jena_classpath(), main_class, *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def riot_validate(paths: Sequence[str | Path]) -> tuple[bool, str]:
    """Parse every file with Jena's riot in one JVM; (all valid, stderr).

    JSON-LD files are read as JSON-LD 1.0 (Debian's Jena cannot load its 1.1 reader).
    """
    plain = [str(p) for p in paths if not str(p).endswith(".jsonld")]
    jsonld = [str(p) for p in paths if str(p).endswith(".jsonld")]
    ok, err = True, []
    for args in ([*plain] if plain else None, ["--syntax=JSONLD10", *jsonld] if jsonld else None):
        if args:
            proc = jena("riotcmd.riot", "--validate", *args)
            ok = ok and proc.returncode == 0 and "ERROR" not in proc.stderr
            err.append(proc.stderr)
    return ok, "".join(err)


def jena_shacl(shapes: str | Path | Iterable[str | Path], data: str | Path) -> rdflib.Graph:
    """Validate ``data`` against ``shapes`` (one file or several) with Jena; the report graph.

    Jena's ``shacl validate`` exits 0 whether or not the data conforms: read ``sh:conforms``.
    """
    files = [shapes] if isinstance(shapes, str | Path) else list(shapes)
    with tempfile.TemporaryDirectory(prefix="kg-jena-") as tmp:
        if len(files) == 1:
            shapes_file = Path(files[0])
        else:
            merged = rdflib.Graph()
            for f in files:
                merged.parse(f, format="turtle")
            shapes_file = Path(tmp) / "shapes.nt"
            merged.serialize(shapes_file, format="nt", encoding="utf-8")
        proc = jena("shacl.shacl", "validate", "--shapes", str(shapes_file), "--data", str(data))
    if proc.returncode != 0 or "sh:conforms" not in proc.stdout and "conforms" not in proc.stdout:
        raise AssertionError(f"jena shacl failed on {data}:\n{proc.stderr}\n{proc.stdout}")
    return rdflib.Graph().parse(data=proc.stdout, format="turtle")


_BATCH_JAVA = """
import java.io.FileOutputStream;
import org.apache.jena.graph.Graph;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;

/** Jena SHACL over many data files in one JVM: args are SHAPES then DATA OUT pairs. */
public class KgShaclBatch {
    public static void main(String[] args) throws Exception {
        Shapes shapes = Shapes.parse(RDFDataMgr.loadGraph(args[0]));
        for (int i = 1; i + 1 < args.length; i += 2) {
            Graph data = RDFDataMgr.loadGraph(args[i]);
            ValidationReport report = ShaclValidator.get().validate(shapes, data);
            try (FileOutputStream out = new FileOutputStream(args[i + 1])) {
                RDFDataMgr.write(out, report.getModel(), Lang.TURTLE);
            }
        }
    }
}
"""


def jena_shacl_many(shapes: str | Path | Iterable[str | Path],
                    datas: Sequence[str | Path]) -> list[rdflib.Graph]:
    """Jena's SHACL validator (the engine behind ``shacl validate``) on many data files in one
    JVM, one report graph per file.  Uses Java's single-file source launch (java Foo.java)."""
    files = [shapes] if isinstance(shapes, str | Path) else list(shapes)
    with tempfile.TemporaryDirectory(prefix="kg-jena-") as tmp:
        merged = rdflib.Graph()
        for f in files:
            merged.parse(f, format="turtle")
        shapes_file = Path(tmp) / "shapes.nt"
        merged.serialize(shapes_file, format="nt", encoding="utf-8")
        source = Path(tmp) / "KgShaclBatch.java"
        source.write_text(_BATCH_JAVA, "utf-8")
        outs = [Path(tmp) / f"report-{i}.ttl" for i in range(len(datas))]
        args = [str(x) for pair in zip(datas, outs, strict=True) for x in pair]
        proc = subprocess.run(["java", "-cp", jena_classpath(), str(source), str(shapes_file),
                               *args], capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"Jena SHACL batch failed:\n{proc.stderr}")
        return [rdflib.Graph().parse(o, format="turtle") for o in outs]


# ---------------------------------------------------------------------------- PyLD


def local_document_loader(root: str | Path | None = None) -> Callable[..., dict[str, Any]]:
    """A PyLD document loader that serves local files only and refuses every remote context."""
    base = Path(root).resolve() if root else None

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        from pyld.jsonld import JsonLdError

        if not url.startswith("file:") and not (base and not url.split(":", 1)[0].isalpha()):
            raise JsonLdError(f"remote context refused: {url}", "jsonld.LoadDocumentError",
                              code="loading document failed")
        path = Path(url.removeprefix("file://")) if url.startswith("file:") else base / url
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": json.loads(Path(path).read_text("utf-8"))}

    return load
