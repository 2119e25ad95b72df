"""Parquet tables under data/processed and the DuckDB views over them.

Writes are atomic: a file is written under a temporary name in its final folder, then renamed,
so a reader (or a killed run) never sees half a file. A run's rows are staged per batch under
``processed/_staging/<run_id>/`` and moved into the tables by :func:`load_staged`, which drops
rows whose key is already stored: running the same input again adds no rows, and loading the
same staging twice (a load cut short, then finished) adds each row once.

Files are sorted for the per-actor queries (SORT_KEYS), and derived, actor-first tables are kept
beside them (see "derived actor tables" below: ``dateline compact`` computes them whole, each run
adds its rows): with those, an actor's timeline or mention volume over 1M articles takes tens of
milliseconds instead of seconds.

A process killed while writing leaves at most: temporary files (never read as tables), a
staging folder, a half-done compaction or a half-done rebuild. :func:`recover` (run under the
data dir lock at the start of every run) puts each of those right.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from dateline.flows import storage
from dateline.flows.config import DatelineError
from dateline.transforms.schema import (
    ARTICLE_ACTORS,
    ARTICLES,
    DEDUP,
    EVENTS,
    MENTIONS,
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

SQL_DIR = resources.files("dateline.sql")  # sql/ in the repository, package data in a wheel
STAGING = "_staging"
SCHEMA_FILE = "_schema.parquet"  # an empty file per table, so its view exists (with every column) before data
COMMITTED = "_committed"  # in a run's staging folder: its pages are indexed, so its rows must be loaded
ROW_GROUP_SIZE = 10_000
# rows are written sorted, per run and when compacted: by the table's key, or by these columns where
# a query looks rows up by another one (an actor's mentions are then a few row groups, not the table)
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "mentions": ("actor_id", "article_id", "content_hash", "text_source", "sentence_id", "start_char"),
    "events": ("article_id", "content_hash", "text_source", "sentence_id", "event_id"),
}
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


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``path`` to write; once the block ends, it is fsynced and renamed
    over ``path``. A failure leaves nothing behind, and a full disk raises DiskFullError naming ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if is_space_error(exc):
            raise disk_full(path, exc) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(data: pa.Table, path: Path) -> Path:
    """Write atomically: temporary file in the same folder, fsync, then rename over ``path``. On object
    storage the object is written in place: a PUT is atomic already, and there is no rename."""
    if storage.is_remote(path):
        storage.write_parquet_object(data, path, compression="zstd", row_group_size=ROW_GROUP_SIZE)
        return path
    with _atomic_file(path) as tmp:
        pq.write_table(data, tmp, compression="zstd", row_group_size=ROW_GROUP_SIZE)
    return path



def table_dir(root: Path, table: Table) -> Path:
    return root / table.name


def sort_key(table: Table) -> tuple[str, ...]:
    """The columns a table's files are sorted by (see SORT_KEYS)."""
    return SORT_KEYS.get(table.name, table.key)


def write_table(data: pa.Table, table: Table, root: Path, name: str) -> list[Path]:
    """Write rows into ``root/<table>/[<partition>=<value>/]<name>.parquet``; one file per partition,
    its rows sorted by the table's sort key."""
    if data.num_rows == 0:
        return []
    data = data.sort_by([(column, "ascending") for column in sort_key(table)])
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
        _ensure_schema_file(_schema_file(raw if table is RAW_INDEX else processed, table), table.schema)
    ensure_derived(processed)


def _ensure_schema_file(path: Path, schema: pa.Schema) -> None:
    """An empty Parquet file with ``schema`` at ``path``, unless one is there already."""
    if path.exists():
        try:
            if storage.read_schema(path).equals(schema, check_metadata=False):
                return
        except (OSError, pa.ArrowInvalid):
            pass  # unreadable: rewrite it
    write_parquet(schema.empty_table(), path)


def _schema_file(root: Path, table: Table) -> Path:
    """A table's empty schema file (in the unknown partition of a partitioned table)."""
    base = table_dir(root, table)
    return base / f"{table.partition}={UNKNOWN_PARTITION}" / SCHEMA_FILE if table.partition else base / SCHEMA_FILE


