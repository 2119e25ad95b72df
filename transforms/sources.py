"""Discovery: feeds, sitemaps and URL lists -> the page URLs they name, with their dates.

trafilatura's feed and sitemap helpers fetch by themselves and drop pubDate/lastmod, so the
parsing lives here; URLs are checked and cleaned with courlan (through transforms.urls).

Feeds and sitemaps come from servers we do not control, so the XML is read defensively:
- lxml never resolves entities, loads no DTD and touches no network, and keeps libxml2's
  size and depth limits (no ``huge_tree``); on top of that a document that declares entities
  (``<!ENTITY ...>``: billion laughs, quadratic blowup, external entities) is refused outright,
  the check defusedxml makes, so nothing depends on libxml2's own amplification limit (which,
  in libxml2 2.14, also stops such bombs in about a millisecond);
- the document is read incrementally and reading stops at the link limit, with finished items
  freed as it goes: a feed with 100,000 items costs the time and memory of ``limit`` of them;
- a document that is not well-formed gives the links read before its first error, and says what
  the error was (``malformed``) so the source can be flagged. Nothing after the error is guessed:
  libxml2's recovery mode turns a feed cut in the middle of a URL into a wrong URL. Two common
  sloppinesses are repaired first instead: a bare ``&`` ("?a=1&b=2") and an HTML entity
  (``&nbsp;``) are escaped, so they neither stop the parse nor damage a link.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from dateline.transforms.urls import canonicalize_url
from lxml import etree

MAX_DECOMPRESSED = 50_000_000  # a gzipped sitemap may not inflate beyond this
MAX_EXAMPLES = 3  # unusable URLs quoted in a SourceContent (the count is kept in full)
_FEED_ROOTS = frozenset({"rss", "rdf", "feed", "channel"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
XML_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
               "recover": False, "remove_comments": True, "remove_pis": True}
_CDATA = re.compile(rb"(<!\[CDATA\[.*?(?:\]\]>|\Z))", re.DOTALL)  # an unclosed one runs to the end: linear
_STRAY_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")  # starts no XML reference


class SourceFormatError(ValueError):
    """The document is not a feed, sitemap or URL list we can read."""


@dataclass(frozen=True, slots=True)
class Link:
    """A page URL a source named, with the date the source gave it (pubDate, lastmod), if any."""

    url: str
    date: str | None = None


@dataclass(frozen=True, slots=True)
class SourceContent:
    """What a feed or sitemap named: page links, child sitemaps (indexes), and what was wrong with it."""

    links: tuple[Link, ...]
    sitemaps: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()  # the first MAX_EXAMPLES named URLs that are not http(s) URLs
    invalid_count: int = 0  # all of them
    malformed: str | None = None  # the first XML error, when the document is not well-formed (links: those before it)
    at_limit: bool = False  # reading stopped at the link limit; the document may name more


SitemapContent = SourceContent  # the name callers used before feeds had problems to report


class _Collector:
    """Links and child sitemaps as a document names them: deduplicated, bounded, bad URLs counted."""

    def __init__(self, base_url: str, limit: int) -> None:
        self.base_url = base_url
        self.limit = limit
        self.links: list[Link] = []
        self.children: list[str] = []
        self.invalid: list[str] = []
        self.invalid_count = 0
        self._seen: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.links) + len(self.children) >= self.limit

    def add(self, href: str | None, date: str | None = None, *, child: bool = False) -> None:
        if not href or not href.strip():
            return
        url = canonicalize_url(href, base=self.base_url)
        if url is None:
            self.invalid_count += 1
            if len(self.invalid) < MAX_EXAMPLES:
                self.invalid.append(href.strip()[:200])
            return
        if url in self._seen:
            return
        self._seen.add(url)
        if child:
            self.children.append(url)
        else:
            self.links.append(Link(url, date))

    def content(self, malformed: str | None = None) -> SourceContent:
        return SourceContent(tuple(self.links), tuple(self.children), tuple(self.invalid), self.invalid_count,
                             malformed, self.full)


def maybe_gunzip(payload: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """The payload, inflated if it is gzip; raises SourceFormatError past ``limit`` bytes."""
    if payload[:2] != b"\x1f\x8b":
        return payload
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(payload, limit + 1)
    except zlib.error as exc:
        raise SourceFormatError(f"broken gzip data: {exc}") from None
    if len(out) > limit:
        raise SourceFormatError(f"inflates beyond {limit} bytes")
    return out


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(el: etree._Element, *names: str) -> str | None:
    for child in el:
        if _local(child.tag) in names and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def _refuse_entities(root: etree._Element) -> None:
    """Raise for a document whose DTD declares entities: no feed or sitemap needs them, attacks do."""
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is None:
        return
    names = [str(entity.name) for entity in dtd.iterentities()]
    if names:
        shown = ", ".join(names[:MAX_EXAMPLES]) + (", ..." if len(names) > MAX_EXAMPLES else "")
        raise SourceFormatError(f"declares {len(names)} XML entities ({shown}): refused, as entity expansion "
                                "or external entities could be an attack")


def escape_stray_ampersands(data: bytes) -> bytes:
    """Escape each '&' that starts no XML reference: a bare one ("?a=1&b=2") or an HTML entity
    ("&nbsp;", never declared: documents that declare entities are refused). CDATA is left alone."""
    parts = _CDATA.split(data)  # odd positions: the CDATA sections
    return b"".join(part if n % 2 else _STRAY_AMPERSAND.sub(b"&amp;", part) for n, part in enumerate(parts))


class _XmlReader:
    """Reads a document's elements as they end, freeing each finished one (bounded memory), up to
    its first well-formedness error (kept in ``error``)."""

    def __init__(self, payload: bytes, roots: frozenset[str], what: str) -> None:
        data = maybe_gunzip(payload).lstrip()
        if not data:
            raise SourceFormatError("empty document")
        self.roots, self.what = roots, what
        self._events = etree.iterparse(io.BytesIO(escape_stray_ampersands(data)), events=("start", "end"),
                                       **XML_OPTIONS)
        self.root_kind = ""
        self.error: str | None = None

    def ended(self) -> Iterator[tuple[etree._Element, int]]:
        """(element, depth) for each element as its end tag is read; the root's own end is not given."""
        depth = 0
        try:
            for event, el in self._events:
                if event == "start":
                    if depth == 0:
                        self._check_root(el)
                    depth += 1
                    continue
                depth -= 1
                if depth > 0:
                    yield el, depth
        except etree.XMLSyntaxError as exc:
            if not self.root_kind:
                raise SourceFormatError(f"not XML: {_describe(exc, self._events.error_log)}") from None
            self.error = _describe(exc, self._events.error_log)
        if not self.root_kind:
            raise SourceFormatError("not XML: no element")

    def _check_root(self, root: etree._Element) -> None:
        self.root_kind = _local(root.tag)
        _refuse_entities(root)
        if self.root_kind not in self.roots:
            raise SourceFormatError(f"not a {self.what}: root element <{self.root_kind or root.tag}>")

    @staticmethod
    def release(el: etree._Element) -> None:
        """Free a finished element and the siblings before it (the usual iterparse pattern)."""
        el.clear(keep_tail=True)
        parent = el.getparent()
        while parent is not None and el.getprevious() is not None:
            del parent[0]


