"""Progress for long CLI work: a rich progress bar on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("dateline.progress")

_LINE_EVERY = 100  # without a terminal, a log line every this many items (and at the end)


class Tracker:
    """Counts finished items of one stage; safe to call from worker threads."""

    def __init__(self, label: str, total: int, bar: Any = None, task: Any = None) -> None:
        self.label, self.total, self.bar, self.task = label, total, bar, task
        self.done = 0
        self._lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            done = self.done
        if self.bar is not None:
            self.bar.update(self.task, advance=n)
        elif done % _LINE_EVERY < n or done == self.total:
            log.info("%s: %d/%d", self.label, done, self.total)


def use_bars() -> bool:
    """Bars only on an interactive stderr, and not when DATELINE_NO_PROGRESS is set."""
    return sys.stderr.isatty() and not os.environ.get("DATELINE_NO_PROGRESS")


@contextmanager
def progress(label: str, total: int) -> Iterator[Tracker]:
    """Track ``total`` items: ``with progress("fetch", n) as p: ... p.advance()``."""
    if not use_bars() or total <= 0:
        yield Tracker(label, total)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        yield Tracker(label, total, bar, bar.add_task(label, total=total))
