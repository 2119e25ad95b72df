-- One view per table. ${processed} and ${raw} are replaced by the absolute paths of
-- data/processed and data/raw when the views are created (flows/store.py: render_views).
-- Each table folder holds an empty _schema.parquet, so every view exists, with all its
-- columns, before the first run; union_by_name lets older files lack newer columns.

create or replace view articles as
select *
from read_parquet('${processed}/articles/*/*.parquet',
                  hive_partitioning = true, hive_types = {'published_month': varchar},
                  union_by_name = true);

-- fingerprints and story groups: copies of one wire story on many sites share a dup_group
create or replace view dedup as
select * from read_parquet('${processed}/dedup/*.parquet', union_by_name = true);

-- the latest fetched version of each article, with its story group (null until deduplicated)
create or replace view articles_current as
select a.*, d.dup_group
from articles as a
left join (select article_id, content_hash, dup_group from dedup) as d using (article_id, content_hash)
qualify row_number() over (partition by a.article_id order by a.fetched_at desc, a.content_hash) = 1;

-- images of every article version (join on article_id and content_hash)
create or replace view images as
select * from read_parquet('${processed}/images/*.parquet', union_by_name = true);

create or replace view quarantine as
select * from read_parquet('${processed}/quarantine/*.parquet', union_by_name = true);

create or replace view runs as
select * from read_parquet('${processed}/runs/*.parquet', union_by_name = true);

-- every archived record: where its bytes are (warc_file under data/raw, warc_offset)
create or replace view raw_index as
select * from read_parquet('${raw}/raw_index/*.parquet', union_by_name = true);

-- NLP tables: one row per actor mention, per actor per article, per event, per quotation
create or replace view mentions as
select * from read_parquet('${processed}/mentions/*.parquet', union_by_name = true);

create or replace view article_actors as
select * from read_parquet('${processed}/article_actors/*.parquet', union_by_name = true);

-- one row per actor across the corpus: its most used name, kind, every alias, counts
create or replace view actors as
select actor_id,
       mode(name)                                              as name,
       mode(kind)                                              as kind,
       list_sort(list_distinct(flatten(list(aliases || [name])))) as aliases,
       count(distinct article_id)                              as article_count,
       sum(mention_count)                                      as mention_count
from article_actors
group by actor_id;

-- the actors a name or alias stands for, in any case: select actor_id from actor_named('putin')
create or replace macro actor_named(q) as table
select a.actor_id
from actors as a
where lower(q) = lower(a.name)
   or list_contains(list_transform(a.aliases, lambda x: lower(x)), lower(q));

create or replace view events as
select * from read_parquet('${processed}/events/*.parquet', union_by_name = true);

create or replace view quotes as
select * from read_parquet('${processed}/quotes/*.parquet', union_by_name = true);
