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
from dateline.transforms.bylines import Byline, dom_bylines, find_dateline, parse_byline
from dateline.transforms.credits import caption_place_date, parse_credit, split_caption_credit
from dateline.transforms.fallbacks import TrafilaturaFallbacks
from dateline.transforms.images import FoundImage, clean_credit, find_images
from dateline.transforms.language import detect_language
from dateline.transforms.metadata import (
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
    site_name_forms,
    split_tags,
    subtitle_texts,
)
from dateline.transforms.schema import ArticleRecord, ExtractedPage, ImageRecord, Reject, RejectReason, Stage
from dateline.transforms.urls import article_id_of, canonicalize_url, domain_of, sha1_hex
from lxml.etree import ElementDefaultClassLookup
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.settings import Document
from trafilatura.utils import detect_encoding, is_dubious_html, repair_faulty_html


def _dateline_version() -> str:
    try:
        return version("dateline")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0+unknown"


DATELINE_VERSION = _dateline_version()
EXTRACTOR_VERSION = f"dateline/{DATELINE_VERSION} trafilatura/{trafilatura.__version__}"

MIN_TEXT_CHARS = 200
MIN_DECLARED_TEXT_CHARS = 80  # a page that calls itself an article, with a headline: a brief is still one
_PRUNE_ATTR = "data-dateline-prune"  # shorter bodies are teasers, list pages or error pages, not articles

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_NON_CJK_WORD = re.compile(rf"[^\W{_CJK}]+")
_WORD_CHAR = re.compile(r"\w")
_WORD_TOKEN = re.compile(r"[^\s\w]*\w\S*")  # a token (\s splits as str.split does) holding a word character


@dataclass(frozen=True, slots=True, kw_only=True)
class PageInput:
    """One archived page and where it came from: what extract_article needs besides bytes."""

    url: str
    content_type: str | None
    fetched_at: datetime
    raw_ref: str


def decode_html(payload: bytes, content_type: str | None = None) -> str | None:
    """The page as text: UTF-8 when the bytes are UTF-8, else the HTTP charset, <meta charset>,
    then detection; None if nothing fits.

    Valid UTF-8 wins over a declared single-byte charset because pages often keep a stale
    declaration ("iso-8859-1") after moving to UTF-8, while Latin text is practically never
    valid UTF-8 by accident. For the same reason a Latin declaration that turns the page into
    accented gibberish (a Cyrillic or Greek page with a stale label) is overruled by detection.
    """
    if text := _as_utf(payload):
        return text
    misread: str | None = None
    for codec in _declared_codecs(payload, content_type):
        try:
            text = payload.decode(codec)
        except UnicodeError:  # UnicodeDecodeError, or the "undefined" codec
            continue
        if codec == "cp1252" and _misread_as_latin(text):
            misread = misread or text
            continue
        return text
    for guess in detect_encoding(payload):
        try:
            return payload.decode(guess)
        except (LookupError, UnicodeError):
            continue
    return misread


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_UTF8_MIN_CHARS = 20  # non-ASCII characters that make "mostly UTF-8" a safe call


def _as_utf(payload: bytes) -> str | None:
    """The bytes as UTF-8 (or UTF-16/32 with a byte-order mark), if that is what they are.

    Also UTF-8 cut inside a character (a download stopped at the size cap) and UTF-8 with a few
    stray bytes (a pasted snippet in another encoding): reading those as Latin-1, as a stale
    header says, would turn every non-ASCII character of the page into mojibake ("é" -> "Ã©").
    """
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            try:
                return payload.decode(codec)
            except UnicodeError:
                return None
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.end == len(payload) and exc.reason == "unexpected end of data":
            return payload[: exc.start].decode("utf-8-sig", "replace")
    text = payload.decode("utf-8-sig", "replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    if good < _UTF8_MIN_CHARS or bad * 50 > good:
        return None
    return payload.decode("utf-8-sig", _AS_CP1252)  # the stray bytes are most likely windows-1252: "Chlo\xe9"


def _stray_bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8, read as windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", "replace"), exc.end


_AS_CP1252 = "dateline.stray-bytes-as-cp1252"
codecs.register_error(_AS_CP1252, _stray_bytes_as_cp1252)


_NOT_PAGE_CODECS = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})