def staging_dir(processed: Path, run_id: str) -> Path:
    return processed / STAGING / run_id


def stage(rows: Sequence[Any], table: Table, processed: Path, run_id: str, batch_id: str) -> Path | None:
    """Write a batch's rows of one table to the run's staging area."""
    if not rows:
        return None
    return write_parquet(to_arrow(rows, table), staging_dir(processed, run_id) / table.name / f"{batch_id}.parquet")


LOAD_FILES_AT_ONCE = 20  # staged batch files loaded together: 3,000 pages at the default batch size


def load_staged(processed: Path, run_id: str, table: Table, files_at_once: int = LOAD_FILES_AT_ONCE
                ) -> tuple[int, int]:
    """Move a run's staged rows of ``table`` into the table; returns (new rows, rows already stored).

    A row whose key (Table.key) is stored already, or repeats within the run, is dropped. The staged
    files are loaded ``files_at_once`` at a time, each group written before the next is read, so a
    large run holds a few thousand pages' rows in memory, not all of them (a group's rows that repeat
    an earlier group's are then stored already). The first group's files are named after the run
    (``<run_id>.parquet``), later ones ``<run_id>-<n>.parquet``.
    """
    staged = sorted((staging_dir(processed, run_id) / table.name).glob("*.parquet"))
    new = old = 0
    for n, start in enumerate(range(0, len(staged), files_at_once)):
        added, kept = _load_files(processed, staged[start:start + files_at_once], table,
                                  run_id if n == 0 else f"{run_id}-{n}")
        new, old = new + added, old + kept
    return new, old


def _load_files(processed: Path, staged: list[Path], table: Table, name: str) -> tuple[int, int]:
    base = table_dir(processed, table)
    key = ", ".join(table.key)
    with storage.duckdb_connect(processed) as con:
        run(con, "set TimeZone = 'UTC'")
        run(con, "create temp table staged as select * from read_parquet($files)",
            {"files": [str(p) for p in staged]})
        total = _scalar(con, "select count(*) from staged")
        stored = [str(p) for p in base.rglob("*.parquet") if p.name != SCHEMA_FILE]
        unseen = "staged"
        if stored:
            # an anti join streams the stored keys past a hash table of the staged ones: 2 s for a run's
            # mentions against 20M stored (a distinct set of the stored keys first took 54 s)
            same = " and ".join(f"s.{_quoted(c)} is not distinct from t.{_quoted(c)}" for c in table.key)
            columns = ", ".join(_quoted(c) for c in table.key)
            unseen = (f"(select s.* from staged as s anti join (select {columns} from read_parquet($files, "
                      f"union_by_name = true)) as t on {same})")
        fresh = con.sql(f"select * from {unseen} qualify row_number() over (partition by {key}) = 1",
                        params={"files": stored} if stored else None).to_arrow_table()
    fresh = fresh.select(table.schema.names).cast(table.schema)
    write_table(fresh, table, processed, name)
    return fresh.num_rows, total - fresh.num_rows


def run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> None:
    """Execute a statement and drain it (DuckDB 2 blocks the connection on an undrained result)."""
    con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def drop_staging(processed: Path, run_id: str) -> None:
    storage.remove_tree(staging_dir(processed, run_id))


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
    column = storage.parquet_dataset(files, schema=RAW_INDEX.schema).read(columns=["run_id"]).column("run_id")
    return set(column.unique().to_pylist())


# --- DuckDB -------------------------------------------------------------------------------

def sql_literal(value: str) -> str:
    """A SQL string literal: quotes doubled. Only for DDL, which takes no bound parameters."""
    return "'" + value.replace("'", "''") + "'"


def render_views(processed: Path, raw: Path) -> str:
    """sql/views.sql with its ${processed} and ${raw} placeholders filled with absolute paths."""
    text = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    for token, path in (("processed", processed), ("raw", raw)):
        literal = sql_literal(storage.sql_location(path))[1:-1]  # the template already has the quotes
        text = text.replace("${" + token + "}", literal)
    return text


