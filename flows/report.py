"""`dateline report`: the saved queries' rows for one actor or the whole corpus, as one self-contained HTML file.

The questions are the saved queries in sql/ (the ones `dateline query` and `dateline timeline` run);
this module runs them, hands the rows to transforms/report.py for charts and the page, and writes the
file atomically. The Vega JavaScript comes from vl-convert-python, which bundles it: no network is
needed to make a report, nor to open one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from dateline.flows import store
from dateline.flows.config import DatelineError
from dateline.transforms import report as pages
from dateline.transforms.report import Link, Section, Table

CO_ACTORS = 15  # co-occurring actors shown
INTERVALS = ("day", "week")
# the actor(s) a name or alias stands for, by the same match as the saved actor queries (actor_named)
_ACTOR_NAMES = ("select name, kind, article_count, mention_count from actors "
                "where actor_id in (select actor_id from actor_named($actor)) "
                "order by article_count desc, mention_count desc, name")


class ReportError(DatelineError):
    """A report cannot be made: an unknown actor, a query that fails, a file that cannot be written."""


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of a query as dicts; a DuckDB error becomes a ReportError (one line)."""
    try:
        cursor = con.execute(sql, params) if params else con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise ReportError(str(exc).strip().splitlines()[0]) from None


def saved(con: duckdb.DuckDBPyConnection, name: str, **params: str) -> list[dict[str, Any]]:
    """The rows of saved query sql/NAME.sql with its $parameters bound."""
    return rows(con, store.read_query(name), params)