def _declared_codecs(payload: bytes, content_type: str | None) -> list[str]:
    """Python codec names of the charsets the HTTP header and the <meta> tag declare, in that order.

    Labels that name no text encoding ("base64", "rot13", "zlib") are ignored, and so are
    encodings no web page may use (UTF-7, unicode-escape): browsers ignore them too.
    """
    labels: list[str] = []
    if content_type and (header := _HTTP_CHARSET.search(content_type)):
        labels.append(header[1])
    if meta_tag := _META_CHARSET.search(payload[:4096]):
        labels.append(meta_tag[1].decode("ascii", "replace"))
    codecs_found: list[str] = []
    for label in labels:
        try:
            info = codecs.lookup(label)
        except LookupError:
            continue
        if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
            continue
        # WHATWG: these labels mean windows-1252
        codecs_found.append("cp1252" if info.name in {"latin-1", "iso8859-1", "ascii", "cp1252"} else info.name)
    return codecs_found


_LATIN_HIGH_WORD = re.compile(r"[^\W\d_]*[\u00c0-\u00ff][^\W\d_]*")
_MOJIBAKE_SAMPLE = 200_000
_MOJIBAKE_SHARE = 0.6


def _misread_as_latin(text: str) -> bool:
    """Whether text decoded as windows-1252 is really another script: in Latin-script languages the
    accented letters sit inside mostly plain words ("décidé", "Größe"); a Cyrillic, Greek, Hebrew or
    Arabic page read as windows-1252 has words made almost only of them ("Íîâîñèáèðñêå")."""
    words = _LATIN_HIGH_WORD.findall(text[:_MOJIBAKE_SAMPLE])
    if len(words) < 10:
        return False
    high = sum(sum("\u00c0" <= c <= "\u00ff" for c in w) for w in words)
    return high > _MOJIBAKE_SHARE * sum(len(w) for w in words)


# --- what the bytes are: a page, or something else labelled text/html -----------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office document"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"OggS", "an Ogg media file"),
    (b"\x1a\x45\xdf\xa3", "a WebM/Matroska video"),
    (b"%!PS", "a PostScript document"),
    (b"{\\rtf", "an RTF document"),
)
_RIFF = {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}
_JSON_START = re.compile(r"""\s*(?:\{\s*["}]|\[\s*(?:[\[{"\]]|-?\d|true\b|false\b|null\b))""")
_XML_ROOT = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:(?:<!--.*?-->|<!DOCTYPE[^>]*>|<\?[^>]*\?>)\s*)*"
                       r"<(rss|feed|rdf:RDF|urlset|sitemapindex|svg)\b", re.IGNORECASE | re.DOTALL)
_XML_KINDS = {"rss": "an RSS feed", "feed": "an Atom feed", "rdf:rdf": "an RSS 1.0 feed",
              "urlset": "an XML sitemap", "sitemapindex": "an XML sitemap index", "svg": "an SVG image"}


def sniff_binary(payload: bytes) -> str | None:
    """What a body is when it is a known binary format ("a PDF document"), else None.

    Servers label PDFs, images and downloads text/html often enough; their bytes would otherwise
    be "decoded" by guesswork into a page of gibberish.
    """
    head = payload[:1024].lstrip(b" \t\r\n")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return "an MP4/QuickTime/HEIF media file"
    if head.startswith(b"ID3") and head[3:4] in (b"\x02", b"\x03", b"\x04"):
        return "an MP3 audio file"
    if head.count(0) >= 8 and not _utf16_like(payload[:1024]):
        return "binary data (NUL bytes)"
    return None


