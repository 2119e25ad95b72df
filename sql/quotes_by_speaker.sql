-- Q: What did $actor say?
-- Params: $actor (name or alias, any case).  Returns: published_at, quote, verb, speaker_text, sentence, url
with actor as (
    select actor_id from actor_named($actor)
)
select c.published_at,
       q.quote,
       q.verb,
       q.speaker_text,
       q.sentence,
       c.url
from quotes as q
join articles_current as c
  on c.article_id = q.article_id and c.content_hash = q.content_hash
where q.speaker_id in (select actor_id from actor)
order by c.published_at nulls last, c.article_id, q.sentence_id, q.quote;
