"""Page metadata: read JSON-LD, meta tags and markup from a parsed page, then normalize values."""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from babel import Locale
from dateline.transforms.credits import Caseless
from dateline.transforms.schema import Precision
from lxml.html import HtmlElement

_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "socialmediaposting",
    "report", "scholarlyarticle", "techarticle", "webpage", "itempage",
})
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "published_time", "date", "dc.date",
    "dc.date.issued", "dcterms.created", "sailthru.date", "parsely-pub-date", "article.published",
)
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "og:article:modified_time", "datemodified",
    "last-modified", "lastmod", "dcterms.modified", "article.updated",
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page says about itself, before normalization. Keys of ``meta`` are lowercased."""

    meta: dict[str, list[str]] = field(default_factory=dict)  # name/property/itemprop -> contents
    jsonld: tuple[dict[str, Any], ...] = ()  # article-like JSON-LD objects, best first
    canonical: str | None = None
    html_lang: str | None = None
    h1: str | None = None
    time_datetimes: tuple[str, ...] = ()  # datetime attributes of <time> elements, in page order
    headings: tuple[str, ...] = ()  # texts of h1-h6 elements

    def first_meta(self, *names: str) -> str | None:
        """The first non-empty meta content among ``names`` (lowercase)."""
        for name in names:
            for value in self.meta.get(name, ()):
                if value.strip():
                    return value.strip()
        return None

    def jsonld_value(self, key: str) -> Any:
        """The first non-empty value of ``key`` in the article-like JSON-LD objects."""
        for obj in self.jsonld:
            value = obj.get(key)
            if value not in (None, "", [], {}):
                return value
        return None


def read_page_metadata(tree: HtmlElement) -> PageMetadata:
    """Collect meta tags, article-like JSON-LD, canonical link, <html lang>, first <h1>, <time>s."""
    meta: dict[str, list[str]] = {}
    for el in tree.iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = el.get(attr)
            if key:
                meta.setdefault(key.strip().lower(), []).append(content)
    for el in tree.xpath("//*[@itemprop][@datetime]"):
        meta.setdefault(el.get("itemprop").strip().lower(), []).append(el.get("datetime"))

    objects = list(_jsonld_objects(tree))
    article_like = [o for o in objects if _types(o) & _ARTICLE_TYPES]
    article_like.sort(key=lambda o: "webpage" in _types(o) or "itempage" in _types(o))  # articles first

    canonical = next((el.get("href") for el in tree.xpath("//link[@href]")
                      if "canonical" in (el.get("rel") or "").lower().split()), None)
    html_lang = tree.get("lang") or tree.get("xml:lang")
    h1 = next((t for t in (_text(el) for el in tree.iter("h1") if not _outside_content(el)) if t), None)
    times = tuple(el.get("datetime").strip() for el in tree.iter("time") if el.get("datetime"))
    headings = [_text(el) for el in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    return PageMetadata(meta=meta, jsonld=tuple(article_like), canonical=canonical, html_lang=html_lang,
                        h1=h1, time_datetimes=times, headings=tuple(h for h in headings[:200] if h))


_NOT_CONTENT_TAGS = frozenset({"form", "dialog", "nav", "aside", "footer", "template"})
_NOT_CONTENT_ROLES = frozenset({"dialog", "alertdialog", "navigation", "search", "complementary", "contentinfo"})


def _outside_content(el: HtmlElement) -> bool:
    """Whether a heading sits in a login box, dialog, menu, sidebar or footer (or a hidden element): the
    page's chrome, not its article ('<form><h1>Log In</h1>...')."""
    for node in (el, *el.iterancestors()):
        if node.tag in _NOT_CONTENT_TAGS or (node.get("role") or "").lower() in _NOT_CONTENT_ROLES:
            return True
        if node.get("aria-modal") == "true" or node.get("hidden") is not None or node.get("aria-hidden") == "true":
            return True
    return False


_SUBTITLE_CLASSES = ("subtitle", "subheadline", "sub-headline", "subheader", "standfirst", "dek", "deck",
                     "strapline", "kicker")
_SUBTITLE_CLASS = Caseless("|".join(_SUBTITLE_CLASSES))


def subtitle_texts(tree: HtmlElement) -> list[str]:
    """Texts of elements whose class marks a subtitle (standfirst, dek, subheadline, ...)."""
    return [_text(el) for el in tree.xpath("//*[@class]") if _SUBTITLE_CLASS.search(el.get("class"))]


def _text(el: HtmlElement) -> str:
    return " ".join(el.text_content().split())


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type", ())
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {v.lower() for v in values if isinstance(v, str)}


