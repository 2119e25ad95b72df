"""Articles extracted elsewhere (``dateline run --articles``, ``dateline analyze``): rows in, articles out.

An input file is JSON Lines, one JSON document (an object, or an array of objects), or CSV/TSV with
a header row; gzipped or not. ``split_rows`` cuts it into rows, each kept as its exact bytes (a CSV
row with the header line before it, so the archived record reads on its own); ``article_of_row``
turns one row into an ArticleRecord, or a Reject that says why not.

Field names: Dateline's own (url, title, published_at, text, id, authors, language, site_name,
description), news-please's (``maintext``, ``date_publish``, ``date_modify``, ``source_domain``; it
writes a missing date as the string "None") and Media Cloud's (API v2: ``stories_id``,
``publish_date``, ``media_name``, ``story_text``; search API v4: ``id``, ``publish_date``,
``media_name``, ``text``), and those of the gold corpora in shared/nlpgold (``doc_id``,
``published``). The first non-empty field of each list below wins.

The text is kept exactly as given, so character offsets into it stay valid; paragraphs are
separated by blank lines (or, in a text without blank lines, by line breaks).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from dateline.transforms.extract import DATELINE_VERSION, count_words
from dateline.transforms.language import check_language
from dateline.transforms.metadata import normalize_language, parse_date
from dateline.transforms.schema import ArticleRecord, ExtractedPage, Reject
from dateline.transforms.urls import article_id_of, canonicalize_url, domain_of, sha1_hex

ARTICLE_JSON = "application/x-dateline-article+json"  # content types of archived rows
ARTICLE_CSV = "application/x-dateline-article+csv"
ROW_TYPES = frozenset({ARTICLE_JSON, ARTICLE_CSV})
EXTRACTOR_VERSION = f"dateline/{DATELINE_VERSION} articles"

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "stories_id", "doc_id", "article_id"),
    "url": ("url", "link"),
    "title": ("title", "title_page", "title_rss"),
    "text": ("text", "maintext", "story_text"),
    "published_at": ("published_at", "date_publish", "publish_date", "published"),
    "modified_at": ("modified_at", "date_modify"),
    "authors": ("authors", "author"),
    "language": ("language", "lang"),
    "site_name": ("site_name", "media_name", "source_domain"),
    "description": ("description",),
}
_MISSING = frozenset({"", "none", "null", "nan"})  # news-please writes str(None); pandas CSVs write NaN

Format = Literal["jsonl", "json", "csv", "tsv"]


@dataclass(frozen=True, slots=True)
class InputRow:
    """One row of an input file, as its bytes stand there."""

    number: int  # 1-based: the line of a JSON Lines file, else the record (CSV row, array element)
    payload: bytes
    content_type: str  # ARTICLE_JSON or ARTICLE_CSV


def file_format(name: str, head: bytes) -> Format:
    """The format of an input file from its name (a .gz suffix aside) or, failing that, its first bytes."""
    lower = name.lower().removesuffix(".gz")
    for suffixes, fmt in (((".jsonl", ".ndjson", ".jsonlines"), "jsonl"), ((".csv",), "csv"),
                          ((".tsv", ".tab"), "tsv")):
        if lower.endswith(suffixes):
            return fmt  # type: ignore[return-value]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if lower.endswith(".json") or start in (b"{", b"["):
        return "json" if start == b"[" or not _first_line_is_json(head) else "jsonl"
    return "csv"


def _first_line_is_json(head: bytes) -> bool:
    line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def split_rows(lines: Iterable[bytes], fmt: Format) -> Iterator[InputRow]:
    """The rows of a file given as its lines (bytes, line ends kept, as iterating a binary file gives)."""
    if fmt == "jsonl":
        for number, line in enumerate(lines, 1):
            payload = line.rstrip(b"\r\n")
            if number == 1:
                payload = payload.removeprefix(b"\xef\xbb\xbf")
            if payload.strip():
                yield InputRow(number, payload, ARTICLE_JSON)
    elif fmt == "json":
        yield from _json_rows(b"".join(lines))
    else:
        yield from _csv_rows(iter(lines), "\t" if fmt == "tsv" else ",")


def _json_rows(data: bytes) -> Iterator[InputRow]:
    """One JSON document: an object is one row; an array, one row per element (its exact bytes)."""
    text = data.decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
    decoder = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if text[i:i + 1] != "[":
        yield InputRow(1, data.removeprefix(b"\xef\xbb\xbf").strip(), ARTICLE_JSON)
        return
    i += 1
    number = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return
        number += 1
        try:
            _, end = decoder.raw_decode(text, i)
        except ValueError:  # the rest of the file is not JSON: one unreadable row, nothing dropped
            rest = text[i:].rstrip().removesuffix("]")
            yield InputRow(number, rest.encode("utf-8", errors="surrogateescape"), ARTICLE_JSON)
            return
        yield InputRow(number, text[i:end].encode("utf-8", errors="surrogateescape"), ARTICLE_JSON)
        i = end


class _LineTap:
    """Feeds decoded lines to the csv reader and remembers the raw bytes of those it took."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self.lines = lines
        self.taken: list[bytes] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line.decode("utf-8", errors="surrogateescape")

    def take(self) -> bytes:
        raw = b"".join(self.taken)
        self.taken.clear()
        return raw


