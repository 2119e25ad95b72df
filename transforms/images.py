"""An article's images with captions and credits, found generically on any site.

Sources, merged by image identity and by caption: <figure> with <figcaption>; elements whose
class marks a caption or credit next to an <img>; data-caption / data-credit attributes; the
article's JSON-LD ImageObjects (caption, creditText, author, copyrightHolder); og:image for the
cover. The caption and credit elements found are returned too, so the body text can leave them out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from dateline.transforms.credits import Caseless, parse_credit, split_caption_credit
from dateline.transforms.metadata import PageMetadata, jsonld_names
from lxml.html import HtmlElement

# class-name tests run on every class of a page: Caseless is several times faster than re.I there
_CAPTION_CLASS = Caseless(
    r"caption|legend|bildunterschrift|bildtext|image-?text|img-?text|photo-?text|media-?text|"
    r"description__text|figure__text|leyenda|didascalia|pie-?de-?foto|bijschrift|billedtekst|bildtext")
_CREDIT_CLASS = Caseless(
    r"credit|copyright|photographer|fotograf|urheber|quelle|source|rights|byline|author|autor|"
    r"attribution|courtesy|foto-?credit|bildnachweis|bildrechte|image-?source|distributor|agency")
# class/id words (split on spaces, "-" and "_") that start with these stems mark non-article regions
_EXCLUDED_STEMS = ("related", "recommend", "promo", "sidebar", "newsletter", "comment", "outbrain",
                   "taboola", "advert", "sponsor", "social", "share", "sharing", "nav", "menu", "footer", "avatar",
                   "logo", "icon", "trending", "mostread", "paywall", "author", "byline", "profile", "headshot",
                   "mugshot", "banner", "breadcrumb", "popup", "cookie", "subscribe", "recirc")
_EXCLUDED_WORDS = frozenset({"ad", "ads", "morestories", "moretop"})
_EXCLUDED_TAGS = frozenset({"nav", "footer", "aside", "template", "form"})
_IMAGE_HREF = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)(?:[?#]|$)|^#|^javascript:", re.I)
_MEDIA_TAGS = ("img", "amp-img", "picture")
_PLACEHOLDER = re.compile(r"transparent|blank|placeholder|spacer|pixel|1x1|lazy|loading|grey|gray|empty", re.I)
_MEDIA_CONTAINER = Caseless(r"media|image|img|photo|picture|figure|bild|foto|slide|gallery|visual|illustration")
_INFO_CLASS = Caseless(r"text|info|desc|subtitle|title|summary")
# Words that every class matched by _CAPTION_CLASS or _INFO_CLASS contains (all its variants of "pie de foto"
# contain "foto"): one search for them rules out most classes before the class patterns run.
_CANDIDATE_WORDS = ("caption", "legend", "bildunterschrift", "text", "leyenda", "didascalia", "foto", "bijschrift",
                    "billedtekst", "info", "desc", "title", "summary")
_CANDIDATE = re.compile("|".join(_CANDIDATE_WORDS))  # one search of the lowercased class, not thirteen "in" tests
_SIZE_SUFFIX = re.compile(r"([-_.](\d{2,4}x\d{2,4}|w\d{2,4}|h\d{2,4}|\d{2,4}w|small|medium|large|thumb))+$", re.I)
_MIN_CAPTION_CHARS = 3
_MAX_CAPTION_CHARS = 2000


@dataclass(frozen=True, slots=True)
class FoundImage:
    """An image as found on the page, before its credit is parsed."""

    src: str
    alt: str | None
    caption: str | None
    credit: str | None
    is_cover: bool = False


def _classes(el: HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"


def _excluded_words(el: HtmlElement) -> bool:
    words = re.split(r"[\s_-]+", f"{el.get('class', '')} {el.get('id', '')}".lower())
    return any(w in _EXCLUDED_WORDS or w.startswith(_EXCLUDED_STEMS) for w in words if w)


def _teaser_word(el: HtmlElement) -> bool:
    return any(w.startswith("teaser") for w in re.split(r"[\s_-]+", el.get("class", "").lower()))


def _in_teaser_list(el: HtmlElement) -> bool:
    """A teaser among teasers ('more from this section'); a lone 'teaser-image' is the article's lead."""
    if not _teaser_word(el):
        return False
    if any(w.startswith(("teasergroup", "teaserlist", "teasers")) for w in el.get("class", "").lower().split()):
        return True
    return any(_teaser_word(sib) for sib in (*el.itersiblings(), *el.itersiblings(preceding=True))
               if isinstance(sib.tag, str))


