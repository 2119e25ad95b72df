"""The raw archive: every response and saved page, as WARC records under data/raw.

Files are ``data/raw/<yyyy>/<mm>/<run_id>-<n>.warc.gz``, one gzip member per record, so a record
is read back by seeking to its offset. A ``raw_ref`` is ``"<file relative to data/raw>#<offset>"``.
Bodies are stored decoded (Content-Encoding removed, Content-Length set to the stored length),
because the fetcher decodes while it counts bytes against the size limit; the original
Content-Encoding is kept in an ``X-Dateline-Original-Content-Encoding`` header.

A write that fails (a full disk) is cut back to the end of the last complete record, so the
file stays readable to its end; the archive then refuses further writes and raises the error
again when it is closed, because the fetcher turns each URL's error into a reject and goes on.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from dateline.flows.config import DatelineError
from dateline.flows.storage import is_remote, open_for_reading, upload
from dateline.transforms.extract import DATELINE_VERSION
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

log = logging.getLogger(__name__)

MAX_WARC_FILE_BYTES = 1_000_000_000
_HOP_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class ArchiveError(DatelineError):
    """A raw reference does not lead to a readable WARC record."""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """Where a record landed."""

    warc_file: str  # relative to data/raw
    offset: int

    @property
    def raw_ref(self) -> str:
        return f"{self.warc_file}#{self.offset}"


class WarcArchive:
    """Appends records to this run's WARC files; safe to share between fetch threads."""

    def __init__(self, raw_dir: Path, run_id: str, started_at: datetime,
                 max_file_bytes: int = MAX_WARC_FILE_BYTES) -> None:
        self.raw_dir = raw_dir
        # on object storage a file cannot be appended to: it is written in a local spool folder and
        # uploaded whole when it is finished (an upload is atomic; a run killed before that never
        # indexed its records, so the next run reads those pages again)
        self._remote = is_remote(raw_dir)
        self._spool = Path(tempfile.mkdtemp(prefix="dateline-warc-")) if self._remote else raw_dir
        self.run_id = run_id
        self.folder = Path(f"{started_at:%Y}") / f"{started_at:%m}"
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._relpath = ""
        self._n = -1
        self._good_end = 0  # where the last complete record of the current file ends
        self.failure: DatelineError | None = None  # the first failed write; later writes raise it again

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close()
        if exc_type is None and self.failure is not None:
            raise self.failure  # a write failed and the caller swallowed it (the fetcher does, per URL)

    def close(self) -> None:
        with self._lock:
            self._finish_file()
            if self._remote:
                shutil.rmtree(self._spool, ignore_errors=True)

    def _finish_file(self) -> None:
        """Close the current file; on object storage, upload it and drop the local copy."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if self._remote:
            local = self._spool / self._relpath
            upload(local, self.raw_dir / self._relpath)
            local.unlink()

    def _open_next(self) -> None:
        self._finish_file()
        while True:
            self._n += 1
            self._relpath = str(self.folder / f"{self.run_id}-{self._n}.warc.gz")
            if not (self.raw_dir / self._relpath).exists():
                break
        path = self._spool / self._relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # noqa: SIM115 - closed in close()/rotation
        info = self._builder().create_warcinfo_record(path.name, {
            "software": f"Dateline/{DATELINE_VERSION} (warcio)",
            "format": "WARC File Format 1.0",
            "isPartOf": self.run_id,
        })
        self._file.write(gzipped([info]))
        self._file.flush()
        self._good_end = self._file.tell()

    def _write(self, records: list) -> StoredRecord:  # type: ignore[type-arg]
        """Write records (the first is the one referenced) and flush; returns the first's place. They are
        compressed before the lock is taken: threads writing at once (the fetcher's, archive_files' per
        input file) compress at once, as zlib lets go of the GIL."""
        data = gzipped(records)
        with self._lock:
            if self.failure is not None:
                raise self.failure
            try:
                if self._file is None or self._file.tell() > self.max_file_bytes:
                    self._good_end = 0
                    self._open_next()
                assert self._file is not None
                offset = self._file.tell()
                self._file.write(data)
                self._file.flush()
                self._good_end = self._file.tell()
                return StoredRecord(self._relpath, offset)
            except OSError as exc:
                self.failure = self._abandon(exc)
                raise self.failure from exc

    def _abandon(self, exc: OSError) -> DatelineError:
        """After a failed write: close the file and cut off the partial record (shrinking a file
        needs no space), so every record left in it is whole. Returns the error to raise."""
        path = self._spool / self._relpath
        if self._file is not None:
            with contextlib.suppress(OSError):  # flushing the buffer fails again; the descriptor is closed anyway
                self._file.close()
            self._file = None
        try:
            if self._good_end:
                os.truncate(path, self._good_end)
            else:
                path.unlink(missing_ok=True)  # not even the warcinfo record was written
        except OSError:
            log.warning("could not cut the partial record off %s", path, exc_info=True)
        from dateline.flows.store import disk_full, is_space_error  # not at the top: worker processes need no DuckDB

        if is_space_error(exc):
            return disk_full(path, exc)
        return ArchiveError(f"cannot write {path}: {exc.strerror or exc}")

    def write_response(self, *, url: str, status: int, reason: str, http_version: str,
                       headers: list[tuple[str, str]], body: bytes, truncated: bool,
                       fetched_at: datetime, request_headers: list[tuple[str, str]]) -> StoredRecord:
        """Archive one HTTP exchange (response + request records)."""
        kept = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
        encoding = next((v for k, v in headers if k.lower() == "content-encoding"), None)
        if encoding:
            kept.append(("X-Dateline-Original-Content-Encoding", encoding))
        kept.append(("Content-Length", str(len(body))))
        protocol = {"HTTP/2": "HTTP/2", "HTTP/1.0": "HTTP/1.0"}.get(http_version, "HTTP/1.1")
        http_headers = StatusAndHeaders(f"{status} {reason or 'Unknown'}", kept, protocol=protocol)
        warc_date = _warc_date(fetched_at)
        warc_headers = {"WARC-Date": warc_date}
        if truncated:
            warc_headers["WARC-Truncated"] = "length"
        builder = self._builder()
        response = builder.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                              http_headers=http_headers, warc_headers_dict=warc_headers)
        target = url.split("://", 1)[-1]
        path = "/" + target.split("/", 1)[1] if "/" in target else "/"
        request = builder.create_warc_record(
            url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", request_headers, is_http_request=True),
            warc_headers_dict={"WARC-Date": warc_date,
                               "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
        )
        return self._write([response, request])

    def write_resource(self, *, url: str, content_type: str, body: bytes, fetched_at: datetime,
                       origin: str) -> StoredRecord:
        """Archive a page that came from a file, not from HTTP (a 'resource' record)."""
        builder = self._builder()
        record = builder.create_warc_record(
            url, "resource", payload=io.BytesIO(body), length=len(body),
            warc_content_type=content_type,
            warc_headers_dict={"WARC-Date": _warc_date(fetched_at), "WARC-Source-URI": origin},
        )
        return self._write([record])

    def _builder(self) -> WARCWriter:
        # record construction needs no file; a throwaway writer keeps it outside the lock
        return WARCWriter(io.BytesIO(), gzip=False)


def gzipped(records: list) -> bytes:  # type: ignore[type-arg]
    """WARC records as the archive stores them: each its own gzip member (GzipMembers)."""
    buffer = io.BytesIO()
    writer = WARCWriter(GzipMembers(buffer), gzip=False)
    for record in records:
        writer.write_record(record)
    return buffer.getvalue()


class GzipMembers:
    """A file that takes each WARC record as its own gzip member, as warcio's ``gzip=True`` writes them,
    but at zlib's default level 6 instead of warcio's 9. On the sample pages compression, 80% of the
    archive step, takes 41% less time (archiving 119 -> 183 pages/s) for archives 0.5% larger. warcio
    ends each record with ``flush()``."""

    LEVEL = 6

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self._compressor = self._new()

    def _new(self) -> zlib._Compress:
        return zlib.compressobj(self.LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)  # +16: a gzip header

    def write(self, data: bytes) -> None:
        self.out.write(self._compressor.compress(data))

    def flush(self) -> None:
        """End the record's gzip member; the next write starts another."""
        self.out.write(self._compressor.flush())
        self.out.flush()
        self._compressor = self._new()


