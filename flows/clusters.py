"""Event clusters in the store: a run's new events assigned to the stored clusters (transforms/clusters.py).

Called by the load (flows/pipeline.py, ``load_run``) inside the run's transaction, so the clusters are
in the same snapshot as the events they group. The run's body events are read with their articles;
the stored clusters that share an actor with them (their latest revision) are the only ones read
back; each event joins one or opens a new cluster, in :func:`transforms.clusters.order_key` order.
The run writes one file per table: every cluster it touched, whole, as a new revision
(``event_cluster_revisions``; the view ``event_clusters`` keeps each cluster's latest), what the
timeline shows of it once per actor (``actor_clusters``, sorted by actor) and one
``event_cluster_members`` row per event. It runs before the derived tables, whose actor_events rows
take each event's cluster_id from the run's members. A rebuild starts both tables empty and replays every event
in the same order: when the runs came in fetch order, it gives the same clusters.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from dateline.flows import derived, storage, store
from dateline.flows.snapshot import Registered, Transaction
from dateline.transforms.clusters import (
    LATE_REPORT,
    Cluster,
    Clusterer,
    Report,
    Shown,
    in_context,
    lookups,
    report_site,
)
from dateline.transforms.schema import EVENTS

REVISIONS, MEMBERS, BY_ACTOR = store.CLUSTER_REVISIONS, store.CLUSTER_MEMBERS, store.ACTOR_CLUSTERS
log = logging.getLogger(__name__)

_RUN_EVENTS = """
select e.event_id, e.article_id, e.content_hash, e.sentence_id, e.trigger, e.actor_ids, e.event_date,
       e.date_precision, e.date_basis, e.place, e.negated, e.sentence, e.clause, a.url, a.title, a.domain,
       a.site_name, a.published_at, a.fetched_at, a.language
