-- Q: Which photographers do the image credits name, with which agencies, in how many images and articles?
-- Params: none.  Returns: photographer, images, articles, agencies, example_credit
-- images of the latest version of each article only, so a corrected article does not count twice
select photographer,
       count(*)                                             as images,
       count(distinct article_id)                           as articles,
       list_sort(list_distinct(flatten(list(agencies))))    as agencies,
       min(credit_raw)                                      as example_credit
from (select unnest(i.photographers) as photographer, i.article_id, i.agencies, i.credit_raw
      from images as i
      join articles_current as c on c.article_id = i.article_id and c.content_hash = i.content_hash)
group by photographer
order by images desc, photographer;
