"""Event clusters at corpus scale: a synthetic stream of reports, clustered whole, then one run more.

    python bench/cluster_scale.py                          # 5,000,000 events over 1,000,000 articles
    python bench/cluster_scale.py --events 500000          # a quicker look

The corpus is generated here (numpy, fixed seed), with the repetition news has: real-world events
(actors drawn from 200,000 with Zipf-like popularity, a day, a trigger from 400, eight words of their
own from 50,000) are reported by articles published 0-14 days later (one report in ten months
later); a popular event is told by dozens of articles, most by one. An article has five sentences,
each a report of an event (60% dated by the text to its day, 10% to its month, 30% by the
publication) with five of the event's words and four words of its own; one sentence in five tells
an event nobody else reports. The reports stream in publication order, as runs bring them.

Measured:
- the rebuild: every report but the last run's clustered in one pass (transforms/clusters.py, as a
  `reprocess --rebuild` replays them), events per second and the process's peak memory;
- the stored state: every cluster's row (event_cluster_revisions) and the members, as Parquet;
- the incremental run (`--run` events, 20,000 by default): what flows/clusters.py does for a run,
  step by step: reading the latest revision of the clusters naming the run's actors from the Parquet
  files with DuckDB, rebuilding them, assigning the run's events, writing the touched clusters and the
  members; against the issue's target, linear in the run's events (no pass over all clusters in Python);
- the per-actor read of the clustered timeline: the event_clusters rows naming an actor of Zipf rank
  10, 1,000 and 100,000, from the revisions files (the view's latest-revision filter included), warm.
Quality is not measured here (bench/event_clusters.py does that on gold); the synthetic events only
give the clustering realistic work. Writes bench/results/cluster_scale.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from dateline.flows.clusters import CANDIDATES, candidate_params  # noqa: E402
from dateline.flows.store import CLUSTER_MEMBERS, CLUSTER_REVISIONS  # noqa: E402
from dateline.transforms.clusters import Cluster, Clusterer, Report  # noqa: E402

OUTPUT = REPO / "bench" / "results" / "cluster_scale.json"
ACTORS, TRIGGERS, VOCABULARY = 200_000, 400, 50_000
PER_ARTICLE = 5
START = date(2020, 1, 1)
DAYS = 6 * 365
ACTOR_READ = """
select cluster_id, event_date, date_precision, trigger, sentence, reports, sites, first_url
from read_parquet($files)
where list_contains(actor_ids, $actor)
qualify row_number() over (partition by cluster_id order by revision desc) = 1
order by event_date
"""


def zipf(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Ranks 0..n-1 with probability ~1/(rank+1.5)."""
    weights = 1.0 / (np.arange(n) + 1.5)
    return rng.choice(n, size=size, p=weights / weights.sum())


