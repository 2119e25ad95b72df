"""Evidence across a site's pages: boilerplate lines that recur on its articles, and one display name per site.

A line of body text that the same site prints on several *different* stories ("Our Standards: The
Thomson Reuters Trust Principles.", "CLICK HERE TO GET THE FOX NEWS APP", a newsletter prompt) is the
site's furniture, not the article's: no list of strings names it, the repetition does. A site is its
registered domain (``bbc.co.uk`` for ``www.bbc.co.uk`` and ``news.bbc.co.uk``).

- A line's key is a short hash of its normalized form (casefolded, digits as 0, punctuation and spacing
  ignored), so "Updated 3 March" and "Updated 4 March" are one line. Lines shorter than
  ``MIN_LINE_CHARS`` normalized characters are left alone (too little to tell furniture from prose).
- A line is boilerplate on a site when it occurs in at least ``MIN_STORIES`` distinct stories of
  that site. Versions of one story (an update at a new URL, the same wire story twice) share most of
  their lines, so pages whose line sets overlap by ``SAME_STORY_OVERLAP`` or more count as one story.
- Evidence is ``SiteLines``: per site, per line key, the ids of the stories seen with it (at most
  ``MIN_STORIES``: more adds nothing), and per site the display names seen with their page counts.
  A run's batch is judged on the evidence of earlier runs plus the batch's own pages, so the result
  is deterministic for a given input and history, and only the sites of the batch are ever loaded.
- A single article from a site seen nowhere else cannot be judged: nothing is removed from it. Its
  lines go into the evidence, and a later page of the same site is judged with them.

Pure functions: the caller reads and writes the evidence (flows/sitelines.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from dateline.transforms.extract import count_words
from dateline.transforms.schema import ExtractedPage
from dateline.transforms.urls import sha1_hex
from tld import get_fld

MIN_STORIES = 3  # distinct stories of one site that show a line before it is the site's boilerplate
MIN_LINE_CHARS = 15  # normalized characters: shorter lines are never judged
SAME_STORY_OVERLAP = 0.5  # share of the smaller page's judged lines two versions of one story share
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[\W_]+")
_DOMAINISH = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")


def site_of(domain: str) -> str:
    """The registered domain a host belongs to: 'www.bbc.co.uk' -> 'bbc.co.uk'; the host itself if unknown."""
    host = domain.lower().strip(".")
    found = get_fld(host, fix_protocol=True, fail_silently=True)
    return found if isinstance(found, str) else host


def line_key(line: str) -> str | None:
    """The key of a body line, or None for a line too short to judge."""
    norm = " ".join(_NON_WORD.sub(" ", _DIGITS.sub("0", line.casefold())).split())
    if len(norm) < MIN_LINE_CHARS:
        return None
    return hashlib.sha1(norm.encode()).hexdigest()[:16]


@dataclass(slots=True)
class SiteEvidence:
    """What the pages of one site showed: line key -> story ids (at most MIN_STORIES), display name -> pages."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)


SiteLines = dict[str, SiteEvidence]  # site (registered domain) -> evidence


def _keys(text: str) -> list[str]:
    return list(dict.fromkeys(k for k in (line_key(line) for line in text.split("\n")) if k))


def _stories(pages: Sequence[tuple[str, list[str]]]) -> list[str]:
    """A story id for each (article_id, line keys) page: the id of the first earlier page it shares
    SAME_STORY_OVERLAP of its lines with (versions of one story), else its own article id."""
    ids: list[str] = []
    seen: list[tuple[str, set[str]]] = []
    for article_id, keys in pages:
        own = set(keys)
        story = article_id
        for other_id, other in seen:
            smaller = min(len(own), len(other))
            if other_id == article_id or smaller and len(own & other) >= SAME_STORY_OVERLAP * smaller:
                story = other_id
                break
        seen.append((story, own))
        ids.append(story)
    return ids


def gather(pages: Iterable[ExtractedPage]) -> SiteLines:
    """The evidence a set of pages gives, by site (before any boilerplate is removed from them)."""
    by_site: dict[str, list[ExtractedPage]] = {}
    for page in pages:
        by_site.setdefault(site_of(page.article.domain), []).append(page)
    evidence: SiteLines = {}
    for site, site_pages in sorted(by_site.items()):
        ev = evidence[site] = SiteEvidence()
        keyed = [(p.article.article_id, _keys(p.article.text)) for p in site_pages]
        for (_, keys), story in zip(keyed, _stories(keyed), strict=True):
            for key in keys:
                ids = ev.lines.setdefault(key, [])
                if story not in ids and len(ids) < MIN_STORIES:
                    ids.append(story)
        for page in site_pages:
            if name := page.article.site_name:
                ev.names[name] = ev.names.get(name, 0) + 1
    return evidence


def merged(prior: Mapping[str, SiteEvidence], new: Mapping[str, SiteEvidence]) -> SiteLines:
    """prior and new evidence together (story ids united up to MIN_STORIES, name counts added); inputs unchanged."""
    out: SiteLines = {site: SiteEvidence({k: list(v) for k, v in ev.lines.items()}, dict(ev.names))
                      for site, ev in prior.items()}
    for site, ev in new.items():
        target = out.setdefault(site, SiteEvidence())
        for key, ids in ev.lines.items():
            have = target.lines.setdefault(key, [])
            for story in ids:
                if story not in have and len(have) < MIN_STORIES:
                    have.append(story)
        for name, count in ev.names.items():
            target.names[name] = target.names.get(name, 0) + count
    return out


def display_name(names: Mapping[str, int]) -> str | None:
    """The site's one display form: the most common name its pages give, a name before a bare domain
    ('NDR' over 'ndr.de'), then the most pages, then the first in sorted order (deterministic)."""
    if not names:
        return None
    return min(names, key=lambda n: (bool(_DOMAINISH.match(n)), -names[n], n))


def apply_site_evidence(pages: Sequence[ExtractedPage], evidence: Mapping[str, SiteEvidence]) -> list[ExtractedPage]:
    """The pages with their site's boilerplate lines removed from the body and their site name in the
    site's one display form. A page whose text changes gets a new content hash (on its images too)."""
    out = []
    for page in pages:
        art = page.article
        ev = evidence.get(site_of(art.domain))
        if ev is None:
            out.append(page)
            continue
        kept = [line for line in art.text.split("\n")
                if (key := line_key(line)) is None or len(ev.lines.get(key, ())) < MIN_STORIES]
        text = "\n".join(kept)
        name = display_name(ev.names) if art.site_name else None
        article = art
        if name and name != art.site_name:
            article = replace(article, site_name=name)
        if text != art.text and text.strip():  # a page that would lose everything keeps its text
            removed = len(art.text.split("\n")) - len(kept)
            article = replace(article, text=text, word_count=count_words(text),
                              content_hash=sha1_hex(f"{art.title or ''}\n{text}"),
                              issues=(*art.issues, f"text:site_boilerplate_lines={removed}"))
        if article is art:
            out.append(page)
            continue
        images = tuple(replace(i, content_hash=article.content_hash) for i in page.images)
        out.append(replace(page, article=article, images=images))
    return out
