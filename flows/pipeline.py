"""The `dateline run` flow: acquire -> process (batched) -> load -> record the run.

Tasks are thin wrappers over plain functions in flows/ and transforms/. They pass paths,
references and counts to each other, never HTML or DataFrames, and each stage writes Parquet
before the next reads it (batches are staged; `load` moves them into the tables).
Run it as ``dateline run ...`` or ``python -m dateline.flows.pipeline`` (see prefect.yaml).

A run may be killed at any moment (SIGKILL, power cut). Its commit point is the raw index: the
run writes its raw index rows only once every batch is staged, then marks its staging committed
and loads it. Killed before that point, its WARC records stay unindexed (readable, unused), its
staging is discarded, and the next run on the same sources fetches or reads those pages again.
Killed after it, the next run loads the staging first (keys make a second load add nothing).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import trafilatura
from dateline.flows import derived, search, store
from dateline.flows.acquire import Acquired, archive_files, fetch_state, fetch_web, known_raw
from dateline.flows.archive import WarcArchive
from dateline.flows.clusters import cluster_run
from dateline.flows.config import ConfigError, DatelineError, Settings, Sources
from dateline.flows.dedup import assign_groups
from dateline.flows.lock import data_dir_lock
from dateline.flows.process import PageRef, batched, process_batch_pages, shutdown_pool, worker_count
from dateline.flows.progress import progress
from dateline.flows.sitelines import load_site_lines, read_site_lines, stage_site_lines
from dateline.flows.snapshot import Transaction
from dateline.transforms.dedup import fingerprint
from dateline.transforms.extract import DATELINE_VERSION
from dateline.transforms.schema import (
    ARTICLE_ACTORS,
    ARTICLES,
    DEDUP,
    EVENTS,
    IMAGES,
    MENTIONS,
    QUARANTINE,
    QUOTES,
    RAW_INDEX,
    RUNS,
    ArticleRecord,
    DedupRecord,
    ExtractedPage,
    QuarantineRecord,
    RawRecord,
    Reject,
    RunRecord,
)
from dateline.transforms.sitewide import site_of
from dateline.transforms.urls import domain_of
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.settings import get_current_settings


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: '20261126T213000Z-1a2b3c'."""
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class BatchResult:
    batch_id: str
    articles: int
    rejects: int
    nlp_articles: int = 0
    nlp_skipped: int = 0
    events: int = 0


def _fingerprinted(article: ArticleRecord) -> DedupRecord:
    """The article's fingerprint, its group still to be decided at load (flows/dedup.py)."""
    fp = fingerprint(f"{article.title or ''}\n{article.text}")
    return DedupRecord(article_id=article.article_id, content_hash=article.content_hash, dup_group="",
                       similarity=0.0, signature=fp.signature, bands=fp.bands, fetched_at=article.fetched_at)


def _publish_artifact(run: RunRecord) -> None:
    """The run's counts as a Prefect table artifact (shown with the flow run in the UI)."""
    counts = {f: getattr(run, f) for f in run.__dataclass_fields__ if f.endswith("_count")}
    rows = [{"stage": name.removesuffix("_count").replace("_", " "), "count": value} for name, value in counts.items()]
    create_table_artifact(key="dateline-run-counts", table=rows,
                          description=f"Dateline run {run.run_id} ({run.status}): counts per stage")


def _quarantine_rows(rejects: list[Reject], run_id: str) -> list[QuarantineRecord]:
    now = datetime.now(UTC)
    return [r.to_record(run_id=run_id, occurred_at=now) for r in rejects]


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_task(sources: Sources, settings: Settings, run_id: str, started_at: datetime,
               archived: list[RawRecord]) -> Acquired:
    """Discover and fetch web sources into this run's WARC files (``archived``: the raw index so far).
    Their raw index rows are written at the run's commit point, not here."""
    logger = get_run_logger()
    state = fetch_state(archived)
    with WarcArchive(settings.raw_dir, f"{run_id}-web", started_at) as archive:
        acquired = fetch_web(sources, settings.fetch, archive, run_id, state, started_at)
    store.stage(_quarantine_rows(acquired.rejects, run_id), QUARANTINE, settings.processed_dir, run_id, "fetch")
    logger.info("fetch: %d URLs discovered, %d not due, %d not modified, %d responses, %d pages archived, "
                "%d rejected", acquired.discovered, acquired.skipped, acquired.not_modified, acquired.responses,
                len(acquired.pages), len(acquired.rejects))
    return acquired


