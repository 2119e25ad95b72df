"""Incremental runs: pages seen before are skipped or asked for conditionally; a changed page is a new version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dateline.flows import store
from dateline.flows.acquire import due, fetch_state
from dateline.flows.config import FetchSettings, ProcessSettings, Settings
from dateline.flows.pipeline import pipeline
from dateline.transforms.schema import RawRecord


def count(settings: Settings, sql: str) -> int:
    with store.connect(settings.processed_dir, settings.raw_dir) as con:
        return int(con.execute(sql).fetchall()[0][0])


def requests_since(server, mark: int, needle: str, end: int | None = None) -> list[dict[str, str]]:
    return [h for _, p, h in server.state.requests[mark:end] if needle in p]


@pytest.fixture(scope="module")
def runs(http_server, prefect_harness, tmp_path_factory):
    data = tmp_path_factory.mktemp("incremental") / "data"
    fetch = FetchSettings(allow_private_networks=True, per_host_delay=0.0, backoff=0.01, retries=1, read_timeout=2.0)
    daily = Settings(data_dir=data, fetch=fetch, process=ProcessSettings(workers=1))
    always = Settings(data_dir=data, fetch=_with_recheck(fetch, 0.0), process=ProcessSettings(workers=1))
    sources = {"feeds": [f"{http_server.url}/feed_small.xml"]}
    out = {}
    mark = len(http_server.state.requests)
    out["first"] = pipeline(sources=sources, settings=daily.to_dict())
    out["after_first"] = count(daily, "select count(*) from articles")
    out["mark_second"] = len(http_server.state.requests)
    out["second"] = pipeline(sources=sources, settings=daily.to_dict())
    out["mark_third"] = len(http_server.state.requests)
    out["third"] = pipeline(sources=sources, settings=always.to_dict())
    out["after_third"] = count(daily, "select count(*) from articles")
    http_server.state.changed = True
    out["mark_fourth"] = len(http_server.state.requests)
    try:
        out["fourth"] = pipeline(sources=sources, settings=always.to_dict())
    finally:
        http_server.state.changed = False
    out["settings"] = daily
    out["first_mark"] = mark
    return out


def _with_recheck(fetch: FetchSettings, hours: float) -> FetchSettings:
    from dataclasses import replace
    return replace(fetch, recheck_after_hours=hours)


def test_first_run_fetches_both_pages(runs):
    assert runs["first"]["new_article_count"] == 2 and runs["after_first"] == 2


def test_second_run_asks_for_the_feed_conditionally_and_fetches_no_page(runs, http_server):
    feed = requests_since(http_server, runs["mark_second"], "/feed_small.xml", runs["mark_third"])
    assert feed and "If-None-Match" in feed[0]
    second_requests = http_server.state.requests[runs["mark_second"]:runs["mark_third"]]
    assert not [p for _, p, _ in second_requests if "/changing/" in p or "/articles/" in p]
    second = runs["second"]
    assert second["not_modified_count"] == 1  # the feed
    assert second["new_article_count"] == 0 and second["archived_count"] == 0


def test_rechecks_send_conditional_requests_and_a_304_costs_no_processing(runs, http_server):
    window = (runs["mark_third"], runs["mark_fourth"])
    pages = requests_since(http_server, window[0], "/changing/", window[1]) + \
        requests_since(http_server, window[0], "/articles/cbc.html", window[1])
    assert len(pages) == 2 and all("If-None-Match" in h for h in pages)
    third = runs["third"]
    assert third["not_modified_count"] >= 2 and third["extracted_count"] == 0
    assert runs["after_third"] == 2


def test_a_changed_page_becomes_a_second_version(runs):
    settings = runs["settings"]
    fourth = runs["fourth"]
    assert fourth["new_article_count"] == 1
    versions = count(settings, "select count(*) from articles where canonical_url like '%jpost.com%'")
    current = count(settings, "select count(*) from articles_current where text like '%Corrected: the group%'")
    assert versions == 2 and current == 1


def row(url: str, at: datetime, status: int = 200, etag: str | None = '"a"') -> RawRecord:
    return RawRecord(url=url, final_url=url, status=status, content_type="text/html", sha1="x", length=1,
                     truncated=False, fetched_at=at, warc_file="f", warc_offset=0, record_type="response",
                     kind="page", source="s", run_id="r", etag=etag)


def test_state_keeps_validators_of_the_200_a_304_confirmed():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    state = fetch_state([row("u", t0), row("u", t0 + timedelta(hours=1), status=304, etag=None)])
    assert state["u"].etag == '"a"' and state["u"].fetched_at == t0 + timedelta(hours=1)


@pytest.mark.parametrize(("source_date", "age_hours", "expected"), [
    (None, 1, False), (None, 30, True), ("2024-01-01T05:00:00Z", 1, True), ("2023-12-31", 1, False),
], ids=["fresh", "recheck-due", "source-says-changed", "source-older"])
def test_due(source_date, age_hours, expected):
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    state = fetch_state([row("u", t0)])
    assert due("u", source_date, state, t0 + timedelta(hours=age_hours), timedelta(hours=24)) is expected
    assert due("new", None, state, t0, timedelta(hours=24))


def test_revisions_lists_the_changed_article_and_diffs_it(runs):
    from click.testing import CliRunner
    from dateline.flows.cli import cli

    data = str(runs["settings"].data_dir)
    listing = CliRunner().invoke(cli, ["--data-dir", data, "revisions", "--format", "jsonl"])
    assert listing.exit_code == 0
    [changed] = [json.loads(line) for line in listing.stdout.splitlines()]
    assert changed["versions"] == 2 and changed["url"].endswith("/changing/widows")
    diff = CliRunner().invoke(cli, ["--data-dir", data, "revisions",
                                    "https://www.jpost.com/international/article-726552"])
    assert diff.exit_code == 0, diff.stderr
    assert "+" in diff.stdout and "Corrected: the group has 300 members." in diff.stdout
    missing = CliRunner().invoke(cli, ["--data-dir", data, "revisions", "https://nowhere.example/x"])
    assert missing.exit_code == 1 and "no article" in missing.stderr


def test_saved_pages_read_again_are_not_counted_as_archived(prefect_harness, tmp_path):
    from pathlib import Path

    seed = Path(__file__).parent / "fixtures" / "seed"
    settings = Settings(data_dir=tmp_path / "data", process=ProcessSettings(workers=1))
    first = pipeline(sources={"html_dirs": [str(seed)]}, settings=settings.to_dict())
    again = pipeline(sources={"html_dirs": [str(seed)]}, settings=settings.to_dict())
    assert (first["archived_count"], first["new_article_count"]) == (1, 1)
    # the second run read the same bytes: nothing archived again, the article already stored
    assert (again["discovered_count"], again["archived_count"], again["new_article_count"],
            again["unchanged_article_count"]) == (1, 0, 0, 1)
