"""Derived actor tables: actor-first copies of what the per-actor queries need (sql/views.sql:
actor_names, actor_events, actor_volume, mention_days), sorted by actor, so that an actor's timeline
or volume reads a few row groups instead of joining the whole corpus over 1M articles.

They are tables of the snapshot like any other (flows/snapshot.py), changed in the same commit as the
tables they derive from, so they are never stale: built whole when the snapshot has none
(:func:`build_derived`, also by ``dateline compact``), else each run adds its own rows
(:func:`update_derived`): a delta file per table, and in derived_superseded the article versions it
replaced, whose stored rows the views leave out (mention_days deltas subtract their mentions instead).
Past DELTAS_MERGED_AT deltas a run merges them into one file. On object storage none are stored: the
views compute them. flows/store.py builds the views (:func:`stored_rows_sql`) and compacts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from dateline.flows import snapshot, storage, store
from dateline.flows.snapshot import Snapshot, Transaction
from dateline.transforms.schema import ARTICLE_ACTORS, ARTICLES, DEDUP, EVENTS, MENTIONS

_S = pa.string()

DERIVED_SOURCES = (ARTICLES, DEDUP, MENTIONS, ARTICLE_ACTORS, EVENTS)
DERIVED_ROW_GROUP_SIZE = 10_000
DELTAS_MERGED_AT = 16  # a run finding more delta files than this in a derived table merges them into one
DELTA_PREFIX = "run-"  # a run's delta file: run-<run_id>.parquet; merged ones: run-merged-<id>.parquet


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived table: its columns (as its view in sql/views.sql has them) and sort order."""

    name: str
    schema: pa.Schema
    order: tuple[str, ...]


DERIVED_TABLES = (
    Derived("actor_names", pa.schema([("key", _S), ("actor_id", _S)]), ("key", "actor_id")),
    Derived("actor_events", pa.schema([
        ("actor_id", _S), ("event_date", pa.date32()), ("date_precision", _S), ("date_basis", _S), ("trigger", _S),
        ("sentence", _S), ("url", _S), ("title", _S), ("site", _S), ("event_id", _S), ("sentence_id", pa.int64()),
        ("published_at", pa.timestamp("us", tz="UTC")), ("article_id", _S), ("content_hash", _S), ("story", _S),
        ("cluster_id", _S)]),
        ("actor_id", "event_date", "event_id")),
    Derived("actor_volume", pa.schema([("actor_id", _S), ("day", pa.date32()), ("article_id", _S),
                                       ("content_hash", _S), ("story", _S), ("mentions", pa.int64())]),
            ("actor_id", "day", "article_id")),
    Derived("mention_days", pa.schema([("day", pa.date32()), ("mentions", pa.int64())]), ("day",)),
)
SUPERSEDED = Derived("derived_superseded", pa.schema([("article_id", _S), ("content_hash", _S)]),
                     ("article_id", "content_hash"))
PER_VERSION = ("actor_events", "actor_volume")  # rows of one article version: left out once it is superseded

for _derived in (*DERIVED_TABLES, SUPERSEDED):
    snapshot.register(_derived.name, _derived.schema)


def derived_dir(processed: Path, derived: Derived) -> Path:
    """A derived table's folder: beside the tables' (processed/actor_events/, ...)."""
    return processed / derived.name


def stored_rows_sql(derived: Derived, files: dict[str, list[str]], snap: Snapshot) -> str:
    """A select of a derived table's stored rows: its files (base and deltas), without superseded article
    versions; mention_days summed per day (its deltas are signed)."""
    columns = ", ".join(store._quoted(c) for c in derived.schema.names)
    listed = store._file_list(files[derived.name])
    if derived.name == "mention_days":
        return (f"select day, sum(mentions)::bigint as mentions from read_parquet({listed}) group by day "
                "having sum(mentions) <> 0")  # a day whose mentions were all superseded has none
    if derived.name == "actor_names":
        return f"select distinct {columns} from read_parquet({listed})"
    rows = f"select {columns} from read_parquet({listed}, union_by_name = true)"  # older files lack newer columns
    if derived.name in PER_VERSION and snap.files(SUPERSEDED.name):
        return (f"{rows} where (article_id, content_hash) not in "
                f"(select (article_id, content_hash) from read_parquet({store._file_list(files[SUPERSEDED.name])}))")
    return rows


