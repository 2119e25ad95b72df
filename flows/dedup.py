"""Story groups at load time: each new article version joins the group of a stored (or earlier in
this run) version it nearly copies, found through shared LSH bands in the dedup table."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import duckdb

from flows import storage, store
from transforms.dedup import DUPLICATE_AT, similarity
from transforms.schema import DEDUP, DedupRecord

log = logging.getLogger(__name__)

GROUPS = "groups"  # the staged dedup file holding the run's assigned rows


def assign_groups(processed: Path, run_id: str) -> int:
    """Fill dup_group in the run's staged dedup rows; returns how many joined an existing group."""
    folder = store.staging_dir(processed, run_id) / DEDUP.name
    groups = folder / f"{GROUPS}.parquet"
    files = sorted(p for p in folder.glob("*.parquet") if p != groups)
    if groups.exists():  # assigned before the run was cut short: only the batch files are left to remove
        for path in files:
            path.unlink()
        return 0
    if not files:
        return 0
    rows = [DedupRecord(**{**r, "signature": tuple(r["signature"]), "bands": tuple(r["bands"])})
            for r in storage.parquet_dataset(files, schema=DEDUP.schema).read().to_pylist()]
    rows.sort(key=lambda r: (r.fetched_at, r.article_id))
    stored = [str(p) for p in store.table_dir(processed, DEDUP).glob("*.parquet") if p.name != store.SCHEMA_FILE]
    assigned: list[DedupRecord] = []
    joined = 0
    with storage.duckdb_connect(processed) as con:
        for row in rows:
            candidates = _stored_candidates(con, stored, row) + [a for a in assigned if set(a.bands) & set(row.bands)
                                                                  or a.article_id == row.article_id]
            group, score = row.article_id, 1.0
            same_article = [c for c in candidates if c.article_id == row.article_id]
            if same_article:  # a new version of an article stays in its group
                group, score = same_article[0].dup_group, similarity(same_article[0].signature, row.signature)
            else:
                scored = [(similarity(c.signature, row.signature), c) for c in candidates]
                best = max(scored, key=lambda sc: (sc[0], -sc[1].fetched_at.timestamp()), default=None)
                if best is not None and best[0] >= DUPLICATE_AT:
                    group, score = best[1].dup_group, best[0]
            joined += group != row.article_id
            assigned.append(replace(row, dup_group=group, similarity=score))
    store.stage(assigned, DEDUP, processed, run_id, GROUPS)  # first: a kill between the two loses no row
    for path in files:
        path.unlink()
    log.info("dedup: %d article versions, %d joined an existing story group", len(assigned), joined)
    return joined


def _stored_candidates(con: duckdb.DuckDBPyConnection, stored: list[str], row: DedupRecord) -> list[DedupRecord]:
    if not stored:
        return []
    result = con.execute(
        "select article_id, content_hash, dup_group, similarity, signature, bands, fetched_at "
        "from read_parquet($files, union_by_name = true) "
        "where list_has_any(bands, $bands) or article_id = $article_id",
        {"files": stored, "bands": list(row.bands), "article_id": row.article_id})
    columns = [d[0] for d in result.description or []]
    out = []
    for values in result.fetchall():
        record = dict(zip(columns, values, strict=True))
        out.append(DedupRecord(**{**record, "signature": tuple(record["signature"]), "bands": tuple(record["bands"])}))
    return out
