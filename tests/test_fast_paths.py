"""The faster ways of the processing path give what the plain ways give.

Our parse against trafilatura's load_html, Caseless class tests against re.IGNORECASE, the one-pass
word count against a count token by token, and the parts of the list-page check and the byline
search that now skip work: teaser lines of every kind, and the first byline in page order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dateline.flows.archive import iter_warc_pages
from dateline.transforms import bylines, images, metadata
from dateline.transforms.bylines import dom_bylines
from dateline.transforms.credits import Caseless
from dateline.transforms.extract import count_words, decode_html, parse_html, teaser_share
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "sample.warc.gz"

PATTERNS = {f"{module.__name__}.{name}": value for module in (images, bylines, metadata)
            for name, value in vars(module).items() if isinstance(value, Caseless)}
# letters whose case pairs are special (Kelvin sign, long s, dotted and dotless i), accents, separators
TRICKY = "aAkKsSiItTeE\u212a\u017f\u0130\u0131éÉ-_ 12\u00a0"


def _same_tree(text: str) -> bool:
    ours, theirs = parse_html(text), load_html(text)
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return bool(etree.tostring(ours) == etree.tostring(theirs))


def test_sample_pages_parse_to_the_trees_trafilatura_parses():
    with open(SAMPLE, "rb") as stream:
        texts = [decode_html(r.payload, r.content_type) for r in iter_warc_pages(stream, 50_000_000)]
    assert len(texts) == 155
    assert all(text is not None and _same_tree(text) for text in texts)


@pytest.mark.parametrize("text", [
    "", "plain text", "<p>a fragment</p>", "<div><p>a fragment</p></div>",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>declared</p></body></html>",
    "<!DOCTYPE html/>\n<html><body>doctype</body></html>", "<html/>\n<body>self-closed html</body>",
    "\x00\x01<html><body>control\x0bcharacters</body></html>", "\ud800<html><body>lone surrogate</body></html>",
    "<!-- c --><html><body><!-- d -->comments<?pi x?></body></html>",
])
def test_odd_inputs_parse_as_trafilatura_parses_them(text):
    assert _same_tree(text)


def test_form_elements_are_plain_html_elements_with_their_text():
    tree = parse_html("<html><body><form><label>Name</label><input value='x'><textarea>Hi</textarea></form>"
                      "</body></html>")
    assert tree is not None
    assert {type(el) for el in tree.iter("form", "label", "input", "textarea")} == {HtmlElement}
    assert tree.find(".//form").text_content() == "NameHi"


def test_every_class_pattern_of_images_and_bylines_is_caseless_and_written_in_lowercase():
    assert len(PATTERNS) >= 6
    for name, pattern in PATTERNS.items():
        letters = re.sub(r"\\.", "", pattern.lowered.pattern)  # escapes such as \S keep their case
        assert letters == letters.lower(), name


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_caseless_search_finds_what_an_ignorecase_search_finds(name):
    pattern = PATTERNS[name]
    words = re.findall(r"[a-z]+", pattern.lowered.pattern)
    for word in words:
        for text in (word, word.upper(), word.title(), f"x-{word.upper()}_y", word.replace("k", "\u212a"),
                     word.replace("s", "\u017f"), word.replace("i", "\u0130"), f"é {word.swapcase()}"):
            assert pattern.search(text) == bool(pattern.folded.search(text)), (name, text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=TRICKY + "caption", max_size=24))
def test_caseless_search_agrees_with_ignorecase_on_any_text(text):
    pattern = Caseless("caption|kicker|source|title|info")
    assert pattern.search(text) == bool(re.search("caption|kicker|source|title|info", text, re.IGNORECASE))


def _words_token_by_token(text: str) -> int:
    """The word count as defined: tokens holding a word character; a CJK character is a word of its own."""
    count = 0
    for token in text.split():
        cjk = len(re.findall(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", token))
        if cjk:
            count += cjk + len(re.findall(r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", token))
        elif re.search(r"\w", token):
            count += 1
    return count


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\n\u00a0\u2009\u3000\x1c\x85aZé1_-.—'\u0301😀٣ß東", max_size=40))
def test_word_count_in_one_pass_matches_the_count_token_by_token(text):
    assert count_words(text) == _words_token_by_token(text)


def test_word_count_of_text_without_cjk_counts_only_tokens_with_a_letter_or_digit():
    assert count_words("  — 1999 -- the\u00a0end… «»  ") == 3


def _list_page(cards: str) -> str:
    return f"<html><body><main>{cards}</main><footer><a href='/about'>About us</a></footer></body></html>"


def test_teaser_share_counts_link_parts_summaries_and_headline_lines_alike():
    headlines = [f"Storm number {i} closes the northern mountain roads" for i in range(4)]
    summary = "Crews worked through the night to clear fallen trees from the pass."
    cards = "".join(
        f"<div class='card'><a href='/story/{i}'><span class='kicker'>Weather</span> <h3>{h}</h3></a>"
        f"<p>{summary} Card {i}.</p></div>" for i, h in enumerate(headlines))
    body_lines = [
        "Weather",  # the text of an element inside a link
        f"{summary} Card 1.",  # the summary of a teaser block
        f"Weather {headlines[2]} - and more",  # a line that opens with a link's whole text
        headlines[3],  # the text of another element inside a link
        "A paragraph of the page's own text that no link or teaser holds at all, long enough to matter.",
    ]
    linked, share = teaser_share(load_html(_list_page(cards)), "\n".join(body_lines), "https://news.example/")
    teaser_chars = sum(len(line) for line in body_lines[:4])
    assert linked == 4
    assert share == teaser_chars / sum(len(line) for line in body_lines)


def test_teaser_share_ignores_links_back_to_the_page_itself():
    url = "https://news.example/story/1"
    html = _list_page(f"<div><a href='{url}#comments'>Read the comments on this story here</a><p>x</p></div>")
    assert teaser_share(load_html(html), "Read the comments on this story here", url) == (0, 0.0)


def test_dom_bylines_takes_the_first_byline_in_page_order():
    html = ("<html class='author-page'><body><div class='byline'>By Jane Doe</div>"
            "<span itemprop='author'>John Roe</span></body></html>")
    assert dom_bylines(load_html(html)) == ["By Jane Doe"]


def test_dom_bylines_reads_rel_author_without_a_class():
    html = "<html><body><p>Text</p><a rel='author' href='/jane'>Jane Doe</a></body></html>"
    assert dom_bylines(load_html(html)) == ["Jane Doe"]


def test_dom_bylines_skips_byline_classes_that_name_no_person_and_goes_on():
    html = ("<html><body><div class='author-tools'>Share</div><p>Text</p>"
            "<div class='article-author'>Von Max Mustermann</div></body></html>")
    assert dom_bylines(load_html(html)) == ["Von Max Mustermann"]
