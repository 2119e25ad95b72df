"""Snapshots: one manifest per commit names every table's files; readers pin one.

The tables are plain Parquet files that are never changed once written. What a reader sees is decided
by a manifest, ``processed/_snapshots/CURRENT.json``: the files of every table (relative to their
root), the commit's id, time, kind and run, and the rows it added per table. A commit writes the new
files first, then its manifest as ``_snapshots/<id>.json`` (history) and last as CURRENT.json by one
atomic rename (on object storage: one PUT, atomic too). A reader reads CURRENT.json once and builds
its views from the listed files (``read_parquet([...])``, never a glob), so it sees one commit from
start to end: a run's load, its derived rows and its ``runs`` row together, a compaction or a rebuild
all at once, or none of it. Files are deleted only once no snapshot of the retention window lists
them (:func:`collect`, called by the writer holding the data dir lock); files no snapshot ever
listed (a killed writer's) are deleted at once, since no reader can know of them. A connection kept
open longer than the window (a notebook) holds a lease on its snapshot (:func:`take_lease`,
``_snapshots/leases/``): its files stay while the process that holds it lives and the connection is
open, however long.

The set of tables is data-driven (:data:`REGISTRY`): a table is a name, a schema and a root; any
registered table gets a view (sql/views.sql may define a richer one) and a place in every snapshot.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dateline.flows import storage

SNAPSHOTS = "_snapshots"
CURRENT = "CURRENT.json"
LEASES = "leases"
LEASE_MAX_AGE = 7 * 86400.0  # seconds: a lease of another host (whose process cannot be checked) lapses after
HISTORY_KEPT = 100  # manifests kept for `dateline status` past the retention window (their files are gone)
RETENTION_SECONDS = 3600.0  # default: files a commit replaced stay readable this long


@dataclass(frozen=True, slots=True)
class Registered:
    """A table in the snapshots: its name, schema, root ("processed" or "raw") and Hive partition column."""

    name: str
    schema: pa.Schema
    root: str = "processed"
    partition: str | None = None


REGISTRY: dict[str, Registered] = {}


def register(name: str, schema: pa.Schema, root: str = "processed", partition: str | None = None) -> Registered:
    """Add a table to every snapshot from now on (idempotent); it gets a view of its own name."""
    REGISTRY[name] = entry = Registered(name, schema, root, partition)
    return entry


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One commit: the files of each table (relative to the table's root) and what the commit did."""

    id: int = 0
    committed_at: str = ""  # ISO time, UTC; "" for the empty snapshot before the first commit
    kind: str = "empty"  # run, recover, compact, rebuild, migrate
    run_id: str | None = None
    tables: dict[str, list[str]] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)  # rows added per table

    def files(self, name: str) -> list[str]:
        return self.tables.get(name, [])

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        return cls(**{k: data[k] for k in ("id", "committed_at", "kind", "run_id", "tables", "added") if k in data})


def folder(processed: Path) -> Path:
    return processed / SNAPSHOTS


def current(processed: Path) -> Snapshot | None:
    """The current snapshot, or None before the first commit."""
    path = folder(processed) / CURRENT
    try:
        return Snapshot.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def history(processed: Path) -> list[Snapshot]:
    """The snapshots whose manifests are kept, oldest first (up to the current one)."""
    now = current(processed)
    if now is None:
        return []
    found = []
    for path in folder(processed).glob("[0-9]*.json"):
        with_id = int(path.name.split(".")[0])
        if with_id <= now.id:
            found.append(Snapshot.from_json(path.read_text(encoding="utf-8")))
    return sorted(found, key=lambda s: s.id)


