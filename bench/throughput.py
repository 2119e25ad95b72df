"""Processing speed: Dateline against plain trafilatura per process, and Dateline over worker processes.

First, the figure that counts: **distinct pages, cold caches**. Every distinct page of the sample
(by payload hash) is extracted once by plain ``trafilatura.bare_extraction(with_metadata=True)``
and once by Dateline's ``extract_article`` (decode, parse, metadata, images, extract: the
transform, without the WARC read), in an order that alternates page by page, with every
``functools`` cache of Dateline, trafilatura, htmldate, courlan and justext cleared before each
call: no page is repeated, so no memo cache can hit. The ratio is pages per CPU-second of Dateline
over trafilatura's (``time.process_time`` around each call). Then Dateline alone runs once more over
the same pages under cProfile (caches cleared likewise), and the functions where its time goes are
listed: Dateline's own modules by total time, and the split of the time between Dateline's code,
trafilatura (with htmldate, courlan, justext) and lxml/the rest.

Then three measurements on the same corpus (the sample pages repeated ``--copies`` times, default 4 = 620
pages: enough that starting a pool and the last chunk of a call do not dominate the timing):

- baseline: plain ``trafilatura.bare_extraction(body, url=url, with_metadata=True)`` on the pages' bytes,
  in this process;
- Dateline, 1 process: its processing path (``flows.process.process_pages``: read the archived record,
  decode, parse once, metadata, extract), in this process (``workers=1``);
- Dateline, N processes: the same with ``--workers`` worker processes (default 2); the pool is started
  and has run the whole corpus once before any timing.

The machine may be shared (2 cores, other jobs), so every repeat runs the three back to back, in an
order that rotates from repeat to repeat, and each ratio is computed within a repeat; the medians over
repeats are reported. The per-process ratio (target >= 0.9x) is given from CPU time (``time.process_time``
of this process, which does all the work of the first two measurements: what a busy machine distorts
least) and from wall time. Scaling (target >= 1.7x) is wall time, as workers are meant to save wall
time; the CPU time the workers used (from /proc) tells a busy machine (workers waiting for a core: CPU
per wall second well below N) from overhead (more CPU per page than one process needs).
Optionally (unless ``--no-flow``) a whole ``pipeline`` flow runs on Prefect's temporary local API.
Results go to bench/results/throughput.json.

    python bench/throughput.py [--repeat 5] [--workers 2] [--copies 4] [--no-flow] [--distinct-only]
                               [--profile-top 25] [--output FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402
from dateline.flows.acquire import Acquired, archive_files  # noqa: E402
from dateline.flows.archive import WarcArchive, iter_warc_pages  # noqa: E402
from dateline.flows.config import FetchSettings, ProcessSettings, Settings, Sources  # noqa: E402
from dateline.flows.process import process_pages, shutdown_pool  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "throughput.json"
PER_PROCESS_TARGET = 0.9
SCALING_TARGET = 1.7
BASELINE = "trafilatura bare_extraction, 1 process"
ONE = "dateline processing, 1 process"


@dataclass(frozen=True, slots=True)
class Timing:
    """One timed call: wall seconds, CPU seconds of this process, CPU seconds of the worker processes."""

    wall: float
    cpu: float
    workers_cpu: float | None


def _workers_cpu() -> float | None:
    """CPU seconds (user + system) used so far by this process's live child processes (the pool's
    workers), from /proc; None where /proc is not available."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in multiprocessing.active_children():
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / ticks


def timed(fn: Callable[[], object]) -> Timing:
    """Wall and CPU time of one call of fn."""
    gc.collect()
    workers_before = _workers_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    workers_after = _workers_cpu()
    workers = workers_after - workers_before if workers_before is not None and workers_after is not None else None
    return Timing(wall, cpu, workers)


_CACHED_PACKAGES = ("dateline", "trafilatura", "htmldate", "courlan", "justext")


def _caches() -> list[Callable[[], None]]:
    """cache_clear of every functools cache at module level (or on a module-level class) in the packages
    whose results a repeated page would reuse."""
    found: dict[int, Callable[[], None]] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(_CACHED_PACKAGES):
            continue
        for value in list(vars(module).values()):
            holders = [value, *vars(value).values()] if isinstance(value, type) else [value]
            for holder in holders:
                clear = getattr(holder, "cache_clear", None)
                if callable(clear):
                    found[id(holder)] = clear
    return list(found.values())


