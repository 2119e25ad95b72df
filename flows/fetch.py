"""Polite HTTP fetching into the raw archive.

Every response, errors and redirect hops included, is written to WARC before anything looks at
it. What a caller gets back is either a :class:`Fetched` (an archived response) or a
:class:`~transforms.schema.Reject` saying why the URL gave no usable page.

Retries happen here rather than as Prefect task retries: a per-host delay, robots.txt and
Retry-After need one shared view of every host, and a task retry would repeat a whole batch.

Servers are not trusted to be well-behaved. Every request has a total time limit besides its
connect and read timeouts (a server that sends a byte every few seconds never trips a read
timeout), bodies are decoded here, not by httpx, so the size limit counts decoded bytes and a
gzip bomb stops at the limit, and connections go only to addresses checked when connecting.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx
from dateline.flows.archive import WarcArchive
from dateline.flows.config import FetchSettings
from dateline.transforms.schema import RawKind, RawRecord, Reject, RejectReason
from dateline.transforms.urls import canonicalize_url, is_web_url, sha1_hex

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
ROBOTS_AGENT = "Dateline"
NOT_HTML_SAMPLE = 65_536  # bytes of a non-HTML body worth archiving
ROBOTS_MAX_BYTES = 500_000
ACCEPT_ENCODING = "gzip, deflate"  # the codings _Decoder reads; nothing else is asked for

Purpose = Literal["page", "feed", "sitemap"]
Resolver = Callable[[str, int], list[str]]
AddressCheck = Callable[[str], bool]  # True if a connection to this IP address is allowed


@dataclass(frozen=True, slots=True)
class Fetched:
    """An archived 2xx response: its raw index row and (for feeds and sitemaps) its body."""

    raw: RawRecord
    body: bytes  # empty for pages: processing reads them back from the archive


@dataclass(frozen=True, slots=True)
class NotModified:
    """A conditional request answered 304: archived, nothing new to process."""

    raw: RawRecord


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last response said, for a conditional request (If-None-Match, If-Modified-Since)."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def resolve_host(host: str, port: int) -> list[str]:
    """The IP addresses a host name resolves to (raises OSError when it does not resolve)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata), multicast and reserved addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class BlockedAddress(httpcore.ConnectError):
    """A connection would go to an address the settings do not allow (httpx re-raises it as its
    ConnectError, with this as the cause)."""


class UnresolvableHost(httpcore.ConnectError):
    """A host name did not resolve (httpx re-raises it as its ConnectError, with this as the cause)."""


class TimeLimitExceeded(httpcore.ReadTimeout):
    """A request ran past its total time limit (FetchSettings.total_timeout)."""


