"""Text in: articles extracted elsewhere, read row by row (transforms/articles.py), run through the whole
pipeline (`dateline run --articles`) and analyzed without a store (`dateline analyze`)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from dateline.flows import store
from dateline.flows.archive import WarcArchive, read_raw
from dateline.flows.articles import input_rows
from dateline.flows.cli import cli
from dateline.flows.config import Settings
from dateline.flows.process import PageRef, process_page
from dateline.transforms.articles import (
    ARTICLE_CSV,
    ARTICLE_JSON,
    article_of_payload,
    article_of_row,
    file_format,
    row_fields,
    row_id,
    split_rows,
)
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.language import check_language
from dateline.transforms.nlp import paragraphs_of
from dateline.transforms.schema import ExtractedPage, Reject
from dateline.transforms.urls import sha1_hex

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed" / "soldiers-widows.html"
ISIZULU_PAGE = FIXTURES / "fundus" / "pages" / "za" / "EyethuNews_2025_11_25.html.gz"  # declares lang="en"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def seed_text() -> tuple[str, str]:
    """The seed article's title and text, paragraphs separated by blank lines (as text-in files give them)."""
    page = extract_article(SEED.read_bytes(), PageInput(url="https://www.jpost.com/international/article-726552",
                                                        content_type=None, fetched_at=NOW, raw_ref="x#0"), run_id="r")
    assert isinstance(page, ExtractedPage)
    return page.article.title or "", page.article.text.replace("\n", "\n\n")


def article(row: dict, **kwargs) -> ExtractedPage | Reject:
    return article_of_row(row, url="file:///in.jsonl#line=1", fetched_at=NOW, raw_ref="r#0", run_id="run", **kwargs)


def lines(data: bytes) -> list[bytes]:
    return io.BytesIO(data).readlines()


# --- reading files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "head", "fmt"), [
    ("a.jsonl", b'{"url": 1}\n', "jsonl"),
    ("a.ndjson.gz", b"", "jsonl"),
    ("a.csv", b"url,text\n", "csv"),
    ("a.tsv", b"url\ttext\n", "tsv"),
    ("a.json", b'[{"url": 1}]', "json"),
    ("a.json", b'{\n  "url": "x"\n}\n', "json"),  # one pretty-printed object (news-please writes one per file)
    ("a.json", b'{"url": "x"}\n{"url": "y"}\n', "jsonl"),
    ("export", b'{"url": "x"}\n', "jsonl"),
    ("export", b"url,title,text\n", "csv"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_file_format_from_the_name_else_the_content(name, head, fmt):
    assert file_format(name, head) == fmt


def test_jsonl_rows_keep_their_exact_bytes_and_line_numbers():
    data = b'{"url": "https://a.example/1", "text": "caf\xc3\xa9"}\r\n\n{"url": "https://a.example/2"}\nnot json\n'
    rows = list(split_rows(lines(data), "jsonl"))
    assert [(r.number, r.payload) for r in rows] == [
        (1, b'{"url": "https://a.example/1", "text": "caf\xc3\xa9"}'), (3, b'{"url": "https://a.example/2"}'),
        (4, b"not json")]
    assert {r.content_type for r in rows} == {ARTICLE_JSON}


def test_json_array_rows_are_the_elements_exact_bytes():
    data = b'[\n  {"url": "https://a.example/1", "text": "a, b"},\n  {"url": "https://a.example/2"}\n]\n'
    rows = list(split_rows(lines(data), "json"))
    assert [r.payload for r in rows] == [b'{"url": "https://a.example/1", "text": "a, b"}',
                                         b'{"url": "https://a.example/2"}']


def test_csv_row_is_archived_with_its_header_and_reads_back_with_newlines_inside_the_text():
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["url", "title", "published_at", "text"])
    writer.writerow(["https://a.example/1", "One", "2023-01-04", "First paragraph, \"quoted\".\n\nSecond one."])
    writer.writerow(["https://a.example/2", "Two", "", "Short"])
    data = buffer.getvalue().encode()
    rows = list(split_rows(lines(data), "csv"))
    assert [r.number for r in rows] == [1, 2] and {r.content_type for r in rows} == {ARTICLE_CSV}
    header = data.split(b"\n", 1)[0] + b"\n"
    assert all(r.payload.startswith(header) for r in rows)
    assert b"".join(r.payload.removeprefix(header) for r in rows) == data.removeprefix(header)
    fields = row_fields(rows[0].payload, ARTICLE_CSV)
    assert fields == {"url": "https://a.example/1", "title": "One", "published_at": "2023-01-04",
                      "text": "First paragraph, \"quoted\".\n\nSecond one."}