def _holds_article(el: HtmlElement) -> bool:
    """True for a page-level wrapper ('page page-banner') that holds the story's paragraphs: its
    class says nothing about the images in it."""
    long_paragraphs = 0
    for p in el.iter("p"):
        if len(p.text_content() if len(p) else p.text or "") > 80:
            long_paragraphs += 1
            if long_paragraphs >= 6:  # enough: a wrapper's paragraphs can run into the hundreds
                return True
    return False


def _excluded(el: HtmlElement, seen: dict[HtmlElement, bool] | None = None) -> bool:
    """True if the element sits in navigation, a related-articles list, an ad, a footer or the like
    (below <article>). ``seen`` remembers, per page, which elements on the way up mark such a region
    (the images and captions of a page share most of their ancestors, and _holds_article reads a
    whole wrapper's paragraphs)."""
    node: HtmlElement | None = el
    depth = 0
    while node is not None and depth < 10:
        if not isinstance(node.tag, str) or node.tag in _EXCLUDED_TAGS:
            return True
        marks = seen.get(node) if seen is not None else None
        if marks is None:
            marks = (_excluded_words(node) or _in_teaser_list(node)) and not _holds_article(node)
            if seen is not None:
                seen[node] = marks
        if marks:
            return True
        if node.tag in ("article", "main", "body"):
            return False
        node = node.getparent()
        depth += 1
    return False


def _text(el: HtmlElement) -> str:
    """The element's text, whitespace collapsed (read without an XPath call when it has no children)."""
    return " ".join((el.text_content() if len(el) else el.text or "").split())


def _best_srcset(value: str) -> str | None:
    """The widest candidate of a srcset: 'a.jpg 320w, b.jpg 1024w' -> 'b.jpg'."""
    best, best_width = None, -1.0
    for part in value.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        width = 0.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            width = float(bits[1][:-1]) * (1000 if bits[1].endswith("x") else 1)
        if width > best_width:
            best, best_width = bits[0], width
    return best


def _attribute_sources(el: HtmlElement) -> list[str]:
    """Image URLs an element's attributes offer, lazy-loading ones first: any *srcset, data-*src*, src."""
    srcsets, lazy, plain = [], [], []
    for name, value in el.attrib.items():
        name = name.lower()
        if not value or not isinstance(value, str):
            continue
        if name.endswith("srcset"):
            if best := _best_srcset(value):
                srcsets.append(best)
        elif name.startswith("data-") and ("src" in name or "lazy" in name or name in ("data-img", "data-original")):
            lazy.append(value)
        elif name == "src":
            plain.append(value)
    return srcsets + lazy + plain


def image_src(img: HtmlElement, base: str) -> str | None:
    """The absolute URL of an <img>, <amp-img> or <picture> (lazy-loading attributes, srcsets,
    <source>s and a <noscript> copy included), or None."""
    candidates: list[str] = []
    elements = [img] if img.tag != "picture" else []
    picture = img if img.tag == "picture" else img.getparent()
    for el in elements:
        candidates += _attribute_sources(el)
    if picture is not None and picture.tag == "picture":
        for source in picture.iter("source", "img"):
            candidates += _attribute_sources(source)
    sibling = img.getnext()
    if sibling is not None and sibling.tag == "noscript":
        candidates += [i.get("src") for i in sibling.iter("img") if i.get("src")]
    for candidate in candidates:
        candidate = candidate.strip()
        if not candidate or candidate.startswith(("data:", "blob:", "about:")):
            continue
        name = candidate.rsplit("/", 1)[-1]
        if name.lower().split("?")[0].endswith((".gif", ".svg")) and _PLACEHOLDER.search(name):
            continue
        try:
            url = urljoin(base, candidate)
        except ValueError:
            continue
        if url.startswith(("http://", "https://")):
            return url
    return None


def image_key(src: str) -> str:
    """An identity for an image across sizes and CDNs: the original file's name without size hints."""
    parts = urlsplit(src)
    query = parse_qs(parts.query)
    path = unquote(query["url"][0]) if "url" in query else parts.path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _SIZE_SUFFIX.sub("", stem)
    return stem.lower() or src


