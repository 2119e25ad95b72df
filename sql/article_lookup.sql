-- Q: What do we hold for articles whose URL or title contains $text, and where are their raw bytes?
-- Params: $text (any substring, case-insensitive).  Returns: published_at, site, title, url, raw_ref
select published_at,
       coalesce(site_name, domain)  as site,
       title,
       url,
       raw_ref
from articles_current
where url ilike '%' || $text || '%' or title ilike '%' || $text || '%'
order by published_at desc nulls last;
