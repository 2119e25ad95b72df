"""The Dask runner against the local runner, side by side on one machine (the sample corpus, NLP on).

One Prefect server (started here, so neither side pays its start-up) and one Dask cluster on
127.0.0.1: a scheduler and ``--dask-workers`` worker processes of one thread each. Then, alternating,
``dateline run --warc data/sample/sample.warc.gz`` with the local runner (``--workers`` processes) and
with ``--runner dask``, each in a fresh data dir; pages/s is pages / the flow's own time (the runs
table's started_at..finished_at), medians over ``--repeats``. On one 2-core machine the two should
be about even: the Dask cluster has the same two cores. The point is the cost of the Dask path
(serializing tasks, Prefect task runs reported from the workers), and that it scales by adding workers.

    python bench/scale_out.py [--repeats 2] [--batch-size 40] [--workers 2] [--dask-workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dateline.flows.server import LocalPrefectServer, free_port  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "scale_out.json"
BIN = Path(sys.executable).parent


def start_cluster(workers: int, tmp: Path, env: dict[str, str]) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A scheduler and ``workers`` one-thread workers on 127.0.0.1 (logs under ``tmp``)."""
    address = f"tcp://127.0.0.1:{free_port()}"
    commands = [["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"]]
    commands += [["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard"]
                 for _ in range(workers)]
    procs = []
    for n, command in enumerate(commands):
        log = tmp / f"dask-{n}.log"
        with open(log, "wb") as fh:
            procs.append(subprocess.Popen([str(BIN / "dask"), *command], env=env, stdout=subprocess.DEVNULL,
                                          stderr=fh))
        wait_for_log(log, "Scheduler at:" if n == 0 else "Registered to:")
    return address, procs


def wait_for_log(path: Path, text: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise SystemExit(f"{path.name}: no {text!r} after {seconds:.0f} s")


def one_run(tmp: Path, env: dict[str, str], extra: list[str]) -> dict[str, float]:
    """Run the pipeline once in a fresh data dir; returns wall and flow seconds and pages."""
    data = Path(tempfile.mkdtemp(dir=tmp))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dateline", "--data-dir", str(data), "run", "--warc", str(SAMPLE), *extra],
                   env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    out = subprocess.run([sys.executable, "-m", "dateline", "--data-dir", str(data), "sql",
                          "select epoch(finished_at) - epoch(started_at) as s, archived_count as pages, "
                          "extracted_count as articles from runs", "--format", "json"],
                         env=env, check=True, cwd=REPO, capture_output=True, text=True).stdout
    row = json.loads(out)[0]
    return {"wall_s": round(wall, 2), "flow_s": round(row["s"], 2), "pages": row["pages"], "articles": row["articles"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="local runner: extraction processes")
    parser.add_argument("--dask-workers", type=int, default=2, help="Dask worker processes (one thread each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, LocalPrefectServer(Path(name) / "prefect") as server:
        tmp = Path(name)
        env = {**os.environ, "PREFECT_API_URL": server.api_url, "PYTHONPATH": str(REPO), "DO_NOT_TRACK": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        address, procs = start_cluster(args.dask_workers, tmp, env)
        runs: dict[str, list[dict[str, float]]] = {"local": [], "dask": []}
        try:
            batch = ["--batch-size", str(args.batch_size)]
            for _ in range(args.repeats):
                runs["local"].append(one_run(tmp, env, [*batch, "--workers", str(args.workers)]))
                runs["dask"].append(one_run(tmp, env, [*batch, "--runner", "dask", "--dask-address", address]))
                print(f"local {runs['local'][-1]}  dask {runs['dask'][-1]}", file=sys.stderr)
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=30)
    rate = {k: statistics.median(r["pages"] / r["flow_s"] for r in v) for k, v in runs.items()}
    result = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "cpu_count": os.cpu_count(),
              "corpus": str(SAMPLE.relative_to(REPO)), "batch_size": args.batch_size,
              "local_workers": args.workers, "dask_workers": args.dask_workers, "runs": runs,
              "pages_per_s": {k: round(v, 2) for k, v in rate.items()},
              "dask_vs_local": round(rate["dask"] / rate["local"], 2)}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"pages/s (flow time, median of {args.repeats}): local {rate['local']:.1f} "
          f"({args.workers} processes), dask {rate['dask']:.1f} ({args.dask_workers} workers); "
          f"dask/local {result['dask_vs_local']:.2f}x  -> {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