def connect(processed: Path, raw: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory unless ``database`` names a file) with every view in place."""
    ensure_tables(processed, raw)
    con = storage.duckdb_connect(processed, raw, database=database)
    run(con, "set TimeZone = 'UTC'")
    run(con, "set parquet_metadata_cache = true")  # footers read once per connection (checked against the file)
    try:
        run(con, render_views(processed, raw))
        if database == ":memory:" and derived_fresh(processed):
            run(con, stored_derived_views(processed))
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot create the views over {processed}: {exc}") from exc
    return con


def saved_queries() -> list[str]:
    """Names of the saved queries: stems of sql/*.sql, views.sql excluded."""
    return sorted(p.name.removesuffix(".sql") for p in SQL_DIR.iterdir()
                  if p.name.endswith(".sql") and p.name != "views.sql")


def read_query(name: str) -> str:
    if name not in saved_queries():
        raise StoreError(f"no saved query {name!r}; choose from: {', '.join(saved_queries())}")
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


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
    data = storage.parquet_dataset(files, schema=RAW_INDEX.schema).read()
    return [RawRecord(**row) for row in data.to_pylist()]


def compact(processed: Path) -> dict[str, tuple[int, int]]:
    """Merge each table partition's Parquet files into one; returns {folder: (files before, rows)}.

    Crash-safe: a manifest naming the files to replace is written first, then the merged file
    (hidden until done); only then are the old files removed and the merged one renamed in. A
    compaction cut short is finished by :func:`recover`. A query running between those two steps
    may miss the partition's rows, so compact between runs (``dateline compact`` takes the run lock).
    """
    if storage.is_remote(processed):
        raise StoreError(f"compact works on a local processed root only, not {processed}")
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
    if not derived_fresh(processed):
        counts = build_derived(processed)
        log.info("derived tables computed: %s", ", ".join(f"{name} {rows} rows" for name, rows in counts.items()))
    return done


def data_file_count(processed: Path) -> int:
    """How many data files the tables hold (what compaction merges; the raw index is not compacted)."""
    return sum(1 for table in TABLES.values() if table is not RAW_INDEX
               for p in table_dir(processed, table).rglob("*.parquet") if p.name != SCHEMA_FILE)


COMPACTION_MANIFEST = ".replaces"  # '.compact-<id>.parquet.replaces': the files a merged file replaces
COMPACTION_PENDING = ".pending"  # '.compact-<id>.parquet.pending': the merged file, not yet visible


def prepare_compaction(folder: Path, files: list[Path], table: Table) -> tuple[Path, int]:
    """Write the manifest, then the merged rows under a hidden name; returns (manifest, rows merged).
    Nothing visible to queries changes yet. The rows are sorted by the table's sort key in DuckDB,
    which spills to disk past SORT_MEMORY, and streamed to the file: memory stays bounded however
    big the table (pyarrow held 20M mentions at once: 10.7 GB)."""
    name = f"compact-{uuid.uuid4().hex[:12]}.parquet"
    manifest = _write_manifest(folder, name, files)
    columns = ", ".join(_column_or_default(table, field) for field in table.schema)  # no hive partition column
    order = ", ".join(_quoted(c) for c in sort_key(table))
    with _sorting_connection(folder) as con:
        rows = write_sorted(con, f"select {columns} from read_parquet($files, union_by_name = true) order by {order}",
                            {"files": [str(p) for p in files]}, folder / f".{name}{COMPACTION_PENDING}",
                            table.schema)
    return manifest, rows


def _write_manifest(folder: Path, name: str, files: list[Path]) -> Path:
    """'.<name>.replaces': the files the merged file <name> replaces, written atomically before the merge."""
    manifest = folder / f".{name}{COMPACTION_MANIFEST}"
    tmp = manifest.with_name(manifest.name + TMP_SUFFIX)
    tmp.write_text("".join(f"{p.name}\n" for p in files), encoding="utf-8")
    os.replace(tmp, manifest)
    return manifest


SORT_MEMORY = "2GB"  # DuckDB's memory limit when sorting for a compaction or a derived table; it spills past it


@contextlib.contextmanager
def _sorting_connection(beside: Path, con: duckdb.DuckDBPyConnection | None = None
                        ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection (``con``, or a new one) set for big sorts: bounded memory, spilling to a
    temporary folder in ``beside`` (on the data's disk, not a /tmp that may be memory), removed
    afterwards, or by :func:`remove_temporary` after a kill."""
    spill = beside / f".sort-{uuid.uuid4().hex[:12]}{TMP_SUFFIX}"
    spill.mkdir(parents=True)
    try:
        with duckdb.connect() if con is None else contextlib.nullcontext(con) as sorting:
            run(sorting, "set TimeZone = 'UTC'")
            run(sorting, f"set memory_limit = '{SORT_MEMORY}'")
            run(sorting, f"set temp_directory = {sql_literal(str(spill))}")
            run(sorting, "set enable_progress_bar = false")
            yield sorting
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _column_or_default(table: Table, field: pa.Field) -> str:
    """A column in a compaction's select: where files written before it existed lack a required
    column, its record's default ((), False, 0) fills it, as the row would have had it."""
    name = _quoted(field.name)
    default = next((f.default for f in fields(table.record) if f.name == field.name), MISSING)
    if field.nullable or default is MISSING or default is None:
        return name
    literal = ("[]" if default == () else "true" if default is True else "false" if default is False
               else sql_literal(default) if isinstance(default, str) else str(default))
    return f"coalesce({name}, {literal}) as {name}"


def _quoted(column: str) -> str:
    """A column name as a SQL identifier ("end" is a keyword)."""
    return '"' + column.replace('"', '""') + '"'


def write_sorted(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None, path: Path,
                 schema: pa.Schema, row_group_size: int = ROW_GROUP_SIZE) -> int:
    """Stream a query's rows into one Parquet file with ``schema``, atomically (as write_parquet);
    returns the row count. Row groups hold ``row_group_size`` rows, in the query's order."""
    rows = 0
    with _atomic_file(path) as tmp:
        reader = con.sql(sql, params=params).to_arrow_reader(row_group_size)
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            pending: list[pa.Table] = []
            for batch in reader:
                pending.append(pa.Table.from_batches([batch]).select(schema.names).cast(schema))
                if sum(t.num_rows for t in pending) >= row_group_size:
                    rows += _write_groups(writer, pending, row_group_size, final=False)
            rows += _write_groups(writer, pending, row_group_size, final=True)
    return rows


def _write_groups(writer: pq.ParquetWriter, pending: list[pa.Table], row_group_size: int, *, final: bool) -> int:
    """Write the buffered rows as whole row groups (and the rest when ``final``); keep the remainder."""
    if not pending:
        return 0
    data = pa.concat_tables(pending)
    whole = int(data.num_rows if final else data.num_rows - data.num_rows % row_group_size)
    if whole:
        writer.write_table(data.slice(0, whole), row_group_size=row_group_size)
    pending[:] = [data.slice(whole)] if whole < data.num_rows else []
    return whole


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


# --- derived actor tables -----------------------------------------------------------------
# Actor-first copies of what the per-actor queries need (sql/views.sql: actor_names, actor_events,
# actor_volume, mention_days), sorted by actor, so that an actor's timeline or volume reads a few row
# groups instead of joining the whole corpus. `dateline compact` computes them whole (build_derived);
# each run then adds its own rows (update_derived): a delta file per table, and in
# derived_superseded/ the article versions it replaced, whose stored rows the views leave out
# (mention_days deltas subtract their mentions instead). Past DELTAS_MERGED_AT deltas a run merges
# them into one file. derived_sources/ lists the table files the stored rows stand for; the views
# use them only while that list is the tables' files, and compute the same rows from the tables
# otherwise (after a writer that does not update them, or a kill between the two).

DERIVED_VERSION = "#derived-v2"  # the first line of the sources list; sql/views.sql's derived_state expects it
DERIVED_SOURCES = (ARTICLES, DEDUP, MENTIONS, ARTICLE_ACTORS, EVENTS)
DERIVED_ROW_GROUP_SIZE = 10_000
DELTAS_MERGED_AT = 16  # a run finding more delta files than this in a derived table merges them into one
DELTA_PREFIX = "run-"  # a run's delta file: run-<run_id>.parquet; merged ones: run-merged-<id>.parquet


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived table: its columns (as its view in sql/views.sql has them) and sort order."""

    name: str
    schema: pa.Schema
    order: tuple[str, ...]


_S = pa.string()
DERIVED_TABLES = (
    Derived("actor_names", pa.schema([("key", _S), ("actor_id", _S)]), ("key", "actor_id")),
    Derived("actor_events", pa.schema([
        ("actor_id", _S), ("event_date", pa.date32()), ("date_precision", _S), ("date_basis", _S), ("trigger", _S),
        ("sentence", _S), ("url", _S), ("title", _S), ("site", _S), ("event_id", _S), ("sentence_id", pa.int64()),
        ("published_at", pa.timestamp("us", tz="UTC")), ("article_id", _S), ("content_hash", _S), ("story", _S)]),
        ("actor_id", "event_date", "event_id")),
    Derived("actor_volume", pa.schema([("actor_id", _S), ("day", pa.date32()), ("article_id", _S),
                                       ("content_hash", _S), ("story", _S), ("mentions", pa.int64())]),
            ("actor_id", "day", "article_id")),
    Derived("mention_days", pa.schema([("day", pa.date32()), ("mentions", pa.int64())]), ("day",)),
)
DERIVED_MANIFEST = Derived("derived_sources", pa.schema([("file", _S)]), ("file",))
SUPERSEDED = Derived("derived_superseded", pa.schema([("article_id", _S), ("content_hash", _S)]),
                     ("article_id", "content_hash"))
PER_VERSION = ("actor_events", "actor_volume")  # rows of one article version: left out once it is superseded


def derived_dir(processed: Path, derived: Derived) -> Path:
    """A derived table's folder: beside the tables' (processed/actor_events/, ...)."""
    return processed / derived.name


def ensure_derived(processed: Path) -> None:
    """An empty schema file per derived table and for the sources list (so the views exist): an empty
    list is stale, so the views compute from the tables until the derived tables are built."""
    for derived in (*DERIVED_TABLES, DERIVED_MANIFEST, SUPERSEDED):
        _ensure_schema_file(derived_dir(processed, derived) / SCHEMA_FILE, derived.schema)


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE)


def derived_sources(processed: Path) -> list[str]:
    """The table files the derived tables depend on, relative to ``processed`` (as derived_state lists them)."""
    files = []
    for table in DERIVED_SOURCES:
        pattern = "*/*.parquet" if table.partition else "*.parquet"
        files += [p.relative_to(processed).as_posix() for p in table_dir(processed, table).glob(pattern)
                  if p.name != SCHEMA_FILE]
    return sorted(files)


