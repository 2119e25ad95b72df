"""Actors, events and quotes from parsed text: spaCy Docs in, records out.

The caller loads the spaCy pipeline and parses the texts this module lays out (``article_texts``):
one Doc per body paragraph (so sentences start at paragraph breaks) and one per image caption.
``analyze_article`` then finds actor mentions (named entities, named groups, resolved pronouns),
clusters them into actors, and turns sentences into events and quotations. Dates come from
transforms.dates, resolved against the publication date (captions: their own caption date).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from dateline.transforms.credits import canonical_agency
from dateline.transforms.dates import resolve_date
from dateline.transforms.schema import (
    ActorKind,
    ArticleActorRecord,
    ArticleRecord,
    EventRecord,
    ImageRecord,
    MentionRecord,
    NlpResult,
    QuoteRecord,
    TextSource,
)
from spacy.tokens import Doc, Span, Token

KIND_OF_LABEL: dict[str, ActorKind] = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place",
                                       "FAC": "place", "NORP": "group"}
DATE_LABELS = frozenset({"DATE", "EVENT"})  # spaCy labels holidays ("New Year's Eve") as EVENT
SPEECH_VERBS = frozenset({
    "say", "tell", "add", "state", "announce", "claim", "declare", "write", "explain", "warn", "insist",
    "argue", "note", "report", "reply", "respond", "ask", "urge", "call", "accuse", "deny", "admit", "confirm",
    "acknowledge", "suggest", "predict", "promise", "vow", "pledge", "comment", "remark", "stress", "emphasize",
    "tweet", "post",
})
TITLES = frozenset("""
president vice prime minister chancellor secretary general gen. gen sen. sen senator rep. rep representative
gov. gov governor mayor king queen prince princess pope bishop cardinal rev. dr. dr prof. prof mr. mr mrs. mrs
ms. ms sir dame lord lady chief commander supreme leader judge justice ceo chairman chairwoman chair director
spokesman spokeswoman spokesperson ambassador foreign defence defense interior finance former late the colonel
col. captain capt. lieutenant lt. sergeant sgt. admiral adm. marshal field premier speaker deputy acting
""".split())
NOT_ACTORS = frozenset("""
motherland fatherland homeland government state parliament president presidency administration army police
court internet web covid-19 covid god allah
""".split())
PRONOUNS_PERSON = frozenset({"he", "she", "him", "her", "his"})
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f"}
# one name for the places and bodies news writes many ways (a gazetteer of spellings, not of sites)
CANONICAL_NAMES: dict[str, tuple[ActorKind, str]] = {
    **{k: ("place", "United States") for k in ("us", "u.s.", "u.s", "usa", "u.s.a.", "united states",
                                               "the united states", "united states of america")},
    **{k: ("place", "United Kingdom") for k in ("uk", "u.k.", "britain", "great britain", "united kingdom")},
    **{k: ("organization", "European Union") for k in ("eu", "e.u.", "european union")},
    **{k: ("organization", "United Nations") for k in ("un", "u.n.", "united nations")},
    **{k: ("organization", "NATO") for k in ("nato", "north atlantic treaty organization")},
}
GROUP_PHRASE = re.compile(
    r"(?:\b[Tt]he\s+)?(?P<name>(?:[A-Z][\w'’.-]*\s+)(?:(?:of|for|and|the|de|du|del)\s+|[A-Z][\w'’.-]*\s+)*?)"
    r"(?P<head>[Gg]roup|[Oo]rganization|[Oo]rganisation|[Mm]ovement|[Aa]ssociation|[Uu]nion|[Cc]oalition|"
    r"[Cc]ommittee|[Cc]ouncil|[Ff]oundation|[Nn]etwork|[Aa]lliance|[Pp]arty)\b")
ANAPHORIC_GROUP = re.compile(r"\b[Tt]he\s+(?:\w+['’]?\s+)?(group|organization|organisation|movement|association)\b")
QUOTE_SPAN = re.compile(r"[\"“„«»](?P<q>[^\"“”„«»]{8,}?)[\"”“«»]")
LEDE_SENTENCES = 2  # body sentences without a date of their own that report the article's news
PRONOUN_WINDOW = 5  # he/she refer to a person named at most this many sentences before


Lemmatize = Callable[[Token], str]

_TAG_POS = {"NNP": "PROPN", "NNPS": "PROPN", "PRP": "PRON", "PRP$": "PRON", "WP": "PRON", "MD": "AUX",
            "DT": "DET", "PDT": "DET", "WDT": "DET", "NN": "NOUN", "NNS": "NOUN", "CD": "NUM", "IN": "ADP"}


def pos_of(token: Token) -> str:
    """The coarse part of speech from the fine tag, so the pipeline can skip its attribute_ruler:
    NNP -> PROPN, PRP -> PRON, VB* -> VERB (AUX as an auxiliary), JJ* -> ADJ, RB* -> ADV."""
    tag = token.tag_
    if tag.startswith("VB"):
        return "AUX" if token.dep_ in {"aux", "auxpass"} else "VERB"
    if tag.startswith("JJ"):
        return "ADJ"
    if tag.startswith("RB"):
        return "ADV"
    return _TAG_POS.get(tag, token.pos_ or "X")


def _plain_lemma(token: Token) -> str:
    return token.lemma_ or token.lower_


def article_texts(article: ArticleRecord, images: Sequence[ImageRecord]) -> tuple[list[str], list[ImageRecord]]:
    """The texts to parse for an article: its body paragraphs, and the images whose caption to parse."""
    paragraphs = [p.strip() for p in article.text.split("\n") if p.strip()]
    captioned = [i for i in images if i.caption]
    return paragraphs, captioned


def stable_id(*parts: object) -> str:
    """A short stable id: the first 16 hex digits of sha1 over the parts."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def actor_id_of(kind: str, name: str) -> str:
    """The corpus-wide id of an actor: the same kind and name give the same id in every article."""
    return stable_id(kind, " ".join(name.casefold().split()))


