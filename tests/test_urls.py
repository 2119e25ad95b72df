"""URL canonicalization and ids."""

from __future__ import annotations

import pytest
from dateline.transforms.urls import article_id_of, canonicalize_url, domain_of


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://Example.com:443/a?utm_source=x&b=2&a=1#top", "https://example.com/a?a=1&b=2"),
    ("https://news.example/story?id=7&fbclid=abc", "https://news.example/story?id=7"),
    ("/relative/path", "https://base.example/relative/path"),
    ("javascript:alert(1)", None),
    ("file:///etc/passwd", None),
    ("", None),
], ids=["tracking-and-order", "fbclid", "relative", "javascript", "file", "empty"])
def test_canonicalize_url(url, expected):
    assert canonicalize_url(url, base="https://base.example/x/") == expected


def test_distinct_query_parameters_stay_distinct_articles():
    a = canonicalize_url("https://news.example/article.php?story=1")
    b = canonicalize_url("https://news.example/article.php?story=2")
    assert a != b


def test_domain_drops_www_and_lowercases():
    assert domain_of("https://WWW.JPost.com/international") == "jpost.com"


def test_article_id_is_sha1_of_canonical_url():
    assert article_id_of("https://www.jpost.com/international/article-726552") == \
        "03e492b3b1600bf4a7662e0ce8d5a710e606147a"