def _listed_sources(processed: Path) -> list[str] | None:
    """The sources list of the stored derived rows, or None when there are no stored rows."""
    files = _data_files(derived_dir(processed, DERIVED_MANIFEST))
    if not files or not all(_data_files(derived_dir(processed, derived)) for derived in DERIVED_TABLES):
        return None
    return list(storage.parquet_dataset(files, schema=DERIVED_MANIFEST.schema).read().column("file").to_pylist())


def derived_fresh(processed: Path) -> bool:
    """Whether the stored derived rows stand for the tables' current files (derived_state.fresh)."""
    if storage.is_remote(processed):
        return False  # never stored there: compaction and update_derived are local only
    if any(any(derived_dir(processed, d).glob(f".*{COMPACTION_MANIFEST}"))
           for d in (*DERIVED_TABLES, SUPERSEDED, DERIVED_MANIFEST)):
        return False  # a merge of deltas was cut short: some rows may be hidden until recover finishes it
    listed = _listed_sources(processed)
    return listed is not None and sorted(listed) == sorted([DERIVED_VERSION, *derived_sources(processed)])


STALE_DERIVED = ("the tables changed since this connection was opened, so the derived tables it reads are stale: "
                 "connect again")


def _stored_rows_sql(processed: Path, derived: Derived) -> str:
    """A select of a derived table's stored rows: its files (base and deltas), without superseded article
    versions; mention_days summed per day (its deltas are signed)."""
    columns = ", ".join(_quoted(c) for c in derived.schema.names)
    # the data files by name, without the empty schema file: from that, DuckDB would estimate the
    # table empty and build its joins' hash tables on it, scanning it whole
    files = ", ".join(sql_literal(storage.sql_location(p)) for p in _data_files(derived_dir(processed, derived)))
    if derived.name == "mention_days":
        return (f"select day, sum(mentions)::bigint as mentions from read_parquet([{files}]) group by day "
                "having sum(mentions) <> 0")  # a day whose mentions were all superseded has none
    if derived.name == "actor_names":
        return f"select distinct {columns} from read_parquet([{files}])"
    rows = f"select {columns} from read_parquet([{files}])"
    superseded = _data_files(derived_dir(processed, SUPERSEDED))
    if derived.name in PER_VERSION and superseded:
        listed = ", ".join(sql_literal(storage.sql_location(p)) for p in superseded)
        return (f"{rows} where (article_id, content_hash) not in "
                f"(select (article_id, content_hash) from read_parquet([{listed}]))")
    return rows


