"""Property tests: the parsers of untrusted text never raise, and are idempotent where they should be."""

from __future__ import annotations

from datetime import date

from dateline.transforms.credits import caption_place_date, parse_credit, split_caption_credit
from dateline.transforms.dates import resolve_date
from dateline.transforms.urls import canonicalize_url
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
CREDITISH = st.lists(st.sampled_from(["REUTERS", "AP Photo", "/", " via ", "Jane Doe", "Foto:", "(", ")", "©",
                                      "FILE PHOTO", "Getty Images", "dpa", " | ", "Pool", "Handout", "STRINGER",
                                      "Photo by", "ATTENTION EDITORS", "2024", "Kyiv.", " "]), max_size=12).map("".join)
REFERENCE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, CREDITISH))
def test_parse_credit_never_raises_and_is_idempotent(text):
    credit = parse_credit(text)
    assert parse_credit(credit.raw).photographers == credit.photographers
    assert parse_credit(credit.raw).agencies == credit.agencies


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, CREDITISH))
def test_split_caption_credit_never_raises_and_keeps_the_caption_as_written(text):
    caption, credit = split_caption_credit(text)
    assert credit is None or isinstance(credit, str)
    assert text.strip().startswith(caption)  # the caption is the text before the credit, unchanged
    if credit is None:
        assert caption == text.strip()


@settings(max_examples=200, deadline=None)
@given(TEXT, st.one_of(st.none(), st.integers(min_value=1000, max_value=2100)))
def test_caption_place_date_never_raises(text, year):
    place, when = caption_place_date(text, reference_year=year)
    assert place is None or isinstance(place, str)
    assert when is None or isinstance(when, date)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, st.sampled_from(["last month", "Sept. 21", "New Year's Eve", "1942", "two months ago",
                                        "70-year-old", "December 19, 2022", "yesterday", "Tuesday"])), REFERENCE)
def test_resolve_date_never_raises(text, reference):
    resolved = resolve_date(text, reference)
    assert resolved is None or resolved.precision in {"day", "month", "year"}


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, st.builds(lambda host, path, query: f"https://{host}/{path}?{query}",
                                 st.from_regex(r"[a-z]{1,10}\.(com|org|de)", fullmatch=True), TEXT, TEXT)))
def test_canonicalize_url_never_raises_and_is_idempotent(text):
    url = canonicalize_url(text)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert canonicalize_url(url) == url
