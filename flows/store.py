"""Parquet tables under data/processed and the DuckDB views over them.

Files are written once (under a temporary name, then renamed) and never changed; which files make
up the tables is decided by snapshots (flows/snapshot.py): a commit names every table's files in one
manifest, made current by one atomic rename, and readers build their views from the manifest they
pinned. A run's rows are staged per batch under ``processed/_staging/<run_id>/`` and moved into the
tables by :func:`load_staged`, which drops rows whose key is already stored: running the same input
again adds no rows, and loading the same staging twice (a load cut short, then finished) adds each
row once.

Files are sorted for the per-actor queries (SORT_KEYS), and derived, actor-first tables are kept
beside them (flows/derived.py: ``dateline compact`` computes them whole, each run
adds its rows): with those, an actor's timeline or mention volume over 1M articles takes tens of
milliseconds instead of seconds.

A process killed while writing leaves at most temporary files, a staging folder and files no
snapshot lists; none is ever read. :func:`recover` and :func:`collect_garbage` (run under the data
dir lock at the start of every run) remove them, and the replaced files once their retention ends.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import MISSING, asdict, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from dateline.flows import derived, migrate, snapshot, storage
from dateline.flows.config import DatelineError
from dateline.flows.snapshot import Snapshot, Transaction
from dateline.transforms.schema import (
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
REBUILDING = "_rebuild"  # in a run's staging folder: a rebuild, whose rows are discarded if it dies
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


def write_parquet(data: pa.Table, path: Path, row_group_size: int = ROW_GROUP_SIZE) -> Path:
    """Write atomically: temporary file in the same folder, fsync, then rename over ``path``. On object
    storage the object is written in place: a PUT is atomic already, and there is no rename."""
    if storage.is_remote(path):
        storage.write_parquet_object(data, path, compression="zstd", row_group_size=row_group_size)
        return path
    with _atomic_file(path) as tmp:
        pq.write_table(data, tmp, compression="zstd", row_group_size=row_group_size)
    return path


def table_dir(root: Path, table: Table | snapshot.Registered) -> Path:
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
    """Give every registered table its folder and an empty schema file (rewritten when the schema changes)."""
    for entry in snapshot.REGISTRY.values():
        _ensure_schema_file(_schema_file(raw if entry.root == "raw" else processed, entry), entry.schema)


def _ensure_schema_file(path: Path, schema: pa.Schema) -> None:
    """An empty Parquet file with ``schema`` at ``path``, unless one is there already."""
    if path.exists():
        try:
            if storage.read_schema(path).equals(schema, check_metadata=False):
                return
        except (OSError, pa.ArrowInvalid):
            pass  # unreadable: rewrite it
    write_parquet(schema.empty_table(), path)


def _schema_file(root: Path, table: Table | snapshot.Registered) -> Path:
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


def load_staged(processed: Path, run_id: str, table: Table, files_at_once: int = LOAD_FILES_AT_ONCE,
                tx: Transaction | None = None) -> tuple[int, int]:
    """Move a run's staged rows of ``table`` into the transaction ``tx`` (without one: into a commit of
    their own); returns (new rows, rows already stored).

    A row whose key (Table.key) is stored already, or repeats within the run, is dropped. The staged
    files are loaded ``files_at_once`` at a time, each group written before the next is read, so a
    large run holds a few thousand pages' rows in memory, not all of them (a group's rows that repeat
    an earlier group's are then stored already). The first group's files are named after the run
    (``<run_id>.parquet``), later ones ``<run_id>-<n>.parquet``.
    """
    own = tx is None
    tx = tx or begin(processed, None, "run", run_id)
    staged = sorted((staging_dir(processed, run_id) / table.name).glob("*.parquet"))
    new = old = 0
    for n, start in enumerate(range(0, len(staged), files_at_once)):
        written, added, kept = _load_files(tx.paths(table.name), staged[start:start + files_at_once], table,
                                           processed, run_id if n == 0 else f"{run_id}-{n}")
        tx.add(table.name, written, added)
        new, old = new + added, old + kept
    if own:
        tx.commit()
    return new, old


def _load_files(stored_files: list[Path], staged: list[Path], table: Table, processed: Path, name: str
                ) -> tuple[list[Path], int, int]:
    key = ", ".join(table.key)
    with storage.duckdb_connect(processed) as con:
        run(con, "set TimeZone = 'UTC'")
        run(con, "create temp table staged as select * from read_parquet($files)",
            {"files": [str(p) for p in staged]})
        total = _scalar(con, "select count(*) from staged")
        stored = [str(p) for p in stored_files]
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
    return write_table(fresh, table, processed, name), fresh.num_rows, total - fresh.num_rows


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


def mark_rebuild(processed: Path, run_id: str) -> None:
    """Note that the run is a rebuild: killed, its staging is discarded (the old corpus stays current)."""
    folder = staging_dir(processed, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REBUILDING).touch()


def is_rebuild(processed: Path, run_id: str) -> bool:
    return (staging_dir(processed, run_id) / REBUILDING).exists()


def leftover_runs(processed: Path) -> list[str]:
    """Runs with a staging folder. Under the data dir lock, outside a run, these are runs that died."""
    root = processed / STAGING
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


# --- snapshots and DuckDB -----------------------------------------------------------------

def begin(processed: Path, raw: Path | None, kind: str, run_id: str | None = None) -> Transaction:
    """A transaction on the current snapshot (the caller holds the data dir lock)."""
    return Transaction(processed, raw if raw is not None else processed.with_name("raw"), kind, run_id)


def sql_literal(value: str) -> str:
    """A SQL string literal: quotes doubled. Only for DDL, which takes no bound parameters."""
    return "'" + value.replace("'", "''") + "'"


def _file_list(paths: Sequence[str]) -> str:
    return "[" + ", ".join(sql_literal(p) for p in paths) + "]"


def _locations(snap: Snapshot, processed: Path, raw: Path, relative_to: Path | None) -> dict[str, list[str]]:
    """Every registered table's files as DuckDB names them: absolute (or relative to ``relative_to``, the
    folder of a database file); a table without files reads its empty schema file."""
    def where(path: Path) -> str:
        if relative_to is None or storage.is_remote(path):
            return storage.sql_location(path)
        return os.path.relpath(path.resolve(), relative_to.resolve())

    found = {}
    for name, entry in snapshot.REGISTRY.items():
        root = raw if entry.root == "raw" else processed
        files = snap.files(name)
        found[name] = [where(root / f) for f in files] if files else [where(_schema_file(root, entry))]
    return found


def render_views(processed: Path, raw: Path, snap: Snapshot | None = None, relative_to: Path | None = None) -> str:
    """sql/views.sql with each ${table} placeholder replaced by the snapshot's files of that table; then a
    plain view for any registered table views.sql does not define, the stored derived tables the
    snapshot holds, and dateline_internal.snapshot (which snapshot this is, and where)."""
    snap = snap if snap is not None else Snapshot()
    files = _locations(snap, processed, raw, relative_to)
    text = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    views = [re.sub(r"\$\{(\w+)\}", lambda m: _file_list(files[m.group(1)]), text)]
    computed = {d.name for d in (*derived.DERIVED_TABLES, derived.SUPERSEDED)}
    schema_files = _locations(Snapshot(), processed, raw, relative_to)  # each table's empty schema file
    for name in snapshot.REGISTRY:
        if name in computed or f"view {name} as" in text:
            continue
        # with its schema file: every column is there, null in the rows of files written before it
        listed = files[name] + schema_files[name] if snap.files(name) else files[name]
        views.append(f"create or replace view {name} as select * from read_parquet({_file_list(listed)}, "
                     "union_by_name = true);")
    if all(snap.files(d.name) for d in derived.DERIVED_TABLES):
        for d in derived.DERIVED_TABLES:
            views.append(f"create or replace view {d.name} as {derived.stored_rows_sql(d, files, snap)};")
    views.append(f"""create or replace view dateline_internal.snapshot as select {snap.id} as id,
        {sql_literal(snap.committed_at)} as committed_at, {sql_literal(snap.kind)} as kind,
        {sql_literal(snap.run_id or '')} as run_id, {sql_literal(storage.sql_location(processed))} as processed,
        {sql_literal(storage.sql_location(raw))} as raw;""")
    return "\n".join(views)


def connect(processed: Path, raw: Path, database: str = ":memory:", snap: Snapshot | str | None = None,
            retention: float = snapshot.RETENTION_SECONDS) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory unless ``database`` names a file) with every view over one pinned
    snapshot: the current one, ``snap``, or the one a run id, snapshot id or ISO time names (while
    retained). It stays on it until :func:`refresh`; ``select * from dateline_internal.snapshot`` says
    which. A database file's views name the files relative to its folder (open it from there)."""
    ensure_tables(processed, raw)
    if isinstance(snap, str):
        try:
            snap = snapshot.as_of(processed, snap, retention)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
    elif snap is None:
        snap = snapshot.current(processed) or migrate.migrate(processed, raw, locked=False)
    con = storage.duckdb_connect(processed, raw, database=database)
    run(con, "set TimeZone = 'UTC'")
    run(con, "set parquet_metadata_cache = true")  # footers read once per connection (checked against the file)
    relative_to = None if database == ":memory:" else Path(database).parent
    if relative_to is not None:  # relative names resolve against the file's folder (a client opened there too)
        run(con, f"set file_search_path = {sql_literal(str(relative_to.resolve()))}")
    try:
        run(con, render_views(processed, raw, snap, relative_to))
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot create the views over {processed}: {exc}") from exc
    # a database file outlives the process: its views stand on the retention window alone
    if database == ":memory:":
        snapshot.take_lease(processed, snap.id, con, _is_open)
    if not storage.is_remote(processed):  # `search('query')` as a table (flows/search.py; local index only)
        from dateline.flows import search  # it imports this module

        search.register(con, processed)
    return con


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Move a connection from :func:`connect` to the current snapshot; returns its id."""
    processed, raw = con.execute("select processed, raw from dateline_internal.snapshot").fetchone() or ("", "")
    root = storage.root_path(processed) if "://" in processed else Path(processed)
    raw_root = storage.root_path(raw) if "://" in raw else Path(raw)
    snap = snapshot.current(root) or Snapshot()
    run(con, render_views(root, raw_root, snap))
    if (lease := snapshot.lease_of(con)) is not None:
        snapshot.move_lease(lease, snap.id)
    return snap.id


def _is_open(con: object) -> bool:
    try:
        con.cursor().close()  # type: ignore[attr-defined]  # (a query would replace the connection's pending result)
    except duckdb.ConnectionException:
        return False
    return True


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
    """Append raw index rows as ``data/raw/raw_index/<name>.parquet`` (a snapshot lists it once the run's
    load commits; the writer reads every file, :func:`read_raw_index`)."""
    rows = list(rows)
    if not rows:
        return None
    return write_parquet(to_arrow(rows, RAW_INDEX), table_dir(raw, RAW_INDEX) / f"{name}.parquet")


def raw_index_files(raw: Path) -> list[Path]:
    return sorted(p for p in table_dir(raw, RAW_INDEX).glob("*.parquet") if p.name != SCHEMA_FILE)


def read_raw_index(raw: Path) -> list[RawRecord]:
    """Every row of the raw index (empty before the first run)."""
    files = raw_index_files(raw)
    if not files:
        return []
    data = storage.parquet_dataset(files, schema=RAW_INDEX.schema).read()
    return [RawRecord(**row) for row in data.to_pylist()]


def indexed_runs(raw: Path) -> set[str]:
    """The runs that have rows in the raw index (they committed their pages)."""
    files = raw_index_files(raw)
    if not files:
        return set()
    column = storage.parquet_dataset(files, schema=RAW_INDEX.schema).read(columns=["run_id"]).column("run_id")
    return set(column.unique().to_pylist())


# --- compaction ---------------------------------------------------------------------------

def compact(processed: Path, raw: Path | None = None, tx: Transaction | None = None) -> dict[str, tuple[int, int]]:
    """Merge each table partition's Parquet files into one, in one commit (``tx``'s, else its own);
    returns {folder: (files before, rows)}. Readers see the old files or the merged ones, never a mix;
    the old files stay for the retention window. Works on object storage too (no rename is needed)."""
    own = tx is None
    tx = tx or begin(processed, raw, "compact")
    done: dict[str, tuple[int, int]] = {}
    for table in TABLES.values():
        if table is RAW_INDEX:
            continue
        groups: dict[str, list[Path]] = defaultdict(list)
        for path in tx.paths(table.name):
            groups[str(path.parent)].append(path)
        merging = [files for files in groups.values() if len(files) >= 2]
        if not merging:
            continue
        columns = ", ".join(_column_or_default(table, field) for field in table.schema)  # no hive column
        order = ", ".join(_quoted(c) for c in sort_key(table))
        schema_file = _schema_file(processed, table)  # read with the files: every column, in older files too
        _ensure_schema_file(schema_file, table.schema)
        for files in merging:
            folder = files[0].parent
            merged = folder / f"compact-{uuid.uuid4().hex[:12]}.parquet"
            read = [str(p) for p in files] + [str(schema_file)]
            with _sorting_connection(folder) as con:
                rows = write_sorted(con, f"select {columns} from read_parquet($files, union_by_name = true) "
                                    f"order by {order}", {"files": read}, merged, table.schema)
            tx.replace(table.name, [merged], old=files)
            done[snapshot.relative(folder, processed)] = (len(files), rows)
    if not storage.is_remote(processed):
        if not all(tx.tables.get(d.name) for d in derived.DERIVED_TABLES):
            counts = derived.build_derived(tx)
            log.info("derived tables computed: %s", ", ".join(f"{name} {rows} rows" for name, rows in counts.items()))
        else:
            derived.merge_deltas(tx, at=1)
    from dateline.flows.clusters import compact_clusters  # it imports this module

    compact_clusters(tx)
    if own and (done or tx.tables != tx.base.tables):
        tx.commit()
    return done


def data_file_count(processed: Path) -> int:
    """How many data files the current snapshot's tables hold (what compaction merges; not the raw index)."""
    snap = snapshot.current(processed) or Snapshot()
    return sum(len(snap.files(t.name)) for t in TABLES.values() if t is not RAW_INDEX)