class World:
    """The real-world events and the reports of them, generated in publication order."""

    def __init__(self, events: int, seed: int = 7) -> None:
        self.rng = rng = np.random.default_rng(seed)
        articles = events // PER_ARTICLE
        self.articles = articles
        reports_of_real = int(events * 0.8)
        n_real = reports_of_real // 3  # three reports per real event on average
        self.real_day = rng.integers(0, DAYS, n_real)
        self.real_actors = zipf(rng, ACTORS, n_real * 3).reshape(n_real, 3)
        self.real_actor_count = rng.integers(1, 4, n_real)
        self.real_trigger = rng.integers(0, TRIGGERS, n_real)
        self.real_words = rng.integers(0, VOCABULARY, (n_real, 8))
        # which real event each report tells: popular events are told often (Zipf over a shuffled order)
        told = zipf(rng, n_real, reports_of_real)
        told = rng.permutation(n_real)[told]
        lag = np.where(rng.random(reports_of_real) < 0.9, rng.integers(0, 15, reports_of_real),
                       rng.integers(30, 365, reports_of_real))
        unique = events - reports_of_real
        self.kind = np.concatenate([np.zeros(reports_of_real, dtype=np.int8), np.ones(unique, dtype=np.int8)])
        self.event = np.concatenate([told, np.full(unique, -1)])
        self.published = np.concatenate([np.minimum(self.real_day[told] + lag, DAYS + 400),
                                         rng.integers(0, DAYS, unique)])
        order = np.argsort(self.published, kind="stable")
        self.kind, self.event, self.published = self.kind[order], self.event[order], self.published[order]
        self.basis = rng.choice(3, size=events, p=[0.6, 0.1, 0.3])  # day, month, published
        self.noise = rng.integers(0, VOCABULARY, (events, 4))
        self.pick = rng.integers(0, 8, (events, 5))
        self.unique_actors = zipf(rng, ACTORS, unique * 2).reshape(unique, 2)
        self.unique_trigger = rng.integers(0, TRIGGERS, unique)
        self.total = events

    def actors(self, i: int) -> tuple[str, ...]:
        e = int(self.event[i])
        if e >= 0:
            return tuple(f"actor{a}" for a in self.real_actors[e][: self.real_actor_count[e]])
        return tuple(f"actor{a}" for a in self.unique_actors[i % len(self.unique_trigger)])

    def report(self, i: int) -> Report:
        article = i // PER_ARTICLE
        same = range(article * PER_ARTICLE, min((article + 1) * PER_ARTICLE, self.total))
        context = tuple(sorted({a for j in same for a in self.actors(j)}))  # transforms.clusters.in_context
        published = START + timedelta(days=int(self.published[i]))
        at = datetime(published.year, published.month, published.day, 6, tzinfo=UTC) + timedelta(seconds=i)
        e = int(self.event[i])
        if e >= 0:
            day = START + timedelta(days=int(self.real_day[e]))
            actors = self.actors(i)
            trigger = f"verb{self.real_trigger[e]}"
            own = [f"word{self.real_words[e][k]}" for k in self.pick[i]]
        else:
            u = i % len(self.unique_trigger)
            day = START + timedelta(days=int(self.published[i]))
            actors = self.actors(i)
            trigger = f"verb{self.unique_trigger[u]}"
            own = []
        words = frozenset(w[:6] for w in own + [f"noise{n}" for n in self.noise[i]])
        basis = int(self.basis[i])
        event_date, precision, how = ((day, "day", "explicit"), (day.replace(day=1), "month", "explicit"),
                                      (published, "day", "published"))[basis]
        return Report(event_id=f"e{i}", article_id=f"a{article}", sentence_id=i % PER_ARTICLE, trigger=trigger,
                      actor_ids=actors, event_date=event_date, date_precision=precision, date_basis=how,
                      place=None, negated=False, sentence=f"sentence {i}", site=f"site{article % 5000}.example",
                      url=f"https://site{article % 5000}.example/{article}", published_at=at, fetched_at=at,
                      words=words, context=context)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write(rows: list[dict[str, Any]], schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd", row_group_size=100_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--run", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {"events": args.events, "articles": args.events // PER_ARTICLE, "run": args.run}
    started = time.perf_counter()
    world = World(args.events)
    results["generate_s"] = round(time.perf_counter() - started, 1)
    bulk = args.events - args.run

    clusterer = Clusterer()
    started = time.perf_counter()
    members: list[dict[str, Any]] = []
    for i in range(bulk):
        r = world.report(i)
        members.append({"event_id": r.event_id, "cluster_id": clusterer.assign(r), "article_id": r.article_id,
                        "content_hash": "h", "revision": 1})
        if i and i % 500_000 == 0:
            print(f"  {i:,} events clustered, {time.perf_counter() - started:.0f} s, {peak_mb():.0f} MB peak",
                  flush=True)
    rebuild = time.perf_counter() - started
    results["rebuild"] = {"events": bulk, "seconds": round(rebuild, 1), "events_per_s": round(bulk / rebuild),
                          "clusters": len(clusterer.clusters), "peak_mb": round(peak_mb())}
    print(f"rebuild: {bulk:,} events in {rebuild:.0f} s ({bulk / rebuild:,.0f}/s), {len(clusterer.clusters):,} "
          f"clusters, {peak_mb():.0f} MB peak", flush=True)

    with tempfile.TemporaryDirectory(prefix="cluster-scale-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        rows = [c.as_row() | {"revision": 1} for c in clusterer.clusters.values()]
        rows.sort(key=lambda row: row["cluster_id"])
        write(rows, CLUSTER_REVISIONS.schema, folder / "revisions-1.parquet")
        write(members, CLUSTER_MEMBERS.schema, folder / "members-1.parquet")
        del rows, members, clusterer
        results["store"] = {"write_s": round(time.perf_counter() - started, 1),
                            "revisions_mb": round((folder / "revisions-1.parquet").stat().st_size / 1e6),
                            "members_mb": round((folder / "members-1.parquet").stat().st_size / 1e6)}

        # the incremental run, as flows/clusters.py does it
        steps: dict[str, float] = {}
        reports = [world.report(i) for i in range(bulk, args.events)]
        files = [str(folder / "revisions-1.parquet")]
        t = time.perf_counter()
        with duckdb.connect() as con:
            sql = CANDIDATES.format(revisions="read_parquet($files)")
            params = candidate_params(reports) | {"files": files}
            stored = con.sql(sql, params=params).to_arrow_table().to_pylist()
        steps["read candidates"] = time.perf_counter() - t
        t = time.perf_counter()
        run = Clusterer((Cluster.from_row(r) for r in stored), reports=reports)  # indexes what they look up
        steps["rebuild them"] = time.perf_counter() - t
        t = time.perf_counter()
        assigned = run.assign_all(reports)
        steps["assign"] = time.perf_counter() - t
        t = time.perf_counter()
        touched = [run.clusters[c].as_row() | {"revision": 2} for c in sorted(run.touched)]
        write(touched, CLUSTER_REVISIONS.schema, folder / "revisions-2.parquet")
        write([{"event_id": e, "cluster_id": c, "article_id": "", "content_hash": "h", "revision": 2}
               for e, c in assigned.items()], CLUSTER_MEMBERS.schema, folder / "members-2.parquet")
        steps["write"] = time.perf_counter() - t
        joined = sum(1 for c in run.touched if run.clusters[c].reports > 1)
        results["incremental"] = {"events": len(reports), "candidate_clusters": len(stored),
                                  "touched": len(run.touched), "joined_stored": joined,
                                  "seconds": {k: round(v, 2) for k, v in steps.items()},
                                  "total_s": round(sum(steps.values()), 2)}
        print(f"incremental run of {len(reports):,} events: {sum(steps.values()):.1f} s "
              f"({', '.join(f'{k} {v:.2f} s' for k, v in steps.items())}); {len(stored):,} candidate clusters "
              f"read, {len(run.touched):,} touched", flush=True)

        files.append(str(folder / "revisions-2.parquet"))
        reads = {}
        with duckdb.connect() as con:
            for rank in (10, 1_000, 100_000):
                actor = f"actor{rank}"
                con.sql(ACTOR_READ, params={"files": files, "actor": actor}).fetchall()  # warm
                times, n = [], 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    n = len(con.sql(ACTOR_READ, params={"files": files, "actor": actor}).fetchall())
                    times.append(time.perf_counter() - t)
                reads[f"rank {rank}"] = {"rows": n, "median_ms": round(statistics.median(times) * 1000, 1)}
        results["actor_read"] = reads
        print("per-actor clustered read: " + ", ".join(f"{k}: {v['rows']:,} clusters in {v['median_ms']} ms"
                                                       for k, v in reads.items()), flush=True)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
