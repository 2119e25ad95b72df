"""What the corpus holds, described for its readers: `dateline schema` and `dateline sql --help`.

Tables and their columns are described where they are defined, in transforms/schema.py: a record's
docstring says what a row is, a field's comment what the column means. The views that are not
tables (articles_current, actors, ...) are described here, next to nothing else, so that a test can
check that every view a connection has is described (tests/test_catalog.py).
"""

from __future__ import annotations

import inspect
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from dateline.transforms.schema import TABLES, Table

# what a row of each view that is not a table is
VIEWS: dict[str, str] = {
    "articles_current": "the latest fetched version of an article, with its story group (dup_group)",
    "actors": "an actor across the corpus: its most used name and kind, every alias, article and mention counts",
    "actor_labels": "an actor's most used name and kind (what `actors` gives, without the counts: faster)",
    "actor_names": "a name or alias of an actor, lower-cased (key), and the actor it names",
    "actor_events": "an actor in an event of a current article version, with the article's URL, site and story",
    "actor_volume": "an actor's mentions in one current, dated article version, with its UTC publication day",
    "mention_days": "all mentions of current, dated article versions on one UTC publication day",
    "event_clusters": "a real-world event, told by one or many reports (events) across articles and sites",
    "event_cluster_members": "an event (one report) and the event cluster it belongs to",
    "event_cluster_revisions": "an event cluster's whole state as one run left it (event_clusters: the latest)",
    "actor_clusters": "an actor of an event cluster, with what the timeline shows of it (a row per revision)",
}

# what the columns of the event cluster views mean (the rest are the events' columns of the same name)
CLUSTER_COLUMNS = {
    "cluster_id": "the real-world event (event_cluster_members maps each event_id to it)",
    "event_date": "the date the reports agree on (the common part of their own dates; else the first day reported)",
    "date_precision": "day, month or year: how precise event_date is",
    "date_min": "the earliest day the reports' own dates allow (else the first day it was reported)",
    "date_max": "the latest day the reports' own dates allow: date_min < date_max shows reports differing",
    "trigger": "the reports' most frequent main-verb lemma",
    "actor_ids": "every actor of its reports, the most frequent first",
    "place": "the place its reports name most",
    "sentence": "the most representative report's sentence",
    "event_id": "the most representative report (events.event_id)",
    "first_reported_at": "when the first report of it was published",
    "first_article_id": "the article of the first report",
    "first_url": "the URL of the first report",
    "reports": "how many events (sentences) told it",
    "articles": "how many articles told it",
    "sites": "how many sites (registered domains) told it",
    "site_names": "those sites",
    "revision": "the run that wrote this state: higher is later",
    "report_trigger": "the representative report's main-verb lemma (what the timeline shows)",
    "report_url": "the URL of the representative report's article (null in rows of older versions until filled)",
    "report_title": "the title of the representative report's article",
    "report_site": "the representative report's site, as the page names it (else its domain)",
    "report_date_basis": "where the representative report's date came from: explicit, relative or published",
    "report_published_at": "when the representative report's article was published",
    "report_sentence_id": "the representative report's sentence number in its article",
    "context_ids": "the actors its articles name most (a report whose sentence names none of its own may join by them)",
    "context_counts": "how many of its articles name each of context_ids",
}

_FIELD = re.compile(r"^\s+(?P<name>\w+): [^#]+?(?:\s+#\s*(?P<doc>.+))?$")


def row_of(table: Table) -> str:
    """What a row of a table is: its record's docstring up to the ';' that names the folder."""
    doc = inspect.getdoc(table.record) or table.name
    return " ".join(doc.split(";")[0].split()).rstrip(".")


@cache
def column_docs(record: type) -> dict[str, str]:
    """The comment after each field of a record dataclass (what the column means); '' when none."""
    docs = {f.name: "" for f in fields(record)}
    for line in inspect.getsource(record).splitlines():
        match = _FIELD.match(line)
        if match and match["name"] in docs and match["doc"]:
            docs[match["name"]] = match["doc"].strip()
    return docs


def described() -> dict[str, str]:
    """Every table and view a reader sees, with what a row of it is."""
    return {**{name: row_of(t) for name, t in TABLES.items()}, **VIEWS}


def meaning(view: str, column: str) -> str:
    """What a column of a view means: its table's field comment, or the comment of the table that
    defines a column of that name (an actor_events.event_date is an events.event_date)."""
    if view in ("event_clusters", "event_cluster_revisions", "actor_clusters") and column in CLUSTER_COLUMNS:
        return CLUSTER_COLUMNS[column]
    if view in TABLES:
        doc = column_docs(TABLES[view].record).get(column, "")
        if doc:
            return doc
    for table in TABLES.values():
        doc = column_docs(table.record).get(column, "")
        if doc:
            return f"{doc} ({table.name}.{column})" if view != table.name else doc
    return CLUSTER_COLUMNS.get(column, "") if view == "event_cluster_members" or column == "cluster_id" else ""


def columns(con: Any, view: str) -> list[tuple[str, str, str]]:
    """(column, DuckDB type, meaning) for each column of a view."""
    rows = con.execute(f'describe "{view}"').fetchall()
    return [(name, type_, meaning(view, name)) for name, type_, *_ in rows]


@contextmanager
def empty_connection() -> Iterator[Any]:
    """A connection whose views read an empty corpus: for describing columns without a data dir."""
    from dateline.flows import store

    with tempfile.TemporaryDirectory(prefix="dateline-schema-") as tmp:
        con = store.connect(Path(tmp) / "processed", Path(tmp) / "raw")
        try:
            yield con
        finally:
            con.close()


def help_text() -> str:
    """The views, one line each, for `dateline sql --help`."""
    entries = described()
    width = max(map(len, entries))
    return "\n".join(f"  {name.ljust(width)}  {row}" for name, row in entries.items())
