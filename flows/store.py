"""Parquet tables under data/processed and the DuckDB views over them.

Writes are atomic: a file is written under a temporary name in its final folder, then renamed,
so a reader (or a killed run) never sees half a file. A run's rows are staged per batch under
``processed/_staging/<run_id>/`` and moved into the tables by :func:`load_staged`, which drops
rows whose key is already stored: running the same input again adds no rows, and loading the
same staging twice (a load cut short, then finished) adds each row once.

A process killed while writing leaves at most: temporary files (never read as tables), a
staging folder, a half-done compaction or a half-done rebuild. :func:`recover` (run under the
data dir lock at the start of every run) puts each of those right.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from flows.config import DatelineError
from transforms.schema import (
    PARTITION_VALUE,
    QUARANTINE,
    RAW_INDEX,
    RUNS,
    TABLES,
    UNKNOWN_PARTITION,
    QuarantineRecord,
    RawRecord,
    Table,
)

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
STAGING = "_staging"
SCHEMA_FILE = "_schema.parquet"  # an empty file per table, so its view exists (with every column) before data
COMMITTED = "_committed"  # in a run's staging folder: its pages are indexed, so its rows must be loaded
ROW_GROUP_SIZE = 10_000
TMP_SUFFIX = ".tmp"  # a write in progress: hidden (leading dot) and not *.parquet, so no view reads it
SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class StoreError(DatelineError):
    """The processed store or a SQL file is not usable."""


class DiskFullError(StoreError):
    """A write failed for lack of space: a full disk, a quota, or a file size limit."""


def is_space_error(exc: BaseException) -> bool:
    """Whether an error means "no room to write" (pyarrow sets errno too)."""
    return isinstance(exc, OSError) and exc.errno in SPACE_ERRNOS


def disk_full(path: Path, exc: OSError) -> DiskFullError:
    """The one-line error for a write that ran out of space; names the file and the system's reason."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return DiskFullError(f"no space left writing {path} ({reason}); free some space and run again")


def to_arrow(rows: Sequence[Any], table: Table) -> pa.Table:
    """Records -> an Arrow table with the table's schema (the only way rows become Arrow)."""
    return pa.Table.from_pylist([asdict(r) for r in rows], schema=table.schema)


