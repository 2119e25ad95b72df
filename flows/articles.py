"""Articles extracted elsewhere: archived row by row for `dateline run --articles`, or analyzed without a
store by `dateline analyze`.

`run --articles FILE` takes the path every page takes: each input row is archived as its exact bytes
in a WARC ``resource`` record (content type ``application/x-dateline-article+json`` or ``+csv``,
WARC-Target-URI the row's url, WARC-Source-URI ``file:///...#line=N``), indexed in raw_index, and
processed in batches by flows/process.py, which reads those records back and turns them into
articles with transforms/articles.py instead of extracting HTML. NLP, dedup, staging, load and the
runs table are the same as for pages; `dateline reprocess` reads the rows again from the archive.
"""

from __future__ import annotations

import gzip
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateline.transforms.articles import (
    ARTICLE_JSON,
    InputRow,
    article_of_row,
    file_format,
    given_url,
    row_fields,
    row_id,
    split_rows,
)
from dateline.transforms.schema import ExtractedPage, Reject

if TYPE_CHECKING:
    from dateline.flows.acquire import Acquired, KnownRaw
    from dateline.flows.archive import WarcArchive

log = logging.getLogger(__name__)


def input_rows(path: Path) -> Iterator[InputRow]:
    """The rows of an articles file (JSON Lines, JSON, CSV or TSV; gzipped or not), read as a stream.
    Raises OSError (or gzip.BadGzipFile, EOFError) when the file cannot be read."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as fh:  # noqa: SIM115 - closed by with
        lead = [fh.readline()]  # whole lines up to the first non-blank one: a JSON Lines row can be long
        while lead[-1] and not lead[-1].strip():
            lead.append(fh.readline())
        yield from split_rows(itertools.chain(lead, fh), file_format(path.name, lead[-1]))


def row_origin(path: Path, row: InputRow) -> str:
    """Where a row stands: 'file:///data/in.jsonl#line=3' (a JSON Lines line), '...csv#row=2' (a record)."""
    kind = "line" if row.content_type == ARTICLE_JSON and path.name.lower().removesuffix(".gz").endswith(
        (".jsonl", ".ndjson", ".jsonlines")) else "row"
    return f"{path.resolve().as_uri()}#{kind}={row.number}"


def _row_url(fields: dict[str, Any] | str) -> str | None:
    """The row's own http(s) URL, under which it is archived (a row without one: under its origin)."""
    return None if isinstance(fields, str) else given_url(fields)


# --- dateline run --articles --------------------------------------------------------------

def archive_article_file(path: Path, archive: WarcArchive, run_id: str, known: KnownRaw, result: Acquired) -> None:
    """Archive each row of an articles file as a WARC resource record and list it as a page to process.
    A file that cannot be read is one reject; its rows are read as they come (a broken gzip stream
    keeps the rows before the break)."""
    from dateline.flows.acquire import _ref, _store
    from dateline.flows.process import PageRef

    source = f"articles:{path}"
    fetched_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    try:
        for row in input_rows(path):
            result.discovered += 1
            origin = row_origin(path, row)
            url = _row_url(row_fields(row.payload, row.content_type)) or origin

            def write(row: InputRow = row, url: str = url, origin: str = origin):  # type: ignore[no-untyped-def]
                return archive.write_resource(url=url, content_type=row.content_type, body=row.payload,
                                              fetched_at=fetched_at, origin=origin)

            raw = _store(known, url, row.payload, write, status=None, content_type=row.content_type,
                         truncated=False, fetched_at=fetched_at, record_type="resource", source=source,
                         run_id=run_id, result=result)
            result.pages.append(PageRef(url, _ref(raw), raw.fetched_at, raw.content_type))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        result.rejects.append(Reject(stage="archive", reason="undecodable", url=path.resolve().as_uri(),
                                     detail=f"cannot read {path}: {exc}"[:500]))


# --- dateline analyze ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Analyzed:
    """One input row after analysis: its article (with NLP results), or why it gave none."""

    id: str
    outcome: ExtractedPage | Reject


