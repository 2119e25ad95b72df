"""What the NLP modules share: a parsed sentence and an actor mention in it, parts of speech read
from the fine tags, stable ids.

transforms.actors finds mentions and clusters them into actors, transforms.events turns sentences into
events, transforms.quotes finds quotations; transforms.nlp runs them in order over one article.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dateline.transforms.schema import ActorKind, TextSource
from spacy.tokens import Span, Token

SPEECH_VERBS = frozenset({
    "say", "tell", "add", "state", "announce", "claim", "declare", "write", "explain", "warn", "insist",
    "argue", "note", "report", "reply", "respond", "ask", "urge", "call", "accuse", "deny", "admit", "confirm",
    "acknowledge", "suggest", "predict", "promise", "vow", "pledge", "comment", "remark", "stress", "emphasize",
    "tweet", "post",
})

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



def plain_lemma(token: Token) -> str:
    return token.lemma_ or token.lower_


def stable_id(*parts: object) -> str:
    """A short stable id: the first 16 hex digits of sha1 over the parts."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def actor_id_of(kind: str, name: str) -> str:
    """The corpus-wide id of an actor: the same kind and name give the same id in every article."""
    return stable_id(kind, " ".join(name.casefold().split()))



@dataclass
class Mention:
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
    key: str = ""  # cluster key, filled by transforms.actors.cluster
    gender: str = ""  # "m"/"f" from the honorific before the name ("Mrs.", "Sir"), else ""


@dataclass
class Sentence:
    """One sentence of a parsed paragraph or caption; ``text_offset + span.start_char`` is where it
    starts in the article's text (body) or the caption."""

    sentence_id: int
    source: TextSource
    span: Span
    doc_index: int
    reference: date | None  # the date relative expressions resolve against
    caption_date: date | None = None
    text_offset: int = 0  # where the sentence's Doc starts in its source text (the article's text, or the caption)
    mentions: list[Mention] = field(default_factory=list)
