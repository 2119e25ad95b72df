"""Quotations of one article and who said them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from dateline.transforms.events import actor_in
from dateline.transforms.parsed import SPEECH_VERBS, Lemmatize, Sentence, pos_of
from dateline.transforms.schema import ArticleRecord, QuoteRecord
from spacy.tokens import Doc

QUOTE_SPAN = re.compile(r"[\"“„«»](?P<q>[^\"“”„«»]{8,}?)[\"”“«»]")


def quotes_of(article: ArticleRecord, sentences: list[Sentence], docs: Sequence[Doc],
            ids: dict[str, str], lemmatize: Lemmatize) -> Iterable[QuoteRecord]:
    """Quotations in double quotes with their speaker: the subject of the nearest speech verb outside
    the quotation in the same paragraph; a paragraph that is all quotation continues the last speaker."""
    by_doc: dict[int, list[Sentence]] = {}
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
            raw = doc.text[start:end]
            text = raw.strip(" ,.")
            text_start = by_doc[doc_index][0].text_offset + start + len(raw) - len(raw.lstrip(" ,."))
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
                    speaker_id = actor_in(owner, ids, [subject])
                last_speaker = (speaker_text, speaker_id)
            else:
                speaker_text, speaker_id = last_speaker
            yield QuoteRecord(article_id=article.article_id, content_hash=article.content_hash,
                              sentence_id=sentence.sentence_id, start_char=text_start,
                              end_char=text_start + len(text), speaker_id=speaker_id, speaker_text=speaker_text,
                              quote=text, verb=lemmatize(verb) if verb is not None else None,
                              sentence=sentence.span.text.strip())