@task(name="archive-files", cache_policy=NO_CACHE)
def archive_files_task(sources: Sources, settings: Settings, run_id: str, started_at: datetime,
                       archived: list[RawRecord]) -> Acquired:
    """Copy saved pages and WARC records into this run's WARC files (bytes archived before are reused)."""
    logger = get_run_logger()
    known = known_raw(archived)
    with WarcArchive(settings.raw_dir, f"{run_id}-files", started_at) as archive:
        acquired = archive_files(sources, settings.fetch, archive, run_id, known)
    store.stage(_quarantine_rows(acquired.rejects, run_id), QUARANTINE, settings.processed_dir, run_id, "files")
    logger.info("archive-files: %d pages (%d newly archived), %d rejected",
                len(acquired.pages), len(acquired.raw_rows), len(acquired.rejects))
    return acquired


@task(name="process", cache_policy=NO_CACHE)
def process_task(batch_id: str, refs: list[PageRef], settings: Settings, run_id: str) -> BatchResult:
    """Extract one batch of archived pages and stage its articles and rejects. The log line names the
    process and host that did the work: on a Dask cluster, the worker."""
    result = process_batch(batch_id, refs, settings, run_id)
    get_run_logger().info("process %s: %d articles (%d analyzed, %d events), %d quarantined (pid %d on %s)",
                          batch_id, result.articles, result.nlp_articles, result.events, result.rejects,
                          os.getpid(), socket.gethostname())
    return result


def check_runner(cfg: Settings) -> None:
    """Refuse runner 'dask' without a Prefect server: each Dask worker would otherwise start a temporary
    API of its own (NOTES.md), and its task runs would be recorded nowhere the flow run can see."""
    if cfg.process.runner == "dask" and not get_current_settings().api.url:
        raise ConfigError("runner 'dask' needs a Prefect server its workers can reach: set PREFECT_API_URL "
                          "(`dateline run` starts a local one when the scheduler is on this machine)")


