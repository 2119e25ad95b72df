"""DuckDB at corpus scale: an actor's timeline and weekly mention volume on a synthetic corpus.

A generator writes a synthetic corpus with the pipeline's own schemas (transforms/schema.py) and
the pipeline's own file layout: the rows arrive in ``--runs`` runs, each written by
``store.write_table`` exactly as ``store.load_staged`` writes a run's rows; then ``store.compact``
merges and sorts them and computes the derived actor tables, as ``dateline compact`` does. Nothing
about the layout is decided here.

The corpus (vectorized in DuckDB, deterministic: every value is a hash of its row's indices):
- ``--articles`` article versions (1 in 50 is an older version of the next article) published over
  six years (1% undated), with short synthetic titles and texts, and one dedup row each (15% are
  copies of an earlier story);
- ``--actors`` actors with Zipf-like popularity (an article names actor rank r with probability
  ~1/(r+1.5)), about 6 per article, with one article_actors row each and 1+ mentions each,
  ``--mentions`` in all;
- events: sentences with mentions, sampled to ``--events``, ``actor_ids`` the sentence's actors.

Then, on a connection made by ``store.connect`` (the views of sql/views.sql), it times what
``dateline timeline ACTOR`` reads (the actor check, then sql/actor_timeline.sql, every row fetched as
the Arrow batches the command prints from), sql/mention_volume.sql with interval week (the issue's
target: median at most 100 ms warm for both), and, for information, the timeline written out as
csv text (``timeline_csv``: all the command does once connected). It times them for actors of Zipf
rank 10 (head), 100 (popular), 1,000 (mid) and 100,000 (rare) of 200,000: one cold run on a fresh
connection, then ``--repeat`` warm runs. Medians and p90 go to stdout and to
bench/results/duckdb_scale.json. ``--loaded`` also times the runs' files before compaction,
``--computed`` the compacted files without the derived tables (what the views compute between a
run and the next ``dateline compact``).

    python bench/duckdb_scale.py                           # 1,000,000 articles, 20,000,000 mentions
    python bench/duckdb_scale.py --articles 200000 --mentions 4000000   # `make bench`: a few minutes
    python bench/duckdb_scale.py --keep /tmp/corpus        # generate once into /tmp/corpus, reuse after
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
from dateline.flows import derived, snapshot, store  # noqa: E402
from dateline.flows.cli import query_batches, timeline_batches  # noqa: E402 - what the commands run
from dateline.flows.clusters import cluster_run  # noqa: E402
from dateline.flows.output import write_batches  # noqa: E402
from dateline.transforms.schema import ARTICLE_ACTORS, ARTICLES, DEDUP, EVENTS, MENTIONS, Table  # noqa: E402

OUTPUT = REPO / "bench" / "results" / "duckdb_scale.json"
MANIFEST = "duckdb_scale.json"  # in the data dir: what was generated, so --keep can reuse it
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vo", "shi", "du", "ne", "pa",
             "ri", "zu", "an", "bel", "cor", "dan", "el", "fa", "gor", "hu"]
VERBS = ["say", "meet", "order", "deny", "announce", "visit", "sign", "reject", "warn", "call",
         "accuse", "approve", "win", "lose", "attack", "support", "elect", "arrest", "fund", "ban"]
WORDS = ["the", "government", "said", "on", "Tuesday", "that", "new", "rules", "would", "apply", "to",
         "every", "region", "after", "talks", "in", "the", "capital", "officials", "added", "market",
         "prices", "rose", "while", "critics", "warned", "of", "delays", "and", "costs", "for", "families"]
START = "2019-01-01"  # published dates spread over six years from here
DAYS = 6 * 365
ACTORS_PER_ARTICLE = 6.5  # mean; the mention count per article actor is set to reach --mentions
SENTENCES = 25  # sentence ids per article
TARGET_MS = 100
CASES = {"head": 10, "popular": 100, "mid": 1_000, "rare": 100_000}  # Zipf rank of the actor (of 200,000; scaled)


def setup_generator(con: duckdb.DuckDBPyConnection, actors: int) -> None:
    """Macros for hash-based random values, and the actors table (ranked by popularity)."""
    con.execute("set TimeZone = 'UTC'")
    con.execute("create or replace macro ix(h, n) as (1 + h % n)::bigint")  # a 1-based list index from a hash
    con.execute("create or replace macro u(a, b) as hash(a, b) / 18446744073709551616.0")  # uniform [0, 1)
    con.execute(f"create or replace macro syl(i, k) as {SYLLABLES}[ix((i // pow(20, k)::bigint), 20)]")
    con.execute(f"""
        create or replace table actor as
        with named as (
            select i as rank,
                   ['person', 'person', 'organization', 'place', 'person', 'group', 'organization',
                    'place'][ix(hash(i, 'kind'), 8)] as kind,
                   upper(syl(i, 0)[1]) || syl(i, 0)[2:] || syl(i, 1) as first,
                   upper(syl(i, 2)[1]) || syl(i, 2)[2:] || syl(i, 3) || syl(i, 4) as last
            from range({actors}) t(i)
        )
        select rank, kind,
               case kind when 'person' then first || ' ' || last
                         when 'organization' then first || last || ' Group'
                         when 'place' then first || last || 'ia'
                         else first || last || 'ists' end as name,
               case kind when 'person' then last when 'organization' then upper(first[1] || last[1]) || 'G'
                         else null end as alias
        from named""")
    con.execute("create or replace table actor_keyed as "
                "select *, sha1(kind || ':' || lower(name)) as actor_id from actor")


def calibrate(con: duckdb.DuckDBPyConnection, articles: int, mentions: int, actors: int) -> None:
    """Set the mean mention count per article actor so that the corpus has about ``mentions`` mentions.

    An article draws 1-12 actors by popularity (repeated draws are one actor); each gets 1 + floor(X)
    mentions, X exponential with mean ``scale``. The scale is fitted on a sample of articles."""
    sample = min(articles, 20_000)
    picks = f"""
        select distinct i, least(floor(pow({actors} + 1, u(i, 1000 + j)))::bigint - 1, {actors - 1}) as rank
        from range({sample}) t(i), range(1 + (hash(i, 'na') % {int(ACTORS_PER_ARTICLE * 2 - 1)})::bigint) s(j)"""
    wanted = mentions / articles * sample
    scale = 2.0
    for _ in range(4):
        con.execute(f"create or replace macro mention_count(i, r) as 1 + floor(-ln(1 - u(i, r)) * {scale})::bigint")
        got = con.sql(f"select sum(mention_count(i, rank)), count(*) from ({picks})").fetchall()[0]
        scale *= (wanted - got[1]) / max(float(got[0]) - got[1], 1.0)  # fit the mentions beyond one per actor


def generate_run(con: duckdb.DuckDBPyConnection, lo: int, hi: int, total: int, actors: int,
                 events_per_article: float, run_id: str, revision: str = "") -> dict[str, Any]:
    """Rows of articles lo..hi-1 and everything derived from them, as Arrow tables keyed by table name.
    With ``revision``, new versions of those articles instead: other content hashes, fetched 30 days later."""
    con.execute(f"""
        create or replace temp table art as
        with base as (
            select i,
                   case when i % 50 = 49 then i + 1 else i end as article_n,   -- an older version of the next
                   i % 50 = 49 as is_old,
                   '{START}'::timestamptz + to_seconds((i * {DAYS} * 86400.0 / {total}
                        + (u(i, 'jit') - 0.5) * 6 * 86400)::bigint) as pub_at,
                   u(i, 'nodate') < 0.01 as undated,
                   'site' || (hash(i, 'site') % 500) as site
            from range({lo}, {hi}) t(i)
        )
        select sha1('article:' || article_n) as article_id,
               sha1('version:' || i || '{revision}') as content_hash,
               'https://www.' || site || '.example/news/' || article_n || (case when is_old then '?v=1' else '' end)
                   as url,
               'https://www.' || site || '.example/news/' || article_n as canonical_url,
               site || '.example' as domain,
               upper(site[1]) || site[2:] || ' News' as site_name,
               'Officials ' || {VERBS}[ix(hash(i, 'tv'), 20)] || ' plan for region ' || (i % 997) as title,
               'A short synthetic description of article ' || article_n as description,
               ['Reporter ' || (hash(i, 'au') % 3000)] as authors,
               case when u(i, 'wire') < 0.2 then ['Reuters'] else []::varchar[] end as agencies,
               u(i, 'wire') < 0.2 as is_wire,
               null::varchar as dateline_place,
               case when undated then null else pub_at end as published_at,
               case when undated then null else '+00:00' end as published_utc_offset,
               case when undated then null else 'time' end as published_precision,
               case when undated then null else 'meta' end as published_source,
               null::timestamptz as modified_at,
               coalesce(pub_at, '{START}'::timestamptz) + case when is_old then interval 1 hour else interval 1 day end
                   + {"interval 30 day" if revision else "interval 0 day"} as fetched_at,
               'en' as language,
               ['world', 'politics', 'business', 'sport'][ix(hash(i, 'sec'), 4)] as section,
               ['tag' || (hash(i, 'tag') % 200)] as tags,
               array_to_string(list_transform(range(60), lambda k: {WORDS}[ix(hash(i, k), {len(WORDS)})]), ' ')
                   as text,
               60 as word_count,
               'bench/' || '{run_id}' || '.warc.gz#' || i as raw_ref,
               'bench' as extractor_version,
               '{run_id}' as run_id,
               []::varchar[] as issues,
               i, article_n
        from base""")
    con.execute(f"""
        create or replace temp table aa as
        with picks as (
            select a.i, a.article_id, a.content_hash,
                   least(floor(pow({actors} + 1, u(a.i, 1000 + j)))::bigint - 1, {actors - 1}) as rank
            from art as a, range(1 + (hash(a.article_n, 'na') % {int(ACTORS_PER_ARTICLE * 2 - 1)})::bigint) t(j)
        )
        select k.actor_id, p.article_id, p.content_hash, k.name, k.kind,
               case when k.alias is not null and u(p.i, k.rank) < 0.5 then [k.alias] else []::varchar[] end
                   as aliases,
               mention_count(p.i, k.rank) as mention_count,
               p.i, k.rank
        from (select distinct i, article_id, content_hash, rank from picks) as p
        join actor_keyed as k using (rank)""")
    con.execute(f"""
        create or replace temp table men as
        select aa.article_id, aa.content_hash, 'body' as text_source,
               (hash(aa.i, aa.rank, m) % {SENTENCES})::bigint as sentence_id,
               (hash(aa.i, aa.rank, m, 's') % 200)::bigint as start_char,
               (hash(aa.i, aa.rank, m, 's') % 200)::bigint + length(aa.name) as end_char,
               case when m = 0 or aa.kind <> 'person' then aa.name
                    when m % 2 = 1 and len(aa.aliases) > 0 then aa.aliases[1] else 'he' end as text,
               case aa.kind when 'person' then (case when m = 0 or m % 2 = 1 then 'PERSON' else 'PRON' end)
                            when 'organization' then 'ORG' when 'place' then 'GPE' else 'NORP' end as label,
               aa.actor_id
        from aa, range(aa.mention_count) t(m)""")
    con.execute(f"""
        create or replace temp table ev as
        with sentences as (
            select article_id, content_hash, sentence_id, list(distinct actor_id order by actor_id) as actor_ids,
                   min(text) as who
            from men group by all
        )
        select sha1(article_id || content_hash || sentence_id) as event_id,
               article_id, content_hash, 'body' as text_source, sentence_id,
               (sentence_id * 200)::bigint as sentence_start, (sentence_id * 200 + 150)::bigint as sentence_end,
               case when u(sentence_id, event_id) < 0.05 then null
                    else (a.published_at + to_days((-60 + hash(event_id) % 90)::integer))::date end as event_date,
               case when u(sentence_id, event_id) < 0.05 then null
                    else ['day', 'day', 'month', 'year'][ix(hash(event_id, 'p'), 4)] end as date_precision,
               null::varchar as date_text,
               case when u(sentence_id, event_id) < 0.05 then null
                    else ['explicit', 'relative', 'published'][ix(hash(event_id, 'b'), 3)] end as date_basis,
               null::bigint as date_start, null::bigint as date_end,
               {VERBS}[ix(hash(event_id, 'v'), 20)] as trigger,
               null::bigint as trigger_start, null::bigint as trigger_end, false as clause,
               actor_ids[1] as subject_id,
               actor_ids[2] as object_id,
               actor_ids,
               null::varchar as place,
               hash(event_id, 'n') % 20 = 0 as negated,
               who || ' ' || {VERBS}[ix(hash(event_id, 'v'), 20)] || 'ed the plan on Tuesday, officials in the '
                   || 'capital said, after talks ' || (hash(event_id) % 1000) || '.' as sentence
        from sentences as s join art as a using (article_id, content_hash)""")
    # the events: a sample of the sentences with mentions, ``events_per_article`` per article
    sentences = con.sql("select count(*) from ev").fetchall()[0][0]
    con.execute(f"delete from ev where u(event_id, 'keep') >= {events_per_article * (hi - lo) / max(sentences, 1)}")
    con.execute("""
        create or replace temp table dd as
        select article_id, content_hash,
               case when u(article_n, 'dup') < 0.15 and article_n > 20
                    then sha1('article:' || (article_n - 1 - hash(article_n) % 20)) else article_id end as dup_group,
               case when u(article_n, 'dup') < 0.15 and article_n > 20 then 0.9 else 1.0 end as similarity,
               list_transform(range(64), lambda k: (hash(article_n, k) % 4294967296)::bigint) as signature,
               list_transform(range(16), lambda k: k || ':' || left(sha1(article_n || ':' || k), 16)) as bands,
               fetched_at
        from art""")
    return {t.name: _conformed(con.sql(f"select * from {name}").to_arrow_table(), t.schema)
            for name, t in (("art", ARTICLES), ("aa", ARTICLE_ACTORS), ("men", MENTIONS), ("ev", EVENTS),
                            ("dd", DEDUP))}


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The generated rows in the table's schema; a column the generator does not make (one added to the
    schema since, such as articles.byline_orgs) is null, or empty where the schema allows no null."""
    def missing(f: pa.Field) -> pa.Array:
        if f.nullable:
            return pa.nulls(table.num_rows, f.type)
        return pa.array([[] if pa.types.is_list(f.type) else ""] * table.num_rows, f.type)

    columns = [table.column(f.name) if f.name in table.column_names else missing(f) for f in schema]
    return pa.Table.from_arrays(columns, schema=pa.schema([pa.field(f.name, c.type) for f, c in zip(schema, columns,
                                                                                                     strict=True)])
                                ).cast(schema)


