"""Events of one article: each sentence with an actor or a verb with a subject becomes an event (its main
verb, who did it to whom, when and where), and each clause inside it that has a date of its own one more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Literal, NamedTuple

from dateline.transforms.dates import ResolvedDate, range_parts, resolve_date
from dateline.transforms.dates import Tense as DateTense
from dateline.transforms.parsed import SPEECH_VERBS, Lemmatize, Mention, Sentence, pos_of, stable_id
from dateline.transforms.schema import ArticleRecord, DateMention, EventRecord
from spacy.tokens import Doc, Span, Token

DATE_LABELS = frozenset({"DATE", "EVENT"})  # spaCy labels holidays ("New Year's Eve") as EVENT
LEDE_SENTENCES = 2  # body sentences without a date of their own that report the article's news
PUBLISHED_FALLBACK = frozenset({"lede", "speech", "now"})
REPORTING_VERBS = SPEECH_VERBS | {"quote", "cite"}  # a statement reported: dated by the publication


class EventDate(NamedTuple):
    """An event's date and where it came from; start and end are the expression's offsets in the
    sentence's source text (None when no expression dated it: a caption's date, the publication)."""

    on: date
    precision: str
    text: str | None
    basis: str
    start: int | None = None
    end: int | None = None


def events_of(article: ArticleRecord, sentence: Sentence, ids: dict[str, str],
              lemmatize: Lemmatize) -> list[EventRecord]:
    """The sentence's events: the one its main verb tells (event_of), then one for each clause inside it that
    gives its own verb a date of its own (clause_events: "When the Air Force selected Northrop on February 29,
    Boeing challenged the award" is Boeing's undated challenge and the selection of February 29)."""
    main = event_of(article, sentence, ids, lemmatize)
    if main is None:
        return []
    clauses = clause_events(article, sentence, ids, lemmatize, main)
    if clauses:  # an actor named only inside a dated clause is in that clause's event, not the sentence's
        inside = {t.i for verb, _ in clauses for t in verb.subtree}
        actor_ids, place = _who_and_where([m for m in sentence.mentions if not set(m.tokens) <= inside], ids)
        main = replace(main, actor_ids=actor_ids, place=place)
    return [main, *(event for _, event in clauses)]


def _who_and_where(mentions: Iterable[Mention], ids: dict[str, str]) -> tuple[tuple[str, ...], str | None]:
    """An event's actor ids (each once, in mention order) and its first place, from the mentions it holds."""
    mentions = list(mentions)
    return (tuple(dict.fromkeys(ids[m.key] for m in mentions if m.key in ids)),
            next((m.name for m in mentions if m.kind == "place"), None))


def event_of(article: ArticleRecord, sentence: Sentence, ids: dict[str, str],
             lemmatize: Lemmatize) -> EventRecord | None:
    """The sentence as an event: its main verb, who did it to whom, when and where."""
    span = sentence.span
    root = span.root
    is_verb = pos_of(root) in _VERBAL
    if not sentence.mentions and not (is_verb and _children(root, _SUBJECTS | {"expl"})):
        return None  # no one named and no clause: a fragment ("Advertisement"), a prompt ("Click here to ...")
    trigger = lemmatize(root).lower() if is_verb else None
    return _record(article, sentence, ids, root, trigger, event_date_of(sentence, trigger),
                   *_who_and_where(sentence.mentions, ids),
                   event_id=stable_id(article.article_id, article.content_hash, sentence.source,
                                      sentence.sentence_id))


def clause_events(article: ArticleRecord, sentence: Sentence, ids: dict[str, str], lemmatize: Lemmatize,
                  main: EventRecord) -> list[tuple[Token, EventRecord]]:
    """An event for each verb inside the sentence (not its main verb) that a date expression attaches to
    directly, when that date is not the main event's own: a relative or adverbial clause, a participle, a
    conjoined verb ("were to take delivery in May 2008, but will now receive the aircraft next month").
    Who and where are the actors and places inside the clause; a clause without a date makes no event.
    Each event comes with its verb."""
    span = sentence.span
    doc = span.doc
    best: dict[int, FoundDate] = {}  # the clause verb -> its first date
    for found in date_expressions(sentence):
        if found.verb is not None and found.resolved is not None and found.start != main.date_start:
            best.setdefault(found.verb, found)
    events: list[tuple[Token, EventRecord]] = []
    for i, found in sorted(best.items()):
        verb = doc[i]
        inside = {t.i for t in verb.subtree}
        subject = _subject_of(verb)
        covered = inside | {t.i for h in subject for t in h.subtree}
        mentions = [m for m in sentence.mentions if covered & set(m.tokens)]
        assert found.resolved is not None
        resolved = EventDate(found.resolved.on, found.resolved.precision, found.text, found.resolved.basis,
                             found.start, found.end)
        events.append((verb, _record(
            article, sentence, ids, verb, lemmatize(verb).lower(), resolved, *_who_and_where(mentions, ids),
            event_id=stable_id(article.article_id, article.content_hash, sentence.source, sentence.sentence_id,
                               i - span.start),
            subject_heads=subject, clause=True)))
    return events


def _subject_of(verb: Token) -> list[Token]:
    """Who does what a verb says: its own subject; for a relative clause or a participle without one ("which
    will fly", "development, begun two years ago"), the noun it describes; for a conjoined or infinitive verb
    without one, its head verb's subject."""
    own = _children(verb, _SUBJECTS)
    if own and own[0].tag_ not in ("WDT", "WP", "WP$"):
        return own
    if verb.dep_ in ("relcl", "acl"):
        return [verb.head]
    if verb.dep_ in ("conj", "xcomp") and verb.head.i != verb.i:
        return _subject_of(verb.head)
    return own


def _record(article: ArticleRecord, sentence: Sentence, ids: dict[str, str], verb: Token, trigger: str | None,
            resolved: EventDate | None, actor_ids: tuple[str, ...], place: str | None, *, event_id: str,
            subject_heads: list[Token] | None = None, clause: bool = False) -> EventRecord:
    """The event row of a verb of the sentence (its main verb, or a clause's), with the sentence's span."""
    span = sentence.span
    subject = actor_in(sentence, ids, subject_heads if subject_heads is not None else _children(verb, _SUBJECTS))
    obj = actor_in(sentence, ids, _children(verb, {"dobj", "dative", "attr", "oprd"}) +
                   [g for p in _children(verb, {"prep"}) for g in _children(p, {"pobj"})] +
                   [g for x in _children(verb, {"xcomp", "ccomp"}) for g in _children(x, {"dobj", "nsubj"})])
    text = span.text
    start = sentence.text_offset + span.start_char + len(text) - len(text.lstrip())
    trigger_start = sentence.text_offset + verb.idx if trigger is not None else None
    return EventRecord(
        event_id=event_id,
        article_id=article.article_id, content_hash=article.content_hash, text_source=sentence.source,
        sentence_id=sentence.sentence_id, sentence_start=start, sentence_end=start + len(text.strip()),
        event_date=resolved.on if resolved else None,
        date_precision=resolved.precision if resolved else None,  # type: ignore[arg-type]
        date_text=resolved.text if resolved else None,
        date_basis=resolved.basis if resolved else None,  # type: ignore[arg-type]
        date_start=resolved.start if resolved else None, date_end=resolved.end if resolved else None,
        trigger=trigger, trigger_start=trigger_start,
        trigger_end=trigger_start + len(verb.text) if trigger_start is not None else None, clause=clause,
        subject_id=subject, object_id=obj, actor_ids=actor_ids, place=place,
        negated=any(c.dep_ == "neg" for c in verb.children), sentence=text.strip(),
    )


def event_date_of(sentence: Sentence, trigger: str | None) -> EventDate | None:
    """When the sentence's event happened: the date expression that attaches to its verb (date_of); else,
    for a body sentence, the publication date when the sentence reports the news (one of the first
    LEDE_SENTENCES), a statement (a speech verb: 'said') or a state or act at the time of writing (present
    tense, present perfect, a modal: 'has announced', 'operates', 'can fly'); else None (undated: past
    background, future plans)."""
    resolved = date_of(sentence)
    if resolved is not None or sentence.reference is None or sentence.source != "body":
        return resolved
    root = sentence.span.root
    if ("lede" in PUBLISHED_FALLBACK and sentence.sentence_id < LEDE_SENTENCES
            or "speech" in PUBLISHED_FALLBACK and trigger in REPORTING_VERBS
            or "now" in PUBLISHED_FALLBACK and pos_of(root) in _VERBAL and tense_of(root) in NOW_TENSES):
        return EventDate(sentence.reference, "day", None, "published")
    return None


def _children(token: Token, deps: set[str] | frozenset[str]) -> list[Token]:
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


class FoundDate(NamedTuple):
    """A date expression of a sentence: offsets in the sentence's source text, what it resolves to, and how
    far it is from the event's own verb (``hops``: verbs passed on the way up the parse; None when it does not
    date the event: it hangs on a noun, sits in a relative or adverbial clause or a quotation, recurs, or is
    the second end of a range). ``verb`` names the clause verb it can date instead (clause_events)."""

    start: int
    end: int
    text: str
    resolved: ResolvedDate | None
    hops: int | None = None
    verb: int | None = None  # the verb below the main one that the date attaches to (token index), if any


Tense = Literal["past", "perfect", "present", "progressive", "future", "modal"]

_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "agent"})
_FUTURE_AUX = frozenset({"will", "shall", "'ll", "ll", "wo"})
_HAVE = frozenset({"has", "have", "'ve", "'s"})
_VERBAL = frozenset({"VERB", "AUX"})
_NOMINAL = frozenset({"NOUN", "PROPN", "PRON", "NUM"})
# a clause inside the sentence: what is dated there is not the sentence's event
_CLAUSES = frozenset({"relcl", "acl", "advcl", "ccomp", "csubj", "csubjpass", "parataxis", "appos", "meta", "dep"})
# the date is part of a noun phrase ("the 1953 team", "his New Year's Eve message")
_NOUN_MODIFIERS = frozenset({"compound", "nummod", "amod", "poss", "nmod", "npadvmod", "quantmod", "det"})
# prepositions that situate an event in time or place: "in his New Year's Eve message", "at the 2008 Games"
_SITUATING = frozenset({"in", "at", "on", "during", "after", "before", "since", "until", "till", "by", "through",
                        "throughout", "from", "following", "amid", "around", "over", "within", "ahead"})
