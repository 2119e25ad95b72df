-- Q: Which actors were mentioned in the most articles between $since and $until?
-- Params: $since, $until (ISO publication dates, inclusive; '' for no bound), $kind (person, organization, place or group; '' for any), $limit (how many rows).  Returns: actor_id, name, kind, articles, mentions
select a.actor_id,
       a.name,
       a.kind,
       count(distinct x.article_id)  as articles,
       sum(x.mention_count)::bigint  as mentions
from article_actors as x
join articles_current as c
  on c.article_id = x.article_id and c.content_hash = x.content_hash
join actor_labels as a on a.actor_id = x.actor_id
where ($since = '' or c.published_at >= nullif($since, '')::date)
  and ($until = '' or c.published_at < nullif($until, '')::date + 1)
  and ($kind = '' or a.kind = $kind)
group by a.actor_id, a.name, a.kind
order by articles desc, mentions desc, a.name, a.actor_id
limit $limit::integer;
