"""Processing archived pages: the one code path shared by `dateline run` and `dateline extract`.

Extraction is CPU-bound and holds the GIL, so batches are spread over worker processes
(``concurrent.futures``, spawn start method: safe next to Prefect's threads). Each worker reads
its pages from the WARC files itself, so only references and records cross process boundaries.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from dateline.flows.archive import read_raw
from dateline.flows.store import disk_full, is_space_error
from dateline.transforms.articles import ROW_TYPES, article_of_payload
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.language import with_checked_language
from dateline.transforms.schema import ExtractedPage, Reject
from dateline.transforms.sitewide import SiteLines, apply_site_evidence, gather, merged

log = logging.getLogger(__name__)

IN_PROCESS_BELOW = 16  # smaller batches are not worth a trip to another process


@dataclass(frozen=True, slots=True)
class PageRef:
    """An archived page to process: where its bytes are and what we know of it."""

    url: str
    raw_ref: str
    fetched_at: datetime
    content_type: str | None


Outcome = ExtractedPage | Reject


def process_page(raw_root: Path, ref: PageRef, run_id: str) -> Outcome:
    """Read one archived page and extract it. Never raises for a bad page: it becomes a Reject."""
    try:
        page = read_raw(raw_root, ref.raw_ref)
    except Exception as exc:  # noqa: BLE001 - a WARC file gone or damaged since (ArchiveError, or warcio's
        # ArchiveLoadFailed for bytes that are no WARC record): this page is quarantined, the batch goes on
        detail = f"cannot read the archived record: {exc}"[:500]
        log.warning("%s: %s", ref.raw_ref, detail)
        return Reject(stage="archive", reason="undecodable", url=ref.url, raw_ref=ref.raw_ref, detail=detail)
    content_type = ref.content_type or page.content_type
    try:
        if content_type in ROW_TYPES:  # a row of `dateline run --articles`: already extracted elsewhere
            return article_of_payload(page.payload, content_type, url=ref.url, fetched_at=ref.fetched_at,
                                      raw_ref=ref.raw_ref, run_id=run_id)
        outcome = extract_article(page.payload, PageInput(url=ref.url, content_type=content_type,
                                                          fetched_at=ref.fetched_at, raw_ref=ref.raw_ref),
                                  run_id=run_id)
        if isinstance(outcome, ExtractedPage):  # a template's lang="en" over an isiZulu story: the text decides
            outcome = replace(outcome, article=with_checked_language(outcome.article))
        return outcome
    except Exception as exc:  # noqa: BLE001 - one page's failure must not stop the run; logged below
        if isinstance(exc, OSError) and is_space_error(exc):
            # no room for a library's scratch file is the machine's fault, not the page's: quarantined,
            # every page of a rebuild on a full disk would be, and an empty corpus committed
            raise disk_full(Path(exc.filename or tempfile.gettempdir()), exc) from exc
        log.warning("extraction of %s raised", ref.url, exc_info=True)
        return Reject(stage="extract", reason="extractor_error", url=ref.url, raw_ref=ref.raw_ref,
                      detail=f"{type(exc).__name__}: {exc}"[:500])


def _process_chunk(raw_root: Path, run_id: str, refs: Sequence[PageRef]) -> list[Outcome]:
    return [process_page(raw_root, ref, run_id) for ref in refs]


def _nlp_chunk(nlp_model: str, pages: Sequence[ExtractedPage]) -> list[ExtractedPage]:
    from dateline.flows.nlp import add_nlp  # spaCy loads only where the NLP stage runs

    return add_nlp(list(pages), nlp_model)


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()  # process tasks run in threads: without it, each could start a pool of its own
# Extraction in this process, one thread at a time: trafilatura and lxml crash (SIGSEGV, SIGABRT "free():
# invalid pointer") when called from several threads at once (trafilatura issues #840, #925), and process
# tasks run in threads (Prefect's thread pool; a Dask worker's threads). The GIL serialized them anyway.
_IN_PROCESS_LOCK = threading.Lock()


def worker_count(setting: int) -> int:
    """Processes to use: the setting, or one per CPU core when it is 0."""
    return setting if setting > 0 else (os.cpu_count() or 1)


def _pool(workers: int) -> ProcessPoolExecutor:
    """The one worker pool of this process (``workers`` processes), started on first use."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or workers != _POOL_SIZE:
            if _POOL is not None:
                _POOL.shutdown()
            _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            _POOL_SIZE = workers
        return _POOL


@atexit.register
def shutdown_pool() -> None:
    """Stop the worker processes (also called at interpreter exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.shutdown(cancel_futures=True)
            _POOL = None


def process_pages(raw_root: Path, refs: Sequence[PageRef], run_id: str, workers: int,
                  nlp_model: str | None = None) -> list[Outcome]:
    """Outcomes for refs, in order; spread over ``workers`` processes when that pays off. Boilerplate
    lines recurring on a site's pages among refs leave the bodies before NLP (transforms/sitewide.py).
    With ``nlp_model``, English articles also get actors, events and quotes (the model loads once per process)."""
    return process_batch_pages(raw_root, refs, run_id, workers, nlp_model)[0]


def process_batch_pages(raw_root: Path, refs: Sequence[PageRef], run_id: str, workers: int,
                        nlp_model: str | None = None, prior: SiteLines | None = None
                        ) -> tuple[list[Outcome], SiteLines]:
    """process_pages, judging site boilerplate on ``prior`` evidence (earlier runs) plus these pages, and
    returning also the evidence these pages give (to be kept for later runs)."""
    in_process = workers <= 1 or len(refs) < IN_PROCESS_BELOW
    if in_process:
        with _IN_PROCESS_LOCK:
            outcomes = _process_chunk(raw_root, run_id, refs)
    else:
        chunk = max(4, len(refs) // (workers * 4))
        parts = [refs[i:i + chunk] for i in range(0, len(refs), chunk)]
        outcomes = [o for part in _pool(workers).map(partial(_process_chunk, raw_root, run_id), parts) for o in part]
    pages = [o for o in outcomes if isinstance(o, ExtractedPage)]
    found = gather(pages)
    cleaned = apply_site_evidence(pages, merged(prior or {}, found))
    if nlp_model is not None and cleaned:
        if in_process or len(cleaned) < IN_PROCESS_BELOW:
            with _IN_PROCESS_LOCK:
                cleaned = _nlp_chunk(nlp_model, cleaned)
        else:
            chunk = max(4, len(cleaned) // (workers * 4))
            batches = [cleaned[i:i + chunk] for i in range(0, len(cleaned), chunk)]
            cleaned = [p for part in _pool(workers).map(partial(_nlp_chunk, nlp_model), batches) for p in part]
    done = iter(cleaned)
    return [next(done) if isinstance(o, ExtractedPage) else o for o in outcomes], found


def batched(items: Sequence[PageRef], size: int) -> Iterator[Sequence[PageRef]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
