"""`--warc` inputs copied into the run's archive: several records compressed at once in threads, and
still every page in the input order, each raw_ref reading back the input's own bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from dateline.flows.acquire import archive_files, known_raw
from dateline.flows.archive import WarcArchive, iter_warc_pages, read_raw
from dateline.flows.config import FetchSettings, Sources
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "sample.warc.gz"


def _small_warc(path: Path) -> None:
    """Three responses: two pages and a 404 (archived, then rejected)."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i, status in enumerate((200, 404, 200)):
            body = f"<html><body><p>small page {i}</p></body></html>".encode()
            headers = StatusAndHeaders(f"{status} X", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://small.example/{i}", "response",
                                                          payload=BytesIO(body), length=len(body),
                                                          http_headers=headers))


def _inputs(paths: list[Path]) -> list[tuple[str, int | None, bytes]]:
    pages = []
    for path in paths:
        with open(path, "rb") as stream:
            pages += [(p.url, p.status, p.payload) for p in iter_warc_pages(stream, FetchSettings().max_bytes)]
    return pages


def test_warc_inputs_are_archived_in_input_order_and_read_back_byte_for_byte(tmp_path):
    small = tmp_path / "small.warc.gz"
    _small_warc(small)
    inputs = _inputs([SAMPLE, small])
    raw = tmp_path / "raw"
    with WarcArchive(raw, "run", datetime.now(UTC)) as archive:
        first = archive_files(Sources(warcs=(str(SAMPLE), str(small))), FetchSettings(), archive, "run", known_raw([]))
    assert first.discovered == len(inputs) == 158 and len(first.raw_rows) == len(inputs)
    # every record archived, in the input order; pages are the 2xx HTML ones, rejects the rest
    assert [r.url for r in first.raw_rows] == [url for url, _, _ in inputs]
    assert [p.url for p in first.pages] == [url for url, status, _ in inputs if status == 200
                                            and url not in {r.url for r in first.rejects}]
    assert [r.url for r in first.rejects if r.reason == "http_error"] == ["https://small.example/1"]
    # each record's own bytes (the sample holds one URL twice, with different bytes)
    assert [read_raw(raw, f"{r.warc_file}#{r.warc_offset}").payload for r in first.raw_rows] == \
        [payload for _, _, payload in inputs]
    # the same inputs again: every record is known, nothing is archived twice
    with WarcArchive(raw, "run2", datetime.now(UTC)) as archive:
        again = archive_files(Sources(warcs=(str(SAMPLE), str(small))), FetchSettings(), archive, "run2",
                              known_raw(first.raw_rows))
    assert again.raw_rows == [] and [p.raw_ref for p in again.pages] == [p.raw_ref for p in first.pages]
