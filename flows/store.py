"""Parquet tables under data/processed and the DuckDB views over them.

Writes are atomic: a file is written under a temporary name in its final folder, then renamed,
so a reader (or a killed run) never sees half a file. A run's rows are staged per batch under
``processed/_staging/<run_id>/`` and moved into the tables by :func:`load_staged`, which drops
rows whose key is already stored: running the same input again adds no rows.
"""

from __future__ import annotations

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
ROW_GROUP_SIZE = 10_000


class StoreError(DatelineError):
    """The processed store or a SQL file is not usable."""


def to_arrow(rows: Sequence[Any], table: Table) -> pa.Table:
    """Records -> an Arrow table with the table's schema (the only way rows become Arrow)."""
    return pa.Table.from_pylist([asdict(r) for r in rows], schema=table.schema)


def write_parquet(data: pa.Table, path: Path) -> Path:
    """Write atomically: temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd", row_group_size=ROW_GROUP_SIZE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
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

    The new file is written under a temporary name, the old files are removed, then the new file is
    renamed in: a query running at that moment may miss the partition's rows, so compact between runs.
    """
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
            data = pq.ParquetDataset(files, schema=table.schema).read()
            data = data.sort_by([(k, "ascending") for k in table.key])
            target = folder / f"compact-{uuid.uuid4().hex[:12]}.parquet"
            tmp = write_parquet(data, folder / f".{target.name}.pending")
            for old in files:
                old.unlink()
            os.replace(tmp, target)
            done[str(folder.relative_to(processed))] = (len(files), data.num_rows)
    return done


CARRIED_STAGES = ("discover", "fetch", "archive")  # quarantine rows that reprocessing cannot re-derive


def begin_rebuild(processed: Path) -> Path:
    """Move data/processed aside for a rebuild; returns where it went (restore_rebuild puts it back)."""
    previous = processed.with_name(f"{processed.name}.previous-{uuid.uuid4().hex[:8]}")
    if processed.exists():
        os.replace(processed, previous)
    processed.mkdir(parents=True, exist_ok=True)
    return previous


def finish_rebuild(processed: Path, previous: Path) -> None:
    """Carry over what reprocessing cannot rebuild (runs; fetch-stage quarantine rows), drop the old tree."""
    if previous.exists():
        for path in (previous / RUNS.name).glob("*.parquet"):
            if path.name != SCHEMA_FILE:
                target = table_dir(processed, RUNS) / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        old = [p for p in (previous / QUARANTINE.name).glob("*.parquet") if p.name != SCHEMA_FILE]
        if old:
            rows = pq.ParquetDataset(old, schema=QUARANTINE.schema).read().to_pylist()
            kept = [QuarantineRecord(**r) for r in rows if r["stage"] in CARRIED_STAGES]
            write_table(to_arrow(kept, QUARANTINE), QUARANTINE, processed, "carried-over")
        shutil.rmtree(previous)


def restore_rebuild(processed: Path, previous: Path) -> None:
    """Put the old tree back after a failed rebuild."""
    if previous.exists():
        shutil.rmtree(processed, ignore_errors=True)
        os.replace(previous, processed)
