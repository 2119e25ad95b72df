"""Build data/sample/sample.warc.gz from the pages in tests/fixtures.

One WARC 'response' record per page, after one 'warcinfo' record: the seed page first, then every
Fundus page sorted by fixture id ("<country>/<Publisher>_<date>"). Each record's WARC-Target-URI
is the URL the page was crawled from and its WARC-Date the crawl time, so the archive looks like a
small crawl that the pipeline can ingest without the network.

The output is reproducible: record ids are UUIDv5s of the URL and crawl time, dates come from the
fixtures, and warcio's gzip members carry no timestamp, so a rebuild gives the same bytes.

    python bench/build_sample.py [--output data/sample/sample.warc.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
DEFAULT_OUTPUT = REPO / "data" / "sample" / "sample.warc.gz"

SEED_ID = "seed/soldiers-widows"
SEED_URL = "https://www.jpost.com/international/article-726552"
# The seed page has no recorded crawl time: published 2023-01-04 09:38Z, modified 10:02:17Z.
SEED_CRAWL_DATE = "2023-01-04T12:00:00Z"


@dataclass(frozen=True, slots=True)
class Page:
    fixture_id: str
    url: str
    warc_date: str  # ISO 8601 UTC, "2023-01-04T12:00:00Z"
    body: bytes


def warc_date_of(crawl_date: str) -> str:
    """A Fundus crawl_date ("2025-11-10 23:05:51.333562", no zone: taken as UTC) as a WARC-Date."""
    parsed = datetime.fromisoformat(crawl_date)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def record_id(*parts: str) -> str:
    """A fixed WARC-Record-ID: UUIDv5 of the URL (and crawl time: one URL was crawled twice)."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ' '.join(parts))}>"


def iter_pages(fixtures: Path) -> Iterator[Page]:
    """The seed page, then the Fundus pages sorted by fixture id."""
    yield Page(SEED_ID, SEED_URL, SEED_CRAWL_DATE, (fixtures / "seed" / "soldiers-widows.html").read_bytes())
    pages_dir = fixtures / "fundus" / "pages"
    found = {path.relative_to(pages_dir).as_posix().removesuffix(".html.gz"): path
             for path in pages_dir.glob("*/*.html.gz")}
    for fixture_id in sorted(found):
        html_path = found[fixture_id]
        meta = json.loads(html_path.with_name(html_path.name.removesuffix(".html.gz") + ".json")
                          .read_text(encoding="utf-8"))
        yield Page(fixture_id, meta["url"], warc_date_of(meta["crawl_date"]),
                   gzip.decompress(html_path.read_bytes()))


def build(output: Path, fixtures: Path = FIXTURES) -> int:
    """Write the WARC; returns the number of response records."""
    pages = list(iter_pages(fixtures))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        info = (
            f"software: dateline bench/build_sample.py (warcio)\r\n"
            f"format: WARC File Format 1.0\r\n"
            f"description: Dateline sample crawl: {len(pages)} news pages from tests/fixtures "
            f"(1 seed page + Fundus test pages, github.com/flairNLP/fundus, MIT). "
            f"Page content belongs to its publishers.\r\n"
        ).encode()
        writer.write_record(writer.create_warc_record(
            "", "warcinfo", payload=BytesIO(info), length=len(info),
            warc_headers_dict={
                "WARC-Record-ID": record_id("dateline:sample", output.name),
                "WARC-Date": max(p.warc_date for p in pages),
                "WARC-Filename": output.name,
            },
        ))
        for page in pages:
            http_headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(page.body)))],
                protocol="HTTP/1.1",
            )
            writer.write_record(writer.create_warc_record(
                page.url, "response", payload=BytesIO(page.body), length=len(page.body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Record-ID": record_id(page.url, page.warc_date),
                                   "WARC-Date": page.warc_date},
            ))
    tmp.replace(output)
    return len(pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT,
                        help="WARC to write (default: %(default)s)")
    args = parser.parse_args(argv)
    output = args.output if args.output.is_absolute() else Path.cwd() / args.output
    count = build(output)
    shown = output.relative_to(REPO) if output.is_relative_to(REPO) else output
    print(f"wrote {shown}: {count} response records, {output.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