def _warc_date(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_warc_date(value: str | None) -> datetime | None:
    """A WARC-Date header as a UTC datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class WarcPage:
    """One response or resource record read from a WARC file."""

    url: str
    offset: int
    record_type: str
    status: int | None
    content_type: str | None
    headers: list[tuple[str, str]]
    payload: bytes
    truncated: bool
    date: datetime | None


def iter_warc_pages(stream: BinaryIO, max_bytes: int) -> Iterator[WarcPage]:
    """Response and resource records of a WARC stream, with decoded payloads cut at max_bytes."""
    records = ArchiveIterator(stream)
    for record in records:
        if record.rec_type not in ("response", "resource"):
            continue
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        page = _page_of(record, url, max_bytes)  # before get_record_offset(), which skips the payload
        yield replace(page, offset=records.get_record_offset())


def _page_of(record, url: str, max_bytes: int) -> WarcPage:  # type: ignore[no-untyped-def]
    status: int | None = None
    headers: list[tuple[str, str]] = []
    if record.http_headers is not None and record.rec_type == "response":
        try:
            status = int(record.http_headers.get_statuscode())
        except (TypeError, ValueError):
            status = None
        headers = list(record.http_headers.headers)
        content_type = record.http_headers.get_header("Content-Type")
    else:
        content_type = record.rec_headers.get_header("Content-Type")
    payload = record.content_stream().read(max_bytes + 1)
    truncated = len(payload) > max_bytes or bool(record.rec_headers.get_header("WARC-Truncated"))
    return WarcPage(url=url, offset=-1, record_type=record.rec_type, status=status,
                    content_type=content_type, headers=headers, payload=payload[:max_bytes],
                    truncated=truncated, date=parse_warc_date(record.rec_headers.get_header("WARC-Date")))


def split_raw_ref(raw_ref: str) -> tuple[str, int]:
    """('2026/11/run-0.warc.gz', 1234) from '2026/11/run-0.warc.gz#1234'."""
    path, sep, offset = raw_ref.rpartition("#")
    if not sep or not offset.isdigit():
        raise ArchiveError(f"not a raw reference: {raw_ref!r}")
    return path, int(offset)


def read_raw(root: Path, raw_ref: str, max_bytes: int = 50_000_000) -> WarcPage:
    """The record a raw_ref points at; ``root`` is data/raw (or the folder of an input WARC)."""
    relpath, offset = split_raw_ref(raw_ref)
    path = root / relpath
    try:
        with open_for_reading(path) as fh:
            fh.seek(offset)
            head = fh.read(5)
            # an offset inside a record (a file rewritten since) could otherwise be read as some other,
            # empty record, depending on the bytes found there
            if not head.startswith(b"\x1f\x8b" if path.name.endswith(".gz") else b"WARC/"):
                raise ArchiveError(f"cannot read {raw_ref}: no WARC record starts at offset {offset}")
            fh.seek(offset)
            for page in iter_warc_pages(fh, max_bytes):
                return page
    except (OSError, EOFError, gzip.BadGzipFile, ValueError) as exc:
        raise ArchiveError(f"cannot read {raw_ref}: {exc}") from exc
    raise ArchiveError(f"no response or resource record at {raw_ref}")