_time_limit = threading.local()  # .deadline: time.monotonic() by which the current request must be done


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Bound every network read and write of this thread's request so the whole of it ends within
    ``seconds``; a slow but steady server then fails with TimeLimitExceeded."""
    _time_limit.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _time_limit.deadline = None


def _bounded(timeout: float | None) -> float | None:
    """The timeout for one socket operation: the given one, cut to what is left of the time limit."""
    deadline = getattr(_time_limit, "deadline", None)
    if deadline is None:
        return timeout
    left = float(deadline) - time.monotonic()
    if left <= 0:
        raise TimeLimitExceeded("the request's total time limit has passed")
    return left if timeout is None else min(timeout, left)


def _past_time_limit() -> bool:
    deadline = getattr(_time_limit, "deadline", None)
    return deadline is not None and time.monotonic() >= deadline


class LimitedStream(httpcore.NetworkStream):
    """A connection whose reads and writes are cut to the current request's time limit."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._stream.read(max_bytes, _bounded(timeout))
        except httpcore.ReadTimeout as exc:
            if _past_time_limit() and not isinstance(exc, TimeLimitExceeded):
                raise TimeLimitExceeded("the request's total time limit has passed") from exc
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return LimitedStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses it checked itself: the name is resolved here, each address is
    checked, and the socket goes to a checked address. A name that resolves to a public address
    for a pre-check and to a private one at connect time (DNS rebinding) is caught.

    ``allowed`` is None when every address is allowed (settings.allow_private_networks)."""

    def __init__(self, resolver: Resolver, allowed: AddressCheck | None) -> None:
        self.resolver = resolver
        self.allowed = allowed

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnresolvableHost(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise UnresolvableHost(f"{host} resolves to no address")
        if self.allowed is not None:
            blocked = [a for a in addresses if not self.allowed(a)]
            if blocked:
                raise BlockedAddress(f"{host} resolves to a non-public address ({', '.join(blocked)})")
        for n, address in enumerate(addresses):  # each was checked; the first that answers
            try:
                stream = super().connect_tcp(address, port, _bounded(timeout), local_address, socket_options)
            except httpcore.ConnectError:
                if n + 1 == len(addresses):
                    raise
                continue
            return LimitedStream(stream)
        raise UnresolvableHost(f"{host} resolves to no address")  # not reached: addresses is not empty


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with GuardedBackend underneath (its pool is rebuilt with our backend)."""

    def __init__(self, resolver: Resolver, allowed: AddressCheck | None, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(  # httpx builds the same pool; only the network backend differs
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolver, allowed),
        )