def _utf16_like(head: bytes) -> bool:
    """UTF-16/32 text: a byte-order mark, or ASCII with a NUL beside every character."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return min(even, odd) == 0 and max(even, odd) >= len(head) // 4


def sniff_text(text: str) -> str | None:
    """What a decoded body is when it is JSON or a non-HTML XML document ("an RSS feed"), else None."""
    start = text[:2000].lstrip("\ufeff")
    if _JSON_START.match(start):
        return "a JSON document"
    if root := _XML_ROOT.match(start):
        return _XML_KINDS[root[1].lower()]
    return None


def count_words(text: str) -> int:
    """Whitespace-separated tokens holding a letter or digit; each CJK character counts as one word."""
    if not _CJK_CHAR.search(text):  # one regular-expression pass instead of one per token
        return len(_WORD_TOKEN.findall(text))
    count = 0
    for token in text.split():
        cjk = len(_CJK_CHAR.findall(token))
        if cjk:
            count += cjk + len(_NON_CJK_WORD.findall(token))
        elif _WORD_CHAR.search(token):
            count += 1
    return count


def extract_article(payload: bytes, page: PageInput, *, run_id: str) -> ExtractedPage | Reject:
    """Decode, parse and extract one page. Rejects empty, non-HTML, undecodable and article-less pages."""
    def reject(stage: Stage, reason: RejectReason, detail: str) -> Reject:
        return Reject(stage=stage, reason=reason, url=page.url, detail=detail, raw_ref=page.raw_ref)

    if not payload.strip():
        return reject("decode", "empty_body", f"{len(payload)} bytes of whitespace only" if payload else
                      "0 bytes of content")
    if kind := sniff_binary(payload):
        return reject("decode", "not_html", _not_html_detail(kind, page.content_type))
    text = decode_html(payload, page.content_type)
    if text is None:
        return reject("decode", "undecodable", "no declared or detected character encoding fits")
    if kind := sniff_text(text):
        return reject("decode", "not_html", _not_html_detail(kind, page.content_type))
    tree = parse_html(text)
    if tree is not None and _parse_stopped_deep(tree):
        tree = parse_html(flatten_nesting(text, MAX_NESTING))
        if tree is None or _parse_stopped_deep(tree):
            return reject("decode", "undecodable", f"elements nested deeper than {_PARSER_MAX_DEPTH} levels")
    if tree is None:
        return reject("decode", "undecodable", "not parseable as HTML")
    try:
        return _extract_from_tree(tree, page, run_id=run_id)
    except RecursionError:
        return reject("extract", "extractor_error", "document nested too deeply")


# trafilatura's parser settings (trafilatura.utils.HTML_PARSER), with the class of each element object chosen in C:
# lxml.html's own lookup calls a Python method for every element object lxml makes, some 7,000 a page between our
# readers and trafilatura's passes over its copies of the tree (which keep the parser). The one difference: <form>,
# <input>, <select>, <textarea> and <label> are plain HtmlElements, without lxml.html's form helpers (form_values,
# value, ...), which neither Dateline nor trafilatura uses.
_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(ElementDefaultClassLookup(element=HtmlElement, comment=HtmlComment,
                                                           pi=HtmlProcessingInstruction, entity=HtmlEntity))


def parse_html(text: str) -> HtmlElement | None:
    """A decoded page's tree, parsed as trafilatura.utils.load_html parses it (the same repairs, the same
    fallback to bytes, None for what is not HTML), with the element objects of _PARSER."""
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    text = repair_faulty_html(text, beginning)
    tree: HtmlElement | None = None
    as_bytes = False
    try:
        tree = fromstring(text, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported"
        tree, as_bytes = _parse_bytes(text), True
    except Exception:  # noqa: BLE001 - as in trafilatura: a page lxml cannot parse has no tree
        tree = None
    if (tree is None or len(tree) < 1) and not as_bytes:
        tree = _parse_bytes(text)
    if tree is not None and dubious and len(tree) < 2:  # a fragment or other data, not a page
        return None
    return tree


def _parse_bytes(text: str) -> HtmlElement | None:
    try:
        return fromstring(text.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:  # noqa: BLE001 - as in trafilatura
        return None


def _not_html_detail(kind: str, content_type: str | None) -> str:
    return f"the body is {kind}, not HTML (Content-Type: {content_type or 'none'})"


# --- pathological nesting -------------------------------------------------------------------

_PARSER_MAX_DEPTH = 255  # libxml2 stops parsing (silently, with recover) at an element this deep
MAX_NESTING = 100  # real pages stay under ~60 levels; deeper start and end tags are dropped, text kept
_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style|textarea|title)\b[^>]*>.*?(?:</\1\s*>|\Z)"
                     r"|<(/?)([a-zA-Z][^\s/>]*)[^>]*>", re.IGNORECASE | re.DOTALL)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def _parse_stopped_deep(tree: HtmlElement) -> bool:
    """Whether the parser hit its depth limit: it then drops the rest of the page without a word, so
    the last element it made is the deepest (found by following last children, not by a full walk)."""
    depth, el = 0, tree
    while len(el) and depth < _PARSER_MAX_DEPTH:
        el, depth = el[-1], depth + 1
    return depth >= _PARSER_MAX_DEPTH - 5


def flatten_nesting(html_text: str, limit: int) -> str:
    """The page with every start and end tag nested deeper than ``limit`` removed, the text kept.

    Ten thousand nested <div>s (or <b>s) around a paragraph make libxml2 stop at level 255 and
    lose the paragraph; flattened, the paragraph is parsed like any other. Tags are matched by
    name, innermost first, as a browser would for well-formed markup; stray end tags are kept.
    """
    out: list[str] = []
    kept: list[str] = []  # open elements within the limit
    dropped: list[str] = []  # open elements beyond it, innermost last
    last = 0
    for m in _MARKUP.finditer(html_text):
        name, closing = (m[3] or "").lower(), m[2] == "/"
        if not name or name in _VOID or m[0].endswith("/>"):
            continue
        drop = False
        if not closing and len(kept) >= limit:
            dropped.append(name)
            drop = True
        elif not closing:
            kept.append(name)
        elif name in (recent := dropped[-8:]):  # the end of a dropped element (and implied ends inside it)
            del dropped[len(dropped) - 1 - recent[::-1].index(name):]
            drop = True
        elif name in kept:
            del kept[len(kept) - 1 - kept[::-1].index(name):]
        if drop:
            out.append(html_text[last:m.start()])
            last = m.end()
    out.append(html_text[last:])
    return "".join(out)


def _main_text(tree: HtmlElement, url: str, *, pruned: bool) -> Document | None:
    """trafilatura's main text of the page (on its own copy of the tree), caption elements pruned if asked."""
    doc = trafilatura.bare_extraction(tree, url=url, include_comments=False, with_metadata=False, include_tables=True,
                                      prune_xpath=f"//*[@{_PRUNE_ATTR}]" if pruned else None)
    return doc if isinstance(doc, Document) else None


