-- Q: What happened with $actor, in date order: each real-world event once, with how often it was reported?
-- Params: $actor (name or alias, any case), $since, $until (ISO dates; '' for no bound), $about (word in a report's sentence; '' for any).  Returns: event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id, reports, sites, date_min, date_max, first_url, cluster_id
-- actor_events has a row per actor of each event of a current article version (sql/views.sql);
-- the actor's ids go in as a list, so DuckDB filters that table's scan by them (its files are
-- sorted by actor_id: only the actor's row groups are read). Reports of one event across articles
-- share a cluster (event_clusters, flows/clusters.py): the event is shown once, by its cluster's
-- representative sentence and the date its reports agree on, with the count of reports and sites
-- (date_min and date_max: the spread of the dates they gave). An event with no cluster (stored before
-- clusters existed) counts its story's copies (same dup_group and sentence) as its reports.
with actor as (
    select actor_id from actor_named($actor)
),
hits as (
    select e.*, m.cluster_id
    from actor_events as e
    left join event_cluster_members as m using (event_id)
    where e.actor_id in (select unnest((select list(actor_id) from actor)))
),
told as (
    select h.*, coalesce(h.cluster_id, h.story || chr(31) || h.sentence) as told_as,
           c.event_date as cluster_date, c.date_precision as cluster_precision, c.sentence as cluster_sentence,
           c.event_id as cluster_event, c.reports as cluster_reports, c.sites as cluster_sites,
           c.date_min, c.date_max, c.first_url
    from hits as h
    left join event_clusters as c using (cluster_id)
),
events as (
    select *,
           count(distinct article_id) over (partition by told_as) as story_reports,
           count(distinct site) over (partition by told_as) as story_sites,
           bool_or($about = '' or sentence ilike '%' || $about || '%') over (partition by told_as) as about
    from told
    -- the cluster's representative report when the actor's rows hold it, else the earliest report
    qualify row_number() over (partition by told_as
                               order by event_id = cluster_event desc nulls last, published_at nulls last,
                                        article_id, event_id) = 1
)
select coalesce(cluster_date, event_date)           as event_date,
       coalesce(cluster_precision, date_precision)  as date_precision,
       date_basis,
       trigger,
       coalesce(cluster_sentence, sentence)         as sentence,
       url,
       title,
       site,
       event_id,
       coalesce(cluster_reports, story_reports)     as reports,
       coalesce(cluster_sites, story_sites)         as sites,
       coalesce(date_min, event_date)               as date_min,
       coalesce(date_max, event_date)               as date_max,
       coalesce(first_url, url)                     as first_url,
       cluster_id
from events
where about
  and ($since = '' or coalesce(cluster_date, event_date) >= nullif($since, '')::date)
  and ($until = '' or coalesce(cluster_date, event_date) <= nullif($until, '')::date)
order by 1 nulls last, published_at nulls last, sentence_id, event_id;
