"""Parquet writes, loading staged rows without duplicates, and the DuckDB views."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from flows import store
from transforms.schema import ARTICLES, QUARANTINE, TABLES, ArticleRecord, QuarantineRecord

AT = datetime(2024, 3, 1, 12, tzinfo=UTC)


def article(n: int, *, published_at: datetime | None = AT, content_hash: str = "h") -> ArticleRecord:
    return ArticleRecord(
        article_id=f"a{n}", content_hash=content_hash, url=f"https://x.example/{n}",
        canonical_url=f"https://x.example/{n}", domain="x.example", site_name="X", title=f"T{n}",
        description=None, published_at=published_at, published_utc_offset="+00:00",
        published_precision="time", published_source="meta", modified_at=None, fetched_at=AT,
        language="en", section=None, text="body", word_count=1, raw_ref="f.warc.gz#0",
        extractor_version="test", run_id="r",
    )


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "processed", tmp_path / "raw"


def test_write_parquet_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = store.write_parquet(store.to_arrow([article(1)], ARTICLES), tmp_path / "t" / "x.parquet")
    assert pq.read_table(path).num_rows == 1
    assert [p.name for p in path.parent.iterdir()] == ["x.parquet"]


def test_write_table_partitions_by_published_month(tmp_path):
    rows = [article(1), article(2, published_at=datetime(2023, 12, 31, tzinfo=UTC)), article(3, published_at=None)]
    paths = store.write_table(store.to_arrow(rows, ARTICLES), ARTICLES, tmp_path, "b1")
    assert sorted(p.parent.name for p in paths) == [
        "published_month=2023-12", "published_month=2024-03", "published_month=unknown"]


def test_load_staged_adds_only_unseen_keys(dirs):
    processed, raw = dirs
    store.stage([article(1), article(2)], ARTICLES, processed, "run1", "b0")
    assert store.load_staged(processed, "run1", ARTICLES) == (2, 0)
    store.stage([article(1), article(2, content_hash="new"), article(3), article(3)], ARTICLES, processed, "run2", "b0")
    assert store.load_staged(processed, "run2", ARTICLES) == (2, 2)  # a2's new version and a3, once
    con = store.connect(processed, raw)
    assert con.execute("select count(*) from articles").fetchone() == (4,)
    assert con.execute("select count(*) from articles_current").fetchone() == (3,)


def test_quarantine_rows_with_same_failure_are_not_repeated(dirs):
    processed, raw = dirs
    row = QuarantineRecord(run_id="r1", stage="fetch", reason="http_error", url="u", article_id=None,
                           detail="HTTP 404", raw_ref=None, occurred_at=AT)
    for run in ("r1", "r2"):
        store.stage([replace(row, run_id=run)], QUARANTINE, processed, run, "b")
        store.load_staged(processed, run, QUARANTINE)
    assert store.connect(processed, raw).execute("select count(*) from quarantine").fetchone() == (1,)


def test_every_view_exists_with_all_columns_before_any_data(dirs):
    con = store.connect(*dirs)
    for name, table in TABLES.items():
        columns = [r[0] for r in con.execute(f"describe {name}").fetchall()]
        assert set(table.schema.names) <= set(columns), name
        assert con.execute(f"select count(*) from {name}").fetchone() == (0,)


def test_views_work_with_a_data_dir_holding_a_quote(tmp_path):
    base = tmp_path / "it's data"
    processed, raw = base / "processed", base / "raw"
    store.stage([article(1)], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    assert store.connect(processed, raw).execute("select title from articles").fetchall() == [("T1",)]


def test_write_db_file_opens_in_a_plain_duckdb_client(dirs, tmp_path):
    processed, raw = dirs
    store.stage([article(1)], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    store.connect(processed, raw, database=str(tmp_path / "corpus.duckdb")).close()
    with duckdb.connect(str(tmp_path / "corpus.duckdb"), read_only=True) as con:
        assert con.execute("select article_id from articles").fetchall() == [("a1",)]


def test_timestamps_come_back_in_utc(dirs):
    processed, raw = dirs
    store.stage([article(1)], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    value = store.connect(processed, raw).execute("select published_at from articles").fetchone()[0]
    assert value == AT and value.utcoffset().total_seconds() == 0