def _extract_from_tree(tree: HtmlElement, page: PageInput, *, run_id: str) -> ExtractedPage | Reject:
    meta = read_page_metadata(tree)
    canonical = _canonical_url(meta, page.url)
    article_id = article_id_of(canonical)

    def not_an_article(detail: str) -> Reject:
        return Reject(stage="extract", reason="not_an_article", url=page.url, article_id=article_id,
                      detail=detail, raw_ref=page.raw_ref)

    if error_title := error_page_title(tree, meta):
        return not_an_article(f"an error page served as a page: {error_title[:200]!r}")
    found_images, caption_els = find_images(tree, page.url, meta)
    for el in caption_els:  # trafilatura prunes them from its copy: captions and credits stay out of the body
        el.set(_PRUNE_ATTR, "1")
    try:
        doc = _main_text(tree, page.url, pruned=bool(caption_els))
        if caption_els and len((doc.text or "") if isinstance(doc, Document) else "") < MIN_TEXT_CHARS:
            # the caption elements held the article's text (a headline or lede taken for a caption):
            # without pruning trafilatura finds the body again; leaked captions are removed by text below
            unpruned = _main_text(tree, page.url, pruned=False)
            if isinstance(unpruned, Document) and len(unpruned.text or "") > len(getattr(doc, "text", "") or ""):
                doc = unpruned
    except Exception as exc:  # noqa: BLE001 - any extractor failure is this page's problem, not the run's
        return Reject(stage="extract", reason="extractor_error", url=page.url, article_id=article_id,
                      detail=f"{type(exc).__name__}: {exc}"[:500], raw_ref=page.raw_ref)
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        return not_an_article("no main text found")

    issues: list[str] = []
    fallback = TrafilaturaFallbacks(tree, page.url)  # trafilatura's metadata, computed only where ours is silent
    site_name = choose_site_name([meta.first_meta("og:site_name"), meta.first_meta("application-name"),
                                  jsonld_name(meta.jsonld_value("publisher")), fallback.sitename])
    site_names = [*site_name_forms([site_name, meta.first_meta("og:site_name"), fallback.sitename,
                                    jsonld_name(meta.jsonld_value("publisher"))]),
                  *filter(None, [domain_of(canonical)])]
    title = choose_title(_first_text(meta.jsonld_value("headline")), meta.h1, meta.first_meta("og:title"),
                         [meta.first_meta("twitter:title"), fallback.title], site_names)
    description = _first_text(meta.jsonld_value("description"), meta.first_meta("og:description"),
                              meta.first_meta("description"), fallback.description)
    body = strip_leading_repeats(doc.text or "", [title, meta.h1, fallback.title, meta.first_meta("og:title")])
    if description and _starts_with_line(body, description) and _shown_as_subtitle(tree, meta, description):
        # a description is dropped only where the page shows it as a subtitle: often it is the lede
        body = strip_leading_repeats(body, [description])
    body = remove_leaked_captions(body, found_images)
    if len(body) < (MIN_DECLARED_TEXT_CHARS if declares_article(meta) and title else MIN_TEXT_CHARS):
        return not_an_article(f"main text too short ({len(body)} characters)")
    if apology := error_page_text(body):
        return not_an_article(f"an error page served as a page: {apology!r}")
    linked, share = teaser_share(tree, body, page.url)
    if linked >= MIN_TEASER_PAGES and share >= (DECLARED_TEASER_SHARE if declares_article(meta) else TEASER_SHARE):
        return not_an_article(f"{share:.0%} of the text is teasers linking to {linked} other pages "
                              f"(a home, section or list page)")

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
        byline_orgs=byline.orgs,
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


