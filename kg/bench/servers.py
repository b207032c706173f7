"""SPARQL servers on 127.0.0.1 for the load benchmark and the tests: Oxigraph and Virtuoso 7.

Each runs on a free port with its data in a directory of its own, and is stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from kg.endpoint import EndpointConfig

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def find_binary(name: str) -> str | None:
    """A binary on PATH or next to this Python (a venv's ``bin``)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with {process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as err:
            if err.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {START_TIMEOUT} s")


class Server:
    """A server process on 127.0.0.1 with its data in ``workdir``; restartable on the same port."""

    name = "server"

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{self.name}.log"

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def ready_url(self) -> str:
        """A URL that answers once the server is up."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the server and wait until it answers."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        _wait_http(self.ready_url(), self.process, self.log)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None

    def config(self, **options: object) -> EndpointConfig:
        """A kg endpoint config for this server (no credentials)."""
        raise NotImplementedError


class OxigraphServer(Server):
    """``oxigraph serve``: SPARQL at /query and /update, Graph Store Protocol at /store."""

    name = "oxigraph"

    def command(self) -> list[str]:
        return [self.binary, "serve", "--location", str(self.workdir / "data"),
                "--bind", f"{HOST}:{self.port}"]

    def ready_url(self) -> str:
        return f"{self.base}/query?query=ASK%7B%7D"

    def config(self, **options: object) -> EndpointConfig:
        return EndpointConfig(f"{self.base}/query", f"{self.base}/update", f"{self.base}/store",
                              **options)  # type: ignore[arg-type]


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
DirsAllowed = ., {dir}

[HTTPServer]
ServerPort = 127.0.0.1:{port}
ServerRoot = {dir}
ServerThreads = 4
MaxClientConnections = 4

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""

#: Virtuoso's dba password for a new database (the Debian preseed only sets the system one).
VIRTUOSO_DBA = ("dba", "dba")


class VirtuosoServer(Server):
    """``virtuoso-t``: SPARQL at /sparql (query and update), GSP at /sparql-graph-crud.

    ``/sparql-auth`` and ``/sparql-graph-crud-auth`` take digest auth as a SQL user (dba); the
    anonymous endpoints write only once ``SPARQL_UPDATE`` is granted to the ``SPARQL`` user.
    """

    name = "virtuoso"

    def __init__(self, binary: str, workdir: Path, grant_anonymous_update: bool = True):
        super().__init__(binary, workdir)
        self.sql_port = free_port()
        self.ini = workdir / "virtuoso.ini"
        self.ini.write_text(VIRTUOSO_INI.format(dir=workdir, port=self.port,
                                                sql_port=self.sql_port))
        self.grant = grant_anonymous_update

    def command(self) -> list[str]:
        return [self.binary, "+foreground", "+configfile", str(self.ini)]

    def ready_url(self) -> str:
        return f"{self.base}/sparql?query=ASK%7B%7D"

    def start(self) -> None:
        super().start()
        if self.grant:  # kept in the database: a restart finds it there already
            self.isql('GRANT SPARQL_UPDATE TO "SPARQL";', tolerate="already have role")

    def isql(self, sql: str, tolerate: str | None = None) -> str:
        """Run SQL as dba through ``isql-vt`` (an error containing ``tolerate`` is fine)."""
        isql = find_binary("isql-vt")
        if isql is None:
            raise RuntimeError("isql-vt is not installed (apt-get install virtuoso-opensource)")
        done = subprocess.run(
            [isql, f"{HOST}:{self.sql_port}", *VIRTUOSO_DBA, f"exec={sql}"],
            capture_output=True, text=True, timeout=60, check=False)
        output = done.stdout + done.stderr
        if tolerate and tolerate in output:
            return output
        if done.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql failed: {done.stdout}{done.stderr}")
        return done.stdout

    def config(self, **options: object) -> EndpointConfig:
        return EndpointConfig(f"{self.base}/sparql", f"{self.base}/sparql",
                              f"{self.base}/sparql-graph-crud", **options)  # type: ignore[arg-type]

    def auth_config(self, **options: object) -> EndpointConfig:
        """The digest-authenticated endpoints, as dba."""
        user, password = VIRTUOSO_DBA
        return EndpointConfig(f"{self.base}/sparql", f"{self.base}/sparql-auth",
                              f"{self.base}/sparql-graph-crud-auth", user=user,
                              password=password, auth="digest", **options)  # type: ignore[arg-type]
