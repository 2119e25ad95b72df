-- One view per table. Each $-placeholder {name} is replaced by the list of that table's files in the snapshot the
-- connection pins (flows/store.py: render_views), never a glob: a reader sees one commit whole. A table
-- without files reads its empty _schema.parquet, so every view exists, with all its columns, before the
-- first run; union_by_name lets older files lack newer columns. Views an analyst does not need live in
-- the schema dateline_internal.
create schema if not exists dateline_internal;

create or replace view articles as
select *
from read_parquet(${articles},
                  hive_partitioning = true, hive_types = {'published_month': varchar},
                  union_by_name = true);

-- fingerprints and story groups: copies of one wire story on many sites share a dup_group
create or replace view dedup as
select * from read_parquet(${dedup}, union_by_name = true);

-- the latest fetched version of each article, with its story group (null until deduplicated)
create or replace view articles_current as
select a.*, d.dup_group
from articles as a
left join (select article_id, content_hash, dup_group from dedup) as d using (article_id, content_hash)
qualify row_number() over (partition by a.article_id order by a.fetched_at desc, a.content_hash) = 1;

-- images of every article version (join on article_id and content_hash)
create or replace view images as
select * from read_parquet(${images}, union_by_name = true);

create or replace view quarantine as
select * from read_parquet(${quarantine}, union_by_name = true);

create or replace view runs as
select * from read_parquet(${runs}, union_by_name = true);

-- every archived record: where its bytes are (warc_file under data/raw, warc_offset)
create or replace view raw_index as
select * from read_parquet(${raw_index}, union_by_name = true);

-- NLP tables: one row per actor mention, per actor per article, per event, per quotation
create or replace view mentions as
select * from read_parquet(${mentions}, union_by_name = true);

create or replace view article_actors as
select * from read_parquet(${article_actors}, union_by_name = true);

-- an actor's most used name and kind, as `actors` gives them: queries that need only these join
-- this (at 1M articles `actors` takes 1.3 s for its alias lists and distinct counts; this 0.2 s)
create or replace view actor_labels as
select actor_id, mode(name) as name, mode(kind) as kind
from article_actors
group by actor_id;

-- one row per actor across the corpus: its most used name, kind, every alias, counts
create or replace view actors as
select actor_id,
       mode(name)                                              as name,
       mode(kind)                                              as kind,
       list_sort(list_distinct(flatten(list(aliases || [name])))) as aliases,
       count(distinct article_id)                              as article_count,
       sum(mention_count)::bigint                              as mention_count
from article_actors
group by actor_id;

create or replace view events as
select * from read_parquet(${events}, union_by_name = true);

create or replace view quotes as
select * from read_parquet(${quotes}, union_by_name = true);

-- one row per real-world event, told by one or many reports (flows/clusters.py): the date the reports
-- agree on (date_min and date_max: the spread of what they said), the representative sentence and
-- event, the first report, and how many reports, articles and sites told it. Each cluster's latest
-- revision; event_cluster_members maps every event_id to its cluster_id.
create or replace view event_clusters as
select cluster_id, event_date, date_precision, date_min, date_max, trigger, actor_ids, place, negated, sentence,
       event_id, first_reported_at, first_article_id, first_url, reports, articles, sites, site_names
from read_parquet(${event_cluster_revisions}, union_by_name = true)
qualify row_number() over (partition by cluster_id order by revision desc) = 1;

create or replace view event_cluster_members as
select event_id, cluster_id, article_id, content_hash
from read_parquet(${event_cluster_members}, union_by_name = true);

-- Derived, actor-first tables for the per-actor queries: actor_names, actor_events, actor_volume and
-- mention_days, each defined here as dateline_internal.<name>_computed, from the tables. flows/store.py
-- stores them beside the tables, sorted by actor, in the same snapshot as the rows they derive from
-- (so they are never stale): when the snapshot holds them, store.connect makes <name> a view of the
-- stored rows; else (object storage) <name> stays, as here, a view of <name>_computed: the same rows.
-- every name and alias of every actor, lower-cased: key -> actor_id
create or replace view dateline_internal.actor_names_computed as
select distinct lower(n) as key, actor_id
from (select name as n, actor_id from article_actors
      union all
      select unnest(aliases) as n, actor_id from article_actors);

create or replace view actor_names as select * from dateline_internal.actor_names_computed;

-- the actors a name or alias stands for, in any case: select actor_id from actor_named('putin')
-- (the actors whose name or aliases in the actors view match: those hold every name and alias used)
create or replace macro actor_named(q) as table
select distinct actor_id from actor_names where key = lower(q);

-- one row per actor per event of a current article version: the event, its article, story group and
-- event cluster
create or replace view dateline_internal.actor_events_computed as
select a.actor_id, e.event_date, e.date_precision, e.date_basis, e.trigger, e.sentence, c.url, c.title,
       coalesce(c.site_name, c.domain) as site, e.event_id, e.sentence_id, c.published_at, c.article_id,
       c.content_hash, coalesce(c.dup_group, c.article_id) as story, m.cluster_id
from events as e
join articles_current as c on c.article_id = e.article_id and c.content_hash = e.content_hash
left join event_cluster_members as m on m.event_id = e.event_id
cross join unnest(e.actor_ids) as a(actor_id);

create or replace view actor_events as select * from dateline_internal.actor_events_computed;

-- mentions of current, dated article versions: per actor, UTC publication day and article
create or replace view dateline_internal.actor_volume_computed as
select m.actor_id, c.published_at::date as day, m.article_id, m.content_hash,
       coalesce(c.dup_group, c.article_id) as story, count(*) as mentions
from mentions as m
join articles_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
where c.published_at is not null
group by all;

create or replace view actor_volume as select * from dateline_internal.actor_volume_computed;

-- all mentions of current, dated article versions per UTC publication day
create or replace view dateline_internal.mention_days_computed as
select c.published_at::date as day, count(*) as mentions
from mentions as m
join articles_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
where c.published_at is not null
group by all;

create or replace view mention_days as select * from dateline_internal.mention_days_computed;