def test_json_lines_with_long_lines_under_a_json_name_are_json_lines(tmp_path):
    rows = [{"url": f"https://a.example/{n}", "text": "word " * 20_000} for n in range(2)]
    path = tmp_path / "export.json"
    path.write_text("\n" + "\n".join(json.dumps(r) for r in rows) + "\n")
    assert [(r.number, json.loads(r.payload)["url"]) for r in input_rows(path)] == [
        (2, "https://a.example/0"), (3, "https://a.example/1")]


def test_gzipped_input_is_read(tmp_path):
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"url": "https://a.example/1", "text": "x"}\n'))
    assert [r.payload for r in input_rows(path)] == [b'{"url": "https://a.example/1", "text": "x"}']


# --- rows to articles ------------------------------------------------------------------------

def test_ids_and_hashes_follow_the_rules_of_extracted_pages():
    text = "Line one.\n\nLine two."
    page = article({"url": "https://WWW.Example.com/story?utm_source=x&b=2&a=1#top", "title": "T", "text": text})
    assert isinstance(page, ExtractedPage)
    assert page.article.canonical_url == "https://www.example.com/story?a=1&b=2"
    assert page.article.article_id == sha1_hex("https://www.example.com/story?a=1&b=2")
    assert page.article.content_hash == sha1_hex(f"T\n{text}")
    assert page.article.domain == "example.com"


def test_text_is_kept_verbatim():
    text = "  Indented first line\r\nwrapped here.\n\n\n  Second\tparagraph.  \n"
    page = article({"url": "https://a.example/1", "text": text})
    assert isinstance(page, ExtractedPage) and page.article.text == text


def test_dateline_field_names():
    page = article({"url": "https://a.example/1", "title": " A  title ", "published_at": "2023-01-04T11:38:00+02:00",
                    "text": "Body.", "id": "a-1", "authors": ["Jane Doe", "John Roe"], "language": "en-GB",
                    "site_name": "The Example"})
    assert isinstance(page, ExtractedPage)
    a = page.article
    assert (a.title, a.site_name, a.authors, a.language) == ("A title", "The Example", ("Jane Doe", "John Roe"), "en")
    assert a.published_at == datetime(2023, 1, 4, 9, 38, tzinfo=UTC) and a.published_utc_offset == "+02:00"
    assert a.published_source == "input" and a.raw_ref == "r#0" and a.run_id == "run"


def test_news_please_field_names():
    # news-please's NewsArticle.get_serializable_dict(): dates written with str(), a missing one as "None"
    row = {"authors": ["Anna Smith"], "date_download": "2023-01-05 10:00:00", "date_modify": "None",
           "date_publish": "2023-01-04 09:38:00", "description": "Lede.", "filename": "x.json", "image_url": None,
           "language": "en", "localpath": None, "maintext": "The text.", "source_domain": "jpost.com",
           "text": None, "title": "Title", "title_page": None, "title_rss": None, "url": "https://www.jpost.com/a"}
    page = article(row)
    assert isinstance(page, ExtractedPage)
    a = page.article
    assert (a.text, a.title, a.site_name, a.description, a.authors) == (
        "The text.", "Title", "jpost.com", "Lede.", ("Anna Smith",))
    assert a.published_at == datetime(2023, 1, 4, 9, 38, tzinfo=UTC) and a.modified_at is None
    assert "published_at:no_utc_offset" in a.issues