@dataclass
class _Mention:
    sentence_id: int
    source: TextSource
    start: int  # in the sentence
    end: int
    text: str
    label: str
    kind: ActorKind
    name: str  # normalized: titles, "the" and possessive removed
    tokens: tuple[int, ...]  # doc token indices
    doc_index: int
    key: str = ""  # cluster key, filled by _cluster


@dataclass
class _Sentence:
    sentence_id: int
    source: TextSource
    span: Span
    doc_index: int
    reference: date | None  # the date relative expressions resolve against
    caption_date: date | None = None
    mentions: list[_Mention] = field(default_factory=list)


def analyze_article(article: ArticleRecord, paragraph_docs: Sequence[Doc], caption_docs: Sequence[Doc],
                    captioned: Sequence[ImageRecord], lemmatize: Lemmatize = _plain_lemma) -> NlpResult:
    """Mentions, actors, events and quotes of one article from its parsed paragraphs and captions.

    ``lemmatize`` gives a verb's lemma ('said' -> 'say'); the default reads spaCy's ``lemma_``.
    Parts of speech are read from the fine tags (``pos_of``), so the pipeline needs no attribute_ruler.
    """
    published = article.published_at.date() if article.published_at else None
    sentences: list[_Sentence] = []
    docs: list[Doc] = [*paragraph_docs, *caption_docs]
    for index, doc in enumerate(paragraph_docs):
        sentences += [_Sentence(len(sentences) + i, "body", s, index, published) for i, s in enumerate(doc.sents)]
    for offset, (doc, image) in enumerate(zip(caption_docs, captioned, strict=True)):
        index = len(paragraph_docs) + offset
        ref = image.caption_date or published
        sentences += [_Sentence(len(sentences) + i, "caption", s, index, ref, image.caption_date)
                      for i, s in enumerate(doc.sents)]
    own_agencies = frozenset(article.agencies)
    for sentence in sentences:
        sentence.mentions = _mentions_in(sentence, own_agencies)
    clusters = _cluster([m for s in sentences for m in s.mentions])
    _resolve_pronouns(sentences, clusters)
    actors = _actor_records(article, clusters)
    ids = {key: actor_id_of(c.kind, c.name) for key, c in clusters.items()}
    mentions = tuple(
        MentionRecord(article_id=article.article_id, content_hash=article.content_hash, source=s.source,
                      sentence_id=s.sentence_id, start=m.start, end=m.end, text=m.text, label=m.label,
                      actor_id=ids[m.key])
        for s in sentences for m in s.mentions if m.key in ids)
    events = tuple(e for s in sentences if (e := _event(article, s, ids, lemmatize)) is not None)
    quotes = tuple(_quotes(article, sentences, docs, ids, lemmatize))
    return NlpResult(mentions=mentions, actors=tuple(actors), events=events, quotes=quotes)


# --- mentions ----------------------------------------------------------------------------