def write_parquet(data: pa.Table, path: Path) -> Path:
    """Write atomically: temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    try:
        pq.write_table(data, tmp, compression="zstd", row_group_size=ROW_GROUP_SIZE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if is_space_error(exc):
            raise disk_full(path, exc) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return path



def table_dir(root: Path, table: Table) -> Path:
    return root / table.name


def write_table(data: pa.Table, table: Table, root: Path, name: str) -> list[Path]:
    """Write rows into ``root/<table>/[<partition>=<value>/]<name>.parquet``; one file per partition."""
    if data.num_rows == 0:
        return []
    base = table_dir(root, table)
    if table.partition is None:
        return [write_parquet(data, base / f"{name}.parquet")]
    source, derive = PARTITION_VALUE[table.partition]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, value in enumerate(data.column(source).to_pylist()):
        groups[derive(value)].append(i)
    return [write_parquet(data.take(pa.array(idx)), base / f"{table.partition}={value}" / f"{name}.parquet")
            for value, idx in sorted(groups.items())]


def ensure_tables(processed: Path, raw: Path) -> None:
    """Give every table its folder and an empty schema file (rewritten when the schema changes)."""
    for table in TABLES.values():
        base = table_dir(raw if table is RAW_INDEX else processed, table)
        folder = base / f"{table.partition}={UNKNOWN_PARTITION}" if table.partition else base
        path = folder / SCHEMA_FILE
        if path.exists():
            try:
                if pq.read_schema(path).equals(table.schema, check_metadata=False):
                    continue
            except (OSError, pa.ArrowInvalid):
                pass  # unreadable: rewrite it
        write_parquet(table.schema.empty_table(), path)


def staging_dir(processed: Path, run_id: str) -> Path:
    return processed / STAGING / run_id


def stage(rows: Sequence[Any], table: Table, processed: Path, run_id: str, batch_id: str) -> Path | None:
    """Write a batch's rows of one table to the run's staging area."""
    if not rows:
        return None
    return write_parquet(to_arrow(rows, table), staging_dir(processed, run_id) / table.name / f"{batch_id}.parquet")


def load_staged(processed: Path, run_id: str, table: Table) -> tuple[int, int]:
    """Move a run's staged rows of ``table`` into the table; returns (new rows, rows already stored).

    A row whose key (Table.key) is stored already, or repeats within the run, is dropped.
    """
    staged = sorted((staging_dir(processed, run_id) / table.name).glob("*.parquet"))
    if not staged:
        return 0, 0
    base = table_dir(processed, table)
    key = ", ".join(table.key)
    with duckdb.connect() as con:
        run(con, "set TimeZone = 'UTC'")
        run(con, "create temp table staged as select * from read_parquet($files)",
            {"files": [str(p) for p in staged]})
        total = _scalar(con, "select count(*) from staged")
        stored = [str(p) for p in base.rglob("*.parquet") if p.name != SCHEMA_FILE]
        if stored:
            run(con, f"create temp table stored_keys as select distinct {key} "  # key: our own column names
                "from read_parquet($files, union_by_name = true)", {"files": stored})
            where = f"where ({key}) not in (select ({key}) from stored_keys)"
        else:
            where = ""
        fresh = con.sql(
            f"select * from staged {where} qualify row_number() over (partition by {key}) = 1"
        ).to_arrow_table()
    fresh = fresh.select(table.schema.names).cast(table.schema)
    write_table(fresh, table, processed, run_id)
    return fresh.num_rows, total - fresh.num_rows


def run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> None:
    """Execute a statement and drain it (DuckDB 2 blocks the connection on an undrained result)."""
    con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def drop_staging(processed: Path, run_id: str) -> None:
    shutil.rmtree(staging_dir(processed, run_id), ignore_errors=True)


def mark_committed(processed: Path, run_id: str) -> None:
    """Note that the run's staging is complete and its pages are indexed: from now on its rows must be
    loaded, by this run or, if it dies, by the next one (an empty file: created atomically)."""
    folder = staging_dir(processed, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COMMITTED).touch()


def is_committed(processed: Path, run_id: str) -> bool:
    return (staging_dir(processed, run_id) / COMMITTED).exists()


def leftover_runs(processed: Path) -> list[str]:
    """Runs with a staging folder. Under the data dir lock, outside a run, these are runs that died."""
    root = processed / STAGING
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def indexed_runs(raw: Path) -> set[str]:
    """The runs that have rows in the raw index (they committed their pages)."""
    files = sorted(p for p in table_dir(raw, RAW_INDEX).glob("*.parquet") if p.name != SCHEMA_FILE)
    if not files:
        return set()
    column = pq.ParquetDataset(files, schema=RAW_INDEX.schema).read(columns=["run_id"]).column("run_id")
    return set(column.unique().to_pylist())


# --- DuckDB -------------------------------------------------------------------------------

def sql_literal(value: str) -> str:
    """A SQL string literal: quotes doubled. Only for DDL, which takes no bound parameters."""
    return "'" + value.replace("'", "''") + "'"


def render_views(processed: Path, raw: Path) -> str:
    """sql/views.sql with its ${processed} and ${raw} placeholders filled with absolute paths."""
    text = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    for token, path in (("processed", processed), ("raw", raw)):
        literal = sql_literal(str(path.resolve()))[1:-1]  # the template already has the quotes
        text = text.replace("${" + token + "}", literal)
    return text


def connect(processed: Path, raw: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory unless ``database`` names a file) with every view in place."""
    ensure_tables(processed, raw)
    con = duckdb.connect(database)
    run(con, "set TimeZone = 'UTC'")
    try:
        run(con, render_views(processed, raw))
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot create the views over {processed}: {exc}") from exc
    return con


def saved_queries() -> list[str]:
    """Names of the saved queries: stems of sql/*.sql, views.sql excluded."""
    return sorted(p.stem for p in SQL_DIR.glob("*.sql") if p.stem != "views")


def read_query(name: str) -> str:
    path = SQL_DIR / f"{name}.sql"
    if name not in saved_queries():
        raise StoreError(f"no saved query {name!r}; choose from: {', '.join(saved_queries())}")
    return path.read_text(encoding="utf-8")