def analyze_file(path: Path, model: str, *, run_id: str = "analyze", batch: int = 200) -> list[Analyzed]:
    """Every row of an articles file, read and analyzed (English articles get mentions, actors, events,
    dates and quotes), in input order. Nothing is archived or stored. Raises OSError for an unreadable file."""
    from dateline.flows.nlp import add_nlp  # spaCy loads only here

    now = datetime.now(UTC)
    out: list[Analyzed] = []
    pending: list[tuple[int, ExtractedPage]] = []

    def flush() -> None:
        pages = add_nlp([p for _, p in pending], model, with_dates=True)
        for (index, _), page in zip(pending, pages, strict=True):
            out[index] = Analyzed(out[index].id, page)
        pending.clear()

    for row in input_rows(path):
        origin = row_origin(path, row)
        fields = row_fields(row.payload, row.content_type)
        if isinstance(fields, str):
            out.append(Analyzed(origin, Reject(stage="decode", reason="unreadable_row", url=origin, detail=fields)))
            continue
        ident = row_id(fields) or _row_url(fields) or origin
        outcome = article_of_row(fields, url=origin, fetched_at=now, raw_ref=origin, run_id=run_id, require_url=False)
        out.append(Analyzed(ident, outcome))
        if isinstance(outcome, ExtractedPage):
            pending.append((len(out) - 1, outcome))
            if len(pending) >= batch:
                flush()
    if pending:
        flush()
    return out


def cluster_analyzed(items: Sequence[Analyzed]) -> dict[str, str]:
    """event_id -> cluster_id for the body events of every analyzed article, clustered as one corpus
    (transforms.clusters): events of different articles that tell one real-world event share an id."""
    from dateline.transforms.clusters import Clusterer, in_context, report_of

    reports = [report_of(e, item.outcome.article) for item in items
               if isinstance(item.outcome, ExtractedPage) and item.outcome.nlp is not None
               for e in item.outcome.nlp.events if e.text_source == "body"]
    return Clusterer().assign_all(in_context(reports))


def analysis_json(item: Analyzed, clusters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What `dateline analyze` prints for one row: offsets are character offsets into the row's text;
    caption mentions (none for text input) are left out. Each event's ``cluster_id`` comes from
    ``clusters`` (:func:`cluster_analyzed` over the whole file)."""
    if isinstance(item.outcome, Reject):
        return {"id": item.id, "error": f"{item.outcome.reason}: {item.outcome.detail}"}
    article, nlp = item.outcome.article, item.outcome.nlp
    body: dict[str, Any] = {"id": item.id, "language": article.language}
    if article.declared_language:
        body["declared_language"] = article.declared_language
    if nlp is None:
        body["skipped"] = f"no NLP model for language {article.language!r}"
    mentions = [m for m in nlp.mentions if m.text_source == "body"] if nlp else []
    body["mentions"] = [{"start": m.start_char, "end": m.end_char, "text": article.text[m.start_char:m.end_char],
                         "label": m.label, "actor_id": m.actor_id} for m in mentions]
    body["actors"] = [{"actor_id": a.actor_id, "name": a.name, "kind": a.kind} for a in (nlp.actors if nlp else ())]
    body["events"] = [{"event_id": e.event_id, "start": e.sentence_start, "end": e.sentence_end,
                       "event_date": e.event_date.isoformat() if e.event_date else None,
                       "date_precision": e.date_precision, "date_start": e.date_start, "date_end": e.date_end,
                       "trigger": e.trigger, "trigger_start": e.trigger_start, "trigger_end": e.trigger_end,
                       "clause": e.clause,
                       "actor_ids": list(e.actor_ids),
                       "cluster_id": (clusters or {}).get(e.event_id)}
                      for e in (nlp.events if nlp else ()) if e.text_source == "body"]
    body["dates"] = [{"start": d.start_char, "end": d.end_char, "text": article.text[d.start_char:d.end_char],
                      "value": d.value.isoformat() if d.value else None, "precision": d.precision}
                     for d in (nlp.dates if nlp else ()) if d.text_source == "body"]
    body["quotes"] = [{"start": q.start_char, "end": q.end_char, "speaker_id": q.speaker_id}
                      for q in (nlp.quotes if nlp else ())]
    return body
