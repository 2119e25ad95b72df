"""Bylines and datelines: who wrote an article (persons), which agency it comes from, and where.

'By STEVE PEOPLES, THOMAS BEAUMONT and AMELIA THOMSON-DEVEAUX' -> persons, properly cased;
'REUTERS' in a byline and 'LA CROSSE, Wis. (AP) —' at the start of the text -> agencies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dateline.transforms.credits import Caseless, canonical_agency
from lxml.html import HtmlElement

_BY = re.compile(
    r"^\s*(?:(?:written|reported|text|words|story)\s+(?:by|von)|by|von|vom|par|por|di|door|av|af|z|"
    r"text|texte|autor(?:in)?|author|reporter|redaktion|verfasst von)\s*[:\-–]?\s+", re.I)
_SPLIT = re.compile(r"\s*(?:,|;|\||/|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bog\b|\boch\b|\ben\b)\s*", re.I)
_ROLE_TAIL = re.compile(
    r"(?:^|\s*[,(|–-])\s*(?:(?:senior|chief|staff|political|foreign|business|economics|sports?|science|health|"
    r"deputy|associate|special|contributing|white house|washington|us|uk)\s+)*"
    r"(?:reporter|correspondent|editor|writer|journalist|columnist|contributor|photographer|producer|"
    r"analyst|redakteur(?:in)?|korrespondent(?:in)?|journalist(?:in)?|autor(?:in)?|redaktion|"
    r"reportero|periodista|redactor|giornalista|redattore|rédacteur|envoyé spécial)\b.*$", re.I)
_NOT_NAME_WORDS = frozenset({
    "news", "nachrichten", "redaktion", "editorial", "editors", "staff", "team", "desk", "online", "digital",
    "newsroom", "agency", "agencies", "press", "presse", "media", "medien", "zeitung", "newspaper", "times",
    "post", "journal", "tribune", "herald", "daily", "weekly", "magazine", "service", "services", "network",
    "networks", "group", "tv", "radio", "channel", "ltd", "inc", "gmbh", "ag", "llc", "corp", "company",
    "ministry", "department", "police", "office", "government", "university", "foundation", "institute", "club",
    "association", "verlag", "online-redaktion", "wire", "wires", "contributor", "contributors", "reporters",
    "writers", "correspondents", "partner", "sponsored", "advertisement", "anzeige", "admin", "administrator",
    "webmaster", "guest", "gast",
})
_NAME_TOKEN = re.compile(r"^[^\W\d_][\w'’.-]*$")
_CJK_NAME = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2,4}$")
_CJK_ROLE = re.compile(r"\s*(?:기자|특파원|記者|编辑|編集委員|撮影)(?:\s*외\s*\d+명)?\s*$|\s*외\s*\d+명\s*$")
_HONORIFIC = re.compile(r"^(?:(?:dr|prof|mag|ing|dipl)\.?(?:-\w+\.?)?\s+)+", re.I)
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "bin", "al",
                        "el", "ter", "ten", "zu", "dos", "das", "y"})
_EMAIL_OR_HANDLE = re.compile(r"\S+@\S+|@\w+|https?://\S+")

_PLACE = r"[A-ZÀ-ÖØ-Þ][\w.'’ -]{0,40}?"
_NOT_MONTH = r"(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d)"
_DATELINE = re.compile(
    rf"^\s*(?P<place>{_PLACE}(?:\s*/\s*{_PLACE})*"  # "BEIRUT/THE HAGUE": a story filed from two places
    r"(?:,\s*(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d)"
    r"[A-ZÀ-ÖØ-Þ][\w.'’ -]{0,30}?)?)"
    r"(?:,\s*(?:\w{3,9}\.?\s+\d{1,2}|\d{1,2}\.?\s+\w{3,9}\.?))?\s*"
    r"\((?P<agency>[^()]{2,40})\)\s*[-—–:]+\s*")
# a dateline without an agency: a place in capitals (optionally ", State" or a date), then a dash:
# "MILLBROOK, Ohio — ..."; capitals keep a sentence's first words ("Officials said - ...") out
_CAPS_PLACE = r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ.'’ -]{1,40}?"
_BARE_DATELINE = re.compile(
    rf"^\s*(?P<place>{_CAPS_PLACE}(?:\s*/\s*{_CAPS_PLACE})*(?:,\s*{_NOT_MONTH}[A-Z][\w.'’ ]{{1,20}}?)?)"
    r"(?:,\s*(?:\w{3,9}\.?\s+\d{1,2}|\d{1,2}\.?\s+\w{3,9}\.?))?\s+[—–-]{1,2}\s+\S")


@dataclass(frozen=True, slots=True)
class Byline:
    """Persons, agencies and organisations named by a byline or by the article's author metadata.

    ``orgs`` are the byline's organisations, persons left out: agencies in their canonical form
    ("dpa", "Reuters"), the outlet or a desk as the byline writes it ("ORF.at", "BR24 Redaktion")."""

    persons: tuple[str, ...]
    agencies: tuple[str, ...]
    orgs: tuple[str, ...] = ()


_ORG_MAX_TOKENS = 6
_ORG_JUNK = frozenset({"admin", "administrator", "webmaster", "guest", "gast", "sponsored", "advertisement",
                       "anzeige", "contributor", "contributors", "staff", "redaktion", "editor", "editors",
                       "author", "autor", "autorin", "team"})


def _looks_like_org(part: str, *, of_site: bool) -> bool:
    """A short name that is no person's: 'BR24 Redaktion', 'Les Echos', '東京新聞デジタル'; the outlet's own
    name in any case ('kicker' on kicker.de). A generic word alone ('Admin', 'Redaktion') names nobody."""
    tokens = part.split()
    if not 1 <= len(tokens) <= _ORG_MAX_TOKENS or len(part) > 60 or not any(c.isalpha() for c in part):
        return False
    if all(t.casefold().strip(".") in _ORG_JUNK for t in tokens):
        return False
    first = next(c for c in part if c.isalpha())
    return of_site or not first.islower()


def proper_case(name: str) -> str:
    """'STEVE PEOPLES' -> 'Steve Peoples', 'JEAN-PIERRE O'NEIL' -> "Jean-Pierre O'Neil"; mixed case kept."""
    letters = [c for c in name if c.isalpha()]
    if not letters or not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return name
    words = []
    for i, word in enumerate(name.lower().split()):
        if i and word in _PARTICLES:
            words.append(word)
            continue
        word = "-".join(p[:1].upper() + p[1:] for p in word.split("-"))
        word = re.sub(r"(['’])(\w)", lambda m: m[1] + m[2].upper(), word)
        if word.startswith("Mc") and len(word) > 2:
            word = "Mc" + word[2].upper() + word[3:]
        words.append(word)
    return " ".join(words)