def query_params(sql: str) -> list[str]:
    """The $names a query declares on its '-- Params:' line."""
    for line in sql.splitlines():
        if line.lower().startswith("-- params:"):
            return [w.strip("$,.();") for w in line.split() if w.startswith("$")]
    return []


def write_raw_index(rows: Iterable[Any], raw: Path, name: str) -> Path | None:
    """Append raw index rows as ``data/raw/raw_index/<name>.parquet``."""
    rows = list(rows)
    if not rows:
        return None
    return write_parquet(to_arrow(rows, RAW_INDEX), table_dir(raw, RAW_INDEX) / f"{name}.parquet")



def read_raw_index(raw: Path) -> list[RawRecord]:
    """Every row of the raw index (empty before the first run)."""
    files = sorted(p for p in table_dir(raw, RAW_INDEX).glob("*.parquet") if p.name != SCHEMA_FILE)
    if not files:
        return []
    data = pq.ParquetDataset(files, schema=RAW_INDEX.schema).read()
    return [RawRecord(**row) for row in data.to_pylist()]


def compact(processed: Path) -> dict[str, tuple[int, int]]:
    """Merge each table partition's Parquet files into one; returns {folder: (files before, rows)}.

    Crash-safe: a manifest naming the files to replace is written first, then the merged file
    (hidden until done); only then are the old files removed and the merged one renamed in. A
    compaction cut short is finished by :func:`recover`. A query running between those two steps
    may miss the partition's rows, so compact between runs (``dateline compact`` takes the run lock).
    """
    finish_compactions(processed)
    done: dict[str, tuple[int, int]] = {}
    for table in TABLES.values():
        if table is RAW_INDEX:
            continue
        base = table_dir(processed, table)
        folders = [p for p in base.iterdir() if p.is_dir()] if table.partition and base.exists() else [base]
        for folder in folders:
            files = sorted(p for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE)
            if len(files) < 2:
                continue
            manifest, rows = prepare_compaction(folder, files, table)
            commit_compaction(manifest)
            done[str(folder.relative_to(processed))] = (len(files), rows)
    return done


COMPACTION_MANIFEST = ".replaces"  # '.compact-<id>.parquet.replaces': the files a merged file replaces
COMPACTION_PENDING = ".pending"  # '.compact-<id>.parquet.pending': the merged file, not yet visible


def prepare_compaction(folder: Path, files: list[Path], table: Table) -> tuple[Path, int]:
    """Write the manifest, then the merged rows under a hidden name; returns (manifest, rows merged).
    Nothing visible to queries changes yet."""
    data = pq.ParquetDataset(files, schema=table.schema).read()
    data = data.sort_by([(k, "ascending") for k in table.key])
    name = f"compact-{uuid.uuid4().hex[:12]}.parquet"
    manifest = folder / f".{name}{COMPACTION_MANIFEST}"
    tmp = manifest.with_name(manifest.name + TMP_SUFFIX)
    tmp.write_text("".join(f"{p.name}\n" for p in files), encoding="utf-8")
    os.replace(tmp, manifest)
    write_parquet(data, folder / f".{name}{COMPACTION_PENDING}")
    return manifest, data.num_rows


def commit_compaction(manifest: Path) -> None:
    """Swap a prepared merge in: remove the files it replaces, rename it visible, drop the manifest.

    Idempotent: when the merged file is gone it was either never finished (the old files are all
    still there) or already renamed in (they are all gone); either way only the manifest is left."""
    name = manifest.name[1:-len(COMPACTION_MANIFEST)]
    pending = manifest.with_name(f".{name}{COMPACTION_PENDING}")
    if pending.exists():
        for old in manifest.read_text(encoding="utf-8").split():
            (manifest.parent / old).unlink(missing_ok=True)
        os.replace(pending, manifest.with_name(name))
    manifest.unlink()


def finish_compactions(processed: Path) -> int:
    """Finish every compaction a killed process left half done; returns how many."""
    manifests = sorted(processed.rglob(f".*{COMPACTION_MANIFEST}")) if processed.exists() else []
    for manifest in manifests:
        commit_compaction(manifest)
    return len(manifests)


# --- rebuild ------------------------------------------------------------------------------

