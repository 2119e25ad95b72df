"""Near-duplicate detection for wire copies: MinHash signatures of an article's text and LSH bands.

Twenty sites running one Reuters story give texts that differ in a headline, a sentence or a
boilerplate line; their 5-word shingle sets stay close. Each article version gets a 64-value MinHash
signature (datasketch, fixed seed, so signatures compare across runs) cut into 16 bands of 4 values:
two versions that share a band are candidates, and their signatures estimate the Jaccard similarity.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from datasketch import MinHash

NUM_PERM = 64
BANDS = 16  # 16 bands x 4 rows: pairs above a Jaccard of about 0.5 share a band with high probability
ROWS = NUM_PERM // BANDS
SHINGLE = 5
SEED = 1
DUPLICATE_AT = 0.8  # estimated Jaccard at or above which two texts are copies of one story

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """An article version's MinHash signature and its LSH band keys."""

    signature: tuple[int, ...]
    bands: tuple[str, ...]


def fingerprint(text: str) -> Fingerprint:
    """The signature and band keys of a text: casefolded words, 5-word shingles, 64 MinHash values."""
    words = _WORD.findall(text.casefold())
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    signature = tuple(int(v) for v in minhash.hashvalues)
    bands = tuple(f"{b}:" + hashlib.sha1(repr(signature[b * ROWS:(b + 1) * ROWS]).encode()).hexdigest()[:16]
                  for b in range(BANDS))
    return Fingerprint(signature, bands)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