def _csv_rows(lines: Iterator[bytes], delimiter: str) -> Iterator[InputRow]:
    tap = _LineTap(lines)
    reader = csv.reader(tap, delimiter=delimiter)
    header = b""
    number = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:  # e.g. a NUL byte: this row is unreadable, the next line starts afresh
            fields = ["?"]
        raw = tap.take()
        if not header:
            header = raw.removeprefix(b"\xef\xbb\xbf")
            if not header.endswith(b"\n"):
                header += b"\n"
            continue
        if not fields or not any(f.strip() for f in fields):
            continue  # a blank line
        number += 1
        yield InputRow(number, header + raw, ARTICLE_CSV)


def row_fields(payload: bytes, content_type: str) -> dict[str, Any] | str:
    """The row as a dict of fields, or why it cannot be read."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    if content_type == ARTICLE_CSV:
        header, _, row = text.partition("\n")
        delimiter = "\t" if header.count("\t") > header.count(",") else ","
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            return f"not a CSV row: {exc}"
        names, values = records[0], records[1] if len(records) > 1 else []
        if len(records) != 2 or len(values) != len(names):
            return f"a CSV row of {len(values)} fields under a header of {len(names)}"
        return {n.strip(): v for n, v in zip(names, values, strict=True)}
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}"
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not an object"
    return value


def _field(row: dict[str, Any], name: str) -> Any:
    for key in FIELDS[name]:
        value = row.get(key)
        if value is None or (isinstance(value, str) and value.strip().lower() in _MISSING):
            continue
        if isinstance(value, list) and not value:
            continue
        return value
    return None


def _text_field(row: dict[str, Any], name: str) -> str | None:
    value = _field(row, name)
    if value is None or isinstance(value, dict | list):
        return None
    return " ".join(str(value).split())


def _authors(value: Any) -> tuple[str, ...]:
    """A list of names, or one string: a JSON list, or names separated by ';' or '|'."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                value = [stripped.strip("[]")]
        else:
            value = stripped.replace("|", ";").split(";")
    if not isinstance(value, list):
        value = [value]
    names = (" ".join(str(v).split()) for v in value if v is not None)
    return tuple(dict.fromkeys(n for n in names if n))


def given_url(row: dict[str, Any]) -> str | None:
    """The row's own URL if it is an absolute http(s) URL (as given, stripped), else None."""
    url = _text_field(row, "url")
    return url if url and canonicalize_url(url) else None


