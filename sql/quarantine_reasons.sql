-- Q: Which pages were rejected, at which stage and why?
-- Params: none.  Returns: stage, reason, pages, example_url, example_detail
select stage,
       reason,
       count(distinct url)      as pages,
       min(url)                 as example_url,
       min(detail)              as example_detail
from quarantine
group by all
order by pages desc, stage, reason;
