"""A local Prefect server for scheduled runs and Dask runs.

A temporary API never runs schedules (NOTES), so `dateline serve` starts one of its own when no
PREFECT_API_URL is set, bound to 127.0.0.1, with its database under the data dir, and stops it on
exit. `dateline run --runner dask` needs one too (each Dask worker would otherwise start its own
temporary API): with a scheduler on this machine it starts one for the run's duration; a scheduler
elsewhere has workers that cannot reach 127.0.0.1, so there PREFECT_API_URL must name a shared server.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from dateline.flows.config import ConfigError, DatelineError, Settings

log = logging.getLogger(__name__)

STARTUP_SECONDS = 90.0


class ServerError(DatelineError):
    """The local Prefect server did not start or answer."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPrefectServer:
    """`prefect server start` on 127.0.0.1 as a child process; use as a context manager."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = home
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def __enter__(self) -> LocalPrefectServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "true"}
        env.pop("PREFECT_API_URL", None)
        log_file = open(self.home / "server.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"prefect server exited with code {self.process.returncode}; "
                                  f"see {self.home / 'server.log'}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)  # waiting on a child process to come up: nothing to wait on but its port
        self.stop()
        raise ServerError(f"prefect server did not answer within {STARTUP_SECONDS:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def is_local_address(address: str) -> bool:
    """Whether a Dask scheduler address ("tcp://127.0.0.1:8786") is on the loopback interface."""
    host = urlsplit(address).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def local_server_needed(settings: Settings) -> bool:
    """Whether a run with these settings needs a local Prefect server started for it: runner "dask"
    with no PREFECT_API_URL and a scheduler on this machine. A scheduler elsewhere with no
    PREFECT_API_URL is a ConfigError, since its workers cannot reach a server on 127.0.0.1."""
    if settings.process.runner != "dask" or os.environ.get("PREFECT_API_URL"):
        return False
    address = settings.process.dask_address
    if not is_local_address(address):
        raise ConfigError(f"the Dask workers of {address} cannot reach a Prefect server on 127.0.0.1: set "
                          "PREFECT_API_URL to a server they can reach (e.g. `prefect server start --host 0.0.0.0`)")
    return True


@contextmanager
def prefect_api_for(settings: Settings) -> Iterator[str | None]:
    """The Prefect API a run with these settings needs, for the block's duration: a LocalPrefectServer
    under the data dir with PREFECT_API_URL pointing at it (yields its URL) when
    :func:`local_server_needed`, else nothing (yields None). Enter it before Prefect is imported:
    Prefect reads PREFECT_API_URL once."""
    if not local_server_needed(settings):
        yield None
        return
    with LocalPrefectServer(settings.data_dir / "prefect") as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        try:
            yield server.url
        finally:
            _send_prefect_logs()
            os.environ.pop("PREFECT_API_URL", None)


def _send_prefect_logs() -> None:
    """Send the log lines Prefect still holds to the server before it stops (else, after a failed run,
    Prefect's background sender reports "Error logging to API" at exit)."""
    if "prefect.logging.handlers" in sys.modules:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