def build_derived(tx: Transaction) -> dict[str, int]:
    """Compute every derived table whole from the transaction's tables; returns {name: rows}."""
    build = uuid.uuid4().hex[:12]
    counts: dict[str, int] = {}
    with (store._working_connection(tx, stored_derived=False) as con,
          store._sorting_connection(tx.processed, con) as sorting):
        for derived in DERIVED_TABLES:
            path = derived_dir(tx.processed, derived) / f"{build}.parquet"
            columns = ", ".join(store._quoted(c) for c in derived.schema.names)
            order = ", ".join(store._quoted(c) for c in derived.order)
            sql = f"select {columns} from dateline_internal.{derived.name}_computed order by {order}"
            counts[derived.name] = store.write_sorted(sorting, sql, None, path, derived.schema, DERIVED_ROW_GROUP_SIZE)
            tx.replace(derived.name, [path])
    tx.replace(SUPERSEDED.name, [])
    return counts


def refresh_derived(tx: Transaction) -> str:
    """Bring the derived tables of the transaction up to date with its new table files: add their rows
    when the base snapshot has derived tables, else compute them whole. Returns what was done:
    "added", "built", "unchanged" or "skipped" (object storage: the views compute from the tables)."""
    if storage.is_remote(tx.processed):
        return "skipped"
    if not all(tx.base.files(d.name) for d in DERIVED_TABLES):
        build_derived(tx)
        return "built"
    return "added" if update_derived(tx) else "unchanged"


# The run's rows of each derived table, from the run's new table files (their paths in $<table>).
# A run's new article versions and their NLP rows are all in its own files (keys are per version); the
# current version of each article it touched is decided over every stored version, so a reprocessed
# older version does not count, and the version it replaced becomes superseded.
_DELTA_SETUP = """
create temp table run_versions as
select distinct article_id, content_hash from read_parquet($articles, union_by_name = true);
create temp table touched as
select distinct article_id from (
    select article_id from run_versions
    union all select article_id from read_parquet($events, union_by_name = true)
    union all select article_id from read_parquet($mentions, union_by_name = true));
create temp table versions as
select article_id, content_hash, fetched_at, url, title, coalesce(site_name, domain) as site, published_at
from articles where article_id in (select article_id from touched);
create temp table now_current as
select v.*, coalesce(d.dup_group, v.article_id) as story
from (select * from versions
      qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1) as v
left join (select article_id, content_hash, dup_group from dedup
           where article_id in (select article_id from touched)) as d using (article_id, content_hash);
create temp table superseded as
select article_id, content_hash, published_at from (
    select * from versions where (article_id, content_hash) not in (select (article_id, content_hash) from run_versions)
    qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1) as was
where (article_id, content_hash) not in (select (article_id, content_hash) from now_current);
"""
_DELTAS = {
    "actor_names": """
select distinct lower(n) as key, actor_id
from (select name as n, actor_id from read_parquet($article_actors, union_by_name = true)
      union all
      select unnest(aliases) as n, actor_id from read_parquet($article_actors, union_by_name = true))""",
    "actor_events": """
select a.actor_id, e.event_date, e.date_precision, e.date_basis, e.trigger, e.sentence, c.url, c.title, c.site,
       e.event_id, e.sentence_id, c.published_at, c.article_id, c.content_hash, c.story, m.cluster_id
from read_parquet($events, union_by_name = true) as e
join now_current as c on c.article_id = e.article_id and c.content_hash = e.content_hash
left join read_parquet($event_cluster_members, union_by_name = true) as m on m.event_id = e.event_id
cross join unnest(e.actor_ids) as a(actor_id)""",
    "actor_volume": """
select m.actor_id, c.published_at::date as day, m.article_id, m.content_hash, c.story, count(*) as mentions
from read_parquet($mentions, union_by_name = true) as m
join now_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
where c.published_at is not null
group by all""",
    # signed: the mentions the run adds to current versions, less those of the versions it superseded
    "mention_days": """
select day, sum(mentions)::bigint as mentions from (
    select c.published_at::date as day, count(*) as mentions
    from read_parquet($mentions, union_by_name = true) as m
    join now_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
    where c.published_at is not null
    group by all
    union all
    select s.published_at::date as day, -count(*) as mentions
    from mentions as m
    join superseded as s on s.article_id = m.article_id and s.content_hash = m.content_hash
    where s.published_at is not null and m.article_id in (select article_id from superseded)
    group by all)
group by day""",
}


