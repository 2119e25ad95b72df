-- Q: How often was $actor mentioned per $interval, as a share of all mentions then (GDELT-style timeline volume)?
-- Params: $actor (name or alias, any case), $interval (day, week or month).  Returns: period, mentions, articles, stories, share
-- Periods are cut from UTC publication days (actor_volume, mention_days in sql/views.sql): the
-- same periods as from the timestamps, as every period boundary falls on a UTC midnight.
with actor as (
    select actor_id from actor_named($actor)
),
actor_periods as (
    select date_trunc($interval, day)::date  as period,
           sum(mentions)::bigint             as mentions,
           count(distinct article_id)        as articles,
           count(distinct story)             as stories
    from actor_volume
    where actor_id in (select unnest((select list(actor_id) from actor)))
    group by period
),
all_periods as (
    select date_trunc($interval, day)::date  as period,
           sum(mentions)::bigint             as all_mentions
    from mention_days
    group by period
)
-- every period with any mention, zero where the actor had none (as GDELT's timelines do)
select p.period,
       coalesce(a.mentions, 0)                        as mentions,
       coalesce(a.articles, 0)                        as articles,
       coalesce(a.stories, 0)                         as stories,
       round(coalesce(a.mentions, 0) / p.all_mentions, 4)  as share
from all_periods as p
left join actor_periods as a using (period)
where exists (select 1 from actor)
order by p.period;
