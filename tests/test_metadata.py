"""Metadata readers and normalizers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from trafilatura.utils import load_html

from transforms.metadata import (
    clean_site_name,
    find_published,
    normalize_language,
    parse_date,
    read_page_metadata,
    split_tags,
)


@pytest.mark.parametrize(("text", "at", "offset", "precision"), [
    ("2023-01-04T11:38:00+02:00", datetime(2023, 1, 4, 9, 38, tzinfo=UTC), "+02:00", "time"),
    ("2023-01-04T11:38:00+0200", datetime(2023, 1, 4, 9, 38, tzinfo=UTC), "+02:00", "time"),
    ("2023-01-04T09:38:00Z", datetime(2023, 1, 4, 9, 38, tzinfo=UTC), "+00:00", "time"),
    ("2024-09-03T00:03:19-04:00", datetime(2024, 9, 3, 4, 3, 19, tzinfo=UTC), "-04:00", "time"),
    ("Wed, 04 Jan 2023 09:38:00 GMT", datetime(2023, 1, 4, 9, 38, tzinfo=UTC), "+00:00", "time"),
    ("2023-01-04 11:38:00", datetime(2023, 1, 4, 11, 38, tzinfo=UTC), None, "time"),
    ("2023-01-04", datetime(2023, 1, 4, tzinfo=UTC), None, "day"),
    ("2023-01", datetime(2023, 1, 1, tzinfo=UTC), None, "month"),
], ids=["iso", "compact-offset", "zulu", "negative-offset", "rfc2822", "naive", "day", "month"])
def test_parse_date(text, at, offset, precision):
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.at, parsed.utc_offset, parsed.precision) == (at, offset, precision)


@pytest.mark.parametrize("text", ["", "yesterday", "0001-01-01", "9999-12-31T00:00:00Z", "2023-13-45"])
def test_parse_date_rejects_implausible_text(text):
    assert parse_date(text) is None


def test_published_prefers_a_source_with_time_of_day():
    tree = load_html("""<html><head><meta name="date" content="2024-05-01">
      <meta property="article:published_time" content="2024-05-01T08:30:00+01:00"></head>
      <body><p>x</p></body></html>""")
    found = find_published(read_page_metadata(tree))
    assert found is not None
    parsed, source = found
    assert (parsed.at, parsed.utc_offset, source) == (datetime(2024, 5, 1, 7, 30, tzinfo=UTC), "+01:00", "meta")


def test_jsonld_graph_article_is_found():
    tree = load_html("""<html><head><script type="application/ld+json">
      {"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "X"},
       {"@type": ["NewsArticle"], "datePublished": "2024-02-03T04:05:06Z", "headline": "H"}]}</script>
      </head><body><p>x</p></body></html>""")
    meta = read_page_metadata(tree)
    assert meta.jsonld_value("headline") == "H"
    assert find_published(meta)[1] == "jsonld"


def test_broken_jsonld_is_ignored():
    tree = load_html('<html><head><script type="application/ld+json">{"@type": "NewsArticle",</script></head>'
                     "<body><p>x</p></body></html>")
    assert read_page_metadata(tree).jsonld == ()


@pytest.mark.parametrize(("value", "expected"), [("en-US", "en"), ("de_AT", "de"), ("FR", "fr"), ("", None),
                                                 ("x-klingon-long", None)])
def test_normalize_language(value, expected):
    assert normalize_language(value) == expected


def test_split_tags_splits_and_deduplicates_case_insensitively():
    assert split_tags(["Putin, Russia", ["russia", "Ukraine; Kremlin"], None, "  "]) == (
        "Putin", "Russia", "Ukraine", "Kremlin")


@pytest.mark.parametrize(("value", "expected"), [
    ("The Jerusalem Post | JPost.com", "The Jerusalem Post"),
    ("CBC News", "CBC News"),
    ("nytimes.com", "nytimes.com"),
    ("Der Standard - derstandard.at", "Der Standard"),
])
def test_clean_site_name(value, expected):
    assert clean_site_name(value) == expected
