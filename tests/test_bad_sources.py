"""Bad sources, hostile servers and network security (issue 6).

Each case ends as a quarantine row (a Reject) with a specific reason; nothing raises, waits or
grows without bound. Real servers on 127.0.0.1 (and one on 127.0.0.2) misbehave on purpose; the
last tests run the real `dateline run` and read its Parquet back with DuckDB. Cases already
covered elsewhere are not repeated here: redirect loops, 429 with Retry-After, robots.txt
disallow and a server that never answers are in tests/test_fetch.py, plain feed and sitemap
parsing in tests/test_sources.py.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from conftest import HTTP_ROOT, FixtureHandler, Server, ServerState
from dateline.flows.acquire import discover_links, fetch_web
from dateline.flows.archive import WarcArchive, read_raw
from dateline.flows.config import FetchSettings, Sources, load_config
from dateline.flows.fetch import Fetched, Fetcher, is_public_address, resolve_host
from dateline.flows.server import LocalPrefectServer
from dateline.transforms.schema import Reject
from dateline.transforms.sources import XML_OPTIONS, read_feed

BOMB_BYTES = 1 << 30  # what the gzip bomb inflates to


# --- documents the server hands out as /doc/<name> ({{base}} becomes the server's address) -------

def _rss(*links: str) -> bytes:
    items = "".join(f"<item><title>Story</title><link>{link}</link></item>" for link in links)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def _billion_laughs(levels: int = 10) -> bytes:
    """10 entities, each ten of the one before: 10^9 'lol's if a parser expanded it (about 3 GB)."""
    decls = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [{decls}]><rss><channel><item>'
            f"<link>{{{{base}}}}/articles/&lol{levels - 1};</link></item></channel></rss>").encode()


def _quadratic_blowup() -> bytes:
    """One 100 kB entity referenced 20,000 times: 2 GB if expanded, from a 160 kB document."""
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * 100_000}">]><rss><channel><item>'
            f'<title>{"&a;" * 20_000}</title><link>{{{{base}}}}/articles/seed.html</link></item></channel></rss>'
            ).encode()


URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
INDEX = '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</sitemapindex>'


def _urls(*locs: str) -> bytes:
    return URLSET.format("".join(f"<url><loc>{loc}</loc></url>" for loc in locs)).encode()


def _index(*locs: str) -> bytes:
    return INDEX.format("".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)).encode()


NON_HTTP_LOCS = ("file:///etc/passwd", "ftp://127.0.0.1/pub/x.html", "gopher://127.0.0.1:70/1",
                 "data:text/html,%3Ch1%3Ehi%3C/h1%3E", "javascript:alert(1)", "mailto:desk@example.org")
JUNK = bytes(range(256)) * 8

DOCS: dict[str, tuple[str, bytes]] = {
    # malformed feeds and sitemaps
    "cut-in-first-item.xml": ("application/rss+xml",
                              b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><ti'),
    "truncated.xml": ("application/rss+xml", _rss("{{base}}/articles/seed.html")[:-len("</channel></rss>")]
                      + b"<item><title>Cut</title><link>{{base}}/articles/cb"),
    "page.html": ("text/html", (HTTP_ROOT / "not-an-article.html").read_bytes()),
    "urlset-as-feed.xml": ("application/xml", _urls("{{base}}/articles/seed.html")),
    "rss-as-sitemap.xml": ("application/xml", _rss("{{base}}/articles/seed.html")),
    "junk.bin": ("application/octet-stream", JUNK),
    "empty.xml": ("application/xml", b""),
    "not-a-json-feed.json": ("application/feed+json", b'{"version": "https://jsonfeed.org/version/1.1", "items": 7}'),
    "deep.xml": ("application/xml", URLSET.format("<url>" * 10_000).encode()),
    "sloppy.xml": ("application/rss+xml", _rss("{{base}}/articles/seed.html?a=1&b=2",
                                               "<![CDATA[{{base}}/articles/cbc.html?x=1&y=2]]>")
                   .replace(b"<title>Story</title>", b"<title>Caf&eacute;&nbsp;news &amp; more</title>")),
    "non-http-locs.xml": ("application/xml", _urls(*NON_HTTP_LOCS, "{{base}}/articles/seed.html")),
    # entity bombs and external entities
    "billion-laughs.xml": ("application/rss+xml", _billion_laughs()),
    "quadratic.xml": ("application/rss+xml", _quadratic_blowup()),
    "xxe-file.xml": ("application/rss+xml", b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM '
                     b'"file:///etc/passwd">]><rss><channel><item><title>&xxe;</title>'
                     b"<link>{{base}}/articles/&xxe;</link></item></channel></rss>"),
    "xxe-http.xml": ("application/rss+xml", b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM '
                     b'"{{base}}/xxe-target/entity">]><rss><channel><item>'
                     b"<link>{{base}}/articles/&xxe;</link></item></channel></rss>"),
    "xxe-parameter.xml": ("application/rss+xml", b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % pe SYSTEM '
                          b'"{{base}}/xxe-target/parameter"> %pe;]><rss><channel><item>'
                          b"<link>{{base}}/articles/seed.html</link></item></channel></rss>"),
    "billion-laughs-sitemap.xml": ("application/xml", _billion_laughs()
                                   .replace(b"<rss><channel><item>", b"<urlset><url>").replace(b"link>", b"loc>")
                                   .replace(b"</item></channel></rss>", b"</url></urlset>")
                                   .replace(b"DOCTYPE rss", b"DOCTYPE urlset")),
    "external-dtd.xml": ("application/rss+xml", b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{{base}}/xxe-target/dtd">'
                         + _rss("{{base}}/articles/seed.html").split(b"?>", 1)[1]),
    # sitemap index cycles
    "self-index.xml": ("application/xml", _index("{{base}}/doc/self-index.xml", "{{base}}/doc/pages-a.xml")),
    "index-a.xml": ("application/xml", _index("{{base}}/doc/index-b.xml", "{{base}}/doc/pages-a.xml")),
    "index-b.xml": ("application/xml", _index("{{base}}/doc/index-a.xml", "{{base}}/doc/pages-b.xml")),
    "pages-a.xml": ("application/xml", _urls("{{base}}/articles/seed.html")),
    "pages-b.xml": ("application/xml", _urls("{{base}}/articles/cbc.html")),
}


def _gzip_bomb() -> bytes:
    """A single gzip member of an HTML start and then 1 GiB of zeros: about 1 MB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [packer.compress(b"<html><body><p>")]
    zeros = bytes(1 << 20)
    out.extend(packer.compress(zeros) for _ in range(BOMB_BYTES >> 20))
    out.append(packer.flush())
    return b"".join(out)