# --- pages that are not articles --------------------------------------------------------------

_ERROR_PHRASES = re.compile(
    r"page (?:was |is )?not found|page (?:cannot|can ?not|could not|couldn't|can't) be found"
    r"|(?:cannot|can ?not|can't|could not|couldn't) find (?:that|this|the|your) page"
    r"|page (?:does not|doesn't|no longer) exists?|\b404 (?:error|not found)|\berror 404\b|^\W*404\W*$"
    r"|^\W*not found\W*$|seite (?:wurde )?nicht gefunden|fehler 404|page introuvable|page non trouvée"
    r"|erreur 404|página no encontrada|página não encontrada|pagina non trovata|pagina niet gevonden"
    r"|strona nie (?:została )?znaleziona|nie znaleziono strony|sidan (?:kunde inte hittas|hittades inte)"
    r"|siden (?:blev ikke fundet|finnes ikke|ble ikke funnet)|sayfa bulunamadı|страница не найдена"
    r"|ページが見つかりません|お探しのページ|页面不存在|页面未找到|找不到(?:该|此)?页面",
    re.IGNORECASE)


def error_page_title(tree: HtmlElement, meta: PageMetadata) -> str | None:
    """The <title> or <h1> of a page that says it is an error page ("Page not found | Herald").

    Sites answer a missing article with status 200 and a "not found" page often enough ("soft
    404s"); its apology and links to popular stories would otherwise pass for an article.
    """
    title = tree.find(".//title")
    titles = [" ".join(title.text_content().split()) if title is not None else "", meta.h1 or ""]
    return next((t for t in titles if _ERROR_PHRASES.search(t.replace("\u2019", "'"))), None)