class HostThrottle:
    """Spaces requests to one host at least ``delay`` seconds apart, across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, delay: float) -> None:
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, 0.0))
            self._next[host] = at + delay
        if at > now:
            time.sleep(at - now)


@dataclass
class _Robots:
    parser: RobotFileParser | None  # None: allow everything
    disallow_all: str | None = None  # detail, when robots.txt could not be read (RFC 9309: 5xx, unreachable)
    reason: RejectReason = "robots_disallowed"  # the reject reason for the origin's pages then


class Fetcher:
    """Fetches URLs politely and archives every response. Thread-safe; use as a context manager."""

    def __init__(self, settings: FetchSettings, archive: WarcArchive, run_id: str,
                 resolver: Resolver = resolve_host, address_allowed: AddressCheck = is_public_address) -> None:
        """``resolver`` and ``address_allowed`` are the name lookup and the address policy (public
        addresses only, unless settings.allow_private_networks); tests give their own."""
        self.settings = settings
        self.archive = archive
        self.run_id = run_id
        self.resolver = resolver
        self.address_allowed: AddressCheck | None = None if settings.allow_private_networks else address_allowed
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING,
                     "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
            transport=GuardedTransport(resolver, self.address_allowed, limits),
            trust_env=False,
        )
        self.throttle = HostThrottle()
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.responses = 0  # HTTP responses received, for the run's counts
        self.raw_rows: list[RawRecord] = []

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # --- public -------------------------------------------------------------------------

    def fetch(self, url: str, *, source: str, purpose: Purpose = "page",
              validators: Validators | None = None) -> Fetched | NotModified | Reject:
        """Fetch one URL, following redirects; archive every response on the way. With validators the
        request is conditional, and an unchanged resource gives NotModified.

        Never raises for what a server or URL does: an error no branch below foresaw still
        becomes a Reject, so one URL cannot stop a run."""
        try:
            return self._follow(url, source=source, purpose=purpose, validators=validators)
        except httpx.InvalidURL as exc:  # URL text that passed urlsplit but not httpx ("http://0177.0.0.1/")
            return Reject(stage="fetch", reason="invalid_url", url=url, detail=f"not a usable URL: {exc}")
        except Exception as exc:  # noqa: BLE001 - the last line of defence for one URL, logged
            log.warning("fetching %s failed unexpectedly: %s: %s", url, type(exc).__name__, exc)
            log.debug("the unexpected error", exc_info=True)  # a traceback only with -vv
            return Reject(stage="fetch", reason="fetch_gave_up", url=url,
                          detail=f"unexpected error: {type(exc).__name__}: {exc}")

    def _follow(self, url: str, *, source: str, purpose: Purpose,
                validators: Validators | None) -> Fetched | NotModified | Reject:
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            outcome = self._fetch_one(current, requested=url, source=source, purpose=purpose,
                                      validators=validators if current == url else None)
            if not isinstance(outcome, str):
                return outcome
            current = outcome  # a redirect target
        return Reject(stage="fetch", reason="too_many_redirects", url=url,
                      detail=f"more than {self.settings.max_redirects} redirects (last: {current})")

    def fetch_all(self, urls: Iterable[tuple[str, str, Validators | None]]) -> Iterator[Fetched | NotModified | Reject]:
        """Fetch (url, source, validators) as pages, ``concurrency`` at a time; results in input order."""
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="fetch") as pool:
            futures = [pool.submit(self.fetch, url, source=source, validators=v) for url, source, v in urls]
            for future in futures:
                yield future.result()

    # --- one request ---------------------------------------------------------------------

    def _fetch_one(self, url: str, *, requested: str, source: str, purpose: Purpose,
                   validators: Validators | None) -> Fetched | NotModified | Reject | str:
        """One URL without following redirects: Fetched, Reject, or the next URL to follow."""
        check = self._check_target(url, requested)
        if check is not None:
            return check
        host = urlsplit(url).hostname or ""
        robots = self._robots_for(url, source) if self.settings.obey_robots else None
        delay = self.settings.per_host_delay
        if robots is not None:
            if robots.disallow_all:
                return Reject(stage="fetch", reason=robots.reason, url=requested, detail=robots.disallow_all)
            if robots.parser is not None:
                if not robots.parser.can_fetch(ROBOTS_AGENT, url):
                    return Reject(stage="fetch", reason="robots_disallowed", url=requested,
                                  detail=f"robots.txt disallows {urlsplit(url).path or '/'}")
                crawl_delay = robots.parser.crawl_delay(ROBOTS_AGENT)
                if crawl_delay:
                    delay = max(delay, min(float(crawl_delay), self.settings.max_crawl_delay))
        return self._get_with_retries(url, requested=requested, source=source, purpose=purpose,
                                      host=host, delay=delay, validators=validators)

    def _check_target(self, url: str, requested: str) -> Reject | None:
        """Refuse a URL before any request: not http(s), or (when private networks are not allowed)
        a host that resolves to an address the policy refuses. GuardedBackend checks again when
        connecting; this check gives the clearer reason and spares a robots.txt request."""
        if not is_web_url(url):
            return Reject(stage="fetch", reason="invalid_url", url=requested, detail=f"not an http(s) URL: {url}")
        if self.address_allowed is None:
            return None
        parts = urlsplit(url)
        try:
            addresses = self.resolver(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError, ValueError) as exc:
            return Reject(stage="fetch", reason="unresolvable_host", url=requested,
                          detail=f"cannot resolve {parts.hostname}: {exc}")
        blocked = [a for a in addresses if not self.address_allowed(a)]
        if blocked or not addresses:
            return Reject(stage="fetch", reason="blocked_address", url=requested,
                          detail=f"{parts.hostname} resolves to a non-public address ({', '.join(blocked)}); "
                                 "set allow_private_networks to fetch it")
        return None

    def _get_with_retries(self, url: str, *, requested: str, source: str, purpose: Purpose, host: str,
                          delay: float, validators: Validators | None) -> Fetched | NotModified | Reject | str:
        attempts = self.settings.retries + 1
        last_problem = ""
        last_ref: str | None = None
        for attempt in range(attempts):
            self.throttle.wait(host, delay)
            try:
                result = self._get(url, requested=requested, source=source, purpose=purpose,
                                   validators=validators)
            except httpx.TransportError as exc:
                if _caused_by(exc, BlockedAddress):
                    return Reject(stage="fetch", reason="blocked_address", url=requested,
                                  detail=f"{exc} (checked when connecting); set allow_private_networks to fetch it")
                if _caused_by(exc, UnresolvableHost):
                    return Reject(stage="fetch", reason="unresolvable_host", url=requested, detail=str(exc))
                if _caused_by(exc, TimeLimitExceeded):  # a slow server stays slow: no retry
                    return Reject(stage="fetch", reason="fetch_gave_up", url=requested, detail=self._too_slow())
                last_problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = self.settings.backoff * (2 ** attempt)
            else:
                if not isinstance(result, _Retry):
                    return result
                last_problem, last_ref = result.problem, result.raw_ref
                wait = result.wait if result.wait is not None else self.settings.backoff * (2 ** attempt)
                if wait > self.settings.max_retry_after:
                    return Reject(stage="fetch", reason="fetch_gave_up", url=requested, raw_ref=last_ref,
                                  detail=f"{last_problem}; Retry-After {wait:.0f}s is over the "
                                         f"{self.settings.max_retry_after:.0f}s limit")
            if attempt + 1 < attempts:
                log.debug("retrying %s in %.1fs after %s", url, wait, last_problem)
                time.sleep(wait)
        return Reject(stage="fetch", reason="fetch_gave_up", url=requested, raw_ref=last_ref,
                      detail=f"{last_problem} (after {attempts} attempts)")

    def _too_slow(self) -> str:
        return (f"no complete response within {self.settings.total_timeout:g}s "
                "(fetch.total_timeout): the server sends too slowly")

    def _get(self, url: str, *, requested: str, source: str, purpose: Purpose,
             validators: Validators | None = None) -> Fetched | NotModified | Reject | str | _Retry:
        fetched_at = datetime.now(UTC)
        headers = validators.headers() if validators else None
        with time_limit(self.settings.total_timeout), self.client.stream("GET", url, headers=headers) as response:
            with self._lock:
                self.responses += 1
            content_type = response.headers.get("content-type")
            mime = (content_type or "").split(";", 1)[0].strip().lower()
            status = response.status_code
            limit = self.settings.max_bytes
            is_page_body = purpose == "page" and 200 <= status < 300
            if is_page_body and mime and mime not in HTML_TYPES:
                limit = min(limit, NOT_HTML_SAMPLE)
            body = read_body(response, limit)
            kind: RawKind = purpose if 200 <= status < 300 or status == 304 else (
                "redirect" if 300 <= status < 400 else purpose)
            raw = self._archive(url, requested, response, body.data, body.cut, fetched_at, source, kind)

        if status == 304:
            return NotModified(raw.row)
        if 300 <= status < 400 and response.headers.get("location"):
            target = canonicalize_url(urljoin(url, response.headers["location"]))
            if target is None:
                return Reject(stage="fetch", reason="invalid_url", url=requested, raw_ref=raw.raw_ref,
                              detail=f"redirect to an unusable location: {response.headers['location']!r}")
            return target
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
            return _Retry(f"HTTP {status}", wait, raw.raw_ref)
        if not 200 <= status < 300:
            return Reject(stage="fetch", reason="http_error", url=requested, detail=f"HTTP {status}",
                          raw_ref=raw.raw_ref)
        if body.problem == "slow":
            return Reject(stage="fetch", reason="fetch_gave_up", url=requested, raw_ref=raw.raw_ref,
                          detail=f"{self._too_slow()}; the {len(body.data)} bytes received are archived")
        if body.problem is not None:
            return Reject(stage="fetch", reason="undecodable", url=requested, raw_ref=raw.raw_ref,
                          detail=f"{body.problem}; the {len(body.data)} bytes read are archived")
        if is_page_body and mime and mime not in HTML_TYPES:
            return Reject(stage="fetch", reason="not_html", url=requested, raw_ref=raw.raw_ref,
                          detail=f"content type {mime}")
        if body.cut:
            encoding = response.headers.get("content-encoding")
            decoded = f" once its Content-Encoding {encoding} is decoded" if encoding else ""
            return Reject(stage="fetch", reason="too_large", url=requested, raw_ref=raw.raw_ref,
                          detail=f"body larger than {self.settings.max_bytes} bytes{decoded} (archived truncated)")
        return Fetched(raw.row, b"" if purpose == "page" else body.data)

    def _archive(self, url: str, requested: str, response: httpx.Response, body: bytes, truncated: bool,
                 fetched_at: datetime, source: str, kind: RawKind) -> _Raw:
        stored = self.archive.write_response(
            url=url, status=response.status_code, reason=response.reason_phrase,
            http_version=response.http_version, headers=list(response.headers.multi_items()), body=body,
            truncated=truncated, fetched_at=fetched_at,
            request_headers=list(response.request.headers.multi_items()),
        )
        row = RawRecord(
            url=requested, final_url=url, status=response.status_code,
            content_type=response.headers.get("content-type"), sha1=sha1_hex(body), length=len(body),
            truncated=truncated, fetched_at=fetched_at, warc_file=stored.warc_file,
            warc_offset=stored.offset, record_type="response", kind=kind, source=source, run_id=self.run_id,
            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
        )
        with self._lock:
            self.raw_rows.append(row)
        return _Raw(row, stored.raw_ref)

    # --- robots.txt ---------------------------------------------------------------------

    def _robots_for(self, url: str, source: str) -> _Robots:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            if origin in self._robots:
                return self._robots[origin]
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            with self._lock:
                if origin in self._robots:
                    return self._robots[origin]
            robots = self._load_robots(origin, parts.hostname or "")
            with self._lock:
                self._robots[origin] = robots
            return robots

    def _load_robots(self, origin: str, host: str) -> _Robots:
        robots_url = origin + "/robots.txt"
        self.throttle.wait(host, self.settings.per_host_delay)
        fetched_at = datetime.now(UTC)
        try:
            with time_limit(self.settings.total_timeout), self.client.stream("GET", robots_url) as response:
                read = read_body(response, ROBOTS_MAX_BYTES)
                self._archive(robots_url, robots_url, response, read.data, read.cut, fetched_at, "robots.txt",
                              "robots")
        except httpx.TransportError as exc:
            return _robots_unreachable(exc)
        if read.problem == "slow":
            return _Robots(None, "robots.txt too slow (fetch.total_timeout), so nothing is fetched from this host "
                                 "(RFC 9309)", "fetch_gave_up")
        if read.problem is not None:
            return _Robots(None, f"robots.txt unreadable ({read.problem}), so nothing is fetched from this host "
                                 "(RFC 9309)", "undecodable")
        body = read.data
        if response.status_code >= 500:
            return _Robots(None, f"robots.txt answered HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:  # 3xx not followed, 4xx: no rules (RFC 9309)
            return _Robots(None)
        parser = RobotFileParser(robots_url)
        parser.parse(body.decode("utf-8", "replace").splitlines())
        return _Robots(parser)


def _robots_unreachable(exc: httpx.TransportError) -> _Robots:
    """No robots.txt answer: RFC 9309 says to fetch nothing from the origin. The reason its pages
    get says why: the name does not resolve, the address is refused, or the host did not answer
    (not that the site forbids us)."""
    if _caused_by(exc, UnresolvableHost):
        return _Robots(None, str(exc), "unresolvable_host")
    if _caused_by(exc, BlockedAddress):
        return _Robots(None, f"{exc} (checked when connecting); set allow_private_networks to fetch it",
                       "blocked_address")
    problem = "too slow" if _caused_by(exc, TimeLimitExceeded) else f"{type(exc).__name__}: {exc}".rstrip(": ")
    return _Robots(None, f"robots.txt unreachable ({problem}), so nothing is fetched from this host (RFC 9309)",
                   "fetch_gave_up")


@dataclass(frozen=True, slots=True)
class _Retry:
    problem: str
    wait: float | None
    raw_ref: str | None


@dataclass(frozen=True, slots=True)
class _Raw:
    row: RawRecord
    raw_ref: str


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True if an error, or one it was raised from, is a ``kind`` (httpx wraps httpcore's errors)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__
    return False


class UnsupportedEncoding(ValueError):
    """A Content-Encoding the fetcher does not decode."""


class _Decoder:
    """Content-Encoding decoding that never makes more output than asked for.

    httpx inflates each network chunk in full before anyone can count it: a 64 KB read of a gzip
    bomb becomes tens of megabytes at once. Here every call is capped (zlib's max_length), so the
    size limit holds for decoded bytes and memory stays near the limit."""

    def __init__(self, header: str | None) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",") if c.strip().lower() not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UnsupportedEncoding(f"unsupported Content-Encoding {header!r}")
        self.coding = codings[0] if codings else None
        self._inflater = self._new()
        self._started = False

    def _new(self) -> Any:
        if self.coding is None:
            return None
        return zlib.decompressobj(zlib.MAX_WBITS | 16 if self.coding != "deflate" else zlib.MAX_WBITS)

    def decode(self, data: bytes, most: int) -> bytes:
        """Up to ``most`` (>= 1) decoded bytes from the next raw chunk (raises zlib.error)."""
        if self._inflater is None:
            return data
        first, self._started = not self._started, True
        try:
            out: bytes = self._inflater.decompress(data, most)
        except zlib.error:
            if not (first and self.coding == "deflate"):
                raise
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent without its zlib header
            out = self._inflater.decompress(data, most)
        while self.coding != "deflate" and self._inflater.eof and self._inflater.unused_data and len(out) < most:
            rest = self._inflater.unused_data  # gzip allows several members one after another
            self._inflater = self._new()
            try:
                out += self._inflater.decompress(rest, most - len(out))
            except zlib.error:
                break  # junk after a complete member: the body so far stands
        return out


@dataclass(frozen=True, slots=True)
class Body:
    """A response body as read: decoded, at most the limit; ``cut`` when it is not the whole body."""

    data: bytes
    cut: bool
    problem: str | None = None  # why it is incomplete, besides the size limit: "slow", or a decoding error


def read_body(response: httpx.Response, limit: int) -> Body:
    """The decoded body up to ``limit`` bytes. The raw stream is read and decoded here (see
    _Decoder); a body that cannot be decoded, or that is still arriving when the request's time
    limit passes, gives what was read so far with the problem named."""
    out = bytearray()
    try:
        decoder = _Decoder(response.headers.get("content-encoding"))
    except UnsupportedEncoding as exc:
        raw = _read_raw(response, limit)
        return Body(raw.data, True, f"{exc}, archived as received" if raw.problem is None else raw.problem)
    try:
        for chunk in response.iter_raw():
            out += decoder.decode(chunk, limit + 1 - len(out))
            if len(out) > limit:
                return Body(bytes(out[:limit]), True)
    except zlib.error as exc:
        return Body(bytes(out[:limit]), True, f"Content-Encoding {decoder.coding}: corrupt data ({exc})")
    except httpx.TransportError as exc:
        if _caused_by(exc, TimeLimitExceeded):
            return Body(bytes(out[:limit]), True, "slow")
        raise
    return Body(bytes(out), False)


def _read_raw(response: httpx.Response, limit: int) -> Body:
    out = bytearray()
    try:
        for chunk in response.iter_raw():
            out += chunk
            if len(out) > limit:
                break
    except httpx.TransportError as exc:
        if not _caused_by(exc, TimeLimitExceeded):
            raise
        return Body(bytes(out[:limit]), True, "slow")
    return Body(bytes(out[:limit]), True)

