-- Q: Which events mention $keyword?
-- Params: $keyword (word in the sentence, any case), $since, $until (ISO event dates; '' for no bound).  Returns: event_date, date_precision, trigger, actors, sentence, url
with hits as (
    select e.event_id, e.event_date, e.date_precision, e.trigger, e.actor_ids, e.sentence, e.sentence_id,
           c.url, c.published_at
    from events as e
    join articles_current as c
      on c.article_id = e.article_id and c.content_hash = e.content_hash
    where e.sentence ilike '%' || $keyword || '%'
      and ($since = '' or e.event_date >= nullif($since, '')::date)
      and ($until = '' or e.event_date <= nullif($until, '')::date)
),
named as (
    -- the actors' names, in the order the event lists them
    select x.event_id, list(a.name order by x.position)  as actors
    from (select event_id, unnest(actor_ids) as actor_id, generate_subscripts(actor_ids, 1) as position
          from hits) as x
    join actor_labels as a on a.actor_id = x.actor_id
    group by x.event_id
)
select h.event_date,
       h.date_precision,
       h.trigger,
       coalesce(n.actors, [])  as actors,
       h.sentence,
       h.url
from hits as h
left join named as n on n.event_id = h.event_id
order by h.event_date nulls last, h.published_at nulls last, h.sentence_id, h.event_id;
