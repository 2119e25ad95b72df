"""The `dateline` command: exit codes, stdout (data) and stderr (messages) checked apart."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from dateline.flows import snapshot, store
from dateline.flows.cli import cli
from dateline.transforms.schema import ARTICLES

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed" / "soldiers-widows.html"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir holding the seed article, loaded the way a run loads it."""
    from datetime import UTC, datetime

    from dateline.transforms.extract import PageInput, extract_article

    page = extract_article(SEED.read_bytes(), PageInput(url="https://www.jpost.com/international/article-726552",
                                                        content_type=None, fetched_at=datetime.now(UTC),
                                                        raw_ref="seed.warc.gz#0"), run_id="r")
    processed = tmp_path / "data" / "processed"
    store.stage([page.article], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    return tmp_path / "data"


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(runner, command):
    result = invoke(runner, command, "--help")
    assert result.exit_code == 0
    assert f"dateline {command}" in result.stdout


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and result.stdout.startswith("dateline, version ")


def test_extract_seed_prints_title_published_at_and_text_start(runner):
    result = invoke(runner, "extract", str(SEED))
    assert result.exit_code == 0
    row = json.loads(result.stdout)
    assert row["title"] == "Soldiers' widows group calls on Putin to order major mobilization for Ukraine war"
    assert row["published_at"] == "2023-01-04T09:38:00Z"
    assert row["text"].startswith("A little known patriotic group")
    assert row["source"] == str(SEED)


def test_extract_reports_failures_as_error_objects(runner, tmp_path):
    (tmp_path / "empty.html").write_text("")
    shutil.copy(SEED, tmp_path / "seed.html")
    result = invoke(runner, "extract", str(tmp_path), "--format", "json")
    rows = json.loads(result.stdout)
    assert [("error" in r) for r in rows] == [True, False]
    assert rows[0]["error"] == {"stage": "decode", "reason": "empty_body", "detail": "0 bytes of content"}


def test_extract_reads_warc_records_with_offsets(runner):
    result = invoke(runner, "extract", str(Path(__file__).parent.parent / "data/sample/sample.warc.gz"))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 155
    assert rows[0]["url"] == "https://www.jpost.com/international/article-726552"
    assert all("#" in r["source"] for r in rows)


@pytest.mark.parametrize(("fmt", "check"), [
    ("csv", lambda out: out.splitlines() == ["domain,n", "jpost.com,1"]),
    ("jsonl", lambda out: [json.loads(x) for x in out.splitlines()] == [{"domain": "jpost.com", "n": 1}]),
    ("json", lambda out: json.loads(out) == [{"domain": "jpost.com", "n": 1}]),
    ("table", lambda out: out.splitlines()[2].split() == ["jpost.com", "1"]),
])
def test_sql_formats(runner, data_dir, fmt, check):
    result = invoke(runner, "--data-dir", str(data_dir), "sql", "--format", fmt,
                    "select domain, count(*) as n from articles group by all")
    assert result.exit_code == 0, result.stderr
    assert check(result.stdout)


def test_sql_error_is_one_line_exit_1(runner, data_dir):
    result = invoke(runner, "--data-dir", str(data_dir), "sql", "select nope from articles")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1


def test_sql_write_db_gives_a_file_any_duckdb_client_opens(runner, data_dir, tmp_path, monkeypatch):
    db = tmp_path / "corpus.duckdb"
    result = invoke(runner, "--data-dir", str(data_dir), "sql", "--write-db", str(db))
    assert result.exit_code == 0
    monkeypatch.chdir(tmp_path)  # its paths are relative to its folder
    with duckdb.connect("corpus.duckdb", read_only=True) as con:
        assert con.execute("select title from articles_current").fetchall()[0][0].startswith("Soldiers'")


def test_query_binds_parameters(runner, data_dir):
    result = invoke(runner, "--data-dir", str(data_dir), "query", "article_lookup", "-p", "text", "widows",
                    "--format", "jsonl")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["url"] == "https://www.jpost.com/international/article-726552"


def test_query_parameter_holding_sql_is_just_a_value(runner, data_dir):
    result = invoke(runner, "--data-dir", str(data_dir), "query", "article_lookup", "-p", "text",
                    "x'; drop view articles; --", "--format", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["published_at,site,title,url,raw_ref"]
    assert invoke(runner, "--data-dir", str(data_dir), "sql", "select count(*) from articles").exit_code == 0


@pytest.mark.parametrize("args", [
    ["run"],
    ["run", "--html-dir", "/no/such/dir"],
    ["run", "--feed", "https://x.example/rss", "--batch-size", "0"],
    ["run", "--feed", "notaurl"],
    ["run", "--sitemap", "ftp://x.example/sitemap.xml"],
    ["serve", "--interval", "0", "--feed", "https://x.example/rss"],
    ["sql", "--write-db", "/no/such/dir/corpus.duckdb"],
    ["sql"],
    ["query", "no_such_query"],
    ["query", "article_lookup"],
    ["query", "article_lookup", "-p", "text", "x", "-p", "bogus", "1"],
    ["extract"],
    ["--config", "/no/such.toml", "sql", "select 1"],
    ["frobnicate"],
], ids=lambda a: " ".join(a) or "none")
def test_bad_command_lines_exit_2_with_a_short_message(runner, args):
    result = invoke(runner, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "Error:" in result.stderr


def test_a_bad_cron_string_is_a_usage_error_before_anything_starts(tmp_path):
    import subprocess
    import sys
    import time

    data = tmp_path / "data"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dateline", "--data-dir", str(data), "serve", "--cron",
                           "every five minutes", "--html-dir", str(SEED.parent)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")})
    assert proc.returncode == 2 and proc.stdout == ""
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert "'every five minutes' is not a cron schedule" in error and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30 and not data.exists()  # no server was started, nothing written


@pytest.mark.parametrize("args", [["actors"], ["sql", "select 1"], ["timeline", "putin"], ["status"],
                                  ["query", "top_actors", "-p", "since", "", "-p", "until", "", "-p", "kind", "",
                                   "-p", "limit", "3"]], ids=lambda a: a[0])
def test_reading_an_empty_data_dir_says_so_and_creates_nothing(runner, tmp_path, args):
    data = tmp_path / "typo"
    result = invoke(runner, "--data-dir", str(data), *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"Error: no corpus in {data}: nothing has been loaded there "
                                     "(run `dateline run ...` first, or give --data-dir)")
    assert not data.exists()


def test_bad_config_file_is_a_usage_error(runner, tmp_path):
    bad = tmp_path / "dateline.toml"
    bad.write_text("feeds = 3\n")
    result = invoke(runner, "--config", str(bad), "sql", "select 1")
    assert result.exit_code == 2 and "feeds must be a list of strings" in result.stderr


def test_status_reports_runs_quarantine_and_sources(runner, data_dir):
    result = invoke(runner, "--data-dir", str(data_dir), "status", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert set(report) == {"runs_recent", "quarantine_reasons", "source_freshness", "snapshots"}
    assert report["snapshots"][0]["rows_added"] == "articles +1"
    table = invoke(runner, "--data-dir", str(data_dir), "status")
    assert "== Last runs" in table.stdout and "== Freshness per source" in table.stdout
    assert "== Last snapshots" in table.stdout


def test_compact_merges_files_and_keeps_every_row(runner, data_dir):
    from dataclasses import replace
    from datetime import UTC, datetime

    from dateline.transforms.extract import PageInput, extract_article

    processed = data_dir / "processed"
    page = extract_article(SEED.read_bytes(), PageInput(url="https://www.jpost.com/international/article-726552",
                                                        content_type=None, fetched_at=datetime.now(UTC),
                                                        raw_ref="seed.warc.gz#0"), run_id="r2")
    store.stage([replace(page.article, content_hash="second-version")], ARTICLES, processed, "r2", "b")
    store.load_staged(processed, "r2", ARTICLES)
    partition = processed / "articles" / "published_month=2023-01"
    listed = lambda: [f for f in snapshot.current(processed).files("articles") if f.startswith(  # noqa: E731
        partition.relative_to(processed).as_posix())]
    assert len(listed()) == 2
    result = invoke(runner, "--data-dir", str(data_dir), "compact")
    assert result.exit_code == 0 and "2 files -> 1 (2 rows)" in result.stderr
    assert len(listed()) == 1 and len(list(partition.glob("*.parquet"))) == 3  # the replaced two: retained
    count = invoke(runner, "--data-dir", str(data_dir), "sql", "--format", "csv", "select count(*) as n from articles")
    assert count.stdout.splitlines() == ["n", "2"]


def test_an_error_no_handler_foresaw_is_one_line_and_v_shows_its_traceback(tmp_path):
    """The console entry point's last resort (flows.cli.main), run as a user runs the command: a corpus
    whose `articles` table is a file makes the store raise NotADirectoryError, which nothing else handles."""
    import subprocess
    import sys

    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "other.parquet").touch()
    (tmp_path / "processed" / "articles").write_text("not a folder")
    command = [sys.executable, "-m", "dateline", "--data-dir", str(tmp_path), "sql", "select 1"]
    quiet = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=120)
    assert quiet.returncode == 1 and quiet.stdout == ""
    assert quiet.stderr.startswith("Error: unexpected NotADirectoryError: ")
    assert len(quiet.stderr.strip().splitlines()) == 1 and "run with -v" in quiet.stderr
    verbose = subprocess.run(command[:3] + ["-v"] + command[3:], capture_output=True, text=True,
                             cwd=Path(__file__).parent.parent, timeout=120)
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1].startswith("NotADirectoryError: ")


def test_a_run_whose_pages_a_setting_refused_names_the_setting(http_server, tmp_path):
    """Local URLs without --allow-private-networks: every page is quarantined as blocked_address, and
    stderr says which option would let them through."""
    import subprocess
    import sys

    urls = tmp_path / "urls.txt"
    urls.write_text(f"{http_server.url}/articles/cbc.html\n{http_server.url}/articles/seed.html\n")
    proc = subprocess.run([sys.executable, "-m", "dateline", "--data-dir", str(tmp_path / "data"), "run", "--urls",
                           str(urls)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")})
    assert proc.returncode == 0, proc.stderr
    assert ("note: all 2 pages were refused as blocked_address; the setting is --allow-private-networks "
            "(fetch.allow_private_networks = true in dateline.toml)") in proc.stderr.splitlines()
