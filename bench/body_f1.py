"""Body-text extraction quality on the Fundus pages: Dateline vs plain trafilatura, in one run.

The metric is the shingle metric of the ScrapingHub article-extraction-benchmark
(github.com/scrapinghub/article-extraction-benchmark, evaluate.py). Text is split into word tokens
(\\w+), and each run of 4 consecutive tokens is a shingle. Prediction and truth are compared as
multisets of shingles: tp is the size of their intersection, precision is tp / |predicted|, and
recall is tp / |truth|.

Two aggregates are reported:
- P, R and F1 are per-page means. Tokens are lowercased. An empty side scores 1.0: no predicted
  shingles gives precision 1.0, and no truth shingles gives recall 1.0. F1 is the harmonic mean of
  the two, or 0 when both are 0. So a page where nothing was extracted scores P=1, R=0 and F1=0.
- SH-F1 is the benchmark's own aggregate. Tokens keep their case, and a text shorter than 4
  tokens is one shorter shingle. Precision is averaged only over pages with a prediction and
  recall over pages with a truth. SH-F1 is the harmonic mean of those two means.

The truth is the `body_text` of each page's .json, for pages whose index entry lists "body".
Timing (pages/s) covers only the extraction calls.

    python bench/body_f1.py [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura
from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.schema import Reject

REPO = Path(__file__).resolve().parent.parent
FUNDUS = REPO / "tests" / "fixtures" / "fundus"
DEFAULT_OUTPUT = REPO / "bench" / "results" / "body_f1.json"
NGRAM = 4

_TOKEN = re.compile(r"\w+")


# --- metric -------------------------------------------------------------------------------------

def shingles(text: str, n: int = NGRAM) -> Counter[tuple[str, ...]]:
    """The multiset of lowercase word n-grams of text (empty when text has fewer than n words)."""
    tokens = _TOKEN.findall((text or "").lower())
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def shingle_prf(pred: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of pred's shingles against truth's."""
    p_sh, t_sh = shingles(pred), shingles(truth)
    tp = sum((p_sh & t_sh).values())
    n_pred, n_truth = sum(p_sh.values()), sum(t_sh.values())
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_truth if n_truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def sh_tp_fp_fn(pred: str, truth: str, n: int = NGRAM) -> tuple[int, int, int]:
    """tp, fp, fn exactly as the benchmark counts them (tokens keep case; short texts = 1 shingle)."""
    def grams(text: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN.findall(text or "")
        return Counter(g for i in range(max(1, len(tokens) - n + 1)) if (g := tuple(tokens[i:i + n])))

    p_sh, t_sh = grams(pred), grams(truth)
    tp = sum((p_sh & t_sh).values())
    return tp, sum(p_sh.values()) - tp, sum(t_sh.values()) - tp


def sh_benchmark_f1(counts: list[tuple[int, int, int]]) -> dict[str, float]:
    """The benchmark's aggregate: mean P over pages with a prediction, mean R over pages with truth."""
    def prec(tp: int, fp: int, fn: int) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def rec(tp: int, fp: int, fn: int) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    ps = [prec(*c) for c in counts if c[0] + c[1] > 0]
    rs = [rec(*c) for c in counts if c[0] + c[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# --- extractors ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Extraction:
    text: str
    note: str | None = None  # why there is no text (Dateline reject reason and detail)


def dateline(html: bytes, url: str) -> Extraction:
    page = PageInput(url=url, content_type=None, fetched_at=datetime.now(UTC), raw_ref="bench")
    result = extract_article(html, page, run_id="bench")
    if isinstance(result, Reject):
        return Extraction("", f"{result.stage}/{result.reason}: {result.detail}")
    return Extraction(result.article.text or "")


def trafilatura_bare(html: bytes, url: str) -> Extraction:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if doc is None:
        return Extraction("", "None")
    return Extraction(doc.text or "")  # type: ignore[union-attr]


def trafilatura_extract(html: bytes, url: str) -> Extraction:
    text = trafilatura.extract(html, url=url)
    return Extraction(text or "", None if text else "None")


EXTRACTORS: dict[str, Callable[[bytes, str], Extraction]] = {
    "dateline": dateline,
    "trafilatura (bare_extraction, no comments)": trafilatura_bare,
    "trafilatura (extract, include_comments default)": trafilatura_extract,
}


# --- run ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Page:
    id: str
    url: str
    html: bytes
    truth: str


def load_pages(fundus: Path, limit: int | None) -> list[Page]:
    entries = [json.loads(line) for line in (fundus / "index.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    entries = sorted((e for e in entries if "body" in e.get("fields", [])), key=lambda e: e["id"])
    if limit is not None:
        entries = entries[:limit]
    pages = []
    for entry in entries:
        base = fundus / "pages" / entry["id"]
        meta = json.loads(base.with_name(base.name + ".json").read_text(encoding="utf-8"))
        html = gzip.decompress(base.with_name(base.name + ".html.gz").read_bytes())
        pages.append(Page(entry["id"], meta["url"], html, meta["body_text"]))
    return pages


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.mean(values) if values else 0.0


def run(pages: list[Page]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict] = {}
    for name, extractor in EXTRACTORS.items():
        if pages:  # one untimed call first, so lazy imports and caches do not count against one extractor
            with contextlib.suppress(Exception):  # a failure is scored below
                extractor(pages[0].html, pages[0].url)
        rows: list[dict[str, Any]] = []
        counts: list[tuple[int, int, int]] = []
        elapsed = 0.0
        for page in pages:
            start = time.perf_counter()
            try:
                out = extractor(page.html, page.url)
            except Exception as exc:  # noqa: BLE001 - a crash scores as an empty extraction
                out = Extraction("", f"crash: {type(exc).__name__}: {exc}"[:300])
            elapsed += time.perf_counter() - start
            p, r, f = shingle_prf(out.text, page.truth)
            counts.append(sh_tp_fp_fn(out.text, page.truth))
            rows.append({"id": page.id, "precision": p, "recall": r, "f1": f,
                         "pred_chars": len(out.text), "truth_chars": len(page.truth), "note": out.note})
        results[name] = {
            "pages": len(rows),
            "precision": _mean(r["precision"] for r in rows),
            "recall": _mean(r["recall"] for r in rows),
            "f1": _mean(r["f1"] for r in rows),
            "sh_benchmark": sh_benchmark_f1(counts),
            "empty": sum(1 for r in rows if r["pred_chars"] == 0),
            "seconds": elapsed,
            "pages_per_s": len(rows) / elapsed if elapsed else 0.0,
            "per_page": rows,
        }
    return results


def print_report(results: dict[str, dict[str, Any]], worst: int = 5) -> None:
    width = max(len(name) for name in results)
    print(f"{'extractor':<{width}}  pages      P      R     F1  SH-F1  empty  pages/s")
    for name, res in results.items():
        print(f"{name:<{width}}  {res['pages']:>5}  {res['precision']:.3f}  {res['recall']:.3f}  "
              f"{res['f1']:.3f}  {res['sh_benchmark']['f1']:.3f}  {res['empty']:>5}  "
              f"{res['pages_per_s']:>7.1f}")
    rows = results["dateline"]["per_page"]
    print(f"\n{worst} worst Dateline pages by F1:")
    for row in sorted(rows, key=lambda r: (r["f1"], r["id"]))[:worst]:
        note = f"  [{row['note']}]" if row["note"] else ""
        print(f"  {row['id']:<36} F1={row['f1']:.3f}  P={row['precision']:.3f}  R={row['recall']:.3f}"
              f"  chars {row['pred_chars']}/{row['truth_chars']}{note}")
    rejects = [row for row in rows if row["note"]]
    if rejects:
        print(f"\nDateline rejected {len(rejects)} page(s):")
        for row in rejects:
            print(f"  {row['id']:<36} {row['note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages (by id)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="JSON results (default: %(default)s)")
    args = parser.parse_args(argv)

    pages = load_pages(FUNDUS, args.limit)
    results = run(pages)
    print_report(results)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "metric": "ScrapingHub article-extraction-benchmark 4-gram shingle P/R/F1; per-page means "
                  "(lowercased tokens, empty side = 1.0) plus the benchmark's own aggregate (sh_benchmark)",
        "truth": "tests/fixtures/fundus pages/<id>.json body_text",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trafilatura": trafilatura.__version__,
        "limit": args.limit,
        "results": results,
    }
    args.output.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shown = args.output.resolve()
    print(f"\nwrote {shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