class BadHandler(FixtureHandler):
    """The fixture server's routes plus documents and misbehaviour of this module.

    /doc/<name>        a DOCS entry;   /feed-items/<n>: an RSS feed of n items
    /drip              headers, then a few bytes every 50 ms, never finishing
    /drip-headers      a status line, then one header byte every 50 ms, never finishing
    /gzip-bomb         Content-Encoding gzip inflating to 1 GiB;   /gzip-junk: gzip that is not
    /brotli            Content-Encoding br (never asked for)
    /to?u=<url>        302 to that URL
    """

    robots: bytes | None = None  # served as /robots.txt instead of the fixture's
    cache: dict[str, bytes] = {}
    cache_lock = threading.Lock()

    def _static(self, path: str) -> None:
        if path == "/robots.txt" and self.robots is not None:
            self._send(200, self.robots, "text/plain")
        else:
            super()._static(path)

    def _base(self) -> bytes:
        return f"http://{self.headers['Host']}".encode()

    def _route_doc(self, args: list[str]) -> None:
        if not args or args[0] not in DOCS:
            self._send(404, b"no such document")
            return
        ctype, body = DOCS[args[0]]
        self._send(200, body.replace(b"{{base}}", self._base()), ctype)

    def _route_feed_items(self, args: list[str]) -> None:
        n = int(args[0])
        key = f"feed-{n}-{self.headers['Host']}"
        with self.cache_lock:
            if key not in self.cache:
                base = self._base().decode()
                self.cache[key] = _rss(*(f"{base}/a/{i}" for i in range(n)))
            body = self.cache[key]
        self._send(200, body, "application/rss+xml")

    def _route_drip(self, args: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self._dribble(b"<html><body>", b"<p>news</p>")

    def _route_drip_headers(self, args: list[str]) -> None:
        self._dribble(b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a")

    def _dribble(self, first: bytes, more: bytes) -> None:
        """Write ``first`` and then ``more`` every 50 ms until the client leaves (or 30 s pass)."""
        deadline = time.monotonic() + 30
        try:
            self.wfile.write(first)
            while time.monotonic() < deadline and not self.state.release.wait(0.05):
                self.wfile.write(more)
                self.wfile.flush()
        except OSError:
            return
        self.close_connection = True

    def _route_gzip_bomb(self, args: list[str]) -> None:
        with self.cache_lock:
            if "bomb" not in self.cache:
                self.cache["bomb"] = _gzip_bomb()
            bomb = self.cache["bomb"]
        self._encoded(bomb, "gzip")

    def _route_gzip_junk(self, args: list[str]) -> None:
        self._encoded(b"<html><body>this was never gzip</body></html>" * 20, "gzip")

    def _route_brotli(self, args: list[str]) -> None:
        self._encoded(b"\x1b\x03\x00\xf8\xa5\x01\x02" * 50, "br")

    def _encoded(self, body: bytes, encoding: str) -> None:
        try:
            self._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": encoding})
        except OSError:
            self.close_connection = True  # the client stopped reading: that is the point

    def _route_to(self, args: list[str]) -> None:
        target = parse_qs(urlsplit(self.path).query).get("u", ["/"])[0]
        self._send(302, b"", headers={"Location": target})


def gzip_bomb_ready() -> None:
    """Build the bomb before a measurement, so building it is not measured."""
    with BadHandler.cache_lock:
        if "bomb" not in BadHandler.cache:
            BadHandler.cache["bomb"] = _gzip_bomb()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients here hang up on purpose (timeouts, size limits): no traceback on the test's output


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """Start servers of BadHandler (on 127.0.0.1 unless told otherwise); all stop at the module's end."""
    started: list[tuple[QuietServer, ServerState]] = []

    def start(host: str = "127.0.0.1", robots: bytes | None = None) -> Server:
        state = ServerState()
        handler = type("Handler", (BadHandler,), {"state": state, "robots": robots})
        server = QuietServer((host, 0), partial(handler, directory=str(HTTP_ROOT)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append((server, state))
        return Server(f"http://{host}:{server.server_port}", state)

    yield start
    for server, state in started:
        state.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def bad(serve) -> Server:
    return serve()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[WarcArchive]:
    with WarcArchive(tmp_path / "raw", "test-run", datetime(2026, 1, 2, tzinfo=UTC)) as a:
        yield a


def discover(settings: FetchSettings, archive: WarcArchive, **sources: list[str]) -> tuple[list[str], list[Reject]]:
    """The page URLs and the rejects that discovery gives for these sources."""
    with Fetcher(settings, archive, "test-run") as fetcher:
        triples, rejects, _ = discover_links(fetcher, Sources(**{k: tuple(v) for k, v in sources.items()}),
                                             settings.max_urls_per_source)
    return [url for url, _, _ in triples], rejects


def fetch_one(settings: FetchSettings, archive: WarcArchive, url: str, **kw: Any) -> tuple[Any, Fetcher]:
    with Fetcher(settings, archive, "test-run", **kw) as fetcher:
        return fetcher.fetch(url, source="test"), fetcher


def requests_to(server: Server, prefix: str) -> int:
    return sum(1 for p in server.state.paths() if p.startswith(prefix))


def unused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeakRss:
    """Peak resident memory of this process during a block, above where it started (Linux: the
    kernel's high-water mark is reset first, through /proc/self/clear_refs)."""

    def __enter__(self) -> PeakRss:
        Path("/proc/self/clear_refs").write_text("5")
        self.start = self._kb("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth_mb = (self._kb("VmHWM") - self.start) / 1000

    @staticmethod
    def _kb(field: str) -> int:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
        return int(line.split()[1])


# --- 1. malformed feeds and sitemaps ---------------------------------------------------------

MALFORMED = [
    ("feeds", "page.html", "not a feed: root element <html>"),
    ("feeds", "urlset-as-feed.xml", "not a feed: root element <urlset>"),
    ("sitemaps", "rss-as-sitemap.xml", "not a sitemap: root element <rss>"),
    ("feeds", "junk.bin", "not XML: line 1, column 1: Start tag expected"),
    ("sitemaps", "junk.bin", "not a sitemap: neither XML nor UTF-8 text"),
    ("feeds", "empty.xml", "empty document"),
    ("feeds", "not-a-json-feed.json", "not a JSON feed: no items list"),
    ("feeds", "cut-in-first-item.xml", "Couldn't find end of Start Tag ti); links before the error, used: 0"),
    ("sitemaps", "deep.xml", "Excessive depth in document: 256"),  # libxml2's limit without huge_tree
]


@pytest.mark.parametrize(("kind", "doc", "detail"), MALFORMED, ids=[f"{k}-{d}" for k, d, _ in MALFORMED])
def test_malformed_source_is_quarantined_unparseable_with_its_bytes_archived(bad, fetch_settings, archive, tmp_path,
                                                                             kind, doc, detail):
    links, rejects = discover(fetch_settings, archive, **{kind: [f"{bad.url}/doc/{doc}"]})
    assert links == []
    assert [(r.stage, r.reason, r.url) for r in rejects] == [("discover", "source_unparseable", f"{bad.url}/doc/{doc}")]
    assert detail in rejects[0].detail
    served = DOCS[doc][1].replace(b"{{base}}", bad.url.encode())
    assert read_raw(tmp_path / "raw", rejects[0].raw_ref).payload == served


def test_truncated_feed_gives_the_links_before_the_cut_and_is_flagged(bad, fetch_settings, archive):
    links, rejects = discover(fetch_settings, archive, feeds=[f"{bad.url}/doc/truncated.xml"])
    assert links == [f"{bad.url}/articles/seed.html"]  # not the half URL ".../articles/cb" the cut left
    assert [(r.stage, r.reason) for r in rejects] == [("discover", "source_unparseable")]
    assert "Premature end of data" in rejects[0].detail and rejects[0].detail.endswith("used: 1")


def test_bare_ampersands_and_html_entities_do_not_break_a_feed(bad, fetch_settings, archive):
    links, rejects = discover(fetch_settings, archive, feeds=[f"{bad.url}/doc/sloppy.xml"])
    assert links == [f"{bad.url}/articles/seed.html?a=1&b=2", f"{bad.url}/articles/cbc.html?x=1&y=2"]
    assert rejects == []


def test_sitemap_locs_that_are_not_http_are_skipped_and_quarantined(bad, fetch_settings, archive):
    links, rejects = discover(fetch_settings, archive, sitemaps=[f"{bad.url}/doc/non-http-locs.xml"])
    assert links == [f"{bad.url}/articles/seed.html"]
    assert [(r.stage, r.reason) for r in rejects] == [("discover", "invalid_url")]
    assert rejects[0].detail.startswith(f"{len(NON_HTTP_LOCS)} URLs in the sitemap are not http(s) URLs")
    assert "'file:///etc/passwd'" in rejects[0].detail


@pytest.mark.parametrize("filler", [b"&" * 5_000_000, b"<![CDATA[" * 1_000_000, b"<![CDATA[&]]>" * 500_000],
                         ids=["ampersands", "unclosed-cdata", "cdata"])
def test_hostile_markup_is_read_in_linear_time(filler):
    """The '&' repair scans the document once, whatever it holds (no regular-expression blowup)."""
    doc = b"<rss><channel><item><link>https://news.example/a</link></item>" + filler + b"</channel></rss>"
    started = time.perf_counter()
    content = read_feed(doc, "https://news.example/", 10)
    assert content.links[0].url == "https://news.example/a" and time.perf_counter() - started < 3


def test_url_list_lines_that_are_not_http_urls_are_quarantined(fetch_settings, archive, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("# a comment\nhttps://news.example/a\nftp://news.example/b\nnot a url\n\n/relative/c\n")
    links, rejects = discover(fetch_settings, archive, urls=[str(listing)])
    assert links == ["https://news.example/a"]
    assert [(r.stage, r.reason, r.url) for r in rejects] == [("discover", "invalid_url", str(listing))]
    assert rejects[0].detail == ("3 URLs in the URL list are not http(s) URLs and were skipped, e.g. "
                                 "'ftp://news.example/b', 'not a url', '/relative/c'")


# --- 2. entity bombs and external entities ----------------------------------------------------

@pytest.mark.parametrize(("kind", "doc"), [
    ("feeds", "billion-laughs.xml"), ("feeds", "quadratic.xml"), ("feeds", "xxe-file.xml"),
    ("feeds", "xxe-http.xml"), ("feeds", "xxe-parameter.xml"), ("sitemaps", "billion-laughs-sitemap.xml"),
], ids=lambda v: v.removesuffix(".xml"))
def test_entity_declarations_are_refused_quickly_and_nothing_is_resolved(bad, fetch_settings, archive, kind, doc):
    before = requests_to(bad, "/xxe-target")
    started = time.perf_counter()
    links, rejects = discover(fetch_settings, archive, **{kind: [f"{bad.url}/doc/{doc}"]})
    elapsed = time.perf_counter() - started
    assert links == []
    assert [(r.stage, r.reason) for r in rejects] == [("discover", "source_unparseable")]
    assert "XML entities" in rejects[0].detail and "refused" in rejects[0].detail
    assert elapsed < 2.0  # the request included; the refusal itself takes well under a millisecond
    assert requests_to(bad, "/xxe-target") == before  # no external entity was fetched
    assert "root:" not in rejects[0].detail  # nothing of /etc/passwd leaked


def test_external_dtd_is_never_fetched_and_the_feed_is_read(bad, fetch_settings, archive):
    before = requests_to(bad, "/xxe-target")
    links, rejects = discover(fetch_settings, archive, feeds=[f"{bad.url}/doc/external-dtd.xml"])
    assert links == [f"{bad.url}/articles/seed.html"] and rejects == []
    assert requests_to(bad, "/xxe-target") == before


@pytest.mark.parametrize("doc", ["billion-laughs.xml", "quadratic.xml"], ids=lambda v: v.removesuffix(".xml"))
def test_parser_options_alone_never_expand_a_bomb(doc):
    """Why lxml (no defusedxml) is enough: with XML_OPTIONS a bomb is either stopped by libxml2's
    amplification limit or parsed to a tree that keeps the reference unexpanded; either way in
    milliseconds and a few MB. Refusing entity declarations (read_feed) comes on top of that."""
    from lxml import etree

    payload = DOCS[doc][1].replace(b"{{base}}", b"https://news.example")
    with PeakRss() as rss:
        started = time.perf_counter()
        try:
            size = len(etree.tostring(etree.fromstring(payload, etree.XMLParser(**XML_OPTIONS))))
        except etree.XMLSyntaxError as exc:
            assert "amplification" in str(exc)
            size = 0
        elapsed = time.perf_counter() - started
    print(f"\n{doc} through lxml with XML_OPTIONS: {elapsed * 1000:.1f} ms, peak RSS +{rss.growth_mb:.1f} MB")
    assert size < 2 * len(payload) and elapsed < 0.5 and rss.growth_mb < 20
    with pytest.raises(ValueError, match="XML entities"):
        read_feed(payload, "https://news.example/", 10)


# --- 3. sitemap index cycles --------------------------------------------------------------------

@pytest.mark.parametrize(("root", "wanted"), [
    ("self-index.xml", {"/doc/self-index.xml": 1, "/doc/pages-a.xml": 1}),
    ("self-index.xml?utm_source=newsletter", {"/doc/self-index.xml": 1, "/doc/pages-a.xml": 1}),
    ("index-a.xml", {"/doc/index-a.xml": 1, "/doc/index-b.xml": 1, "/doc/pages-a.xml": 1, "/doc/pages-b.xml": 1}),
], ids=["names-itself", "names-itself-tracked-root", "two-name-each-other"])
def test_sitemap_index_cycles_end_with_each_document_read_once(bad, fetch_settings, archive, root, wanted):
    before = len(bad.state.paths())
    links, rejects = discover(fetch_settings, archive, sitemaps=[f"{bad.url}/doc/{root}"])
    seen = [p.split("?", 1)[0] for p in bad.state.paths()[before:] if p.startswith("/doc/")]
    assert {p: seen.count(p) for p in seen} == wanted
    pages = {"/doc/pages-a.xml": f"{bad.url}/articles/seed.html", "/doc/pages-b.xml": f"{bad.url}/articles/cbc.html"}
    assert sorted(links) == sorted(pages[p] for p in wanted if p in pages)
    assert rejects == []


# --- 4. a feed with 100,000 items -------------------------------------------------------------

def test_feed_with_100000_items_gives_exactly_max_urls_per_source_links(bad, fetch_settings, archive):
    settings = replace(fetch_settings, max_bytes=FetchSettings().max_bytes)  # the ~6 MB feed fits
    limit = settings.max_urls_per_source
    assert limit == 10_000  # the shipped default
    url = f"{bad.url}/feed-items/100000"
    with Fetcher(settings, archive, "warm-up") as fetcher:
        fetcher.fetch(url, source="warm-up", purpose="feed")  # the server builds the feed once, unmeasured
    with PeakRss() as rss:
        started = time.perf_counter()
        links, rejects = discover(settings, archive, feeds=[url])
        elapsed = time.perf_counter() - started
    print(f"\n100,000-item feed: {limit} links in {elapsed:.2f} s, peak RSS +{rss.growth_mb:.0f} MB")
    assert rejects == []
    assert links == [f"{bad.url}/a/{i}" for i in range(limit)]  # the first `limit` items, in order
    assert elapsed < 15 and rss.growth_mb < 150


def test_max_urls_per_source_is_read_from_dateline_toml(bad, fetch_settings, archive, tmp_path):
    config = tmp_path / "dateline.toml"
    config.write_text(f'feeds = ["{bad.url}/feed-items/100000"]\n[fetch]\nmax_urls_per_source = 25\n')
    settings, sources = load_config(config)
    fetch = replace(settings.fetch, allow_private_networks=True, per_host_delay=0.0, retries=0)
    acquired = fetch_web(sources, fetch, archive, "test-run")
    assert acquired.discovered == 25
    assert len(acquired.rejects) == 25 and {r.reason for r in acquired.rejects} == {"http_error"}  # /a/<n>: 404


# --- 5. servers that refuse, do not exist, stall or dribble; crawl-delay -----------------------

def test_connection_refused_gives_up_quickly(fetch_settings, archive):
    url = f"http://127.0.0.1:{unused_port()}/story"
    started = time.perf_counter()
    outcome, fetcher = fetch_one(fetch_settings, archive, url)
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert "robots.txt unreachable (ConnectError" in outcome.detail and outcome.raw_ref is None
    assert time.perf_counter() - started < 2 and fetcher.raw_rows == []


def test_connection_refused_without_robots_retries_then_gives_up(fetch_settings, archive):
    outcome, _ = fetch_one(replace(fetch_settings, obey_robots=False), archive, f"http://127.0.0.1:{unused_port()}/")
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert outcome.detail.startswith("ConnectError") and outcome.detail.endswith("(after 3 attempts)")


@pytest.mark.parametrize("allow_private", [True, False], ids=["checked-when-connecting", "checked-before"])
def test_dns_failure_is_unresolvable_host_without_retries(fetch_settings, archive, allow_private):
    settings = replace(fetch_settings, allow_private_networks=allow_private, backoff=5.0)
    started = time.perf_counter()
    outcome, _ = fetch_one(settings, archive, "http://dateline-no-such-host.invalid/story")
    assert isinstance(outcome, Reject) and outcome.reason == "unresolvable_host"
    assert "cannot resolve dateline-no-such-host.invalid" in outcome.detail
    assert time.perf_counter() - started < 5  # a retry would have waited the 5 s backoff


@pytest.mark.parametrize(("path", "archived"), [("/drip", True), ("/drip-headers", False)],
                         ids=["body", "headers"])
def test_slow_drip_is_cut_at_the_total_timeout(bad, fetch_settings, archive, tmp_path, path, archived):
    # a byte every 50 ms never trips the 0.5 s read timeout: only the 1 s total limit ends the request
    settings = replace(fetch_settings, read_timeout=0.5, total_timeout=1.0)
    before = requests_to(bad, path)
    started = time.perf_counter()
    outcome, fetcher = fetch_one(settings, archive, f"{bad.url}{path}")
    elapsed = time.perf_counter() - started
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert "no complete response within 1s (fetch.total_timeout)" in outcome.detail
    assert 1.0 <= elapsed < 2.5
    assert requests_to(bad, path) - before == 1  # a slow server stays slow: no retry
    if archived:  # what arrived is kept, marked truncated
        page = read_raw(tmp_path / "raw", outcome.raw_ref)
        assert page.payload.startswith(b"<html><body><p>news</p>") and page.truncated
    else:
        assert outcome.raw_ref is None


def test_crawl_delay_is_applied_between_requests_to_one_host(serve, fetch_settings, archive):
    polite = serve(robots=b"User-agent: *\nCrawl-delay: 1\n")
    urls = [(f"{polite.url}/articles/seed.html?n={i}", "test", None) for i in range(3)]
    with Fetcher(replace(fetch_settings, per_host_delay=0.0, concurrency=4), archive, "test-run") as fetcher:
        outcomes = list(fetcher.fetch_all(urls))
    assert all(isinstance(o, Fetched) for o in outcomes)
    times = sorted(t for t, p, _ in polite.state.requests if "?n=" in p)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 3 and all(gap >= 0.95 for gap in gaps), gaps


# --- 6. a gzip bomb in Content-Encoding -------------------------------------------------------

def test_gzip_bomb_stops_at_the_size_limit_on_decoded_bytes(bad, fetch_settings, archive, tmp_path):
    gzip_bomb_ready()
    limit = fetch_settings.max_bytes
    with PeakRss() as rss:
        tracemalloc.start()
        started = time.perf_counter()
        outcome, _ = fetch_one(fetch_settings, archive, f"{bad.url}/gzip-bomb")
        elapsed = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    print(f"\ngzip bomb (1 GiB inflated, {len(BadHandler.cache['bomb']) / 1e6:.1f} MB sent): rejected in "
          f"{elapsed:.2f} s, Python allocations peak {traced_peak:.1f} MB, peak RSS +{rss.growth_mb:.0f} MB")
    assert isinstance(outcome, Reject) and outcome.reason == "too_large"
    assert outcome.detail == f"body larger than {limit} bytes once its Content-Encoding gzip is decoded " \
                             "(archived truncated)"
    page = read_raw(tmp_path / "raw", outcome.raw_ref)
    assert len(page.payload) == limit and page.payload.startswith(b"<html><body><p>") and page.truncated
    # httpx's own decoding inflates each 64 kB read in full (about 66 MB at once from this bomb)
    assert traced_peak < 12 * limit / 1e6 and rss.growth_mb < 100 and elapsed < 10


def test_corrupt_gzip_body_is_undecodable_not_a_crash(bad, fetch_settings, archive, tmp_path):
    outcome, fetcher = fetch_one(fetch_settings, archive, f"{bad.url}/gzip-junk")
    assert isinstance(outcome, Reject) and outcome.reason == "undecodable"
    assert outcome.detail.startswith("Content-Encoding gzip: corrupt data (Error -3")
    assert read_raw(tmp_path / "raw", outcome.raw_ref).status == 200  # the response is archived


def test_content_encoding_never_asked_for_is_archived_as_received(bad, fetch_settings, archive, tmp_path):
    outcome, _ = fetch_one(fetch_settings, archive, f"{bad.url}/brotli")
    assert isinstance(outcome, Reject) and outcome.reason == "undecodable"
    assert outcome.detail.startswith("unsupported Content-Encoding 'br', archived as received")
    assert read_raw(tmp_path / "raw", outcome.raw_ref).payload == b"\x1b\x03\x00\xf8\xa5\x01\x02" * 50


# --- 7. security: addresses, schemes, redirect hops, file names ------------------------------

NAMES = {"metadata.test": ["169.254.169.254"], "intranet.test": ["10.1.2.3"],
         "mixed.test": ["93.184.216.34", "127.0.0.1"], "news.example.test": ["127.0.0.1"]}


def fake_dns(host: str, port: int) -> list[str]:
    """Made-up names for the tests; everything else (IP literals included) through the real resolver."""
    return NAMES.get(host) or resolve_host(host, port)


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.169.254",
    "[::1]", "[::]", "[fd00::1]", "[fe80::1]", "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]",
    "2130706433", "0177.0.0.1", "0x7f.0.0.1", "017700000001", "metadata.test", "intranet.test", "mixed.test",
])
def test_private_and_encoded_addresses_are_refused(bad, fetch_settings, archive, host):
    port = bad.url.rsplit(":", 1)[1]
    token = f"blocked-{abs(hash(host))}"
    settings = replace(fetch_settings, allow_private_networks=False)
    started = time.perf_counter()
    outcome, fetcher = fetch_one(settings, archive, f"http://{host}:{port}/articles/seed.html?{token}=1",
                                 resolver=fake_dns)
    assert isinstance(outcome, Reject) and outcome.reason == "blocked_address", outcome
    assert "set allow_private_networks to fetch it" in outcome.detail
    assert not any(token in p for p in bad.state.paths()) and fetcher.raw_rows == []
    assert time.perf_counter() - started < 1  # refused before any connection attempt


@pytest.mark.parametrize(("host", "reason"), [
    ("2130706433", None), ("0x7f.0.0.1", None), ("127.1", None), ("[::ffff:127.0.0.1]", None),
    ("0177.0.0.1", "invalid_url"),  # httpx reads no octal; refused as a URL, never a crash
])
def test_encoded_loopback_hosts_do_reach_loopback_when_private_networks_are_allowed(bad, fetch_settings, archive,
                                                                                   host, reason):
    """The counterpart of the test above: these spellings really are 127.0.0.1."""
    port = bad.url.rsplit(":", 1)[1]
    outcome, _ = fetch_one(fetch_settings, archive, f"http://{host}:{port}/articles/seed.html?allowed=1")
    if reason is None:
        assert isinstance(outcome, Fetched) and outcome.raw.status == 200
    else:
        assert isinstance(outcome, Reject) and outcome.reason == reason


@pytest.fixture(scope="module")
def elsewhere(serve) -> Server:
    """A server on 127.0.0.2: in the redirect tests, a private address that must never be reached."""
    return serve(host="127.0.0.2")


def loopback_is_public(address: str) -> bool:
    """The test's address policy: 127.0.0.1 (our 'public' news site) plus the real public ones."""
    return address == "127.0.0.1" or is_public_address(address)


@pytest.mark.parametrize("target", [
    "http://127.0.0.2:{elsewhere}/secret", "http://169.254.169.254/latest/meta-data/", "http://metadata.test/",
    "http://[::1]:{port}/articles/seed.html", "http://10.0.0.1/admin",
], ids=["other-loopback", "cloud-metadata", "name-of-metadata", "ipv6-loopback", "private"])
def test_redirect_to_a_blocked_address_is_refused_at_the_hop(bad, elsewhere, fetch_settings, archive, target):
    port, other = bad.url.rsplit(":", 1)[1], elsewhere.url.rsplit(":", 1)[1]
    settings = replace(fetch_settings, allow_private_networks=False)
    site = f"http://news.example.test:{port}"
    ok, _ = fetch_one(settings, archive, f"{site}/articles/seed.html", resolver=fake_dns,
                      address_allowed=loopback_is_public)
    assert isinstance(ok, Fetched)  # the first hop's host is allowed ...
    hop = target.format(elsewhere=other, port=port)
    started = time.perf_counter()
    outcome, fetcher = fetch_one(settings, archive, f"{site}/to?u={quote(hop, safe='')}", resolver=fake_dns,
                                 address_allowed=loopback_is_public)
    assert isinstance(outcome, Reject) and outcome.reason == "blocked_address", outcome  # ... the hop's is not
    assert [r.kind for r in fetcher.raw_rows if r.kind != "robots"] == ["redirect"]
    assert elsewhere.state.paths() == [] and time.perf_counter() - started < 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/pub/x.html", "gopher://127.0.0.1:70/1",
                                 "data:text/html,<h1>hi</h1>", "javascript:alert(1)", "//127.0.0.1/no-scheme"])
def test_only_http_and_https_urls_are_fetched(fetch_settings, archive, url):
    outcome, fetcher = fetch_one(fetch_settings, archive, url)
    assert isinstance(outcome, Reject) and outcome.reason == "invalid_url"
    assert outcome.detail == f"not an http(s) URL: {url}" and fetcher.raw_rows == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/1", "ftp://127.0.0.1/x"])
def test_redirect_to_another_scheme_is_refused(bad, fetch_settings, archive, target):
    outcome, fetcher = fetch_one(fetch_settings, archive, f"{bad.url}/to?u={quote(target, safe='')}")
    assert isinstance(outcome, Reject) and outcome.reason == "invalid_url"
    assert outcome.detail == f"redirect to an unusable location: {target!r}"
    assert [r.kind for r in fetcher.raw_rows if r.kind != "robots"] == ["redirect"]


# --- 8. servers the project starts bind to 127.0.0.1 --------------------------------------------

def listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on a TCP port (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # kernel byte order
                found.append(socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words))
    return found


def test_local_prefect_server_of_dateline_serve_listens_on_loopback_only(tmp_path):
    with LocalPrefectServer(tmp_path / "prefect-home") as server:
        addresses = listening_addresses(server.port)
    assert addresses == ["127.0.0.1"]


# --- the whole `dateline run` with bad sources mixed in ----------------------------------------

ESCAPE = "dateline-escape-token"


@pytest.fixture(scope="module")
def bad_run(bad, prefect_harness, tmp_path_factory):
    """`dateline run` over feeds, sitemaps and a URL list full of bad sources, and one good page."""
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    tmp = tmp_path_factory.mktemp("bad-run")
    gzip_bomb_ready()  # building it takes seconds: the server would seem to hang (a 0.5 s read timeout here)
    refused = f"http://127.0.0.1:{unused_port()}"
    base = bad.url
    mixed = _rss(f"{base}/articles/seed.html", f"{base}/loop", f"{base}/hang", f"{base}/drip", f"{base}/gzip-bomb",
                 f"{base}/gzip-junk", f"{base}/private/secret.html", "file:///etc/passwd")
    DOCS["mixed.xml"] = ("application/rss+xml", mixed)
    urls = tmp / "urls.txt"
    urls.write_text(f"http://dateline-no-such-host.invalid/story\n{refused}/story\n"
                    f"{base}/articles/..%2F..%2F{ESCAPE}.html\n{base}/status/404?name=../../../{ESCAPE}\n")
    config = tmp / "dateline.toml"
    feeds = [f"{base}/doc/mixed.xml", f"{base}/doc/billion-laughs.xml", f"{base}/doc/page.html",
             f"{base}/doc/truncated.xml", f"{base}/status/404", f"{refused}/feed.xml"]
    sitemaps = [f"{base}/doc/self-index.xml", f"{base}/doc/non-http-locs.xml"]
    config.write_text(
        f"feeds = {json.dumps(feeds)}\nsitemaps = {json.dumps(sitemaps)}\nurls = {json.dumps([str(urls)])}\n"
        "[fetch]\nallow_private_networks = true\nper_host_delay = 0.0\nretries = 1\nbackoff = 0.01\n"
        "read_timeout = 0.5\nconnect_timeout = 1.0\ntotal_timeout = 1.5\nmax_bytes = 1000000\n"
        "[process]\nworkers = 1\nnlp = false\n")
    before = len(bad.state.paths())
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["--config", str(config), "--data-dir", str(tmp / "data"), "run"])
    elapsed = time.perf_counter() - started
    print(f"\n`dateline run` with bad sources: {elapsed:.1f} s")
    return tmp, result, bad.state.paths()[before:], refused, elapsed


def run_table(tmp: Path, sql: str) -> list[tuple]:
    from dateline.flows import store

    with store.connect(tmp / "data" / "processed", tmp / "data" / "raw") as con:
        return con.execute(sql).fetchall()


def test_dateline_run_with_bad_sources_finishes_and_keeps_the_good_article(bad_run):
    tmp, result, _, _, elapsed = bad_run
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and result.exception is None
    assert run_table(tmp, "select status from runs") == [("completed",)]
    assert run_table(tmp, "select domain, title from articles") == [
        ("jpost.com", "Soldiers' widows group calls on Putin to order major mobilization for Ukraine war")]
    assert elapsed < 120


def test_dateline_run_quarantines_each_bad_source_with_its_reason(bad_run, bad):
    tmp, _, _, refused, _ = bad_run
    base = bad.url
    rows = set(run_table(tmp, "select stage, reason, url from quarantine"))
    wanted = {
        ("discover", "source_unparseable", f"{base}/doc/billion-laughs.xml"),
        ("discover", "source_unparseable", f"{base}/doc/page.html"),
        ("discover", "source_unparseable", f"{base}/doc/truncated.xml"),
        ("discover", "source_unreachable", f"{base}/status/404"),
        ("discover", "source_unreachable", f"{refused}/feed.xml"),
        ("discover", "invalid_url", f"{base}/doc/mixed.xml"),
        ("discover", "invalid_url", f"{base}/doc/non-http-locs.xml"),
        ("fetch", "too_many_redirects", f"{base}/loop"),
        ("fetch", "fetch_gave_up", f"{base}/hang"),
        ("fetch", "fetch_gave_up", f"{base}/drip"),
        ("fetch", "too_large", f"{base}/gzip-bomb"),
        ("fetch", "undecodable", f"{base}/gzip-junk"),
        ("fetch", "robots_disallowed", f"{base}/private/secret.html"),
        ("fetch", "unresolvable_host", "http://dateline-no-such-host.invalid/story"),
        ("fetch", "fetch_gave_up", f"{refused}/story"),
    }
    assert wanted <= rows, wanted - rows
    details = dict(((r, u), d) for r, u, d in run_table(tmp, "select reason, url, detail from quarantine"))
    assert "XML entities" in details[("source_unparseable", f"{base}/doc/billion-laughs.xml")]
    assert "fetch.total_timeout" in details[("fetch_gave_up", f"{base}/drip")]


def test_dateline_run_keeps_the_raw_bytes_of_bad_responses(bad_run, bad):
    tmp, *_ = bad_run
    refs = dict(run_table(tmp, "select url, raw_ref from quarantine where raw_ref is not null"))
    raw = tmp / "data" / "raw"
    assert len(read_raw(raw, refs[f"{bad.url}/gzip-bomb"]).payload) == 1_000_000
    assert read_raw(raw, refs[f"{bad.url}/doc/billion-laughs.xml"]).payload.startswith(b'<?xml version="1.0"?>')
    assert read_raw(raw, refs[f"{bad.url}/drip"]).payload.startswith(b"<html><body><p>news</p>")


def test_dateline_run_reads_a_self_naming_sitemap_index_once(bad_run):
    _, _, paths, _, _ = bad_run
    assert paths.count("/doc/self-index.xml") == 1 and paths.count("/doc/pages-a.xml") == 1


def test_no_file_name_on_disk_comes_from_url_text(bad_run):
    tmp, _, paths, _, _ = bad_run
    assert any(ESCAPE in p for p in paths)  # the URLs carrying the token were requested ...
    files = [p.relative_to(tmp / "data").as_posix() for p in (tmp / "data").rglob("*") if p.is_file()]
    assert not [f for f in files if ESCAPE in f]  # ... and no file took its name from them
    allowed = re.compile(r"raw/\d{4}/\d{2}/\d{8}T\d{6}Z-[0-9a-f]{6}-(web|files)-\d+\.warc\.gz"
                         r"|raw/raw_index/(_schema|\d{8}T\d{6}Z-[0-9a-f]{6}(-web|-files)?)\.parquet"
                         r"|processed/[a-z_]+/([a-z_]+=[0-9A-Za-z_-]+/)?(_schema|\d{8}T\d{6}Z-[0-9a-f]{6}(-\d+)?)\.parquet"
                         # derived actor tables: a build's id, a run's delta, merged deltas
                         r"|processed/[a-z_]+/([0-9a-f]{12}|run-\d{8}T\d{6}Z-[0-9a-f]{6}|run-merged-[0-9a-f]{12})"
                         r"\.parquet"
                         r"|processed/_snapshots/(CURRENT|\d{8})\.json"  # the snapshot manifests
                         r"|processed/site_lines/[0-9a-f]{20}\.json"  # site evidence, by a hash of the site
                         # the search index: its state, the pairs it holds, tantivy's own files by uuid
                         r"|processed/_search/(state\.json|keys-\d{8}-[0-9a-f]{6}\.parquet)"
                         r"|processed/_search/index-[0-9a-f]{12}/([0-9a-f]{32}\.[a-z]+|meta\.json|\.managed\.json"
                         r"|\.tantivy-(meta|writer)\.lock)"
                         r"|run\.lock")
    assert [f for f in files if not allowed.fullmatch(f)] == []
