"""One page's bytes -> an ArticleRecord, or a Reject saying why not.

The page is decoded and parsed once; the same lxml tree feeds the metadata readers and
trafilatura (which works on its own copy). Nothing here touches the network, disk or clock.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import detect_encoding, load_html

from transforms.bylines import Byline, dom_bylines, find_dateline, parse_byline
from transforms.credits import caption_place_date, parse_credit, split_caption_credit
from transforms.fallbacks import TrafilaturaFallbacks
from transforms.images import FoundImage, clean_credit, find_images
from transforms.language import detect_language
from transforms.metadata import (
    PageMetadata,
    choose_site_name,
    choose_title,
    date_in_url,
    find_modified,
    find_published,
    jsonld_name,
    normalize_language,
    parse_date,
    read_page_metadata,
    split_tags,
    subtitle_texts,
)
from transforms.schema import ArticleRecord, ExtractedPage, ImageRecord, Reject
from transforms.urls import article_id_of, canonicalize_url, domain_of, sha1_hex


def _dateline_version() -> str:
    try:
        return version("dateline")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0+unknown"


DATELINE_VERSION = _dateline_version()
EXTRACTOR_VERSION = f"dateline/{DATELINE_VERSION} trafilatura/{trafilatura.__version__}"

MIN_TEXT_CHARS = 200
_PRUNE_ATTR = "data-dateline-prune"  # shorter bodies are teasers, list pages or error pages, not articles

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_NON_CJK_WORD = re.compile(rf"[^\W{_CJK}]+")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageInput:
    """One archived page and where it came from: what extract_article needs besides bytes."""

    url: str
    content_type: str | None
    fetched_at: datetime
    raw_ref: str


def decode_html(payload: bytes, content_type: str | None = None) -> str | None:
    """The page as text: UTF-8 when the bytes are valid UTF-8, else the HTTP charset, <meta charset>,
    then detection; None if nothing fits.

    Valid UTF-8 wins over a declared single-byte charset because pages often keep a stale
    declaration ("iso-8859-1") after moving to UTF-8, while Latin text is practically never
    valid UTF-8 by accident.
    """
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared: list[str] = []
    if content_type and (header := _HTTP_CHARSET.search(content_type)):
        declared.append(header[1])
    if meta_tag := _META_CHARSET.search(payload[:4096]):
        declared.append(meta_tag[1].decode("ascii", "replace"))
    for name in declared:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            continue
        if codec in {"latin-1", "iso8859-1", "ascii"}:
            codec = "cp1252"  # WHATWG: these labels mean windows-1252
        try:
            return payload.decode(codec)
        except UnicodeDecodeError:
            continue
    for guess in detect_encoding(payload):
        try:
            return payload.decode(guess)
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def count_words(text: str) -> int:
    """Whitespace-separated tokens holding a letter or digit; each CJK character counts as one word."""
    count = 0
    for token in text.split():
        cjk = len(_CJK_CHAR.findall(token))
        if cjk:
            count += cjk + len(_NON_CJK_WORD.findall(token))
        elif _WORD_CHAR.search(token):
            count += 1
    return count


def extract_article(payload: bytes, page: PageInput, *, run_id: str) -> ExtractedPage | Reject:
    """Decode, parse and extract one page. Rejects empty, undecodable and article-less pages."""
    if not payload.strip():
        return Reject(stage="decode", reason="empty_body", url=page.url, detail="0 bytes of content",
                      raw_ref=page.raw_ref)
    text = decode_html(payload, page.content_type)
    if text is None:
        return Reject(stage="decode", reason="undecodable", url=page.url,
                      detail="no declared or detected character encoding fits", raw_ref=page.raw_ref)
    tree = load_html(text)
    if tree is None:
        return Reject(stage="decode", reason="undecodable", url=page.url, detail="not parseable as HTML",
                      raw_ref=page.raw_ref)
    try:
        return _extract_from_tree(tree, page, run_id=run_id)
    except RecursionError:
        return Reject(stage="extract", reason="extractor_error", url=page.url,
                      detail="document nested too deeply", raw_ref=page.raw_ref)


def _extract_from_tree(tree: HtmlElement, page: PageInput, *, run_id: str) -> ExtractedPage | Reject:
    meta = read_page_metadata(tree)
    canonical = _canonical_url(meta, page.url)
    article_id = article_id_of(canonical)
    found_images, caption_els = find_images(tree, page.url, meta)
    for el in caption_els:  # trafilatura prunes them from its copy: captions and credits stay out of the body
        el.set(_PRUNE_ATTR, "1")
    try:
        doc = trafilatura.bare_extraction(
            tree, url=page.url, include_comments=False, with_metadata=False, include_tables=True,
            prune_xpath=f"//*[@{_PRUNE_ATTR}]" if caption_els else None,
        )
    except Exception as exc:  # noqa: BLE001 - any extractor failure is this page's problem, not the run's
        return Reject(stage="extract", reason="extractor_error", url=page.url, article_id=article_id,
                      detail=f"{type(exc).__name__}: {exc}"[:500], raw_ref=page.raw_ref)
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        return Reject(stage="extract", reason="not_an_article", url=page.url, article_id=article_id,
                      detail="no main text found", raw_ref=page.raw_ref)

    issues: list[str] = []
    fallback = TrafilaturaFallbacks(tree, page.url)  # trafilatura's metadata, computed only where ours is silent
    site_name = choose_site_name([meta.first_meta("og:site_name"), meta.first_meta("application-name"),
                                  jsonld_name(meta.jsonld_value("publisher")), fallback.sitename])
    site_names = [n for n in (site_name, meta.first_meta("og:site_name"), fallback.sitename,
                              jsonld_name(meta.jsonld_value("publisher")), domain_of(canonical)) if n]
    title = choose_title(_first_text(meta.jsonld_value("headline")), meta.h1, meta.first_meta("og:title"),
                         [meta.first_meta("twitter:title"), fallback.title], site_names)
    description = _first_text(meta.jsonld_value("description"), meta.first_meta("og:description"),
                              meta.first_meta("description"), fallback.description)
    body = strip_leading_repeats(doc.text or "", [title, meta.h1, fallback.title, meta.first_meta("og:title")])
    if description and _starts_with_line(body, description) and _shown_as_subtitle(tree, meta, description):
        # a description is dropped only where the page shows it as a subtitle: often it is the lede
        body = strip_leading_repeats(body, [description])
    body = remove_leaked_captions(body, found_images)
    if len(body) < MIN_TEXT_CHARS:
        return Reject(stage="extract", reason="not_an_article", url=page.url, article_id=article_id,
                      detail=f"main text too short ({len(body)} characters)", raw_ref=page.raw_ref)

    published = find_published(meta)
    source: str | None = published[1] if published else None
    date = published[0] if published else None
    if date is None and (from_url := date_in_url(canonical) or date_in_url(page.url)):
        date, source = from_url, "url"
    if date is None and fallback.date:
        date = parse_date(fallback.date)  # htmldate: day precision
        source = "htmldate" if date else None
    if date is None:
        issues.append("published_at:missing")
    elif date.utc_offset is None and date.precision == "time":
        issues.append("published_at:no_utc_offset")
    modified = find_modified(meta)

    language = normalize_language(meta.html_lang) or normalize_language(
        _first_text(meta.jsonld_value("inLanguage"), meta.first_meta("og:locale", "content-language",
                                                                     "language", "dc.language")))
    if language is None:
        language = detect_language(body)
        issues.append("language:detected")
    section = _first_text(meta.jsonld_value("articleSection"), meta.first_meta("article:section"))
    if section is None:
        section = _first_text(*fallback.categories[:1])
    tags = split_tags([*meta.meta.get("article:tag", []), meta.jsonld_value("keywords") or [],
                       *meta.meta.get("keywords", []), *meta.meta.get("news_keywords", [])])
    byline = _byline(tree, meta, lambda: fallback.author, site_name)
    dateline_place, dateline_agency = find_dateline(body)
    agencies = tuple(dict.fromkeys([*byline.agencies, *([dateline_agency] if dateline_agency else [])]))

    article = ArticleRecord(
        article_id=article_id,
        content_hash=sha1_hex(f"{title or ''}\n{body}"),
        url=page.url,
        canonical_url=canonical,
        domain=domain_of(canonical),
        site_name=site_name,
        title=title,
        description=description,
        authors=byline.persons,
        agencies=agencies,
        is_wire=bool(agencies),
        dateline_place=dateline_place,
        published_at=date.at if date else None,
        published_utc_offset=date.utc_offset if date else None,
        published_precision=date.precision if date else None,
        published_source=source,
        modified_at=modified[0].at if modified else None,
        fetched_at=page.fetched_at,
        language=language,
        section=section,
        tags=tags,
        text=body,
        word_count=count_words(body),
        raw_ref=page.raw_ref,
        extractor_version=EXTRACTOR_VERSION,
        run_id=run_id,
        issues=tuple(issues),
    )
    year = date.at.year if date else None
    return ExtractedPage(article, tuple(image_records(found_images, article, reference_year=year)))


def image_records(found: list[FoundImage], article: ArticleRecord, *,
                  reference_year: int | None) -> list[ImageRecord]:
    """ImageRecords for the images found: captions split from credits, credits parsed, wire endings read."""
    records: list[ImageRecord] = []
    for position, image in enumerate(found):
        caption, credit = _strip_ui(image.caption), _strip_ui(image.credit)
        caption = _COUNTER.sub("", caption) if caption else caption  # "1 of 12 | ..." in a slideshow
        if caption and _LABELLED.match(caption) and not credit:
            caption, credit = None, clean_credit(caption)  # "Source: China Statistical Yearbook": all credit
        if caption and not credit and (ja := _JA_CREDIT.search(caption)):
            caption, credit = caption[: ja.start()].rstrip(), ja[1]  # "...（潟沼義樹撮影）": photo by
        if caption and not credit:
            caption, credit = split_caption_credit(caption)
            if not credit and (tail := _SLASH_TAIL.search(caption)) and parse_credit(tail[1]).photographers:
                caption, credit = caption[: tail.start()].rstrip(), tail[1]  # "... in Palma / Lorenzo Marina"
            elif not credit and (tail := _BRACKET_SLASH_TAIL.search(caption)):
                caption, credit = caption[: tail.start()].rstrip(), tail[1]  # "... in Gaza. (Jane Doe/CBC)"
        elif caption and credit:
            caption, _inline = split_caption_credit(caption)  # the markup's credit wins; drop a repeated one
        caption = html.unescape(caption) if caption and "&" in caption else (caption or None)
        parsed = parse_credit(credit) if credit else None
        place, on = caption_place_date(caption, reference_year=reference_year) if caption else (None, None)
        records.append(ImageRecord(
            article_id=article.article_id, content_hash=article.content_hash, position=position,
            is_cover=image.is_cover, src=image.src, alt=image.alt, caption=caption, credit_raw=credit,
            photographers=parsed.photographers if parsed else (), agencies=parsed.agencies if parsed else (),
            is_file_photo=parsed.is_file_photo if parsed else False,
            is_handout=parsed.is_handout if parsed else False, is_pool=parsed.is_pool if parsed else False,
            caption_place=place, caption_date=on, run_id=article.run_id,
        ))
    return records


def remove_leaked_captions(body: str, images: list[FoundImage]) -> str:
    """The body without lines that are an image's caption or credit (or a caption followed by its credit)."""
    known: set[str] = set()
    for image in images:
        for value in (image.caption, image.credit, image.alt):
            if value and len(value) >= 12:
                known.add(_norm(value))
                known.add(_norm(split_caption_credit(value)[0]))
    known.discard("")
    kept = []
    for line in body.split("\n"):
        norm = _norm(line)
        if not norm:
            continue
        if norm in known or _is_credit_line(line):
            continue
        if any(len(k) >= 30 and norm.startswith(k) and _is_credit_line(line[len(k):] or "x") for k in known):
            continue
        kept.append(line)
    return "\n".join(kept)


