"""Whole runs at corpus scale: pages/s end to end with NLP, Prefect's overhead, peak memory, time per stage.

For each corpus size (``--sizes``, default 1,000 and 3,000 pages; 10,000 pages take about 10
minutes a run here, so measure its memory with ``--flow-only``) a WARC is built from the sample
corpus: page i is sample page i mod 155 under its own canonical URL, so every page is its own
article (texts repeat, as wire copies do). Then, each in a fresh process and data dir:

- ``dateline run --warc CORPUS`` (the Prefect flow, NLP on, default workers) on its temporary local
  API, as a one-off command runs: wall time, and peak memory as the summed PSS of the command and all
  its child processes, the temporary API's included (sampled every 0.2 s from /proc; PSS shares the
  model pages the workers have in common fairly);
- the same command with PREFECT_API_URL naming a Prefect server started before (as scheduled runs
  under `dateline serve` run): wall time;
- the same transforms in a plain loop with no Prefect (``--plain``), batches submitted as the flow
  submits them (two in flight): wall time split by stage.

Prefect's overhead is flow time / plain-loop time - 1. The temporary API costs a run a fixed few
seconds (start, stop), so its share shrinks as the corpus grows. The first run in a fresh
PREFECT_HOME also creates the API's database: a 10-page run does that first, timed apart. Memory
is flat when the larger run's peak is close to the smaller run's (batches are bounded; nothing
holds the whole corpus).

    python bench/scale.py [--sizes 1000,3000] [--workers 2] [--no-nlp]
    python bench/scale.py --sizes 10000 --flow-only     # peak memory at 10,000 pages (scale-flow-only.json)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dateline.flows.archive import iter_warc_pages  # noqa: E402
from dateline.flows.server import LocalPrefectServer  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "scale.json"
_HEAD = re.compile(rb"<head[^>]*>", re.I)


def build_corpus(pages: int, path: Path) -> None:
    """A WARC of ``pages`` responses: sample page i mod n, each under a canonical URL of its own."""
    with open(SAMPLE, "rb") as fh:
        sample = [(p.url, p.payload) for p in iter_warc_pages(fh, 50_000_000)]
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(pages):
            url, body = sample[i % len(sample)]
            own = f"https://copy{i // len(sample)}.bench.example/{i % len(sample)}"
            link = f'<link rel="canonical" href="{own}">'.encode()
            head = _HEAD.search(body)
            body = body[:head.end()] + link + body[head.end():] if head else link + body
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(own, "response", payload=BytesIO(body),
                                                          length=len(body), http_headers=headers))


def _children(pid: int) -> list[int]:
    """pid and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def _pss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak summed PSS of the process tree, stdout) of a command."""
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss_bytes(p) for p in _children(proc.pid)))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return seconds, peak, stdout


def plain_loop(corpus: Path, data_dir: Path, workers: int, nlp: bool) -> None:
    """The run's transforms with no Prefect: archive, process in batches, load. Prints stage times as JSON."""
    from dateline.flows import store
    from dateline.flows.acquire import archive_files, known_raw
    from dateline.flows.archive import WarcArchive
    from dateline.flows.config import ProcessSettings, Settings, Sources
    from dateline.flows.pipeline import LOCAL_BATCHES_IN_FLIGHT, load_run, new_run_id, process_batch
    from dateline.flows.process import batched, shutdown_pool

    settings = Settings(data_dir=data_dir, process=ProcessSettings(workers=workers, nlp=nlp))
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    times: dict[str, float] = {}
    clock = time.perf_counter()
    store.ensure_tables(settings.processed_dir, settings.raw_dir)
    with WarcArchive(settings.raw_dir, f"{run_id}-files", started) as archive:
        acquired = archive_files(Sources(warcs=(str(corpus),)), settings.fetch, archive, run_id, known_raw([]))
    times["archive"], clock = time.perf_counter() - clock, time.perf_counter()
    # as the flow submits them: LOCAL_BATCHES_IN_FLIGHT batches at once, in threads (one being staged
    # while the next is processed), so the comparison holds the pipeline's design equal and isolates Prefect
    with ThreadPoolExecutor(max_workers=LOCAL_BATCHES_IN_FLIGHT) as threads:
        pending: deque[Future[object]] = deque()
        for n, refs in enumerate(batched(acquired.pages, settings.process.batch_size)):
            pending.append(threads.submit(process_batch, f"{run_id}-{n:05d}", list(refs), settings, run_id))
            if len(pending) >= LOCAL_BATCHES_IN_FLIGHT:
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    shutdown_pool()  # as the flow does before its load
    times["process (extract, nlp, stage)"], clock = time.perf_counter() - clock, time.perf_counter()
    store.write_raw_index(acquired.raw_rows, settings.raw_dir, run_id)
    store.mark_committed(settings.processed_dir, run_id)
    load_run(settings.processed_dir, run_id)
    times["load"] = time.perf_counter() - clock
    shutdown_pool()
    print(json.dumps(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000", help="corpus sizes in pages, comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-nlp", action="store_true", help="leave out the NLP stage")
    parser.add_argument("--flow-only", action="store_true",
                        help="only the flow on its temporary API: time and peak memory (e.g. --sizes 10000)")
    parser.add_argument("--plain", nargs=2, metavar=("CORPUS", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        plain_loop(Path(args.plain[0]), Path(args.plain[1]), args.workers, not args.no_nlp)
        return

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PREFECT_HOME": str(Path(tmp) / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
        env.pop("PREFECT_API_URL", None)
        config = Path(tmp) / "dateline.toml"
        config.write_text(f"[process]\nworkers = {args.workers}\nnlp = {'false' if args.no_nlp else 'true'}\n")
        # the first run in a PREFECT_HOME creates the temporary API's database (a user's first run
        # does, once): a 10-page run does it here, timed apart, so each size measures what every
        # later run pays
        warm = Path(tmp) / "corpus-10.warc.gz"
        build_corpus(10, warm)
        first_s, _, _ = run_measured([sys.executable, "-m", "dateline", "--config", str(config), "--data-dir",
                                      str(Path(tmp) / "first-run"), "run", "--warc", str(warm)], env)
        print(f"first run in a fresh PREFECT_HOME (10 pages; creates the temporary API's database): "
              f"{first_s:.1f} s", flush=True)
        with LocalPrefectServer(Path(tmp) / "server") as server:
            served = {**env, "PREFECT_API_URL": server.api_url}
            for size in (int(s) for s in args.sizes.split(",")):
                corpus = Path(tmp) / f"corpus-{size}.warc.gz"
                build_corpus(size, corpus)

                def flow_run(name: str, run_env: dict[str, str], size: int = size,
                             corpus: Path = corpus) -> tuple[float, int, str]:
                    return run_measured([sys.executable, "-m", "dateline", "--config", str(config), "--data-dir",
                                         str(Path(tmp) / f"{name}-{size}"), "run", "--warc", str(corpus)], run_env)

                flow_s, flow_peak, _ = flow_run("flow", env)
                if args.flow_only:
                    results.append({"pages": size, "flow_seconds": flow_s, "flow_pages_per_second": size / flow_s,
                                    "flow_peak_pss_mb": flow_peak / 2**20})
                    print(f"{size:>6} pages: flow {flow_s:6.1f} s ({size / flow_s:.1f} pages/s), "
                          f"peak memory {flow_peak / 2**20:.0f} MB", flush=True)
                    continue
                plain_s, plain_peak, stdout = run_measured(
                    [sys.executable, __file__, "--workers", str(args.workers), *(["--no-nlp"] if args.no_nlp else []),
                     "--plain", str(corpus), str(Path(tmp) / f"plain-{size}")], env)
                served_s, _, _ = flow_run("served", served)
                stages = json.loads(stdout.strip().splitlines()[-1])
                results.append({"pages": size, "flow_seconds": flow_s, "served_flow_seconds": served_s,
                                "plain_seconds": plain_s, "flow_pages_per_second": size / flow_s,
                                "prefect_overhead": flow_s / plain_s - 1,
                                "served_prefect_overhead": served_s / plain_s - 1,
                                "flow_peak_pss_mb": flow_peak / 2**20, "plain_peak_pss_mb": plain_peak / 2**20,
                                "stage_seconds": stages})
                r = results[-1]
                print(f"{size:>6} pages: flow {flow_s:6.1f} s ({r['flow_pages_per_second']:.1f} pages/s), "
                      f"plain loop {plain_s:6.1f} s, Prefect overhead {r['prefect_overhead']:+.1%} "
                      f"({flow_s - plain_s:+.1f} s) on a temporary API, {r['served_prefect_overhead']:+.1%} "
                      f"({served_s - plain_s:+.1f} s) with a running server; peak memory "
                      f"{r['flow_peak_pss_mb']:.0f} MB (plain {r['plain_peak_pss_mb']:.0f} MB)", flush=True)
                print("        stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    if len(results) > 1:
        growth = results[-1]["flow_peak_pss_mb"] / results[0]["flow_peak_pss_mb"]
        print(f"memory growth {results[0]['pages']} -> {results[-1]['pages']} pages: {growth:.2f}x")
    output = OUTPUT.with_name("scale-flow-only.json") if args.flow_only else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"cores": os.cpu_count(), "nlp": not args.no_nlp,
                                  "first_run_10_pages_seconds": first_s, "runs": results}, indent=2))
    print(f"wrote {output.relative_to(REPO)}")


if __name__ == "__main__":
    main()
