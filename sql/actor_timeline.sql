-- Q: What happened with $actor, in date order: each real-world event once, with how often it was reported?
-- Params: $actor (name or alias, any case), $since, $until (ISO dates; '' for no bound), $about (word in a report's sentence; '' for any).  Returns: event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id, reports, sites, date_min, date_max, first_url, cluster_id
-- Reports of one event across articles share a cluster (its cluster_id; flows/clusters.py): the event is
-- shown once, by its cluster's representative report (its sentence, verb, article and site), the date its
-- reports agree on and the count of reports and sites (date_min and date_max: the spread of the dates they
-- gave). actor_clusters holds all of that, a row per actor of each cluster revision, sorted by actor: a
-- clustered event is read from that table alone (its latest revision), only the actor's row groups.
-- Events with no cluster (a caption's or a title's, or stored before clusters existed) come from
-- actor_events (a row per actor of each event of a current article version, sorted by actor too): the
-- copies of one story's sentence (same dup_group and sentence) count as its reports, the earliest shown.
-- The actor's ids go in as a list, so DuckDB filters both scans by them.
with actor as (
    select list(actor_id) as ids from actor_named($actor)
),
mine as (
    select * from actor_clusters where actor_id in (select unnest(ids) from actor)
),
clustered as (  -- the latest revision of each of the actor's clusters, once when two of its ids are in it
                -- (the smallest: a cluster's actors only grow, so its latest revision has them all). A join
                -- on the latest keys, not a window: DuckDB would fetch a window's other columns by row
                -- number, which after a run spans the files' row groups and reads all of them
    select m.*
    from mine as m
    join (select cluster_id, max(revision) as revision, min(actor_id) as actor_id
          from mine group by cluster_id) using (cluster_id, revision, actor_id)
),
mentioned as (  -- with $about: the clusters of which the actor has a report whose sentence has the word
    select distinct cluster_id
    from actor_events
    where $about <> '' and actor_id in (select unnest(ids) from actor) and sentence ilike '%' || $about || '%'
),
loose as (  -- the actor's events without a cluster: one row per story sentence, its earliest report
    select arg_min(struct_pack(event_date, date_precision, date_basis, trigger, sentence, url, title, site,
                               event_id, published_at, sentence_id),
                   (published_at is null, published_at, article_id, event_id)) as pick,
           count(distinct article_id) as reports,
           count(distinct site) as sites,
           bool_or($about = '' or sentence ilike '%' || $about || '%') as about
    from actor_events
    where actor_id in (select unnest(ids) from actor) and cluster_id is null
    group by story, sentence
),
shown as (
    select c.event_date, c.date_precision, c.report_date_basis as date_basis,
           coalesce(c.report_trigger, c.trigger) as trigger, c.sentence,
           coalesce(c.report_url, c.first_url) as url,  -- (rows written before the report columns: the first report's)
           c.report_title as title, c.report_site as site, c.event_id, c.reports, c.sites,
           coalesce(c.date_min, c.event_date) as date_min, coalesce(c.date_max, c.event_date) as date_max,
           c.first_url, c.cluster_id, c.report_published_at as published_at, c.report_sentence_id as sentence_id
    from clustered as c
    where $about = '' or c.cluster_id in (select cluster_id from mentioned)
    union all
    select l.pick.event_date, l.pick.date_precision, l.pick.date_basis, l.pick.trigger, l.pick.sentence, l.pick.url,
           l.pick.title, l.pick.site, l.pick.event_id, l.reports, l.sites, l.pick.event_date, l.pick.event_date,
           l.pick.url, null, l.pick.published_at, l.pick.sentence_id
    from loose as l
    where l.about
)
select event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id, reports, sites,
       date_min, date_max, first_url, cluster_id
from shown
where ($since = '' or event_date >= nullif($since, '')::date)
  and ($until = '' or event_date <= nullif($until, '')::date)
order by 1 nulls last, published_at nulls last, sentence_id, event_id;
