"""Event clusters: reports of one real-world event across articles (transforms/clusters.py)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from dateline.flows.cli import cli
from dateline.transforms.clusters import Cluster, Clusterer, Report, in_context, order_key

T0 = datetime(2022, 9, 21, 12, tzinfo=UTC)


def report(n: int, **values: Any) -> Report:
    """The n-th report of a mobilization story, changed by ``values``."""
    base: dict[str, Any] = {
        "event_id": f"e{n:03d}", "article_id": f"a{n:03d}", "sentence_id": 0, "trigger": "order",
        "actor_ids": ("putin",), "event_date": date(2022, 9, 21), "date_precision": "day",
        "date_basis": "explicit", "place": None, "negated": False,
        "sentence": "Putin ordered a partial mobilization of reservists on Sept. 21.",
        "site": f"site{n % 3}.example", "url": f"https://site{n % 3}.example/{n}",
        "published_at": T0 + timedelta(hours=n), "fetched_at": T0 + timedelta(hours=n), "language": "en"}
    base.update(values)
    return Report.of(**base)


def test_reports_of_one_event_share_a_cluster_with_its_sources():
    c = Clusterer()
    ids = c.assign_all([report(1), report(2, sentence="On Sept. 21 Putin ordered the mobilization of reservists."),
                        report(3, sentence="Reservists face a partial mobilization Putin ordered.")])
    assert len(set(ids.values())) == 1
    row = c.clusters[ids["e001"]].as_row()
    assert (row["reports"], row["articles"], row["sites"]) == (3, 3, 3)
    assert (row["event_date"], row["date_precision"], row["trigger"]) == (date(2022, 9, 21), "day", "order")
    assert (row["first_article_id"], row["first_url"]) == ("a001", "https://site1.example/1")


def test_a_main_verbs_report_represents_the_cluster_before_a_clauses():
    clause = "Leaders condemned the partial mobilization of reservists that Putin ordered on Sept. 21."
    c = Clusterer()
    ids = c.assign_all([report(1, sentence=clause, clause=True), report(2),
                        report(3, sentence=clause.replace("Leaders", "Ministers"), clause=True)])
    assert len(set(ids.values())) == 1
    row = c.clusters[ids["e001"]].as_row()
    assert (row["event_id"], row["sentence"]) == ("e002", report(2).sentence)
    stored = Cluster.from_row(row)  # the rank survives a round trip: a later clause report does not take over
    stored.add(report(4, sentence=clause, clause=True), 0.99)
    assert stored.event_id == "e002"


def test_reports_with_different_triggers_are_different_events():
    ids = Clusterer().assign_all([report(1), report(2, trigger="announce")])
    assert ids["e001"] != ids["e002"]


def test_two_different_days_never_join_however_alike_the_sentences():
    ids = Clusterer().assign_all([report(1), report(2, event_date=date(2022, 9, 22))])
    assert ids["e001"] != ids["e002"]


def test_a_month_contains_its_days_and_the_spread_is_kept():
    c = Clusterer()
    ids = c.assign_all([report(1), report(2, event_date=date(2022, 9, 1), date_precision="month"),
                        report(3, event_date=None, date_basis=None, published_at=T0 + timedelta(days=5))])
    assert len(set(ids.values())) == 1
    row = c.clusters[ids["e001"]].as_row()
    assert (row["event_date"], row["date_precision"]) == (date(2022, 9, 21), "day")  # the common interval
    assert (row["date_min"], row["date_max"]) == (date(2022, 9, 1), date(2022, 9, 30))  # what the reports said


def test_negation_and_other_actors_keep_events_apart():
    ids = Clusterer().assign_all([report(1), report(2, negated=True), report(3, actor_ids=("shoigu",))])
    assert len(set(ids.values())) == 3


def test_a_sentence_naming_none_of_the_actors_joins_by_its_articles_actors_when_its_verb_and_words_agree():
    passive = "The partial mobilization of reservists was ordered on Sept. 21."
    article = [report(2, actor_ids=(), sentence=passive), report(2, event_id="e002b", sentence_id=1,
                                                                 actor_ids=("putin",), trigger="speak")]
    told = in_context(article)
    assert [r.context for r in told] == [("putin",), ("putin",)]  # every actor of its article
    ids = Clusterer().assign_all([report(1), *told])
    assert ids["e001"] == ids["e002"]

    elsewhere = in_context([report(2, actor_ids=(), sentence=passive), report(2, event_id="e002b", sentence_id=1,
                                                                             actor_ids=("shoigu",), trigger="speak")])
    assert len(set(Clusterer().assign_all([report(1), *elsewhere]).values())) == 3  # no actor in common
    other = "Reservists were ordered to report to recruiting offices in the regions."
    unlike = in_context([report(2, actor_ids=(), sentence=other), *article[1:]])
    assert Clusterer().assign_all([report(1), *unlike])["e002"] != ids["e001"]  # too few of its words
    light = [report(1, trigger="be"), *in_context([report(2, actor_ids=(), sentence=passive, trigger="be"),
                                                   *article[1:]])]
    assert Clusterer().assign_all(light)["e002"] != ids["e001"]  # "be" is a stop word, not an event's verb


def test_a_report_dated_by_its_publication_only_joins_events_reported_at_that_time():
    undated = {"event_date": None, "date_basis": None, "date_precision": None}
    ids = Clusterer().assign_all([report(1, **undated), report(2, **undated, published_at=T0 + timedelta(days=1)),
                                  report(3, **undated, published_at=T0 + timedelta(days=30))])
    assert ids["e001"] == ids["e002"] != ids["e003"]


def test_candidates_come_from_the_reports_actors_and_months_only():
    c = Clusterer()
    ids = c.assign_all([report(n, actor_ids=(f"actor{n}",)) for n in range(50)]
                       + [report(99, event_date=date(2019, 1, 5))])
    assert c.candidates(report(100, event_date=date(2019, 1, 20))) == [c.clusters[ids["e099"]]]
    assert c.candidates(report(101)) == []  # Putin, but three years later
    assert c.candidates(report(102, actor_ids=("nobody",))) == []


def test_rows_round_trip_so_a_run_continues_what_a_rebuild_computes_in_one_pass():
    reports = [report(n, actor_ids=(("putin", "shoigu")[n % 2], "kremlin"),
                      event_date=date(2022, 9, 21 + n % 4), sentence=f"Putin ordered step {n % 5} of the mobilization.")
               for n in range(40)]
    one_pass = Clusterer()
    whole = one_pass.assign_all(reports)
    first = Clusterer()
    part = first.assign_all(reports[:25])
    stored = [Cluster.from_row(c.as_row()) for c in first.clusters.values()]
    assert [s.as_row() for s in stored] == [c.as_row() for c in first.clusters.values()]
    part |= Clusterer(stored).assign_all(reports[25:])
    assert part == whole and len(set(whole.values())) > 1


MOBILIZATION = [
    ("https://news-one.example/a", "Putin orders mobilization",
     "Russian President Vladimir Putin ordered a partial mobilization of reservists on Sept. 21, 2022, "
     "in a televised address.\n\nThe order came after Ukraine's counteroffensive."),
    ("https://other-paper.example/b", "Reservists called up",
     "On Sept. 21, 2022, Vladimir Putin ordered the partial mobilization of Russian reservists.\n\n"
     "Thousands of men left the country in the following days."),
    ("https://third-site.example/c", "A visit to Beijing",
     "Vladimir Putin visited Beijing on Feb. 4, 2022, and signed a partnership agreement with Xi Jinping."),
]


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory):
    path = tmp_path_factory.mktemp("clusters") / "mobilization.jsonl"
    path.write_text("".join(json.dumps({"url": u, "title": t, "published_at": "2022-09-23T10:00:00Z", "text": x}) + "\n"
                            for u, t, x in MOBILIZATION))
    result = CliRunner().invoke(cli, ["analyze", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_analyze_gives_two_reports_of_one_event_one_cluster_id(analyzed):
    first, second, other = ({e["cluster_id"] for e in row["events"] if e["event_date"] == day}
                            for row, day in zip(analyzed, ("2022-09-21", "2022-09-21", "2022-02-04"), strict=True))
    assert len(first) == 1 and first == second
    assert other and other.isdisjoint(first)
    assert all(e["cluster_id"] for row in analyzed for e in row["events"])


# --- in the store: a run's events join the stored clusters, in the run's snapshot ----------------------

LATER = ("https://late-wire.example/d", "Mobilization, a year on",
         "A year ago, on Sept. 21, 2022, Vladimir Putin ordered a partial mobilization of reservists.")


def articles_file(path, rows, published="2022-09-23T10:00:00Z"):
    path.write_text("".join(json.dumps({"url": u, "title": t, "published_at": published, "text": x}) + "\n"
                            for u, t, x in rows))
    return path


def clusters_of(data) -> dict[str, Any]:
    from dateline.flows import store

    with store.connect(data / "processed", data / "raw") as con:
        members = con.sql("select cluster_id, list(event_id order by event_id) from event_cluster_members "
                          "group by 1").fetchall()
        rows = con.sql("select cluster_id, reports, articles, sites, event_date, first_url from event_clusters "
                       "order by cluster_id").fetchall()
        body = con.sql("select count(*) from events where text_source = 'body'").fetchall()[0][0]
        revisions = con.sql("select count(*) from event_cluster_revisions").fetchall()[0][0]
    return {"members": sorted(tuple(m) for _, m in members), "rows": rows, "body_events": body,
            "revisions": revisions}


@pytest.fixture(scope="module")
def stored(prefect_harness, tmp_path_factory):
    root = tmp_path_factory.mktemp("stored")
    data = root / "data"

    def run(path):
        result = CliRunner().invoke(cli, ["--data-dir", str(data), "run", "--articles", str(path), "--workers", "1"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.stderr

    run(articles_file(root / "first.jsonl", MOBILIZATION))
    first = clusters_of(data)
    run(articles_file(root / "second.jsonl", [LATER], published="2023-09-21T08:00:00Z"))
    second = clusters_of(data)
    url, title, text = MOBILIZATION[0]  # a new version of the first article: one more paragraph
    run(articles_file(root / "third.jsonl", [(url, title, text + "\n\nKyiv called the order a sign of weakness.")]))
    third = clusters_of(data)
    timeline = CliRunner().invoke(cli, ["--data-dir", str(data), "timeline", "vladimir putin", "--format", "json"],
                                  catch_exceptions=False)
    reports = CliRunner().invoke(cli, ["--data-dir", str(data), "timeline", "vladimir putin", "--reports",
                                       "--format", "json"], catch_exceptions=False)
    table = CliRunner().invoke(cli, ["--data-dir", str(data), "timeline", "vladimir putin", "--reports"],
                               catch_exceptions=False)
    assert table.exit_code == 0, table.stderr
    listed = table.stdout.splitlines()
    # the reports table: one line per report under the event's date, verb and count, published to the minute
    assert listed[0].split() == ["event_date", "trigger", "reports", "published_at", "site", "url", "sentence"]
    assert sum(1 for line in listed if line.startswith("2022-09-21  order    3        2022-09-23 10:00")) == 2
    rebuild = CliRunner().invoke(cli, ["--data-dir", str(data), "reprocess", "--rebuild", "--workers", "1"],
                                 catch_exceptions=False)
    assert rebuild.exit_code == 0, rebuild.stderr
    return first, second, third, json.loads(timeline.stdout), json.loads(reports.stdout), clusters_of(data)


def mobilization(state):
    return next(r for r in state["rows"] if r[4] == date(2022, 9, 21) and r[1] > 1)


def test_every_stored_event_has_a_cluster(stored):
    first, second, third, *_ = stored
    for state in (first, second, third):
        assert sum(len(m) for m in state["members"]) == state["body_events"] > 0


def test_a_new_version_of_an_article_does_not_report_its_sentences_again(stored):
    _, second, third, *_ = stored
    assert mobilization(third)[:4] == mobilization(second)[:4]  # the same cluster, 3 reports, 3 articles, 3 sites
    assert third["body_events"] > second["body_events"]


def test_a_later_run_adds_its_report_to_the_stored_cluster(stored):
    first, second, *_ = stored
    before, after = mobilization(first), mobilization(second)
    assert before[0] == after[0]  # the same cluster id
    assert (before[1], before[3]) == (2, 2) and (after[1], after[3]) == (3, 3)
    assert after[5] == MOBILIZATION[0][0] or after[5] == MOBILIZATION[1][0]  # first reported in the first run
    assert second["revisions"] > len(second["rows"])  # the run wrote the cluster again, as a new revision


def test_timeline_shows_the_event_once_with_its_reports(stored):
    *_, timeline, reports, _ = stored
    told = [r for r in timeline if r["event_date"] == "2022-09-21" and r["trigger"] == "order"]
    assert len(told) == 1 and (told[0]["reports"], told[0]["sites"]) == (3, 3)
    listed = [r for r in reports if r["cluster_id"] == told[0]["cluster_id"]]
    assert sorted(r["url"] for r in listed) == sorted([MOBILIZATION[0][0], MOBILIZATION[1][0], LATER[0]])


def test_timeline_shows_an_event_by_its_representative_reports_sentence_and_article(stored):
    *_, timeline, _, _ = stored
    told = next(r for r in timeline if r["event_date"] == "2022-09-21" and r["trigger"] == "order")
    titles = {url: (title, text) for url, title, text in [*MOBILIZATION, LATER]}
    title, text = titles[told["url"]]
    assert told["sentence"] in text and told["title"] == title  # the sentence shown is that article's
    assert told["site"] == told["url"].split("/")[2]  # the page names no site: its domain


def timeline_of(data, actor: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "timeline", actor, "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_clusters_stored_before_the_report_columns_show_the_first_report_then_get_them_once(prefect_harness,
                                                                                             tmp_path):
    import pyarrow.parquet as pq
    from dateline.flows import snapshot

    data = tmp_path / "data"
    for n, rows in enumerate(([MOBILIZATION[0]], [MOBILIZATION[2]])):  # the second run: another event
        if n:  # the first run's cluster files as an older version wrote them: without the report columns
            processed = data / "processed"
            for table in ("event_cluster_revisions", "actor_clusters"):
                for name in snapshot.current(processed).files(table):
                    old = pq.read_table(processed / name)
                    pq.write_table(old.drop_columns([c for c in old.column_names if c.startswith("report_")]),
                                   processed / name)
            before = next(r for r in timeline_of(data, "vladimir putin") if r["event_date"] == "2022-09-21")
            assert before["url"] == before["first_url"] == MOBILIZATION[0][0] and before["title"] is None
        result = CliRunner().invoke(cli, ["--data-dir", str(data), "run", "--articles",
                                          str(articles_file(tmp_path / f"{n}.jsonl", rows)), "--workers", "1"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    rows = [r for r in timeline_of(data, "vladimir putin") if r["cluster_id"]]
    assert rows and all(r["title"] and r["site"] for r in rows)  # the next run filled the stored clusters
    after = next(r for r in rows if r["event_date"] == "2022-09-21")  # a cluster the second run did not touch
    assert (after["url"], after["title"], after["trigger"]) == (*MOBILIZATION[0][:2], "order")


def test_a_rebuild_gives_the_same_clusters(stored):
    _, _, third, _, _, rebuilt = stored
    assert rebuilt["members"] == third["members"] and rebuilt["rows"] == third["rows"]


def test_a_run_reads_back_exactly_the_stored_clusters_its_reports_look_at(tmp_path):
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
    from dateline.flows.clusters import CANDIDATES, candidate_params
    from dateline.flows.store import CLUSTER_REVISIONS

    stored = varied_store()
    # most sentences name no actor (their articles do); the others are of one trigger only
    run = in_context(varied(n, event_id=f"r{n}", article_id=f"r{n % 20}",
                            **({"actor_ids": ()} if n % 3 else {"trigger": "sign"})) for n in range(1000, 1090))
    path = tmp_path / "revisions.parquet"
    rows = [c.as_row() | {"revision": 1} for c in stored.clusters.values()]
    pq.write_table(pa.Table.from_pylist(rows, schema=CLUSTER_REVISIONS.schema), path)
    expected = {c.cluster_id for r in run for c in stored.candidates(r)}
    with duckdb.connect() as con:
        found = con.sql(CANDIDATES.format(revisions="read_parquet($files)"),
                        params=candidate_params(run) | {"files": [str(path)]}).fetchall()
    assert len(expected) > 15 and {row[0] for row in found} == expected
    by_sentence = {c.cluster_id for r in run for c in stored.candidates(replace(r, context=r.actor_ids))}
    assert by_sentence < expected  # some are found by the actors of the report's article only


def varied(n: int, **extra: Any) -> Report:
    """Reports of two triggers over ten actors: dated to the day, to the month, by publication only,
    not at all, with no trigger, and a year earlier."""
    kinds = [{}, {"date_precision": "month", "event_date": date(2022, 9 - n % 3, 1)},
             {"date_basis": "published", "published_at": T0 + timedelta(days=n % 40)},
             {"event_date": None, "date_basis": None, "date_precision": None, "published_at": None},
             {"trigger": None}, {"event_date": date(2021, 1 + n % 12, 1 + n % 27)}]
    values = {"actor_ids": (f"actor{n % 7}", f"actor{n % 3 + 10}"), "trigger": ("order", "sign")[n % 2],
              "sentence": f"Word{n % 4} word{n % 5} ordered things {n % 6}."}
    return report(n, **(values | kinds[n % 6] | extra))


def varied_store() -> Clusterer:
    stored = Clusterer()
    stored.assign_all(in_context(varied(n, article_id=f"a{n % 150:03d}") for n in range(300)))  # two per article
    return stored


def test_a_run_indexing_only_the_keys_its_reports_look_up_assigns_as_the_whole_index_does():
    rows = [c.as_row() for c in varied_store().clusters.values()]
    run = [varied(n, event_id=f"r{n}", article_id=f"r{n % 20}", sentence_id=n) for n in range(1000, 1120)]
    whole = Clusterer(Cluster.from_row(r) for r in rows)
    assert not any(block == "*" for _, _, block in whole.index)  # indexed at the first report with no date
    whole.candidates(varied(3))
    assert any(block == "*" for _, _, block in whole.index)
    narrow = Clusterer((Cluster.from_row(r) for r in rows), reports=run)
    assert len(narrow.index) < len(whole.index) / 2  # it indexes less ...
    assigned = {}
    for r in sorted(run, key=order_key):  # ... and each report finds the same candidates, then joins the same
        assert [c.cluster_id for c in narrow.candidates(r)] == [c.cluster_id for c in whole.candidates(r)]
        assigned[r.event_id] = narrow.assign(r)
        assert whole.assign(r) == assigned[r.event_id]
    assert any(a in {r["cluster_id"] for r in rows} for a in assigned.values())  # some join stored clusters
    assert len(set(assigned.values())) < len(run)


def test_a_cluster_found_under_the_wanted_keys_is_found_under_exactly_those_of_its_keys():
    undated = Clusterer()
    undated.assign(varied(3))  # no date, no publication: found under None and "*" only
    reported_before = Cluster("c-aug", False, triggers=Counter({"order": 1}), actors=Counter({"putin": 1}),
                              when=(date(2022, 9, 1), date(2022, 9, 1)),
                              reported=(date(2022, 7, 20), date(2022, 8, 31)), reports=2)  # months of both spans
    clusters = [*varied_store().clusters.values(), *undated.clusters.values(), reported_before]
    assert any(not (c.when or c.reported) for c in clusters)
    for c in clusters:
        keys = set(c.blocks())
        wanted: dict[tuple[str, str], set[Any]] = {}
        for actor, trigger, block in [*keys, *((a, t, (2020, 1)) for a, t, _ in keys), ("other", "order", None)]:
            wanted.setdefault((actor, trigger), set()).add(block)
        half = {pair: blocks for n, (pair, blocks) in enumerate(sorted(wanted.items(), key=str)) if n % 2}
        assert set(c.blocks(wanted)) == keys
        assert set(c.blocks(half)) == {k for k in keys if k[:2] in half}
        dated = {pair: {b for b in blocks if isinstance(b, tuple)} for pair, blocks in wanted.items()}
        assert set(c.blocks(dated)) == {k for k in keys if isinstance(k[2], tuple)}
