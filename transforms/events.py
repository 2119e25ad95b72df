"""Events of one article: each sentence with an actor becomes an event (its main verb, who did it to
whom, when and where)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from dateline.transforms.dates import resolve_date
from dateline.transforms.parsed import SPEECH_VERBS, Lemmatize, Sentence, pos_of, stable_id
from dateline.transforms.schema import ArticleRecord, DateMention, EventRecord
from spacy.tokens import Token

DATE_LABELS = frozenset({"DATE", "EVENT"})  # spaCy labels holidays ("New Year's Eve") as EVENT
LEDE_SENTENCES = 2  # body sentences without a date of their own that report the article's news


class EventDate(NamedTuple):
    """An event's date and where it came from; start and end are the expression's offsets in the
    sentence's source text (None when no expression dated it: a caption's date, the publication)."""

    on: date
    precision: str
    text: str | None
    basis: str
    start: int | None = None
    end: int | None = None


def event_of(article: ArticleRecord, sentence: Sentence, ids: dict[str, str],
           lemmatize: Lemmatize) -> EventRecord | None:
    """The sentence as an event: its main verb, who did it to whom, when and where."""
    if not sentence.mentions:
        return None
    span = sentence.span
    root = span.root
    actor_ids = tuple(dict.fromkeys(ids[m.key] for m in sentence.mentions if m.key in ids))
    subject = actor_in(sentence, ids, _children(root, {"nsubj", "nsubjpass", "csubj", "agent"}))
    obj = actor_in(sentence, ids, _children(root, {"dobj", "dative", "attr", "oprd"}) +
                    [g for p in _children(root, {"prep"}) for g in _children(p, {"pobj"})] +
                    [g for x in _children(root, {"xcomp", "ccomp"}) for g in _children(x, {"dobj", "nsubj"})])
    is_verb = pos_of(root) in {"VERB", "AUX"}
    trigger = lemmatize(root).lower() if is_verb else None
    resolved = date_of(sentence)
    if resolved is None and sentence.reference is not None and (
            sentence.source == "body" and (sentence.sentence_id < LEDE_SENTENCES or trigger in SPEECH_VERBS)):
        resolved = EventDate(sentence.reference, "day", None, "published")
    place = next((m.name for m in sentence.mentions if m.kind == "place"), None)
    text = span.text
    start = sentence.text_offset + span.start_char + len(text) - len(text.lstrip())
    return EventRecord(
        event_id=stable_id(article.article_id, article.content_hash, sentence.source, sentence.sentence_id),
        article_id=article.article_id, content_hash=article.content_hash, text_source=sentence.source,
        sentence_id=sentence.sentence_id, sentence_start=start, sentence_end=start + len(text.strip()),
        event_date=resolved.on if resolved else None,
        date_precision=resolved.precision if resolved else None,  # type: ignore[arg-type]
        date_text=resolved.text if resolved else None,
        date_basis=resolved.basis if resolved else None,  # type: ignore[arg-type]
        date_start=resolved.start if resolved else None, date_end=resolved.end if resolved else None,
        trigger=trigger,
        subject_id=subject, object_id=obj, actor_ids=actor_ids, place=place,
        negated=any(c.dep_ == "neg" for c in root.children), sentence=span.text.strip(),
    )


def _children(token: Token, deps: set[str]) -> list[Token]:
    return [c for c in token.children if c.dep_ in deps]


def actor_in(sentence: Sentence, ids: dict[str, str], heads: Iterable[Token]) -> str | None:
    """The actor whose mention covers one of the given tokens or their subtree."""
    for head in heads:
        subtree = {t.i for t in head.subtree}
        for m in sentence.mentions:
            if m.key in ids and head.i in m.tokens:
                return ids[m.key]
        for m in sentence.mentions:
            if m.key in ids and subtree & set(m.tokens):
                return ids[m.key]
    return None


def date_of(sentence: Sentence) -> EventDate | None:
    """The first date expression of the sentence that resolves."""
    if sentence.reference is None:
        return None
    context = sentence.span.text
    for ent in sentence.span.ents:
        if ent.label_ not in DATE_LABELS:
            continue
        resolved = resolve_date(ent.text, sentence.reference, context=context)
        if resolved is not None:
            return EventDate(resolved.on, resolved.precision, resolved.text, resolved.basis,
                             sentence.text_offset + ent.start_char, sentence.text_offset + ent.end_char)
    if sentence.caption_date is not None:
        return EventDate(sentence.caption_date, "day", None, "explicit")
    return None


def dates_in(sentence: Sentence) -> list[DateMention]:
    """Every date expression of the sentence, resolved against its reference date: each DATE entity
    (value None where it names no day, month or year: "three years", an age) and each EVENT entity
    that resolves (a holiday: "New Year's Eve")."""
    context = sentence.span.text
    found = []
    for ent in sentence.span.ents:
        if ent.label_ not in DATE_LABELS:
            continue
        resolved = resolve_date(ent.text, sentence.reference, context=context) if sentence.reference else None
        if resolved is None and ent.label_ != "DATE":
            continue
        found.append(DateMention(
            text_source=sentence.source, sentence_id=sentence.sentence_id,
            start_char=sentence.text_offset + ent.start_char, end_char=sentence.text_offset + ent.end_char,
            text=ent.text, value=resolved.on if resolved else None,
            precision=resolved.precision if resolved else None))
    return found
