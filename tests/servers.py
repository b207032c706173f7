"""Real SPARQL servers for the tests: Oxigraph server and OpenLink Virtuoso 7, plus a proxy.

The servers (``kg.bench.servers``) run on 127.0.0.1 on free ports with their data in temporary
directories, and are stopped by pid.  A missing binary skips the tests that need it, saying
which one; CI installs both (``pip install oxigraph``, ``apt-get install virtuoso-opensource``).
"""

from __future__ import annotations

import base64
import http.client
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kg.bench.servers import HOST, OxigraphServer, Server, VirtuosoServer, find_binary

__all__ = ["OxigraphServer", "Proxy", "Server", "VirtuosoServer", "oxigraph_server", "running",
           "virtuoso_server"]


def require_binary(name: str, install: str) -> str:
    """The binary's path, or skip the test saying how to install it."""
    path = find_binary(name)
    if path is None:
        if os.environ.get("CI"):  # CI installs both servers: a missing one must not pass quietly
            pytest.fail(f"`{name}` is not installed ({install}), but CI must run these tests")
        pytest.skip(f"`{name}` is not installed ({install})")
    return path


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Start a server, and stop it whatever happens."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


def oxigraph_server(workdir: Path) -> OxigraphServer:
    """An Oxigraph server (not started), or skip if `oxigraph` is not installed."""
    binary = require_binary("oxigraph", "pip install oxigraph")
    workdir.mkdir(parents=True, exist_ok=True)
    return OxigraphServer(binary, workdir)


def virtuoso_server(workdir: Path) -> VirtuosoServer:
    """A Virtuoso server (not started), or skip if `virtuoso-t` is not installed."""
    binary = require_binary("virtuoso-t", "apt-get install virtuoso-opensource")
    require_binary("isql-vt", "apt-get install virtuoso-opensource")
    workdir.mkdir(parents=True, exist_ok=True)
    return VirtuosoServer(binary, workdir)


# ---------------------------------------------------------------------------- auth proxy


class Proxy:
    """A reverse proxy to ``upstream`` that can demand basic auth and fail on purpose.

    Oxigraph server has no authentication of its own; deployments put it behind a proxy that
    does.  This is such a proxy, so kg's basic-auth path meets a real 401 challenge.  With
    ``fail_first=N`` it answers the first N requests with 503, as an overloaded gateway does.
    """

    def __init__(self, upstream: str, user: str | None = None, password: str | None = None,
                 fail_first: int = 0):
        self.upstream = urlsplit(upstream)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}" if user is not None else None
        self.rejected = 0
        self.fail_first = fail_first
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests += 1
                if proxy.requests <= proxy.fail_first:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if proxy.expected and self.headers.get("Authorization") != proxy.expected:
                    proxy.rejected += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="kg-test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                up = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("authorization", "host", "connection")}
                    up.request(self.command, self.path, body=body, headers=headers)
                    answer = up.getresponse()
                    data = answer.read()
                except OSError:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                finally:
                    up.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
