"""Progress: log lines when stderr is not a terminal (as under CI, cron and pytest)."""

from __future__ import annotations

import io
import logging
import sys

from dateline.flows.progress import Tracker, progress, use_bars


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_only_on_a_terminal_and_not_when_switched_off(monkeypatch):
    monkeypatch.delenv("DATELINE_NO_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert use_bars() is False
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    assert use_bars() is True
    monkeypatch.setenv("DATELINE_NO_PROGRESS", "1")
    assert use_bars() is False


def test_plain_progress_logs_every_hundred_and_at_the_end(caplog):
    with caplog.at_level(logging.INFO, logger="dateline.progress"), progress("fetch", 250) as tracker:
        assert isinstance(tracker, Tracker)
        for _ in range(250):
            tracker.advance()
    assert [r.getMessage() for r in caplog.records] == ["fetch: 100/250", "fetch: 200/250", "fetch: 250/250"]
