"""Charts and the page of `dateline report`: query rows in, Vega-Lite specs and one self-contained HTML page out.

Pure: no database, no files, no clock. flows/report.py runs the saved queries, gets the Vega JavaScript
bundle and writes the file; everything a reader sees is decided here, so it can be tested on plain rows.

The charts are Vega-Lite specs built with Altair, with their data inline. The page carries the Vega,
Vega-Lite and vega-embed JavaScript itself and a Content-Security-Policy that allows no network
requests, so a report opens offline, mailed or archived, exactly as it was made.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import altair as alt

__all__ = [
    "Link", "Section", "Span", "Table", "agency_chart", "bar_chart", "co_actor_chart", "event_span",
    "language_chart", "photographer_chart", "quarantine_chart", "render_page", "site_day_chart",
    "timeline_chart", "timeline_rows", "volume_chart", "volume_rows",
]

Row = Mapping[str, Any]
Spec = dict[str, Any]

PRECISIONS = ("day", "month", "year")
PRECISION_COLORS = ("#1f6fb4", "#e8772e", "#2f9e44")  # a day, a month, a year
WIDTH = 720  # pixels of plot area; the y labels come on top of it
TIMELINE_WIDTH = 640  # the timeline's labels are wider
DAY_MS = 86_400_000  # time axes never tick more often than daily: hours mean nothing here
KINDS = ("person", "organization", "place", "group")  # actor kinds, one colour each in every report
LABEL_CHARS = 90  # characters of a sentence in a timeline row's label
TOP = 25  # categories shown in a bar chart (sites, agencies, photographers)
UTC_SCALE = alt.Scale(type="utc", nice=False, padding=16)
# no request may leave the page: scripts and styles are inline, images only data: URLs (vega-embed's own icons)
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data:")


# --- dates at their precision -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Span:
    """The days a date stands for: a day is itself, '2022-12' is December 1-31, '1942' the whole year."""

    start: date
    end: date  # the last day, inclusive
    label: str  # as precise as the text: '2022-12-19', '2022-12', '1942'


def event_span(on: date, precision: str | None) -> Span:
    """The span of an event date stored as its first day with a precision (sql/actor_timeline.sql)."""
    if precision == "year":
        return Span(date(on.year, 1, 1), date(on.year, 12, 31), f"{on.year:04d}")
    if precision == "month":
        first = date(on.year, on.month, 1)
        following = date(on.year + on.month // 12, on.month % 12 + 1, 1)
        return Span(first, following - timedelta(days=1), f"{on.year:04d}-{on.month:02d}")
    return Span(on, on, on.isoformat())


def _instant(day: date) -> str:
    """A day as an unambiguous UTC instant for Vega (a bare '2022-12-01' would depend on the parser)."""
    return f"{day.isoformat()}T00:00:00Z"


def _href(url: Any) -> str | None:
    """Only web URLs become links: a page's own canonical URL could say javascript:."""
    return url if isinstance(url, str) and re.match(r"https?://", url, re.IGNORECASE) else None


def _time_axis(title: str, starts: Sequence[str], ends: Sequence[str]) -> alt.X:
    """A UTC time axis whose title gives the first and last day, so the year is never in doubt."""
    first, last = min(starts)[:10], (datetime.fromisoformat(max(ends)) - timedelta(days=1)).date().isoformat()
    span = first if first >= last else f"{first} to {last}"
    days = (date.fromisoformat(last) - date.fromisoformat(first)).days
    # a short span ticks once a day (Vega would tick at noon); a long one as Vega sees fit, at least a day apart
    ticks: Any = alt.TimeIntervalStep(interval="day", step=1) if days <= 14 else alt.Undefined
    return alt.X("start:T", scale=UTC_SCALE, title=f"{title} ({span})",
                 axis=alt.Axis(grid=True, labelOverlap=True, labelFlush=False, tickMinStep=DAY_MS, tickCount=ticks))


def _count_axis(title: str) -> alt.Axis:
    """Counts tick at whole numbers."""
    return alt.Axis(title=title, format="d", tickMinStep=1)


def _data(rows: Sequence[Row]) -> alt.InlineData:
    """Rows inline in the spec: the report carries its data."""
    return alt.InlineData(values=[dict(r) for r in rows])


