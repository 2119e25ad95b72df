"""Full-text search at corpus scale: the tantivy index (flows/search.py) against ILIKE on the same corpus.

A synthetic ``articles`` table is written the way bench/duckdb_scale.py writes its corpus (vectorized in
DuckDB, deterministic, through ``store.write_table`` and one snapshot commit, published over six years),
with texts of ``--words`` words drawn Zipf-like from a synthetic vocabulary of 20,000 words (so terms have
realistic frequencies; duckdb_scale's 32-word texts would make every term match every article). Then:

- build: ``search.sync`` from scratch (what the first run or `dateline compact --search` does), its time
  and the index's size against the text's size (the UTF-8 bytes of title, description and text);
- update: a run of ``--run-size`` new articles committed, then ``search.sync`` (the per-run cost);
- queries, ``--repeat`` warm runs each after one cold: ``search.search`` end to end (engine, stored hit
  rows, snippets) on a connection at the index's snapshot; the same on a connection pinned to the
  snapshot before the update run ("checked": the index is not at that snapshot, so the hits' ids are
  checked against its tables); the engine alone; and ILIKE over articles_current as
  sql/article_lookup.sql does it, for a term, a phrase, a boolean query, each with a one-year date filter.
  "highlighted" counts the hits whose snippet marks a match (only the stored start of a text is
  highlighted: search.TEXT_HEAD); "full" is ``search.search(..., full_snippets=True)``, which cuts the
  other hits' snippets from their whole text, read from the tables.

    python bench/search.py                        # 100,000 articles: a few minutes
    python bench/search.py --articles 1000000     # the issue's targets
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
from dateline.flows import search, store  # noqa: E402
from dateline.transforms.schema import ARTICLES  # noqa: E402

OUTPUT = REPO / "bench" / "results" / "search.json"
START = "2019-01-01"
DAYS = 6 * 365
VOCABULARY = 20_000
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vo", "shi", "du", "ne", "pa", "ri", "zu", "an", "bel", "cor", "dan",
             "el", "fa", "gor", "hu"]


def word(n: int) -> str:
    """The n-th most frequent word, as :func:`word_sql` makes it."""
    return SYLLABLES[n % 20] + SYLLABLES[(n // 20) % 20] + (SYLLABLES[(n // 400) % 20] if n >= 400 else "")


# (search query, ILIKE patterns that must all match), by word rank: a term in ~2% of the texts, a phrase of
# two frequent words (~6%), two mid words together (~1%)
QUERIES = {
    "term": (word(2000), [f"% {word(2000)} %"]),
    "phrase": (f'"{word(5)} {word(8)}"', [f"% {word(5)} {word(8)} %"]),
    "boolean": (f"{word(300)} AND {word(1000)}", [f"% {word(300)} %", f"% {word(1000)} %"]),
}
SINCE, UNTIL = "2023-01-01", "2023-12-31"


def word_sql(n: str) -> str:
    """The n-th word of the vocabulary: two or three syllables from its digits (distinct for n < 8,000)."""
    s = f"{SYLLABLES}"
    return (f"({s}[1 + ({n}) % 20] || {s}[1 + (({n}) // 20) % 20] || "
            f"case when ({n}) >= 400 then {s}[1 + (({n}) // 400) % 20] else '' end)")


def generate(con: duckdb.DuckDBPyConnection, processed: Path, raw: Path, lo: int, hi: int, total: int, words: int,
             run_id: str) -> int:
    # a word's rank: Zipf-like over VOCABULARY (floor(V ** u) - 1)
    rank = f"least(floor(pow({VOCABULARY}, (hash(i, k) % 1000000) / 1000000.0))::bigint - 1, {VOCABULARY - 1})"
    data = con.sql(f"""
        select sha1('article:' || i) as article_id, sha1('version:' || i) as content_hash,
               'https://www.site' || (i % 500) || '.example/news/' || i as url,
               'https://www.site' || (i % 500) || '.example/news/' || i as canonical_url,
               'site' || (i % 500) || '.example' as domain, 'Site' || (i % 500) || ' News' as site_name,
               array_to_string(list_transform(range(8), lambda k: {word_sql(rank.replace('k)', 'k + 1000)'))}), ' ')
                   as title,
               'A short synthetic description of article ' || i as description,
               ['Reporter ' || (hash(i, 'au') % 3000)] as authors,
               '{START}'::timestamptz + to_seconds((i * {DAYS} * 86400.0 / {total})::bigint) as published_at,
               '{START}'::timestamptz + to_seconds((i * {DAYS} * 86400.0 / {total})::bigint) + interval 1 hour
                   as fetched_at,
               'en' as language,
               array_to_string(list_transform(range({words}), lambda k: {word_sql(rank)}), ' ') as text,
               {words} as word_count, 'bench#' || i as raw_ref, 'bench' as extractor_version, '{run_id}' as run_id
        from range({lo}, {hi}) t(i)""").to_arrow_table()
    columns = [data.column(f.name) if f.name in data.column_names else None for f in ARTICLES.schema]
    import pyarrow as pa

    def missing(f: pa.Field) -> pa.Array:  # a column the generator does not make
        if f.nullable:
            return pa.nulls(data.num_rows, f.type)
        empty = [] if pa.types.is_list(f.type) else False if pa.types.is_boolean(f.type) else ""
        return pa.array([empty] * data.num_rows, f.type)

    filled = [c if c is not None else missing(f) for c, f in zip(columns, ARTICLES.schema, strict=True)]
    table = pa.Table.from_arrays(filled, schema=ARTICLES.schema)
    tx = store.begin(processed, raw, "run", run_id)
    tx.add(ARTICLES.name, store.write_table(table, ARTICLES, processed, run_id), table.num_rows)
    tx.commit()
    return table.num_rows


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn: Any, repeat: int) -> dict[str, float]:
    started = time.perf_counter()
    fn()
    cold = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - started) * 1000)
    warm.sort()
    return {"cold_ms": round(cold, 2), "median_ms": round(statistics.median(warm), 2),
            "p90_ms": round(warm[int(len(warm) * 0.9) - 1] if len(warm) >= 10 else warm[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=400, help="words per article text")
    parser.add_argument("--runs", type=int, default=10, help="runs the corpus is written in")
    parser.add_argument("--run-size", type=int, default=20_000, help="articles of the timed update run")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        processed, raw = Path(tmp) / "processed", Path(tmp) / "raw"
        store.ensure_tables(processed, raw)
        started = time.perf_counter()
        with duckdb.connect() as gen:
            bounds = [args.articles * r // args.runs for r in range(args.runs + 1)]
            for r, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
                generate(gen, processed, raw, lo, hi, args.articles, args.words, f"bench-{r:05d}")
            generated = time.perf_counter() - started
            print(f"generated {args.articles:,} articles in {generated:.0f} s", flush=True)
            con = store.connect(processed, raw)
            (text_bytes,) = con.sql("select sum(strlen(coalesce(title, '')) + strlen(coalesce(description, '')) "
                                    "+ strlen(text)) from articles").fetchall()[0]
            con.close()
            started = time.perf_counter()
            built = search.sync(processed, raw, rebuild=True)
            build_s = time.perf_counter() - started
            index_bytes = size(search.folder(processed))
            print(f"index built in {build_s:.1f} s: {index_bytes / 1e6:.0f} MB for {text_bytes / 1e6:.0f} MB of text "
                  f"({index_bytes / text_bytes:.0%})", flush=True)
            top = args.articles + args.run_size
            generate(gen, processed, raw, args.articles, top, top, args.words, "bench-update")
        started = time.perf_counter()
        updated = search.sync(processed, raw)
        update_s = time.perf_counter() - started
        print(f"a run of {args.run_size:,} articles added to the index in {update_s:.1f} s", flush=True)
        con = store.connect(processed, raw)
        older = store.connect(processed, raw, snap=str(built["snapshot"]))  # the index is a run ahead of it
        search.log.setLevel(logging.ERROR)  # not its "the index is ahead of this connection" on every search
        index, _ = search._reader(processed)
        searcher = index.searcher()
        results: dict[str, Any] = {}
        for name, (query, patterns) in QUERIES.items():
            q = search.engine_query(index, query, SINCE, UNTIL)
            ilike = ("select article_id, url from articles_current where published_at >= $since::date "
                     "and published_at < $until::date + 1 and " + " and ".join(f"text ilike '{p}'" for p in patterns)
                     + " limit 20")
            found = search.search(con, processed, query, since=SINCE, until=UNTIL, limit=20)
            results[name] = {
                "query": query,
                "hits": len(found),
                "highlighted": sum("**" in s for s in found.column("snippet").to_pylist()),
                "search": timed(lambda query=query: search.search(con, processed, query, since=SINCE, until=UNTIL,
                                                                  limit=20), args.repeat),
                "full": timed(lambda query=query: search.search(con, processed, query, since=SINCE, until=UNTIL,
                                                                limit=20, full_snippets=True),
                              max(2, args.repeat // 5)),
                "checked": timed(lambda query=query: search.search(older, processed, query, since=SINCE,
                                                                   until=UNTIL, limit=20), args.repeat),
                "engine": timed(lambda q=q: searcher.search(q, 20).hits, args.repeat),
                "ilike": timed(lambda ilike=ilike: con.execute(ilike, {"since": SINCE, "until": UNTIL}).fetchall(),
                               max(2, args.repeat // 5)),
            }
        con.close()
        older.close()
    report = {"articles": args.articles, "words_per_article": args.words, "text_mb": round(text_bytes / 1e6, 1),
              "build_seconds": round(build_s, 1), "index_mb": round(index_bytes / 1e6, 1),
              "index_to_text": round(index_bytes / text_bytes, 3), "built": built,
              "update_articles": args.run_size, "update_seconds": round(update_s, 2), "updated": updated,
              "date_filter": [SINCE, UNTIL], "queries": results}
    print(f"\n{'query':<8} {'hits':>5} {'marked':>6} {'search ms':>10} {'checked ms':>11} {'engine ms':>10} "
          f"{'full ms':>8} {'ILIKE ms':>10}  (warm medians; {SINCE}..{UNTIL})")
    for name, r in results.items():
        print(f"{name:<8} {r['hits']:>5} {r['highlighted']:>6} {r['search']['median_ms']:>10} "
              f"{r['checked']['median_ms']:>11} {r['engine']['median_ms']:>10} {r['full']['median_ms']:>8} "
              f"{r['ilike']['median_ms']:>10}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