SORT_MEMORY = "2GB"  # DuckDB's memory limit when sorting for a compaction or a derived table; it spills past it


@contextlib.contextmanager
def _sorting_connection(beside: Path, con: duckdb.DuckDBPyConnection | None = None
                        ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection (``con``, or a new one) set for big sorts: bounded memory, spilling to a
    temporary folder in ``beside`` (on the data's disk, not a /tmp that may be memory), removed
    afterwards, or by :func:`remove_temporary` after a kill."""
    local = Path(tempfile.gettempdir()) if storage.is_remote(beside) else beside
    spill = local / f".sort-{uuid.uuid4().hex[:12]}{TMP_SUFFIX}"
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
    """A column name as a SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def write_sorted(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None, path: Path,
                 schema: pa.Schema, row_group_size: int = ROW_GROUP_SIZE) -> int:
    """Stream a query's rows into one Parquet file with ``schema``, atomically (as write_parquet; on object
    storage written locally, then uploaded in one PUT); returns the row count. Row groups hold
    ``row_group_size`` rows, in the query's order."""
    if storage.is_remote(path):
        with tempfile.TemporaryDirectory(prefix="dateline-") as local:
            rows = write_sorted(con, sql, params, Path(local) / path.name, schema, row_group_size)
            storage.upload(Path(local) / path.name, path)
        return rows
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


# --- event cluster tables and the registry ------------------------------------------------
_S = pa.string()
# Event clusters (flows/clusters.py writes them, after the derived tables): each touched cluster's whole
# state as a new revision (the view event_clusters keeps each cluster's latest), and event -> cluster.
_D, _TS, _LS, _LI = pa.date32(), pa.timestamp("us", tz="UTC"), pa.list_(_S), pa.list_(pa.int64())
# what the timeline shows of a cluster's representative report (transforms.clusters.Shown)
_SHOWN = [("report_trigger", _S), ("report_url", _S), ("report_title", _S), ("report_site", _S),
          ("report_date_basis", _S), ("report_published_at", _TS), ("report_sentence_id", pa.int64())]
CLUSTER_REVISIONS = snapshot.register("event_cluster_revisions", pa.schema([
    ("cluster_id", _S), ("revision", pa.int64()), ("event_date", _D), ("date_precision", _S), ("date_min", _D),
    ("date_max", _D), ("trigger", _S), ("actor_ids", _LS), ("place", _S), ("negated", pa.bool_()), ("sentence", _S),
    ("event_id", _S), ("first_reported_at", _TS), ("first_article_id", _S), ("first_url", _S),
    ("reports", pa.int64()), ("articles", pa.int64()), ("sites", pa.int64()), ("site_names", _LS),
    ("article_ids", _LS), ("triggers", _LS), ("trigger_counts", _LI), ("actor_counts", _LI), ("words", _LS),
    ("word_counts", _LI), ("places", _LS), ("place_counts", _LI), ("when_start", _D), ("when_end", _D),
    ("reported_start", _D), ("reported_end", _D), ("best", pa.float64()), *_SHOWN, ("context_ids", _LS),
    ("context_counts", _LI)]))
CLUSTER_MEMBERS = snapshot.register("event_cluster_members", pa.schema([
    ("event_id", _S), ("cluster_id", _S), ("article_id", _S), ("content_hash", _S), ("revision", pa.int64())]))
# what the timeline shows of a cluster, once per actor of it, sorted by actor: an actor's clusters are a
# few row groups, not a scan of every cluster (the latest revision per cluster counts)
ACTOR_CLUSTERS = snapshot.register("actor_clusters", pa.schema([
    ("actor_id", _S), ("cluster_id", _S), ("revision", pa.int64()), ("event_date", _D), ("date_precision", _S),
    ("date_min", _D), ("date_max", _D), ("trigger", _S), ("sentence", _S), ("event_id", _S), ("first_url", _S),
    ("first_reported_at", _TS), ("reports", pa.int64()), ("articles", pa.int64()), ("sites", pa.int64()),
    *_SHOWN]))

for _table in TABLES.values():
    snapshot.register(_table.name, _table.schema, "raw" if _table is RAW_INDEX else "processed", _table.partition)


def _working_connection(tx: Transaction, stored_derived: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection over the transaction's state as it stands (without the stored derived tables: their
    views then compute from the tables)."""
    snap = tx.working()
    if not stored_derived:
        snap = replace(snap, tables={k: v for k, v in snap.tables.items()
                                     if k not in {d.name for d in (*derived.DERIVED_TABLES, derived.SUPERSEDED)}})
    return connect(tx.processed, tx.raw, snap=snap)


# --- rebuild ------------------------------------------------------------------------------

CARRIED_STAGES = ("discover", "fetch", "archive")  # quarantine rows that reprocessing cannot re-derive


def begin_rebuild(tx: Transaction) -> None:
    """Start the transaction's tables afresh, beside the old ones: readers keep the old corpus until it
    commits. Kept: the runs, and the quarantine rows reprocessing cannot re-derive (fetch stages)."""
    old = tx.paths(QUARANTINE.name)
    for name in list(tx.tables):
        if name not in (RUNS.name, RAW_INDEX.name):
            tx.replace(name, [])
    if old:
        rows = storage.parquet_dataset(old, schema=QUARANTINE.schema).read().to_pylist()
        kept = [QuarantineRecord(**r) for r in rows if r["stage"] in CARRIED_STAGES]
        tx.add(QUARANTINE.name, write_table(to_arrow(kept, QUARANTINE), QUARANTINE, tx.processed,
                                            f"carried-over-{tx.run_id}"), len(kept))


# --- recovery, retention and the one-time migration ---------------------------------------

def remove_temporary(*roots: Path) -> int:
    """Delete the temporary files of writes a killed process never finished, and the folders a killed
    sort spilled to; returns how many. A reader's lease being written is not a write of a killed process:
    readers write leases without the lock, and :func:`snapshot.leased` removes those of dead readers."""
    found = [p for root in roots if root.exists() for p in root.rglob(f".*{TMP_SUFFIX}")
             if snapshot.folder(root) / snapshot.LEASES not in p.parents]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(found)


def recover(processed: Path, raw: Path) -> list[str]:
    """Put right what a killed process left behind (call it holding the data dir lock, before writing):
    migrate a data dir written before snapshots, remove temporary files. Leftover staging is the
    caller's to load or discard (see flows/pipeline.py), then :func:`collect_garbage`. Returns notes."""
    notes: list[str] = []
    if snapshot.current(processed) is None and migrate.legacy_files(processed):
        snap = migrate.migrate(processed, raw)
        notes.append(f"migrated {processed} to snapshots (snapshot {snap.id})")
    local = [root for root in (processed, table_dir(raw, RAW_INDEX)) if not storage.is_remote(root)]
    if count := remove_temporary(*local):
        notes.append(f"removed {count} temporary file(s) of interrupted writes")
    return notes


def collect_garbage(processed: Path, raw: Path, retention: float = snapshot.RETENTION_SECONDS) -> list[str]:
    """Delete files no retained snapshot lists (replaced ones past the retention window, a killed writer's
    at once) and the WARC files of runs that died before indexing them. Hold the data dir lock, with
    no staging left to load. Returns notes."""
    notes = []
    if count := snapshot.collect(processed, raw, retention):
        notes.append(f"removed {count} table file(s) no retained snapshot lists")
    if count := remove_unindexed_warcs(processed, raw):
        notes.append(f"removed {count} WARC file(s) of runs killed before indexing them")
    return notes


WARC_RUN = re.compile(r"^(\d{8}T\d{6}Z-[0-9a-f]{6})-")  # the run id a WARC file's name starts with


def remove_unindexed_warcs(processed: Path, raw: Path) -> int:
    """Delete WARC files that no raw index row names, written by a run that did not complete (killed, or
    failed before its commit point): nothing reads them, and their pages are fetched again."""
    if storage.is_remote(raw) or not raw.exists():
        return 0
    indexed = {r.warc_file for r in read_raw_index(raw)}
    completed = set()
    snap = snapshot.current(processed)
    if snap and snap.files(RUNS.name):
        runs = storage.parquet_dataset([processed / f for f in snap.files(RUNS.name)], schema=RUNS.schema)
        completed = {r["run_id"] for r in runs.read(columns=["run_id", "status"]).to_pylist()
                     if r["status"] == "completed"}
    removed = 0
    for path in raw.rglob("*.warc.gz"):
        relative = path.relative_to(raw).as_posix()
        match = WARC_RUN.match(path.name)
        if match and relative not in indexed and match.group(1) not in completed:
            path.unlink()
            removed += 1
    return removed