_DEICTIC = frozenset({"this", "last", "next", "past", "coming", "previous", "that"})
_RANGE_WORDS = frozenset({"to", "until", "till", "through", "-", "–", "—"})
_OPENING_QUOTES = frozenset({"“", "``", "«", "„"})
_CLOSING_QUOTES = frozenset({"”", "''", "»"})
# tenses that report a state or act at the time of writing (present, present perfect, "can"): with no date of
# their own such sentences are dated by the publication; a past or future one without a date stays undated
NOW_TENSES = frozenset({"present", "perfect", "progressive", "modal"})
_YEAR_TENSES: dict[str | None, DateTense | None] = {
    "past": "past", "perfect": "past", "future": "future", "modal": "future", "progressive": "future"}


def tense_of(verb: Token) -> Tense | None:
    """The tense of a verb from its tag and auxiliaries: 'will meet' -> future, 'has announced' -> perfect,
    'met' -> past, 'meets' -> present; an infinitive or a conjoined verb without its own takes its head's
    ('plans to launch' -> future, 'will take off and land' -> future); None when nothing tells."""
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    words = [a.lower_ for a in auxes]
    if any(w in _FUTURE_AUX for w in words):
        return "future"
    if any(a.tag_ == "MD" for a in auxes):
        return "past" if "have" in words else "modal"
    finite = next((a for a in auxes if a.tag_ in ("VBD", "VBZ", "VBP")), None)
    if finite is None and verb.tag_ in ("VBD", "VBZ", "VBP"):
        finite = verb
    if finite is not None:
        if finite.tag_ == "VBD":
            return "past"
        if finite is not verb and finite.lower_ in _HAVE and (verb.tag_ == "VBN" or "been" in words):
            return "perfect"
        if finite is not verb and verb.tag_ == "VBG":
            return "progressive"
        return "present"
    head = verb.head
    if head.i != verb.i and verb.dep_ in ("conj", "xcomp") and pos_of(head) in _VERBAL:
        tense = tense_of(head)
        if verb.dep_ == "xcomp" and tense in NOW_TENSES:
            return "future"  # "plans to launch", "is going to open": a prospect
        return tense
    return None


