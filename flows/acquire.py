"""Getting pages into the raw archive: discover URLs, fetch them, or copy saved pages and WARCs.

Each function returns an :class:`Acquired`: the archived pages to process, the rejects, and the
raw index rows it wrote to WARC. Nothing here parses articles.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dateline.flows.archive import WarcArchive, iter_warc_pages
from dateline.flows.config import ConfigError, FetchSettings, Sources
from dateline.flows.fetch import HTML_TYPES, Fetched, Fetcher, NotModified, Validators
from dateline.flows.process import PageRef
from dateline.flows.progress import progress
from dateline.transforms.extract import declared_url
from dateline.transforms.metadata import parse_date
from dateline.transforms.schema import RawRecord, Reject
from dateline.transforms.sources import Link, SourceContent, SourceFormatError, parse_sitemap, read_feed, read_url_list
from dateline.transforms.urls import canonicalize_url, sha1_hex

log = logging.getLogger(__name__)

MAX_SITEMAPS = 200  # sitemap documents read per --sitemap, index children included (each read once)
HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz", ".xhtml")


@dataclass
class Acquired:
    """Pages archived (to process), rejects, raw index rows, and counts for the runs table."""

    pages: list[PageRef] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    raw_rows: list[RawRecord] = field(default_factory=list)
    discovered: int = 0
    responses: int = 0
    not_modified: int = 0  # feeds, sitemaps and pages that answered 304
    skipped: int = 0  # known pages not due for a re-check


# --- the web ----------------------------------------------------------------------------

State = dict[str, RawRecord]  # url -> the latest archived 200/304 answer for it (the raw index's memory)


def fetch_state(rows: Iterable[RawRecord]) -> State:
    """For each URL, the latest successful or not-modified response: what incremental runs compare to."""
    state: State = {}
    for row in rows:
        if row.record_type != "response" or row.status not in (200, 304) or row.kind not in ("page", "feed",
                                                                                                "sitemap"):
            continue
        previous = state.get(row.url)
        if previous is None or row.fetched_at >= previous.fetched_at:
            if row.status == 304 and previous is not None:  # a 304 keeps the validators of the 200 it confirmed
                row = replace(row, etag=row.etag or previous.etag,
                              last_modified=row.last_modified or previous.last_modified)
            state[row.url] = row
    return state


def _known_links(state: State, source: str) -> list[Link]:
    """The pages an unchanged feed or sitemap named before (they may still be due for a re-check)."""
    return [Link(url) for url, row in state.items() if row.kind == "page" and row.source == source]


def _validators(state: State, url: str) -> Validators | None:
    row = state.get(url)
    if row is None or not (row.etag or row.last_modified):
        return None
    return Validators(row.etag, row.last_modified)


def discover_links(fetcher: Fetcher, sources: Sources, limit: int,
                   state: State | None = None) -> tuple[list[tuple[str, str, str | None]], list[Reject], int]:
    """(url, source label, date the source gives) named by feeds, sitemaps and URL files, first naming
    kept; the rejects; and how many feeds or sitemaps answered 'not modified'."""
    state = state or {}
    triples: list[tuple[str, str, str | None]] = []
    rejects: list[Reject] = []
    not_modified = 0
    for feed in sources.feeds:
        links, problem, unchanged = _read_feed(fetcher, feed, limit, state)
        triples.extend((link.url, f"feed:{feed}", link.date) for link in links)
        rejects.extend(problem)
        not_modified += unchanged
    for sitemap in sources.sitemaps:
        links, problems, unchanged = _read_sitemaps(fetcher, sitemap, limit, state)
        triples.extend((link.url, f"sitemap:{sitemap}", link.date) for link in links)
        rejects.extend(problems)
        not_modified += unchanged
    for path in sources.urls:
        content = read_url_file(Path(path), limit)
        triples.extend((link.url, f"urls:{path}", None) for link in content.links)
        rejects.extend(_content_rejects(path, content, None, "URL list"))
    seen: set[str] = set()
    unique = [t for t in triples if not (t[0] in seen or seen.add(t[0]))]  # type: ignore[func-returns-value]
    return unique, rejects, not_modified


def read_url_file(path: Path, limit: int) -> SourceContent:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read URL list {path}: {exc.strerror}") from None
    return read_url_list(text, limit)


def _source_reject(url: str, outcome: Reject | Fetched, problem: str | None = None) -> Reject:
    """A feed or sitemap that gave nothing: unreachable (its fetch was rejected) or unparseable."""
    if isinstance(outcome, Reject):
        return Reject(stage="discover", reason="source_unreachable", url=url, raw_ref=outcome.raw_ref,
                      detail=f"{outcome.reason}: {outcome.detail}")
    return Reject(stage="discover", reason="source_unparseable", url=url, raw_ref=_ref(outcome.raw),
                  detail=problem or "")


def _content_rejects(url: str, content: SourceContent, fetched: Fetched | None, what: str) -> list[Reject]:
    """Quarantine rows for a source that was read but is damaged: malformed XML (the links before the
    first error are still used) or named URLs that are not http(s) (skipped)."""
    raw_ref = _ref(fetched.raw) if fetched is not None else None
    rejects = []
    if content.malformed:
        rejects.append(Reject(stage="discover", reason="source_unparseable", url=url, raw_ref=raw_ref,
                              detail=f"malformed XML ({content.malformed}); links before the error, "
                                     f"used: {len(content.links) + len(content.sitemaps)}"))
    if content.invalid_count:
        examples = ", ".join(repr(u) for u in content.invalid)
        rejects.append(Reject(stage="discover", reason="invalid_url", url=url, raw_ref=raw_ref,
                              detail=f"{content.invalid_count} URLs in the {what} are not http(s) URLs and were "
                                     f"skipped, e.g. {examples}"))
    if content.at_limit:
        log.warning("%s %s: read up to the limit of %d links (fetch.max_urls_per_source); the rest is ignored",
                    what, url, len(content.links) + len(content.sitemaps))
    return rejects


def _read_feed(fetcher: Fetcher, url: str, limit: int, state: State) -> tuple[list[Link], list[Reject], int]:
    outcome = fetcher.fetch(url, source="feed", purpose="feed", validators=_validators(state, url))
    if isinstance(outcome, NotModified):
        return _known_links(state, f"feed:{url}"), [], 1  # unchanged: its pages, each checked if due
    if isinstance(outcome, Reject):
        return [], [_source_reject(url, outcome)], 0
    try:
        content = read_feed(outcome.body, outcome.raw.final_url, limit)
    except SourceFormatError as exc:
        return [], [_source_reject(url, outcome, str(exc))], 0
    return list(content.links), _content_rejects(url, content, outcome, "feed"), 0


def _read_sitemaps(fetcher: Fetcher, root: str, limit: int,
                   state: State) -> tuple[list[Link], list[Reject], int]:
    """Links of a sitemap and, through indexes, of its children: each document is read once (an index
    that names itself, or two that name each other, end), at most MAX_SITEMAPS of them."""
    queue, seen = deque([root]), {root, canonicalize_url(root) or root}
    links: list[Link] = []
    rejects: list[Reject] = []
    reads = not_modified = 0
    while queue and reads < MAX_SITEMAPS and len(links) < limit:
        url = queue.popleft()
        reads += 1
        outcome = fetcher.fetch(url, source=f"sitemap:{root}", purpose="sitemap", validators=_validators(state, url))
        if isinstance(outcome, NotModified):
            not_modified += 1
            if url == root:
                links.extend(_known_links(state, f"sitemap:{root}"))
            continue
        if isinstance(outcome, Reject):
            rejects.append(_source_reject(url, outcome))
            continue
        seen.add(outcome.raw.final_url)  # where it redirected to counts as read too
        try:
            content = parse_sitemap(outcome.body, outcome.raw.final_url, limit - len(links))
        except SourceFormatError as exc:
            rejects.append(_source_reject(url, outcome, str(exc)))
            continue
        links.extend(content.links)
        rejects.extend(_content_rejects(url, content, outcome, "sitemap"))
        for child in content.sitemaps:
            if child not in seen:
                seen.add(child)
                queue.append(child)
    if queue and reads >= MAX_SITEMAPS:
        log.warning("sitemap %s: stopped after %d sitemap documents (%d more named, not read)", root, reads,
                    len(queue))
    return links, rejects, not_modified


def due(url: str, source_date: str | None, state: State, now: datetime, recheck_after: timedelta) -> bool:
    """Whether a known URL needs a (conditional) request: its source says it changed after we fetched
    it, or its re-check interval has passed. Unknown URLs are always due."""
    previous = state.get(url)
    if previous is None:
        return True
    if source_date and (changed := parse_date(source_date)) is not None and changed.at > previous.fetched_at:
        return True
    return now - previous.fetched_at >= recheck_after


def fetch_web(sources: Sources, settings: FetchSettings, archive: WarcArchive, run_id: str,
              state: State | None = None, now: datetime | None = None) -> Acquired:
    """Discover URLs from feeds, sitemaps and URL lists, then fetch and archive the pages that are new
    or due; pages fetched before are asked for conditionally (ETag, Last-Modified)."""
    result = Acquired()
    state = state or {}
    now = now or datetime.now(UTC)
    recheck_after = timedelta(hours=settings.recheck_after_hours)
    with Fetcher(settings, archive, run_id) as fetcher:
        triples, rejects, result.not_modified = discover_links(fetcher, sources, settings.max_urls_per_source, state)
        result.discovered = len(triples)
        result.rejects.extend(rejects)
        wanted = [(u, s, _validators(state, u)) for u, s, d in triples if due(u, d, state, now, recheck_after)]
        result.skipped = len(triples) - len(wanted)
        log.info("discovered %d URLs, %d due (%d sources rejected)", len(triples), len(wanted), len(rejects))
        with progress("fetch", len(wanted)) as tracker:
            outcomes = []
            for outcome in fetcher.fetch_all(wanted):
                outcomes.append(outcome)
                tracker.advance()
        for outcome in outcomes:
            if isinstance(outcome, NotModified):
                result.not_modified += 1
            elif isinstance(outcome, Fetched):
                raw = outcome.raw
                result.pages.append(PageRef(raw.final_url, f"{raw.warc_file}#{raw.warc_offset}",
                                            raw.fetched_at, raw.content_type))
            else:
                result.rejects.append(outcome)
        result.raw_rows = list(fetcher.raw_rows)
        result.responses = fetcher.responses
    return result


# --- files ------------------------------------------------------------------------------

KnownRaw = dict[tuple[str, str], RawRecord]  # (url, sha1) -> the raw row that archived those bytes


def iter_html_files(folder: Path) -> Iterator[Path]:
    """Saved pages under a folder, recursively, in name order."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name.lower().endswith(HTML_SUFFIXES):
            yield path


