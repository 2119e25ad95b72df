"""One page's bytes -> ArticleRecord or Reject, checked against ground truth next to the fixture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dateline.transforms.extract import PageInput, count_words, decode_html, extract_article, strip_leading_repeats
from dateline.transforms.schema import ArticleRecord, ExtractedPage, Reject

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed" / "soldiers-widows.html"
EXPECTED = json.loads((FIXTURES / "seed" / "soldiers-widows.expected.json").read_text())
FETCHED_AT = datetime(2023, 1, 5, tzinfo=UTC)


def page(url: str = "https://www.jpost.com/international/article-726552", content_type: str | None = None) -> PageInput:
    return PageInput(url=url, content_type=content_type, fetched_at=FETCHED_AT, raw_ref="test.warc.gz#0")


@pytest.fixture(scope="module")
def seed_page() -> ExtractedPage:
    result = extract_article(SEED.read_bytes(), page(), run_id="r1")
    assert isinstance(result, ExtractedPage), result
    return result


@pytest.fixture(scope="module")
def seed(seed_page) -> ArticleRecord:
    return seed_page.article


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("field", ["url", "canonical_url", "title", "description", "language", "section"])
def test_seed_scalar_fields_match_expected(seed, field):
    assert getattr(seed, field) == EXPECTED[field]


def test_seed_published_at_is_utc_with_original_offset_and_precision(seed):
    assert seed.published_at == datetime.fromisoformat(EXPECTED["published_at"].replace("Z", "+00:00"))
    assert seed.published_utc_offset == EXPECTED["published_utc_offset"]
    assert seed.published_precision == "time"
    assert seed.published_source == "jsonld"


def test_seed_modified_at(seed):
    assert seed.modified_at == datetime.fromisoformat(EXPECTED["modified_at"].replace("Z", "+00:00"))


def test_seed_tags_are_the_expected_set(seed):
    assert set(seed.tags) == set(EXPECTED["tags"]) and len(seed.tags) == len(EXPECTED["tags"])


def test_seed_text_starts_and_ends_as_expected(seed):
    assert norm(seed.text).startswith(norm(EXPECTED["text_starts_with"]))
    assert norm(seed.text).endswith(norm(EXPECTED["text_ends_with"]))


@pytest.mark.parametrize("phrase", EXPECTED["text_must_contain"])
def test_seed_text_keeps_body_phrases(seed, phrase):
    assert phrase in seed.text


@pytest.mark.parametrize("phrase", EXPECTED["text_must_not_contain"])
def test_seed_text_has_no_boilerplate_captions_or_comments(seed, phrase):
    assert phrase.lower() not in seed.text.lower()


def test_seed_ids_and_provenance(seed):
    assert seed.article_id == "03e492b3b1600bf4a7662e0ce8d5a710e606147a"  # sha1 of the canonical URL
    assert len(seed.content_hash) == 40
    assert seed.raw_ref == "test.warc.gz#0" and seed.run_id == "r1" and seed.fetched_at == FETCHED_AT
    assert seed.extractor_version.startswith("dateline/") and "trafilatura/" in seed.extractor_version
    assert seed.word_count == len([t for t in seed.text.split() if any(c.isalnum() for c in t)])


def test_same_page_gives_same_content_hash():
    a = extract_article(SEED.read_bytes(), page(), run_id="a")
    b = extract_article(SEED.read_bytes(), page(), run_id="b")
    assert isinstance(a, ExtractedPage) and isinstance(b, ExtractedPage)
    assert a.article.content_hash == b.article.content_hash


def test_empty_page_is_rejected_at_decode():
    outcome = extract_article(b"  \n", page(), run_id="r")
    assert isinstance(outcome, Reject) and (outcome.stage, outcome.reason) == ("decode", "empty_body")
    assert outcome.raw_ref == "test.warc.gz#0"


def test_page_without_article_is_rejected():
    html = (FIXTURES / "http" / "not-an-article.html").read_bytes()
    outcome = extract_article(html, page("https://news.example/"), run_id="r")
    assert isinstance(outcome, Reject) and (outcome.stage, outcome.reason) == ("extract", "not_an_article")


def test_page_without_canonical_uses_its_own_url():
    html = SEED.read_text().replace('<link rel="canonical"', '<link rel="x"').replace('og:url', 'og:x')
    html = html.replace('"mainEntityOfPage"', '"x"')
    outcome = extract_article(html.encode(), page("https://mirror.example/a?utm_medium=x"), run_id="r")
    assert isinstance(outcome, ExtractedPage)
    assert outcome.article.canonical_url == "https://mirror.example/a" and outcome.article.domain == "mirror.example"


def test_http_charset_decides_decoding():
    text = "<html><body><p>Привет, мир</p></body></html>"
    assert decode_html(text.encode("cp1251"), "text/html; charset=windows-1251") == text


def test_meta_charset_decides_decoding_without_http_charset():
    text = '<html><head><meta charset="shift_jis"></head><body><p>ニュース</p></body></html>'
    assert decode_html(text.encode("shift_jis"), "text/html") == text


def test_undeclared_non_utf8_is_detected():
    text = "<html><body><p>" + "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 20 + "</p></body></html>"
    assert decode_html(text.encode("cp1251")) == text


def test_strip_leading_repeats_drops_title_and_subtitle_lines():
    body = "Big News Today\nA subtitle here.\nFirst real paragraph.\nBig News Today"
    assert strip_leading_repeats(body, ["Big news today!", "A subtitle here", None]) == \
        "First real paragraph.\nBig News Today"


def test_count_words_counts_cjk_characters():
    assert count_words("two words - 70-year-old") == 3
    assert count_words("東京で会議") == 5


# --- the seed page's images, credits, agencies and site (expected.json in full) -----------------

def test_seed_site_name_authors_and_agencies(seed):
    assert seed.site_name == EXPECTED["site_name"]
    assert list(seed.authors) == EXPECTED["authors"]  # "REUTERS" is an agency, not a person
    assert set(seed.agencies) == set(EXPECTED["agencies"]) and seed.is_wire


@pytest.mark.parametrize("expected", EXPECTED["images"], ids=lambda e: f"image{e['position']}")
def test_seed_images_match_expected(seed_page, expected):
    image = seed_page.images[expected["position"]]
    assert (image.position, image.is_cover, image.src) == (expected["position"], expected["is_cover"], expected["src"])
    assert norm(image.caption) == norm(expected["caption"])
    assert image.credit_raw == expected["credit_raw"]
    assert list(image.photographers) == expected["photographers"]
    assert set(expected["agencies_include"]) <= set(image.agencies)
    assert image.is_file_photo is expected["is_file_photo"]
    assert image.caption_date.isoformat() == expected["caption_date"]
    assert expected["caption_place_contains"] in image.caption_place


def test_seed_has_exactly_the_expected_images(seed_page):
    assert len(seed_page.images) == len(EXPECTED["images"])
    assert all(i.article_id == seed_page.article.article_id for i in seed_page.images)
    assert all(i.content_hash == seed_page.article.content_hash for i in seed_page.images)


def test_dateline_gives_place_and_agency():
    html = SEED.read_text().replace("A little known patriotic group",
                                    "MOSCOW, Jan 4 (Reuters) - A little known patriotic group")
    result = extract_article(html.encode(), page(), run_id="r")
    assert isinstance(result, ExtractedPage)
    assert (result.article.dateline_place, result.article.agencies) == ("MOSCOW", ("Reuters",))


def test_language_is_detected_when_the_page_declares_none():
    html = SEED.read_text().replace('<html lang="en" dir="ltr">', "<html>").replace('"inLanguage": "en"', '"x": 1')
    result = extract_article(html.encode(), page(), run_id="r")
    assert isinstance(result, ExtractedPage)
    assert result.article.language == "en" and "language:detected" in result.article.issues


def test_a_short_brief_that_declares_itself_an_article_is_kept_and_an_undeclared_one_is_not():
    brief = "The harbour authority closed the port on Monday after the floods, officials said in a statement."
    def html(declared: bool) -> bytes:
        og = "<meta property='og:type' content='article'>" if declared else ""
        return (f"<html><head><title>Port closed</title>{og}</head><body><article><h1>Port closed after floods</h1>"
                f"<p>{brief}</p></article></body></html>").encode()

    kept = extract_article(html(True), page("https://example.com/brief"), run_id="r")
    assert isinstance(kept, ExtractedPage) and kept.article.text == brief
    dropped = extract_article(html(False), page("https://example.com/brief"), run_id="r")
    assert isinstance(dropped, Reject) and dropped.reason == "not_an_article"