def update_derived(tx: Transaction) -> bool:
    """Add the rows of the transaction's new table files to the derived tables (see "derived actor
    tables"); returns whether there were any."""
    new = {table.name: [str(p) for p in tx.new.get(table.name, [])] for table in DERIVED_SOURCES}
    if not any(new.values()):
        return False
    schema_files = {table.name: str(store._schema_file(tx.processed, table)) for table in DERIVED_SOURCES}
    params = {name: files or [schema_files[name]] for name, files in new.items()}  # empty: read the schema
    # the run's event clusters (flows/clusters.py runs before this): actor_events carries each cluster_id
    params[store.CLUSTER_MEMBERS.name] = ([str(p) for p in tx.new.get(store.CLUSTER_MEMBERS.name, [])]
                                    or [str(store._schema_file(tx.processed, store.CLUSTER_MEMBERS))])
    name = f"{DELTA_PREFIX}{tx.run_id or uuid.uuid4().hex[:12]}"
    with store._working_connection(tx, stored_derived=False) as con:
        for statement in _DELTA_SETUP.split(";"):
            if statement.strip():
                store.run(con, statement, {k: v for k, v in params.items() if f"${k}" in statement})
        for derived in DERIVED_TABLES:
            sql = _DELTAS[derived.name]
            order = ", ".join(store._quoted(c) for c in derived.order)
            path = derived_dir(tx.processed, derived) / f"{name}.parquet"
            store.write_sorted(con, f"select * from ({sql}) order by {order}",
                         {k: v for k, v in params.items() if f"${k}" in sql}, path, derived.schema,
                         DERIVED_ROW_GROUP_SIZE)
            tx.add(derived.name, [path])
        superseded = con.sql("select article_id, content_hash from superseded order by all").to_arrow_table()
    if superseded.num_rows:
        path = derived_dir(tx.processed, SUPERSEDED) / f"{name}.parquet"
        tx.add(SUPERSEDED.name, [store.write_parquet(superseded.cast(SUPERSEDED.schema), path)])
    merge_deltas(tx)
    return True


def merge_deltas(tx: Transaction, at: int = DELTAS_MERGED_AT) -> int:
    """Merge a derived table's run deltas into one file once there are more than ``at`` (so that a query
    opens a few files, not one per run since the last compact); returns how many tables were merged."""
    merged = 0
    for derived in (*DERIVED_TABLES, SUPERSEDED):
        deltas = [p for p in tx.paths(derived.name) if p.name.startswith(DELTA_PREFIX)]
        if len(deltas) <= at:
            continue
        path = derived_dir(tx.processed, derived) / f"{DELTA_PREFIX}merged-{uuid.uuid4().hex[:12]}.parquet"
        order = ", ".join(store._quoted(c) for c in derived.order)
        with duckdb.connect() as con:
            store.write_sorted(con, f"select * from read_parquet($files) order by {order}",
                         {"files": [str(p) for p in deltas]}, path, derived.schema, DERIVED_ROW_GROUP_SIZE)
        tx.replace(derived.name, [path], old=deltas)
        merged += 1
    return merged