def _clean_name(span: Span) -> tuple[str, tuple[int, ...]]:
    """The entity's name without leading titles and determiners and a trailing possessive."""
    tokens = [t for t in span if not t.is_punct or t.text in {".", "-", "'"}]
    while tokens and (tokens[0].lower_ in TITLES or pos_of(tokens[0]) in {"DET", "VERB"}) and len(tokens) > 1:
        tokens = tokens[1:]
    while tokens and tokens[-1].text in {"'s", "’s", "'", "’"}:
        tokens = tokens[:-1]
    name = " ".join(t.text for t in tokens).replace(" - ", "-").replace(" .", ".")
    return name.strip(), tuple(t.i for t in tokens)


def _mentions_in(sentence: _Sentence, own_agencies: frozenset[str]) -> list[_Mention]:
    span = sentence.span
    found: list[_Mention] = []
    for ent in span.ents:
        kind = KIND_OF_LABEL.get(ent.label_)
        if kind is None:
            continue
        if kind == "group" and not any(t.tag_ == "NNPS" for t in ent):
            continue  # "Russian", "Soviet": adjectives, not actors; "Russians" is a group
        if kind != "group" and not any(pos_of(t) == "PROPN" for t in ent):
            continue  # "Invoking" (a verb), "millions"
        name, token_ids = _clean_name(ent)
        if not name or name.casefold() in NOT_ACTORS or all(w.casefold().strip(".") in TITLES for w in name.split()):
            continue
        if kind != "person" and name.casefold() in CANONICAL_NAMES:
            kind, name = CANONICAL_NAMES[name.casefold()]
        agency = canonical_agency(name) if kind == "organization" else None
        if agency and (sentence.source == "caption" or agency in own_agencies):
            continue  # the article's own agency ("she told Reuters") or a caption credit is no actor
        found.append(_Mention(sentence.sentence_id, sentence.source, ent.start_char - span.start_char,
                              ent.end_char - span.start_char, ent.text, ent.label_, kind, name, token_ids,
                              sentence.doc_index))
    for match in GROUP_PHRASE.finditer(span.text):
        char_span = span.doc.char_span(span.start_char + match.start("name"), span.start_char + match.end("head"),
                                       alignment_mode="expand")
        if char_span is None or not any(pos_of(t) == "PROPN" for t in char_span):
            continue
        inner = {t.i for t in char_span}
        if any(m.kind in {"person", "organization"} and set(m.tokens) & inner for m in found):
            continue  # "the Putin group": the person stays the actor
        found = [m for m in found if not set(m.tokens) <= inner]  # "Russia" inside "... of Russia group"
        name = " ".join(match.group("name").split() + [match.group("head").lower()])
        found.append(_Mention(sentence.sentence_id, sentence.source, match.start(), match.end(), match.group(0),
                              "ORG", "group", name, tuple(t.i for t in char_span), sentence.doc_index))
    found.sort(key=lambda m: m.start)
    return found


# --- actors ------------------------------------------------------------------------------

@dataclass
class _Cluster:
    kind: ActorKind
    names: Counter[str]
    mentions: list[_Mention]
    name: str = ""


def _cluster(mentions: list[_Mention]) -> dict[str, _Cluster]:
    """Group an article's mentions into actors: persons by surname ('Putin' joins 'Vladimir Putin'),
    others by their normalized name."""
    clusters: dict[str, _Cluster] = {}
    persons = [m for m in mentions if m.kind == "person"]
    full = [m for m in persons if len(m.name.split()) > 1]
    surnames: dict[str, str] = {}
    for m in full:
        surname = _surname(m.name)
        key = f"person:{surnames.setdefault(surname, surname)}"
        _add(clusters, key, m)
    for m in persons:
        if len(m.name.split()) > 1:
            continue
        token = m.name.casefold()
        key = f"person:{token}" if token in surnames else next(
            (f"person:{s}" for s in surnames if any(n.split()[0].casefold() == token
                                                     for n in clusters[f"person:{s}"].names)), f"person:{token}")
        _add(clusters, key, m)
    for m in mentions:
        if m.kind == "person":
            continue
        surname_key = f"person:{m.name.casefold()}"
        if m.kind == "organization" and len(m.name.split()) == 1 and surname_key in clusters:
            _add(clusters, surname_key, m)  # "Trump" tagged ORG in an article about Donald Trump
            continue
        _add(clusters, f"{m.kind}:{m.name.casefold()}", m)
    for cluster in clusters.values():
        multi = [(n, c) for n, c in cluster.names.items() if len(n.split()) > 1]
        pool = multi or list(cluster.names.items())
        cluster.name = min(pool, key=lambda nc: (-nc[1], len(nc[0]), nc[0]))[0]
    return clusters


