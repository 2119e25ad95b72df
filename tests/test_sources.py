"""Discovery: feeds, sitemaps and URL lists parsed from bytes."""

from __future__ import annotations

import gzip

import pytest
from dateline.transforms.sources import (
    Link,
    SourceFormatError,
    maybe_gunzip,
    parse_feed,
    parse_sitemap,
    parse_url_list,
)

BASE = "https://news.example/"


def test_rss_items_give_links_with_pubdate_and_tracking_removed():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><link>https://news.example/</link>
      <item><link>https://news.example/a?utm_source=rss</link><pubDate>Wed, 04 Jan 2023 09:38:00 GMT</pubDate></item>
      <item><link>/b</link></item><item><link>https://news.example/a</link></item></channel></rss>"""
    assert parse_feed(rss, BASE, limit=10) == [
        Link("https://news.example/a", "Wed, 04 Jan 2023 09:38:00 GMT"), Link("https://news.example/b")]


def test_atom_entries_use_alternate_links():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
      <link rel="self" href="https://news.example/self"/><link href="https://news.example/story"/>
      <published>2024-05-01T10:00:00Z</published></entry></feed>"""
    assert parse_feed(atom, BASE, limit=10) == [Link("https://news.example/story", "2024-05-01T10:00:00Z")]


def test_json_feed_items():
    doc = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "/x", "date_published": "2024-01-01"}]}'
    assert parse_feed(doc, BASE, limit=10) == [Link("https://news.example/x", "2024-01-01")]


def test_feed_link_count_is_bounded_by_limit():
    items = "".join(f"<item><link>https://news.example/{i}</link></item>" for i in range(500))
    assert len(parse_feed(f"<rss><channel>{items}</channel></rss>".encode(), BASE, limit=25)) == 25


def test_feed_declaring_entities_is_refused_not_expanded():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
      <rss><channel><item><link>https://news.example/&b;</link></item></channel></rss>"""
    with pytest.raises(SourceFormatError, match=r"declares 2 XML entities \(a, b\)"):
        parse_feed(bomb, BASE, limit=10)  # more cases, timed, in tests/test_bad_sources.py


@pytest.mark.parametrize("payload", [b"", b"<html><body>hi</body></html>", b"{not json"], ids=["empty", "html", "json"])
def test_non_feed_raises_source_format_error(payload):
    with pytest.raises(SourceFormatError):
        parse_feed(payload, BASE, limit=10)


def test_sitemap_index_lists_children():
    xml = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/s1.xml</loc></sitemap><sitemap><loc>https://news.example/s2.xml.gz</loc></sitemap>
      </sitemapindex>"""
    content = parse_sitemap(xml, BASE, limit=10)
    assert content.sitemaps == ("https://news.example/s1.xml", "https://news.example/s2.xml.gz")
    assert content.links == ()


def test_news_sitemap_gives_publication_date_over_lastmod():
    xml = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://news.example/n</loc><lastmod>2024-09-04</lastmod>
      <news:news><news:publication_date>2024-09-03T00:03:19-04:00</news:publication_date></news:news></url></urlset>"""
    assert parse_sitemap(xml, BASE, limit=10).links == (Link("https://news.example/n", "2024-09-03T00:03:19-04:00"),)


def test_gzipped_sitemap_is_read():
    xml = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/z</loc></url></urlset>'
    assert parse_sitemap(gzip.compress(xml), BASE, limit=10).links == (Link("https://news.example/z"),)


def test_gzip_inflation_is_capped():
    with pytest.raises(SourceFormatError, match="inflates beyond"):
        maybe_gunzip(gzip.compress(b"0" * 100_000), limit=1000)


def test_text_sitemap_is_a_url_list():
    assert parse_sitemap(b"https://news.example/1\nhttps://news.example/2\n", BASE, limit=10).links == (
        Link("https://news.example/1"), Link("https://news.example/2"))


def test_url_list_skips_comments_blanks_duplicates_and_non_http():
    text = "# my list\n\nhttps://news.example/1\nftp://x/y\nnot a url\nhttps://news.example/1#frag\n"
    assert parse_url_list(text, limit=10) == [Link("https://news.example/1")]
