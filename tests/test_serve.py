"""`dateline serve --interval 5` starts its own local Prefect server, runs the pipeline on schedule,
and stops cleanly on SIGINT or SIGTERM, server included. A real server and real scheduled flow runs
(about 30 s each)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SEED_DIR = Path(__file__).parent / "fixtures" / "seed"


def wait_for(condition, seconds: float, what: str):  # type: ignore[no-untyped-def]
    """Poll a condition until it holds or the deadline passes (a child process gives nothing to wait on)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def started_runs(url: str) -> list[dict]:
    """Flow runs the server knows that have started (running or finished)."""
    query = {"flow_runs": {"state": {"type": {"any_": ["RUNNING", "COMPLETED"]}}}, "limit": 5}
    response = httpx.post(f"{url}/api/flow_runs/filter", json=query, timeout=5)
    return list(response.json())


def _default_sigint() -> None:
    """In the child: SIGINT as a terminal's foreground process has it. A shell without job control starts
    background commands with SIGINT ignored, and a child inherits that: a test suite started that way
    (`make test &` in a script) would otherwise send a Ctrl-C the child cannot hear."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# Ctrl-C in a terminal, and what service managers (systemd, docker stop, supervisord) send
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_runs_on_schedule_and_stops_with_its_server(tmp_path, stop):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    data = tmp_path / "data"
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "dateline", "--data-dir", str(data), "serve", "--interval", "5",
                                 "--html-dir", str(SEED_DIR), "--workers", "1"],
                                env=env, stdout=subprocess.PIPE, stderr=err, cwd=Path(__file__).parent.parent,
                                preexec_fn=_default_sigint)
    try:
        url = wait_for(lambda: re.search(r"Prefect server and UI: (http://127\.0\.0\.1:\d+)", stderr.read_text()),
                       120, "the server address")[1]
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        wait_for(lambda: started_runs(url), 30, "a flow run to start within 30 s of the server answering")
        runs = data / "processed" / "runs"
        wait_for(lambda: [p for p in runs.glob("*.parquet") if p.name != "_schema.parquet"] if runs.exists()
                 else None, 90, "a scheduled run")
        # one line per run on stderr, from the runs table: its id, status, seconds and counts
        wait_for(lambda: re.search(r"^run \d{8}T\d{6}Z-\w+ completed in [\d.]+ s: 1 discovered, [01] archived, "
                                   r"1 articles", stderr.read_text(), re.M), 30, "serve's line for the run")
    finally:
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode is not None
    assert out == b""  # stdout carries only data; serve prints none
    try:
        httpx.get(f"{url}/api/health", timeout=2)
        stopped = False
    except httpx.HTTPError:
        stopped = True
    assert stopped, "the local Prefect server is still answering"
