"""Shared fixtures: a real HTTP server on 127.0.0.1 and settings that point at temporary data dirs."""

from __future__ import annotations

import os

# Unit tests must never start a Prefect server by accident; the flow tests use the test harness.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dateline.flows.config import FetchSettings, ProcessSettings, Settings

FIXTURES = Path(__file__).parent / "fixtures"
HTTP_ROOT = FIXTURES / "http"


@dataclass
class ServerState:
    """What the fixture server saw, and the switches tests flip."""

    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    changed: bool = False  # /changing serves its second version
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def paths(self) -> list[str]:
        with self.lock:
            return [p for _, p, _ in self.requests]


class FixtureHandler(SimpleHTTPRequestHandler):
    """Static files from tests/fixtures/http ({{base}} filled in) plus a few misbehaving routes.

    /status/<code>        answers with that status
    /flaky/<page>         500 on the first request, then articles/<page>.html
    /retry-after/<secs>   429 with Retry-After on the first request, then a page
    /redirect/<n>         n redirects, then articles/cbc.html;   /loop: redirects to itself
    /hang                 accepts and never answers (until the server stops)
    /big                  a 3 MB HTML body;   /pdf: a PDF
    """

    state: ServerState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean

    def do_GET(self) -> None:
        with self.state.lock:
            self.state.requests.append((time.monotonic(), self.path, dict(self.headers.items())))
        parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
        route = parts[0] if parts else ""
        handler = getattr(self, f"_route_{route.replace('-', '_')}", None)
        if handler is not None:
            handler(parts[1:])
            return
        self._static(self.path.split("?", 1)[0])

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _static(self, path: str) -> None:
        file = (HTTP_ROOT / path.lstrip("/")).resolve()
        if not file.is_file() or HTTP_ROOT.resolve() not in file.parents:
            self._send(404, b"<html><body><h1>Not found</h1></body></html>")
            return
        body = file.read_bytes()
        base = f"http://{self.headers['Host']}"
        if file.suffix in {".xml", ".txt"}:
            body = body.replace(b"{{base}}", base.encode())
        ctype = {".xml": "application/xml", ".txt": "text/plain"}.get(file.suffix, "text/html; charset=utf-8")
        self._send_validated(body, ctype)

    def _send_validated(self, body: bytes, ctype: str) -> None:
        """200 with an ETag and Last-Modified, or 304 when the request's If-None-Match matches."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, ctype, {"ETag": etag, "Last-Modified": "Wed, 04 Jan 2023 10:00:00 GMT"})

    def _route_changing(self, args: list[str]) -> None:
        """The seed article, with a correction appended once the test sets ``state.changed``."""
        body = (HTTP_ROOT / "articles" / "seed.html").read_bytes()
        if self.state.changed:
            body = body.replace(b"Now is not the time to be cowardly.",
                                b"Now is not the time to be cowardly. (Corrected: the group has 300 members.)")
        self._send_validated(body, "text/html; charset=utf-8")

    def _route_wire(self, args: list[str]) -> None:
        """The seed's wire story as another site carries it: its own URL, site name and a promo line."""
        site = args[0] if args else "site"
        body = (HTTP_ROOT / "articles" / "seed.html").read_text()
        body = body.replace("https://www.jpost.com/international/article-726552", f"https://{site}.example/story")
        body = body.replace("The Jerusalem Post | JPost.com", f"The {site.title()} Times")
        body = body.replace("<p>Putin has for months", f"<p>Follow The {site.title()} Times for more.</p><p>Putin has"
                            " for months")
        self._send_validated(body.encode(), "text/html; charset=utf-8")

    def _route_status(self, args: list[str]) -> None:
        code = int(args[0]) if args and args[0].isdigit() else 400
        self._send(code, f"<html><body><h1>HTTP {code}</h1></body></html>".encode())

    def _route_flaky(self, args: list[str]) -> None:
        if self.state.count(self.path) == 1:
            self._send(500, b"<html><body>try again</body></html>")
        else:
            self._static(f"/articles/{args[0]}.html")

    def _route_retry_after(self, args: list[str]) -> None:
        if self.state.count(self.path) == 1:
            self._send(429, b"slow down", "text/plain", {"Retry-After": args[0]})
        else:
            self._static("/articles/seed.html")

    def _route_redirect(self, args: list[str]) -> None:
        n = int(args[0]) if args and args[0].isdigit() else 0
        target = f"/redirect/{n - 1}" if n > 0 else "/articles/cbc.html"
        self._send(302, b"", headers={"Location": target})

    def _route_loop(self, args: list[str]) -> None:
        self._send(302, b"", headers={"Location": "/loop"})

    def _route_hang(self, args: list[str]) -> None:
        self.state.release.wait(timeout=60)  # released when the server shuts down

    def _route_big(self, args: list[str]) -> None:
        self._send(200, b"<html><body>" + b"<p>news</p>" * 300_000 + b"</body></html>")

    def _route_pdf(self, args: list[str]) -> None:
        self._send(200, b"%PDF-1.4\n" + b"0" * 2000, "application/pdf")


@dataclass
class Server:
    url: str
    state: ServerState


@pytest.fixture(scope="session")
def http_server() -> Iterator[Server]:
    """A real HTTP server on 127.0.0.1 (port 0: bound and listening when the constructor returns)."""
    state = ServerState()
    handler = type("BoundHandler", (FixtureHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(HTTP_ROOT)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{server.server_port}", state)
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetch_settings() -> FetchSettings:
    """Fetch settings for the local server: loopback allowed, no delays, short timeouts."""
    return FetchSettings(allow_private_networks=True, per_host_delay=0.0, backoff=0.01, retries=2,
                         read_timeout=0.5, connect_timeout=1.0, max_bytes=1_000_000, concurrency=4)


@pytest.fixture
def settings(tmp_path: Path, fetch_settings: FetchSettings) -> Settings:
    """Settings with a fresh data dir; extraction in-process (worker processes are tested separately)."""
    return Settings(data_dir=tmp_path / "data", fetch=fetch_settings, process=ProcessSettings(workers=1))


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the session's flow runs (about 10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