def _governing_verb(token: Token) -> Token | None:
    """The first verb above a token in the parse (the verb a date expression attaches to)."""
    while True:
        if pos_of(token) in _VERBAL and token.dep_ not in ("aux", "auxpass"):
            return token
        if token.head.i == token.i:
            return None
        token = token.head


def _hops_to_root(ent: Span, root: Token) -> int | None:
    """How many verbs the date passes on its way up to the sentence's root, or None when the way leads
    through a clause inside the sentence or a noun that is an argument ("the 1953 team won")."""
    token, hops = ent.root, 0
    while token.i != root.i:
        head = token.head
        if head.i == token.i or token.dep_ in _CLAUSES:
            return None
        if head.i != root.i and pos_of(head) in _NOMINAL:
            own = (token.dep_ == "prep" and ent.root.head.i == token.i and token.lower_ in _SITUATING
                   or token.i == ent.root.i and token.dep_ in ("npadvmod", "advmod"))
            if own and (head.dep_ in ("dobj", "xcomp") or pos_of(head) in ("PROPN", "PRON")):
                pass  # a time adjunct the parser hung on the object or a name: "made its first flight Tuesday",
                # "began work two months ago", "Stalin in 1942 issued" (a name takes no time modifier)
            elif head.dep_ != "pobj":
                return None  # on an argument: "the 1953 team won", "signed the 2019 deal"
            elif token.dep_ in _NOUN_MODIFIERS and head.head.lower_ not in _SITUATING:
                return None  # "spoke about the 1942 order" (but "in his New Year's Eve message")
        if head.i != root.i and pos_of(head) in _VERBAL and head.dep_ not in ("aux", "auxpass"):
            hops += 1
        token = head
    return hops


