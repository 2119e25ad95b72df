"""Shared by the benchmarks on ../shared/nlpgold: reading its files and turning a gold document into
the article record the pipeline takes."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dateline.transforms.schema import ArticleRecord, ExtractedPage


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of a gzipped JSONL gold file, one dict a line."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def gold_page(doc_id: str, text: str, published: date | None, *, url: str | None = None,
              title: str | None = None, site: str = "gold", domain: str = "gold.invalid") -> ExtractedPage:
    """A gold document as an extracted page: ``text`` is its body, ``published`` its publication day
    (noon UTC; None when the corpus has none: relative dates then stay unresolved)."""
    when = datetime(published.year, published.month, published.day, 12, tzinfo=UTC) if published else None
    article = ArticleRecord(
        article_id=doc_id, content_hash="gold", url=url or f"gold:{doc_id}", canonical_url=url or f"gold:{doc_id}",
        domain=domain, site_name=site, title=title, description=None, published_at=when,
        published_utc_offset="+00:00" if when else None, published_precision="day" if when else None,
        published_source="meta" if when else None, modified_at=None,
        fetched_at=when or datetime(2000, 1, 1, tzinfo=UTC), language="en", section=None, text=text,
        word_count=len(text.split()), raw_ref="gold", extractor_version="bench", run_id="bench")
    return ExtractedPage(article)
