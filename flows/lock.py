"""One run at a time per data dir: an exclusive flock on <data dir>/run.lock.

The kernel drops the lock when its holder dies (even by SIGKILL), so a crashed run never leaves a
stale lock behind. A second run waits up to ``wait_seconds`` for it, then gives up with a clear error.

The lock is local: it orders runs on one machine. With raw and processed roots in object storage
(``raw_root``/``processed_root``) the data dir, and so the lock, is still a local folder; runs from
two machines into the same bucket are not ordered by it. Keep one writer at a time per bucket
prefix: schedule the runs from one machine.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dateline.flows.config import DatelineError

log = logging.getLogger(__name__)


class DataDirLocked(DatelineError):
    """Another run holds the data dir, and did not let go in time."""


@contextmanager
def data_dir_lock(data_dir: Path, wait_seconds: float) -> Iterator[None]:
    """Hold the data dir's run lock for the duration of the block."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DataDirLocked(f"another run is using {data_dir} (lock {path}); it did not finish "
                                        f"within {wait_seconds:g} s") from None
                if not announced:
                    log.warning("another run is using %s; waiting up to %g s", data_dir, wait_seconds)
                    announced = True
                time.sleep(0.2)  # flock has no timeout: poll the lock until the deadline
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
