"""Parquet writes, loading staged rows without duplicates, the DuckDB views, and the layout: files sorted
for the per-actor queries, compaction, and the derived actor tables `dateline compact` computes."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dateline.flows import derived, snapshot, store
from dateline.transforms.schema import (
    ARTICLES,
    MENTIONS,
    QUARANTINE,
    TABLES,
    ArticleActorRecord,
    ArticleRecord,
    DedupRecord,
    EventRecord,
    MentionRecord,
    QuarantineRecord,
)

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


def test_write_db_file_opens_in_a_plain_duckdb_client_after_the_data_dir_moves(dirs, tmp_path, monkeypatch):
    processed, raw = dirs
    store.stage([article(1)], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    store.connect(processed, raw, database=str(tmp_path / "corpus.duckdb")).close()
    moved = tmp_path.parent / f"{tmp_path.name}-moved"  # the data dir and the file move together
    shutil.move(tmp_path, moved)
    monkeypatch.chdir(moved)  # paths are relative to the file's folder
    with duckdb.connect("corpus.duckdb", read_only=True) as con:
        assert con.execute("select article_id from articles").fetchall() == [("a1",)]
        assert con.execute("select count(*) from duckdb_views() where schema_name = 'dateline_internal'").fetchone()[0]
        assert not any("derived" in r[0] or "computed" in r[0] for r in con.execute(
            "select view_name from duckdb_views() where schema_name = 'main' and not internal").fetchall())


def test_timestamps_come_back_in_utc(dirs):
    processed, raw = dirs
    store.stage([article(1)], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    value = store.connect(processed, raw).execute("select published_at from articles").fetchone()[0]
    assert value == AT and value.utcoffset().total_seconds() == 0


# --- layout: sorted files, compaction, derived actor tables -------------------------------------

def mention_rows(n: int, seed: int) -> pa.Table:
    """``n`` mentions of 500 actors in shuffled order (as a run's articles name them)."""
    rng = random.Random(seed)
    rows = [{"article_id": f"a{rng.randrange(5000):05d}", "content_hash": "h", "text_source": "body",
             "sentence_id": rng.randrange(30), "start_char": i, "end_char": i + 5, "text": "x", "label": "PERSON",
             "actor_id": f"actor{rng.randrange(500):03d}"} for i in range(n)]
    return pa.Table.from_pylist(rows, schema=MENTIONS.schema)


def keys(table: pa.Table, columns: tuple[str, ...]) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in table.select(list(columns)).to_pylist()]


def test_write_table_sorts_a_runs_mentions_by_actor(tmp_path):
    (path,) = store.write_table(mention_rows(2_000, seed=1), MENTIONS, tmp_path, "run1")
    written = keys(pq.read_table(path), store.sort_key(MENTIONS))
    assert written == sorted(written) and store.sort_key(MENTIONS)[0] == "actor_id"


def test_compaction_sorts_mentions_by_actor_keeps_every_row_once_and_row_groups_do_not_overlap(dirs):
    processed, _ = dirs
    runs = [mention_rows(12_000, seed=2), mention_rows(11_000, seed=3)]
    tx = store.begin(processed, None, "run")
    for n, rows in enumerate(runs):
        tx.add("mentions", store.write_table(rows, MENTIONS, processed, f"run{n}"))
    tx.commit()
    done = store.compact(processed)
    assert done == {"mentions": (2, 23_000)}
    (merged,) = [processed / f for f in snapshot.current(processed).files("mentions")]
    data = pq.read_table(merged)
    assert sorted(keys(data, MENTIONS.schema.names)) == sorted(k for r in runs for k in keys(r, MENTIONS.schema.names))
    assert keys(data, store.sort_key(MENTIONS)) == sorted(keys(data, store.sort_key(MENTIONS)))
    meta = pq.ParquetFile(merged).metadata
    column = MENTIONS.schema.names.index("actor_id")
    ranges = [(meta.row_group(i).column(column).statistics.min, meta.row_group(i).column(column).statistics.max)
              for i in range(meta.num_row_groups)]
    assert meta.num_row_groups == 3 and meta.row_group(0).num_rows == store.ROW_GROUP_SIZE
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # an actor's rows: one or two groups


