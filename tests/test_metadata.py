"""Metadata readers and normalizers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dateline.transforms.fallbacks import TrafilaturaFallbacks
from dateline.transforms.metadata import (
    clean_site_name,
    find_published,
    jsonld_name,
    normalize_language,
    parse_date,
    read_page_metadata,
    split_tags,
)
from trafilatura.utils import load_html


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
                                                 ("x-klingon-long", None), ("utf-8", None), ("und", None),
                                                 ("iw", "he"), ("fil-PH", "fil")])
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


from dateline.transforms.language import detect_language  # noqa: E402
from dateline.transforms.metadata import choose_title, date_in_url, site_name_forms, strip_site_name  # noqa: E402

SITES = ["CBC News", "cbc.ca"]


@pytest.mark.parametrize(("title", "expected"), [
    ("What's next for Gaza? | CBC News", "What's next for Gaza?"),
    ("CBC News - What's next for Gaza?", "What's next for Gaza?"),
    ("Biden - Trump debate: what to watch | cbc.ca", "Biden - Trump debate: what to watch"),
    ("No site here", "No site here"),
])
def test_strip_site_name(title, expected):
    assert strip_site_name(title, SITES) == expected


def test_choose_title_takes_the_value_most_sources_agree_on():
    assert choose_title("SEO headline", "On-page headline", "On-page headline", [], SITES) == "On-page headline"


def test_choose_title_prefers_jsonld_then_h1_on_a_tie():
    assert choose_title("Headline A", "Headline B", "Headline C", [], SITES) == "Headline A"
    assert choose_title(None, "Headline B", "Headline C | CBC News", [], SITES) == "Headline B"


def test_choose_title_unescapes_entities_and_skips_the_site_name_as_h1():
    assert choose_title("Mexico&#8217;s plan", "CBC News", None, [], SITES) == "Mexico’s plan"


def test_a_headline_length_site_name_guess_does_not_make_every_title_a_site_part():
    # trafilatura's sitename is at times the page's whole <title> (tests/fixtures/fundus, Tageblatt)
    guess = "Nationale Demo Der 9. Juli naht: OGBL und LCGB demonstrieren Stärke"
    names = site_name_forms([None, "Tageblatt", guess, "tageblatt.lu"])
    assert names == ["Tageblatt", "tageblatt.lu"]
    assert choose_title("Der 9. Juli naht: OGBL und LCGB demonstrieren Stärke", None, guess, [], names) == \
        "Der 9. Juli naht: OGBL und LCGB demonstrieren Stärke"
    assert choose_title("Der 9. Juli naht: OGBL und LCGB demonstrieren Stärke", None, guess, [], [guess]) is None


def test_choose_title_falls_back_to_the_title_element():
    assert choose_title(None, None, None, [None, "Fallback headline | CBC News"], SITES) == "Fallback headline"


@pytest.mark.parametrize(("url", "day"), [
    ("https://x.example/2024/09/03/story", "2024-09-03"),
    ("https://x.example/news/20240903-story", "2024-09-03"),
    ("https://x.example/2024/13/03/story", None),
    ("https://x.example/story?date=2024/09/03", None),
])
def test_date_in_url(url, day):
    parsed = date_in_url(url)
    assert (parsed.at.date().isoformat() if parsed else None) == day
    assert parsed is None or parsed.precision == "day"


@pytest.mark.parametrize(("text", "code"), [
    ("Die Bundesregierung hat am Montag beschlossen, die Steuern zu senken, sagte der Minister.", "de"),
    ("The government decided on Monday to lower taxes, the minister told reporters.", "en"),
    ("El gobierno decidió el lunes bajar los impuestos, dijo el ministro a los periodistas.", "es"),
])
def test_detect_language(text, code):
    assert detect_language(text) == code


def test_detect_language_needs_some_text():
    assert detect_language("OK 123") is None


@pytest.mark.parametrize(("value", "name"), [
    ("Birgit Baumann", "Birgit Baumann"),
    ({"@type": "Person", "name": "Birgit Baumann"}, "Birgit Baumann"),
    ({"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"}, "Anna Giulia Fink"),
    ([{"@type": "Person", "familyName": "Marchart", "givenName": "Jan Michael"}], "Jan Michael Marchart"),
    ({"@type": "Person", "url": "https://x.example/a"}, None),
], ids=["string", "name", "given-family", "list-given-family", "nameless"])
def test_jsonld_name_reads_names_and_given_family_names(value, name):
    assert jsonld_name(value) == name


def test_trafilatura_fallbacks_are_computed_on_demand_from_the_page():
    tree = load_html("<html><head><title>Rain in Oslo | Nordic Post</title>"
                     "<meta name='author' content='Kari Nordmann'></head>"
                     "<body><article><p>It rained in Oslo on Monday.</p></article></body></html>")
    fallback = TrafilaturaFallbacks(tree, "https://nordicpost.example/2024/05/06/rain")
    assert "_meta" not in vars(fallback)  # nothing is read before it is asked for
    assert fallback.author == "Kari Nordmann"
    assert fallback.title == "Rain in Oslo"
    assert fallback.date == "2024-05-06"  # htmldate, from the URL


def test_a_login_box_heading_is_not_the_page_heading():
    from dateline.transforms.metadata import read_page_metadata
    from lxml.html import fromstring

    page = fromstring("<html><body><div role='dialog'><form><h1>Log In</h1></form></div>"
                      "<article><h1>Floods close the river port</h1></article></body></html>")
    assert read_page_metadata(page).h1 == "Floods close the river port"
