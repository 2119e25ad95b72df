"""Processing archived pages, in the flow's process and in worker processes."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dateline.flows.archive import ArchiveError, WarcArchive, read_raw, split_raw_ref
from dateline.flows.process import IN_PROCESS_BELOW, Outcome, PageRef, process_pages, shutdown_pool
from dateline.transforms.schema import ExtractedPage, Reject

SEED = Path(__file__).parent / "fixtures" / "seed" / "soldiers-widows.html"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def archived(raw: Path, bodies: list[bytes]) -> list[PageRef]:
    refs = []
    with WarcArchive(raw, "run", AT) as archive:
        for i, body in enumerate(bodies):
            stored = archive.write_resource(url=f"https://x.example/{i}", content_type="text/html", body=body,
                                            fetched_at=AT, origin="test")
            refs.append(PageRef(f"https://x.example/{i}", stored.raw_ref, AT, "text/html"))
    return refs


def test_worker_processes_give_the_same_outcomes_in_order(tmp_path):
    bodies = [SEED.read_bytes() if i % 5 else b"" for i in range(IN_PROCESS_BELOW + 4)]
    refs = archived(tmp_path, bodies)
    try:
        parallel = process_pages(tmp_path, refs, "run", workers=2)
    finally:
        shutdown_pool()
    serial = process_pages(tmp_path, refs, "run", workers=1)
    assert [type(o) for o in parallel] == [type(o) for o in serial]
    assert [isinstance(o, Reject) for o in parallel] == [not b for b in bodies]
    assert [o.raw_ref if isinstance(o, Reject) else o.article.raw_ref for o in parallel] == [r.raw_ref for r in refs]
    assert all(o.article.title for o in parallel if isinstance(o, ExtractedPage))


def test_batches_processed_at_once_share_one_pool_of_workers(tmp_path):
    # the flow runs its process tasks in threads: they must not each start their own pool
    refs = archived(tmp_path, [SEED.read_bytes()] * IN_PROCESS_BELOW)
    start = threading.Barrier(4)
    seen: list[int] = []

    def batch() -> list[Outcome]:
        start.wait()
        outcomes = process_pages(tmp_path, refs, "run", workers=2)
        seen.append(len(multiprocessing.active_children()))
        return outcomes

    try:
        with ThreadPoolExecutor(4) as threads:
            results = list(threads.map(lambda _: batch(), range(4)))
        workers = [p for p in multiprocessing.active_children() if "resource_tracker" not in (p.name or "")]
        assert len(workers) == 2 and max(seen) <= 2
        assert all(len(r) == len(refs) and all(isinstance(o, ExtractedPage) for o in r) for r in results)
    finally:
        shutdown_pool()


def test_raw_ref_round_trip_and_bad_refs(tmp_path):
    (ref,) = archived(tmp_path, [b"<html>hello</html>"])
    assert read_raw(tmp_path, ref.raw_ref).payload == b"<html>hello</html>"
    assert split_raw_ref("2026/01/run-0.warc.gz#123") == ("2026/01/run-0.warc.gz", 123)
    with pytest.raises(ArchiveError):
        split_raw_ref("no-offset.warc.gz")
    with pytest.raises(ArchiveError):
        read_raw(tmp_path, "2026/01/missing.warc.gz#0")


def test_each_archived_record_is_a_gzip_member_of_its_own_that_other_tools_read(tmp_path):
    """The archive's compression (GzipMembers, zlib level 6): a record's offset starts a gzip member
    that decompresses alone, and the whole file is a WARC that warcio and gzip read end to end."""
    import gzip
    import zlib

    from warcio.archiveiterator import ArchiveIterator

    bodies = [f"<html><p>page {i}</p>{'x' * (i * 5000)}</html>".encode() for i in range(5)]
    refs = archived(tmp_path, bodies)
    [path] = list(tmp_path.rglob("*.warc.gz"))
    data = path.read_bytes()
    offsets = [int(r.raw_ref.split("#")[1]) for r in refs]
    for ref, offset, body in zip(refs, offsets, bodies, strict=True):
        member = zlib.decompressobj(zlib.MAX_WBITS + 16)
        record = member.decompress(data[offset:])
        assert record.startswith(b"WARC/1.0\r\n") and b"WARC-Type: resource" in record and body in record
        assert member.eof and record.count(b"WARC/1.0\r\n") == 1  # one record a member
        assert read_raw(tmp_path, ref.raw_ref).payload == body
    with open(path, "rb") as stream:
        types = [r.rec_type for r in ArchiveIterator(stream)]
    assert types == ["warcinfo"] + ["resource"] * len(bodies)
    assert gzip.decompress(data).count(b"WARC/1.0\r\n") == 1 + len(bodies)