def test_compaction_fills_columns_older_files_lack_with_null_or_the_records_default(dirs):
    processed, raw = dirs
    old = store.to_arrow([article(1)], ARTICLES).drop_columns(["dateline_place", "agencies"])
    tx = store.begin(processed, raw, "run")  # a file written before these columns existed
    tx.add("articles", [store.write_parquet(old, processed / "articles" / "published_month=2024-03" / "old.parquet")])
    tx.commit()
    store.stage([replace(article(2), dateline_place="KYIV")], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    assert store.compact(processed) == {"articles/published_month=2024-03": (2, 2)}
    rows = store.connect(processed, raw).execute(
        "select article_id, dateline_place, agencies from articles order by article_id").fetchall()
    assert rows == [("a1", None, []), ("a2", "KYIV", [])]  # agencies: () by default, never null


# a corpus for the per-actor queries: actor id -> (name, kind, aliases); "X" is an organization whose
# name is one of Putin's aliases, so "putin" stands for two actors
ACTORS = {"P": ("Vladimir Putin", "person", ("Putin",)), "U": ("Ukraine", "place", ()),
          "Z": ("Volodymyr Zelenskyy", "person", ("Zelensky",)), "K": ("Kremlin", "organization", ()),
          "X": ("Putin", "organization", ())}


def nlp_tables(a: ArticleRecord, sentences: dict[int, str], *, dup_group: str | None = None) -> dict[str, list]:
    """Mentions, article actors, events (one per sentence) and a dedup row for one article version."""
    ids = {"article_id": a.article_id, "content_hash": a.content_hash}
    mentions = [MentionRecord(**ids, text_source="body", sentence_id=s, start_char=i * 10, end_char=i * 10 + 5,
                              text=ACTORS[actor][0], label="X", actor_id=actor)
                for s, actors in sentences.items() for i, actor in enumerate(actors)]
    counts = Counter(m.actor_id for m in mentions)
    return {
        "mentions": mentions,
        "article_actors": [ArticleActorRecord(actor_id=actor, **ids, name=ACTORS[actor][0], kind=ACTORS[actor][1],
                                              aliases=ACTORS[actor][2], mention_count=n)
                           for actor, n in counts.items()],
        "events": [EventRecord(event_id=f"{a.article_id}-{a.content_hash}-{s}", **ids, text_source="body",
                               sentence_id=s, sentence_start=0, sentence_end=0,
                               event_date=None if a.published_at is None else a.published_at.date() - timedelta(s),
                               date_precision="day", date_text=None, date_basis="published", trigger="say",
                               subject_id=actors[0], object_id=None, actor_ids=tuple(dict.fromkeys(actors)),
                               place=None, negated=False, sentence=f"{ACTORS[actors[0]][0]} said thing {s % 2}.")
                   for s, actors in sentences.items()],
        "dedup": [DedupRecord(**ids, dup_group=dup_group or a.article_id, similarity=1.0, fetched_at=a.fetched_at)],
    }


def load_run(processed: Path, run_id: str, versions: list[tuple[ArticleRecord, dict[int, str], str | None]],
             commit: bool = True) -> str:
    """Stage and load one run's articles and NLP rows and bring the derived tables up to date, in one
    commit, as the pipeline does; returns what refresh_derived did."""
    tables = {"articles": [a for a, _, _ in versions]}
    for a, sentences, dup_group in versions:
        for name, rows in nlp_tables(a, sentences, dup_group=dup_group).items():
            tables.setdefault(name, []).extend(rows)
    tx = store.begin(processed, processed.with_name("raw"), "run", run_id)
    for name, rows in tables.items():
        store.stage(rows, TABLES[name], processed, run_id, "b")
        store.load_staged(processed, run_id, TABLES[name], tx=tx)
    done = derived.refresh_derived(tx)
    if commit:
        tx.commit()
    return done


def dated(n: int, day: int, *, content_hash: str = "h", fetched: int = 0) -> ArticleRecord:
    published = datetime(2023, 1, 1, 9, tzinfo=UTC) + timedelta(days=day)
    return replace(article(n, published_at=published, content_hash=content_hash),
                   fetched_at=AT + timedelta(hours=fetched))


FIRST_RUN = [(dated(1, 3), {0: "PU", 1: "PP", 2: "X"}, None),
             (dated(2, 40, content_hash="old"), {0: "PK", 1: "P"}, None),
             (dated(3, 41), {0: "PU", 1: "Z"}, "a1"),  # a copy of a1's story: its "said thing 0" comes once
             (replace(article(4, published_at=None), fetched_at=AT), {0: "PZ"}, None)]
SECOND_RUN = [(dated(2, 40, content_hash="new", fetched=5), {0: "ZK", 1: "PX", 2: "U"}, None)]

ACTOR_QUERIES = [("actor_timeline", {"actor": actor, "since": since, "until": until, "about": about})
                 for actor in ("putin", "Vladimir Putin", "ZELENSKY", "kremlin", "nobody")
                 for since, until, about in (("", "", ""), ("2023-01-02", "2023-02-08", ""), ("", "", "THING 1"))]
ACTOR_QUERIES += [("mention_volume", {"actor": actor, "interval": interval})
                  for actor in ("putin", "Zelensky", "ukraine", "nobody")
                  for interval in ("hour", "day", "week", "month", "quarter", "year")]
ACTOR_QUERIES += [("co_actors", {"actor": actor, "limit": "10"}) for actor in ("putin", "kremlin")]


def answers(con: duckdb.DuckDBPyConnection) -> list[list[tuple]]:
    results = [con.execute(store.read_query(name), params).fetchall() for name, params in ACTOR_QUERIES]
    return results + [con.execute("select * from actor_named($q) order by all", {"q": q}).fetchall()
                      for q in ("putin", "PUTIN", "zelensky", "nobody")]


def reads_derived(con: duckdb.DuckDBPyConnection) -> bool:
    sql = con.execute("select sql from duckdb_views() where view_name = 'actor_events'").fetchone()[0]
    return "read_parquet" in sql  # else: select ... from actor_events_computed


@pytest.fixture
def two_runs(dirs: tuple[Path, Path]) -> tuple[Path, Path]:
    processed, raw = dirs
    load_run(processed, "r1", FIRST_RUN)
    load_run(processed, "r2", SECOND_RUN)
    return processed, raw


def computed_answers(con: duckdb.DuckDBPyConnection) -> tuple[list[list[tuple]], list[tuple]]:
    """The actor queries' answers and mention_days with every derived view computing from the tables."""
    for table in derived.DERIVED_TABLES:
        con.execute(f"create or replace view {table.name} as select * from dateline_internal.{table.name}_computed")
    return answers(con), con.execute("select * from mention_days order by day").fetchall()


def stored_and_computed(processed: Path, raw: Path) -> tuple[tuple, tuple]:
    with store.connect(processed, raw) as con:
        assert reads_derived(con)
        stored = answers(con), con.execute("select * from mention_days order by day").fetchall()
        return stored, computed_answers(con)


def test_actor_queries_answer_the_same_from_the_derived_tables_as_from_the_tables(two_runs):
    processed, raw = two_runs
    stored, computed = stored_and_computed(processed, raw)
    assert computed[0][0] and stored == computed
    store.compact(processed)
    assert stored_and_computed(processed, raw) == (stored, computed)


def test_derived_tables_hold_current_versions_only_and_both_actors_of_a_shared_alias(two_runs):
    processed, raw = two_runs
    store.compact(processed)
    with store.connect(processed, raw) as con:
        assert reads_derived(con)
        assert con.execute("select * from actor_named('putin') order by all").fetchall() == [("P",), ("X",)]
        events = con.execute("select distinct event_id from actor_events where article_id = 'a2' order by 1")
        assert events.fetchall() == [("a2-new-0",), ("a2-new-1",), ("a2-new-2",)]
        # a4 is undated: it has events, but no mention volume
        assert con.execute("select count(*) from actor_volume where article_id = 'a4'").fetchone() == (0,)
        assert con.execute("select sum(mentions) from mention_days").fetchone() == (5 + 3 + 5,)  # a1, a3, a2 new
        rows = con.execute(store.read_query("actor_timeline"), {"actor": "putin", "since": "", "until": "",
                                                                 "about": ""}).fetchall()
    # a1 and its copy a3 both say "Vladimir Putin said thing 0." once; X's sentence in a1 counts for "putin"
    assert [r[8] for r in rows] == ["a1-h-2", "a1-h-1", "a1-h-0", "a2-new-1", "a4-h-0"]  # r[8]: event_id


def snapshot_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select id from dateline_internal.snapshot").fetchone()[0]


def test_a_connection_kept_open_stays_on_its_snapshot_until_refreshed(two_runs):
    processed, raw = two_runs
    kept_open = store.connect(processed, raw)
    before, pinned = answers(kept_open), snapshot_id(kept_open)
    load_run(processed, "r3", [(dated(5, 60), {0: "P"}, None)])
    store.compact(processed)  # replaces every file it read: they stay for the retention window
    store.collect_garbage(processed, raw)
    assert answers(kept_open) == before and snapshot_id(kept_open) == pinned
    with store.connect(processed, raw) as con:
        fresh = answers(con)
    assert fresh != before
    assert store.refresh(kept_open) == pinned + 2 and answers(kept_open) == fresh


def test_an_uncommitted_load_is_invisible_and_its_files_are_removed_as_orphans(two_runs):
    processed, raw = two_runs
    with store.connect(processed, raw) as con:
        before = answers(con)
    load_run(processed, "r3", LATER_RUNS[0], commit=False)  # what a kill before the commit leaves
    with store.connect(processed, raw) as con:
        assert answers(con) == before
    orphans = [p for p in processed.rglob("*r3*.parquet") if store.STAGING not in p.parts]
    assert orphans and store.collect_garbage(processed, raw, retention=3600)
    assert not any(p.exists() for p in orphans)
    with store.connect(processed, raw) as con:
        assert answers(con) == before


def test_replaced_files_stay_for_the_retention_window_and_as_of_reads_them(two_runs):
    processed, raw = two_runs
    with store.connect(processed, raw) as con:
        before = answers(con)
    (events,) = [processed / f for f in snapshot.current(processed).files("events")][:1]
    load_run(processed, "r3", LATER_RUNS[0])
    store.compact(processed)
    assert store.collect_garbage(processed, raw, retention=3600) == [] and events.exists()
    with store.connect(processed, raw, snap="r2") as con:  # the last commit of run r2
        assert answers(con) == before
    assert store.collect_garbage(processed, raw, retention=0) and not events.exists()
    with pytest.raises(store.StoreError, match="older than the retention window"):
        store.connect(processed, raw, snap="r2", retention=0)
    with store.connect(processed, raw) as con:
        stored, computed = answers(con), computed_answers(con)[0]
    assert stored == computed != before


# after the two runs (and a compact): a new article; a new version of a1 published a day later with
# other actors (its old rows must go); a reprocessed version of a2 fetched before its current one (it
# must not count); a run that touches only NLP rows of a current version is covered by the same rules
LATER_RUNS = [
    [(dated(5, 60), {0: "P"}, None)],
    [(dated(1, 4, content_hash="v2", fetched=9), {0: "ZU", 1: "K"}, None)],
    [(dated(2, 40, content_hash="older", fetched=2), {0: "P", 1: "PP"}, None)],
]


def test_each_run_adds_its_rows_to_the_derived_tables_and_they_answer_as_the_tables_do(two_runs):
    processed, raw = two_runs
    for n, versions in enumerate(LATER_RUNS, start=3):
        assert load_run(processed, f"r{n}", versions) == "added"
        stored, computed = stored_and_computed(processed, raw)
        assert stored == computed, f"after run r{n}"
    with store.connect(processed, raw) as con:
        assert con.execute("select distinct content_hash from actor_events where article_id = 'a1'").fetchall() == [
            ("v2",)]
        assert con.execute("select distinct content_hash from actor_volume where article_id = 'a2'").fetchall() == [
            ("new",)]
    superseded = [processed / f for f in snapshot.current(processed).files(derived.SUPERSEDED.name)]
    assert sorted(pq.ParquetDataset(superseded).read().to_pylist(), key=str) == [
        {"article_id": "a1", "content_hash": "h"}, {"article_id": "a2", "content_hash": "old"}]


def test_a_run_adding_nothing_leaves_the_derived_tables_as_they_are(two_runs):
    processed, raw = two_runs
    before = snapshot.current(processed).tables
    assert load_run(processed, "r3", FIRST_RUN) == "unchanged"  # every key is stored already
    assert snapshot.current(processed).tables == before


def test_deltas_past_the_limit_are_merged_into_one_file_with_the_same_answers(two_runs):
    processed, raw = two_runs
    for n, versions in enumerate(LATER_RUNS, start=3):
        load_run(processed, f"r{n}", versions)
    before = stored_and_computed(processed, raw)
    deltas = [f for f in snapshot.current(processed).files("actor_events") if f"/{derived.DELTA_PREFIX}" in f]
    assert len(deltas) == 4  # runs r2 to r5 (r1 built them whole)
    tx = store.begin(processed, raw, "compact")
    assert derived.merge_deltas(tx, at=1) == len(derived.DERIVED_TABLES) + 1  # and the superseded list
    tx.commit()
    (merged,) = [f for f in snapshot.current(processed).files("actor_events") if f"/{derived.DELTA_PREFIX}" in f]
    assert f"/{derived.DELTA_PREFIX}merged-" in merged
    assert stored_and_computed(processed, raw) == before and before[0] == before[1]


def test_a_data_dir_written_before_snapshots_is_migrated_with_its_renamed_columns(dirs):
    processed, raw = dirs
    a = dated(1, 3)
    rows = nlp_tables(a, {0: "PU"})
    old = store.to_arrow(rows["mentions"], MENTIONS).rename_columns(
        ["source" if c == "text_source" else "start" if c == "start_char" else "end" if c == "end_char" else c
         for c in MENTIONS.schema.names])
    store.write_parquet(old, processed / "mentions" / "old-run.parquet")  # no snapshot: globbed files, old names
    store.write_table(store.to_arrow([a], ARTICLES), ARTICLES, processed, "old-run")
    with store.connect(processed, raw) as con:  # a reader migrates it (under the data dir lock)
        assert con.execute("select text_source, start_char, end_char from mentions order by start_char").fetchall() == [
            ("body", 0, 5), ("body", 10, 15)]
        assert con.execute("select count(*) from articles").fetchone() == (1,)
    assert snapshot.current(processed).kind == "migrate"
    store.collect_garbage(processed, raw)
    assert not (processed / "mentions" / "old-run.parquet").exists()


def test_recover_removes_the_folder_a_killed_compaction_sorted_in(dirs):
    processed, raw = dirs
    spill = processed / "mentions" / f".sort-0123456789ab{store.TMP_SUFFIX}"
    spill.mkdir(parents=True)
    (spill / "duckdb_temp_storage_S32K-0.block").write_bytes(b"x" * 100)
    assert store.recover(processed, raw) == ["removed 1 temporary file(s) of interrupted writes"]
    assert not spill.exists()


def test_a_large_run_is_loaded_in_groups_of_staged_files_with_repeats_across_groups_dropped(dirs):
    processed, raw = dirs
    for batch in range(5):  # a3 comes in batches 1 and 3, which fall in different groups
        rows = [article(batch * 10 + 1), article(batch * 10 + 2)] + ([article(3)] if batch in (1, 3) else [])
        store.stage(rows, ARTICLES, processed, "r1", f"b{batch}")
    assert store.load_staged(processed, "r1", ARTICLES, files_at_once=2) == (11, 1)
    files = sorted(p.name for p in (processed / "articles").rglob("r1*.parquet"))
    assert files == ["r1-1.parquet", "r1-2.parquet", "r1.parquet"]
    with store.connect(processed, raw) as con:
        assert con.execute("select count(*), count(distinct article_id) from articles").fetchone() == (11, 11)


def test_a_connection_open_past_the_retention_window_keeps_its_snapshots_files(two_runs):
    processed, raw = two_runs
    kept_open = store.connect(processed, raw)
    before = answers(kept_open)
    (events,) = [processed / f for f in snapshot.current(processed).files("events")][:1]
    load_run(processed, "r3", LATER_RUNS[0])
    store.compact(processed)
    assert store.collect_garbage(processed, raw, retention=0) and events.exists()  # the others' files go
    assert answers(kept_open) == before
    store.refresh(kept_open)  # the lease moves with the connection: the old snapshot is free
    assert store.collect_garbage(processed, raw, retention=0) and not events.exists()
    assert answers(kept_open) != before


def test_a_closed_connection_and_a_dead_process_hold_no_lease(two_runs):
    processed, raw = two_runs
    (events,) = [processed / f for f in snapshot.current(processed).files("events")][:1]
    closed = store.connect(processed, raw)
    closed.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lease = processed / "_snapshots" / "leases" / f"{socket.gethostname()}-{dead.stdout.strip()}-x.json"
    lease.write_text(json.dumps({"snapshot": snapshot.current(processed).id, "host": socket.gethostname(),
                                 "pid": int(dead.stdout), "taken_at": "2026-01-01T00:00:00+00:00"}))
    load_run(processed, "r3", LATER_RUNS[0])
    store.compact(processed)
    assert store.collect_garbage(processed, raw, retention=0) and not events.exists()
    assert not lease.exists()
    del closed  # kept referenced to here: its being closed, not collected, freed the snapshot


def test_a_lease_being_written_survives_a_writers_recovery_and_a_dead_readers_is_removed(two_runs):
    processed, raw = two_runs
    leases = processed / "_snapshots" / "leases"
    leases.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)

    def being_written(pid: object) -> Path:  # the name snapshot.write_atomically gives a lease's next text
        path = leases / f".{socket.gethostname()}-{pid}-{uuid.uuid4().hex[:12]}.json.{uuid.uuid4().hex}.tmp"
        path.write_text("{}")
        return path

    live, gone = being_written(os.getpid()), being_written(dead.stdout.strip())
    store.recover(processed, raw)  # a writer starting: its own temporary files go, a reader's do not
    assert live.exists() and gone.exists()
    store.collect_garbage(processed, raw)
    assert live.exists() and not gone.exists()