from read_parquet($events, union_by_name = true) as e
join articles as a using (article_id, content_hash)
where e.text_source = 'body'
"""
# The latest revision of each stored cluster a run's report can join: one in an (actor, trigger, month)
# block the report looks in (transforms.clusters.lookups; a cluster is found under each of its actors
# and its context's actors and each of its triggers, "" standing for reports without one, in the months
# of its own date and of its reports' days, each extended by $late days: Cluster.blocks), or with no
# date at all; a report with no date looks at every cluster of its actors and trigger. A cluster's
# actors, triggers and spans only grow (its context keeps the actors named most), and its latest revision
# is the one to test, as in a pass over every event. {revisions}:
# the table (a view, or read_parquet).
CANDIDATES = """
with run_actors as (
    select distinct unnest($actors) as actor
),
named as (  -- a cluster's actors and its context's (none in rows written before clusters kept a context)
    select cluster_id, revision, list_distinct(list_concat(actor_ids, coalesce(context_ids, []::varchar[])))
               as actors, triggers, trigger_counts, reports, when_start, when_end, reported_start, reported_end
    from {revisions}
),
narrow as (  -- the latest revision of the clusters of the run's actors, only the columns that find them
    select * from named
    where cluster_id in (select r.cluster_id from (select cluster_id, unnest(actors) as actor from named) as r
                         join run_actors using (actor))
    qualify row_number() over (partition by cluster_id order by revision desc) = 1
),
keys as (
    select cluster_id, when_start, when_end, reported_start, reported_end, actor, unnest(trigger_list) as trigger
    from (select cluster_id, when_start, when_end, reported_start, reported_end, unnest(actors) as actor,
                 if(reports > coalesce(list_sum(trigger_counts), 0), list_append(triggers, ''), triggers)
                     as trigger_list
          from narrow)
),
wanted as (
    select distinct unnest($key_actors) as actor, unnest($key_triggers) as trigger,
           unnest($key_months)::date as month
),
spans as (
    select cluster_id, actor, trigger, when_start as start, when_end + $late as stop from keys
    where when_start is not null and (actor, trigger) in (select (actor, trigger) from wanted)
    union all
    select cluster_id, actor, trigger, reported_start, reported_end + $late from keys
    where reported_start is not null and (actor, trigger) in (select (actor, trigger) from wanted)
),
blocks as (
    select cluster_id, actor, trigger,
           unnest(generate_series(date_trunc('month', start), date_trunc('month', stop), interval 1 month))::date
               as month
    from spans
),
found as (
    select b.cluster_id from blocks as b join wanted as w using (actor, trigger, month)
    union
    select cluster_id from keys where when_start is null and reported_start is null
                                  and (actor, trigger) in (select (actor, trigger) from wanted)
    union
    select k.cluster_id from keys as k
    join (select unnest($any_actors) as actor, unnest($any_triggers) as trigger) as a using (actor, trigger)
)
select * from {revisions}
where cluster_id in (select cluster_id from found)
qualify row_number() over (partition by cluster_id order by revision desc) = 1
"""


def candidate_params(reports: list[Report]) -> dict[str, Any]:
    """The parameters of CANDIDATES for a run's reports: the (actor, trigger, month) blocks they look in
    (Clusterer.candidates), and the (actor, trigger) of reports with no date at all (no month bound)."""
    keys: set[tuple[str, str, date]] = set()
    any_date: set[tuple[str, str]] = set()
    for r in reports:
        for actor, trigger, block in lookups(r):  # the undated block (None): the query's undated clusters
            if block == "*":
                any_date.add((actor, trigger))
            elif isinstance(block, tuple):
                keys.add((actor, trigger, date(*block, 1)))
    ordered = sorted(keys, key=lambda k: (k[0], k[1], str(k[2])))
    return {"actors": sorted({a for a, _, _ in keys} | {a for a, _ in any_date}),
            "key_actors": [k[0] for k in ordered], "key_triggers": [k[1] for k in ordered],
            "key_months": [k[2] for k in ordered], "any_actors": [a for a, _ in sorted(any_date)],
            "any_triggers": [t for _, t in sorted(any_date)], "late": timedelta(days=LATE_REPORT)}


# the events (sentence and trigger) the run's articles told in earlier versions, and their clusters
_TOLD = """
select e.article_id, e.sentence, coalesce(e.trigger, ''), m.cluster_id
from event_cluster_members as m
join events as e on e.event_id = m.event_id
where m.article_id in (select unnest($articles)) and e.article_id in (select unnest($articles))
"""


def _report(row: dict[str, Any]) -> Report:
    domain, site_name = row.pop("domain"), row.pop("site_name")
    row.pop("content_hash")
    return Report.of(**row, site=report_site(domain, site_name), site_name=site_name or domain)


def cluster_run(tx: Transaction) -> int:
    """Assign the transaction's new events to event clusters and add the cluster tables' files to ``tx``;
    returns how many events were assigned."""
    events = [str(p) for p in tx.new.get(EVENTS.name, [])]
    if not events:
        return 0
    with store._working_connection(tx) as con:
        rows = con.sql(_RUN_EVENTS, params={"events": events}).to_arrow_table().to_pylist()
        versions = {r["event_id"]: (r["article_id"], r["content_hash"]) for r in rows}
        reports = in_context(_report(r) for r in rows)
        params = candidate_params(reports)
        stored = (con.sql(CANDIDATES.format(revisions="event_cluster_revisions"), params=params)
                  .to_arrow_table().to_pylist() if params["actors"] else [])
        articles = sorted({r.article_id for r in reports})
        told = {(a, s, t): c for a, s, t, c in con.sql(_TOLD, params={"articles": articles}).fetchall()}
        last = con.execute("select coalesce(max(revision), 0) from event_cluster_revisions").fetchone()
    revision = 1 + (last[0] if last else 0)  # a run's revisions come after every stored one
    clusterer = Clusterer((Cluster.from_row(r) for r in stored), told=told, reports=reports)
    assigned = clusterer.assign_all(reports)
    touched = sorted(clusterer.touched)
    revisions = [clusterer.clusters[c].as_row() | {"revision": revision} for c in touched]
    members = [{"event_id": e, "cluster_id": c, "article_id": versions[e][0], "content_hash": versions[e][1],
                "revision": revision} for e, c in sorted(assigned.items())]
    by_actor = sorted(({"actor_id": a} | {k: row[k] for k in BY_ACTOR.schema.names if k in row}
                       for row in revisions for a in row["actor_ids"]), key=lambda r: (r["actor_id"], r["cluster_id"]))
    name = f"run-{tx.run_id or uuid.uuid4().hex[:12]}.parquet"
    for table, data in ((REVISIONS, revisions), (MEMBERS, members), (BY_ACTOR, by_actor)):
        if data:
            path = store.table_dir(tx.processed, table) / name
            tx.add(table.name, [store.write_parquet(pa.Table.from_pylist(data, schema=table.schema), path,
                                                    _row_group_size(table))])
    if _older(tx.paths(BY_ACTOR.name)[:1])[0]:  # the oldest file tells: later ones were written with the columns
        log.info("event clusters: giving the stored clusters their representative report's columns (once)")
        compact_clusters(tx)
    return len(assigned)


def _row_group_size(table: Registered) -> int:
    """actor_clusters in small row groups, as the derived actor tables: the timeline prunes them by actor."""
    return derived.DERIVED_ROW_GROUP_SIZE if table is BY_ACTOR else store.ROW_GROUP_SIZE


# the representative report's Shown columns (transforms.clusters.Shown), looked up by its event id, for
# cluster rows written before the clusters kept them
_SHOWN_OF_EVENT = """
select e.event_id as shown_event_id, e.trigger as report_trigger, a.url as report_url, a.title as report_title,
       coalesce(a.site_name, a.domain) as report_site, e.date_basis as report_date_basis,
       a.published_at as report_published_at, e.sentence_id as report_sentence_id
