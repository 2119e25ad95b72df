"""The polite fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dateline.flows.archive import WarcArchive, read_raw
from dateline.flows.config import FetchSettings
from dateline.flows.fetch import Fetched, Fetcher, is_public_address, retry_after_seconds
from dateline.transforms.schema import Reject


@pytest.fixture
def archive(tmp_path: Path):
    with WarcArchive(tmp_path / "raw", "test-run", datetime(2026, 1, 2, tzinfo=UTC)) as a:
        yield a


def fetch(settings: FetchSettings, archive: WarcArchive, url: str, **kw) -> tuple[Fetched | Reject, Fetcher]:
    with Fetcher(settings, archive, "test-run") as fetcher:
        return fetcher.fetch(url, source="test", **kw), fetcher


def test_fetch_archives_page_and_reads_back_same_bytes(http_server, fetch_settings, archive, tmp_path):
    outcome, fetcher = fetch(fetch_settings, archive, f"{http_server.url}/articles/seed.html")
    assert isinstance(outcome, Fetched)
    raw = outcome.raw
    assert raw.status == 200 and raw.kind == "page"
    page = read_raw(tmp_path / "raw", f"{raw.warc_file}#{raw.warc_offset}")
    assert page.payload == (Path(__file__).parent / "fixtures/http/articles/seed.html").read_bytes()
    assert page.url == f"{http_server.url}/articles/seed.html"
    assert raw.warc_file.startswith("2026/01/test-run-")


def test_fetch_sends_clear_user_agent(http_server, fetch_settings, archive):
    fetch(fetch_settings, archive, f"{http_server.url}/articles/seed.html?ua-check=1")
    headers = next(h for _, p, h in http_server.state.requests if p.endswith("ua-check=1"))
    assert headers["User-Agent"].startswith("Dateline/")


def test_robots_txt_disallow_is_obeyed_and_nothing_is_requested(http_server, fetch_settings, archive):
    outcome, _ = fetch(fetch_settings, archive, f"{http_server.url}/private/secret.html")
    assert isinstance(outcome, Reject) and outcome.reason == "robots_disallowed"
    assert "/private/secret.html" not in http_server.state.paths()


def test_404_is_archived_and_rejected_as_http_error(http_server, fetch_settings, archive, tmp_path):
    outcome, fetcher = fetch(fetch_settings, archive, f"{http_server.url}/status/404")
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.detail) == ("http_error", "HTTP 404")
    assert read_raw(tmp_path / "raw", outcome.raw_ref).status == 404  # the error page is kept


def test_500_then_200_succeeds_on_retry(http_server, fetch_settings, archive):
    outcome, fetcher = fetch(fetch_settings, archive, f"{http_server.url}/flaky/cbc?t=retry")
    assert isinstance(outcome, Fetched) and outcome.raw.status == 200
    statuses = [r.status for r in fetcher.raw_rows if "flaky" in r.url]
    assert statuses == [500, 200]  # both responses archived


def test_persistent_5xx_gives_up_after_retries(http_server, fetch_settings, archive):
    outcome, fetcher = fetch(fetch_settings, archive, f"{http_server.url}/status/503")
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert "after 3 attempts" in outcome.detail
    assert len([r for r in fetcher.raw_rows if r.url.endswith("/status/503")]) == 3


def test_retry_after_is_honoured(http_server, fetch_settings, archive):
    outcome, _ = fetch(fetch_settings, archive, f"{http_server.url}/retry-after/1")
    assert isinstance(outcome, Fetched)
    times = [t for t, p, _ in http_server.state.requests if p == "/retry-after/1"]
    assert len(times) == 2 and times[1] - times[0] >= 0.95


def test_retry_after_beyond_limit_gives_up_without_waiting(http_server, fetch_settings, archive):
    outcome, _ = fetch(fetch_settings, archive, f"{http_server.url}/retry-after/3600")
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert "Retry-After 3600s" in outcome.detail
    assert http_server.state.paths().count("/retry-after/3600") == 1


def test_slow_page_times_out_and_gives_up(http_server, fetch_settings, archive):
    outcome, _ = fetch(replace(fetch_settings, retries=0, read_timeout=0.2), archive, f"{http_server.url}/hang")
    assert isinstance(outcome, Reject) and outcome.reason == "fetch_gave_up"
    assert "ReadTimeout" in outcome.detail and outcome.raw_ref is None


def test_redirects_are_followed_and_each_hop_archived(http_server, fetch_settings, archive):
    outcome, fetcher = fetch(fetch_settings, archive, f"{http_server.url}/redirect/2")
    assert isinstance(outcome, Fetched)
    assert outcome.raw.url == f"{http_server.url}/redirect/2"
    assert outcome.raw.final_url == f"{http_server.url}/articles/cbc.html"
    assert [r.kind for r in fetcher.raw_rows if r.kind != "robots"] == ["redirect"] * 3 + ["page"]


def test_redirect_loop_is_rejected(http_server, fetch_settings, archive):
    outcome, _ = fetch(replace(fetch_settings, max_redirects=3), archive, f"{http_server.url}/loop")
    assert isinstance(outcome, Reject) and outcome.reason == "too_many_redirects"


def test_body_over_size_limit_is_archived_truncated_and_rejected(http_server, fetch_settings, archive, tmp_path):
    outcome, _ = fetch(fetch_settings, archive, f"{http_server.url}/big")
    assert isinstance(outcome, Reject) and outcome.reason == "too_large"
    assert len(read_raw(tmp_path / "raw", outcome.raw_ref).payload) == fetch_settings.max_bytes


def test_non_html_page_is_rejected_by_content_type(http_server, fetch_settings, archive):
    outcome, _ = fetch(fetch_settings, archive, f"{http_server.url}/pdf")
    assert isinstance(outcome, Reject)
    assert (outcome.reason, outcome.detail) == ("not_html", "content type application/pdf")


def test_loopback_is_blocked_unless_allowed(http_server, fetch_settings, archive):
    outcome, _ = fetch(replace(fetch_settings, allow_private_networks=False), archive,
                       f"{http_server.url}/articles/seed.html?blocked=1")
    assert isinstance(outcome, Reject) and outcome.reason == "blocked_address"
    assert not any("blocked=1" in p for p in http_server.state.paths())


def test_non_http_url_is_rejected(fetch_settings, archive):
    outcome, _ = fetch(fetch_settings, archive, "file:///etc/passwd")
    assert isinstance(outcome, Reject) and outcome.reason == "invalid_url"


def test_per_host_delay_spaces_requests(http_server, fetch_settings, archive):
    urls = [(f"{http_server.url}/articles/seed.html?spacing={i}", "test", None) for i in range(3)]
    with Fetcher(replace(fetch_settings, per_host_delay=0.3), archive, "test-run") as fetcher:
        outcomes = list(fetcher.fetch_all(urls))
    assert all(isinstance(o, Fetched) for o in outcomes)
    times = sorted(t for t, p, _ in http_server.state.requests if "spacing=" in p)
    assert all(b - a >= 0.28 for a, b in zip(times, times[1:], strict=False))


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("169.254.169.254", False),
    ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False), ("8.8.8.8", True), ("2606:4700::1", True),
], ids=str)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 12:01:00 GMT", now) == 60
    assert retry_after_seconds("soon", now) is None


def test_rebinding_to_a_private_address_is_caught_when_connecting(http_server, fetch_settings, archive):
    answers = iter([["93.184.216.34"]])  # the pre-check sees a public address ...

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])  # ... the connection would go to loopback

    settings = replace(fetch_settings, allow_private_networks=False, obey_robots=False, retries=0)
    with Fetcher(settings, archive, "test-run", resolver=rebinding) as fetcher:
        outcome = fetcher.fetch(f"{http_server.url}/articles/seed.html?rebind=1", source="test")
    assert isinstance(outcome, Reject) and outcome.reason == "blocked_address"
    assert "checked when connecting" in outcome.detail
    assert not any("rebind=1" in p for p in http_server.state.paths())


def test_connections_go_to_the_address_that_was_checked(http_server, fetch_settings, archive):
    seen: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"]

    settings = replace(fetch_settings, obey_robots=False)
    url = f"http://dateline-test.invalid:{http_server.url.rsplit(':', 1)[1]}/articles/seed.html?pinned=1"
    with Fetcher(settings, archive, "test-run", resolver=resolver) as fetcher:
        outcome = fetcher.fetch(url, source="test")
    assert isinstance(outcome, Fetched)  # a name no DNS knows, connected through our resolver's answer
    assert "dateline-test.invalid" in seen