def reset_prefect_senders() -> None:
    """Run on each Dask worker before a run's tasks. Prefect keeps one events sender (task-run states) and
    one log sender per process, bound to the API they first reported to; a worker that outlived an
    earlier run's server (each `dateline run` with no PREFECT_API_URL starts its own) would send this
    run's task states there, and the run's Prefect server would never see its process tasks. Stopping
    them makes the next task start new ones, for the API that this run's tasks carry."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (EventsWorker, APILogWorker):
        service.drain_all(timeout=5, at_exit=False)


class DaskUnavailable(DatelineError):
    """The Dask scheduler of runner 'dask' cannot be reached."""


Submit = Callable[[str, list[PageRef]], PrefectFuture[BatchResult]]
LOCAL_BATCHES_IN_FLIGHT = 2  # one being processed, the next queued behind it in the worker pool


@contextmanager
def batch_submitter(cfg: Settings, run_id: str) -> Iterator[Submit]:
    """A function that submits one process task per batch, to the runner the settings name.

    "local": the flow's own task runner (threads; each batch spreads over this machine's worker
    processes). "dask": a DaskTaskRunner on the scheduler at ``process.dask_address``, opened here
    rather than attached to the flow, so the settings decide it wherever the flow runs (a run that
    `dateline serve` starts loads the flow afresh from its entrypoint, without options set at call
    time). On the cluster each task processes its batch in the worker's own process (workers = 1):
    the cluster's workers are the parallelism. The workers read the WARC files from the raw root
    and write staged Parquet to the processed root, so both must be reachable from every worker.
    """
    if cfg.process.runner != "dask":
        yield lambda batch_id, refs: process_task.submit(batch_id, refs, cfg, run_id)
        return
    from prefect_dask.task_runners import DaskTaskRunner  # imported only for runner 'dask'

    on_worker = replace(cfg, process=replace(cfg.process, workers=1))
    with DaskTaskRunner(address=cfg.process.dask_address) as runner:
        try:
            runner.client  # noqa: B018 - connects now, so an unreachable scheduler fails here, in one line
        except (OSError, TimeoutError) as exc:
            raise DaskUnavailable(f"cannot reach the Dask scheduler at {cfg.process.dask_address}: {exc}") from None
        workers = list(runner.client.scheduler_info().get("workers", {}))
        runner.client.gather([runner.client.submit(reset_prefect_senders, workers=[w], allow_other_workers=False,
                                                   pure=False) for w in workers])
        yield lambda batch_id, refs: runner.submit(
            process_task, parameters={"batch_id": batch_id, "refs": refs, "settings": on_worker, "run_id": run_id})


def process_batch(batch_id: str, refs: list[PageRef], settings: Settings, run_id: str) -> BatchResult:
    """The process task's work, without Prefect (bench/scale.py times it in a plain loop)."""
    nlp_model = settings.process.nlp_model if settings.process.nlp else None
    root = settings.processed_dir
    prior = read_site_lines(root, {site_of(domain_of(r.url)) for r in refs})  # earlier runs' evidence, these sites only
    outcomes, evidence = process_batch_pages(settings.raw_dir, refs, run_id, worker_count(settings.process.workers),
                                             nlp_model, prior)
    pages = [o for o in outcomes if isinstance(o, ExtractedPage)]
    rejects = [o for o in outcomes if isinstance(o, Reject)]
    stage_site_lines(root, run_id, batch_id, evidence)
    store.stage([p.article for p in pages], ARTICLES, root, run_id, batch_id)
    store.stage([i for p in pages for i in p.images], IMAGES, root, run_id, batch_id)
    analyzed = [p.nlp for p in pages if p.nlp is not None]
    store.stage([m for r in analyzed for m in r.mentions], MENTIONS, root, run_id, batch_id)
    store.stage([a for r in analyzed for a in r.actors], ARTICLE_ACTORS, root, run_id, batch_id)
    store.stage([e for r in analyzed for e in r.events], EVENTS, root, run_id, batch_id)
    store.stage([q for r in analyzed for q in r.quotes], QUOTES, root, run_id, batch_id)
    store.stage([_fingerprinted(p.article) for p in pages], DEDUP, root, run_id, batch_id)
    store.stage(_quarantine_rows(rejects, run_id), QUARANTINE, settings.processed_dir, run_id, batch_id)
    events = sum(len(r.events) for r in analyzed)
    skipped = len(pages) - len(analyzed) if nlp_model else 0
    return BatchResult(batch_id, len(pages), len(rejects), len(analyzed), skipped, events)


LOADED_TABLES = (ARTICLES, IMAGES, MENTIONS, ARTICLE_ACTORS, EVENTS, QUOTES, DEDUP, QUARANTINE)


def load_run(processed: Path, run_id: str, tx: Transaction) -> dict[str, tuple[int, int]]:
    """Move a run's staged rows into the transaction ``tx``, dropping rows already stored, with its raw
    index file and the derived actor tables' rows (flows/derived.py). Nothing is visible until the
    caller commits; safe to repeat after a kill (the files written before are listed by no snapshot).
    A derived table of another module joins here: a function taking ``tx`` that writes its files and
    calls ``tx.add`` or ``tx.replace`` (docs/architecture.md, "Snapshots")."""
    assign_groups(processed, run_id, [str(p) for p in tx.paths(DEDUP.name)])
    loaded = {t.name: store.load_staged(processed, run_id, t, tx=tx) for t in LOADED_TABLES}
    index = store.table_dir(tx.raw, RAW_INDEX) / f"{run_id}.parquet"
    if index.exists():
        tx.add(RAW_INDEX.name, [index])
    cluster_run(tx)  # the run's events into event clusters, in the same snapshot (flows/clusters.py)
    derived.refresh_derived(tx)  # after the clusters: actor_events carries each event's cluster_id
    load_site_lines(processed, run_id)  # the run's site evidence, for later runs' boilerplate (flows/sitelines.py)
    return loaded


