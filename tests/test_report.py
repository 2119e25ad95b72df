"""`dateline report`: HTML reports made from a real pipeline run over the seed page, opened in headless Chromium.

The browser is Debian's chromium (`make test` installs it when missing), driven over the DevTools protocol with the
`websockets` client Prefect already brings: the page is loaded from file:// with the network
emulated offline, every request it makes is recorded (only file: and data: may appear), and
console errors, warnings and uncaught exceptions fail the test. The charts are checked in the
rendered SVG: each mark the data calls for is there, placed on the time axis in date order.

To refresh the README's screenshot: DATELINE_REPORT_SCREENSHOT=docs/report-putin.png
.venv/bin/pytest tests/test_report.py -k screenshot
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from dateline.flows import store
from dateline.flows.cli import cli
from dateline.transforms import report as pages
from dateline.transforms.report import Link, Section, Table
from dateline.transforms.schema import ARTICLES, IMAGES, ArticleRecord, ImageRecord

SEED = Path(__file__).parent / "fixtures" / "http" / "articles" / "seed.html"
SCREENSHOT_ENV = "DATELINE_REPORT_SCREENSHOT"
RENDER_TIMEOUT = 60.0  # seconds for a report to load and draw (the page parses ~900 KB of JavaScript)


# --- a headless Chromium over the DevTools protocol ---------------------------------------------------------

@dataclass
class Page:
    """What a page did while it loaded: its requests, console messages and errors."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # console errors and warnings, exceptions, log errors