def write_atomically(path: Path, text: str, durable: bool = True) -> None:
    """A temporary file renamed over ``path`` (on object storage one PUT): readers see the old text or
    the new, whole. ``durable``: synced to disk before the rename (not for what a crash makes void)."""
    if storage.is_remote(path):
        path.write_text(text, encoding="utf-8")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Transaction:
    """The next snapshot, being prepared by the one writer (under the data dir lock). Nothing of it is
    visible until :meth:`commit`; abandoned, its files are orphans that :func:`collect` deletes."""

    def __init__(self, processed: Path, raw: Path, kind: str, run_id: str | None = None,
                 base: Snapshot | None = None) -> None:
        self.processed, self.raw, self.kind, self.run_id = processed, raw, kind, run_id
        self.base = base if base is not None else (current(processed) or Snapshot())
        self.tables = {name: list(files) for name, files in self.base.tables.items()}
        self.added: dict[str, int] = {}
        self.new: dict[str, list[Path]] = {}  # files added by this transaction, per table
        self.committed: Snapshot | None = None

    def root(self, name: str) -> Path:
        return self.raw if REGISTRY[name].root == "raw" else self.processed

    def paths(self, name: str) -> list[Path]:
        """A table's files in this transaction, as paths."""
        root = self.root(name)
        return [root / f for f in self.tables.get(name, [])]

    def _relative(self, name: str, path: Path) -> str:
        return relative(path, self.root(name))

    def add(self, name: str, paths: Iterable[Path], rows: int = 0) -> None:
        """New files of a table (their rows were not in it before)."""
        listed = self.tables.setdefault(name, [])
        for path in paths:
            if (f := self._relative(name, path)) not in listed:
                listed.append(f)
                self.new.setdefault(name, []).append(path)
        self.added[name] = self.added.get(name, 0) + rows

    def replace(self, name: str, paths: Iterable[Path], old: Iterable[Path] | None = None) -> None:
        """Files that stand for ``old`` (all of the table's files when None): a compaction, a rebuild."""
        dropped = None if old is None else {self._relative(name, p) for p in old}
        kept = [] if dropped is None else [f for f in self.tables.get(name, []) if f not in dropped]
        self.tables[name] = kept + [self._relative(name, p) for p in paths]

    def working(self) -> Snapshot:
        """The snapshot as it would be committed now (for the writer's own queries)."""
        return Snapshot(self.base.id + 1, _now(), self.kind, self.run_id, dict(self.tables), dict(self.added))

    def commit(self) -> Snapshot:
        """Make the transaction current: its manifest into the history, then over CURRENT.json."""
        snap = self.working()
        text = snap.to_json()
        write_atomically(folder(self.processed) / f"{snap.id:08d}.json", text)
        write_atomically(folder(self.processed) / CURRENT, text)
        self.committed = snap
        return snap


def relative(path: Path, root: Path) -> str:
    """A file's name relative to its root, as snapshots list it (local paths and URLs alike)."""
    text, prefix = str(path), str(root).rstrip("/") + "/"
    if not text.startswith(prefix):
        raise ValueError(f"{path} is not under {root}")
    return text[len(prefix):]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def as_of(processed: Path, point: str, retention: float = RETENTION_SECONDS) -> Snapshot:
    """The snapshot a run id (the last commit of that run) or an ISO time (the last commit at or before
    it) names, if it is still retained; else a ValueError that says why."""
    snaps = history(processed)
    if any(s.run_id == point for s in snaps):
        chosen = [s for s in snaps if s.run_id == point]
    elif re.fullmatch(r"\d+", point):
        chosen = [s for s in snaps if s.id == int(point)]
    else:
        try:
            when = datetime.fromisoformat(point)
        except ValueError:
            raise ValueError(f"{point!r} is neither a run id, a snapshot id nor an ISO time") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        chosen = [s for s in snaps if datetime.fromisoformat(s.committed_at) <= when]
    if not chosen:
        raise ValueError(f"no snapshot for {point!r} (see `dateline status` for the snapshots kept)")
    snap = chosen[-1]
    if snap.id not in {s.id for s in retained(snaps, retention)}:
        raise ValueError(f"snapshot {snap.id} ({point}) is older than the retention window "
                         f"({retention:g} s): its files are removed")
    return snap


def retained(snaps: list[Snapshot], retention: float, now: float | None = None) -> list[Snapshot]:
    """The current snapshot and those replaced less than ``retention`` seconds ago."""
    now = time.time() if now is None else now
    kept = snaps[-1:]
    for older, newer in zip(snaps, snaps[1:], strict=False):
        if now - datetime.fromisoformat(newer.committed_at).timestamp() < retention:
            kept.append(older)
    return kept


# --- leases: a reader's hold on its snapshot past the retention window ------------------------------

# this process's lease files -> their reader (a weak reference) and how to tell it is still open
_OPEN: dict[str, tuple[weakref.ref[Any], Callable[[Any], bool]]] = {}