@task(name="load", cache_policy=NO_CACHE)
def load_task(settings: Settings, run_id: str, tx: Transaction) -> dict[str, tuple[int, int]]:
    """Move the run's staged rows into the run's transaction, dropping rows already stored."""
    loaded = load_run(settings.processed_dir, run_id, tx)
    get_run_logger().info("load: %s", ", ".join(f"{k} +{new} ({old} already stored)"
                                               for k, (new, old) in loaded.items()))
    return loaded


def compact_if_due(cfg: Settings) -> None:
    """Compact the tables (as `dateline compact`) once they hold more than ``process.compact_at_files``
    data files: each run adds a file per table and partition, so a schedule every 15 minutes would
    otherwise pile up thousands, and every query opens them all. A commit of its own, after the run's."""
    limit = cfg.process.compact_at_files
    if not limit:
        return
    if (files := store.data_file_count(cfg.processed_dir)) > limit:
        try:
            compact_task(cfg, files)
        except DatelineError as exc:  # e.g. no space for the merged files: the run's rows are loaded all the same
            get_run_logger().warning("compaction failed, the tables stay as loaded (`dateline compact` retries): %s",
                                     exc)


@task(name="compact", cache_policy=NO_CACHE)
def compact_task(cfg: Settings, files: int) -> None:
    merged = store.compact(cfg.processed_dir, cfg.raw_dir)
    get_run_logger().info("compact: the tables held %d data files (more than process.compact_at_files = %d); "
                          "merged %d folders, now %d files", files, cfg.process.compact_at_files, len(merged),
                          store.data_file_count(cfg.processed_dir))


@task(name="archived-pages", cache_policy=NO_CACHE)
def archived_pages_task(settings: Settings, since: str | None) -> Acquired:
    """Every archived page (200 responses and saved files) fetched on or after ``since``: reprocessing
    reads them from data/raw and touches no network."""
    rows = store.read_raw_index(settings.raw_dir)
    cutoff = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    pages: dict[str, PageRef] = {}
    for row in sorted(rows, key=lambda r: r.fetched_at):
        if row.kind != "page" or not (row.status == 200 or row.record_type == "resource") or row.truncated:
            continue
        if cutoff is not None and row.fetched_at < cutoff:
            continue
        ref = f"{row.warc_file}#{row.warc_offset}"
        pages.setdefault(ref, PageRef(row.final_url, ref, row.fetched_at, row.content_type))
    get_run_logger().info("reprocess: %d archived pages%s", len(pages), f" since {since}" if since else "")
    return Acquired(pages=list(pages.values()), discovered=len(pages))


@flow(name="dateline-run")
def pipeline(sources: dict[str, list[str]], settings: dict[str, Any] | None = None,
             reprocess_since: str | None = None, reprocess: bool = False, rebuild: bool = False) -> dict[str, Any]:
    """Fetch or read the sources, archive them raw, extract articles and load them as Parquet.

    ``sources`` has the keys of flows.config.Sources (feeds, sitemaps, urls, warcs, html_dirs);
    ``settings`` is Settings.to_dict() (defaults when omitted). With ``reprocess`` the pages come from
    the raw archive instead (those fetched on or after ``reprocess_since``, an ISO date, if given);
    ``rebuild`` also starts data/processed afresh (runs and fetch-stage quarantine rows are kept).
    Returns the run's row as a dict.
    """
    src = Sources(**{k: tuple(v) for k, v in sources.items()})
    cfg = Settings.from_dict(settings) if settings else Settings()
    check_runner(cfg)
    with data_dir_lock(cfg.data_dir, cfg.process.lock_wait_seconds), stop_on_signals():
        recover(cfg)
        return _locked_run(src, cfg, reprocess, reprocess_since, rebuild)