def _jsonld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD scripts, @graph members included."""
    for script in tree.xpath('//script[contains(translate(@type, "JSONLD", "jsonld"), "ld+json")]'):
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$", "", raw)
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            continue
        yield from _flatten_jsonld(data, depth=0)


def _flatten_jsonld(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten_jsonld(data["@graph"], depth + 1)


# --- normalizers -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A point in time as the page gave it: UTC instant, original offset, precision."""

    at: datetime  # tz-aware UTC
    utc_offset: str | None  # "+02:00"; None when the page gave no offset (then read as UTC)
    precision: Precision


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def parse_date(value: str) -> ParsedDate | None:
    """Parse ISO 8601 or RFC 2822 text: '2023-01-04T11:38:00+02:00' -> 09:38 UTC, '+02:00', time.

    A date without time has precision 'day' and stands for midnight UTC; text that is not a
    plausible date (years outside 1900-2200) gives None.
    """
    text = value.strip()
    if not text:
        return None
    if _ISO_DAY.match(text):
        try:
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            return None
        return ParsedDate(day, None, "day") if _MIN_YEAR <= day.year <= _MAX_YEAR else None
    if m := _ISO_MONTH.match(text):
        try:
            month = datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC)
        except ValueError:
            return None
        return ParsedDate(month, None, "month") if _MIN_YEAR <= month.year <= _MAX_YEAR else None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(_COMPACT_OFFSET.sub(r"\1:\2", text))
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed is None or not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return ParsedDate(parsed.replace(tzinfo=UTC), None, "time")
    return ParsedDate(parsed.astimezone(UTC), format_offset(parsed.utcoffset()), "time")


def format_offset(offset: timedelta | None) -> str | None:
    """'+02:00' for a two-hour offset."""
    if offset is None:
        return None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def find_published(page: PageMetadata) -> tuple[ParsedDate, str] | None:
    """The publication date and where it came from ('jsonld', 'meta', 'time'), best source first."""
    return _find_date(page, "datePublished", _PUBLISHED_META, use_time_elements=True)


def find_modified(page: PageMetadata) -> tuple[ParsedDate, str] | None:
    """The last-modified date and where it came from."""
    return _find_date(page, "dateModified", _MODIFIED_META, use_time_elements=False)


def _find_date(page: PageMetadata, jsonld_key: str, meta_names: tuple[str, ...],
               use_time_elements: bool) -> tuple[ParsedDate, str] | None:
    candidates: list[tuple[str, str]] = []
    value = page.jsonld_value(jsonld_key)
    if isinstance(value, str):
        candidates.append((value, "jsonld"))
    for name in meta_names:
        candidates.extend((v, "meta") for v in page.meta.get(name, ()))
    if use_time_elements:
        candidates.extend((v, "time") for v in page.time_datetimes[:3])
    best: tuple[ParsedDate, str] | None = None
    for text, source in candidates:
        parsed = parse_date(text)
        if parsed is None:
            continue
        if parsed.precision == "time":
            return parsed, source
        best = best or (parsed, source)  # keep looking for a source with a time of day
    return best


_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")


_OLD_CODES = {"iw": "he", "in": "id", "ji": "yi"}  # ISO 639 codes withdrawn in 1989, still seen in pages


@functools.cache
def _language_codes() -> frozenset[str]:
    """The language codes CLDR names (babel's data): 'en', 'de', 'fil'; not 'utf' (from lang="utf-8")."""
    return frozenset(Locale("en").languages) - {"und"}


def normalize_language(value: str | None) -> str | None:
    """The primary language subtag, lowercased: 'en-US' -> 'en', 'de_AT' -> 'de'; None for what is no
    language code ('utf-8', 'x-default')."""
    if not value:
        return None
    m = _LANG.match(value.strip())
    code = _OLD_CODES.get(m[1].lower(), m[1].lower()) if m else None
    return code if code in _language_codes() else None


def split_tags(values: Iterable[Any]) -> tuple[str, ...]:
    """Tags split on commas and semicolons, trimmed, de-duplicated case-insensitively, in order."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                continue
            for tag in re.split(r"[,;]", item):
                tag = " ".join(tag.split())
                if tag and tag.casefold() not in seen:
                    seen.add(tag.casefold())
                    out.append(tag)
    return tuple(out)


_SITE_SEPARATORS = re.compile(r"\s+[|\-–—:·•]\s+")
_DOMAINISH = re.compile(r"^[\w-]+(\.[\w-]+)*\.[a-z]{2,}$", re.IGNORECASE)


def clean_site_name(value: str | None) -> str | None:
    """The outlet's name without a domain part: 'The Jerusalem Post | JPost.com' -> 'The Jerusalem Post'."""
    if not value:
        return None
    parts = [p.strip() for p in _SITE_SEPARATORS.split(" ".join(value.split())) if p.strip()]
    named = [p for p in parts if not _DOMAINISH.match(p)]
    return (named or parts or [None])[0]


