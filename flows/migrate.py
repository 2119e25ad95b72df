"""The one-time migration of a data dir written before snapshots (and before columns were renamed).

Such a data dir has table files and no ``processed/_snapshots/CURRENT.json``; its views then read
globs. :func:`migrate` lists those files in a first snapshot, rewriting the files whose columns were
renamed since (mentions: source, start, end -> text_source, start_char, end_char; events: source ->
text_source), so old and new files read alike. It runs under the data dir lock: at the start of the
next run, or when a reader first connects.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
from dateline.flows import snapshot, storage, store
from dateline.flows.snapshot import Snapshot
from dateline.transforms.schema import RAW_INDEX, TABLES

RENAMED = {"mentions": {"source": "text_source", "start": "start_char", "end": "end_char"},
           "events": {"source": "text_source"}}  # columns renamed since data dirs were first written


def legacy_files(processed: Path) -> dict[str, list[Path]]:
    """The data files of a data dir written before snapshots (by glob, as its views read them then)."""
    found = {}
    for table in TABLES.values():
        if table is RAW_INDEX:
            continue
        pattern = "*/*.parquet" if table.partition else "*.parquet"
        files = sorted(p for p in store.table_dir(processed, table).glob(pattern) if p.name != store.SCHEMA_FILE)
        if files:
            found[table.name] = files
    return found


def migrate(processed: Path, raw: Path, locked: bool = True) -> Snapshot:
    """The first snapshot of a data dir written before snapshots: its files, as its globs found them, with
    renamed columns rewritten (a new file each; the old one is then unlisted and removed). The derived
    tables of before are left out (the next run builds them). Without ``locked`` (a reader finding such
    a data dir) the data dir lock is taken first; a data dir with no files gets the empty snapshot."""
    legacy = legacy_files(processed)
    if not legacy or storage.is_remote(processed):
        return Snapshot()  # nothing yet (or object storage, which had no releases before snapshots)
    if not locked:
        from dateline.flows.lock import data_dir_lock  # a reader migrating takes the writers' lock

        with data_dir_lock(processed.parent, snapshot.RETENTION_SECONDS):
            return snapshot.current(processed) or migrate(processed, raw)
    tx = store.begin(processed, raw, "migrate")
    for name, files in legacy.items():
        renames = RENAMED.get(name, {})
        for path in files:
            schema = pq.read_schema(path)
            if not any(old in schema.names and new not in schema.names for old, new in renames.items()):
                tx.add(name, [path])
                continue
            data = pq.read_table(path)
            data = data.rename_columns([renames.get(c, c) if renames.get(c) not in data.column_names else c
                                        for c in data.column_names])
            tx.add(name, [store.write_parquet(data, path.with_name(f"{path.stem}-renamed.parquet"))])
    tx.add(RAW_INDEX.name, store.raw_index_files(raw))
    shutil.rmtree(processed / "derived_sources", ignore_errors=True)
    return tx.commit()
