"""Language of a text, for pages that do not declare theirs (py3langid: offline, model in the package)."""

from __future__ import annotations

import py3langid

_SAMPLE_CHARS = 3000  # enough text for a confident guess; longer texts cost time, not accuracy


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language ('en'), or None for too little text."""
    sample = text[:_SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return str(code)
