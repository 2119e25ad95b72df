"""Site boilerplate by evidence across a site's pages, and one display name per site (transforms/sitewide.py,
flows/sitelines.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from dateline.flows.sitelines import load_site_lines, read_site_lines, stage_site_lines
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.schema import ExtractedPage
from dateline.transforms.sitewide import apply_site_evidence, display_name, gather, merged, site_of

PROMPT = "Sign up for our morning newsletter to get the briefing in your inbox."
TOPICS = ["harbour floods", "council budget", "rail strike", "school reform", "bridge repairs"]


def page(n: int, *, host: str = "www.example-news.com", site: str = "Example News", prompt: bool = True,
         topic: str | None = None) -> ExtractedPage:
    topic = topic or TOPICS[n]
    paragraphs = [f"The {topic} story goes on: {who} described the {topic} at length, and residents answered."
                  for who in ("officials", "the mayor", "engineers", "a spokeswoman")]
    if prompt:
        paragraphs.insert(2, PROMPT)
    html = (f"<html><head><title>{topic.title()} | {site}</title><meta property='og:site_name' content='{site}'>"
            f"</head><body><article><h1>{topic.title()}</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    url = f"https://{host}/story/{n}-{topic.replace(' ', '-')}"
    result = extract_article(html.encode(), PageInput(url=url, content_type="text/html",
                                                      fetched_at=datetime(2025, 1, 1, tzinfo=UTC), raw_ref="t"),
                             run_id="t")
    assert isinstance(result, ExtractedPage)
    return result


def test_a_line_on_three_stories_of_a_site_leaves_every_body():
    pages = [page(n) for n in range(3)]
    assert all(PROMPT in p.article.text for p in pages)
    cleaned = apply_site_evidence(pages, gather(pages))
    for before, after in zip(pages, cleaned, strict=True):
        assert PROMPT not in after.article.text
        assert after.article.text.split("\n") == [line for line in before.article.text.split("\n") if line != PROMPT]
        assert after.article.content_hash != before.article.content_hash
        assert any(i.startswith("text:site_boilerplate_lines=1") for i in after.article.issues)


def test_two_stories_are_not_enough_evidence_and_one_page_of_a_new_site_is_left_alone():
    pages = [page(0), page(1), page(2, host="other-paper.org", site="Other Paper")]
    cleaned = apply_site_evidence(pages, gather(pages))
    assert [p.article.text for p in cleaned] == [p.article.text for p in pages]


def test_versions_of_one_story_count_once():
    versions = [page(0), page(0, host="example-news.com"), page(0, topic=TOPICS[0])]  # one story, three URLs
    cleaned = apply_site_evidence(versions, gather(versions))
    assert all(PROMPT in p.article.text for p in cleaned)


def test_evidence_of_earlier_runs_judges_a_single_new_page(tmp_path):
    first = [page(n) for n in range(3)]
    stage_site_lines(tmp_path, "run1", "b0", gather(first))
    assert load_site_lines(tmp_path, "run1") == 1
    assert not (tmp_path / "_staging" / "run1" / "site_lines").exists()
    prior = read_site_lines(tmp_path, {"example-news.com"})
    later = page(3)
    (cleaned,) = apply_site_evidence([later], merged(prior, gather([later])))
    assert PROMPT in later.article.text and PROMPT not in cleaned.article.text
    assert load_site_lines(tmp_path, "run1") == 0  # repeating a finished load does nothing


def test_one_display_name_per_registered_domain():
    assert site_of("www.bbc.co.uk") == site_of("news.bbc.co.uk") == "bbc.co.uk"
    assert display_name({"AP NEWS": 1, "AP News": 3}) == "AP News"
    assert display_name({"ndr.de": 5, "NDR": 2}) == "NDR"  # a name before a bare domain
    pages = [page(0, site="Example News"), page(1, site="Example News"), page(2, site="EXAMPLE NEWS")]
    assert {p.article.site_name for p in apply_site_evidence(pages, gather(pages))} == {"Example News"}
