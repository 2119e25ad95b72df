"""Cost of a repeat run over unchanged sources, against the first run, in one process.

A local HTTP server (127.0.0.1) serves the sample corpus's pages with ETags and an RSS feed of them.
Fetching uses the default politeness (1 s between requests to one host, which is what a run against
one news site costs); `--delay 0` shows the local-only ratio, where Prefect's ~1 s per run dominates.
Run 1 discovers, fetches, archives, extracts and analyzes everything; run 2 over the same feed sends
a conditional request for the feed (304), skips the pages (not due) and adds no rows. Prefect's
temporary API is started by a warm-up flow first, so neither run pays for it.

    python bench/incremental.py [--pages 100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from dateline.flows.archive import iter_warc_pages  # noqa: E402
from dateline.flows.config import FetchSettings, ProcessSettings, Settings  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "incremental.json"


def serve(pages: list[bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path == "/feed.xml":
                base = f"http://{self.headers['Host']}"
                items = "".join(f"<item><link>{base}/p/{i}</link></item>" for i in range(len(pages)))
                body, ctype = f"<rss><channel>{items}</channel></rss>".encode(), "application/rss+xml"
            elif self.path.startswith("/p/") and self.path[3:].isdigit() and int(self.path[3:]) < len(pages):
                body, ctype = pages[int(self.path[3:])], "text/html"
            else:
                body, ctype = b"", "text/plain"
                if self.path == "/robots.txt":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--delay", type=float, default=FetchSettings().per_host_delay,
                        help="seconds between requests to one host (default: the fetcher's default)")
    args = parser.parse_args()
    with open(SAMPLE, "rb") as fh:
        pages = [p.payload for p in iter_warc_pages(fh, 50_000_000)][: args.pages]
    server = serve(pages)
    feed = f"http://127.0.0.1:{server.server_port}/feed.xml"
    from dateline.flows.pipeline import pipeline

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data",
                            fetch=FetchSettings(allow_private_networks=True, per_host_delay=args.delay, concurrency=8),
                            process=ProcessSettings(workers=2))
        warm = Settings(data_dir=Path(tmp) / "warm", process=ProcessSettings(workers=1, nlp=False))
        pipeline(sources={"html_dirs": [str(REPO / "tests" / "fixtures" / "seed")]}, settings=warm.to_dict())
        timings = []
        results = []
        for _ in range(2):
            start = time.perf_counter()
            results.append(pipeline(sources={"feeds": [feed]}, settings=settings.to_dict()))
            timings.append(time.perf_counter() - start)
    server.shutdown()
    first, second = timings
    print(f"{len(pages)} pages served from 127.0.0.1, {args.delay:g} s between requests to the host; "
          "Prefect API warmed up first")
    print(f"run 1: {first:6.1f} s  ({results[0]['new_article_count']} new articles, "
          f"{results[0]['fetched_count']} responses)")
    print(f"run 2: {second:6.1f} s  ({results[1]['new_article_count']} new articles, "
          f"{results[1]['not_modified_count']} not modified, {results[1]['skipped_count']} not due)")
    print(f"run 2 / run 1: {second / first:.1%} (target < 10%)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"pages": len(pages), "delay": args.delay, "first_seconds": first,
                                  "second_seconds": second,
                                  "ratio": second / first}, indent=2))
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
