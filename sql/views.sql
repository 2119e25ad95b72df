-- One view per table. ${processed} and ${raw} are replaced by the absolute paths of
-- data/processed and data/raw when the views are created (flows/store.py: render_views).
-- Each table folder holds an empty _schema.parquet, so every view exists, with all its
-- columns, before the first run; union_by_name lets older files lack newer columns.

create or replace view articles as
select *
from read_parquet('${processed}/articles/*/*.parquet',
                  hive_partitioning = true, hive_types = {'published_month': varchar},
                  union_by_name = true);

-- the latest fetched version of each article
create or replace view articles_current as
select *
from articles
qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1;

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