def distinct_pages(sample: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The sample without repeated payloads."""
    seen: set[str] = set()
    out = []
    for url, body in sample:
        key = hashlib.sha1(body).hexdigest()
        if key not in seen:
            seen.add(key)
            out.append((url, body))
    return out


def measure_distinct(pages: list[tuple[str, bytes]], top: int) -> dict[str, object]:
    """Per-page CPU time of plain trafilatura and of Dateline's extract_article on distinct pages, caches
    cleared before each call; then a profile of Dateline over the same pages."""
    from dateline.transforms.extract import PageInput, extract_article

    now = datetime.now(UTC)

    def ours(url: str, body: bytes) -> None:
        extract_article(body, PageInput(url=url, content_type=None, fetched_at=now, raw_ref="bench"), run_id="bench")

    def theirs(url: str, body: bytes) -> None:
        trafilatura.bare_extraction(body, url=url, with_metadata=True)

    from dateline.transforms.language import detect_language

    # imports and models, once (py3langid loads its model on first use: 0.46 s, once per process, not a
    # page's cost); the caches are cleared below before every timed call
    detect_language("A sentence or two of plain English text, long enough to be classified.")
    ours(*pages[0])
    theirs(*pages[0])
    clears = _caches()
    cpu = {"trafilatura": 0.0, "dateline": 0.0}
    for i, (url, body) in enumerate(pages):
        order = (("trafilatura", theirs), ("dateline", ours)) if i % 2 == 0 else (("dateline", ours),
                                                                                   ("trafilatura", theirs))
        for name, fn in order:
            for clear in clears:
                clear()
            start = time.process_time()
            fn(url, body)
            cpu[name] += time.process_time() - start
    ratio = cpu["trafilatura"] / cpu["dateline"]

    profiler = cProfile.Profile()
    for url, body in pages:
        for clear in clears:
            clear()
        profiler.enable()
        ours(url, body)
        profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())  # type: ignore[attr-defined]
    shares = {"dateline": 0.0, "trafilatura/htmldate/courlan/justext": 0.0, "lxml, re and the rest": 0.0}
    own: list[tuple[float, float, int, str]] = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "/dateline/" in filename or str(REPO) in filename and "/.venv/" not in filename:
            shares["dateline"] += tt
            own.append((tt, ct, nc, f"{Path(filename).parent.name}/{Path(filename).name}:{line} {func}"))
        elif any(f"/{p}/" in filename for p in _CACHED_PACKAGES[1:]):
            shares["trafilatura/htmldate/courlan/justext"] += tt
        else:
            shares["lxml, re and the rest"] += tt
    own.sort(reverse=True)
    return {
        "pages": len(pages),
        "cpu_seconds": cpu,
        "pages_per_cpu_second": {name: len(pages) / seconds for name, seconds in cpu.items()},
        "ratio": ratio,
        "caches_cleared": len(clears),
        "profile_seconds": total,
        "profile_shares": {k: v / total for k, v in shares.items()},
        "profile_dateline_top": [{"function": f, "tottime": tt, "cumtime": ct, "calls": nc}
                                 for tt, ct, nc, f in own[:top]],
    }


def print_distinct(result: dict[str, object]) -> None:
    rates = result["pages_per_cpu_second"]
    print(f"distinct pages, caches cold: {result['pages']} pages, {result['caches_cleared']} caches cleared "
          f"before each call")
    print(f"  pages/CPU-s: trafilatura bare_extraction {rates['trafilatura']:.1f}, "  # type: ignore[index]
          f"Dateline extract_article {rates['dateline']:.1f}: ratio {result['ratio']:.3f}x (target >= 1.0x)")  # type: ignore[index]
    print("  where Dateline's time goes (cProfile, own time): " + ", ".join(
        f"{k} {v:.0%}" for k, v in result["profile_shares"].items()))  # type: ignore[attr-defined]
    print(f"  {'tottime':>8} {'cumtime':>8} {'calls':>7}  Dateline function")
    for row in result["profile_dateline_top"]:  # type: ignore[attr-defined]
        print(f"  {row['tottime']:8.3f} {row['cumtime']:8.3f} {row['calls']:7d}  {row['function']}")


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _mark(value: float, target: float) -> str:
    return "meets" if value >= target else "BELOW"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of all three measurements")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copies", type=int, default=4, help="times the 155 sample pages are repeated")
    parser.add_argument("--no-flow", action="store_true", help="skip the Prefect flow measurement")
    parser.add_argument("--distinct-only", action="store_true",
                        help="only the distinct-pages measurement and profile (no repeated corpus, no pool)")
    parser.add_argument("--profile-top", type=int, default=25, help="Dateline functions listed from the profile")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON results (default: %(default)s)")
    args = parser.parse_args()
    many = f"dateline processing, {args.workers} processes"

    with open(SAMPLE, "rb") as fh:
        sample = [(p.url, p.payload) for p in iter_warc_pages(fh, 50_000_000)]
    distinct = measure_distinct(distinct_pages(sample), args.profile_top)
    print_distinct(distinct)
    if args.distinct_only:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"distinct": distinct}, indent=2))
        print(f"wrote {args.output}")
        return
    pages = sample * args.copies
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        with WarcArchive(raw, "bench", datetime.now(UTC)) as archive:
            acquired: Acquired = archive_files(Sources(warcs=(str(SAMPLE),)), FetchSettings(), archive, "bench", {})
        refs = acquired.pages * args.copies

        def plain(corpus: list[tuple[str, bytes]]) -> None:
            for url, body in corpus:
                trafilatura.bare_extraction(body, url=url, with_metadata=True)

        runs: dict[str, Callable[[], object]] = {
            BASELINE: lambda: plain(pages),
            ONE: lambda: process_pages(raw, refs, "bench", workers=1),
            many: lambda: process_pages(raw, refs, "bench", workers=args.workers),
        }
        # warm-up: imports and caches here, once over the sample; the pool started and run over the corpus
        plain(sample)
        process_pages(raw, acquired.pages, "bench", workers=1)
        runs[many]()
        timings: dict[str, list[Timing]] = {name: [] for name in runs}
        names = list(runs)
        for i in range(args.repeat):
            for name in names[i % 3:] + names[:i % 3]:  # rotating order: no measurement always goes first
                timings[name].append(timed(runs[name]))
        shutdown_pool()

        flow: dict[str, float] = {}
        if not args.no_flow:
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            os.environ.setdefault("DO_NOT_TRACK", "1")
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
            from dateline.flows.pipeline import pipeline

            for label in ("first flow (temporary API starts)", "second flow"):
                settings = Settings(data_dir=Path(tmp) / label.split()[0],
                                    process=ProcessSettings(workers=args.workers))
                start = time.perf_counter()
                pipeline(sources={"warcs": [str(SAMPLE)]}, settings=settings.to_dict())
                flow[label] = time.perf_counter() - start
            shutdown_pool()
    load_after = os.getloadavg()

    n = len(refs)
    base, one, par = timings[BASELINE], timings[ONE], timings[many]
    cpu_ratio = _median([b.cpu / o.cpu for b, o in zip(base, one, strict=True)])
    wall_ratio = _median([b.wall / o.wall for b, o in zip(base, one, strict=True)])
    scaling = _median([o.wall / p.wall for o, p in zip(one, par, strict=True)])
    workers_cpu = [p.workers_cpu for p in par if p.workers_cpu is not None]
    cpu_per_page_one = _median([o.cpu for o in one]) / n
    cpu_per_page_workers = _median(workers_cpu) / n if workers_cpu else None
    cores_used = _median([p.workers_cpu / p.wall for p in par if p.workers_cpu is not None]) if workers_cpu else None

    wall_rates = {name: n / _median([t.wall for t in ts]) for name, ts in timings.items()}
    cpu_rates: dict[str, float | None] = {BASELINE: n / _median([t.cpu for t in base]),
                                          ONE: n / _median([t.cpu for t in one]),
                                          many: n / _median(workers_cpu) if workers_cpu else None}  # workers' CPU

    print(f"{n} pages ({len(acquired.pages)} sample pages x {args.copies}) on {os.cpu_count()} cores, "
          f"median of {args.repeat} rounds in rotating order; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    print(f"{'':44} {'pages/s (wall)':>15} {'pages/CPU-s':>12}")
    for name, rate in wall_rates.items():
        cpu_rate = cpu_rates[name]
        print(f"{name:44} {rate:15.1f} {f'{cpu_rate:.1f}' if cpu_rate is not None else '?':>12}")
    print(f"per-process ratio, CPU time: {cpu_ratio:.3f}x  (target >= {PER_PROCESS_TARGET}x: "
          f"{_mark(cpu_ratio, PER_PROCESS_TARGET)})")
    print(f"per-process ratio, wall time: {wall_ratio:.3f}x  (target >= {PER_PROCESS_TARGET}x: "
          f"{_mark(wall_ratio, PER_PROCESS_TARGET)})")
    print(f"scaling 1 -> {args.workers} processes, wall time: {scaling:.2f}x  (target >= {SCALING_TARGET}x: "
          f"{_mark(scaling, SCALING_TARGET)})")
    if cpu_per_page_workers is not None and cores_used is not None:
        print(f"  workers: {1000 * cpu_per_page_workers:.1f} CPU-ms a page (one process: "
              f"{1000 * cpu_per_page_one:.1f}), {cores_used:.2f} cores busy of {args.workers}")
    for label, seconds in flow.items():
        print(f"pipeline flow, {label}: {seconds:.1f} s ({len(acquired.pages) / seconds:.1f} pages/s)")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "pages": n, "sample_pages": len(acquired.pages), "copies": args.copies, "cores": os.cpu_count(),
        "repeat": args.repeat, "workers": args.workers, "load_average": {"before": load_before, "after": load_after},
        "pages_per_second": wall_rates, "pages_per_cpu_second": cpu_rates,
        "per_process_ratio": {"cpu": cpu_ratio, "wall": wall_ratio, "target": PER_PROCESS_TARGET},
        "scaling": scaling, "scaling_target": SCALING_TARGET,
        "workers_cpu_ms_per_page": 1000 * cpu_per_page_workers if cpu_per_page_workers is not None else None,
        "one_process_cpu_ms_per_page": 1000 * cpu_per_page_one, "worker_cores_busy": cores_used,
        "rounds": {name: [{"wall": t.wall, "cpu": t.cpu, "workers_cpu": t.workers_cpu} for t in ts]
                   for name, ts in timings.items()},
        "flow_seconds": flow,
        "distinct": distinct,
    }, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