def _spec(chart: alt.TopLevelMixin) -> Spec:
    spec: Spec = chart.to_dict()
    return spec


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the actor report ---------------------------------------------------------------------------------------

def timeline_rows(events: Sequence[Row]) -> list[dict[str, Any]]:
    """sql/actor_timeline.sql rows with a date -> one chart row each, in the query's order.

    ``row`` is the y-axis label (date, verb, the sentence's start), made unique so two events told
    alike keep two rows; ``start``/``end`` bound the mark (``end`` exclusive: a month's bar covers
    its last day).
    """
    rows: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    for event in events:
        if event["event_date"] is None:
            continue
        span = event_span(event["event_date"], event["date_precision"])
        label = f"{span.label} · {event['trigger']} · {_shorten(event['sentence'], LABEL_CHARS)}"
        seen[label] += 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        rows.append({
            "row": label, "start": _instant(span.start), "end": _instant(span.end + timedelta(days=1)),
            "date": span.label, "precision": event["date_precision"] or "day", "basis": event["date_basis"],
            "trigger": event["trigger"], "sentence": event["sentence"], "site": event["site"],
            "title": event["title"], "url": event["url"], "href": _href(event["url"]),
            "reports": event.get("reports") or 1, "sites": event.get("sites") or 1,
        })
    return rows


def timeline_chart(rows: Sequence[Row]) -> Spec:
    """Events on a time axis, one row each: a day as a point, a month or a year as a bar over its days;
    the more reports told the event, the larger its point and the thicker its bar.

    Hovering shows the sentence, the reports and sites and the article's URL; clicking a mark opens it.
    """
    order = [r["row"] for r in rows]
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=420, labelFontSize=11))
    color = alt.Color("precision:N", title="date precision",
                      scale=alt.Scale(domain=list(PRECISIONS), range=list(PRECISION_COLORS)),
                      legend=alt.Legend(orient="top", direction="horizontal"))
    tooltip = [alt.Tooltip("date:N"), alt.Tooltip("precision:N"), alt.Tooltip("basis:N"), alt.Tooltip("trigger:N"),
               alt.Tooltip("sentence:N"), alt.Tooltip("reports:Q"), alt.Tooltip("sites:Q"), alt.Tooltip("site:N"),
               alt.Tooltip("url:N")]
    most = max((r["reports"] for r in rows), default=1)
    size = alt.Size("reports:Q", title="reports", scale=alt.Scale(domain=[1, max(most, 2)], range=[90, 480]),
                    legend=alt.Legend(orient="top", direction="horizontal") if most > 1 else None)
    thickness = alt.Size("reports:Q", scale=alt.Scale(domain=[1, max(most, 2)], range=[10, 20]), legend=None)
    x = _time_axis("event date", [r["start"] for r in rows], [r["end"] for r in rows])
    base = alt.Chart(_data(rows))
    spans = (base.transform_filter("datum.precision != 'day'")
             .mark_bar(cornerRadius=3, cursor="pointer")
             .encode(x=x, x2="end:T", y=y, color=color, size=thickness, tooltip=tooltip, href="href:N"))
    days = (base.transform_filter("datum.precision == 'day'")
            .mark_point(filled=True, opacity=1, cursor="pointer")
            .encode(x=x, y=y, color=color, size=size, tooltip=tooltip, href="href:N"))
    return _spec(alt.layer(spans, days).resolve_scale(size="independent")  # a bar's thickness, a point's area
                 .properties(width=TIMELINE_WIDTH, height=alt.Step(26)))


def volume_rows(volume: Sequence[Row], interval: str) -> list[dict[str, Any]]:
    """sql/mention_volume.sql rows -> bars spanning their day or week (``end`` exclusive)."""
    days = {"day": 1, "week": 7}[interval]
    return [{"period": r["period"].isoformat(), "start": _instant(r["period"]),
             "end": _instant(r["period"] + timedelta(days=days)), "mentions": r["mentions"],
             "articles": r["articles"], "stories": r["stories"], "share": r["share"]} for r in volume]


