"""An article's images with captions and credits, found generically on any site.

Sources, merged by image identity and by caption: <figure> with <figcaption>; elements whose
class marks a caption or credit next to an <img>; data-caption / data-credit attributes; the
article's JSON-LD ImageObjects (caption, creditText, author, copyrightHolder); og:image for the
cover. The caption and credit elements found are returned too, so the body text can leave them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from transforms.credits import split_caption_credit
from transforms.metadata import PageMetadata, jsonld_names

_CAPTION_CLASS = re.compile(
    r"caption|legend|bildunterschrift|bildtext|image-?text|img-?text|photo-?text|media-?text|"
    r"description__text|figure__text|leyenda|didascalia|pie-?de-?foto|bijschrift|billedtekst|bildtext", re.I)
_CREDIT_CLASS = re.compile(
    r"credit|copyright|photographer|fotograf|urheber|quelle|source|rights|byline|author|autor|"
    r"attribution|courtesy|foto-?credit|bildnachweis|bildrechte|image-?source", re.I)
_EXCLUDED_CLASS = re.compile(
    r"related|teaser|recommend|promo|more-?stories|read-?more|sidebar|newsletter|comment|"
    r"outbrain|taboola|advert|sponsor|social|share|(?:^|[\s_-])nav|menu|footer|author-?(?:bio|box|image|avatar)|"
    r"avatar|logo|icon|video-?(?:list|teaser)|gallery-?teaser|most-?read|trending|paywall", re.I)
_EXCLUDED_TAGS = frozenset({"nav", "footer", "aside", "noscript", "template", "form", "button"})
_SRC_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-full-src", "data-hi-res-src", "src")
_SRCSET_ATTRS = ("data-srcset", "srcset", "data-lazy-srcset")
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


def _excluded(el: HtmlElement) -> bool:
    """True if the element sits in navigation, a teaser list, an ad, a footer or the like."""
    node: HtmlElement | None = el
    depth = 0
    while node is not None and depth < 12:
        if not isinstance(node.tag, str):
            return True
        if node.tag in _EXCLUDED_TAGS or _EXCLUDED_CLASS.search(_classes(node)):
            return True
        node = node.getparent()
        depth += 1
    return False


def _text(el: HtmlElement) -> str:
    return " ".join(el.text_content().split())


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


def image_src(img: HtmlElement, base: str) -> str | None:
    """The absolute URL of an <img> (lazy-loading attributes and srcsets included), or None."""
    candidates: list[str] = []
    for attr in _SRCSET_ATTRS:
        if img.get(attr) and (best := _best_srcset(img.get(attr))):
            candidates.append(best)
    candidates += [img.get(a) for a in _SRC_ATTRS if img.get(a)]
    parent = img.getparent()
    if parent is not None and parent.tag == "picture":
        for source in parent.iter("source"):
            if source.get("srcset") and (best := _best_srcset(source.get("srcset"))):
                candidates.append(best)
    for candidate in candidates:
        candidate = candidate.strip()
        if not candidate or candidate.startswith(("data:", "blob:", "about:")):
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
    caption = " ".join("".join(pieces).split()) or None
    credit = " ".join(_text(el) for el in credit_els if _text(el)) or None
    if credit:
        _, inline = split_caption_credit(credit)
        credit = inline or credit.strip("()[] ")
    return caption, credit, credit_els


def _img_near(caption_el: HtmlElement) -> HtmlElement | None:
    """The image a caption element belongs to: in its parent (or up to two levels up), before it."""
    node = caption_el
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            return None
        imgs = [img for img in parent.iter("img") if not _is_after(img, caption_el)]
        if imgs:
            return imgs[-1]
        node = parent
    return None


def _is_after(a: HtmlElement, b: HtmlElement) -> bool:
    """True if element a comes after element b in document order."""
    for el in b.itersiblings():
        if el is a or a in el.iterdescendants():
            return True
    return False


def find_images(tree: HtmlElement, base_url: str, meta: PageMetadata) -> tuple[list[FoundImage], list[HtmlElement]]:
    """The article's images in page order, and the caption/credit elements they were read from."""
    found: list[FoundImage] = []
    used_imgs: set[HtmlElement] = set()
    caption_els: list[HtmlElement] = []

    for figure in tree.iter("figure"):
        if _excluded(figure):
            continue
        img = next(figure.iter("img"), None)
        src = image_src(img, base_url) if img is not None else None
        if img is None or src is None:
            continue
        block = next(figure.iter("figcaption"), None)
        if block is None:
            block = next((el for el in figure.iterdescendants()
                          if isinstance(el.tag, str) and _CAPTION_CLASS.search(el.get("class", ""))), None)
        caption = credit = None
        if block is not None:
            caption, credit, credit_els = _read_caption_block(block)
            caption_els.append(block)
        else:
            credit_block = next((el for el in figure.iterdescendants()
                                 if isinstance(el.tag, str) and _CREDIT_CLASS.search(_classes(el))), None)
            if credit_block is not None:
                credit = _text(credit_block) or None
                caption_els.append(credit_block)
        used_imgs.update(figure.iter("img"))
        found.append(_with_attributes(FoundImage(src, _alt(img), caption, credit), img))

    for el in tree.xpath("//*[@class]"):
        if el.tag in ("figure", "figcaption", "img", "html", "body") or not _CAPTION_CLASS.search(el.get("class", "")):
            continue
        if any(a.tag == "figure" for a in el.iterancestors()) or any(a in caption_els for a in el.iterancestors()):
            continue
        img = _img_near(el)
        if img is None or img in used_imgs or _excluded(el):
            continue
        src = image_src(img, base_url)
        if src is None:
            continue
        caption, credit, _ = _read_caption_block(el)
        used_imgs.add(img)
        caption_els.append(el)
        found.append(_with_attributes(FoundImage(src, _alt(img), caption, credit), img))

    found = _merge(found + _jsonld_images(meta, base_url))
    return _with_cover(found, meta, base_url), caption_els


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
    for i, image in enumerate(images):
        if image_key(image.src) == key:
            return [replace(image, is_cover=True), *images[:i], *images[i + 1:]]
    return [FoundImage(cover_url, None, None, None, is_cover=True), *images]