def generate(data: Path, articles: int, mentions: int, events: int, actors: int, runs: int) -> dict[str, Any]:
    """Write the corpus under ``data/processed``, run by run, through the store's own writers."""
    processed, raw = data / "processed", data / "raw"
    store.ensure_tables(processed, raw)
    counts = dict.fromkeys(("articles", "article_actors", "mentions", "events", "dedup"), 0)
    started = time.perf_counter()
    tx = store.begin(processed, raw, "run")  # the generated runs: one commit (a snapshot) at the end
    with duckdb.connect() as con:
        setup_generator(con, actors)
        calibrate(con, articles, mentions, actors)
        bounds = [articles * r // runs for r in range(runs + 1)]
        for r, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
            run_id = f"bench-{r:05d}"
            tables = generate_run(con, lo, hi, articles, actors, events / articles, run_id)
            for name, table in tables.items():
                tx.add(name, store.write_table(table, _table(name), processed, run_id), table.num_rows)
                counts[name] += table.num_rows
            if r % max(1, runs // 10) == 0:
                print(f"  run {r + 1}/{runs}: {counts['mentions']:,} mentions so far "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
    counts |= generate_clusters(tx, processed)
    tx.commit()
    return {"rows": counts, "generate_seconds": round(time.perf_counter() - started, 1)}


def generate_clusters(tx: snapshot.Transaction, processed: Path) -> dict[str, int]:
    """Event clusters over the generated events, as flows/clusters.py stores them: about three reports a
    cluster (events grouped by a hash of their id: the query's work, not the clustering's, is measured
    here; bench/cluster_scale.py times the clustering), one event_cluster_members row per event and
    one event_cluster_revisions row per cluster (its date, trigger, actors, sentence, counts) and one
    actor_clusters row per actor of each."""
    events = [str(p) for p in tx.paths(EVENTS.name)]
    members_path = store.table_dir(processed, store.CLUSTER_MEMBERS) / "generated.parquet"
    revisions_path = store.table_dir(processed, store.CLUSTER_REVISIONS) / "generated.parquet"
    with duckdb.connect() as con:
        n = con.sql("select count(*) from read_parquet($f)", params={"f": events}).fetchall()[0][0]
        con.execute("""create temp table m as
            select e.event_id, 'cluster' || (hash(e.event_id) % $n)::varchar as cluster_id, e.article_id,
                   e.content_hash, 1::bigint as revision, e.event_date, e.date_precision, e.trigger, e.actor_ids,
                   e.sentence, e.date_basis, e.sentence_id, a.url, a.title, coalesce(a.site_name, a.domain) as site,
                   a.published_at, c.actors as context
            from read_parquet($f) as e
            join read_parquet($a, union_by_name = true) as a using (article_id, content_hash)
            join (select article_id, content_hash, list_distinct(flatten(list(actor_ids))) as actors
                  from read_parquet($f) group by all) as c using (article_id, content_hash)""",
                    {"f": events, "a": [str(p) for p in tx.paths(ARTICLES.name)], "n": max(1, n // 3)})
        members = store.write_sorted(con, "select event_id, cluster_id, article_id, content_hash, revision from m "
                                     "order by event_id", None, members_path, store.CLUSTER_MEMBERS.schema)
        columns = []
        for field in store.CLUSTER_REVISIONS.schema:
            made = {"revision": "1::bigint", "event_date": "min(event_date)", "date_precision": "min(date_precision)",
                    "date_min": "min(event_date)", "date_max": "max(event_date)", "trigger": "min(trigger)",
                    "actor_ids": "list_distinct(flatten(list(actor_ids)))", "negated": "false",
                    "sentence": "arg_min(sentence, event_id)", "event_id": "min(event_id)",
                    "first_article_id": "min(article_id)",
                    "first_url": "'https://www.site.example/' || min(article_id)", "reports": "count(*)",
                    "articles": "count(distinct article_id)", "sites": "count(distinct article_id)",
                    "site_names": "[]::varchar[]", "article_ids": "list(distinct article_id)",
                    "triggers": "list_distinct(list(trigger))", "best": "1.0::double",
                    "trigger_counts": "list_transform(list_distinct(list(trigger)), lambda t: 1)",
                    "actor_counts": "list_transform(list_distinct(flatten(list(actor_ids))), lambda a: 1)",
                    "words": "[]::varchar[]", "word_counts": "[]::bigint[]", "places": "[]::varchar[]",
                    "place_counts": "[]::bigint[]", "when_start": "min(event_date)",
                    "when_end": "min(event_date)",
                    # the actors of its articles (transforms.clusters.in_context), 8 kept
                    "context_ids": "list_distinct(flatten(list(context)))[1:8]",
                    "context_counts": "list_transform(list_distinct(flatten(list(context)))[1:8], lambda a: 1)",
                    # the representative report (the cluster's event_id): what the timeline shows of it
                    **{f"report_{c}": f"arg_min({c}, event_id)" for c in ("trigger", "url", "title", "site",
                                                                          "date_basis", "published_at",
                                                                          "sentence_id")}}.get(field.name)
            columns.append(f"{made or 'null'}::{_duck_type(field.type)} as {field.name}" if field.name != "cluster_id"
                           else "cluster_id")
        revisions = store.write_sorted(con, f"select {', '.join(columns)} from m group by cluster_id "
                                       "order by cluster_id", None, revisions_path, store.CLUSTER_REVISIONS.schema)
        by_actor_path = store.table_dir(processed, store.ACTOR_CLUSTERS) / "generated.parquet"
        names = ", ".join(store.ACTOR_CLUSTERS.schema.names[1:])
        by_actor = store.write_sorted(con, f"select actor_id, {names} from (select *, unnest(actor_ids) as actor_id "
                                      f"from read_parquet($f)) order by actor_id, cluster_id",
                                      {"f": [str(revisions_path)]}, by_actor_path, store.ACTOR_CLUSTERS.schema,
                                      derived.DERIVED_ROW_GROUP_SIZE)
    tx.add(store.CLUSTER_MEMBERS.name, [members_path], members)
    tx.add(store.CLUSTER_REVISIONS.name, [revisions_path], revisions)
    tx.add(store.ACTOR_CLUSTERS.name, [by_actor_path], by_actor)
    return {"event_cluster_members": members, "event_cluster_revisions": revisions, "actor_clusters": by_actor}


def _duck_type(arrow: pa.DataType) -> str:
    if pa.types.is_list(arrow):
        return _duck_type(arrow.value_type) + "[]"
    return {pa.string(): "varchar", pa.int64(): "bigint", pa.date32(): "date", pa.bool_(): "boolean",
            pa.float64(): "double"}.get(arrow, "timestamptz")


def later_runs(data: Path, runs: range, size: int, revised: int, total: int, mentions: int, actors: int,
               events_per_article: float) -> list[dict[str, Any]]:
    """Runs (numbered ``runs``) after the compaction, loaded as the pipeline loads a run (pipeline.load_run without
    story grouping: the generator assigns groups): each stages ``size`` new articles and new versions of
    ``revised`` stored ones, moves them into the tables (store.load_staged) and adds its rows to the
    derived tables (derived.refresh_derived), all in one transaction, then commits it (the snapshot manifest,
    written and renamed) and opens a connection on the new snapshot. Returns the seconds of each step per run."""
    processed = data / "processed"
    timings = []
    with duckdb.connect() as con:
        setup_generator(con, actors)
        calibrate(con, total, mentions, actors)
        for r in runs:
            run_id = f"later-{r:03d}"
            new = generate_run(con, total + r * size, total + (r + 1) * size, total, actors, events_per_article,
                               run_id)
            old_lo = (r * 7919 * revised) % max(total - revised, 1)  # stored articles spread over the corpus
            revisions = generate_run(con, old_lo, old_lo + revised, total, actors, events_per_article, run_id,
                                     revision=f"-{run_id}")
            for name in new:
                store.write_parquet(pa.concat_tables([new[name], revisions[name]]),
                                    store.staging_dir(processed, run_id) / name / "generated.parquet")
            t0 = time.perf_counter()
            tx = store.begin(processed, data / "raw", "run", run_id)
            for table in (ARTICLES, ARTICLE_ACTORS, MENTIONS, EVENTS, DEDUP):
                store.load_staged(processed, run_id, table, tx=tx)
            t1 = time.perf_counter()
            clustered = cluster_run(tx)  # the run's events into the stored clusters, as the pipeline's load
            t2c = time.perf_counter()
            done = derived.refresh_derived(tx)
            t2 = time.perf_counter()
            tx.commit()
            t3 = time.perf_counter()
            store.connect(processed, data / "raw").close()  # a reader's views over the new snapshot's file lists
            t4 = time.perf_counter()
            store.drop_staging(processed, run_id)
            timings.append({"run": run_id, "load_seconds": round(t1 - t0, 2), "derived_seconds": round(t2 - t2c, 2),
                            "derived": done, "clustered_events": clustered, "cluster_seconds": round(t2c - t1, 2),
                            "commit_seconds": round(t3 - t2, 3),
                            "connect_seconds": round(t4 - t3, 3)})
            print(f"  run {run_id}: {size:,} new articles, {revised} new versions: load {t1 - t0:.1f} s, "
                  f"{clustered:,} events clustered in {t2c - t1:.1f} s, derived tables {done} in {t2 - t2c:.1f} s, "
                  f"commit {t3 - t2:.3f} s, a reader's connect "
                  f"{t4 - t3:.3f} s", flush=True)
    return timings


def _table(name: str) -> Table:
    return {t.name: t for t in (ARTICLES, ARTICLE_ACTORS, MENTIONS, EVENTS, DEDUP)}[name]


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


# --- timing -------------------------------------------------------------------------------------

def actor_name(con: duckdb.DuckDBPyConnection, rank: int) -> str:
    """The name of the actor of a Zipf rank (its most used name, as `dateline actors` shows it)."""
    return str(con.execute("select name from actor where rank = $rank", {"rank": rank}).fetchall()[0][0])


class _Discard(io.TextIOBase):
    """A text stream that keeps nothing: the formatting is timed, not the terminal."""

    def write(self, text: str) -> int:
        return len(text)


def run_timeline(con: duckdb.DuckDBPyConnection, actor: str) -> int:
    """What `dateline timeline ACTOR` reads: the actor check, then the timeline, every row fetched as
    the Arrow batches it prints from."""
    return sum(batch.num_rows for batch in timeline_batches(con, actor))


def run_timeline_csv(con: duckdb.DuckDBPyConnection, actor: str) -> int:
    """All `dateline timeline ACTOR --format csv` does once connected: the rows read and written as csv."""
    return write_batches(_Discard(), timeline_batches(con, actor), "csv")


def run_volume(con: duckdb.DuckDBPyConnection, actor: str) -> int:
    """sql/mention_volume.sql per week, every row fetched (as `dateline query mention_volume` does)."""
    reader = query_batches(con, store.read_query("mention_volume"), {"actor": actor, "interval": "week"})
    assert reader is not None
    return sum(batch.num_rows for batch in reader)


QUERIES = {"timeline": run_timeline, "volume_week": run_volume, "timeline_csv": run_timeline_csv}


def measure(data: Path, names: dict[str, str], repeat: int, *, computed: bool = False) -> dict[str, Any]:
    """Per case and query: a cold run on a fresh connection, then ``repeat`` warm runs (ms).

    ``computed``: with the derived tables' views put back to computing from the tables (as they are
    between a run and the next `dateline compact`)."""
    results: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    for case, actor in names.items():
        for query, fn in QUERIES.items():
            with store.connect(data / "processed", data / "raw") as con:
                if computed:
                    for table in derived.DERIVED_TABLES:
                        con.execute(f"create or replace view {table.name} as "
                                    f"select * from dateline_internal.{table.name}_computed")
                t0 = time.perf_counter()
                rows = fn(con, actor)
                cold = (time.perf_counter() - t0) * 1000
                warm = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    fn(con, actor)
                    warm.append((time.perf_counter() - t0) * 1000)
            warm.sort()
            result = {"actor": actor, "rows": rows, "cold_ms": round(cold, 1),
                      "median_ms": round(statistics.median(warm), 1),
                      "p90_ms": round(warm[min(len(warm) - 1, int(0.9 * len(warm)))], 1),
                      "warm_ms": [round(w, 1) for w in warm]}
            results[f"{case}/{query}"] = result
            print(f"  {case:8} {query:12} {actor!r:22} rows {rows:>7,}  cold {cold:8.1f} ms  "
                  f"median {result['median_ms']:8.1f} ms  p90 {result['p90_ms']:8.1f} ms", flush=True)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    worst = max(r["median_ms"] for k, r in results.items() if k.endswith(("/timeline", "/volume_week")))
    results["target_met"] = worst <= TARGET_MS
    print(f"  target (timeline and weekly volume, median at most {TARGET_MS} ms warm): "
          f"{'met' if worst <= TARGET_MS else 'MISSED'}, slowest median {worst} ms", flush=True)
    print(f"  (load average {results['load_average_before'][0]} before, {results['load_average_after'][0]} after: "
          f"the machine is shared)", flush=True)
    return results


def corpus_summary(data: Path) -> dict[str, Any]:
    processed = data / "processed"
    tables = (*derived.DERIVED_TABLES, derived.SUPERSEDED)
    snap = snapshot.current(processed)
    return {"bytes": _size(processed), "derived_bytes": sum(_size(derived.derived_dir(processed, d)) for d in tables),
            "files": sum(len(files) for files in snap.tables.values()) if snap else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--mentions", type=int, default=20_000_000)
    parser.add_argument("--events", type=int, help="events to generate (default: articles * 5)")
    parser.add_argument("--actors", type=int, help="distinct actors (default: articles / 5)")
    parser.add_argument("--runs", type=int, default=100, help="pipeline runs the corpus arrives in")
    parser.add_argument("--repeat", type=int, default=10, help="warm runs per query")
    parser.add_argument("--loaded", action="store_true",
                        help="also measure the runs' files as loaded, before compacting (slow: seconds a query)")
    parser.add_argument("--computed", action="store_true",
                        help="also measure the compacted files without the derived tables (as between a run and "
                             "the next compact)")
    parser.add_argument("--later-runs", type=int, default=3,
                        help="runs to load after the compaction, then measure again (0: none)")
    parser.add_argument("--later-size", type=int, default=1000, help="new articles per later run")
    parser.add_argument("--keep", type=Path, help="data dir to generate into and keep (reused if generated)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    for name in ("articles", "mentions", "runs", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    events = args.events or args.articles * 5
    actors = args.actors or max(100, args.articles // 5)

    data = args.keep or Path(tempfile.mkdtemp(prefix="dateline-duckdb-scale-"))
    manifest = data / MANIFEST
    wanted = {"articles": args.articles, "mentions": args.mentions, "events": events, "actors": actors,
              "runs": args.runs}
    report: dict[str, Any] = {}
    try:
        corpus = json.loads(manifest.read_text()) if manifest.exists() else {}
        if {k: corpus.get(k) for k in wanted} != wanted:
            if (data / "processed").exists():
                shutil.rmtree(data / "processed")
            print(f"generating {args.articles:,} articles, ~{args.mentions:,} mentions, ~{events:,} events, "
                  f"{actors:,} actors in {args.runs} runs under {data}", flush=True)
            corpus = wanted | generate(data, args.articles, args.mentions, events, actors, args.runs)
            corpus["loaded"] = corpus_summary(data)
            manifest.write_text(json.dumps(corpus, indent=2))
        else:
            print(f"reusing the corpus in {data}")
        with duckdb.connect() as con:
            setup_generator(con, actors)
            names = {case: actor_name(con, min(rank * actors // 200_000, actors - 1)) for case, rank in CASES.items()}
        print(f"generated {corpus['rows']} in {corpus['generate_seconds']} s")
        if "compact_seconds" not in corpus:
            loaded = corpus["loaded"]
            print(f"as loaded: {loaded['bytes'] / 1e9:.2f} GB in {loaded['files']} files", flush=True)
            if args.loaded:
                report["loaded"] = measure(data, names, args.repeat)
            t0 = time.perf_counter()
            store.compact(data / "processed", data / "raw")
            store.collect_garbage(data / "processed", data / "raw", retention=0)  # the runs' files: not kept
            corpus["compact_seconds"] = round(time.perf_counter() - t0, 1)
            corpus["compacted"] = corpus_summary(data)
            manifest.write_text(json.dumps(corpus, indent=2))
        compacted = corpus["compacted"]
        print(f"compacted (`dateline compact`) in {corpus['compact_seconds']} s: {compacted['bytes'] / 1e9:.2f} GB "
              f"in {compacted['files']} files, of which derived tables {compacted['derived_bytes'] / 1e9:.2f} GB",
              flush=True)
        report["compacted"] = measure(data, names, args.repeat)
        if args.later_runs:
            print(f"{args.later_runs} runs after the compaction, {args.later_size:,} new articles and "
                  f"{args.later_size // 10:,} new versions each:", flush=True)
            done = corpus.get("later_runs_loaded", 0)  # a kept corpus: its later runs so far
            report["later_runs"] = later_runs(data, range(done, done + args.later_runs), args.later_size,
                                              args.later_size // 10, args.articles, args.mentions, actors,
                                              events / args.articles)
            corpus["later_runs_loaded"] = done + args.later_runs
            # kept, the corpus is no longer the compacted one: the next use compacts it again
            manifest.write_text(json.dumps({k: v for k, v in corpus.items() if k not in ("compact_seconds",
                                                                                          "compacted")}, indent=2))
            print(f"after those runs (derived tables and {args.later_runs} deltas each):", flush=True)
            report["after_runs"] = measure(data, names, args.repeat)
        if args.computed:
            print("compacted, without the derived tables:", flush=True)
            report["computed"] = measure(data, names, args.repeat, computed=True)
    finally:
        if args.keep is None:
            shutil.rmtree(data, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"corpus": corpus, "machine": {"cpus": os.cpu_count()}, **report}, indent=2)
                           + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
