-- Q: Which articles changed after they were first fetched, and how (title, length)?
-- Params: $since (ISO date or empty for all).  Returns: article_id, url, versions, first_fetched_at, last_fetched_at, first_title, last_title, word_change
select article_id,
       arg_max(url, fetched_at)                                    as url,
       count(*)                                                    as versions,
       min(fetched_at)                                             as first_fetched_at,
       max(fetched_at)                                             as last_fetched_at,
       arg_min(title, fetched_at)                                  as first_title,
       arg_max(title, fetched_at)                                  as last_title,
       arg_max(word_count, fetched_at) - arg_min(word_count, fetched_at) as word_change
from articles
group by article_id
having count(distinct content_hash) > 1
   and ($since = '' or max(fetched_at) >= nullif($since, '')::date)
order by last_fetched_at desc;