_ERROR_TEXT = re.compile(
    r"(?:the |this )?page you (?:are|were|'re) (?:looking|searching) for|the page you (?:have )?requested"
    r"|(?:this|the) page (?:does not|doesn't|no longer) exists?|die (?:von ihnen )?(?:gesuchte|angeforderte) seite"
    r"|la page que vous (?:recherchez|cherchez|avez demandée)|la página que (?:buscas|estás buscando|busca)"
    r"|la pagina che (?:cerchi|stai cercando)|de pagina die je zoekt|страница, которую вы (?:ищете|запросили)",
    re.IGNORECASE)
_ERROR_TEXT_MAX_CHARS = 1500  # an apology is short; a long text that mentions one is an article about it


def error_page_text(body: str) -> str | None:
    """The opening sentence of a short body that apologizes for a missing page ("The page you were
    looking for may have been moved ..."): a soft 404 whose title and heading do not say so."""
    if len(body) > _ERROR_TEXT_MAX_CHARS or not _ERROR_TEXT.search(body[:400].replace("\u2019", "'")):
        return None
    return body.split("\n", 1)[0][:200]


_ARTICLE_JSONLD = re.compile(r"article$|posting$|^report$", re.IGNORECASE)


def declares_article(meta: PageMetadata) -> bool:
    """Whether the page calls itself an article: og:type "article" or a JSON-LD Article (NewsArticle,
    BlogPosting, LiveBlogPosting, ...). Home and section pages say "website" or nothing."""
    if (meta.first_meta("og:type") or "").strip().lower() == "article":
        return True
    for obj in meta.jsonld:
        types = obj.get("@type")
        for value in types if isinstance(types, list) else [types]:
            if isinstance(value, str) and _ARTICLE_JSONLD.search(value):
                return True
    return False


MIN_TEASER_PAGES = 4  # other pages the teasers link to
TEASER_SHARE = 0.7  # of the body's characters, for a page that does not declare itself an article
DECLARED_TEASER_SHARE = 0.9  # for one that does: leaked "related stories" must not cost a real article
_TEASER_MAX_CHARS = 1500  # a teaser block: a headline link and a summary, not a whole column
_HEADLINE_WORDS = 4
_MAX_LINKS = 2000  # links looked at per page: a list page shows its nature long before


def teaser_share(tree: HtmlElement, body: str, url: str) -> tuple[int, float]:
    """How many other pages the body's teasers link to, and the share of the body they make up.

    Teaser material is a body line that is a link's text (a headline, or a whole card inside
    one link), that starts with a headline link ("Headline — summary"), or that is the summary
    in a teaser block: one headline link (4+ words) to another page plus text that is not part
    of the link. A home, section or search page is a column of these, and trafilatura takes
    them for an article's paragraphs. A paragraph with a link inside its text is no teaser, and
    a "related stories" box rarely reaches the body, so articles score low (at most 0.49 on the
    155 sample pages, where 0.7 marks a list).
    """
    lines = [n for n in (_squash(line) for line in body.split("\n")) if n]
    total = sum(len(line) for line in lines)
    if not total:
        return 0, 0.0
    # Only texts equal to a body line, and headlines whose first words open one, can count: the maps
    # below keep nothing else (they are only ever asked about body lines).
    wanted = set(lines)
    starts = {" ".join(line.split()[:_HEADLINE_WORDS]) for line in lines}
    page = _PageTexts()
    in_link: dict[str, str] = {}  # text of a link or of an element inside one -> href
    summary_of: dict[str, str] = {}  # text of an element of a teaser block, outside its link -> the link's href
    by_start: dict[str, list[tuple[str, str]]] = {}  # first words of a headline -> (headline, href)
    for link, href in _links_to_other_pages(tree, url):
        headline = page.text(link)
        for el in link.iter():
            if isinstance(el.tag, str) and (text := page.text(el)) in wanted:
                in_link.setdefault(text, href)
        words = headline.split()
        if len(words) < _HEADLINE_WORDS:
            continue
        if (start := " ".join(words[:_HEADLINE_WORDS])) in starts:
            by_start.setdefault(start, []).append((headline, href))
        if (block := _teaser_block(link, len(headline), page)) is not None:
            holders = {link, *link.iterancestors()}  # elements whose text holds the headline
            for el in block.iter():
                if isinstance(el.tag, str) and el not in holders and (text := page.text(el)) in wanted:
                    summary_of.setdefault(text, href)
    pages: set[str] = set()
    covered = 0
    for line in lines:
        linked = in_link.get(line) or summary_of.get(line) or next(
            (h for head, h in by_start.get(" ".join(line.split()[:_HEADLINE_WORDS]), []) if line.startswith(head)),
            None)
        if linked is not None:
            pages.add(linked)
            covered += len(line)
    return len(pages), covered / total