def read_html_file(path: Path, max_bytes: int) -> tuple[bytes, bool]:
    """A saved page's bytes (gunzipped for .gz), cut at max_bytes; and whether it was cut."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return data[:max_bytes], len(data) > max_bytes


# parsing records holds the GIL, so more threads gain little; each page in flight holds its bytes
# (up to fetch.max_bytes), and 2 * ARCHIVE_THREADS are in flight
ARCHIVE_THREADS = 8


def archive_files(sources: Sources, settings: FetchSettings, archive: WarcArchive, run_id: str,
                  known: KnownRaw) -> Acquired:
    """Copy saved pages (--html-dir), WARC response records (--warc) and the rows of articles files
    (--articles, flows/articles.py) into the archive.

    Bytes already archived under the same URL are not copied again; their old record is reused.
    """
    result = Acquired()
    if sources.articles:
        from dateline.flows.articles import archive_article_file  # it imports this module

        for article_file in sources.articles:
            archive_article_file(Path(article_file), archive, run_id, known, result)
    for folder in sources.html_dirs:
        for path in iter_html_files(Path(folder)):
            result.discovered += 1
            _archive_html_file(path, folder, settings, archive, run_id, known, result)
    # WARC records are read in order and archived by a thread each, a few at a time (one thread per
    # core, up to ARCHIVE_THREADS): most of the work is compressing them, which runs at once in threads
    # (zlib lets go of the GIL). Pages keep the input order. One URL's same bytes twice in flight at
    # once may both be archived (each row points at a whole record).
    threads = min(os.cpu_count() or 1, ARCHIVE_THREADS)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque[Future[Acquired]] = deque()
        for warc in sources.warcs:
            with open(warc, "rb") as stream:
                for page in iter_warc_pages(stream, settings.max_bytes):
                    if page.record_type == "response" and page.status is None:
                        continue
                    result.discovered += 1
                    pending.append(pool.submit(_archive_warc_page, page, warc, archive, run_id, known))
                    if len(pending) > 2 * threads:  # bounded: each holds a page's bytes
                        _add(result, pending.popleft().result())
        while pending:
            _add(result, pending.popleft().result())
    return result


def _add(result: Acquired, part: Acquired) -> None:
    result.pages += part.pages
    result.rejects += part.rejects
    result.raw_rows += part.raw_rows


def _archive_html_file(path: Path, folder: str, settings: FetchSettings, archive: WarcArchive,
                       run_id: str, known: KnownRaw, result: Acquired) -> None:
    origin = path.resolve().as_uri()
    try:
        body, truncated = read_html_file(path, settings.max_bytes)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        result.rejects.append(Reject(stage="archive", reason="undecodable", url=origin,
                                     detail=f"cannot read {path}: {exc}"))
        return
    url = declared_url(body) or origin
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    raw = _store(known, url, body, lambda: archive.write_resource(
        url=url, content_type="text/html", body=body, fetched_at=mtime, origin=origin),
        status=None, content_type="text/html", truncated=truncated, fetched_at=mtime,
        record_type="resource", source=f"html-dir:{folder}", run_id=run_id, result=result)
    if truncated:
        result.rejects.append(Reject(stage="archive", reason="too_large", url=url, raw_ref=_ref(raw),
                                     detail=f"file larger than {settings.max_bytes} bytes (archived truncated)"))
    else:
        result.pages.append(PageRef(url, _ref(raw), raw.fetched_at, raw.content_type))


def _archive_warc_page(page, warc: str, archive: WarcArchive, run_id: str,  # type: ignore[no-untyped-def]
                       known: KnownRaw) -> Acquired:
    """Archive one WARC page; its page, reject and raw row (runs in a thread of archive_files)."""
    result = Acquired()
    fetched_at = page.date or datetime.now(UTC)
    if page.record_type == "response":
        def write():  # type: ignore[no-untyped-def]
            return archive.write_response(
                url=page.url, status=page.status, reason="", http_version="HTTP/1.1", headers=page.headers,
                body=page.payload, truncated=page.truncated, fetched_at=fetched_at, request_headers=[])
    else:
        def write():  # type: ignore[no-untyped-def]
            return archive.write_resource(url=page.url, content_type=page.content_type or "text/html",
                                          body=page.payload, fetched_at=fetched_at, origin=f"file://{warc}")
    raw = _store(known, page.url, page.payload, write, status=page.status, content_type=page.content_type,
                 truncated=page.truncated, fetched_at=fetched_at, record_type=page.record_type,
                 source=f"warc:{warc}", run_id=run_id, result=result)
    mime = (page.content_type or "").split(";", 1)[0].strip().lower()
    if page.status is not None and not 200 <= page.status < 300:
        result.rejects.append(Reject(stage="fetch", reason="http_error", url=page.url, raw_ref=_ref(raw),
                                     detail=f"HTTP {page.status}"))
    elif mime and mime not in HTML_TYPES:
        result.rejects.append(Reject(stage="fetch", reason="not_html", url=page.url, raw_ref=_ref(raw),
                                     detail=f"content type {mime}"))
    elif page.truncated:
        result.rejects.append(Reject(stage="archive", reason="too_large", url=page.url, raw_ref=_ref(raw),
                                     detail="record larger than the size limit (archived truncated)"))
    else:
        result.pages.append(PageRef(page.url, _ref(raw), fetched_at, page.content_type))
    return result


def _ref(raw: RawRecord) -> str:
    return f"{raw.warc_file}#{raw.warc_offset}"


def _store(known: KnownRaw, url: str, body: bytes, write, *, status: int | None,  # type: ignore[no-untyped-def]
           content_type: str | None, truncated: bool, fetched_at: datetime, record_type: str, source: str,
           run_id: str, result: Acquired) -> RawRecord:
    sha1 = sha1_hex(body)
    if (url, sha1) in known:
        return known[(url, sha1)]
    stored = write()
    raw = RawRecord(url=url, final_url=url, status=status, content_type=content_type, sha1=sha1,
                    length=len(body), truncated=truncated, fetched_at=fetched_at, warc_file=stored.warc_file,
                    warc_offset=stored.offset, record_type=record_type, kind="page", source=source,
                    run_id=run_id)
    known[(url, sha1)] = raw
    result.raw_rows.append(raw)
    return raw


def known_raw(rows: Iterable[RawRecord]) -> KnownRaw:
    return {(r.url, r.sha1): r for r in rows}
