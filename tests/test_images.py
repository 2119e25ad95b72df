"""Images with captions and credits found on small pages, the way sites mark them up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dateline.transforms.extract import PageInput, extract_article, remove_leaked_captions
from dateline.transforms.images import FoundImage, find_images, image_key, image_src
from dateline.transforms.metadata import read_page_metadata
from dateline.transforms.schema import ExtractedPage
from trafilatura.utils import load_html

BASE = "https://news.example/2024/05/01/story"
BODY = "<p>" + "The council met on Monday to discuss the budget and the new bridge. " * 8 + "</p>"


def page(head: str = "", body: str = "") -> str:
    return (f"<html lang='en'><head>{head}</head><body><article><h1>Budget talks</h1>{body}{BODY}</article>"
            "</body></html>")


def found(html: str) -> list[FoundImage]:
    tree = load_html(html)
    return find_images(tree, BASE, read_page_metadata(tree))[0]


def test_figure_with_figcaption_and_credit_span():
    (image,) = found(page(body='<figure><img src="/img/bridge.jpg" alt="A bridge"><figcaption>The old bridge '
                               'in Springfield. <span class="credit">Photo: Jane Doe/AP</span></figcaption></figure>'))
    assert image.src == "https://news.example/img/bridge.jpg"
    assert (image.caption, image.credit, image.alt) == ("The old bridge in Springfield.", "Jane Doe/AP", "A bridge")


def test_caption_element_next_to_an_image_outside_a_figure():
    (image,) = found(page(body='<div class="media"><img data-src="/img/a.jpg" src="/blank.gif">'
                               '<p class="image-caption">Councillors vote on the budget</p></div>'))
    assert (image.src, image.caption) == ("https://news.example/img/a.jpg", "Councillors vote on the budget")


def test_caption_in_an_info_element_inside_an_image_container():
    (image,) = found(page(body='<div class="media"><picture><source srcset="/img/s.jpg 320w, /img/l.jpg 1280w">'
                               '</picture><div class="mediaInfo"><span class="mediaSubtitleText">Mayor opens the '
                               'session</span><span class="mediaRights">Bildrechte: MDR/Jane Doe</span></div></div>'))
    assert (image.src, image.caption) == ("https://news.example/img/l.jpg", "Mayor opens the session")
    assert image.credit == "MDR/Jane Doe"


def test_jsonld_image_object_gives_caption_and_credit_for_the_cover():
    head = ('<meta property="og:image" content="https://cdn.example/photos/bridge-1200x630.jpg">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Budget talks", "image": '
            '{"@type": "ImageObject", "url": "https://cdn.example/photos/bridge.jpg", "caption": "The bridge at dusk", '
            '"creditText": "Jane Doe/Reuters"}}</script>')
    (image,) = found(page(head=head))
    assert image.is_cover and image.caption == "The bridge at dusk" and image.credit == "Jane Doe/Reuters"


def test_microdata_image_object_inside_a_figure():
    body = ('<figure itemscope itemtype="http://schema.org/ImageObject"><meta itemprop="description" content="Ivy '
            'grows on the wall"><meta itemprop="author" content="(Image: Getty Images/iStockphoto)">'
            '<amp-img src="/img/ivy.jpg" alt="ivy"></amp-img></figure>')
    (image,) = found(page(body=body))
    assert (image.caption, image.credit) == ("Ivy grows on the wall", "Getty Images/iStockphoto")


def test_teaser_cards_and_related_lists_are_not_article_images():
    body = ('<div class="teaser"><a href="/other-story"><img src="/img/t1.jpg"></a><p class="teasertext">Another '
            'story about roads and rails</p><a href="/other-story">Roads and rails: what comes next</a></div>'
            '<aside><figure><img src="/img/side.jpg"><figcaption>Sidebar picture of the week</figcaption></figure>'
            '</aside><ul class="related-articles"><li><figure><img src="/img/r.jpg"><figcaption>Related story '
            'picture caption</figcaption></figure></li></ul>')
    assert found(page(body=body)) == []


def test_same_image_twice_is_one_row():
    body = ('<figure><img src="/img/bridge-800x600.jpg"><figcaption>The bridge today</figcaption></figure>'
            '<figure><img src="/img/bridge-1600x1200.jpg"><figcaption>The bridge today</figcaption></figure>')
    assert len(found(page(body=body))) == 1


def test_image_key_ignores_sizes_and_cdn_wrappers():
    assert image_key("https://cdn.example/a/photo-1024x768.jpg") == image_key("https://cdn.example/b/photo.jpg")
    assert image_key("https://dims.example/x/?url=https%3A%2F%2Fa.example%2Fabc123") == "abc123"


def test_image_src_prefers_the_widest_srcset_candidate():
    img = load_html('<html><body><p>x</p><img src="/s.jpg" srcset="/m.jpg 640w, /l.jpg 1600w"></body></html>')
    assert image_src(img.find(".//img"), BASE) == "https://news.example/l.jpg"


def test_leaked_caption_and_credit_lines_are_removed_from_the_body():
    images = [FoundImage("https://x/1.jpg", None, "The old bridge in Springfield at dawn.", "Jane Doe/AP")]
    body = ("First paragraph of the story.\nThe old bridge in Springfield at dawn. Jane Doe/AP\n"
            "(photo credit: REUTERS/STRINGER)\nFoto: dpa\nLast paragraph.")
    assert remove_leaked_captions(body, images) == "First paragraph of the story.\nLast paragraph."


def test_extract_gives_image_records_with_parsed_credits_and_wire_endings():
    body = ('<figure><img src="/img/putin.jpg"><figcaption>Russian President Vladimir Putin attends a news conference '
            'in Minsk, Belarus December 19, 2022. REUTERS/Jane Doe/File Photo</figcaption></figure>')
    result = extract_article(page(body=body).encode(), PageInput(url=BASE, content_type=None,
                             fetched_at=datetime(2023, 1, 4, tzinfo=UTC), raw_ref="t#0"), run_id="r")
    assert isinstance(result, ExtractedPage)
    (image,) = result.images
    assert image.caption.endswith("December 19, 2022.") and image.credit_raw == "REUTERS/Jane Doe/File Photo"
    assert (image.photographers, image.agencies, image.is_file_photo) == (("Jane Doe",), ("Reuters",), True)
    assert image.caption_place == "Minsk, Belarus" and image.caption_date.isoformat() == "2022-12-19"
    assert "attends a news conference" not in result.article.text


@pytest.mark.parametrize("caption", ["Demografie", "20.10.2025", "Von Jane Doe, Redakteurin 09.09.2025, 15:15 Uhr"])
def test_labels_dates_and_author_boxes_are_not_captions(caption):
    body = f'<div class="media"><img src="/img/a.jpg"><p class="caption">{caption}</p></div>'
    assert all(i.caption is None for i in found(page(body=body)))


def test_a_heading_inside_the_cover_figure_is_no_caption():
    paragraphs = "".join(f"<p>Paragraph {i} of the story about the harbour floods, told at some length.</p>"
                         for i in range(8))
    html = ("<html><body><article><figure class='cover'><div class='caption'><h1 class='entry-title'>"
            "Harbour floods close the port for a week</h1></div><img src='/cover.jpg'></figure>"
            f"{paragraphs}</article></body></html>")
    tree = load_html(html)
    images, caption_els = find_images(tree, "https://example.com/a", read_page_metadata(tree))
    assert [image.caption for image in images] == [None]
    assert caption_els == []
