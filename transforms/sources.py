"""Discovery: feeds, sitemaps and URL lists -> the page URLs they name, with their dates.

trafilatura's feed and sitemap helpers fetch by themselves and drop pubDate/lastmod, so the
parsing lives here, with lxml set up not to resolve entities or touch the network; URLs are
checked and cleaned with courlan (through transforms.urls).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from lxml import etree

from transforms.urls import canonicalize_url

MAX_DECOMPRESSED = 50_000_000  # a gzipped sitemap may not inflate beyond this


class SourceFormatError(ValueError):
    """The document is not a feed, sitemap or URL list we can read."""


@dataclass(frozen=True, slots=True)
class Link:
    """A page URL a source named, with the date the source gave it (pubDate, lastmod), if any."""

    url: str
    date: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapContent:
    """A sitemap's page links and the child sitemaps it points to (for sitemap indexes)."""

    links: tuple[Link, ...]
    sitemaps: tuple[str, ...]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           recover=True, remove_comments=True, remove_pis=True)


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


def _parse_xml(payload: bytes) -> etree._Element:
    data = maybe_gunzip(payload).lstrip()
    if not data:
        raise SourceFormatError("empty document")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise SourceFormatError(f"not XML: {exc}") from None
    if root is None:
        raise SourceFormatError("not XML")
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(el: etree._Element, *names: str) -> str | None:
    for child in el:
        if _local(child.tag) in names and child.text and child.text.strip():
            return str(child.text.strip())
    return None


def parse_feed(payload: bytes, base_url: str, limit: int) -> list[Link]:
    """Item links of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document, at most ``limit``."""
    stripped = maybe_gunzip(payload).lstrip()
    if stripped[:1] == b"{":
        return _parse_json_feed(stripped, base_url, limit)
    root = _parse_xml(stripped)
    if _local(root.tag) not in {"rss", "rdf", "feed", "channel"}:
        raise SourceFormatError(f"not a feed: root element <{_local(root.tag)}>")
    links: list[Link] = []
    seen: set[str] = set()
    for item in root.iter():
        name = _local(item.tag)
        if name not in {"item", "entry"}:
            continue
        href = _item_link(item)
        date = _child_text(item, "pubdate", "published", "updated", "date", "issued", "modified")
        url = canonicalize_url(href, base=base_url) if href else None
        if url and url not in seen:
            seen.add(url)
            links.append(Link(url, date))
            if len(links) >= limit:
                break
    return links


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


def _parse_json_feed(data: bytes, base_url: str, limit: int) -> list[Link]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise SourceFormatError("not a JSON feed: invalid JSON") from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SourceFormatError("not a JSON feed: no items list")
    links: list[Link] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        href = item.get("url") or item.get("external_url")
        url = canonicalize_url(href, base=base_url) if isinstance(href, str) else None
        if url:
            date = item.get("date_published") or item.get("date_modified")
            links.append(Link(url, date if isinstance(date, str) else None))
            if len(links) >= limit:
                break
    return links


def parse_sitemap(payload: bytes, base_url: str, limit: int) -> SitemapContent:
    """Page links (with lastmod or news:publication_date) and child sitemaps of a sitemap.

    Reads <urlset> sitemaps (Google News extension included), <sitemapindex> indexes, and plain
    text sitemaps (one URL a line).
    """
    data = maybe_gunzip(payload)
    if not data.lstrip().startswith(b"<"):
        return SitemapContent(tuple(parse_url_list(data.decode("utf-8", "replace"), limit)), ())
    root = _parse_xml(data)
    kind = _local(root.tag)
    if kind not in {"urlset", "sitemapindex"}:
        raise SourceFormatError(f"not a sitemap: root element <{kind}>")
    links: list[Link] = []
    children: list[str] = []
    for entry in root:
        name = _local(entry.tag)
        if name not in {"url", "sitemap"}:
            continue
        loc = _child_text(entry, "loc")
        url = canonicalize_url(loc, base=base_url) if loc else None
        if not url:
            continue
        if name == "sitemap" or kind == "sitemapindex":
            children.append(url)
        else:
            date = _child_text(entry, "lastmod")
            for news in entry:
                if _local(news.tag) == "news":
                    date = _child_text(news, "publication_date") or date
            links.append(Link(url, date))
        if len(links) + len(children) >= limit:
            break
    return SitemapContent(tuple(links), tuple(children))


def parse_url_list(text: str, limit: int) -> list[Link]:
    """URLs of a text list: one a line; blank lines and lines starting with '#' are skipped."""
    links: list[Link] = []
    seen: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        url = canonicalize_url(line)
        if url and url not in seen:
            seen.add(url)
            links.append(Link(url))
            if len(links) >= limit:
                break
    return links
