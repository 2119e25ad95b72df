"""The actor queries (sql/actor_timeline.sql and friends) and `dateline timeline` / `dateline actors`,
on a tiny hand-built corpus: three articles, four actors, six events, two quotes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from dateline.flows import store
from dateline.flows.cli import cli
from dateline.transforms.schema import (
    ARTICLE_ACTORS,
    ARTICLES,
    EVENTS,
    MENTIONS,
    QUOTES,
    ArticleActorRecord,
    ArticleRecord,
    EventRecord,
    MentionRecord,
    QuoteRecord,
)

FETCHED = datetime(2023, 3, 1, tzinfo=UTC)
# actor id -> (name, kind, aliases)
ACTORS = {
    "P": ("Vladimir Putin", "person", ("Putin", "Vladimir Vladimirovich Putin")),
    "U": ("Ukraine", "place", ()),
    "Z": ("Volodymyr Zelenskyy", "person", ("Zelensky",)),
    "K": ("Kremlin", "organization", ()),
}
# article -> sentence id -> actors mentioned in it (one mention each)
MENTIONED = {
    "a1": {0: "PU", 1: "PP"},
    "a2": {0: "PK", 1: "PU", 2: "P"},
    "a3": {0: "ZU", 1: "Z"},
}


def article(n: int, published_at: datetime, *, content_hash: str = "h", fetched_at: datetime = FETCHED,
            site_name: str | None = "Wire") -> ArticleRecord:
    return ArticleRecord(
        article_id=f"a{n}", content_hash=content_hash, url=f"https://x.example/{n}",
        canonical_url=f"https://x.example/{n}", domain="x.example", site_name=site_name, title=f"T{n}",
        description=None, published_at=published_at, published_utc_offset="+00:00",
        published_precision="time", published_source="meta", modified_at=None, fetched_at=fetched_at,
        language="en", section=None, text="body", word_count=1, raw_ref="f.warc.gz#0",
        extractor_version="test", run_id="r",
    )


def event(event_id: str, article_id: str, sentence_id: int, event_date: date | None, precision: str | None,
          trigger: str, actor_ids: str, sentence: str, *, content_hash: str = "h") -> EventRecord:
    return EventRecord(
        event_id=event_id, article_id=article_id, content_hash=content_hash, text_source="body",
            sentence_id=sentence_id, sentence_start=0, sentence_end=0,
        event_date=event_date, date_precision=precision, date_text=None,
        date_basis=None if event_date is None else "explicit", trigger=trigger, subject_id=actor_ids[0],
        object_id=None, actor_ids=tuple(actor_ids), place=None, negated=False, sentence=sentence,
    )


EVENTS_ROWS = [
    event("e1", "a1", 0, date(2022, 12, 1), "month", "order", "PU",
          "Last month Putin ordered a partial mobilization for the war in Ukraine."),
    event("e2", "a1", 1, date(2023, 1, 4), "day", "meet", "P", "Putin met the widows' group on Wednesday."),
    event("e3", "a2", 0, None, None, "deny", "PK", "Putin denied the Kremlin plans a second wave."),
    event("e4", "a2", 2, date(1942, 1, 1), "year", "recall", "P", "Putin recalled the siege of 1942."),
    event("e5", "a3", 0, date(2023, 2, 20), "day", "answer", "ZU",
          "Zelenskyy said Ukraine would answer any mobilization."),
    # an older version of a2: not the current one, so none of the queries may show it
    event("e6", "a2", 0, date(2023, 2, 1), "day", "deny", "P", "Putin denied everything.", content_hash="old"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("timeline") / "data"
    processed = data / "processed"
    published = {"a1": datetime(2023, 1, 4, 9, tzinfo=UTC), "a2": datetime(2023, 2, 10, 12, tzinfo=UTC),
                 "a3": datetime(2023, 2, 20, 8, tzinfo=UTC)}
    articles = [article(int(a[1]), at) for a, at in published.items()]
    articles.append(article(2, published["a2"], content_hash="old", fetched_at=datetime(2023, 2, 11, tzinfo=UTC)))
    mentions = [MentionRecord(article_id=a, content_hash="h", text_source="body", sentence_id=s, start_char=i * 10,
                              end_char=i * 10 + 5, text=ACTORS[actor][0], label="X", actor_id=actor)
                for a, sentences in MENTIONED.items() for s, actors in sentences.items()
                for i, actor in enumerate(actors)]
    article_actors = []
    for a, sentences in MENTIONED.items():
        counts: dict[str, int] = {}
        for actors in sentences.values():
            for actor in actors:
                counts[actor] = counts.get(actor, 0) + 1
        article_actors += [ArticleActorRecord(actor_id=actor, article_id=a, content_hash="h", name=ACTORS[actor][0],
                                              kind=ACTORS[actor][1], aliases=ACTORS[actor][2], mention_count=n)
                           for actor, n in counts.items()]
    quotes = [
        QuoteRecord(article_id="a1", content_hash="h", sentence_id=1, start_char=0, end_char=0, speaker_id="P",
                    speaker_text="he",
                    quote="We will win", verb="say", sentence='"We will win," he said.'),
        QuoteRecord(article_id="a3", content_hash="h", sentence_id=0, start_char=0, end_char=0, speaker_id="Z",
                    speaker_text="Zelenskyy",
                    quote="Ukraine will answer", verb="say", sentence='"Ukraine will answer," Zelenskyy said.'),
    ]
    for rows, table in ((articles, ARTICLES), (mentions, MENTIONS), (article_actors, ARTICLE_ACTORS),
                        (EVENTS_ROWS, EVENTS), (quotes, QUOTES)):
        store.stage(rows, table, processed, "r", "b")
        store.load_staged(processed, "r", table)
    return data


@pytest.fixture
def con(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with store.connect(data_dir / "processed", data_dir / "raw") as connection:
        yield connection


def query(con: duckdb.DuckDBPyConnection, name: str, **params: str) -> list[dict[str, Any]]:
    cursor = con.execute(store.read_query(name), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def timeline(con: duckdb.DuckDBPyConnection, actor: str, *, since: str = "", until: str = "",
             about: str = "") -> list[dict[str, Any]]:
    return query(con, "actor_timeline", actor=actor, since=since, until=until, about=about)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, data_dir: Path, *args: str):
    return runner.invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)


# --- sql/actor_timeline.sql -------------------------------------------------------------------

def test_timeline_finds_actor_by_alias_in_any_case_in_date_order_undated_last(con):
    rows = timeline(con, "putin")
    assert [r["event_id"] for r in rows] == ["e4", "e1", "e2", "e3"]
    assert [r["event_date"] for r in rows] == [date(1942, 1, 1), date(2022, 12, 1), date(2023, 1, 4), None]
    assert rows[1] | {"sentence": None} == {
        "event_date": date(2022, 12, 1), "date_precision": "month", "date_basis": "explicit", "trigger": "order",
        "sentence": None, "url": "https://x.example/1", "title": "T1", "site": "Wire", "event_id": "e1",
        "reports": 1, "sites": 1, "date_min": date(2022, 12, 1), "date_max": date(2022, 12, 1),
        "first_url": "https://x.example/1", "cluster_id": None}  # loaded without the pipeline: no clusters


@pytest.mark.parametrize("actor", ["Vladimir Putin", "VLADIMIR VLADIMIROVICH PUTIN", "Putin"])
def test_timeline_matches_name_and_every_alias(con, actor):
    assert [r["event_id"] for r in timeline(con, actor)] == ["e4", "e1", "e2", "e3"]


def test_timeline_shows_only_the_current_version_of_an_article(con):
    assert "e6" not in {r["event_id"] for r in timeline(con, "putin")}


@pytest.mark.parametrize(("bounds", "expected"), [
    ({"since": "2023-01-01"}, ["e2"]),
    ({"until": "2022-12-31"}, ["e4", "e1"]),
    ({"since": "2022-12-01", "until": "2023-01-04"}, ["e1", "e2"]),
    ({"since": "2024-01-01"}, []),
], ids=["since", "until", "both-inclusive", "nothing-after"])
def test_timeline_since_and_until_bound_event_dates(con, bounds, expected):
    assert [r["event_id"] for r in timeline(con, "putin", **bounds)] == expected


def test_timeline_about_filters_sentences_case_insensitively(con):
    assert [r["event_id"] for r in timeline(con, "putin", about="MOBILIZATION")] == ["e1"]


def test_timeline_parameter_holding_sql_is_just_a_value(con):
    assert timeline(con, "x'); drop view events; --", about="'; drop view events; --") == []
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert "events" in views
    assert con.execute("select count(*) from events").fetchall() == [(6,)]


# --- the other actor queries ----------------------------------------------------------------

def test_mention_volume_per_month_is_a_share_of_all_mentions(con):
    rows = query(con, "mention_volume", actor="putin", interval="month")
    # January: a1 has 3 Putin mentions of 4; February: a2 has 3 of 5, a3 none of its 3
    assert rows == [
        {"period": date(2023, 1, 1), "mentions": 3, "articles": 1, "stories": 1, "share": 0.75},
        {"period": date(2023, 2, 1), "mentions": 3, "articles": 1, "stories": 1, "share": 0.375},
    ]


def test_mention_volume_gives_zero_for_periods_without_the_actor(con):
    rows = query(con, "mention_volume", actor="Zelensky", interval="week")
    assert [(r["period"], r["mentions"], r["share"]) for r in rows] == [
        (date(2023, 1, 2), 0, 0.0), (date(2023, 2, 6), 0, 0.0), (date(2023, 2, 20), 2, 0.6667)]


def test_mention_volume_of_an_unknown_actor_has_no_rows(con):
    assert query(con, "mention_volume", actor="nobody", interval="day") == []


def test_top_actors_orders_by_articles_then_mentions(con):
    rows = query(con, "top_actors", since="", until="", kind="", limit="10")
    assert [(r["name"], r["kind"], r["articles"], r["mentions"]) for r in rows] == [
        ("Ukraine", "place", 3, 3), ("Vladimir Putin", "person", 2, 6), ("Volodymyr Zelenskyy", "person", 1, 2),
        ("Kremlin", "organization", 1, 1)]


@pytest.mark.parametrize(("params", "expected"), [
    ({"since": "2023-02-01", "until": ""}, ["Ukraine", "Vladimir Putin", "Volodymyr Zelenskyy", "Kremlin"]),
    ({"since": "", "until": "2023-01-04"}, ["Vladimir Putin", "Ukraine"]),  # the until day is included
    ({"since": "2023-02-11", "until": "2023-02-28"}, ["Volodymyr Zelenskyy", "Ukraine"]),
    ({"kind": "person"}, ["Vladimir Putin", "Volodymyr Zelenskyy"]),
    ({"limit": "1"}, ["Ukraine"]),
], ids=["since", "until", "window", "kind", "limit"])
def test_top_actors_filters(con, params, expected):
    rows = query(con, "top_actors", **({"since": "", "until": "", "kind": "", "limit": "10"} | params))
    assert [r["name"] for r in rows] == expected


def test_co_actors_counts_shared_sentences_and_articles(con):
    rows = query(con, "co_actors", actor="putin", limit="10")
    assert [(r["name"], r["shared_sentences"], r["shared_articles"]) for r in rows] == [
        ("Ukraine", 2, 2), ("Kremlin", 1, 1)]


def test_quotes_by_speaker(con):
    rows = query(con, "quotes_by_speaker", actor="PUTIN")
    assert rows == [{"published_at": datetime(2023, 1, 4, 9, tzinfo=UTC), "quote": "We will win", "verb": "say",
                     "speaker_text": "he", "sentence": '"We will win," he said.', "url": "https://x.example/1"}]


def test_events_about_lists_actor_names_and_bounds_dates(con):
    rows = query(con, "events_about", keyword="Mobilization", since="", until="")
    assert [(r["event_date"], r["trigger"], r["actors"]) for r in rows] == [
        (date(2022, 12, 1), "order", ["Vladimir Putin", "Ukraine"]),
        (date(2023, 2, 20), "answer", ["Volodymyr Zelenskyy", "Ukraine"])]
    assert [r["trigger"] for r in query(con, "events_about", keyword="mobilization", since="2023-01-01",
                                        until="")] == ["answer"]


# --- dateline timeline / dateline actors -----------------------------------------------------

def test_cli_timeline_table_renders_dates_at_their_precision(runner, data_dir):
    result = invoke(runner, data_dir, "timeline", "putin")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["event_date", "trigger", "reports", "sites", "sentence", "first_url"]
    assert [line.split()[0] for line in lines[2:]] == ["1942", "2022-12", "2023-01-04", "deny"]  # undated: blank
    assert lines[3].startswith("2022-12     order    1        1      Last month Putin ordered")
    assert lines[3].endswith("https://x.example/1")


def test_cli_timeline_json_gives_every_column(runner, data_dir):
    result = invoke(runner, data_dir, "timeline", "Vladimir Putin", "--since", "2022-12-01", "--until",
                    "2022-12-31", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{
        "event_date": "2022-12-01", "date_precision": "month", "date_basis": "explicit", "trigger": "order",
        "sentence": "Last month Putin ordered a partial mobilization for the war in Ukraine.",
        "url": "https://x.example/1", "title": "T1", "site": "Wire", "event_id": "e1", "reports": 1, "sites": 1,
        "date_min": "2022-12-01", "date_max": "2022-12-01", "first_url": "https://x.example/1", "cluster_id": None}]


def test_cli_timeline_about_and_csv(runner, data_dir):
    result = invoke(runner, data_dir, "timeline", "putin", "--about", "siege", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "event_date,date_precision,date_basis,trigger,sentence,url,title,site,event_id,reports,sites,date_min,"
        "date_max,first_url,cluster_id",
        "1942-01-01,year,explicit,recall,Putin recalled the siege of 1942.,https://x.example/2,T2,Wire,e4,1,1,"
        "1942-01-01,1942-01-01,https://x.example/2,"]


def test_cli_timeline_actor_without_matching_events_prints_only_the_header(runner, data_dir):
    result = invoke(runner, data_dir, "timeline", "Kremlin", "--about", "nothing like this")
    assert result.exit_code == 0
    header = ["event_date", "trigger", "reports", "sites", "sentence", "first_url"]
    assert result.stdout.splitlines()[0].split() == header
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize("actor", ["Nobody", "x'); drop view events; --"])
def test_cli_timeline_unknown_actor_is_a_one_line_error_exit_1(runner, data_dir, actor):
    result = invoke(runner, data_dir, "timeline", actor)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no actor named '{actor}' (try: dateline actors)\n"
    assert invoke(runner, data_dir, "timeline", "putin").exit_code == 0  # the views are intact


@pytest.mark.parametrize("args", [
    ["timeline", "putin", "--since", "2023-13-01"],
    ["timeline", "putin", "--until", "yesterday"],
    ["timeline"],
    ["actors", "--top", "0"],
    ["actors", "--kind", "robot"],
], ids=lambda a: " ".join(a))
def test_cli_bad_command_lines_exit_2(runner, data_dir, args):
    result = invoke(runner, data_dir, *args)
    assert result.exit_code == 2
    assert result.stdout == "" and "Error:" in result.stderr and "Traceback" not in result.stderr


def test_cli_actors_lists_top_actors(runner, data_dir):
    result = invoke(runner, data_dir, "actors", "--top", "2", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"actor_id": "U", "name": "Ukraine", "kind": "place", "articles": 3, "mentions": 3},
        {"actor_id": "P", "name": "Vladimir Putin", "kind": "person", "articles": 2, "mentions": 6}]


def test_cli_actors_kind_filter_table(runner, data_dir):
    result = invoke(runner, data_dir, "actors", "--kind", "organization")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["actor_id", "name", "kind", "articles", "mentions"]
    assert [line.split() for line in lines[2:]] == [["K", "Kremlin", "organization", "1", "1"]]


def test_cli_actors_before_any_nlp_run_prints_only_the_header(runner, tmp_path):
    processed = tmp_path / "articles-only" / "processed"  # articles loaded, no NLP table written yet
    store.stage([article(1, datetime(2023, 1, 4, tzinfo=UTC))], ARTICLES, processed, "r", "b")
    store.load_staged(processed, "r", ARTICLES)
    result = invoke(runner, tmp_path / "articles-only", "actors", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["actor_id,name,kind,articles,mentions"]