@pytest.mark.parametrize("row", [
    # API v2 (stories_public/list, with story_text from the admin API's text=1)
    {"stories_id": 27456565, "media_id": 1144, "media_name": "Global Voices Online",
     "media_url": "http://globalvoicesonline.org/", "publish_date": "2010-11-24 04:05:00",
     "collect_date": "2010-11-24 15:33:39", "url": "http://globalvoicesonline.org/2010/10/26/myanmar/",
     "guid": "http://globalvoicesonline.org/?p=169660", "language": "en", "title": "Myanmar's new flag",
     "story_text": "Myanmar has a new flag."},
    # search API v4 (story list with text)
    {"id": "27456565", "media_name": "Global Voices Online", "media_url": "globalvoicesonline.org",
     "publish_date": "2010-11-24 04:05:00", "url": "http://globalvoicesonline.org/2010/10/26/myanmar/",
     "language": "en", "title": "Myanmar's new flag", "indexed_date": "2010-11-25 00:00:00",
     "text": "Myanmar has a new flag."},
], ids=["api-v2", "search-v4"])
def test_media_cloud_field_names(row):
    page = article(row)
    assert isinstance(page, ExtractedPage)
    a = page.article
    assert (a.text, a.title, a.site_name) == ("Myanmar has a new flag.", "Myanmar's new flag", "Global Voices Online")
    assert a.published_at == datetime(2010, 11, 24, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("payload", "reason", "detail"), [
    (b"not json", "unreadable_row", "not JSON"),
    (b'["a", "list"]', "unreadable_row", "a JSON list, not an object"),
    (b'{"url": "https://a.example/1", "text": "x\xff"}', "unreadable_row", "not UTF-8"),
    (b'{"url": "https://a.example/1", "title": "No text", "text": "  "}', "empty_body", "no text"),
    (b'{"url": "https://a.example/1", "text": "x", "published_at": "last Tuesday"}', "unparseable_date",
     "'last Tuesday'"),
    (b'{"text": "x"}', "invalid_url", "no url"),
    (b'{"url": "ftp://a.example/1", "text": "x"}', "invalid_url", "not an http(s) URL"),
], ids=["not-json", "not-an-object", "not-utf8", "no-text", "bad-date", "no-url", "not-http"])
def test_bad_rows_are_rejects_with_a_reason(payload, reason, detail):
    outcome = article_of_payload(payload, ARTICLE_JSON, url="file:///in.jsonl#line=3", fetched_at=NOW,
                                 raw_ref="r#9", run_id="run")
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.url, outcome.raw_ref) == (reason, "file:///in.jsonl#line=3", "r#9")
    assert detail in outcome.detail
    if reason in ("empty_body", "unparseable_date"):  # the row names its article, as a page's reject does
        assert outcome.article_id == sha1_hex("https://a.example/1")


def test_gold_corpus_field_names():
    # the JSON Lines of shared/nlpgold (MEANTIME, ECB+, GAP): doc_id, published (a day), url, title, text
    row = {"doc_id": "100911", "corpus": "meantime", "published": "2008-03-01", "url": "http://en.wikinews.org/wiki/X",
           "title": "Northrop Grumman defeats Boeing", "text": "Northrop Grumman defeats Boeing\n\nMarch 1, 2008"}
    page = article(row)
    assert isinstance(page, ExtractedPage)
    assert page.article.published_at == datetime(2008, 3, 1, tzinfo=UTC) and page.article.published_precision == "day"
    assert row_id(row) == "100911"


def test_a_row_without_url_is_keyed_by_its_id_when_no_url_is_required():
    page = article({"id": "doc-7", "text": "x"}, require_url=False)
    assert isinstance(page, ExtractedPage) and page.article.article_id == sha1_hex("id:doc-7")


def test_blank_line_paragraphs_keep_offsets_into_the_text():
    text = "First line\nwrapped.\n\n  Second.\r\n\r\nThird"
    paragraphs = paragraphs_of(text)
    assert [p for _, p in paragraphs] == ["First line wrapped.", "Second.", "Third"]
    assert all(text[o:o + len(p)].replace("\n", " ") == p for o, p in paragraphs)
    assert paragraphs_of("One\nTwo") == [(0, "One"), (4, "Two")]  # an extracted body: a paragraph a line


# --- the declared language checked against the text ----------------------------------------

ENGLISH = ("The government said on Monday that it would continue to support the families affected by the floods "
           "in the eastern provinces, where thousands of people have lost their homes since the rains began.")
ISIZULU = ("Ngabona amanxeba amathathu, egxalabeni, emqaleni kanye nasemhlane. Uhlalele ovalweni umndeni wesaguga "
           "saseMbali, okuthiwa sibhokodwe ngommese emzini waso eMgungundlovu yilungu lomndeni ngoLwesine olwedlule. "
           "Ngokuthola kwephephandaba, lo wesifazane utholwe edindilizile edamini legazi egumbini lakhe lokulala.")


@pytest.mark.parametrize(("declared", "text", "expected"), [
    ("en", ISIZULU, ("zu", "en")),
    ("en", ENGLISH, ("en", None)),
    ("en", "Uhlalele ovalweni umndeni.", ("en", None)),  # too little text to overrule the page
    ("nb", "Regjeringen sier at den vil fortsette å støtte familiene som er rammet av flommen i de østlige "
           "fylkene, der tusenvis av mennesker har mistet hjemmene sine siden regnet begynte.", ("nb", None)),
    (None, ENGLISH, ("en", None)),
    ("sm", ENGLISH, ("sm", None)),  # Samoan: the detector does not know it, so cannot speak against it
], ids=["isizulu-declared-en", "english", "short", "bokmal-is-norwegian", "undeclared", "unknown-to-the-detector"])
def test_check_language(declared, text, expected):
    assert tuple(check_language(declared, text)) == expected