def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script, in the Vega-Lite version Altair writes specs for."""
    import altair
    import vl_convert

    major, minor = altair.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    known = vl_convert.get_vegalite_versions()  # e.g. ['5.21', '6.1', '6.4']
    # a later minor version reads the specs of an earlier one: take it when this exact one is not bundled
    version = f"{major}.{minor}" if f"{major}.{minor}" in known else max(
        (v for v in known if v.split(".")[0] == major), key=lambda v: int(v.split(".")[1]), default=known[-1])
    # snippet is optional (the binding's signature is snippet=None); the package's stub says otherwise
    bundle: str = vl_convert.javascript_bundle(vl_version="v" + version.replace(".", "_"))  # type: ignore[call-arg]
    return bundle


def _made_at(now: datetime | None) -> str:
    return f"{(now or datetime.now(UTC)):%Y-%m-%d %H:%M} UTC"


def _within(day: date | None, since: str, until: str) -> bool:
    """A day between the --since and --until bounds ('' for none), both inclusive."""
    if day is None:
        return not (since or until)
    text = day.isoformat()
    return (not since or text >= since) and (not until or text <= until)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def actor_report(con: duckdb.DuckDBPyConnection, actor: str, *, since: str = "", until: str = "",
                 interval: str = "day", now: datetime | None = None) -> str:
    """The HTML report on one actor: events on a time axis, mention volume, co-occurring actors, quotes.

    --since/--until bound the events by their own date, the volume by period and the quotes by
    publication day; the co-occurring actors are counted over the whole corpus.
    """
    if interval not in INTERVALS:
        raise ReportError(f"interval must be one of {', '.join(INTERVALS)}")
    names = rows(con, _ACTOR_NAMES, {"actor": actor})
    if not names:
        raise ReportError(f"no actor named '{actor}' (try: dateline actors)")
    events = saved(con, "actor_timeline", actor=actor, since=since, until=until, about="")
    volume = [r for r in saved(con, "mention_volume", actor=actor, interval=interval)
              if _within(r["period"], since, until)]
    co_actors = saved(con, "co_actors", actor=actor, limit=str(CO_ACTORS))
    quotes = [q for q in saved(con, "quotes_by_speaker", actor=actor)
              if _within(q["published_at"].date() if q["published_at"] else None, since, until)]

    sections = [
        _timeline_section(events),
        _volume_section(volume, interval),
        _co_actor_section(co_actors),
        _quote_section(quotes),
    ]
    main = names[0]
    also = f"; the name also stands for {', '.join(n['name'] for n in names[1:])}" if len(names) > 1 else ""
    bounds = " and ".join(b for b in (f"from {since}" if since else "", f"until {until}" if until else "") if b)
    subtitle = [
        f"{main['kind']}, named in {_plural(main['article_count'], 'article')} "
        f"({_plural(main['mention_count'], 'mention')}){also}.",
        f"Events {bounds or 'of any date'}; made by dateline report on {_made_at(now)}.",
    ]
    return pages.render_page(f"{main['name']}: timeline", subtitle, sections, javascript_bundle())


def _timeline_section(events: Sequence[dict[str, Any]]) -> Section:
    chart_rows = pages.timeline_rows(events)
    undated = len(events) - len(chart_rows)
    table = Table(("date", "precision", "basis", "verb", "sentence", "reports", "sites", "article"), [
        (pages.event_span(e["event_date"], e["date_precision"]).label if e["event_date"] else "undated",
         e["date_precision"], e["date_basis"], e["trigger"], e["sentence"], e["reports"], e["sites"],
         Link(e["site"] or e["url"], e["url"]))
        for e in events])
    note = ("A day is a point, a month or a year a bar over its days; the more reports told an event, the "
            "larger its mark. Hover a mark for its sentence, click it to open the article "
            "(sql/actor_timeline.sql: each event once, however many articles and sites reported it).")
    extra = [f"{_plural(undated, 'event')} without a date of {'its' if undated == 1 else 'their'} own "
             "only in the table."] if undated else []
    return Section("timeline", f"Events ({len(events)})", note,
                   chart=pages.timeline_chart(chart_rows) if chart_rows else None,
                   table=table if events else None, empty="No events for this actor in these dates.", extra=extra)


def _volume_section(volume: Sequence[dict[str, Any]], interval: str) -> Section:
    return Section("volume", f"Mentions per {interval}",
                   f"Mentions in articles published each {interval}; a {interval} in which other actors were "
                   "mentioned but not this one stands at zero. The tooltip gives the share of all mentions "
                   "(sql/mention_volume.sql).",
                   chart=pages.volume_chart(pages.volume_rows(volume, interval), interval) if volume else None,
                   empty="No mentions in these dates.")


def _co_actor_section(co_actors: Sequence[dict[str, Any]]) -> Section:
    return Section("co-actors", "Named in the same sentences",
                   f"The {CO_ACTORS} actors most often named in a sentence with this one, over the whole corpus "
                   "(sql/co_actors.sql).",
                   chart=pages.co_actor_chart(co_actors) if co_actors else None,
                   empty="No other actor shares a sentence with this one.")


def _quote_section(quotes: Sequence[dict[str, Any]]) -> Section:
    table = Table(("published", "quote", "verb", "speaker as written", "article"), [
        (f"{q['published_at']:%Y-%m-%d %H:%M}" if q["published_at"] else None, q["quote"], q["verb"],
         q["speaker_text"], Link(q["url"], q["url"])) for q in quotes])
    return Section("quotes", f"Quotes ({len(quotes)})", "What the actor said, in double quotes "
                   "(sql/quotes_by_speaker.sql).", table=table if quotes else None,
                   empty="No quotes attributed to this actor.")


def corpus_report(con: duckdb.DuckDBPyConnection, *, now: datetime | None = None) -> str:
    """The HTML report on the whole corpus: articles per site and day, quarantine, languages, image credits."""
    per_day = saved(con, "articles_per_site_day")
    languages = saved(con, "languages")
    quarantine = saved(con, "quarantine_reasons")
    agencies = saved(con, "credit_agencies")
    photographers = saved(con, "credit_photographers")

    articles = sum(r["articles"] for r in languages)
    dated = sum(r["articles"] for r in per_day)
    days = sorted({r["day"] for r in per_day})
    span = f", published {days[0]} to {days[-1]}" if days else ""
    sites = len({r["site"] for r in per_day})
    sections = [
        Section("sites", "Articles per site and day",
                f"Each circle is a site's articles on one publication day (UTC; sql/articles_per_site_day.sql); "
                f"the {pages.TOP} busiest sites have a line each.",
                chart=pages.site_day_chart(per_day) if per_day else None, empty="No dated articles yet.",
                extra=[f"{_plural(articles - dated, 'article')} without a publication date "
                       "not shown."] if articles > dated else []),
        Section("quarantine", "Quarantined pages by reason",
                "Pages rejected at each stage, with an example (sql/quarantine_reasons.sql).",
                chart=pages.quarantine_chart(quarantine) if quarantine else None,
                table=Table(("stage", "reason", "pages", "example", "detail"), [
                    (r["stage"], r["reason"], r["pages"], Link(r["example_url"], r["example_url"]),
                     r["example_detail"]) for r in quarantine]) if quarantine else None,
                empty="No page was quarantined."),
        Section("languages", "Languages",
                "Articles per language, declared by the page or detected from its text (sql/languages.sql).",
                chart=pages.language_chart(languages) if languages else None,
                table=Table(("language", "articles", "words", "detected"), [
                    (r["language"], r["articles"], r["words"], r["detected"]) for r in languages])
                if languages else None,
                empty="No articles yet."),
        Section("agencies", "Agencies named by image credits",
                "News and photo agencies in the images' credits (sql/credit_agencies.sql).",
                chart=pages.agency_chart(agencies) if agencies else None,
                empty="No image credit names an agency."),
        Section("photographers", "Photographers named by image credits",
                "Photographers in the images' credits, with the agencies credited beside them "
                "(sql/credit_photographers.sql).",
                chart=pages.photographer_chart(photographers) if photographers else None,
                empty="No image credit names a photographer."),
    ]
    subtitle = [f"{_plural(articles, 'article')} from {_plural(sites, 'site')}{span}.",
                f"Made by dateline report on {_made_at(now)}."]
    return pages.render_page("Dateline corpus", subtitle, sections, javascript_bundle())


def write_report(path: Path, page: str) -> Path:
    """Write the page atomically: a reader (a browser reloading it) never sees half a report."""
    if not path.parent.is_dir():
        raise ReportError(f"no such folder: {path.parent}")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path