_UI_TAIL = re.compile(r"\s*(?:vis mer|vis mindre|show more|show less|read more|mehr anzeigen|weniger anzeigen|"
                      r"läs mer|lue lisää|lire plus|leer más|leggi di più|meer lezen|expand|zoom)\s*$", re.I)
_JA_CREDIT = re.compile(r"[（(]([^（）()]{1,20}?)撮影[）)]\s*$")


def _strip_ui(text: str | None) -> str | None:
    """Text without a trailing widget label ('... Vis mer', 'Show more')."""
    return _UI_TAIL.sub("", text).strip() or None if text else text


_COUNTER = re.compile(r"^\s*\d+\s*(?:of|von|de|/|sur|di|av|af)\s*\d+\s*[|:–-]?\s*", re.I)
_LABELLED = re.compile(r"^(?:source|sources|quelle|quellen|fuente|credit|credits|photo|foto|bild|image)s?\s*:", re.I)
_SLASH_TAIL = re.compile(r"\s+/\s+([^/]{3,60})$")
_BRACKET_SLASH_TAIL = re.compile(r"\s*\(([^()]{2,40}/[^()]{2,40})\)\s*$")
_CREDIT_LINE = re.compile(
    r"^\W*(?:(?:photo|foto|bild|image|picture|credit|quelle|source)s?\s*(?:credit)?\s*[:©]|©|\(c\)\s)", re.I)


