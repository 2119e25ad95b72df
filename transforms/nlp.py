"""Actors, events and quotes from parsed text: spaCy Docs in, records out.

The caller loads the spaCy pipeline and parses the texts this module lays out (``article_texts``):
one Doc per body paragraph (so sentences start at paragraph breaks) and one per image caption.
``analyze_article`` then finds actor mentions (named entities, named groups, resolved pronouns) and
clusters them into actors (transforms.actors), turns sentences into events (transforms.events) and
finds quotations (transforms.quotes). Dates come from transforms.dates, resolved against the
publication date (captions: their own caption date).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dateline.transforms.actors import actor_id, actor_records, cluster, mentions_in, resolve_pronouns, split_by_gender
from dateline.transforms.events import dates_in, events_of
from dateline.transforms.parsed import Lemmatize, Sentence, actor_id_of, plain_lemma, pos_of, stable_id
from dateline.transforms.quotes import quotes_of
from dateline.transforms.schema import ArticleRecord, ImageRecord, MentionRecord, NlpResult
from spacy.tokens import Doc

__all__ = ["analyze_article", "article_texts", "actor_id_of", "pos_of", "stable_id"]


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_LINE_BREAK = re.compile(r"[\r\n]")


def paragraphs_of(text: str) -> list[tuple[int, str]]:
    """The paragraphs of a text, stripped, each with its character offset in the text. A text with blank
    lines (text given to `dateline run --articles`) has its paragraphs separated by them, and a line
    break inside a paragraph reaches the parser as a space (same length: offsets stay valid); an
    extracted body has one paragraph a line."""
    if _BLANK_LINE.search(text):
        return _blocks_of(text)
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            out.append((offset + len(line) - len(line.lstrip()), stripped))
        offset += len(line) + 1
    return out


def _blocks_of(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    for end, after in [(m.start(), m.end()) for m in _BLANK_LINE.finditer(text)] + [(len(text), len(text))]:
        block = text[start:end]
        if stripped := block.strip():
            out.append((start + len(block) - len(block.lstrip()), _LINE_BREAK.sub(" ", stripped)))
        start = after
    return out


def article_texts(article: ArticleRecord, images: Sequence[ImageRecord]) -> tuple[list[str], list[ImageRecord]]:
    """The texts to parse for an article: its body paragraphs, and the images whose caption to parse."""
    paragraphs = [p for _, p in paragraphs_of(article.text)]
    captioned = [i for i in images if i.caption]
    return paragraphs, captioned


def analyze_article(article: ArticleRecord, paragraph_docs: Sequence[Doc], caption_docs: Sequence[Doc],
                    captioned: Sequence[ImageRecord], lemmatize: Lemmatize = plain_lemma, *,
                    with_dates: bool = False) -> NlpResult:
    """Mentions, actors, events and quotes of one article from its parsed paragraphs and captions
    (``with_dates``: also every date expression, for `dateline analyze`).

    ``lemmatize`` gives a verb's lemma ('said' -> 'say'); the default reads spaCy's ``lemma_``.
    Parts of speech are read from the fine tags (``pos_of``), so the pipeline needs no attribute_ruler.
    """
    published = article.published_at.date() if article.published_at else None
    sentences: list[Sentence] = []
    docs: list[Doc] = [*paragraph_docs, *caption_docs]
    offsets = [offset for offset, _ in paragraphs_of(article.text)]
    for index, (doc, offset) in enumerate(zip(paragraph_docs, offsets, strict=True)):
        sentences += [Sentence(len(sentences) + i, "body", s, index, published, text_offset=offset)
                      for i, s in enumerate(doc.sents)]
    for offset, (doc, image) in enumerate(zip(caption_docs, captioned, strict=True)):
        index = len(paragraph_docs) + offset
        ref = image.caption_date or published
        sentences += [Sentence(len(sentences) + i, "caption", s, index, ref, image.caption_date)
                      for i, s in enumerate(doc.sents)]
    own_agencies = frozenset(article.agencies)
    for sentence in sentences:
        sentence.mentions = mentions_in(sentence, own_agencies)
    clusters = cluster([m for s in sentences for m in s.mentions])
    resolve_pronouns(sentences, clusters)
    split_by_gender(clusters)
    ids = {key: actor_id(c, article.article_id) for key, c in clusters.items()}
    actors = actor_records(article, clusters, ids)
    mentions = tuple(
        MentionRecord(article_id=article.article_id, content_hash=article.content_hash, text_source=s.source,
                      sentence_id=s.sentence_id, start_char=s.text_offset + s.span.start_char + m.start,
                      end_char=s.text_offset + s.span.start_char + m.end, text=m.text, label=m.label,
                      actor_id=ids[m.key])
        for s in sentences for m in s.mentions if m.key in ids)
    events = tuple(e for s in sentences for e in events_of(article, s, ids, lemmatize))
    quotes = tuple(quotes_of(article, sentences, docs, ids, lemmatize))
    dates = tuple(d for s in sentences for d in dates_in(s)) if with_dates else ()
    return NlpResult(mentions=mentions, actors=tuple(actors), events=events, quotes=quotes, dates=dates)
