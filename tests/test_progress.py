"""Progress: log lines when stderr is not a terminal (as under CI, cron and pytest)."""

from __future__ import annotations

import logging

from flows.progress import Tracker, progress, use_bars


def test_no_bars_without_a_terminal():
    assert use_bars() is False  # pytest captures stderr: not a terminal


def test_plain_progress_logs_every_hundred_and_at_the_end(caplog):
    with caplog.at_level(logging.INFO, logger="dateline.progress"), progress("fetch", 250) as tracker:
        assert isinstance(tracker, Tracker)
        for _ in range(250):
            tracker.advance()
    assert [r.getMessage() for r in caplog.records] == ["fetch: 100/250", "fetch: 200/250", "fetch: 250/250"]