class RunStopped(DatelineError):
    """SIGTERM or SIGINT asked the run to stop."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT stop the run where it is: an exception unwinds it like any failure (the
    batches in flight are abandoned, the workers stopped, the run recorded as failed); nothing it wrote
    is visible unless its snapshot was committed, and the next run picks up what remains."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once
        raise RunStopped(f"stopped by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def recover(cfg: Settings) -> None:
    """Put right what a killed run, rebuild or compaction left in the data dir (we hold its lock, so
    every staging folder belongs to a dead run): load a committed run's staging, discard the rest."""
    logger = get_run_logger()
    for note in store.recover(cfg.processed_dir, cfg.raw_dir):
        logger.warning("recovery: %s", note)
    leftover = store.leftover_runs(cfg.processed_dir)
    indexed = store.indexed_runs(cfg.raw_dir) if leftover else set()
    for run_id in leftover:
        if not store.is_rebuild(cfg.processed_dir, run_id) and (
                store.is_committed(cfg.processed_dir, run_id) or run_id in indexed):
            tx = store.begin(cfg.processed_dir, cfg.raw_dir, "recover", run_id)
            loaded = load_run(cfg.processed_dir, run_id, tx)
            now = datetime.now(UTC)
            _record_run(tx, RunRecord(run_id=run_id, flow_run_id=None, started_at=now, finished_at=now,
                                      status="recovered", sources=(), discovered_count=0, fetched_count=0,
                                      archived_count=0, extracted_count=0, new_article_count=loaded["articles"][0],
                                      unchanged_article_count=loaded["articles"][1], quarantined_count=0,
                                      dateline_version=DATELINE_VERSION, trafilatura_version=trafilatura.__version__,
                                      prefect_version=version("prefect")))
            tx.commit()
            store.drop_staging(cfg.processed_dir, run_id)
            logger.warning("recovery: finished loading interrupted run %s (%d new articles)",
                           run_id, loaded["articles"][0])
        else:
            store.drop_staging(cfg.processed_dir, run_id)
            logger.warning("recovery: discarded the staged rows of interrupted run %s; its pages are read "
                           "again by the next run over the same sources", run_id)
    for note in store.collect_garbage(cfg.processed_dir, cfg.raw_dir, cfg.process.retention_seconds):
        logger.info("recovery: %s", note)


def _record_run(tx: Transaction, run: RunRecord) -> None:
    tx.add(RUNS.name, store.write_table(store.to_arrow([run], RUNS), RUNS, tx.processed, run.run_id), 1)