def _squash(text: str) -> str:
    """Text with its whitespace collapsed: how trafilatura's lines and the elements' texts compare."""
    return " ".join(text.split())


class _PageTexts:
    """Texts and sizes of a page's elements, each read once: teaser blocks overlap one another and hold
    their links' elements again, so the same elements are asked about many times."""

    def __init__(self) -> None:
        self._texts: dict[HtmlElement, str] = {}
        self._sizes: dict[HtmlElement, int] = {}
        self._single_headline: dict[HtmlElement, bool] = {}

    def text(self, el: HtmlElement) -> str:
        """The element's text, whitespace collapsed."""
        text = self._texts.get(el)
        if text is None:  # most links and their parts hold a single text: no XPath call for those
            text = self._texts[el] = _squash(el.text_content() if len(el) else el.text or "")
        return text

    def size(self, el: HtmlElement) -> int:
        """Characters of the element's text with XML whitespace collapsed (XPath's normalize-space)."""
        size = self._sizes.get(el)
        if size is None:
            size = self._sizes[el] = int(el.xpath("string-length(normalize-space(.))"))
        return size

    def single_headline(self, el: HtmlElement) -> bool:
        """Whether the element's links with headline-length text all go to one address."""
        single = self._single_headline.get(el)
        if single is None:
            hrefs = {a.get("href") for a in el.iter("a") if len(self.text(a).split()) >= _HEADLINE_WORDS}
            single = self._single_headline[el] = len(hrefs) == 1
        return single


def _links_to_other_pages(tree: HtmlElement, url: str) -> list[tuple[HtmlElement, str]]:
    """Links with text to other pages (not fragments of this one, scripts or mail addresses)."""
    links = []
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")) or href.split("#", 1)[0] == url:
            continue
        links.append((link, href))
        if len(links) >= _MAX_LINKS:
            break
    return links


def _teaser_block(link: HtmlElement, own: int, page: _PageTexts) -> HtmlElement | None:
    """The smallest ancestor (up to four levels up) with text besides the link (``own`` characters),
    if it is teaser-sized and links to no other headline."""
    el: HtmlElement | None = link
    for _ in range(4):
        el = el.getparent() if el is not None else None
        if el is None:
            return None
        size = page.size(el)
        if size > _TEASER_MAX_CHARS:
            return None
        if size >= own + 30:
            return el if page.single_headline(el) else None
    return None


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
    orgs: tuple[str, ...] | None = None  # of the source naming persons, else of the first naming any
    for values in sources:
        found = parse_byline(values, site_name=site_name)
        agencies += found.agencies
        if found.persons and not persons:
            persons, orgs = found.persons, found.orgs
        elif found.orgs and orgs is None:
            orgs = found.orgs
    if not persons and (last := fallback()):
        found = parse_byline([last], site_name=site_name)
        persons, agencies = found.persons, agencies + list(found.agencies)
        if found.persons or orgs is None:
            orgs = found.orgs
    return Byline(persons, tuple(dict.fromkeys(agencies)), orgs or ())


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
    """Whether a heading or a subtitle element shows the text; headings first, as the page's subtitle
    elements are found by a walk over every class on the page."""
    wanted = _norm(text)
    return any(_norm(h) == wanted for h in meta.headings) or any(_norm(h) == wanted for h in subtitle_texts(tree))


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
    tree = parse_html(text) if text else None
    if tree is None:
        return None
    for candidate in _self_urls(read_page_metadata(tree)):
        if isinstance(candidate, str) and (url := canonicalize_url(candidate)):
            return url
    return None
