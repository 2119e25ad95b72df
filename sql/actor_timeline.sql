-- Q: What happened with $actor, in date order: each real-world event once, with how often it was reported?
-- Params: $actor (name or alias, any case), $since, $until (ISO dates; '' for no bound), $about (word in a report's sentence; '' for any).  Returns: event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id, reports, sites, date_min, date_max, first_url, cluster_id
-- actor_events has a row per actor of each event of a current article version (sql/views.sql);
-- the actor's ids go in as a list, so DuckDB filters that table's scan by them (its files are
-- sorted by actor_id: only the actor's row groups are read, in it and in actor_clusters). Reports of
-- one event across articles share a cluster (its cluster_id; flows/clusters.py): the event is shown once, by its cluster's
-- representative sentence and the date its reports agree on, with the count of reports and sites
-- (date_min and date_max: the spread of the dates they gave). An event with no cluster (stored before
-- clusters existed) counts its story's copies (same dup_group and sentence) as its reports.
with actor as (
    select actor_id from actor_named($actor)
),
hits as (
    select e.*
    from actor_events as e
    where e.actor_id in (select unnest((select list(actor_id) from actor)))
),
clusters as (  -- the latest revision of each of the actor's clusters (actor_clusters is sorted by actor);
               -- an aggregate, not a window: DuckDB would fetch a window's other columns by row number,
               -- which after a run spans the files' row groups and reads all of them
    select cluster_id, unnest(latest)
    from (select cluster_id,
                 arg_max(struct_pack(event_date, date_precision, sentence, event_id, reports, sites, date_min,
                                     date_max, first_url), revision) as latest
          from actor_clusters
          where actor_id in (select unnest((select list(actor_id) from actor)))
          group by cluster_id)
),
told as (
    select h.*, coalesce(h.cluster_id, h.story || chr(31) || h.sentence) as told_as,
           c.event_date as cluster_date, c.date_precision as cluster_precision, c.sentence as cluster_sentence,
           c.event_id as cluster_event, c.reports as cluster_reports, c.sites as cluster_sites,
           c.date_min, c.date_max, c.first_url
    from hits as h
    left join clusters as c using (cluster_id)
),
events as (  -- one row per told_as: the cluster's representative report when the actor's rows hold it,
             -- else the earliest report; with the story's counts for an event without a cluster.
             -- The aggregate picks the row's key only (a whole row in arg_min copies every sentence)
    select arg_min(struct_pack(event_id := t.event_id, actor_id := t.actor_id),
                   (t.event_id is distinct from t.cluster_event, t.published_at is null, t.published_at,
                    t.article_id, t.event_id)) as pick,
           count(distinct t.article_id) as story_reports,
           count(distinct t.site) as story_sites,
           bool_or($about = '' or t.sentence ilike '%' || $about || '%') as about
    from told as t
    group by t.told_as
),
shown as (
    select e.*, p.story_reports, p.story_sites
    from events as p
    join told as e on e.event_id = p.pick.event_id and e.actor_id = p.pick.actor_id
    where p.about
)
select coalesce(e.cluster_date, e.event_date)          as event_date,
       coalesce(e.cluster_precision, e.date_precision) as date_precision,
       e.date_basis,
       e.trigger,
       coalesce(e.cluster_sentence, e.sentence)        as sentence,
       e.url,
       e.title,
       e.site,
       e.event_id,
       coalesce(e.cluster_reports, e.story_reports)    as reports,
       coalesce(e.cluster_sites, e.story_sites)        as sites,
       coalesce(e.date_min, e.event_date)              as date_min,
       coalesce(e.date_max, e.event_date)              as date_max,
       coalesce(e.first_url, e.url)                    as first_url,
       e.cluster_id
from shown as e
where ($since = '' or coalesce(e.cluster_date, e.event_date) >= nullif($since, '')::date)
  and ($until = '' or coalesce(e.cluster_date, e.event_date) <= nullif($until, '')::date)
order by 1 nulls last, e.published_at nulls last, e.sentence_id, e.event_id;
