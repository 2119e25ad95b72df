"""URL canonicalization and the ids derived from URLs."""

from __future__ import annotations

import hashlib
from urllib.parse import urljoin, urlsplit

from courlan import normalize_url

_SCHEMES = frozenset({"http", "https"})


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in _SCHEMES and bool(parts.hostname)


def canonicalize_url(url: str, base: str | None = None) -> str | None:
    """The normalized absolute http(s) URL, or None if it is not one.

    Resolves relative URLs against ``base``, lowercases scheme and host, drops the fragment,
    default ports and known tracking parameters (utm_*, fbclid, ref, ...), sorts the query:
    'HTTPS://Example.com:443/a?utm_source=x&b=2&a=1#top' -> 'https://example.com/a?a=1&b=2'.
    """
    candidate = url.strip()
    if not candidate:
        return None
    if base:
        try:
            candidate = urljoin(base, candidate)
        except ValueError:
            return None
    if not is_web_url(candidate):
        return None
    try:
        # strict=True would also drop ordinary query parameters ("?story=4"), merging articles
        normalized: str = normalize_url(candidate, strict=False).split("#", 1)[0]
    except (ValueError, UnicodeError):
        return None
    return normalized if is_web_url(normalized) else None


def domain_of(url: str) -> str:
    """The host of a URL without a leading 'www.': 'https://www.jpost.com/x' -> 'jpost.com'."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def sha1_hex(data: str | bytes) -> str:
    """Hex SHA-1 of text (UTF-8) or bytes."""
    return hashlib.sha1(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def article_id_of(canonical_url: str) -> str:
    """The stable article id: sha1 of the canonical URL."""
    return sha1_hex(canonical_url)
