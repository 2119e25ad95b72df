-- Q: How many articles did each site publish per day (latest version of each article, UTC days)?
-- Params: none.  Returns: site, day, articles, words
select coalesce(site_name, domain)  as site,
       published_at::date           as day,
       count(*)                     as articles,
       sum(word_count)::bigint      as words
from articles_current
where published_at is not null
group by all
order by site, day;