def test_an_isizulu_page_declaring_english_is_not_english(tmp_path):
    body = gzip.decompress(ISIZULU_PAGE.read_bytes())
    with WarcArchive(tmp_path, "run", NOW) as archive:
        stored = archive.write_resource(url="https://www.echoeyethu.co.za/x", content_type="text/html", body=body,
                                        fetched_at=NOW, origin="file:///x")
    page = process_page(tmp_path, PageRef("https://www.echoeyethu.co.za/x", stored.raw_ref, NOW, "text/html"), "run")
    assert isinstance(page, ExtractedPage)
    assert (page.article.language, page.article.declared_language) == ("zu", "en")
    assert "language:overruled" in page.article.issues


# --- dateline run --articles and dateline analyze ------------------------------------------

@pytest.fixture(scope="module")
def articles_file(tmp_path_factory) -> Path:
    title, text = seed_text()
    rows = [
        json.dumps({"id": "seed", "url": "https://www.jpost.com/international/article-726552", "title": title,
                    "published_at": "2023-01-04T11:38:00+02:00", "text": text, "authors": ["Reuters"],
                    "language": "en", "site_name": "The Jerusalem Post"}),
        json.dumps({"url": "https://www.example.com/empty", "title": "Nothing", "maintext": ""}),
        json.dumps({"url": "https://www.example.com/dated", "publish_date": "sometime", "story_text": "Text."}),
        "{not json",
        json.dumps({"url": "https://www.example.fr/1", "language": "fr", "title": "Grève",
                    "text": "Le gouvernement a annoncé lundi qu'il continuerait à soutenir les familles touchées "
                            "par les inondations dans les provinces de l'est, où des milliers de personnes ont "
                            "perdu leur maison depuis le début des pluies."}),
    ]
    path = tmp_path_factory.mktemp("in") / "articles.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def text_run(articles_file, prefect_harness, tmp_path_factory):
    data = tmp_path_factory.mktemp("run") / "data"
    args = ["--data-dir", str(data), "run", "--articles", str(articles_file), "--workers", "1"]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    second = CliRunner().invoke(cli, args, catch_exceptions=False)
    return Settings(data_dir=data), first, second


def table(settings: Settings, sql: str) -> list[tuple]:
    with store.connect(settings.processed_dir, settings.raw_dir) as con:
        return con.execute(sql).fetchall()


def test_run_articles_loads_each_row_as_an_article_once(text_run, articles_file):
    settings, first, second = text_run
    assert first.exit_code == 0, first.stderr
    assert "2 articles (2 new, 0 already stored), 3 quarantined" in first.stderr
    assert "2 articles (0 new, 2 already stored)" in second.stderr  # a re-run adds nothing
    _, text = seed_text()
    rows = table(settings, "select url, text, language, extractor_version from articles_current order by url")
    assert [(r[0], r[2]) for r in rows] == [("https://www.example.fr/1", "fr"),
                                            ("https://www.jpost.com/international/article-726552", "en")]
    assert rows[1][1] == text and rows[1][3].endswith(" articles")


def test_run_articles_quarantines_bad_rows_with_reasons(text_run, articles_file):
    settings, *_ = text_run
    rows = set(table(settings, "select reason, url from quarantine"))
    assert rows == {("empty_body", "https://www.example.com/empty"),
                    ("unparseable_date", "https://www.example.com/dated"),
                    ("unreadable_row", f"{articles_file.resolve().as_uri()}#line=4")}


def test_run_articles_archives_each_row_as_its_exact_bytes(text_run, articles_file):
    settings, *_ = text_run
    lines_in = articles_file.read_bytes().splitlines()
    refs = table(settings, "select raw_ref from articles union all select raw_ref from quarantine")
    assert len(refs) == 5
    for (ref,) in refs:
        record = read_raw(settings.raw_dir, ref)
        assert record.record_type == "resource" and record.content_type == ARTICLE_JSON
        assert record.payload in lines_in


def test_run_articles_events_and_mentions_point_into_the_given_text(text_run):
    settings, *_ = text_run
    events = table(settings, "select e.event_date::varchar, "
                             "substr(a.text, e.date_start + 1, e.date_end - e.date_start), "
                             "substr(a.text, e.sentence_start + 1, e.sentence_end - e.sentence_start) = e.sentence "
                             "from events e join articles a using (article_id, content_hash) "
                             "where e.date_start is not null order by e.event_date")
    assert ("2022-09-21", "Sept. 21", True) in events and ("1942-01-01", "1942", True) in events
    mentions = table(settings, "select count(*), count(*) filter (where substr(a.text, m.start_char + 1, "
                               "m.end_char - m.start_char) = m.text) from mentions m "
                               "join articles a using (article_id, content_hash)")
    assert mentions[0][0] > 20 and mentions[0][0] == mentions[0][1]
    assert table(settings, "select count(*) from actors where name = 'Vladimir Putin'") == [(1,)]