def _looks_like_person(name: str) -> bool:
    if _CJK_NAME.match(name):
        return True
    tokens = name.split()
    if not 2 <= len(tokens) <= 5:
        return False
    if any(t.casefold().strip(".") in _NOT_NAME_WORDS for t in tokens):
        return False
    if not all(_NAME_TOKEN.match(t) for t in tokens):
        return False
    # a name's main words start with a capital (after proper casing)
    return sum(1 for t in tokens if t[0].isupper()) >= 2


def parse_byline(values: Iterable[str], *, site_name: str | None = None) -> Byline:
    """Persons (properly cased, de-duplicated) and agencies in author strings.

    'By Jane Doe and JOHN ROE, Reuters' -> persons ('Jane Doe', 'John Roe'), agencies ('Reuters',).
    Organisations, the site's own name, e-mail addresses and role words are dropped.
    """
    persons: dict[str, str] = {}
    agencies: dict[str, str] = {}
    orgs: dict[str, str] = {}
    site = (site_name or "").casefold()
    site_words = {w for w in re.findall(r"\w+", site) if len(w) >= 3}
    for value in values:
        if not isinstance(value, str):
            continue
        text = _EMAIL_OR_HANDLE.sub(" ", " ".join(value.split()))
        text = re.sub(r"(?<=[^\W\d_A-Z])\d+\b", "", text)  # footnote markers: "Rachel Brazil0", not "BR24"
        text = _BY.sub("", text)
        whole = canonical_agency(text.strip(" .,:;-–—()"))
        if whole:
            agencies.setdefault(whole, whole)
            orgs.setdefault(whole.casefold(), whole)
            continue
        for part in _SPLIT.split(text):
            part = _ROLE_TAIL.sub("", _BY.sub("", part)).strip(" .,:;-–—()[]\"'")
            if not part:
                continue
            agency = canonical_agency(part)
            if agency:
                agencies.setdefault(agency, agency)
                orgs.setdefault(agency.casefold(), agency)
                continue
            if site and (part.casefold() == site or site_words & set(re.findall(r"\w+", part.casefold()))):
                if _looks_like_org(part, of_site=True):  # the outlet itself ("MDR THÜRINGEN" on mdr.de)
                    orgs.setdefault(part.casefold(), part)
                continue
            part = _CJK_ROLE.sub("", part)
            honorific = _HONORIFIC.match(part)
            name = proper_case(part[honorific.end():] if honorific else part)
            if honorific and _looks_like_person(name):
                name = part[: honorific.end()] + name  # keep "Dr." as the page writes it
            if _looks_like_person(name):
                persons.setdefault(name.casefold(), name)
            elif _looks_like_org(part, of_site=False) and (any(
                    t.casefold().strip(".") in _NOT_NAME_WORDS or "." in t for t in part.split()) or _uncased(part)):
                orgs.setdefault(part.casefold(), part)  # an organisation's word, a domain, or a script without case
    return Byline(tuple(persons.values()), tuple(agencies.values()), tuple(orgs.values()))