def take_lease(processed: Path, snap_id: int, reader: object, is_open: Callable[[Any], bool]) -> Path | None:
    """Hold ``snap_id``'s files for ``reader`` (a connection): a lease file naming the snapshot, this
    host and process, removed when the reader is garbage-collected (or the process ends: a lease of a
    dead process is void). ``is_open(reader)`` says whether a reader that still exists is open (a
    closed one holds nothing). Local stores only (None on object storage: the retention window alone)."""
    if storage.is_remote(processed):
        return None
    path = folder(processed) / LEASES / f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}.json"
    move_lease(path, snap_id)
    _OPEN[str(path)] = (weakref.ref(reader), is_open)
    weakref.finalize(reader, release, path)
    return path


def lease_of(reader: object) -> Path | None:
    """The lease :func:`take_lease` took for ``reader``, if any."""
    return next((Path(p) for p, (ref, _) in _OPEN.items() if ref() is reader), None)


def move_lease(path: Path, snap_id: int) -> None:
    """Point a lease at another snapshot (a reader refreshed)."""
    write_atomically(path, json.dumps({"snapshot": snap_id, "host": socket.gethostname(), "pid": os.getpid(),
                                       "taken_at": _now()}), durable=False)  # a crash ends its process too


def release(path: Path) -> None:
    _OPEN.pop(str(path), None)
    path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _mtime(path: Path, default: float) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # renamed into place meanwhile
        return default


_LEASE_TMP = re.compile(r"^\.(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{12}\.json\.[0-9a-f]{32}\.tmp$")


def leased(processed: Path, now: float | None = None) -> set[int]:
    """The snapshots live leases hold; void ones (a dead process's, a closed reader's, another host's
    older than LEASE_MAX_AGE) are removed on the way."""
    base = folder(processed) / LEASES
    if storage.is_remote(processed) or not base.exists():
        return set()
    now = time.time() if now is None else now
    for tmp in base.glob(".*.tmp"):  # a lease being written (see write_atomically), or a killed reader's
        owner = _LEASE_TMP.match(tmp.name)
        if owner is None:
            void = True
        elif owner["host"] == socket.gethostname():
            void = not _alive(int(owner["pid"]))
        else:
            void = now - _mtime(tmp, now) > LEASE_MAX_AGE
        if void:
            tmp.unlink(missing_ok=True)
    held = set()
    for path in base.glob("*.json"):
        try:
            lease = json.loads(path.read_text(encoding="utf-8"))
            snap_id, pid, taken = int(lease["snapshot"]), int(lease["pid"]), lease["taken_at"]
        except FileNotFoundError:
            continue  # released meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # not a lease this code wrote (a lease is written whole, by a rename)
            continue
        if lease.get("host") == socket.gethostname():
            own = _OPEN.get(str(path))
            if own is not None:
                reader = own[0]()
                live = reader is not None and own[1](reader)
            else:
                live = pid != os.getpid() and _alive(pid)
        else:
            live = now - datetime.fromisoformat(taken).timestamp() < LEASE_MAX_AGE
        if live:
            held.add(snap_id)
        else:
            path.unlink(missing_ok=True)
    return held


def collect(processed: Path, raw: Path, retention: float = RETENTION_SECONDS,
            tables: Iterable[str] | None = None) -> int:
    """Delete the files of registered processed tables that no retained snapshot lists, and the
    manifests past HISTORY_KEPT. Call it holding the data dir lock, with no transaction open: then a
    file no snapshot lists is a killed writer's, or was replaced before the retention window.
    Returns how many files were deleted. The raw index is never deleted (it is not compacted)."""
    snaps = history(processed)
    held = leased(processed)
    keep = retained(snaps, retention) + [s for s in snaps if s.id in held]
    listed = {f for s in keep for files in s.tables.values() for f in files}
    removed = 0
    for name in tables if tables is not None else REGISTRY:
        entry = REGISTRY.get(name)
        if entry is None or entry.root != "processed":
            continue
        base = processed / name
        if not base.exists():
            continue
        for path in base.rglob("*.parquet"):
            if path.name.startswith(("_", ".")) or relative(path, processed) in listed:
                continue
            path.unlink(missing_ok=True)
            removed += 1
    kept_ids = {s.id for s in keep} | {s.id for s in snaps[-HISTORY_KEPT:]}
    for s in snaps:
        if s.id not in kept_ids:
            (folder(processed) / f"{s.id:08d}.json").unlink(missing_ok=True)
    return removed