@pytest.fixture(scope="module")
def analyzed(articles_file):
    result = CliRunner().invoke(cli, ["analyze", str(articles_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_analyze_prints_one_object_per_row_errors_included(analyzed, articles_file):
    assert [r["id"] for r in analyzed] == ["seed", "https://www.example.com/empty", "https://www.example.com/dated",
                                           f"{articles_file.resolve().as_uri()}#line=4", "https://www.example.fr/1"]
    assert [r.get("error", "").split(":")[0] for r in analyzed] == ["", "empty_body", "unparseable_date",
                                                                    "unreadable_row", ""]
    assert analyzed[4]["language"] == "fr" and analyzed[4]["events"] == [] and "skipped" in analyzed[4]


def test_analyze_offsets_slice_the_given_text(analyzed):
    _, text = seed_text()
    seed = analyzed[0]
    assert seed["mentions"] and seed["events"] and seed["dates"] and seed["quotes"]
    for m in seed["mentions"]:
        assert text[m["start"]:m["end"]] == m["text"]
    for d in seed["dates"]:
        assert text[d["start"]:d["end"]] == d["text"]
    actor_ids = {a["actor_id"] for a in seed["actors"]}
    assert {m["actor_id"] for m in seed["mentions"]} <= actor_ids
    for e in seed["events"]:
        assert text[e["start"]:e["end"]].strip() == text[e["start"]:e["end"]] != ""
        assert set(e["actor_ids"]) <= actor_ids and "cluster_id" in e
        if e["trigger_start"] is not None:  # the trigger is a word of the event's sentence
            assert e["start"] <= e["trigger_start"] < e["trigger_end"] <= e["end"]
            assert text[e["trigger_start"]:e["trigger_end"]].isalpha()
    assert any(e["clause"] for e in seed["events"]) and not seed["events"][0]["clause"]
    for q in seed["quotes"]:
        assert text[q["start"] - 1] in "\"“" and set(text[q["end"]:q["end"] + 2]) & set("\"”")  # '...,"'


def test_analyze_dates_events_like_the_pipeline(analyzed):
    _, text = seed_text()
    dated = {(e["event_date"], text[e["date_start"]:e["date_end"]]) for e in analyzed[0]["events"]
             if e["date_start"] is not None}
    assert {("2022-09-21", "Sept. 21"), ("2022-12-01", "last month"), ("2022-12-31", "New Year's Eve"),
            ("1942-01-01", "1942")} <= dated
    values = {d["text"]: d["value"] for d in analyzed[0]["dates"]}
    assert values["Sept. 21"] == "2022-09-21" and values["70-year-old"] is None


def test_analyze_reads_csv(tmp_path):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["stories_id", "url", "publish_date", "story_text"])
    writer.writerow(["7", "https://a.example/1", "2023-01-04 09:00:00",
                     "President Joe Biden met Chancellor Olaf Scholz in Berlin on Monday.\n\nHe said it went well."])
    path = tmp_path / "stories.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyze", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["id"] == "7"
    assert {m["text"] for m in row["mentions"]} >= {"Joe Biden", "Olaf Scholz", "Berlin"}
    assert [(d["text"], d["value"]) for d in row["dates"]] == [("Monday", "2023-01-02")]


@pytest.mark.parametrize("args", [
    ["analyze", "/no/such/file.jsonl"],
    ["analyze"],
    ["run", "--articles", "/no/such/file.jsonl"],
], ids=lambda a: " ".join(a))
def test_a_missing_input_file_exits_2_before_anything_starts(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_run_articles_is_not_combined_with_other_sources(articles_file):
    result = CliRunner().invoke(cli, ["run", "--articles", str(articles_file), "--feed", "https://a.example/rss"],
                                catch_exceptions=False)
    assert result.exit_code == 2 and "--articles cannot be combined with --feed" in result.stderr


def test_reprocess_reads_the_rows_again_from_the_archive(text_run):
    # last in this module: it rebuilds the tables the tests above read (with the same rows)
    settings, *_ = text_run
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "reprocess", "--rebuild", "--workers", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "5 archived pages, 2 articles (2 new), 3 quarantined" in result.stderr
    assert table(settings, "select count(*) from events e join articles a using (article_id, content_hash) "
                           "where a.extractor_version like '% articles'")[0][0] > 10