def stored_derived_views(processed: Path) -> str:
    """Views of the derived tables' stored rows (sql/views.sql makes them views of <name>_computed),
    for a connection made while they are fresh. From then on actor_named checks they still are (a
    check in each view would stop DuckDB from filtering their scans by actor).

    A database file (`dateline sql --write-db`) keeps its views after this process ends, so it keeps
    the computed ones, which stay right whatever the tables become."""
    views = [f"create or replace view derived_check as select case when fresh then true "
             f"else error({sql_literal(STALE_DERIVED)}) end as ok from derived_state;"]
    for derived in DERIVED_TABLES:
        views.append(f"create or replace view {derived.name} as {_stored_rows_sql(processed, derived)};")
    return "\n".join(views)


def _write_sources_list(processed: Path, files: list[str], name: str) -> None:
    write_parquet(pa.table({"file": files}, schema=DERIVED_MANIFEST.schema),
                  derived_dir(processed, DERIVED_MANIFEST) / f"{name}.parquet")


def build_derived(processed: Path) -> dict[str, int]:
    """Compute every derived table from the tables; returns {name: rows}. Call it holding the data dir
    lock (compact and runs do), so that no run changes the tables meanwhile.

    The sources list is removed first, so the views compute from the tables until the new list is
    written last: a kill halfway leaves the derived tables stale, never wrong."""
    for old in _data_files(derived_dir(processed, DERIVED_MANIFEST)):
        old.unlink()
    for old in _data_files(derived_dir(processed, SUPERSEDED)):
        old.unlink()
    sources = derived_sources(processed)
    build = uuid.uuid4().hex[:12]
    counts: dict[str, int] = {}
    # the views need a raw root (for raw_index); an empty temporary one will do, none of it is read
    with (tempfile.TemporaryDirectory(prefix="dateline-raw-") as raw, connect(processed, Path(raw)) as con,
          _sorting_connection(processed, con) as sorting):
        for derived in DERIVED_TABLES:
            folder = derived_dir(processed, derived)
            path = folder / f"{build}.parquet"
            columns = ", ".join(_quoted(c) for c in derived.schema.names)
            order = ", ".join(_quoted(c) for c in derived.order)
            sql = f"select {columns} from {derived.name}_computed order by {order}"
            counts[derived.name] = write_sorted(sorting, sql, None, path, derived.schema, DERIVED_ROW_GROUP_SIZE)
            for old in _data_files(folder):
                if old != path:
                    old.unlink()
    _write_sources_list(processed, [DERIVED_VERSION, *sources], build)
    return counts


