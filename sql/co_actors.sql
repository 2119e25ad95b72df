-- Q: Which actors appear in the same sentences as $actor?
-- Params: $actor (name or alias, any case), $limit (how many rows).  Returns: actor_id, name, kind, shared_sentences, shared_articles
with actor as (
    select actor_id from actor_named($actor)
),
current_mentions as (
    select m.article_id, m.sentence_id, m.actor_id
    from mentions as m
    join articles_current as c
      on c.article_id = m.article_id and c.content_hash = m.content_hash
),
sentences as (
    select distinct article_id, sentence_id
    from current_mentions
    where actor_id in (select actor_id from actor)
)
select a.actor_id,
       a.name,
       a.kind,
       count(distinct (m.article_id, m.sentence_id))  as shared_sentences,
       count(distinct m.article_id)                   as shared_articles
from current_mentions as m
join sentences as s on s.article_id = m.article_id and s.sentence_id = m.sentence_id
join actor_labels as a on a.actor_id = m.actor_id
where m.actor_id not in (select actor_id from actor)
group by a.actor_id, a.name, a.kind
order by shared_sentences desc, shared_articles desc, a.name, a.actor_id
limit $limit::integer;