def _describe(exc: etree.XMLSyntaxError, log: etree._ListErrorLog) -> str:
    """'line 3, column 14: Premature end of data in tag item line 2': the first error of this parse
    (``log``: the parser's own; the exception's log also holds earlier parses' errors)."""
    errors = list(log)
    if not errors:
        return " ".join(str(exc).split())
    first = errors[0]
    return f"line {first.line}, column {first.column}: {' '.join(str(first.message).split())}"


def read_feed(payload: bytes, base_url: str, limit: int) -> SourceContent:
    """Item links of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document, at most ``limit``."""
    stripped = maybe_gunzip(payload).lstrip()
    if stripped[:1] == b"{":
        return _read_json_feed(stripped, base_url, limit)
    reader = _XmlReader(stripped, _FEED_ROOTS, "feed")
    found = _Collector(base_url, limit)
    for el, _depth in reader.ended():
        if _local(el.tag) not in {"item", "entry"}:
            continue
        found.add(_item_link(el), _child_text(el, "pubdate", "published", "updated", "date", "issued", "modified"))
        reader.release(el)
        if found.full:
            break
    return found.content(reader.error)


def parse_feed(payload: bytes, base_url: str, limit: int) -> list[Link]:
    """The links of :func:`read_feed` (for callers that need nothing else)."""
    return list(read_feed(payload, base_url, limit).links)


