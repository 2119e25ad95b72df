-- Q: How often was $actor mentioned per $interval, as a share of all mentions then (GDELT-style timeline volume)?
-- Params: $actor (name or alias, any case), $interval (day, week or month).  Returns: period, mentions, articles, stories, share
with actor as (
    select actor_id from actor_named($actor)
),
dated as (
    select date_trunc($interval, c.published_at)::date  as period,
           m.actor_id,
           m.article_id,
           coalesce(c.dup_group, c.article_id)          as story
    from mentions as m
    join articles_current as c
      on c.article_id = m.article_id and c.content_hash = m.content_hash
    where c.published_at is not null
),
volume as (
    select period,
           count(*) filter (where actor_id in (select actor_id from actor))                     as mentions,
           count(distinct article_id) filter (where actor_id in (select actor_id from actor))  as articles,
           count(distinct story) filter (where actor_id in (select actor_id from actor))       as stories,
           count(*)                                                                             as all_mentions
    from dated
    group by period
)
-- every period with any mention, zero where the actor had none (as GDELT's timelines do)
select period,
       mentions,
       articles,
       stories,
       round(mentions / all_mentions, 4)  as share
from volume
where exists (select 1 from actor)
order by period;
