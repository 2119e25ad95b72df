-- Q: When was each source last read, and how many pages did it give?
-- Params: none.  Returns: source, last_fetched_at, responses, pages, not_modified, errors
select source,
       max(fetched_at)                                           as last_fetched_at,
       count(*)                                                  as responses,
       count(*) filter (where kind = 'page' and status = 200)    as pages,
       count(*) filter (where status = 304)                      as not_modified,
       count(*) filter (where status >= 400)                     as errors
from raw_index
where source not in ('robots.txt', 'feed')
group by source
order by last_fetched_at desc;
