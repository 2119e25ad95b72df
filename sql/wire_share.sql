-- Q: What share of each site's articles are agency copy (an agency in the byline or dateline)?
-- Params: none.  Returns: site, articles, wire_articles, wire_share, agencies
select coalesce(site_name, domain)                               as site,
       count(*)                                                  as articles,
       count(*) filter (where is_wire)                           as wire_articles,
       round(count(*) filter (where is_wire) / count(*), 2)      as wire_share,
       list_sort(list_distinct(flatten(list(agencies))))         as agencies
from articles_current
group by all
having count(*) filter (where is_wire) > 0
order by wire_articles desc, site;
