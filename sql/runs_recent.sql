-- Q: What did the last runs do, stage by stage?
-- Params: none.  Returns: run_id, status, started_at, seconds, discovered, fetched, archived, extracted, new_articles, quarantined
select run_id,
       status,
       started_at,
       round(epoch(finished_at) - epoch(started_at), 1)  as seconds,
       discovered_count                                   as discovered,
       fetched_count                                      as fetched,
       archived_count                                     as archived,
       extracted_count                                    as extracted,
       new_article_count                                  as new_articles,
       quarantined_count                                  as quarantined
from runs
order by started_at desc
limit 20;