def _is_credit_line(line: str) -> bool:
    """True for a short line that is only a photo credit ('(photo credit: REUTERS/STRINGER)', 'Foto: dpa')."""
    text = line.strip()
    if not text or len(text) > 160:
        return False
    if _CREDIT_LINE.match(text):
        return True
    if not any(c in text for c in "/©()|") and not text.isupper():
        return False  # a credit without a label has a slash, a bracket or capitals ("REUTERS/X", "(AP Photo)")
    caption, credit = split_caption_credit(text)
    return bool(credit) and not caption.strip(" .,;:()[]|-–—")


def _byline(tree: HtmlElement, meta: PageMetadata, fallback: Callable[[], str | None], site_name: str | None) -> Byline:
    """Persons and agencies from the first source naming a person: JSON-LD author, author meta tags,
    byline markup, then trafilatura's byline (``fallback``, asked only when the others name nobody: its
    DOM search is the slowest step of metadata). Agencies are collected from every source read."""
    author = meta.jsonld_value("author")
    items = author if isinstance(author, list) else [author] if author else []
    sources = [
        [n for n in (jsonld_name(i) for i in items) if n],
        [v for v in meta.meta.get("author", []) + meta.meta.get("article:author", []) + meta.meta.get("dc.creator", [])
         + meta.meta.get("sailthru.author", []) + meta.meta.get("parsely-author", [])
         if v.strip() and not v.strip().startswith("http")],
        dom_bylines(tree),
    ]
    agencies: list[str] = []
    persons: tuple[str, ...] = ()
    for values in sources:
        found = parse_byline(values, site_name=site_name)
        agencies += found.agencies
        if found.persons and not persons:
            persons = found.persons
    if not persons and (last := fallback()):
        found = parse_byline([last], site_name=site_name)
        persons, agencies = found.persons, agencies + list(found.agencies)
    return Byline(persons, tuple(dict.fromkeys(agencies)))