def _surname(name: str) -> str:
    return name.split()[-1].casefold().strip(".")


def _add(clusters: dict[str, _Cluster], key: str, mention: _Mention) -> None:
    cluster = clusters.setdefault(key, _Cluster(mention.kind, Counter(), []))
    cluster.names[mention.name] += 1
    cluster.mentions.append(mention)
    mention.key = key


def _resolve_pronouns(sentences: list[_Sentence], clusters: dict[str, _Cluster]) -> None:
    """he/she/his/her -> the person last mentioned (this or the PRONOUN_WINDOW sentences before);
    'the group' -> the group or organization last mentioned as such."""
    recent_person: list[tuple[int, str]] = []
    last_group: str | None = None
    gender: dict[str, str] = {}  # cluster -> "m"/"f", learnt from the pronouns resolved to it
    for sentence in sentences:
        if sentence.source != "body":
            continue
        added: list[_Mention] = []
        for token in sentence.span:
            if token.lower_ in PRONOUNS_PERSON and pos_of(token) == "PRON" or (
                    token.lower_ in {"his", "her"} and token.dep_ == "poss"):
                said = PRONOUN_GENDER[token.lower_]
                agrees = [key for sid, key in recent_person
                          if sentence.sentence_id - sid <= PRONOUN_WINDOW and gender.get(key, said) == said]
                earlier = [m.key for m in sentence.mentions if m.kind == "person" and m.tokens
                           and m.tokens[0] < token.i and gender.get(m.key, said) == said]
                key = earlier[-1] if earlier else (agrees[-1] if agrees else None)
                if key:  # "she" after a man named only: unresolved rather than wrong
                    gender.setdefault(key, said)
                    added.append(_pronoun_mention(sentence, token, "PRON", "person", key))
        for match in ANAPHORIC_GROUP.finditer(sentence.span.text):
            if last_group is None or any(m.start <= match.start() < m.end for m in sentence.mentions):
                continue
            char_span = sentence.span.doc.char_span(sentence.span.start_char + match.start(),
                                                    sentence.span.start_char + match.end(), alignment_mode="expand")
            if char_span is not None:
                added.append(_Mention(sentence.sentence_id, "body", match.start(), match.end(), match.group(0),
                                      "ANAPHOR", clusters[last_group].kind, clusters[last_group].name,
                                      tuple(t.i for t in char_span), sentence.doc_index, last_group))
        sentence.mentions = sorted(sentence.mentions + added, key=lambda m: m.start)
        for m in sentence.mentions:
            if m.kind == "person" and m.label != "PRON":
                recent_person.append((sentence.sentence_id, m.key))
            if m.kind == "group" and m.label == "ORG":
                last_group = m.key


def _pronoun_mention(sentence: _Sentence, token: Token, label: str, kind: ActorKind, key: str) -> _Mention:
    start = token.idx - sentence.span.start_char
    return _Mention(sentence.sentence_id, sentence.source, start, start + len(token.text), token.text, label, kind,
                    token.text, (token.i,), sentence.doc_index, key)


def _actor_records(article: ArticleRecord, clusters: dict[str, _Cluster]) -> list[ArticleActorRecord]:
    records = []
    for cluster in clusters.values():
        aliases = tuple(sorted(n for n in cluster.names if n != cluster.name))
        records.append(ArticleActorRecord(
            actor_id=actor_id_of(cluster.kind, cluster.name), article_id=article.article_id,
            content_hash=article.content_hash, name=cluster.name, kind=cluster.kind, aliases=aliases,
            mention_count=len(cluster.mentions)))
    return records


# --- events ------------------------------------------------------------------------------

