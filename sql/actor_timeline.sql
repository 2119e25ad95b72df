-- Q: What happened with $actor, in date order (a wire story carried by many sites counted once)?
-- Params: $actor (name or alias, any case), $since, $until (ISO dates; '' for no bound), $about (word in the sentence; '' for any).  Returns: event_date, date_precision, date_basis, trigger, sentence, url, title, site, event_id
with actor as (
    select actor_id from actor_named($actor)
)
select e.event_date,
       e.date_precision,
       e.date_basis,
       e.trigger,
       e.sentence,
       c.url,
       c.title,
       coalesce(c.site_name, c.domain)  as site,
       e.event_id
from events as e
join articles_current as c
  on c.article_id = e.article_id and c.content_hash = e.content_hash
where exists (select 1 from actor where list_contains(e.actor_ids, actor.actor_id))
  and ($since = '' or e.event_date >= nullif($since, '')::date)
  and ($until = '' or e.event_date <= nullif($until, '')::date)
  and ($about = '' or e.sentence ilike '%' || $about || '%')
-- copies of one story (same dup_group) tell the same sentence once: keep the earliest article's
qualify row_number() over (partition by coalesce(c.dup_group, c.article_id), e.sentence
                           order by c.published_at nulls last, c.article_id) = 1
order by e.event_date nulls last, c.published_at nulls last, e.sentence_id, e.event_id;