def refresh_derived(processed: Path, run_id: str, was_fresh: bool) -> str:
    """Bring the derived tables up to date after a run loaded its rows: add the run's rows when they
    were fresh before its load (``was_fresh``), else compute them whole. Returns what was done:
    "added", "built", "unchanged" or "skipped" (object storage: the views compute from the tables)."""
    if storage.is_remote(processed):
        return "skipped"
    if not was_fresh:
        build_derived(processed)
        return "built"
    return "added" if update_derived(processed, run_id) else "unchanged"


# The run's rows of each derived table, from the run's new table files (their paths in $<table>).
# A run's new article versions and their NLP rows are all in its own files (keys are per version); the
# current version of each article it touched is decided over every stored version, so a reprocessed
# older version does not count, and the version it replaced becomes superseded.
_DELTA_SETUP = """
create temp table run_versions as
select distinct article_id, content_hash from read_parquet($articles, union_by_name = true);
create temp table touched as
select distinct article_id from (
    select article_id from run_versions
    union all select article_id from read_parquet($events, union_by_name = true)
    union all select article_id from read_parquet($mentions, union_by_name = true));
create temp table versions as
select article_id, content_hash, fetched_at, url, title, coalesce(site_name, domain) as site, published_at
from articles where article_id in (select article_id from touched);
create temp table now_current as
select v.*, coalesce(d.dup_group, v.article_id) as story
from (select * from versions
      qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1) as v
left join (select article_id, content_hash, dup_group from dedup
           where article_id in (select article_id from touched)) as d using (article_id, content_hash);
create temp table superseded as
select article_id, content_hash, published_at from (
    select * from versions where (article_id, content_hash) not in (select (article_id, content_hash) from run_versions)
    qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1) as was
where (article_id, content_hash) not in (select (article_id, content_hash) from now_current);
"""
_DELTAS = {
    "actor_names": """
select distinct lower(n) as key, actor_id
from (select name as n, actor_id from read_parquet($article_actors, union_by_name = true)
      union all
      select unnest(aliases) as n, actor_id from read_parquet($article_actors, union_by_name = true))""",
    "actor_events": """
select a.actor_id, e.event_date, e.date_precision, e.date_basis, e.trigger, e.sentence, c.url, c.title, c.site,
       e.event_id, e.sentence_id, c.published_at, c.article_id, c.content_hash, c.story
from read_parquet($events, union_by_name = true) as e
join now_current as c on c.article_id = e.article_id and c.content_hash = e.content_hash
cross join unnest(e.actor_ids) as a(actor_id)""",
    "actor_volume": """
select m.actor_id, c.published_at::date as day, m.article_id, m.content_hash, c.story, count(*) as mentions
from read_parquet($mentions, union_by_name = true) as m
join now_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
where c.published_at is not null
group by all""",
    # signed: the mentions the run adds to current versions, less those of the versions it superseded
    "mention_days": """
select day, sum(mentions)::bigint as mentions from (
    select c.published_at::date as day, count(*) as mentions
    from read_parquet($mentions, union_by_name = true) as m
    join now_current as c on c.article_id = m.article_id and c.content_hash = m.content_hash
    where c.published_at is not null
    group by all
    union all
    select s.published_at::date as day, -count(*) as mentions
    from mentions as m
    join superseded as s on s.article_id = m.article_id and s.content_hash = m.content_hash
    where s.published_at is not null and m.article_id in (select article_id from superseded)
    group by all)
group by day""",
}


