"""Where the raw and processed roots live: a local folder (the default) or an object-storage prefix.

A root given as ``s3://bucket/prefix`` becomes a universal_pathlib ``UPath`` over s3fs: the same
path API as ``pathlib.Path`` (``/``, ``glob``, ``exists``, ``open``, ``unlink``), so the store and
the archive use one code path for both. The differences live here:

- atomic writes: a local file is written under a temporary name and renamed; an object PUT (and a
  multipart upload, visible only once completed) is atomic already, so objects are written in place;
- DuckDB reads object storage through the fsspec filesystem registered on each connection (the
  httpfs extension is downloaded at run time, which an offline machine cannot do, and no PyPI
  package ships it for DuckDB 2);
- pyarrow reads and writes through the same filesystem.

Credentials and the endpoint come from the standard AWS environment variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION), read by botocore: every process that touches
the roots (the flow, each Dask worker, `dateline sql`) needs them.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateline.flows.config import OBJECT_STORES, ConfigError

if TYPE_CHECKING:
    import duckdb
    import pyarrow.parquet as pq

# pyarrow and DuckDB are imported where they are used: the archive (fetching, and Dask workers reading
# WARC records) imports this module and needs neither
S3_READ_BLOCK = 1 << 20  # bytes per ranged GET when reading a WARC record (s3fs reads 50 MB ahead by default)


def root_path(url: str) -> Path:
    """The UPath of an object-storage root (typed as Path: it has Path's API, not its class)."""
    scheme, _, rest = url.partition("://")
    if scheme not in OBJECT_STORES or not rest.strip("/"):
        raise ConfigError(f"{url!r} is not an object-storage root like s3://bucket/prefix")
    from upath import UPath  # only when a root is a URL

    path: Any = UPath(url.rstrip("/"))
    return path  # type: ignore[no-any-return]


def is_remote(path: Path) -> bool:
    """Whether a path is on object storage (a UPath with a protocol) rather than the local disk."""
    return getattr(path, "protocol", "") in OBJECT_STORES


def fs_of(path: Path) -> Any:
    """The fsspec filesystem of an object-storage path."""
    return path.fs  # type: ignore[attr-defined]


def write_parquet_object(data: Any, path: Path, **options: Any) -> None:
    """Write a Parquet object in place: an object PUT is atomic (no reader sees half of it)."""
    import pyarrow.parquet as pq

    pq.write_table(data, path.path, filesystem=fs_of(path), **options)  # type: ignore[attr-defined]


def parquet_dataset(files: list[Path], **options: Any) -> pq.ParquetDataset:
    """A ParquetDataset over local or object-storage files (all on one filesystem)."""
    import pyarrow.parquet as pq

    if files and is_remote(files[0]):
        return pq.ParquetDataset([f.path for f in files], filesystem=fs_of(files[0]), **options)  # type: ignore[attr-defined]
    return pq.ParquetDataset(files, **options)


def read_schema(path: Path) -> Any:
    """A Parquet file's schema, local or on object storage."""
    import pyarrow.parquet as pq

    if is_remote(path):
        with path.open("rb") as fh:
            return pq.read_schema(fh)
    return pq.read_schema(path)


def remove_tree(path: Path) -> None:
    """Delete a folder (or every object under a prefix) and what is in it; nothing if it is absent."""
    if is_remote(path):
        _remove_prefix(fs_of(path), path.path)  # type: ignore[attr-defined]
        return
    shutil.rmtree(path, ignore_errors=True)


def _remove_prefix(fs: Any, key: str) -> None:
    """Delete every object under ``key``, then its folder entries: stores with a real directory tree
    behind their S3 API (SeaweedFS's filer, MinIO) keep empty folders listed until their "name/"
    key is deleted too (deleting one that does not exist is a no-op on plain S3)."""
    if not fs.exists(key):
        return
    found = fs.find(key, withdirs=True, detail=True)
    folders = [name for name, info in found.items() if info.get("type") == "directory"]
    fs.rm(key, recursive=True)
    for folder in sorted({*folders, key}, key=len, reverse=True):
        with contextlib.suppress(OSError):
            fs.rm_file(folder.rstrip("/") + "/")
    fs.invalidate_cache(key)


def sql_location(path: Path) -> str:
    """How DuckDB names a root: an absolute local path, or the URL itself."""
    return str(path) if is_remote(path) else str(path.resolve())


def duckdb_connect(*roots: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that can read every root: object-storage filesystems registered on it."""
    import duckdb

    con = duckdb.connect(database)
    seen: set[int] = set()
    for root in roots:
        if is_remote(root) and id(fs := fs_of(root)) not in seen:
            seen.add(id(fs))
            con.register_filesystem(fs)
    return con


def open_for_reading(path: Path) -> Any:
    """A seekable binary file; on object storage it reads in small ranged GETs, for one record at a time."""
    if is_remote(path):
        return fs_of(path).open(path.path, "rb", block_size=S3_READ_BLOCK)  # type: ignore[attr-defined]
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def upload(local: Path, target: Path) -> None:
    """Copy a finished local file to object storage (one PUT or a multipart upload: atomic either way)."""
    fs_of(target).put_file(str(local), target.path)  # type: ignore[attr-defined]