def _norm(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", text.casefold()).split())


def _read_caption_block(block: HtmlElement) -> tuple[str | None, str | None, list[HtmlElement]]:
    """(caption, credit, credit elements) of a caption element, its credit markup taken apart."""
    credit_els = [el for el in block.iterdescendants() if isinstance(el.tag, str) and
                  _CREDIT_CLASS.search(_classes(el)) and not _CAPTION_CLASS.search(el.get("class", ""))]
    credit_els = [el for el in credit_els if not any(a in credit_els for a in el.iterancestors())]
    if not credit_els:
        credit_els = _unmarked_credit(block)
    skip = set(credit_els)
    pieces: list[str] = []

    def walk(el: HtmlElement) -> None:
        if el in skip:
            if el.tail:
                pieces.append(el.tail)
            return
        if el.tag == "br":
            pieces.append(" ")
        elif el.text and isinstance(el.tag, str):
            pieces.append(el.text)
        for child in el:
            walk(child)
        if el is not block and el.tail:
            pieces.append(el.tail)

    walk(block)
    caption = plausible_caption(" ".join("".join(pieces).split()) or None,
                                min_words=2 if block.tag == "figcaption" else 3)
    credit = clean_credit(" ".join(text for text in map(_text, credit_els) if text))
    return caption, credit, credit_els


def _unmarked_credit(block: HtmlElement) -> list[HtmlElement]:
    """A caption's last child element when it holds only a credit: <cite>, or a short name or agency
    after the caption text ('<span>Caption.</span><span>Álex Cámara</span>')."""
    children = [c for c in block if isinstance(c.tag, str) and c.tag not in ("br", "a")]
    if not children:
        return []
    last = children[-1]
    text = _text(last)
    if not text or len(text.split()) > 8 or (last.tail or "").strip():
        return []
    if last.tag == "cite":
        return [last]
    whole = _text(block)
    rest = whole[: -len(text)].strip() if whole.endswith(text) else ""
    if len(rest.split()) < 3:
        return []
    parsed = parse_credit(text)
    return [last] if (parsed.photographers or parsed.agencies) and not re.search(r"[.!?]$", text) else []


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _is_headline_block(el: HtmlElement, meta: PageMetadata) -> bool:
    """Whether a would-be caption element is, or holds, a heading, or shows the page's headline: a cover
    figure with '<h1 class="entry-title">' over the image has no caption there, and pruning the
    headline's block as a caption would cut the article out of the body."""
    if el.tag in _HEADINGS or next(el.iterdescendants(*_HEADINGS), None) is not None:
        return True
    return meta.h1 is not None and _norm(_text(el)) == _norm(meta.h1)


def _is_media(el: HtmlElement) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _MEDIA_TAGS:
        return True
    # custom elements such as <storefront-image src=...>
    return "-" in tag and ("img" in tag or "image" in tag) and any(a in el.attrib for a in ("src", "srcset"))


def _is_image_element(el: HtmlElement) -> bool:
    """<img>, <amp-img>, a custom image element, or a <picture> without any of those inside."""
    return _is_media(el) and not (el.tag == "picture" and any(True for _ in el.iter("img", "amp-img")))


def _media_in(container: HtmlElement) -> list[HtmlElement]:
    """The image elements in a container (<noscript> copies included: the lazy original may hold
    only a placeholder)."""
    return [el for el in container.iter() if _is_image_element(el)]


def _media_near(caption_el: HtmlElement, base: str) -> HtmlElement | None:
    """The image a caption element belongs to: in its parent (or up to three levels up), before it
    or inside it."""
    node = caption_el
    for _ in range(4):
        parent = node.getparent()
        if parent is None:
            return None
        media = [m for m in _media_not_after(parent, caption_el) if image_src(m, base)]
        if media:
            return media[-1]
        node = parent
    return None


def _media_not_after(container: HtmlElement, el: HtmlElement) -> list[HtmlElement]:
    """The container's image elements that come before ``el`` in document order or lie inside it:
    one walk that stops where ``el`` ends."""
    out: list[HtmlElement] = []
    for node in container.iter():
        if node is el:
            return out + _media_in(el)
        if _is_image_element(node):
            out.append(node)
    return out


@functools.lru_cache(maxsize=16384)  # a page repeats its classes; the sample has over 4,096 distinct ones
def _class_kind(cls: str) -> str:
    """'caption', 'info' (text/description: a caption inside an image container) or '' for a class."""
    if not _CANDIDATE.search(cls.lower()):
        return ""
    if _CAPTION_CLASS.search(cls):
        return "caption"
    if _INFO_CLASS.search(cls) and not _CREDIT_CLASS.search(cls):
        return "info"
    return ""


def _is_caption_element(el: HtmlElement) -> bool:
    """A caption by its class, or a text/info/description element inside an image container."""
    kind = _class_kind(el.get("class", ""))
    if kind != "info":
        return kind == "caption"
    node = el
    for _ in range(3):
        node = node.getparent()
        if node is None or not isinstance(node.tag, str):
            return False
        if _MEDIA_CONTAINER.search(node.get("class", "")) or node.tag == "figure":
            return True
    return False


def _teaser(media: HtmlElement, container: HtmlElement) -> bool:
    """True if an image is a teaser for another page: it links to a page (not to an image file) and
    its card carries a linked headline. A link around the image alone (a gallery page) is no teaser."""
    link = next((a for a in media.iterancestors("a") if a.get("href")), None)
    if link is None or _IMAGE_HREF.search(link.get("href", "").strip()):
        return False
    if len(_text(link)) > 20:
        return True
    return any(len(_text(a)) >= 15 for a in container.iter("a") if a is not link and a.get("href"))


def _mostly_link(el: HtmlElement) -> bool:
    """True if most of an element's text is link text (teaser cards, tag lists)."""
    links = list(el.iter("a"))
    if not links:  # most captions: no need to read the element's text
        return False
    total = len(_text(el))
    linked = sum(len(_text(a)) for a in links)
    return total > 0 and linked / total > 0.5


_BYLINE_BOX = re.compile(r"^(?:von|by|par|por|av|af|di|door)\s+\S+\s+\S+.*(?:\d{1,2}[.:/]\d{1,2}|uhr\b)", re.I)


def plausible_caption(text: str | None, min_words: int = 3) -> str | None:
    """The caption text, or None for what is no caption: a label of fewer than ``min_words`` words
    ('Demografie', a date), or an author box ('Von X, Redakteur 15:15 Uhr')."""
    if not text or _BYLINE_BOX.match(text):
        return None
    words = re.findall(r"[^\W\d_]{2,}", text)
    cjk = re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{4,}", text)
    return text if len(words) >= min_words or cjk else None


def _microdata(el: HtmlElement) -> tuple[str | None, str | None]:
    """(caption, credit) from schema.org ImageObject microdata on or inside an element."""
    holder = el if "imageobject" in (el.get("itemtype") or "").lower() else next(
        (d for d in el.iterdescendants() if "imageobject" in (d.get("itemtype") or "").lower()), None)
    if holder is None:
        return None, None
    props: dict[str, str] = {}
    for d in holder.iterdescendants():
        name = (d.get("itemprop") or "").lower()
        value = d.get("content") if d.tag == "meta" else d.text_content()
        if name and value and name not in props:
            props[name] = " ".join(value.split())
    caption = _clean(props.get("caption") or props.get("description"))
    credit = clean_credit(_clean(props.get("creditText") or props.get("credittext") or props.get("author")
                                 or props.get("copyrightholder")))
    return caption, credit


def find_images(tree: HtmlElement, base_url: str, meta: PageMetadata) -> tuple[list[FoundImage], list[HtmlElement]]:
    """The article's images in page order, and the caption/credit elements they were read from."""
    found: list[tuple[HtmlElement, FoundImage]] = []
    used: dict[HtmlElement, int] = {}  # image element -> index in found
    caption_els: list[HtmlElement] = []
    seen: dict[HtmlElement, bool] = {}  # element -> marks an excluded region (navigation, related stories, ...)

    for figure in tree.iter("figure"):
        if _excluded(figure, seen):
            continue
        media = next((m for m in _media_in(figure) if image_src(m, base_url)), None)
        if media is None or _excluded(media.getparent(), seen) or _teaser(media, figure):
            continue
        src = image_src(media, base_url)
        assert src is not None
        block = next((el for el in figure.iter("figcaption") if not _is_headline_block(el, meta)), None)
        if block is None:
            block = next((el for el in figure.iterdescendants() if isinstance(el.tag, str)
                          and _is_caption_element(el) and not _is_headline_block(el, meta)), None)
        caption = credit = None
        if block is not None:
            caption, credit, _ = _read_caption_block(block)
            caption_els.append(block)
        credit_block = next((el for el in figure.iterdescendants() if isinstance(el.tag, str)
                             and _CREDIT_CLASS.search(_classes(el)) and el not in caption_els
                             and (block is None or el not in block.iterdescendants())), None)
        if credit_block is not None and not credit:
            credit = _credit_text(credit_block)
            caption_els.append(credit_block)
        if not credit:
            credit = _credit_after(figure) or _credit_in_title(media)
        micro_caption, micro_credit = _microdata(figure)
        used.update((m, len(found)) for m in _media_in(figure))
        found.append((figure, _with_attributes(
            FoundImage(src, _alt(media), caption or micro_caption, credit or micro_credit), media)))

    in_page_order = True  # figures come first; a caption found outside them may sit before one
    # the page's elements with a class, as "//*[@class]" finds them, in one walk (libxml2 runs "//" as two steps)
    for el in tree.getroottree().xpath("descendant-or-self::*[@class]"):
        if not _class_kind(el.get("class", "")):  # most elements: ruled out without a call
            continue
        if el.tag in ("figure", "figcaption", "img", "html", "body", "picture") or not _is_caption_element(el):
            continue
        if any(a.tag == "figure" or a in caption_els for a in el.iterancestors()) or _is_headline_block(el, meta):
            continue
        media = _media_near(el, base_url)
        if media is None or _excluded(el, seen) or _excluded(media.getparent(), seen):
            continue
        if media in used and found[used[media]][1].caption:
            continue
        container = next((a for a in el.iterancestors() if media in a.iterdescendants()), el)
        if _teaser(media, container):
            continue
        src = image_src(media, base_url)
        assert src is not None
        if any(a.tag == "a" for a in el.iterancestors()) or _mostly_link(el):
            continue  # a teaser's headline, not a caption
        caption, credit, _ = _read_caption_block(el)
        credit = credit or _credit_in_title(media)
        if not caption and not credit:
            continue  # an empty or wrapper element ("withoutCaption"): leave the image to a real caption
        container = el.getparent()
        if not credit and container is not None:
            credit_el = next((c for c in container.iterdescendants() if isinstance(c.tag, str) and c is not el
                              and _CREDIT_CLASS.search(_classes(c)) and c not in el.iterdescendants()), None)
            if credit_el is not None:
                credit = _credit_text(credit_el)
                caption_els.append(credit_el)
        caption_els.append(el)
        if media in used:  # a figure's image whose caption sits outside the <figure>
            index = used[media]
            old = found[index][1]
            found[index] = (found[index][0], replace(old, caption=caption, credit=old.credit or credit))
            continue
        used[media] = len(found)
        found.append((media, _with_attributes(FoundImage(src, _alt(media), caption, credit), media)))
        in_page_order = False

    if not in_page_order:
        positions = _positions(tree, {node for node, _ in found})
        found.sort(key=lambda pair: positions.get(pair[0], 0))  # figures were read first: restore page order
    merged = _merge([image for _, image in found] + _jsonld_images(meta, base_url))
    return _with_cover(merged, meta, base_url), caption_els


def _positions(tree: HtmlElement, nodes: set[HtmlElement]) -> dict[HtmlElement, int]:
    """The page-order index of each of ``nodes``: a walk that stops at the last of them."""
    positions: dict[HtmlElement, int] = {}
    for i, node in enumerate(tree.iter()):
        if node in nodes:
            positions[node] = i
            if len(positions) == len(nodes):
                break
    return positions


def _credit_after(el: HtmlElement) -> str | None:
    """A credit element right after a figure (its next sibling, or the next one of its wrapper)."""
    for node in (el, el.getparent()):
        if node is None:
            continue
        sibling = node.getnext()
        if sibling is not None and isinstance(sibling.tag, str):
            marked = sibling if _CREDIT_CLASS.search(_classes(sibling)) else next(
                (d for d in sibling.iterdescendants() if isinstance(d.tag, str) and _CREDIT_CLASS.search(_classes(d))),
                None)
            if marked is not None and len(_text(marked)) <= 120:
                return _credit_text(marked)
    return None


def _credit_in_title(media: HtmlElement) -> str | None:
    """A credit in an image's title attribute: 'Zwei Menschen. | Bildrechte: MDR/David Straub'."""
    title = " ".join((media.get("title") or "").split())
    if not title:
        return None
    _, credit = split_caption_credit(title)
    return credit


def _credit_text(el: HtmlElement) -> str | None:
    return clean_credit(_text(el))


_LABEL_PREFIX = re.compile(
    r"^(?:(?:photo|foto|bild|image|picture|credit|copyright|quelle|source|bildquelle|bildrechte|fotos?|"
    r"crédito|crédit|kuva|zdjęcie|фото)s?\s*(?:credit|credits|rechte)?\s*[:：]|©|\(c\))\s*", re.I)


def clean_credit(text: str | None) -> str | None:
    """A credit element's text without its label and wrapping brackets:
    '(photo credit: REUTERS/STRINGER)' -> 'REUTERS/STRINGER'; 'Alketa Misja (dpa)' stays whole."""
    if not text:
        return None
    value = " ".join(text.split())
    if value.startswith(("(", "[")) and value.endswith((")", "]")):
        value = value[1:-1].strip()
    value = _LABEL_PREFIX.sub("", value).strip()
    return value or None


def _alt(img: HtmlElement) -> str | None:
    alt = " ".join((img.get("alt") or "").split())
    return alt or None


def _with_attributes(image: FoundImage, img: HtmlElement) -> FoundImage:
    """Fill a missing caption or credit from data-caption / data-credit attributes."""
    caption = image.caption or _clean(img.get("data-caption") or img.get("data-title"))
    credit = image.credit or _clean(img.get("data-credit") or img.get("data-copyright") or img.get("data-author"))
    return replace(image, caption=caption, credit=credit)


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text if _MIN_CAPTION_CHARS <= len(text) <= _MAX_CAPTION_CHARS else None


def _jsonld_images(meta: PageMetadata, base_url: str) -> list[FoundImage]:
    value = meta.jsonld_value("image")
    items = value if isinstance(value, list) else [value] if value else []
    out: list[FoundImage] = []
    url: Any
    for item in items[:20]:
        if isinstance(item, str):
            url, caption, credit = item, None, None
        elif isinstance(item, dict):
            url = item.get("url") or item.get("contentUrl")
            if isinstance(url, list):
                url = url[0] if url else None
            caption = _clean(item.get("caption") or None)
            names = [item.get("creditText")] if isinstance(item.get("creditText"), str) else []
            names += jsonld_names(item.get("author")) + jsonld_names(item.get("copyrightHolder"))
            credit = "/".join(dict.fromkeys(n for n in names if n)) or None
        else:
            continue
        if isinstance(url, str) and url.strip():
            try:
                absolute = urljoin(base_url, url.strip())
            except ValueError:
                continue
            if absolute.startswith(("http://", "https://")):
                out.append(FoundImage(absolute, None, caption, credit))
    return out


def _merge(images: list[FoundImage]) -> list[FoundImage]:
    """One image per identity and per caption; later sightings fill what earlier ones lack."""
    merged: list[FoundImage] = []
    by_key: dict[str, int] = {}
    by_caption: dict[str, int] = {}
    for image in images:
        key = image_key(image.src)
        cap = _norm(image.caption) if image.caption else ""
        index = by_key.get(key)
        if index is None and cap:
            index = by_caption.get(cap)
        if index is None:
            by_key[key] = len(merged)
            if cap:
                by_caption[cap] = len(merged)
            merged.append(image)
            continue
        old = merged[index]
        merged[index] = replace(old, alt=old.alt or image.alt, caption=old.caption or image.caption,
                                credit=old.credit or image.credit)
        if cap:
            by_caption.setdefault(cap, index)
    return merged


def _with_cover(images: list[FoundImage], meta: PageMetadata, base_url: str) -> list[FoundImage]:
    """Mark the og:image (else twitter:image) as the cover and put it first."""
    cover = meta.first_meta("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
    if not cover:
        return images
    try:
        cover_url = urljoin(base_url, cover)
    except ValueError:
        return images
    if not cover_url.startswith(("http://", "https://")):
        return images
    key = image_key(cover_url)
    best, best_score = None, 0.0
    for i, image in enumerate(images):
        other = image_key(image.src)
        score = 1.0 if other == key else _shared_prefix(key, other)
        if score > best_score:
            best, best_score = i, score
    if best is not None and best_score >= 0.6:
        return [replace(images[best], is_cover=True), *images[:best], *images[best + 1:]]
    return [FoundImage(cover_url, None, None, None, is_cover=True), *images]


def _shared_prefix(a: str, b: str) -> float:
    """Share of the shorter key that both keys start with, for keys of 16 characters or more:
    size variants of one file ('photo-110_v-big_w-576' and 'photo-110_v-big_wm-true') score high."""
    if min(len(a), len(b)) < 16:
        return 0.0
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n / min(len(a), len(b))