def update_derived(processed: Path, run_id: str) -> bool:
    """Add a run's rows to fresh derived tables (see "derived actor tables"); returns whether the run
    changed any source table. The delta files and superseded list are written first and the run's
    sources list last: a kill before that leaves the derived tables stale (the next run builds them
    whole), never counted twice or short."""
    listed = _listed_sources(processed) or []
    new = sorted(set(derived_sources(processed)) - set(listed))
    if not new:
        return False
    params = {table.name: [str(processed / f) for f in new if f.split("/", 1)[0] == table.name]
              for table in DERIVED_SOURCES}
    schema_files = {table.name: str(_schema_file(processed, table)) for table in DERIVED_SOURCES}
    params = {name: files or [schema_files[name]] for name, files in params.items()}  # empty: read the schema
    name = f"{DELTA_PREFIX}{run_id}"
    with (tempfile.TemporaryDirectory(prefix="dateline-raw-") as raw, connect(processed, Path(raw)) as con):
        for statement in _DELTA_SETUP.split(";"):
            if statement.strip():
                run(con, statement, {k: v for k, v in params.items() if f"${k}" in statement})
        for derived in DERIVED_TABLES:
            sql = _DELTAS[derived.name]
            order = ", ".join(_quoted(c) for c in derived.order)
            write_sorted(con, f"select * from ({sql}) order by {order}",
                         {k: v for k, v in params.items() if f"${k}" in sql},
                         derived_dir(processed, derived) / f"{name}.parquet", derived.schema, DERIVED_ROW_GROUP_SIZE)
        superseded = con.sql("select article_id, content_hash from superseded order by all").to_arrow_table()
    if superseded.num_rows:
        write_parquet(superseded.cast(SUPERSEDED.schema), derived_dir(processed, SUPERSEDED) / f"{name}.parquet")
    _write_sources_list(processed, new, name)
    merge_deltas(processed)
    return True