class Browser:
    """One headless Chromium; one tab at a time, driven with DevTools protocol commands over a websocket."""

    def __init__(self, profile: Path) -> None:
        from websockets.sync.client import connect

        exe = shutil.which("chromium")
        if exe is None:
            pytest.fail("chromium is not installed: `apt-get install chromium` (`make test` installs it when it can)")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
             "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail(f"chromium did not open its DevTools port (exit code {self.proc.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        """A command's result; events that arrive meanwhile are kept for :meth:`drain`."""
        msg_id = next(self.ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def drain(self) -> list[dict[str, Any]]:
        """Events received so far, also those still in flight."""
        while True:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=0.05)))
            except TimeoutError:
                break
        events, self.events = self.events, []
        return events

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression[:60]}...: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = RENDER_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)
        return value

    def open(self, path: Path, width: int = 1280, height: int = 900) -> Page:
        """Load a file in a fresh offline tab; wait until its charts are drawn (or one failed)."""
        if self.session:
            self.send("Target.closeTarget", {"targetId": self.target})
        self.target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Network.emulateNetworkConditions",
                  {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.drain()
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("document.readyState === 'complete' && document.body.dataset.rendered !== undefined")
        time.sleep(0.2)  # late console messages
        return self.page()

    def page(self) -> Page:
        """The requests and problems since the last call."""
        seen = Page()
        for event in self.drain():
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                seen.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                seen.problems.append(f"console.{params['type']}: "
                                     + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                seen.problems.append(f"exception: {params['exceptionDetails'].get('exception', {}).get('description')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                seen.problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        return seen

    def hover(self, x: float, y: float) -> None:
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})

    def screenshot(self, path: Path, *, down_to: str | None = None) -> Path:
        """A PNG of the page from the top, down to the bottom of element ``down_to`` (or the whole page)."""
        bottom = self.evaluate(f"document.querySelector({json.dumps(down_to)}).getBoundingClientRect().bottom + 16"
                               if down_to else "document.documentElement.scrollHeight")
        width = self.evaluate("document.documentElement.scrollWidth")
        shot = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": bottom, "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            with contextlib.suppress(Exception):  # closing anyway
                self.send("Browser.close", timeout=5)
            self.ws.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


# --- a real run over the seed page, and its reports ----------------------------------------------------------

def invoke(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)


def rows_of(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    """What `dateline timeline/query ... --format json` prints: the rows a report is made of."""
    result = invoke(data_dir, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def seed_data(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dateline run --html-dir` over the seed page and an empty page (quarantined: the corpus report shows it)."""
    tmp = tmp_path_factory.mktemp("report")
    saved = tmp / "saved"
    saved.mkdir()
    shutil.copy(SEED, saved / "seed.html")
    (saved / "empty.html").write_text("")
    result = invoke(tmp / "data", "run", "--html-dir", str(saved), "--workers", "1")
    assert result.exit_code == 0, result.stderr
    return tmp / "data"


@pytest.fixture(scope="module")
def putin_report(seed_data: Path) -> Path:
    out = seed_data.parent / "putin.html"
    result = invoke(seed_data, "report", "putin", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr.startswith(f"wrote {out} (")
    return out


@pytest.fixture(scope="module")
def corpus_report(seed_data: Path) -> Path:
    out = seed_data.parent / "corpus.html"
    result = invoke(seed_data, "report", "--corpus", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def putin_load(browser: Browser, putin_report: Path) -> Page:
    """The Putin report's first load: its requests and console problems."""
    return browser.open(putin_report)


@pytest.fixture
def putin_page(browser: Browser, putin_report: Path, putin_load: Page) -> Page:
    """The Putin report, on screen in the browser (again, if another test opened another page)."""
    if browser.evaluate("location.href") != putin_report.resolve().as_uri():
        browser.open(putin_report)
    return putin_load


def specs_of(report: Path) -> dict[str, Any]:
    """The Vega-Lite specs a report embeds, by section."""
    found = re.search(r'<script type="application/json" id="dateline-specs">(.*?)</script>', report.read_text(),
                      re.DOTALL)
    assert found, "no specs in the report"
    specs: dict[str, Any] = json.loads(found[1])
    return specs


def chart_data(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline rows of a spec: its data's values (or Altair's named "datasets", should it use them)."""
    rows: list[dict[str, Any]] = list(spec.get("data", {}).get("values", []))
    return rows + [row for values in spec.get("datasets", {}).values() for row in values]


MARKS = """(() => {
  const out = {};
  for (const chart of document.querySelectorAll(".chart")) {
    const svg = chart.querySelector("svg");
    const items = (kind) => Array.from(svg ? svg.querySelectorAll(`g.mark-${kind}.role-mark > path`) : []);
    const place = (el) => { const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; };
    out[chart.id] = svg === null ? null : {symbols: items("symbol").map(place), rects: items("rect").map(place)};
  }
  return out;
})()"""


def marks(browser: Browser) -> dict[str, Any]:
    found: dict[str, Any] = browser.evaluate(MARKS)
    return found


# --- the actor report in the browser -------------------------------------------------------------------------

def test_actor_report_loads_offline_with_no_request_and_no_console_error(putin_page, putin_report):
    assert [u for u in putin_page.requests if not u.startswith(("file:", "data:"))] == []
    assert putin_page.problems == []
    assert putin_report.resolve().as_uri() in putin_page.requests


def test_putin_timeline_draws_days_as_points_and_months_as_bars_in_date_order(browser, putin_page, putin_report,
                                                                              seed_data):
    events = rows_of(seed_data, "timeline", "putin")
    dated = [e for e in events if e["event_date"]]
    days = [e for e in dated if e["date_precision"] == "day"]
    assert browser.evaluate("document.body.dataset.rendered") == str(len(specs_of(putin_report))) == "3"
    drawn = marks(browser)["chart-timeline"]
    assert len(drawn["symbols"]) == len(days) > 0
    assert len(drawn["rects"]) == len(dated) - len(days) > 0  # the seed says "last month": December 2022
    # rows go down in date order, so the points must go right (or stay) as they go down
    xs = [x for x, _ in sorted(drawn["symbols"], key=lambda p: p[1])]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    # the month's bar is wider than a day: it covers December 1-31
    widths = browser.evaluate("Array.from(document.querySelectorAll('#chart-timeline g.mark-rect.role-mark > path'))"
                              ".map((p) => p.getBoundingClientRect().width)")
    assert min(widths) > 20


def test_timeline_tooltip_shows_the_events_sentence_and_article_url(browser, putin_page, seed_data):
    events = rows_of(seed_data, "timeline", "putin")
    x, y = marks(browser)["chart-timeline"]["symbols"][0]
    browser.hover(x, y)
    text = browser.wait_for("(() => { const t = document.getElementById('vg-tooltip-element');"
                            " return t && t.classList.contains('visible') && t.innerText; })()", timeout=10)
    shown = " ".join(text.split())  # "... trigger cast sentence After ordering ..."
    # a sentence can tell two events (its main verb's and a dated clause's): the trigger tells them apart
    told = [e for e in events if e["sentence"] in shown and f"trigger {e['trigger']} " in shown]
    assert len(told) == 1, text
    assert told[0]["url"] in text and told[0]["trigger"] in text


def test_timeline_table_lists_every_event_with_a_link_to_its_article(browser, putin_page, seed_data):
    events = rows_of(seed_data, "timeline", "putin")
    table = browser.evaluate("Array.from(document.querySelectorAll('#section-timeline tbody tr')).map((tr) => "
                             "[tr.cells[0].innerText, tr.cells[4].innerText, tr.querySelector('a').href])")
    expected_dates = [pages.event_span(date.fromisoformat(e["event_date"]), e["date_precision"]).label
                      if e["event_date"] else "undated" for e in events]
    assert table == [[d, e["sentence"], e["url"]] for d, e in zip(expected_dates, events, strict=True)]
    assert "2022-12" in expected_dates  # the month shows as a month


def test_actor_report_draws_mention_volume_and_co_actors_and_lists_quotes(browser, putin_page, seed_data):
    volume = rows_of(seed_data, "query", "mention_volume", "-p", "actor", "putin", "-p", "interval", "day")
    co_actors = rows_of(seed_data, "query", "co_actors", "-p", "actor", "putin", "-p", "limit", "15")
    quotes = rows_of(seed_data, "query", "quotes_by_speaker", "-p", "actor", "putin")
    drawn = marks(browser)
    assert len(drawn["chart-volume"]["symbols"]) == len(volume) > 0  # a dot on a stem per day
    assert len(drawn["chart-co-actors"]["rects"]) == len(co_actors) > 0
    names = browser.evaluate("Array.from(document.querySelectorAll('#chart-co-actors g.role-axis-label text'))"
                             ".map((t) => t.textContent)")
    assert [a["name"] for a in co_actors] == [n for n in names if n in {a["name"] for a in co_actors}]
    quoted = browser.evaluate("Array.from(document.querySelectorAll('#section-quotes tbody tr'))"
                              ".map((tr) => tr.cells[1].innerText)")
    assert quoted == [q["quote"] for q in quotes]


def test_screenshot_of_the_putin_timeline(browser, putin_page, putin_report, tmp_path):
    shot = browser.screenshot(tmp_path / "report-putin.png", down_to="#chart-timeline")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and height > 300
    if target := os.environ.get(SCREENSHOT_ENV):
        shutil.copy(shot, target)


# --- the corpus report in the browser ------------------------------------------------------------------------

def test_corpus_report_draws_every_chart_offline_without_console_errors(browser, corpus_report, seed_data):
    seen = browser.open(corpus_report)
    assert [u for u in seen.requests if not u.startswith(("file:", "data:"))] == []
    assert seen.problems == []
    drawn = marks(browser)
    per_day = rows_of(seed_data, "query", "articles_per_site_day")
    assert len(drawn["chart-sites"]["symbols"]) == len(per_day) > 0
    for key, query in (("quarantine", "quarantine_reasons"), ("languages", "languages"),
                       ("agencies", "credit_agencies"), ("photographers", "credit_photographers")):
        expected = rows_of(seed_data, "query", query)
        assert len(drawn[f"chart-{key}"]["rects"]) == len(expected) > 0, key
    reasons = browser.evaluate("Array.from(document.querySelectorAll('#section-quarantine tbody tr'))"
                               ".map((tr) => tr.cells[1].innerText)")
    assert reasons == ["empty_body"]


# --- the command line ---------------------------------------------------------------------------------------

def test_report_since_until_bound_the_events_and_the_quotes(seed_data, tmp_path):
    out = tmp_path / "december.html"
    result = invoke(seed_data, "report", "Vladimir Putin", "--since", "2022-12-01", "--until", "2022-12-31",
                    "-o", str(out))
    assert result.exit_code == 0, result.stderr
    expected = rows_of(seed_data, "timeline", "putin", "--since", "2022-12-01", "--until", "2022-12-31")
    drawn = chart_data(specs_of(out)["timeline"])
    assert [r["sentence"] for r in drawn] == [e["sentence"] for e in expected]
    assert {r["date"] for r in drawn} <= {"2022-12", "2022-12-19", "2022-12-31"}
    assert "volume" not in specs_of(out)  # the seed was published in January 2023
    assert "No quotes attributed to this actor." in out.read_text()


def test_report_per_week_gives_week_long_bars(seed_data, tmp_path):
    out = tmp_path / "weekly.html"
    assert invoke(seed_data, "report", "putin", "--interval", "week", "-o", str(out)).exit_code == 0
    bars = chart_data(specs_of(out)["volume"])
    weeks = rows_of(seed_data, "query", "mention_volume", "-p", "actor", "putin", "-p", "interval", "week")
    assert [b["period"] for b in bars] == [w["period"] for w in weeks]
    for bar in bars:
        start, end = (datetime.fromisoformat(bar[k]) for k in ("start", "end"))
        assert (end - start).days == 7 and start.weekday() == 0


@pytest.mark.parametrize("actor", ["Nobody", "x'); drop view events; --"])
def test_report_unknown_actor_is_a_one_line_error_like_timeline(seed_data, tmp_path, actor):
    out = tmp_path / "r.html"
    result = invoke(seed_data, "report", actor, "-o", str(out))
    timeline = invoke(seed_data, "timeline", actor)
    assert (result.exit_code, result.stderr) == (timeline.exit_code, timeline.stderr) == (
        1, f"Error: no actor named '{actor}' (try: dateline actors)\n")
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["report", "-o", "r.html"],
    ["report", "putin", "--corpus", "-o", "r.html"],
    ["report", "--corpus", "--since", "2023-01-01", "-o", "r.html"],
    ["report", "putin"],
    ["report", "putin", "--since", "2023-13-01", "-o", "r.html"],
    ["report", "putin", "--interval", "month", "-o", "r.html"],
    ["report", "putin", "-o", "no/such/folder/r.html"],
], ids=lambda a: " ".join(a))
def test_report_bad_command_lines_exit_2(seed_data, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = invoke(seed_data, *args)
    assert result.exit_code == 2
    assert result.stdout == "" and "Error:" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_is_self_contained(putin_report):
    text = putin_report.read_text()
    # three inline scripts (the Vega bundle, the specs with their data, the embedding), none loaded from elsewhere
    assert re.findall(r"<script[^>]*>", text) == ["<script>", '<script type="application/json" id="dateline-specs">',
                                                  "<script>"]
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.DOTALL)
    assert not re.search(r"<(link|img|iframe|object|embed|style[^>]+src)\b", markup)
    assert "default-src 'none'" in markup and "window.vegaEmbed" in text


# --- transforms/report.py -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("on", "precision", "expected"), [
    (date(2022, 9, 21), "day", (date(2022, 9, 21), date(2022, 9, 21), "2022-09-21")),
    (date(2022, 12, 1), "month", (date(2022, 12, 1), date(2022, 12, 31), "2022-12")),
    (date(2024, 2, 1), "month", (date(2024, 2, 1), date(2024, 2, 29), "2024-02")),
    (date(1942, 1, 1), "year", (date(1942, 1, 1), date(1942, 12, 31), "1942")),
    (date(2023, 1, 4), None, (date(2023, 1, 4), date(2023, 1, 4), "2023-01-04")),
], ids=["day", "december", "leap-february", "year", "no-precision"])
def test_event_span_covers_the_days_a_date_stands_for(on, precision, expected):
    span = pages.event_span(on, precision)
    assert (span.start, span.end, span.label) == expected


def event_row(sentence: str, on: date | None, precision: str | None = "day", url: str = "https://x.example/1",
              trigger: str = "say") -> dict[str, Any]:
    return {"event_date": on, "date_precision": precision if on else None, "date_basis": "explicit",
            "trigger": trigger, "sentence": sentence, "url": url, "title": "T", "site": "X"}


def test_timeline_rows_skip_undated_events_and_keep_alike_events_apart():
    rows = pages.timeline_rows([event_row("Putin said so.", date(2023, 1, 4)), event_row("Undated.", None),
                                event_row("Putin said so.", date(2023, 1, 4)),
                                event_row("Last month.", date(2022, 12, 1), "month")])
    assert [r["row"] for r in rows] == ["2023-01-04 · say · Putin said so.", "2023-01-04 · say · Putin said so. (2)",
                                        "2022-12 · say · Last month."]
    assert (rows[2]["start"], rows[2]["end"]) == ("2022-12-01T00:00:00Z", "2023-01-01T00:00:00Z")
    assert (rows[0]["start"], rows[0]["end"]) == ("2023-01-04T00:00:00Z", "2023-01-05T00:00:00Z")


def test_timeline_chart_sizes_a_mark_by_how_often_the_event_was_reported():
    rows = pages.timeline_rows([event_row("Told once.", date(2023, 1, 4)) | {"reports": 1, "sites": 1},
                                event_row("Told by many.", date(2023, 1, 5)) | {"reports": 9, "sites": 4}])
    assert [(r["reports"], r["sites"]) for r in rows] == [(1, 1), (9, 4)]
    spec = pages.timeline_chart(rows)
    sizes = [layer["encoding"]["size"] for layer in spec["layer"]]
    assert all(s["field"] == "reports" for s in sizes)
    points = sizes[1]["scale"]
    assert points["domain"] == [1, 9] and points["range"][0] < points["range"][1]


def test_only_web_urls_become_links():
    rows = pages.timeline_rows([event_row("A.", date(2023, 1, 4), url="javascript:alert(1)")])
    assert rows[0]["href"] is None and rows[0]["url"] == "javascript:alert(1)"
    page = pages.render_page("t", [], [Section("s", "S", table=Table(("a",), [(Link("x", "javascript:alert(1)"),),
                                                                          (Link("y", "https://x.example/"),)]))], "")
    assert "javascript:" not in page and '<a href="https://x.example/"' in page


def test_page_text_cannot_end_a_script_or_inject_markup():
    hostile = '</script><script>alert(1)</script><!-- <b>'
    rows = pages.timeline_rows([event_row(hostile, date(2023, 1, 4))])
    table = Table(("sentence",), [(hostile,)])
    page = pages.render_page(hostile, [hostile], [Section("t", hostile, chart=pages.timeline_chart(rows),
                                                          table=table)], "var vegaEmbed;")
    assert page.count("<script") == 3  # the bundle, the specs, the embedding: nothing from the data
    assert "<b>" not in page
    found = re.search(r'id="dateline-specs">(.*?)</script>', page, re.DOTALL)
    assert found and chart_data(json.loads(found[1])["t"])[0]["sentence"] == hostile


def test_empty_sections_say_why_instead_of_drawing_nothing():
    page = pages.render_page("t", [], [Section("a", "A", empty="No events for this actor in these dates.")], "")
    assert "No events for this actor in these dates." in page and 'id="chart-a"' not in page


def test_site_day_chart_merges_sites_past_the_busiest_into_one_line():
    rows = [{"site": f"s{n}", "day": date(2023, 1, 1 + n % 3), "articles": n + 1, "words": 1} for n in range(5)]
    data = chart_data(pages.site_day_chart(rows, top=2))
    assert {r["site"] for r in data} == {"s4", "s3", "(3 other sites)"}
    assert sum(r["articles"] for r in data) == sum(r["articles"] for r in rows)


# --- the corpus report's saved queries, on a small hand-built corpus -------------------------------------------

AT = datetime(2023, 3, 1, tzinfo=UTC)


def article(n: int, published_at: datetime | None, *, site: str | None = "Wire", language: str | None = "en",
            content_hash: str = "h", fetched_at: datetime = AT, issues: tuple[str, ...] = ()) -> ArticleRecord:
    return ArticleRecord(
        article_id=f"a{n}", content_hash=content_hash, url=f"https://x{n}.example/{n}",
        canonical_url=f"https://x{n}.example/{n}", domain=f"x{n}.example", site_name=site, title=f"T{n}",
        description=None, published_at=published_at, published_utc_offset=None, published_precision="time",
        published_source="meta", modified_at=None, fetched_at=fetched_at, language=language, section=None,
        text="body", word_count=10 * n, raw_ref="f.warc.gz#0", extractor_version="test", run_id="r", issues=issues)


def image(n: int, position: int, credit: str, photographers: tuple[str, ...], agencies: tuple[str, ...],
          content_hash: str = "h") -> ImageRecord:
    return ImageRecord(article_id=f"a{n}", content_hash=content_hash, position=position, is_cover=False,
                       src=f"https://x.example/{n}/{position}.jpg", alt=None, caption=None, credit_raw=credit,
                       photographers=photographers, agencies=agencies, run_id="r")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Four articles (one undated, one corrected) with images, queried through the saved queries."""
    data = tmp_path_factory.mktemp("corpus")
    processed = data / "processed"
    articles = [
        article(1, datetime(2023, 1, 4, 23, 30, tzinfo=UTC)),
        article(2, datetime(2023, 1, 4, 1, 0, tzinfo=UTC), issues=("language:detected",)),
        article(3, datetime(2023, 1, 5, 9, 0, tzinfo=UTC), site=None, language="de"),
        article(4, None, language="de"),
        # the first version of a3, published a day earlier and in English: only its latest version counts
        article(3, datetime(2023, 1, 3, 9, 0, tzinfo=UTC), site=None, content_hash="old",
                fetched_at=datetime(2023, 2, 1, tzinfo=UTC)),
    ]
    images = [
        image(1, 0, "REUTERS/Jane Doe", ("Jane Doe",), ("Reuters",)),
        image(2, 0, "Jane Doe/AFP via Getty Images", ("Jane Doe",), ("AFP", "Getty Images")),
        image(2, 1, "AP Photo/John Roe", ("John Roe",), ("AP",)),
        image(3, 0, "dpa", (), ("dpa",)),
        image(3, 0, "Old Name/dpa", ("Old Name",), ("dpa",), content_hash="old"),  # a superseded version's image
    ]
    for rows, table in ((articles, ARTICLES), (images, IMAGES)):
        store.stage(rows, table, processed, "r", "b")
        store.load_staged(processed, "r", table)
    with store.connect(processed, data / "raw") as con:
        yield lambda name: con.execute(store.read_query(name)).fetchall()


def test_articles_per_site_day_counts_latest_versions_per_utc_day(corpus):
    assert corpus("articles_per_site_day") == [
        ("Wire", date(2023, 1, 4), 2, 30),  # 01:00 and 23:30 UTC are one day
        ("x3.example", date(2023, 1, 5), 1, 30),  # no site name: the domain; the older version's day is gone
    ]


def test_languages_counts_articles_words_and_detected_languages(corpus):
    assert corpus("languages") == [("de", 2, 70, 0), ("en", 2, 30, 1)]


def test_credit_photographers_lists_agencies_beside_each_photographer_for_latest_versions(corpus):
    assert corpus("credit_photographers") == [
        ("Jane Doe", 2, 2, ["AFP", "Getty Images", "Reuters"], "Jane Doe/AFP via Getty Images"),
        ("John Roe", 1, 1, ["AP"], "AP Photo/John Roe"),
    ]


def test_credit_agencies_counts_images_of_latest_versions_only(corpus):
    # dpa is in a3's current image and in its superseded version's: one image, one article, the current credit
    assert corpus("credit_agencies") == [
        ("AFP", 1, 1, "Jane Doe/AFP via Getty Images"),
        ("AP", 1, 1, "AP Photo/John Roe"),
        ("Getty Images", 1, 1, "Jane Doe/AFP via Getty Images"),
        ("Reuters", 1, 1, "REUTERS/Jane Doe"),
        ("dpa", 1, 1, "dpa"),
    ]
