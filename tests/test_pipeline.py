"""The whole flow, end to end: real HTTP server, real Prefect flow runs, Parquet read back by DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dateline.flows import snapshot, store
from dateline.flows.archive import read_raw
from dateline.flows.config import DatelineError, Settings
from dateline.flows.pipeline import pipeline
from dateline.transforms.schema import TABLES
from dateline.transforms.urls import sha1_hex

TABLE_NAMES = set(TABLES)

SEED = Path(__file__).parent / "fixtures" / "seed" / "soldiers-widows.html"


def sources_for(server_url: str, tmp_path: Path) -> dict[str, list[str]]:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# extra pages\n{server_url}/not-an-article.html\n{server_url}/articles/cbc.html\n"
                    f"{server_url}/hang\n")
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(SEED, saved / "seed.html")
    return {"feeds": [f"{server_url}/feed.xml"], "sitemaps": [f"{server_url}/sitemap_index.xml"],
            "urls": [str(urls)], "html_dirs": [str(saved)]}


def table(settings: Settings, sql: str) -> list[tuple]:
    with store.connect(settings.processed_dir, settings.raw_dir) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def two_runs(http_server, prefect_harness, tmp_path_factory):
    from conftest import FetchSettings, ProcessSettings  # same defaults as the `settings` fixture

    tmp = tmp_path_factory.mktemp("pipeline")
    settings = Settings(data_dir=tmp / "data",
                        fetch=FetchSettings(allow_private_networks=True, per_host_delay=0.0, backoff=0.01,
                                            retries=1, read_timeout=0.5),
                        process=ProcessSettings(workers=1, batch_size=2))
    sources = sources_for(http_server.url, tmp)
    first = pipeline(sources=sources, settings=settings.to_dict())
    after_first = {t: table(settings, f"select count(*) from {t}")[0][0] for t in ("articles", "quarantine")}
    second = pipeline(sources=sources, settings=settings.to_dict())
    return settings, first, second, after_first


def test_run_extracts_each_article_once(two_runs):
    settings, first, _, _ = two_runs
    # the seed comes fetched and saved, cbc.html directly and through redirects, apnews.html twice
    rows = table(settings, "select domain, title from articles order by domain")
    assert [r[0] for r in rows] == ["apnews.com", "cbc.ca", "jpost.com"]
    assert rows[2][1] == "Soldiers' widows group calls on Putin to order major mobilization for Ukraine war"
    assert first["extracted_count"] == 6 and first["new_article_count"] == 3


def test_run_quarantines_bad_pages_with_reasons(two_runs):
    settings, *_ = two_runs
    reasons = set(table(settings, "select reason, regexp_extract(url, '/[^/]+$') from quarantine"))
    assert ("http_error", "/404") in reasons
    assert ("robots_disallowed", "/secret.html") in reasons
    assert ("not_an_article", "/not-an-article.html") in reasons
    assert ("fetch_gave_up", "/hang") in reasons  # the slow page: timed out twice

def test_flaky_page_is_archived_twice_and_extracted_once(two_runs):
    settings, *_ = two_runs
    statuses = table(settings, "select status from raw_index where url like '%/flaky/apnews' "
                               "and run_id = (select min(run_id) from runs) order by fetched_at")
    assert [s[0] for s in statuses] == [500, 200]


def test_every_article_leads_back_to_its_exact_bytes(two_runs):
    settings, *_ = two_runs
    rows = table(settings, "select a.raw_ref, r.sha1 from articles a join raw_index r "
                           "on a.raw_ref = r.warc_file || '#' || r.warc_offset")
    assert len(rows) == 3
    for raw_ref, sha1 in rows:
        assert sha1_hex(read_raw(settings.raw_dir, raw_ref).payload) == sha1


def test_second_run_adds_no_rows(two_runs):
    settings, _, second, after_first = two_runs
    assert second["new_article_count"] == 0
    # pages fetched before are not due again within a day; only the saved page is read again
    assert second["unchanged_article_count"] == second["extracted_count"] == 1
    assert second["skipped_count"] >= 6
    for name, count in after_first.items():
        assert table(settings, f"select count(*) from {name}")[0][0] == count, name


def test_runs_table_records_counts_per_stage(two_runs):
    settings, first, second, _ = two_runs
    rows = table(settings, "select run_id, status, discovered_count, archived_count, extracted_count, "
                           "quarantined_count from runs order by started_at")
    assert [r[0] for r in rows] == [first["run_id"], second["run_id"]]
    run_id, status, discovered, archived, extracted, quarantined = rows[0]
    # archived: the page records the run wrote (6 articles, a home page, and the two answers that were
    # quarantined after they arrived); feeds and sitemaps are archived too but are not pages
    assert (status, extracted, archived, quarantined) == ("completed", 6, 9, 4)
    written = table(settings, f"select count(*) from raw_index where run_id = '{run_id}' and kind = 'page'")
    assert written == [(archived,)]
    assert rows[1][3] == 0  # the second run wrote no page again (the saved page's bytes were archived)
    assert discovered == 9 + 1  # 9 distinct URLs from feed, sitemaps and list; 1 saved page


def test_saved_pages_are_not_archived_twice(two_runs):
    settings, *_ = two_runs
    assert table(settings, "select count(*) from raw_index where record_type = 'resource'") == [(1,)]


def test_articles_are_partitioned_by_published_month(two_runs):
    settings, *_ = two_runs
    folders = sorted(p.name for p in (settings.processed_dir / "articles").iterdir())
    assert "published_month=2023-01" in folders
    assert not list(settings.processed_dir.glob("_staging/*"))


def test_cli_run_prints_summary_on_stderr_and_nothing_on_stdout(http_server, prefect_harness, tmp_path):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(SEED, saved / "seed.html")
    (saved / "empty.html").write_text("")
    args = ["--data-dir", str(tmp_path / "data"), "run", "--html-dir", str(saved), "--workers", "1"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "1 articles (1 new, 0 already stored), 1 quarantined" in result.stderr
    strict = CliRunner().invoke(cli, [*args, "--max-reject-rate", "0.2"], catch_exceptions=False)
    assert strict.exit_code == 3 and "reject rate 50% is above 20%" in strict.stderr


def test_images_are_loaded_with_parsed_credits(two_runs):
    settings, *_ = two_runs
    rows = table(settings, "select i.position, i.credit_raw, i.agencies, i.caption_date::varchar from images i "
                           "join articles a using (article_id, content_hash) where a.domain = 'jpost.com' "
                           "order by i.position")
    assert [(r[0], r[1]) for r in rows] == [(0, "SPUTNIK/PAVEL DENYAKOV/KREMLIN via REUTERS/FILE PHOTO"),
                                            (1, "REUTERS/STRINGER")]
    assert rows[0][2] == ["Sputnik", "Reuters"] and rows[0][3] == "2022-12-19"


def test_timeline_for_putin_lists_the_seed_events_in_date_order(two_runs):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    settings, *_ = two_runs
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "timeline", "Putin", "--format", "jsonl"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    import json
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    dated = [(r["event_date"], r["sentence"]) for r in rows if r["event_date"]]
    assert [d for d, _ in dated] == sorted(d for d, _ in dated)
    wanted = [("2022-09-21", "partial mobilization"), ("2022-12-01", "no need for an additional mobilization"),
              ("2022-12-19", "news conference in Minsk"), ("2022-12-31", "New Year's Eve"),
              ("2023-01-04", "large-scale mobilization")]
    for day, words in wanted:
        assert any(d == day and words in s for d, s in dated), (day, words)
    assert all(r["url"] for r in rows)
    stalin = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "timeline", "stalin", "--format", "csv"])
    assert "1942" in stalin.stdout and "Order No. 227" in stalin.stdout


def test_runs_count_nlp_articles_and_events(two_runs):
    settings, first, *_ = two_runs
    assert first["nlp_article_count"] == 6 and first["event_count"] > 0


def test_each_run_publishes_its_counts_as_a_prefect_artifact(two_runs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["dateline-run-counts"])))
    import json

    from dateline.transforms.schema import RunRecord

    _, first, second, _ = two_runs
    assert len(artifacts) >= 2
    published = []
    for artifact in artifacts:
        rows = artifact.data if isinstance(artifact.data, list) else json.loads(artifact.data)
        published.append({r["stage"]: r["count"] for r in rows})
    stages = {f.removesuffix("_count").replace("_", " ")
              for f in RunRecord.__dataclass_fields__ if f.endswith("_count")}
    assert all(set(p) == stages for p in published)
    for run in (first, second):  # each run's own counts were published
        wanted = {"discovered": run["discovered_count"], "new article": run["new_article_count"],
                  "quarantined": run["quarantined_count"], "skipped": run["skipped_count"]}
        assert any(wanted.items() <= p.items() for p in published), (wanted, published)


def test_reprocess_rebuild_gives_the_same_tables_without_network(two_runs, http_server, tmp_path):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    settings, *_ = two_runs
    copy = tmp_path / "data"
    shutil.copytree(settings.data_dir, copy)
    copied = Settings(data_dir=copy)
    before = {t: table(copied, f"select count(*) from {t}")[0][0] for t in ("articles", "images", "events", "runs")}
    fetch_quarantine = table(copied, "select count(*) from quarantine where stage in ('discover', 'fetch')")[0][0]
    requests = len(http_server.state.requests)
    result = CliRunner().invoke(cli, ["--data-dir", str(copy), "reprocess", "--rebuild", "--workers", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert len(http_server.state.requests) == requests  # no network
    after = {t: table(copied, f"select count(*) from {t}")[0][0] for t in ("articles", "images", "events", "runs")}
    assert after["articles"] == before["articles"] and after["images"] == before["images"]
    assert after["events"] == before["events"] and after["runs"] == before["runs"] + 1
    assert table(copied, "select count(*) from quarantine where stage in ('discover', 'fetch')")[0][0] == \
        fetch_quarantine
    assert table(copied, "select count(*) from quarantine where reason = 'not_an_article'")[0][0] == 1
    assert not list(copy.glob("processed.previous-*"))


@pytest.mark.parametrize("archive", ["unreadable", "none since"])
def test_a_rebuild_that_gets_no_article_keeps_the_corpus(two_runs, tmp_path, archive):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    settings, *_ = two_runs
    copy = tmp_path / "data"
    shutil.copytree(settings.data_dir, copy)
    copied = Settings(data_dir=copy)
    before = table(copied, "select count(*), (select count(*) from runs) from articles")[0]
    warcs = sorted((copy / "raw").rglob("*.warc.gz"))
    since = []
    if archive == "unreadable":  # a bad disk
        for warc in warcs:
            warc.write_bytes(b"\0" * warc.stat().st_size)
    else:  # no archived page at all in the range asked for
        since = ["--since", "2100-01-01"]
    result = CliRunner().invoke(cli, ["--data-dir", str(copy), "reprocess", "--rebuild", "--workers", "1", *since])
    # a DatelineError: `dateline` (main) prints it as one "Error: ..." line, exit 1
    assert warcs and isinstance(result.exception, DatelineError), result.output
    assert "the rebuild got no article" in str(result.exception)
    assert table(copied, "select count(*) from articles")[0][0] == before[0]
    assert table(copied, "select count(*) from runs where status = 'failed'")[0][0] == 1  # recorded as failed


def test_reprocess_rejects_a_bad_date(tmp_path):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "reprocess", "--since", "yesterday"])
    assert result.exit_code == 2 and "not a date" in result.stderr


def test_each_run_leaves_the_derived_actor_tables_fresh_and_they_answer_as_the_tables_do(two_runs):
    settings, *_ = two_runs
    processed = settings.processed_dir
    with store.connect(processed, settings.raw_dir) as con:
        assert "read_parquet" in con.execute("select sql from duckdb_views() where view_name = 'actor_events'"
                                             ).fetchone()[0]
        stored = [con.execute(f"select * from {name} order by all").fetchall()
                  for name in ("actor_names", "actor_events", "actor_volume", "mention_days")]
        computed = [con.execute(f"select * from dateline_internal.{name}_computed order by all").fetchall()
                    for name in ("actor_names", "actor_events", "actor_volume", "mention_days")]
    assert stored == computed and stored[1]


def test_a_run_compacts_the_tables_once_they_hold_more_files_than_the_setting(prefect_harness, tmp_path):
    from conftest import ProcessSettings

    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / "seed.html")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "http" / "articles" / "cbc.html", other / "cbc.html")
    settings = Settings(data_dir=tmp_path / "data", process=ProcessSettings(workers=1, compact_at_files=12))
    pipeline(sources={"html_dirs": [str(pages)]}, settings=settings.to_dict())
    after_one = store.data_file_count(settings.processed_dir)
    assert 1 < after_one <= 12  # under the setting: left as loaded
    pipeline(sources={"html_dirs": [str(other)]}, settings=settings.to_dict())
    listed = snapshot.current(settings.processed_dir).tables
    # one file per table and partition in the snapshot (the compaction commits after the run's commit)
    folders = [str(Path(f).parent) for name in TABLE_NAMES - {"raw_index"} for f in listed.get(name, [])]
    assert folders and len(folders) == len(set(folders))
    assert store.data_file_count(settings.processed_dir) < 2 * after_one
    assert table(settings, "select count(*) from articles")[0][0] == 2
