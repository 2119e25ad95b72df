"""Every SQL file in sql/: a header that says what it answers, and it runs on a small corpus."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows import store
from transforms.extract import PageInput, extract_article
from transforms.schema import ARTICLES, IMAGES, QUARANTINE, RUNS, ExtractedPage, QuarantineRecord, RunRecord

SQL = Path(__file__).parent.parent / "sql"
QUERIES = store.saved_queries()
SAMPLE_PARAMS = {"text": "widows"}
AT = datetime(2026, 1, 1, tzinfo=UTC)


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
    for table in (ARTICLES, IMAGES, QUARANTINE):
        store.load_staged(processed, "r", table)
    run = RunRecord(run_id="r", flow_run_id=None, started_at=AT, finished_at=AT, status="completed", sources=(),
                    discovered_count=4, fetched_count=4, archived_count=4, extracted_count=3, new_article_count=3,
                    unchanged_article_count=0, quarantined_count=1, dateline_version="t", trafilatura_version="t",
                    prefect_version="t")
    store.write_table(store.to_arrow([run], RUNS), RUNS, processed, "r")
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


def test_views_sql_creates_every_table_view(con):
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert {"articles", "articles_current", "images", "quarantine", "runs", "raw_index"} <= views