_LEGAL_FORM = re.compile(r"\b(?:gmbh|ltd|inc|llc|s\.?l|s\.?a|s\.?p\.?a|ag|plc|corp|co\. kg|kg|oy|ab|as|bv|nv)\.?$|"
                         r"版权所有|copyright|all rights reserved", re.I)


SITE_NAME_WORDS = 5  # longer is a headline, not a site's name


def choose_site_name(candidates: list[str | None]) -> str | None:
    """The outlet's name from candidates in order of trust (og:site_name, application-name, JSON-LD
    publisher, ...): URLs, company legal names ('... GmbH') and headline-length strings are skipped,
    and a name beats a bare domain ('MDR' over 'mdr.de')."""
    names = [n for n in (_plausible_site_name(v) for v in candidates) if n]
    return next((n for n in names if not _DOMAINISH.match(n)), names[0] if names else None)


def _plausible_site_name(value: str | None) -> str | None:
    cleaned = clean_site_name(html.unescape(value)) if value else None
    if not cleaned or "://" in cleaned or _LEGAL_FORM.search(cleaned) or len(cleaned.split()) > SITE_NAME_WORDS:
        return None
    return cleaned


def site_name_forms(candidates: list[str | None]) -> list[str]:
    """The candidates short enough to be a site's name (at most SITE_NAME_WORDS words, as
    :func:`choose_site_name` asks), as written: the names a title's site segment is matched against.
    A headline-length guess (trafilatura's sitename is sometimes the page's whole title) would make
    every headline a "site part"."""
    return [v for v in candidates if v and v.strip() and len(v.split()) <= SITE_NAME_WORDS]


def jsonld_name(value: Any) -> str | None:
    """The name in a JSON-LD value that is a string, a {name: ...} object (or a Person with only
    givenName and familyName) or a list of them."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        if value.get("name"):
            return jsonld_name(value["name"])
        parts = [value.get(key) for key in ("givenName", "additionalName", "familyName")]
        return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
    if isinstance(value, list):
        return next((n for n in (jsonld_name(v) for v in value) if n), None)
    return None


def jsonld_names(value: Any) -> list[str]:
    """All names in a JSON-LD person/organization value or list."""
    values = value if isinstance(value, list) else [value]
    return [n for n in (jsonld_name(v) for v in values) if n]


_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*\|\s*|\s+::\s+")


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _is_site_part(part: str, site_names: list[str]) -> bool:
    """True if a title segment names the site ('CBC News', 'JPost.com', 'DER SPIEGEL')."""
    p = part.casefold().strip()
    if _DOMAINISH.match(part.strip()):
        return True
    for site in site_names:
        s = site.casefold().strip()
        if not s:
            continue
        if p == s or (p in s and len(p) >= 3) or (s in p and len(p) <= len(s) + 12):
            return True
        site_tokens, part_tokens = _tokens(s), _tokens(p)
        if part_tokens and site_tokens and len(part_tokens & site_tokens) / len(part_tokens) >= 0.8:
            return True
    return False


def strip_site_name(title: str, site_names: list[str]) -> str:
    """The title without site-name segments at either end: 'Headline | CBC News' -> 'Headline'."""
    text = " ".join(title.split())
    parts = _TITLE_SEPARATORS.split(text)
    if len(parts) < 2:
        return text
    seps = _TITLE_SEPARATORS.findall(text)
    while len(parts) > 1 and _is_site_part(parts[-1], site_names):
        parts.pop()
        seps.pop()
    while len(parts) > 1 and _is_site_part(parts[0], site_names):
        parts.pop(0)
        seps.pop(0)
    out = parts[0]
    for sep, part in zip(seps, parts[1:], strict=False):
        out += sep + part
    return out.strip()


def choose_title(headline: str | None, h1: str | None, og_title: str | None, fallbacks: list[str | None],
                 site_names: list[str]) -> str | None:
    """The headline: the value most of the JSON-LD headline, the on-page <h1> and og:title agree on
    (ties go to the JSON-LD headline, then the <h1>: the on-page headline beats the social title),
    without site-name segments and HTML entities; else the first usable fallback (twitter:title, <title>)."""
    def clean(value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        text = strip_site_name(html.unescape(" ".join(value.split())), site_names)
        return None if not text or _is_site_part(text, site_names) or len(text) < 4 else text

    votes = [t for t in (clean(headline), clean(h1), clean(og_title)) if t]
    if votes:
        counts = {t: votes.count(t) for t in votes}
        best = max(counts.values())
        return next(t for t in votes if counts[t] == best)
    return next((t for t in (clean(f) for f in fallbacks) if t), None)


_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|[-_.]|$)")


def date_in_url(url: str) -> ParsedDate | None:
    """A publication day written in the URL path: '.../2024/09/03/story' -> 2024-09-03, precision 'day'."""
    m = _URL_DATE.search(url.split("?", 1)[0])
    if m is None:
        return None
    return parse_date(f"{m[1]}-{m[2]}-{m[3]}")
