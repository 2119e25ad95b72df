"""Every SQL file in sql/: a header that says what it answers, and it runs on a small corpus."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dateline.flows import store
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.schema import (
    ARTICLE_ACTORS,
    ARTICLES,
    EVENTS,
    IMAGES,
    MENTIONS,
    QUARANTINE,
    QUOTES,
    RUNS,
    ArticleActorRecord,
    EventRecord,
    ExtractedPage,
    MentionRecord,
    QuarantineRecord,
    QuoteRecord,
    RawRecord,
    RunRecord,
)

SQL = Path(__file__).parent.parent / "sql"
QUERIES = store.saved_queries()
SAMPLE_PARAMS = {"text": "widows", "actor": "putin", "since": "", "until": "", "about": "mobilization",
                 "keyword": "mobilization", "interval": "month", "kind": "", "limit": "10"}
AT = datetime(2026, 1, 1, tzinfo=UTC)
# the seed article's actors (the other two articles name Putin and one organization each): id -> (name, kind)
SEED_ACTORS = {"p": ("Vladimir Putin", "person"), "u": ("Ukraine", "place")}
SEED_SENTENCE = ("A little known patriotic group which supports the widows of Russian soldiers has called on "
                 "President Vladimir Putin to order a large-scale mobilization of millions of men and to close the "
                 "borders to ensure victory in Ukraine.")


def nlp_rows(pages: list[ExtractedPage]) -> dict[str, list]:
    """Mentions, actors, an event and a quote for the fixture articles, so every actor query has rows."""
    seed = next(p.article for p in pages if p.article.url.endswith("/seed"))
    ids = {"article_id": seed.article_id, "content_hash": seed.content_hash}
    rows: dict[str, list] = {
        "mentions": [MentionRecord(**ids, text_source="body", sentence_id=0, start_char=SEED_SENTENCE.find(text),
                                   end_char=SEED_SENTENCE.find(text) + len(text), text=text, label=label, actor_id=a)
                     for a, text, label in (("p", "President Vladimir Putin", "PERSON"), ("u", "Ukraine", "GPE"))],
        "article_actors": [ArticleActorRecord(actor_id=a, **ids, name=name, kind=kind, mention_count=1,
                                              aliases=("Putin",) if a == "p" else ())
                           for a, (name, kind) in SEED_ACTORS.items()],
        "events": [EventRecord(event_id="e0", **ids, text_source="body", sentence_id=0, sentence_start=0,
                               sentence_end=0, event_date=date(2022, 12, 1),
                               date_precision="month", date_text="last month", date_basis="relative",
                               trigger="call", subject_id=None, object_id="p", actor_ids=("p", "u"), place=None,
                               negated=False, sentence=SEED_SENTENCE)],
        "quotes": [QuoteRecord(**ids, sentence_id=3, start_char=0, end_char=0, speaker_id="p", speaker_text="he",
                               quote="a special operation",
                               verb="say", sentence='an operation he says is a "special operation"')],
    }
    for n, page in enumerate(p for p in pages if p.article is not seed):
        other = {"article_id": page.article.article_id, "content_hash": page.article.content_hash}
        rows["mentions"].append(MentionRecord(**other, text_source="body", sentence_id=0, start_char=0, end_char=5,
                                              text="Putin",
                                              label="PERSON", actor_id="p"))
        rows["mentions"].append(MentionRecord(**other, text_source="body", sentence_id=0, start_char=10, end_char=15,
                                              text=f"O{n}",
                                              label="ORG", actor_id=f"o{n}"))
        rows["article_actors"] += [ArticleActorRecord(actor_id="p", **other, name="Vladimir Putin", kind="person",
                                                      aliases=("Putin",), mention_count=1),
                                   ArticleActorRecord(actor_id=f"o{n}", **other, name=f"O{n}", kind="organization",
                                                      mention_count=1)]
    return rows


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    processed = tmp_path_factory.mktemp("sql") / "processed"
    pages = []
    for path in sorted((Path(__file__).parent / "fixtures" / "http" / "articles").glob("*.html")):
        page = extract_article(path.read_bytes(), PageInput(url=f"https://x.example/{path.stem}", content_type=None,
                                                            fetched_at=AT, raw_ref=f"{path.name}#0"), run_id="r")
        assert isinstance(page, ExtractedPage)
        pages.append(page)
    store.stage([p.article for p in pages], ARTICLES, processed, "r", "b")
    store.stage([i for p in pages for i in p.images], IMAGES, processed, "r", "b")
    store.stage([QuarantineRecord(run_id="r", stage="fetch", reason="http_error", url="https://x.example/gone",
                                  article_id=None, detail="HTTP 404", raw_ref=None, occurred_at=AT)],
                QUARANTINE, processed, "r", "b")
    nlp = nlp_rows(pages)
    for table in (MENTIONS, ARTICLE_ACTORS, EVENTS, QUOTES):
        store.stage(nlp[table.name], table, processed, "r", "b")
    for table in (ARTICLES, IMAGES, QUARANTINE, MENTIONS, ARTICLE_ACTORS, EVENTS, QUOTES):
        store.load_staged(processed, "r", table)
    run = RunRecord(run_id="r", flow_run_id=None, started_at=AT, finished_at=AT, status="completed", sources=(),
                    discovered_count=4, fetched_count=4, archived_count=4, extracted_count=3, new_article_count=3,
                    unchanged_article_count=0, quarantined_count=1, dateline_version="t", trafilatura_version="t",
                    prefect_version="t")
    tx = store.begin(processed, processed.parent / "raw", "run", "r")
    tx.add("runs", store.write_table(store.to_arrow([run], RUNS), RUNS, processed, "r"))
    tx.commit()
    # a corrected second version of one article (revisions) and raw index rows (source freshness)
    first = pages[0].article
    store.stage([replace(first, content_hash="v2", title="Corrected title", fetched_at=AT + timedelta(days=1),
                         word_count=first.word_count + 12, run_id="r2")], ARTICLES, processed, "r2", "b")
    store.load_staged(processed, "r2", ARTICLES)
    raw_rows = [RawRecord(url=p.article.url, final_url=p.article.url, status=status, content_type="text/html",
                          sha1="s", length=1, truncated=False, fetched_at=AT, warc_file="f.warc.gz", warc_offset=i,
                          record_type="response", kind="page", source="feed:https://x.example/rss", run_id="r")
                for i, (p, status) in enumerate(zip(pages, (200, 304, 404), strict=False))]
    tx = store.begin(processed, processed.parent / "raw", "run", "r")
    tx.add("raw_index", [store.write_raw_index(raw_rows, processed.parent / "raw", "r")])
    tx.commit()
    with store.connect(processed, processed.parent / "raw") as connection:
        yield connection


@pytest.mark.parametrize("name", QUERIES)
def test_sql_file_has_question_params_and_returns_header(name):
    head = (SQL / f"{name}.sql").read_text().splitlines()
    assert head[0].startswith("-- Q: ") and head[0].endswith("?")
    assert head[1].startswith("-- Params:") and "Returns:" in head[1]


@pytest.mark.parametrize("name", QUERIES)
def test_sql_file_runs_and_returns_its_declared_columns(con, name):
    text = store.read_query(name)
    params = {p: SAMPLE_PARAMS[p] for p in store.query_params(text)}
    cursor = con.execute(text, params) if params else con.execute(text)
    rows = cursor.fetchall()
    declared = re.search(r"Returns:\s*(.+)$", text.splitlines()[1])[1]
    assert [d[0] for d in cursor.description] == [c.strip() for c in declared.split(",")]
    assert rows, f"{name} returned no rows on the fixture corpus"
    # counts are BIGINT: a sum of integers is HUGEINT in DuckDB, which many clients cannot read
    types = con.sql(f"describe {text.rstrip().rstrip(';')}", params=params or None).fetchall() if params else \
        con.sql(f"describe {text.rstrip().rstrip(';')}").fetchall()
    assert not [(column, type_) for column, type_, *_ in types if type_ == "HUGEINT"]


def test_views_sql_creates_every_table_view(con):
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert {"articles", "articles_current", "images", "quarantine", "runs", "raw_index",
            "mentions", "article_actors", "actors", "events", "quotes"} <= views