def volume_chart(rows: Sequence[Row], interval: str) -> Spec:
    """Mentions of the actor per day or week as stems with a dot, visible however long the corpus's span.

    Periods in which others were mentioned but not this actor stand at zero (sql/mention_volume.sql);
    the tooltip adds articles, stories and the share of all mentions.
    """
    tooltip = [alt.Tooltip("period:N", title=f"{interval} from"), alt.Tooltip("mentions:Q"),
               alt.Tooltip("articles:Q"), alt.Tooltip("stories:Q"), alt.Tooltip("share:Q", format=".1%")]
    x = _time_axis(f"publication {interval}", [r["start"] for r in rows], [r["end"] for r in rows])
    y = alt.Y("mentions:Q", axis=_count_axis("mentions"))
    base = alt.Chart(_data(rows)).encode(x=x, y=y, tooltip=tooltip)
    stems = base.mark_rule(color="#1f6fb4", strokeWidth=2).encode(y2=alt.datum(0))
    dots = base.mark_point(color="#1f6fb4", filled=True, size=40, opacity=1)
    return _spec(alt.layer(stems, dots).properties(width=WIDTH, height=180))


def bar_chart(rows: Sequence[Row], category: str, value: str, *, color: str | None = None,
              tooltip: Sequence[str] = (), title: str | None = None, domain: Sequence[str] = ()) -> Spec:
    """Horizontal bars, longest first: the shape of every "which X, how many" question here."""
    fields = [category, value, *(c for c in tooltip if c not in (category, value))]
    encoding: dict[str, Any] = {
        "y": alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        "x": alt.X(f"{value}:Q", axis=_count_axis(title or value)),
        "tooltip": [alt.Tooltip(f"{f}:{'Q' if f == value else 'N'}") for f in fields],
    }
    if color is not None:
        encoding["color"] = alt.Color(f"{color}:N", legend=alt.Legend(orient="top", direction="horizontal"),
                                      scale=alt.Scale(domain=list(domain)) if domain else alt.Undefined)
    chart = alt.Chart(_data(rows)).mark_bar(color="#1f6fb4").encode(**encoding)
    return _spec(chart.properties(width=WIDTH - 200, height=alt.Step(20)))


def co_actor_chart(rows: Sequence[Row]) -> Spec:
    """sql/co_actors.sql: the actors named in the same sentences, by how many sentences."""
    return bar_chart(rows, "name", "shared_sentences", color="kind", tooltip=("kind", "shared_articles"),
                     title="sentences shared with the actor", domain=KINDS)


# --- the corpus report --------------------------------------------------------------------------------------

