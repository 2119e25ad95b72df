"""Processing speed on the sample corpus: Dateline against plain trafilatura, in one run.

Measures pages per second for
- plain ``trafilatura.bare_extraction(with_metadata=True)`` on the same bytes (the baseline),
- Dateline's processing path (read from the WARC archive, decode, parse once, metadata, extract)
  in one process and in worker processes (``--workers``, default 2),
- a whole ``pipeline`` flow run on Prefect's temporary local API (startup included and excluded).
Ratios are printed against the baseline; results go to bench/results/throughput.json.

    python bench/throughput.py [--repeat 3] [--workers 2] [--no-flow]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from flows.acquire import Acquired, archive_files  # noqa: E402
from flows.archive import WarcArchive, iter_warc_pages  # noqa: E402
from flows.config import FetchSettings, ProcessSettings, Settings, Sources  # noqa: E402
from flows.process import process_pages, shutdown_pool  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "throughput.json"


def best_rate(count: int, fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Pages per second: the median of ``repeat`` timed calls of fn (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-flow", action="store_true", help="skip the Prefect flow measurement")
    args = parser.parse_args()

    with open(SAMPLE, "rb") as fh:
        pages = [(p.url, p.payload) for p in iter_warc_pages(fh, 50_000_000)]

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        with WarcArchive(raw, "bench", datetime.now(UTC)) as archive:
            acquired: Acquired = archive_files(Sources(warcs=(str(SAMPLE),)), FetchSettings(), archive, "bench", {})
        refs = acquired.pages

        def plain() -> None:
            for url, body in pages:
                trafilatura.bare_extraction(body, url=url, with_metadata=True, include_comments=False)

        results: dict[str, float] = {}
        results["trafilatura bare_extraction, 1 process"] = best_rate(len(pages), plain, args.repeat)
        results["dateline processing, 1 process"] = best_rate(
            len(refs), lambda: process_pages(raw, refs, "bench", workers=1), args.repeat)
        results[f"dateline processing, {args.workers} processes"] = best_rate(
            len(refs), lambda: process_pages(raw, refs, "bench", workers=args.workers), args.repeat)
        shutdown_pool()

        flow: dict[str, float] = {}
        if not args.no_flow:
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            os.environ.setdefault("DO_NOT_TRACK", "1")
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
            from flows.pipeline import pipeline

            for label in ("first flow (temporary API starts)", "second flow"):
                settings = Settings(data_dir=Path(tmp) / label.split()[0],
                                    process=ProcessSettings(workers=args.workers))
                start = time.perf_counter()
                pipeline(sources={"warcs": [str(SAMPLE)]}, settings=settings.to_dict())
                flow[label] = time.perf_counter() - start
            shutdown_pool()

    base = results["trafilatura bare_extraction, 1 process"]
    print(f"{len(pages)} pages from {SAMPLE.relative_to(REPO)} on {os.cpu_count()} cores, median of {args.repeat}")
    print(f"{'':48} {'pages/s':>8} {'vs baseline':>12}")
    for name, rate in results.items():
        print(f"{name:48} {rate:8.1f} {rate / base:11.2f}x")
    one = results["dateline processing, 1 process"]
    many = results[f"dateline processing, {args.workers} processes"]
    print(f"scaling 1 -> {args.workers} processes: {many / one:.2f}x")
    for label, seconds in flow.items():
        print(f"pipeline flow, {label}: {seconds:.1f} s ({len(pages) / seconds:.1f} pages/s)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"pages": len(pages), "cores": os.cpu_count(), "pages_per_second": results,
                                  "scaling": many / one, "flow_seconds": flow}, indent=2))
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
