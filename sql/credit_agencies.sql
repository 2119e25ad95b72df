-- Q: Which news and photo agencies do the image credits name, in how many images and articles?
-- Params: none.  Returns: agency, images, articles, example_credit
select agency,
       count(*)                      as images,
       count(distinct article_id)    as articles,
       min(credit_raw)               as example_credit
from (select unnest(agencies) as agency, article_id, credit_raw from images)
group by all
order by images desc, agency;
