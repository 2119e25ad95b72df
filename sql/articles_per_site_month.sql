-- Q: How many articles did each site publish per month (latest version of each article)?
-- Params: none.  Returns: site, month, articles, words
select coalesce(site_name, domain)  as site,
       published_month              as month,
       count(*)                     as articles,
       sum(word_count)::bigint      as words
from articles_current
group by all
order by site, month;