def _item_link(item: etree._Element) -> str | None:
    for child in item:
        if _local(child.tag) != "link":
            continue
        if child.get("href"):  # Atom
            if child.get("rel", "alternate") == "alternate":
                return str(child.get("href"))
        elif child.text and child.text.strip():
            return str(child.text.strip())
    about = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    if about:
        return str(about)
    for child in item:  # RSS guid that is a permalink
        if _local(child.tag) == "guid" and child.get("isPermaLink", "true") != "false" and child.text:
            return str(child.text.strip())
    return None


def _read_json_feed(data: bytes, base_url: str, limit: int) -> SourceContent:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise SourceFormatError("not a JSON feed: invalid JSON") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SourceFormatError("not a JSON feed: no items list")
    found = _Collector(base_url, limit)
    for item in items:
        if not isinstance(item, dict):
            continue
        href = item.get("url") or item.get("external_url")
        date = item.get("date_published") or item.get("date_modified")
        found.add(href if isinstance(href, str) else None, date if isinstance(date, str) else None)
        if found.full:
            break
    return found.content()


def parse_sitemap(payload: bytes, base_url: str, limit: int) -> SourceContent:
    """Page links (with lastmod or news:publication_date) and child sitemaps of a sitemap.

    Reads <urlset> sitemaps (Google News extension included), <sitemapindex> indexes, and plain
    text sitemaps (one URL a line).
    """
    data = maybe_gunzip(payload)
    if not data.lstrip().startswith(b"<"):
        return read_url_list(_text_sitemap(data), limit)
    reader = _XmlReader(data, _SITEMAP_ROOTS, "sitemap")
    found = _Collector(base_url, limit)
    for el, depth in reader.ended():
        name = _local(el.tag)
        if depth != 1 or name not in {"url", "sitemap"}:
            continue
        if name == "sitemap" or reader.root_kind == "sitemapindex":
            found.add(_child_text(el, "loc"), child=True)
        else:
            date = _child_text(el, "lastmod")
            for news in el:
                if _local(news.tag) == "news":
                    date = _child_text(news, "publication_date") or date
            found.add(_child_text(el, "loc"), date)
        reader.release(el)
        if found.full:
            break
    return found.content(reader.error)


def _text_sitemap(data: bytes) -> str:
    """A text sitemap's text: UTF-8 (as the sitemap protocol requires) without NUL bytes, else binary."""
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is not part of the first URL
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"not a sitemap: neither XML nor UTF-8 text ({exc.reason} at byte {exc.start})"
                                ) from None
    if "\x00" in text:
        raise SourceFormatError("not a sitemap: neither XML nor text (NUL bytes)")
    return text


def read_url_list(text: str, limit: int) -> SourceContent:
    """URLs of a text list, one a line (blank lines and '#' comments skipped), and the lines that are not.

    Lines are not resolved against any base: a line that is not an absolute http(s) URL is invalid.
    """
    found = _Collector("", limit)
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found.add(line)
        if found.full:
            break
    return found.content()


def parse_url_list(text: str, limit: int) -> list[Link]:
    """The links of :func:`read_url_list`."""
    return list(read_url_list(text, limit).links)