from events as e
join articles as a using (article_id, content_hash)
"""


def compact_clusters(tx: Transaction) -> None:
    """Merge the cluster tables' files: each cluster's latest revision only (per actor in actor_clusters,
    sorted by actor), members sorted by event. Files written before the clusters kept their representative
    report's columns get them from its event, even a table's only file (the timeline reads them)."""
    for table, key in ((REVISIONS, "cluster_id"), (MEMBERS, "event_id"), (BY_ACTOR, "actor_id, cluster_id")):
        files = tx.paths(table.name)
        older, missing = (False, []) if table is MEMBERS else _older(files)
        if len(files) < 2 and not older:
            continue
        columns = ", ".join(["*", *(f"null as {c}" for c in missing)])
        sql = f"select {columns} from read_parquet($files, union_by_name = true)"
        if table is not MEMBERS:
            sql += f" qualify row_number() over (partition by {key} order by revision desc) = 1"
        if older:
            filled = ", ".join(f"coalesce(t.{c}, s.{c}) as {c}" if c in Shown.COLUMNS else f"t.{c}"
                               for c in table.schema.names)
            sql = (f"select {filled} from ({sql}) as t left join ({_SHOWN_OF_EVENT}) as s "
                   "on t.report_url is null and s.shown_event_id = t.event_id")
        path = store.table_dir(tx.processed, table) / f"compact-{uuid.uuid4().hex[:12]}.parquet"
        with store._working_connection(tx) if older else duckdb.connect() as con:
            store.write_sorted(con, f"{sql} order by {key}", {"files": [str(p) for p in files]}, path, table.schema,
                               _row_group_size(table))
        tx.replace(table.name, [path], old=files)


def _older(files: list[Any]) -> tuple[bool, list[str]]:
    """Whether some of a cluster table's files lack the Shown columns (files of older versions), and the
    Shown columns none of them has (the select makes those)."""
    schemas = [set(storage.read_schema(f).names) for f in files]
    present = set().union(*schemas)
    return (any(Shown.COLUMNS[0] not in names for names in schemas),
            [c for c in Shown.COLUMNS if c not in present])