def site_day_chart(rows: Sequence[Row], top: int = TOP) -> Spec:
    """sql/articles_per_site_day.sql as circles on a time axis, one line per site (the busiest first).

    Sites past the ``top`` busiest share one line, so the chart stays readable for any corpus.
    """
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["site"]] += r["articles"]
    ranked = [site for site, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown = set(ranked[:top])
    other = f"({len(ranked) - top} other sites)" if len(ranked) > top else ""
    merged: Counter[tuple[str, date]] = Counter()
    for r in rows:
        merged[(r["site"] if r["site"] in shown else other, r["day"])] += r["articles"]
    data: list[dict[str, Any]] = [{"site": site, "day": day.isoformat(), "start": _instant(day), "articles": n}
            for (site, day), n in sorted(merged.items())]
    order = ranked[:top] + ([other] if other else [])
    return _spec(alt.Chart(_data(data))
            .mark_circle(color="#1f6fb4", opacity=0.75)
            .encode(x=_time_axis("publication day", [d["start"] for d in data],
                                 [_instant(date.fromisoformat(d["day"]) + timedelta(days=1)) for d in data]),
                    y=alt.Y("site:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
                    size=alt.Size("articles:Q", legend=alt.Legend(orient="top", direction="horizontal", format="d",
                                                                  tickMinStep=1)),
                    tooltip=[alt.Tooltip("site:N"), alt.Tooltip("day:N"), alt.Tooltip("articles:Q")])
            .properties(width=WIDTH - 120, height=alt.Step(18)))


def quarantine_chart(rows: Sequence[Row]) -> Spec:
    """sql/quarantine_reasons.sql: rejected pages by reason, coloured by the stage that rejected them."""
    data = [{"reason": r["reason"], "stage": r["stage"], "pages": r["pages"]} for r in rows]
    return bar_chart(data, "reason", "pages", color="stage", title="pages")


def language_chart(rows: Sequence[Row]) -> Spec:
    """sql/languages.sql: articles per language."""
    data = [{"language": r["language"] or "(unknown)", "articles": r["articles"], "words": r["words"]}
            for r in rows]
    return bar_chart(data, "language", "articles", tooltip=("words",))


def agency_chart(rows: Sequence[Row], top: int = TOP) -> Spec:
    """sql/credit_agencies.sql: the agencies image credits name, in how many images."""
    return bar_chart(rows[:top], "agency", "images", tooltip=("articles", "example_credit"))


def photographer_chart(rows: Sequence[Row], top: int = TOP) -> Spec:
    """sql/credit_photographers.sql: the photographers image credits name, in how many images."""
    data = [{**r, "agencies": ", ".join(r["agencies"])} for r in rows[:top]]
    return bar_chart(data, "photographer", "images", tooltip=("articles", "agencies", "example_credit"))


# --- the page -----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Link:
    """A table cell that links to a web page."""

    text: str
    url: str


Cell = str | int | float | date | Link | None


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a report: a heading, a line of explanation, a chart and/or a table, or why it is empty."""

    key: str  # the chart's element id: letters, digits and dashes
    title: str
    note: str = ""
    chart: Spec | None = None
    table: Table | None = None
    empty: str = ""  # shown instead of chart and table when both are missing
    extra: Sequence[str] = field(default_factory=tuple)  # more lines under the note


def _cell(value: Cell) -> str:
    if isinstance(value, Link):
        href = _href(value.url)
        text = html.escape(value.text)
        return f'<a href="{html.escape(href)}" rel="noreferrer" target="_blank">{text}</a>' if href else text
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return html.escape(str(value))


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>\n" for row in table.rows)
    return f'<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>'


def _section(section: Section) -> str:
    parts = [f'<section id="section-{section.key}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts += [f'<p class="note">{html.escape(line)}</p>' for line in (section.note, *section.extra) if line]
    if section.chart is None and section.table is None:
        parts.append(f'<p class="empty">{html.escape(section.empty or "Nothing to show.")}</p>')
    if section.chart is not None:
        parts.append(f'<div class="chart" id="chart-{section.key}"></div>')
    if section.table is not None:
        parts.append(_table(section.table))
    parts.append("</section>")
    return "\n".join(parts)


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: no '<' can close the element or open a comment."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).replace("<", "\\u003c")


# vega-embed renders every chart as SVG (inspectable, crisp in screenshots); data-rendered tells a
# reader or a test when all are drawn, or that one failed
_EMBED = """
const specs = JSON.parse(document.getElementById("dateline-specs").textContent);
const options = {renderer: "svg", actions: false, loader: {target: "_blank"}};
Promise.all(Object.entries(specs).map(([key, spec]) => vegaEmbed("#chart-" + key, spec, options)))
  .then((results) => { document.body.dataset.rendered = String(results.length); })
  .catch((error) => { document.body.dataset.rendered = "error"; console.error(error); });
"""

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; margin: 0;
       background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; border-bottom: 1px solid #dde2e6; padding-bottom: 4px; }
.subtitle, .note { color: #56606b; margin: 2px 0; }
.empty { color: #8a939c; font-style: italic; }
.chart { margin: 12px 0; }
table { border-collapse: collapse; margin: 12px 0; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #edf0f2; }
th { background: #f5f7f8; font-weight: 600; }
td a { color: #1f6fb4; }
td:first-child, td a { white-space: nowrap; }
#vg-tooltip-element td.value { white-space: normal; max-width: 520px; }
"""


def render_page(title: str, subtitle: Sequence[str], sections: Sequence[Section], javascript: str) -> str:
    """The whole report: one HTML document holding its data, its charts' specs and the JavaScript that draws them.

    ``javascript`` is the Vega/Vega-Lite/vega-embed bundle (vl_convert.javascript_bundle()), which
    defines ``vegaEmbed`` on the window.
    """
    if re.search(r"</script", javascript, re.IGNORECASE):  # would end the element early
        javascript = re.sub(r"</(script)", r"<\\/\1", javascript, flags=re.IGNORECASE)
    specs = {s.key: s.chart for s in sections if s.chart is not None}
    body = "\n".join(_section(s) for s in sections)
    lines = "\n".join(f'<p class="subtitle">{html.escape(line)}</p>' for line in subtitle if line)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dateline report">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>
{javascript}
</script>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
{lines}
{body}
</main>
<script type="application/json" id="dateline-specs">{_script_json(specs)}</script>
<script>{_EMBED}</script>
</body>
</html>
"""
