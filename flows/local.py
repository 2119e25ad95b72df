"""`dateline extract`: the processing path over local files, with no archive and no orchestration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dateline.flows.acquire import iter_html_files, read_html_file
from dateline.flows.archive import iter_warc_pages
from dateline.transforms.extract import PageInput, declared_url, extract_article
from dateline.transforms.schema import ExtractedPage, Reject

RUN_ID = "extract"


def _is_warc(path: Path) -> bool:
    return path.name.lower().endswith((".warc", ".warc.gz"))


def _outcome(result: ExtractedPage | Reject, source: str) -> dict[str, Any]:
    if isinstance(result, ExtractedPage):
        images = [{k: v for k, v in asdict(i).items() if k not in ("article_id", "content_hash", "run_id")}
                  for i in result.images]
        return {"source": source, **asdict(result.article), "images": images}
    return {"source": source, "url": result.url,
            "error": {"stage": result.stage, "reason": result.reason, "detail": result.detail}}


def extract_paths(paths: list[Path], max_bytes: int, url: str | None = None) -> Iterator[dict[str, Any]]:
    """One dict per page under ``paths``: the article's columns plus ``source`` and ``images``, or ``error``."""
    for path in paths:
        if path.is_dir():
            for file in iter_html_files(path):
                yield _extract_file(file, max_bytes, None)
        elif _is_warc(path):
            yield from _extract_warc(path, max_bytes)
        else:
            yield _extract_file(path, max_bytes, url)


def _extract_file(path: Path, max_bytes: int, url: str | None) -> dict[str, Any]:
    source = str(path)
    body, truncated = read_html_file(path, max_bytes)
    page_url = url or declared_url(body) or path.resolve().as_uri()
    if truncated:
        return _outcome(Reject(stage="archive", reason="too_large", url=page_url,
                               detail=f"file larger than {max_bytes} bytes"), source)
    page = PageInput(url=page_url, content_type=None,
                     fetched_at=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC), raw_ref=source)
    return _outcome(extract_article(body, page, run_id=RUN_ID), source)


def _extract_warc(path: Path, max_bytes: int) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as stream:
        for record in iter_warc_pages(stream, max_bytes):
            source = f"{path}#{record.offset}"
            if record.status is not None and not 200 <= record.status < 300:
                yield _outcome(Reject(stage="fetch", reason="http_error", url=record.url,
                                      detail=f"HTTP {record.status}"), source)
                continue
            if record.truncated:  # as `dateline run` does: a cut page would pass for a shorter article
                yield _outcome(Reject(stage="archive", reason="too_large", url=record.url,
                                      detail=f"record larger than {max_bytes} bytes"), source)
                continue
            page = PageInput(url=record.url, content_type=record.content_type,
                             fetched_at=record.date or datetime.now(UTC), raw_ref=source)
            yield _outcome(extract_article(record.payload, page, run_id=RUN_ID), source)
