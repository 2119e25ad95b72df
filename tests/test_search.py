"""Full-text search (flows/search.py): real runs on small --articles files, then `dateline search`, the
search('...') table in `dateline sql`, the Python API, and the index's consistency with the snapshots."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from dateline.flows import search, snapshot
from dateline.flows.cli import cli
from dateline.flows.config import Settings

from dateline import connect
from dateline import search as api_search

EN_ORDERS = ("The commander said the orders came from Moscow. Wagner fighters pushed into Bakhmut on Monday "
             "while the partial mobilization went on, and officials in Kyiv said the shelling of the city "
             "continued through the night, with hundreds of buildings damaged and many civilians leaving.")
EN_OTHER = ("Farmers in Iowa said the harvest was late this year because of the rain. Prices for corn rose as "
            "traders waited for the weather to change, and the local cooperative said storage was nearly full "
            "after a long season that tested every family in the county and beyond it.")
DE = ("Die Bundesregierung hat am Montag neue Hilfen für die Landwirte beschlossen. Die Bauern hatten "
      "wochenlang gegen die Kürzungen protestiert, und der Minister sagte, die Gespräche mit den Verbänden "
      "würden in der nächsten Woche fortgesetzt, damit die Betriebe Planungssicherheit bekommen.")
FR = ("Le gouvernement a annoncé lundi qu'il continuerait à soutenir les familles touchées par les inondations "
      "dans les provinces de l'est, où des milliers de personnes ont perdu leur maison depuis le début des pluies.")


def row(url: str, title: str, text: str, language: str, published: str, site: str) -> str:
    return json.dumps({"url": url, "title": title, "text": text, "language": language, "published_at": published,
                       "site_name": site, "authors": ["Jane Doe"]})


ROWS = [
    row("https://news.example.com/wagner", "Putin and the Wagner push", EN_ORDERS, "en", "2023-01-04T10:00:00Z",
        "Example News"),
    row("https://farm.example.org/harvest", "A late harvest", EN_OTHER, "en", "2023-03-10T10:00:00Z", "Farm Post"),
    row("https://zeitung.example.de/bauern", "Hilfen für Landwirte", DE, "de", "2023-02-01T10:00:00Z", "Zeitung"),
    row("https://journal.example.fr/inondations", "Inondations dans l'est", FR, "fr", "2023-02-15T10:00:00Z",
        "Journal"),
]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def run(data: Path, articles: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "run", "--articles", str(articles), "--workers", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def corpus(prefect_harness, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("search")
    run(folder / "data", write(folder / "a.jsonl", ROWS))
    return folder / "data"


def hits(data: Path, query: str, *options: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "search", query, "--format", "jsonl", *options])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def urls(data: Path, query: str, *options: str) -> set[str]:
    return {h["url"] for h in hits(data, query, *options)}


def test_term_phrase_boolean_and_field_queries_find_the_right_articles(corpus):
    assert urls(corpus, "bakhmut") == {"https://news.example.com/wagner"}
    assert urls(corpus, '"partial mobilization"') == {"https://news.example.com/wagner"}
    assert urls(corpus, '"mobilization partial"') == set()
    assert urls(corpus, "wagner AND bakhmut") == {"https://news.example.com/wagner"}
    assert urls(corpus, "wagner AND harvest") == set()
    assert urls(corpus, "wagner OR harvest") == {"https://news.example.com/wagner", "https://farm.example.org/harvest"}
    assert urls(corpus, "said AND NOT wagner", "--language", "en") == {"https://farm.example.org/harvest"}
    assert urls(corpus, "title:putin") == {"https://news.example.com/wagner"}
    assert urls(corpus, "title:bakhmut") == set()  # only in the text
    assert urls(corpus, "authors:doe") >= {"https://news.example.com/wagner"}


def test_hits_carry_a_highlighted_snippet_url_and_date(corpus):
    (hit,) = hits(corpus, "bakhmut")
    assert "**Bakhmut**" in hit["snippet"]
    assert hit["published_at"].startswith("2023-01-04") and hit["title"] == "Putin and the Wagner push"


def test_stemming_per_language(corpus):
    assert urls(corpus, "ordered") == {"https://news.example.com/wagner"}  # English: "orders"
    assert urls(corpus, "landwirt") == {"https://zeitung.example.de/bauern"}  # German: "Landwirte"
    assert urls(corpus, "inondation") == {"https://journal.example.fr/inondations"}  # French: "inondations"


def test_since_until_site_and_language_filters(corpus):
    everything = "said OR sagte OR annoncé"
    assert urls(corpus, everything, "--since", "2023-02-01", "--until", "2023-02-28") == {
        "https://zeitung.example.de/bauern", "https://journal.example.fr/inondations"}
    assert urls(corpus, everything, "--until", "2023-01-04") == {"https://news.example.com/wagner"}
    assert urls(corpus, everything, "--site", "farm.example.org") == {"https://farm.example.org/harvest"}
    assert urls(corpus, everything, "--site", "farm post") == {"https://farm.example.org/harvest"}
    assert urls(corpus, everything, "--language", "de") == {"https://zeitung.example.de/bauern"}
    assert len(hits(corpus, everything, "--limit", "1")) == 1


def test_sql_search_table_joins_the_tables(corpus):
    result = CliRunner().invoke(cli, ["--data-dir", str(corpus), "sql", "--format", "csv",
                                      "select s.url, a.domain from search('wagner AND bakhmut') as s "
                                      "join articles_current as a using (article_id, content_hash)"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["url,domain", "https://news.example.com/wagner,news.example.com"]
    joined = CliRunner().invoke(cli, ["--data-dir", str(corpus), "sql", "--format", "csv",
                                      "select count(*) > 0 as has_events from search('bakhmut') "
                                      "join events using (article_id)"])
    assert joined.exit_code == 0, joined.stderr
    assert joined.stdout.splitlines() == ["has_events", "true"]


def test_python_api_returns_arrow(corpus):
    con = connect(corpus)
    table = api_search(con, "bakhmut")
    assert isinstance(table, pa.Table)
    assert table.column_names[:3] == ["article_id", "content_hash", "score"]
    assert table.column("url").to_pylist() == ["https://news.example.com/wagner"]
    assert con.sql("select url from search('harvest')").fetchall() == [("https://farm.example.org/harvest",)]


def test_cli_errors(corpus, tmp_path):
    bad = CliRunner().invoke(cli, ["--data-dir", str(corpus), "search", "x", "--since", "2023-13-01"])
    assert bad.exit_code == 2 and "is not a date" in bad.stderr
    empty = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "none"), "search", "x"])
    assert empty.exit_code == 1 and "no corpus" in empty.stderr
    assert not (tmp_path / "none").exists()


def sql_urls(data: Path, query: str, *options: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "sql", *options, "--format", "csv",
                                      f"select url from search('{query}')"])
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()[1:]


def test_new_version_replaces_the_old_and_a_run_catches_up_an_index_left_behind(prefect_harness, tmp_path):
    data = tmp_path / "data"
    run(data, write(tmp_path / "a.jsonl", ROWS))
    processed = Settings(data_dir=data).processed_dir
    behind = tmp_path / "behind"
    shutil.copytree(search.folder(processed), behind)  # the index as the first run left it
    first = snapshot.current(processed).id
    changed = row("https://news.example.com/wagner", "Putin and the Wagner push",
                  EN_ORDERS.replace("Bakhmut", "Soledar"), "en", "2023-01-04T10:00:00Z", "Example News")
    run(data, write(tmp_path / "b.jsonl", [changed]))
    assert urls(data, "soledar") == {"https://news.example.com/wagner"}
    assert urls(data, "bakhmut") == set()  # the old version is out of the index
    # a run killed after its table commit, before the index commit: the index is a snapshot behind
    shutil.rmtree(search.folder(processed))
    shutil.copytree(behind, search.folder(processed))
    assert search.read_state(processed)["snapshot"] < snapshot.current(processed).id
    assert urls(data, "bakhmut") == set()  # the stale hit is filtered against the tables
    # a connection pinned to the newer snapshot while the index is behind it, and one pinned to the older
    # snapshot once the index is ahead: each returns only the versions current in its own snapshot
    newer = snapshot.current(processed).id
    assert sql_urls(data, "soledar") == []  # not in the index yet
    assert sql_urls(data, "bakhmut") == []  # in the index, but replaced in the pinned snapshot
    run(data, write(tmp_path / "c.jsonl", [ROWS[1]]))  # nothing new: the run only catches the index up
    assert sql_urls(data, "soledar", "--as-of", str(first)) == []  # the index's version is not current there
    assert sql_urls(data, "soledar", "--as-of", str(newer)) == ["https://news.example.com/wagner"]
    assert sql_urls(data, "harvest", "--as-of", str(first)) == ["https://farm.example.org/harvest"]  # unchanged
    assert search.read_state(processed)["snapshot"] == snapshot.current(processed).id
    assert urls(data, "soledar") == {"https://news.example.com/wagner"}
    # the index folder removed: the next run builds it again from the tables
    shutil.rmtree(search.folder(processed))
    run(data, write(tmp_path / "d.jsonl", [ROWS[2]]))
    assert urls(data, "soledar OR landwirt") == {"https://news.example.com/wagner",
                                                  "https://zeitung.example.de/bauern"}


def test_compact_search_rebuilds_the_index_with_the_same_hits(corpus):
    queries = ["bakhmut", "said", '"partial mobilization"', "landwirt OR inondation"]
    def ranked(q: str) -> list[tuple]:  # hits with equal scores may come in either order
        return sorted((-h["score"], h["url"], h["snippet"]) for h in hits(corpus, q))

    before = {q: ranked(q) for q in queries}
    old = search.read_state(Settings(data_dir=corpus).processed_dir)["index"]
    result = CliRunner().invoke(cli, ["--data-dir", str(corpus), "compact", "--search"])
    assert result.exit_code == 0, result.stderr
    assert search.read_state(Settings(data_dir=corpus).processed_dir)["index"] != old
    assert {q: ranked(q) for q in queries} == before


def test_snippets_come_from_the_stored_start_of_the_text_and_the_description(prefect_harness, tmp_path):
    data = tmp_path / "data"
    text = " ".join([EN_OTHER] * 4) + " At dawn the ferry reached Zanzibar with the last of the grain."
    assert text.index("Zanzibar") > search.TEXT_HEAD
    long = json.loads(row("https://ferry.example.net/grain", "The grain ferry", text, "en", "2023-05-02T08:00:00Z",
                          "Ferry Times"))
    run(data, write(tmp_path / "a.jsonl", [json.dumps({**long, "description": "Grain ships out of Tanzania."})]))
    (harvest,) = hits(data, "harvest")
    assert "**harvest**" in harvest["snippet"]  # in the stored start of the text
    (tanzania,) = hits(data, "tanzania")
    assert "**Tanzania**" in tanzania["snippet"]  # in the description
    (zanzibar,) = hits(data, "zanzibar")  # found, but past the stored start: the snippet is the start, unmarked
    assert zanzibar["url"] == "https://ferry.example.net/grain" and "**" not in zanzibar["snippet"]
    assert zanzibar["snippet"] == "Grain ships out of Tanzania."
    (full,) = hits(data, "zanzibar", "--full-snippets")  # cut from the whole text, read from the tables
    assert "**Zanzibar**" in full["snippet"]
    (same,) = hits(data, "harvest", "--full-snippets")
    assert same["snippet"] == harvest["snippet"]


def test_an_index_of_an_older_format_is_refused_then_built_again(corpus, caplog):
    processed = Settings(data_dir=corpus).processed_dir
    state = search.read_state(processed)
    old = {k: v for k, v in state.items() if k != "format"}  # what format 1 wrote
    (search.folder(processed) / search.STATE).write_text(json.dumps(old), encoding="utf-8")
    refused = CliRunner().invoke(cli, ["--data-dir", str(corpus), "search", "bakhmut"])
    assert refused.exit_code == 1 and "older version (format 1)" in refused.stderr
    with caplog.at_level("INFO", logger=search.log.name):
        done = search.sync(processed, Settings(data_dir=corpus).raw_dir)
    assert "has format 1, this version writes 2: building it again" in caplog.text
    assert done["added"] == len(ROWS) and search.read_state(processed)["format"] == search.FORMAT
    assert search.read_state(processed)["index"] != state["index"]
    assert not (search.folder(processed) / state["index"]).exists()
    assert urls(corpus, "bakhmut") == {"https://news.example.com/wagner"}


def test_stored_ids_come_back_as_they_went_in():
    for value in ("0" * 40, "ab" * 20, "AB" * 20, "x" * 19, "é" * 10, "a" * 39, ""):
        assert search._unkey(search._key(value)) == value
    assert len(search._key("ab" * 20)) == 21
    assert search.head("one two three", 8) == "one two" and search.head("short", 8) == "short"