def row_id(row: dict[str, Any]) -> str | None:
    """The row's own id (Media Cloud's stories_id, a gold document's id), as text."""
    return _text_field(row, "id")


def article_of_row(row: dict[str, Any], *, url: str, fetched_at: datetime, raw_ref: str, run_id: str,
                   require_url: bool = True) -> ExtractedPage | Reject:
    """One row as an article, with the same ids as an extracted page (article_id = sha1 of the canonical
    URL, content_hash = sha1 of title + "\\n" + text). Rejects a row without text, with a date that
    does not parse, or (``require_url``) without an http(s) URL; ``url`` names the row in rejects.
    Without ``require_url`` a row with no URL is keyed by its id (``dateline analyze``)."""
    given_url = _text_field(row, "url")
    canonical = canonicalize_url(given_url) if given_url else None
    ident = row_id(row)
    article_id = (article_id_of(canonical) if canonical else
                  sha1_hex(f"id:{ident}") if ident and not require_url else None)

    def reject(reason: str, detail: str) -> Reject:
        return Reject(stage="extract", reason=reason, url=url, detail=detail, raw_ref=raw_ref,  # type: ignore[arg-type]
                      article_id=article_id)

    text = _field(row, "text")
    if not isinstance(text, str) or not text.strip():
        return reject("empty_body", "the row has no text (fields: " + ", ".join(FIELDS["text"]) + ")")
    if article_id is None:
        return reject("invalid_url", f"the row's url {given_url!r} is not an http(s) URL" if given_url else
                      "the row has no url (the article id is the sha1 of its canonical URL)")
    issues: list[str] = []
    published = None
    if (raw_date := _text_field(row, "published_at")) is not None:
        published = parse_date(raw_date)
        if published is None:
            return reject("unparseable_date", f"published_at {raw_date[:100]!r} is not an ISO 8601 or RFC 2822 date")
        if published.utc_offset is None and published.precision == "time":
            issues.append("published_at:no_utc_offset")
    else:
        issues.append("published_at:missing")
    modified_text = _text_field(row, "modified_at")
    modified = parse_date(modified_text) if modified_text else None
    if modified_text and modified is None:
        issues.append("modified_at:unparsed")
    title = _text_field(row, "title")
    declared = normalize_language(_text_field(row, "language"))
    checked = check_language(declared, text)
    if declared is None:
        issues.append("language:detected")
    elif checked.overruled:
        issues.append("language:overruled")
    return ExtractedPage(ArticleRecord(
        article_id=article_id,
        content_hash=sha1_hex(f"{title or ''}\n{text}"),
        url=given_url or url,
        canonical_url=canonical or url,
        domain=domain_of(canonical) if canonical else "",
        site_name=_text_field(row, "site_name"),
        title=title,
        description=_text_field(row, "description"),
        authors=_authors(_field(row, "authors")),
        published_at=published.at if published else None,
        published_utc_offset=published.utc_offset if published else None,
        published_precision=published.precision if published else None,
        published_source="input" if published else None,
        modified_at=modified.at if modified else None,
        fetched_at=fetched_at,
        language=checked.language,
        declared_language=checked.overruled,
        section=None,
        text=text,
        word_count=count_words(text),
        raw_ref=raw_ref,
        extractor_version=EXTRACTOR_VERSION,
        run_id=run_id,
        issues=tuple(issues),
    ))


def article_of_payload(payload: bytes, content_type: str, *, url: str, fetched_at: datetime, raw_ref: str,
                       run_id: str, require_url: bool = True) -> ExtractedPage | Reject:
    """An archived row's bytes as an article (see article_of_row), or a Reject for an unreadable row."""
    row = row_fields(payload, content_type)
    if isinstance(row, str):
        return Reject(stage="decode", reason="unreadable_row", url=url, detail=row[:500], raw_ref=raw_ref)
    return article_of_row(row, url=url, fetched_at=fetched_at, raw_ref=raw_ref, run_id=run_id,
                          require_url=require_url)