CARRIED_STAGES = ("discover", "fetch", "archive")  # quarantine rows that reprocessing cannot re-derive


def _beside(processed: Path, kind: str) -> Path:
    """A sibling of data/processed: 'processed.previous-1a2b3c4d' (the tree a rebuild replaces) or
    'processed.discard-...' (a tree being deleted)."""
    return processed.with_name(f"{processed.name}.{kind}-{uuid.uuid4().hex[:8]}")


def begin_rebuild(processed: Path) -> Path:
    """Move data/processed aside for a rebuild; returns where it went. Until finish_rebuild renames
    it away, its presence means "a rebuild is under way or was cut short" (see recover_rebuild)."""
    previous = _beside(processed, "previous")
    if processed.exists():
        os.replace(processed, previous)
    else:
        previous.mkdir(parents=True)
    processed.mkdir(parents=True, exist_ok=True)
    return previous


def finish_rebuild(processed: Path, previous: Path) -> None:
    """Carry over what reprocessing cannot rebuild (runs; fetch-stage quarantine rows), drop the old tree.

    The old tree is renamed to a 'discard' name before it is deleted: a kill during the deletion
    leaves a tree nobody mistakes for an unfinished rebuild."""
    for path in (previous / RUNS.name).glob("*.parquet"):
        if path.name != SCHEMA_FILE:
            target = table_dir(processed, RUNS) / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
            shutil.copy2(path, tmp)
            os.replace(tmp, target)
    old = [p for p in (previous / QUARANTINE.name).glob("*.parquet") if p.name != SCHEMA_FILE]
    if old:
        rows = pq.ParquetDataset(old, schema=QUARANTINE.schema).read().to_pylist()
        kept = [QuarantineRecord(**r) for r in rows if r["stage"] in CARRIED_STAGES]
        write_table(to_arrow(kept, QUARANTINE), QUARANTINE, processed, "carried-over")
    discard = _beside(processed, "discard")
    os.replace(previous, discard)
    shutil.rmtree(discard)


def restore_rebuild(processed: Path, previous: Path) -> None:
    """Put the old tree back after a failed or killed rebuild (the new one is discarded)."""
    if not previous.exists():
        return
    if processed.exists():
        discard = _beside(processed, "discard")
        os.replace(processed, discard)
    os.replace(previous, processed)
    for discard in processed.parent.glob(f"{processed.name}.discard-*"):
        shutil.rmtree(discard, ignore_errors=True)


def recover_rebuild(processed: Path) -> str | None:
    """Roll back a rebuild that was killed (its old tree still waits beside the new one); delete
    trees left half deleted. Returns what was done, if anything."""
    previous = sorted(processed.parent.glob(f"{processed.name}.previous-*"))
    if len(previous) > 1:
        raise StoreError(f"several interrupted rebuilds beside {processed}: "
                         f"{', '.join(p.name for p in previous)}; keep the one to restore and remove the others")
    note = None
    if previous:
        restore_rebuild(processed, previous[0])
        note = f"rolled back an interrupted rebuild: restored {processed} from {previous[0].name}"
    for discard in processed.parent.glob(f"{processed.name}.discard-*"):
        shutil.rmtree(discard, ignore_errors=True)
    return note


# --- recovery -----------------------------------------------------------------------------

def remove_temporary(*roots: Path) -> int:
    """Delete the temporary files of writes a killed process never finished; returns how many."""
    found = [p for root in roots if root.exists() for p in root.rglob(f".*{TMP_SUFFIX}") if p.is_file()]
    for path in found:
        path.unlink(missing_ok=True)
    return len(found)


def recover(processed: Path, raw: Path) -> list[str]:
    """Put right what a killed process left behind (call it holding the data dir lock, before writing).

    Rolls back an unfinished rebuild, finishes unfinished compactions and removes temporary files.
    Leftover staging is the caller's to load or discard (see flows/pipeline.py). Returns notes."""
    notes = [note] if (note := recover_rebuild(processed)) else []
    if count := finish_compactions(processed):
        notes.append(f"finished {count} interrupted compaction(s)")
    if count := remove_temporary(processed, table_dir(raw, RAW_INDEX)):
        notes.append(f"removed {count} temporary file(s) of interrupted writes")
    return notes
