-- Q: In which languages are the articles written, and how many had their language detected rather than declared?
-- Params: none.  Returns: language, articles, words, detected
select language,
       count(*)                                                        as articles,
       sum(word_count)::bigint                                         as words,
       count(*) filter (where list_contains(issues, 'language:detected'))  as detected
from articles_current
group by all
order by articles desc, language nulls last;