def _quoted_starts(doc: Doc) -> list[bool]:
    """For each token of a paragraph, whether it stands inside double quotation marks (a paragraph that
    closes a quotation it never opened continues one: all before that close is quoted)."""
    inside: list[bool] = []
    state = None
    for token in doc:
        text = token.text
        if text in _OPENING_QUOTES or text == '"' and not state:
            state = True
        elif text in _CLOSING_QUOTES or text == '"' and state:
            if state is None:  # the first mark closes: the paragraph began inside a quotation
                inside = [True] * len(inside)
            state = False
        inside.append(bool(state))
    return inside


def _range_end(ent: Span, sentence: Span) -> int:
    """The token index where a range that spaCy cut after its start ends ("from 2009 [to 2011]"), else ent.end."""
    doc = ent.doc
    i = ent.end
    if i + 1 >= sentence.end:
        return ent.end
    word = doc[i].lower_
    between = ent.start > 0 and doc[ent.start - 1].lower_ == "between"
    if word not in _RANGE_WORDS and not (word == "and" and between):
        return ent.end
    end = i + 1
    while end < sentence.end and end < i + 5 and doc[end].ent_type_ in ("", "DATE") and (
            doc[end].like_num or doc[end].tag_ == "NNP" or doc[end].text == ","):
        end += 1
    while end > i + 1 and doc[end - 1].text == ",":
        end -= 1
    return end if end > i + 1 else ent.end


