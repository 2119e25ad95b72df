"""Language of a text (py3langid: offline, model in the package): detection for pages that declare none,
and a check of the declared language against the text.

A page's template often declares one language for every page of a site (``<html lang="en">`` on a
South African site's isiZulu and isiXhosa stories), so the declared language is checked: when the
text is long enough and the detector is confident of another language, the detected one wins.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import NamedTuple

import py3langid
from dateline.transforms.schema import ArticleRecord
from py3langid.langid import MODEL_FILE, LanguageIdentifier

_SAMPLE_CHARS = 3000  # enough text for a confident guess; longer texts cost time, not accuracy
MIN_CHECK_LETTERS = 200  # below this a detection is no evidence against what the page declares
MIN_CONFIDENCE = 0.9  # py3langid's normalized probability of the detected language
MAX_DECLARED_PROBABILITY = 0.001  # ... while the declared language's is below this
# ISO 639-3 macrolanguages whose members have ISO 639-1 codes of their own (Norwegian: Bokmål,
# Nynorsk; Malay: Indonesian; Serbo-Croatian: Bosnian, Croatian, Serbian). Members of one
# macrolanguage never count as a disagreement: the detector cannot tell them apart reliably.
_MACROLANGUAGE = {"nb": "no", "nn": "no", "id": "ms", "bs": "sh", "hr": "sh", "sr": "sh"}

def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language ('en'), or None for too little text."""
    sample = text[:_SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return str(code)


class CheckedLanguage(NamedTuple):
    """The language to use, and the declared one when the text overruled it (else None)."""

    language: str | None
    overruled: str | None = None


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's model with probabilities normalized (its module-level classifier gives raw scores)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _family(code: str) -> str:
    return _MACROLANGUAGE.get(code, code)


def _probabilities(sample: str) -> dict[str, float]:
    return {str(code): float(p) for code, p in _identifier().rank(sample)}


def check_language(declared: str | None, text: str) -> CheckedLanguage:
    """The declared language, unless the text clearly is in another one: at least MIN_CHECK_LETTERS
    letters, the detected language at MIN_CONFIDENCE or more and the declared one below
    MAX_DECLARED_PROBABILITY, and not two members of one macrolanguage ('nb' and 'no'). A declared
    language the detector does not know stands.
    ('en', isiZulu text) -> CheckedLanguage('zu', 'en'). An undeclared language is detected."""
    if declared is None:
        return CheckedLanguage(detect_language(text))
    sample = text[:_SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_CHECK_LETTERS:
        return CheckedLanguage(declared)
    probabilities = _probabilities(sample)
    by_family: dict[str, float] = {}
    for code, p in probabilities.items():
        by_family[_family(code)] = by_family.get(_family(code), 0.0) + p
    family = _family(declared)
    if family not in by_family:  # a language the detector does not know: it cannot speak against it
        return CheckedLanguage(declared)
    detected = max(probabilities, key=probabilities.__getitem__)
    if (_family(detected) != family and probabilities[detected] >= MIN_CONFIDENCE
            and by_family[family] < MAX_DECLARED_PROBABILITY):
        return CheckedLanguage(detected, declared)
    return CheckedLanguage(declared)


def with_checked_language(article: ArticleRecord) -> ArticleRecord:
    """The article with its declared language checked against its text (check_language): when the text
    overrules it, ``language`` is the detected one, ``declared_language`` the declared one, and
    ``issues`` has "language:overruled". A detected language (none was declared) is left alone."""
    if "language:detected" in article.issues or article.declared_language is not None:
        return article
    checked = check_language(article.language, article.text)
    if checked.overruled is None:
        return article
    return replace(article, language=checked.language, declared_language=checked.overruled,
                   issues=(*article.issues, "language:overruled"))