def _self_urls(meta: PageMetadata) -> list[object]:
    """What a page says its own URL is, best first: canonical link, og:url, JSON-LD."""
    main_entity = meta.jsonld_value("mainEntityOfPage")
    return [meta.canonical, meta.first_meta("og:url"), meta.jsonld_value("url"),
            main_entity.get("@id") if isinstance(main_entity, dict) else main_entity]


def _canonical_url(meta: PageMetadata, url: str) -> str:
    """The page's declared canonical URL if usable, else its own URL (normalized)."""
    for candidate in _self_urls(meta):
        if isinstance(candidate, str) and (canonical := canonicalize_url(candidate, base=url)):
            return canonical
    return canonicalize_url(url) or url


def _first_text(*values: object) -> str | None:
    """The first value that is a non-blank string (or a list holding one), whitespace-collapsed."""
    for value in values:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return html.unescape(text) if "&" in text else text  # JSON-LD often carries HTML entities
    return None


def _starts_with_line(body: str, line: str) -> bool:
    return _norm(body.split("\n", 1)[0]) == _norm(line)


def _shown_as_subtitle(tree: HtmlElement, meta: PageMetadata, text: str) -> bool:
    wanted = _norm(text)
    return any(_norm(h) == wanted for h in (*meta.headings, *subtitle_texts(tree)))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def strip_leading_repeats(text: str, repeats: list[str | None]) -> str:
    """The body without leading lines that repeat the title, subtitle or headline."""
    known = {_norm(r) for r in repeats if r and _norm(r)}
    lines = text.split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or _norm(lines[start]) in known):
        start += 1
    return "\n".join(line.strip() for line in lines[start:] if line.strip())


def declared_url(payload: bytes, content_type: str | None = None) -> str | None:
    """The absolute http(s) URL a saved page declares for itself (canonical link, og:url, JSON-LD)."""
    text = decode_html(payload, content_type)
    tree = load_html(text) if text else None
    if tree is None:
        return None
    for candidate in _self_urls(read_page_metadata(tree)):
        if isinstance(candidate, str) and (url := canonicalize_url(candidate)):
            return url
    return None