def _uncased(text: str) -> bool:
    """Whether the text's letters have no case (CJK, Devanagari, Arabic): capitals cannot tell a name's kind."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and not any(c.isupper() or c.islower() for c in letters)


def find_dateline(text: str) -> tuple[str | None, str | None]:
    """(place, agency) of a wire dateline opening the text: 'LA CROSSE, Wis. (AP) — ...' -> ('LA CROSSE, Wis.', 'AP').

    A place in brackets needs a known agency ('Berlin (dpa) - ...' works too); without brackets a place in
    capitals before a dash is a dateline with no agency: 'MILLBROOK, Ohio — ...' -> ('MILLBROOK, Ohio', None).
    Places filed from two cities keep their slash: 'BEIRUT/THE HAGUE, March 7 (Reuters) -'.
    """
    m = _DATELINE.match(text[:200])
    if m is None:
        bare = _BARE_DATELINE.match(text[:120])
        if bare is None or sum(c.isalpha() for c in bare["place"].split(",")[0]) < 3:
            return None, None
        return bare["place"].strip(" ,") or None, None
    agency = canonical_agency(m["agency"].strip())
    if agency is None:
        return None, None
    return m["place"].strip(" ,") or None, agency


_BYLINE_CLASS = Caseless(r"author|byline|autor|verfasser|writer|reporter|journalist")
_BYLINE_EXCLUDED = Caseless(r"image|img|avatar|photo|bio|description|desc|follow|social|more|link-list")
_BYLINE_LABEL = re.compile(r"^\s*(?:autor(?:in)?(?:/autor(?:in)?)?|author|von|by|text)\s*:?\s*$", re.I)


@functools.lru_cache(maxsize=16384)  # a page repeats its classes; the sample has over 4,096 distinct ones
def _is_byline_class(cls: str) -> bool:
    return _BYLINE_CLASS.search(cls) and not _BYLINE_EXCLUDED.search(cls)


# a byline label is a short element ("Autorin:", "By"): the XPath leaves out long ones before Python reads them
_LABEL_CANDIDATES = ("(//strong|//b|//dt|//span)[string-length(normalize-space(.)) >= 2 "
                     "and string-length(normalize-space(.)) <= 24]")


def dom_bylines(tree: HtmlElement) -> list[str]:
    """Author names from the page's first byline: rel=author, itemprop=author or an author/byline
    class (with its like siblings, for author lists), else a label ('<strong>Autor</strong> Name')."""
    # a walk in document order that stops at the first byline: an XPath query for them collected every
    # element with a class of the page first (a third of this function's time on the sample)
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body", "meta", "script", "style", "img"):
            continue
        cls = el.get("class", "")
        if not (el.get("rel") == "author" or el.get("itemprop") == "author" or (cls and _is_byline_class(cls))):
            continue
        texts = [_byline_text(el)]
        parent = el.getparent()
        if parent is not None:
            texts += [_byline_text(sib) for sib in el.itersiblings() if sib.tag == el.tag and sib.get("class") == cls]
        texts = [t for t in texts if 3 <= len(t) <= 80]
        if texts and parse_byline(texts).persons:
            return texts[:10]
    for label in tree.xpath(_LABEL_CANDIDATES):
        if _BYLINE_LABEL.match(text := label.text_content() or "") and text.strip():
            tail = " ".join((label.tail or "").split())
            if not tail and label.getnext() is not None:
                tail = " ".join(label.getnext().text_content().split())
            if 3 <= len(tail) <= 80:
                return [tail]
    return []


def _byline_text(el: HtmlElement) -> str:
    """The byline element's text; texts of two links or buttons next to each other are kept apart by a comma
    ('<a>Twitter</a> <a>Facebook</a>' is two items, not the name 'Twitter Facebook')."""
    name_el = next((d for d in el.iterdescendants() if d.get("itemprop") == "name"), None)
    root = name_el if name_el is not None else el
    if sum(1 for d in root.iterdescendants("a", "button")) < 2:
        return " ".join(root.text_content().split())
    parts: list[str] = []
    previous: object = None
    for node in root.xpath(".//text()"):
        if not node.strip():
            continue
        holder = node.getparent()
        holder = holder.getparent() if node.is_tail else holder  # a tail belongs to its element's parent
        owner = next((a for a in (holder, *holder.iterancestors()) if a.tag in ("a", "button") or a is root),
                     None) if holder is not None else None
        owner = owner if owner is not None and owner is not root else None
        if parts and owner is not None and previous is not None and owner is not previous:
            parts.append(",")
        parts.append(node)
        previous = owner
    return " ".join(" ".join(parts).split())
