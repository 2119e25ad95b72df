-- Q: What happened with $actor, in date order (a wire story carried by many sites counted once)?
-- Params: $actor (name or alias, any case), $since, $until (ISO dates; '' for no bound), $about (word in the sentence; '' for any).  Returns: event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id
-- actor_events has a row per actor of each event of a current article version (sql/views.sql);
-- the actor's ids go in as a list, so DuckDB filters that table's scan by them (its files are
-- sorted by actor_id: only the actor's row groups are read)
with actor as (
    select actor_id from actor_named($actor)
)
select e.event_date,
       e.date_precision,
       e.date_basis,
       e.trigger,
       e.sentence,
       e.url,
       e.title,
       e.site,
       e.event_id
from actor_events as e
where e.actor_id in (select unnest((select list(actor_id) from actor)))
  and ($since = '' or e.event_date >= nullif($since, '')::date)
  and ($until = '' or e.event_date <= nullif($until, '')::date)
  and ($about = '' or e.sentence ilike '%' || $about || '%')
-- copies of one story (same dup_group) tell the same sentence once: keep the earliest article's
-- (an event naming two of the actor's ids comes twice: both copies fall in one partition)
qualify row_number() over (partition by e.story, e.sentence
                           order by e.published_at nulls last, e.article_id) = 1
order by e.event_date nulls last, e.published_at nulls last, e.sentence_id, e.event_id;