def _locked_run(src: Sources, cfg: Settings, reprocess: bool, reprocess_since: str | None,
                rebuild: bool = False) -> dict[str, Any]:
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    store.ensure_tables(cfg.processed_dir, cfg.raw_dir)
    # the run's commit: its load, derived rows and runs row become visible together, or not at all; a
    # rebuild's tables start empty beside the old ones, which readers keep until it commits
    tx = store.begin(cfg.processed_dir, cfg.raw_dir, "rebuild" if rebuild else "run", run_id)
    if rebuild:
        store.mark_rebuild(cfg.processed_dir, run_id)
        store.begin_rebuild(tx)
    status = "failed"
    committed = False
    acquired: list[Acquired] = []
    # the raw index, read once: incremental state for fetching, known bytes for saved pages
    archived = store.read_raw_index(cfg.raw_dir) if not src.is_empty() else []
    results: list[BatchResult] = []
    loaded: dict[str, tuple[int, int]] = {}
    try:
        with batch_submitter(cfg, run_id) as submit:  # opened first: a Dask scheduler is reached before any fetch
            if reprocess:
                acquired.append(archived_pages_task(cfg, reprocess_since))
            if src.feeds or src.sitemaps or src.urls:
                acquired.append(fetch_task(src, cfg, run_id, started_at, archived))
            if src.warcs or src.html_dirs or src.articles:
                archived += [row for a in acquired for row in a.raw_rows]  # what this run's fetch task added
                acquired.append(archive_files_task(src, cfg, run_id, started_at, archived))
            pages = [p for a in acquired for p in a.pages]
            # locally a batch's pages come back into this process: a few batches at a time keep the
            # workers busy and memory flat (all at once, the main process grew ~10 MB per batch)
            in_flight = LOCAL_BATCHES_IN_FLIGHT if cfg.process.runner != "dask" else None
            pending: deque[PrefectFuture[BatchResult]] = deque()
            with progress("process", len(pages)) as tracker:

                def finish_oldest() -> None:
                    results.append(pending.popleft().result())
                    tracker.advance(results[-1].articles + results[-1].rejects)

                for n, refs in enumerate(batched(pages, cfg.process.batch_size)):
                    pending.append(submit(f"{run_id}-{n:05d}", list(refs)))
                    if in_flight is not None and len(pending) >= in_flight:
                        finish_oldest()
                while pending:
                    finish_oldest()
        if cfg.process.runner != "dask":
            # the worker processes hold the NLP model (~350 MB each) and the load needs none of them:
            # stopped now, they do not add to the load's own memory (the next run starts them again)
            shutdown_pool()
        if rebuild and not sum(r.articles for r in results) and tx.base.files(ARTICLES.name):
            # no archived page, or every one refused (an unreadable or wrong archive, a broken extractor):
            # committing would replace the corpus with an empty one
            raise DatelineError(
                f"the rebuild got no article from {len(pages)} archived pages"
                f"{' (all quarantined)' if pages else f' in {cfg.raw_dir}'}; the corpus is kept as it was"
                f"{': `dateline reprocess` without --rebuild records why in quarantine' if pages else ''}")
        # the commit point: every batch is staged; index the pages, then the staging must be loaded
        store.write_raw_index([row for a in acquired for row in a.raw_rows], cfg.raw_dir, run_id)
        store.mark_committed(cfg.processed_dir, run_id)
        committed = True
        loaded = load_task(cfg, run_id, tx)
        status = "completed"
    finally:
        run = RunRecord(
            run_id=run_id,
            flow_run_id=str(flow_run.get_id()) if flow_run.get_id() else None,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            status=status,  # type: ignore[arg-type]
            sources=src.describe() + ((f"reprocess:{reprocess_since or 'all'}",) if reprocess else ()),
            discovered_count=sum(a.discovered for a in acquired),
            fetched_count=sum(a.responses for a in acquired),
            # what this run wrote to the archive (bytes archived before are not written again); a
            # reprocess counts the archived pages it read
            archived_count=(sum(len(a.pages) for a in acquired) if reprocess else
                            sum(1 for a in acquired for r in a.raw_rows if r.kind == "page")),
            extracted_count=sum(r.articles for r in results),
            new_article_count=loaded.get("articles", (0, 0))[0],
            unchanged_article_count=loaded.get("articles", (0, 0))[1],
            quarantined_count=sum(len(a.rejects) for a in acquired) + sum(r.rejects for r in results),
            not_modified_count=sum(a.not_modified for a in acquired),
            skipped_count=sum(a.skipped for a in acquired),
            nlp_article_count=sum(r.nlp_articles for r in results),
            nlp_skipped_count=sum(r.nlp_skipped for r in results),
            event_count=sum(r.events for r in results),
            dateline_version=DATELINE_VERSION,
            trafilatura_version=trafilatura.__version__,
            prefect_version=version("prefect"),
        )
        if cfg.process.runner != "dask":
            shutdown_pool()  # stopped or failed midway: end the workers too
        if not committed or rebuild and status != "completed":  # the next run reads these pages again
            store.drop_staging(cfg.processed_dir, run_id)
        if status != "completed":  # only the runs row: a load cut short stays invisible (recovery redoes it)
            tx = store.begin(cfg.processed_dir, cfg.raw_dir, "run", run_id)
        try:
            _record_run(tx, run)
            tx.commit()
        except DatelineError as exc:  # e.g. the disk is full: after a failure, let the first error speak
            if status == "completed":
                raise
            logger.warning("could not record failed run %s: %s", run_id, exc)
        if status == "completed":
            store.drop_staging(cfg.processed_dir, run_id)
            compact_if_due(cfg)
            # the search index to the committed snapshot; a failure is logged, the next run catches up
            search.sync_quietly(cfg.processed_dir, cfg.raw_dir, logger)
        _publish_artifact(run)
        logger.info("run %s %s: %d discovered, %d archived, %d articles (%d new), %d quarantined",
                    run_id, status, run.discovered_count, run.archived_count, run.extracted_count,
                    run.new_article_count, run.quarantined_count)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in
            ((f, getattr(run, f)) for f in run.__dataclass_fields__)}


if __name__ == "__main__":
    import sys

    pipeline(sources={"html_dirs": sys.argv[1:]}, settings=Settings(data_dir=Path("data")).to_dict())