def _event(article: ArticleRecord, sentence: _Sentence, ids: dict[str, str],
           lemmatize: Lemmatize) -> EventRecord | None:
    """The sentence as an event: its main verb, who did it to whom, when and where."""
    if not sentence.mentions:
        return None
    span = sentence.span
    root = span.root
    actor_ids = tuple(dict.fromkeys(ids[m.key] for m in sentence.mentions if m.key in ids))
    subject = _actor_in(sentence, ids, _children(root, {"nsubj", "nsubjpass", "csubj", "agent"}))
    obj = _actor_in(sentence, ids, _children(root, {"dobj", "dative", "attr", "oprd"}) +
                    [g for p in _children(root, {"prep"}) for g in _children(p, {"pobj"})] +
                    [g for x in _children(root, {"xcomp", "ccomp"}) for g in _children(x, {"dobj", "nsubj"})])
    is_verb = pos_of(root) in {"VERB", "AUX"}
    trigger = lemmatize(root).lower() if is_verb else None
    resolved = _date_of(sentence)
    if resolved is None and sentence.reference is not None and (
            sentence.source == "body" and (sentence.sentence_id < LEDE_SENTENCES or trigger in SPEECH_VERBS)):
        resolved = (sentence.reference, "day", None, "published")
    place = next((m.name for m in sentence.mentions if m.kind == "place"), None)
    event_date, precision, date_text, basis = resolved if resolved else (None, None, None, None)
    return EventRecord(
        event_id=stable_id(article.article_id, article.content_hash, sentence.source, sentence.sentence_id),
        article_id=article.article_id, content_hash=article.content_hash, source=sentence.source,
        sentence_id=sentence.sentence_id, event_date=event_date, date_precision=precision,  # type: ignore[arg-type]
        date_text=date_text, date_basis=basis,  # type: ignore[arg-type]
        trigger=trigger,
        subject_id=subject, object_id=obj, actor_ids=actor_ids, place=place,
        negated=any(c.dep_ == "neg" for c in root.children), sentence=span.text.strip(),
    )


def _children(token: Token, deps: set[str]) -> list[Token]:
    return [c for c in token.children if c.dep_ in deps]


def _actor_in(sentence: _Sentence, ids: dict[str, str], heads: Iterable[Token]) -> str | None:
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


def _date_of(sentence: _Sentence) -> tuple[date, str, str | None, str] | None:
    """The first date expression of the sentence that resolves, as (date, precision, text, basis)."""
    if sentence.reference is None:
        return None
    context = sentence.span.text
    for ent in sentence.span.ents:
        if ent.label_ not in DATE_LABELS:
            continue
        resolved = resolve_date(ent.text, sentence.reference, context=context)
        if resolved is not None:
            return resolved.on, resolved.precision, resolved.text, resolved.basis
    if sentence.caption_date is not None:
        return sentence.caption_date, "day", None, "explicit"
    return None


# --- quotes ------------------------------------------------------------------------------

def _quotes(article: ArticleRecord, sentences: list[_Sentence], docs: Sequence[Doc],
            ids: dict[str, str], lemmatize: Lemmatize) -> Iterable[QuoteRecord]:
    """Quotations in double quotes with their speaker: the subject of the nearest speech verb outside
    the quotation in the same paragraph; a paragraph that is all quotation continues the last speaker."""
    by_doc: dict[int, list[_Sentence]] = {}
    for s in sentences:
        if s.source == "body":
            by_doc.setdefault(s.doc_index, []).append(s)
    last_speaker: tuple[str | None, str | None] = (None, None)
    for doc_index in sorted(by_doc):
        doc = docs[doc_index]
        quoted = [(m.start("q"), m.end("q")) for m in QUOTE_SPAN.finditer(doc.text)]
        if not quoted:
            last_speaker = (None, None)
            continue
        verbs = [t for t in doc if t.tag_.startswith("VB") and pos_of(t) == "VERB"
                 and not any(a <= t.idx < b for a, b in quoted) and lemmatize(t) in SPEECH_VERBS]
        for start, end in quoted:
            text = doc.text[start:end].strip(" ,.")
            if len(text.split()) < 3:
                continue
            sentence = next((s for s in by_doc[doc_index] if s.span.start_char <= start < s.span.end_char),
                            by_doc[doc_index][0])
            verb = min(verbs, key=lambda t: min(abs(t.idx - start), abs(t.idx - end)), default=None)
            speaker_text, speaker_id = (None, None)
            if verb is None and start > 2:
                continue  # quotation marks around a name or a phrase ("Not a step back" order), no speaker
            if verb is not None:
                subject = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
                if subject is not None:
                    words = list(subject.subtree)
                    speaker_text = doc[words[0].i:words[-1].i + 1].text.strip()
                    owner = next((s for s in by_doc[doc_index] if s.span.start <= subject.i < s.span.end), sentence)
                    speaker_id = _actor_in(owner, ids, [subject])
                last_speaker = (speaker_text, speaker_id)
            else:
                speaker_text, speaker_id = last_speaker
            yield QuoteRecord(article_id=article.article_id, content_hash=article.content_hash,
                              sentence_id=sentence.sentence_id, speaker_id=speaker_id, speaker_text=speaker_text,
                              quote=text, verb=lemmatize(verb) if verb is not None else None,
                              sentence=sentence.span.text.strip())
