-- Q: Which news and photo agencies do the image credits name, in how many images and articles?
-- Params: none.  Returns: agency, images, articles, example_credit
-- images of the latest version of each article only, so a corrected article does not count twice
select agency,
       count(*)                      as images,
       count(distinct article_id)    as articles,
       min(credit_raw)               as example_credit
from (select unnest(i.agencies) as agency, i.article_id, i.credit_raw
      from images as i
      join articles_current as c on c.article_id = i.article_id and c.content_hash = i.content_hash)
group by all
order by images desc, agency;