def merge_deltas(processed: Path, at: int = DELTAS_MERGED_AT) -> int:
    """Merge a derived table's run deltas into one file once there are more than ``at`` (so that a query
    opens a few files, not one per run since the last compact); returns how many tables were merged.
    Crash-safe as a compaction: a manifest names the files the hidden merged file replaces."""
    merged = 0
    for derived in (*DERIVED_TABLES, SUPERSEDED, DERIVED_MANIFEST):
        folder = derived_dir(processed, derived)
        deltas = [p for p in _data_files(folder) if p.name.startswith(DELTA_PREFIX)]
        if len(deltas) <= at:
            continue
        name = f"{DELTA_PREFIX}merged-{uuid.uuid4().hex[:12]}.parquet"
        manifest = _write_manifest(folder, name, deltas)
        order = ", ".join(_quoted(c) for c in derived.order)
        with duckdb.connect() as con:
            write_sorted(con, f"select * from read_parquet($files) order by {order}",
                         {"files": [str(p) for p in deltas]}, folder / f".{name}{COMPACTION_PENDING}",
                         derived.schema, DERIVED_ROW_GROUP_SIZE)
        commit_compaction(manifest)
        merged += 1
    return merged


# --- rebuild ------------------------------------------------------------------------------

CARRIED_STAGES = ("discover", "fetch", "archive")  # quarantine rows that reprocessing cannot re-derive


def _beside(processed: Path, kind: str) -> Path:
    """A sibling of data/processed: 'processed.previous-1a2b3c4d' (the tree a rebuild replaces) or
    'processed.discard-...' (a tree being deleted)."""
    return processed.with_name(f"{processed.name}.{kind}-{uuid.uuid4().hex[:8]}")


def begin_rebuild(processed: Path) -> Path:
    """Move data/processed aside for a rebuild; returns where it went. Until finish_rebuild renames
    it away, its presence means "a rebuild is under way or was cut short" (see recover_rebuild)."""
    if storage.is_remote(processed):
        raise StoreError(f"a rebuild moves folders, which object storage cannot do atomically: rebuild a local "
                         f"processed root and copy it to {processed}, or reprocess without --rebuild")
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
            with _atomic_file(table_dir(processed, RUNS) / path.name) as tmp:
                shutil.copy2(path, tmp)
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
    """Delete the temporary files of writes a killed process never finished, and the folders a killed
    sort spilled to; returns how many."""
    found = [p for root in roots if root.exists() for p in root.rglob(f".*{TMP_SUFFIX}")]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(found)


def recover(processed: Path, raw: Path) -> list[str]:
    """Put right what a killed process left behind (call it holding the data dir lock, before writing).

    Rolls back an unfinished rebuild, finishes unfinished compactions and removes temporary files.
    Leftover staging is the caller's to load or discard (see flows/pipeline.py). Returns notes.
    Object storage has none of these: nothing is renamed there, compactions and rebuilds are local only."""
    notes: list[str] = []
    if not storage.is_remote(processed):
        notes += [note] if (note := recover_rebuild(processed)) else []
        if count := finish_compactions(processed):
            notes.append(f"finished {count} interrupted compaction(s)")
    local = [root for root in (processed, table_dir(raw, RAW_INDEX)) if not storage.is_remote(root)]
    if count := remove_temporary(*local):
        notes.append(f"removed {count} temporary file(s) of interrupted writes")
    return notes