def date_expressions(sentence: Sentence) -> list[FoundDate]:
    """Every date expression of the sentence (DATE entities, EVENT entities that resolve: holidays), each
    resolved with the tense of the verb it attaches to; a range gives its two ends, the first dating."""
    span = sentence.span
    context = span.text
    root = span.root
    quoted: list[bool] | None = None
    found: list[FoundDate] = []
    for ent in span.ents:
        if ent.label_ not in DATE_LABELS:
            continue
        verb = _governing_verb(ent.root)
        tense = _YEAR_TENSES.get(tense_of(verb)) if verb is not None else None
        reference = sentence.reference
        end = _range_end(ent, span) if ent.label_ == "DATE" else ent.end
        start = ent.start
        while start > span.start and ent.doc[start - 1].head.i == ent.root.i and (
                ent.doc[start - 1].lower_ in _DEICTIC):  # "this [year]": spaCy left the determiner out
            start -= 1
        whole = ent.doc[start:end]
        resolved = (resolve_date(whole.text, reference, context=context, tense=tense)
                    if reference is not None else None)
        if resolved is None and ent.label_ != "DATE":
            continue
        if quoted is None:
            quoted = _quoted_starts(ent.doc)
        recurring = any(c.dep_ == "det" and c.lower_ in ("every", "each") for c in ent.root.children)
        dates = not (quoted[start] or recurring or resolved is None)
        hops = _hops_to_root(ent, root) if dates else None
        own = verb if dates and verb is not None and verb.i != root.i else None  # the first verb above it
        clause = own.i if own is not None and _hops_to_root(ent, own) is not None else None
        offset = sentence.text_offset
        parts = range_parts(whole.text)
        if not parts:
            found.append(FoundDate(offset + whole.start_char, offset + whole.end_char, whole.text,
                                   None if recurring else resolved, hops, clause))
            continue
        (a_start, a_end), (b_start, b_end) = parts
        second = whole.text[b_start:b_end]
        found.append(FoundDate(offset + whole.start_char + a_start, offset + whole.start_char + a_end,
                               whole.text[a_start:a_end], None if recurring else resolved, hops, clause))
        found.append(FoundDate(offset + whole.start_char + b_start, offset + whole.start_char + b_end, second,
                               None if recurring or reference is None else
                               resolve_date(second, reference, context=context, tense=tense)))
    return found


def date_of(sentence: Sentence) -> EventDate | None:
    """The event's date: the date expression closest to the sentence's own verb, else the caption's date."""
    dating = [f for f in date_expressions(sentence) if f.resolved is not None and f.hops is not None]
    if dating:
        best = min(dating, key=lambda f: (f.hops, f.start))
        assert best.resolved is not None
        return EventDate(best.resolved.on, best.resolved.precision, best.text, best.resolved.basis,
                         best.start, best.end)
    if sentence.caption_date is not None:
        return EventDate(sentence.caption_date, "day", None, "explicit")
    return None


def dates_in(sentence: Sentence) -> list[DateMention]:
    """Every date expression of the sentence, resolved against its reference date with the tense of the
    verb it attaches to (date_expressions): each DATE entity (value None where it names no day, month or
    year: "three years", an age, "every July"), each end of a range, and each EVENT entity that resolves
    (a holiday: "New Year's Eve")."""
    return [DateMention(text_source=sentence.source, sentence_id=sentence.sentence_id, start_char=f.start,
                        end_char=f.end, text=f.text, value=f.resolved.on if f.resolved else None,
                        precision=f.resolved.precision if f.resolved else None)
            for f in date_expressions(sentence)]
