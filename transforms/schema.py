"""Record types of every table, and the pyarrow schemas derived from them.

This module is the one place where columns are defined. Writers build tables with
``pa.Table.from_pylist([asdict(r) for r in rows], schema=SCHEMAS[name])`` and tests read the
same definitions, so a column cannot drift between code, Parquet and SQL.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal, get_args

import pyarrow as pa

Stage = Literal["discover", "fetch", "archive", "decode", "extract", "load"]
RejectReason = Literal[
    # discover: a feed, sitemap or list that gave no URLs
    "source_unreachable",
    "source_unparseable",
    # fetch
    "invalid_url",
    "unresolvable_host",
    "blocked_address",
    "robots_disallowed",
    "http_error",
    "fetch_gave_up",
    "too_many_redirects",
    "too_large",
    "not_html",
    # decode / extract
    "empty_body",
    "undecodable",
    "not_an_article",
    "extractor_error",
    # text in (dateline run --articles): a row that gives no article
    "unreadable_row",
    "unparseable_date",
]
Precision = Literal["time", "day", "month", "year"]
RawKind = Literal["page", "feed", "sitemap", "robots", "redirect"]
ActorKind = Literal["person", "organization", "place", "group"]
DatePrecision = Literal["day", "month", "year"]
DateBasis = Literal["explicit", "relative", "published"]
TextSource = Literal["body", "caption"]

STAGES: frozenset[str] = frozenset(get_args(Stage))
REJECT_REASONS: frozenset[str] = frozenset(get_args(RejectReason))
PRECISIONS: frozenset[str] = frozenset(get_args(Precision))


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleRecord:
    """One extracted article version; one row of data/processed/articles."""

    article_id: str  # sha1(canonical_url)
    content_hash: str  # sha1(title + "\n" + text): a new value is a new version
    url: str  # the URL the page was fetched from (after redirects)
    canonical_url: str  # the page's declared canonical URL, normalized (else the URL)
    domain: str  # host without "www."
    site_name: str | None  # the publisher's name as the page gives it
    title: str | None  # the headline
    description: str | None  # the page's summary (meta description or og:description)
    authors: tuple[str, ...] = ()  # persons only, properly cased
    agencies: tuple[str, ...] = ()  # news agencies named by the byline or the dateline ("Reuters", "AP")
    byline_orgs: tuple[str, ...] = ()  # organisations the byline names, persons left out ("dpa", "BR24 Redaktion")
    is_wire: bool = False  # the text is an agency's (an agency in the byline or dateline)
    dateline_place: str | None = None  # "MEXICO CITY" from "MEXICO CITY (AP) —"
    published_at: datetime | None  # tz-aware UTC
    published_utc_offset: str | None  # the page's own offset, "+02:00"; None when the page gave none
    published_precision: Precision | None  # how precise published_at is: time, day, month or year
    published_source: str | None  # where the date came from: jsonld, meta, time, url, text, htmldate, input (text in)
    modified_at: datetime | None  # tz-aware UTC
    fetched_at: datetime  # tz-aware UTC
    language: str | None  # ISO 639-1, "en"
    declared_language: str | None = None  # what the page or row declared, when its text overruled it ("en")
    section: str | None  # the site's section for the article, when the page names one
    tags: tuple[str, ...] = ()  # the page's keywords and tags
    text: str  # the body only: paragraphs joined by "\n", no title, subtitle or comments (text in: as given)
    word_count: int  # words in text
    raw_ref: str  # "<WARC path relative to data/raw>#<record offset>"
    extractor_version: str  # the Dateline version that extracted this row
    run_id: str  # the run that extracted this version
    issues: tuple[str, ...] = ()  # field-level problems, e.g. "published_at:unparsed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRecord:
    """One image of an article version; one row of data/processed/images."""

    article_id: str
    content_hash: str  # of the article version the image belongs to
    position: int  # 0-based: the cover first, then page order
    is_cover: bool  # the article's lead image (og:image or the first figure)
    src: str  # absolute URL
    alt: str | None  # the image's alt text
    caption: str | None  # without its credit
    credit_raw: str | None  # the credit as the page gives it
    photographers: tuple[str, ...] = ()  # names the credit gives as photographers
    agencies: tuple[str, ...] = ()  # canonical names: "Reuters", "AP", "Getty Images"
    is_file_photo: bool = False  # the credit marks a file photo
    is_handout: bool = False  # the credit marks a handout
    is_pool: bool = False  # the credit marks a pool photo
    caption_place: str | None = None  # "Minsk, Belarus" from a wire caption's ending
    caption_date: date | None = None  # date(2022, 12, 19) from "... December 19, 2022."
    run_id: str  # the run that extracted it


@dataclass(frozen=True, slots=True, kw_only=True)
class MentionRecord:
    """One mention of an actor in a sentence; one row of data/processed/mentions."""

    article_id: str
    content_hash: str
    text_source: TextSource  # the body, or an image caption (then sentence_id counts on from the body's)
    sentence_id: int  # 0-based index of the sentence in the article (body first, then captions)
    start_char: int  # character offsets into the text named by text_source: the article's text, or the caption
    end_char: int  # end offset (exclusive) in the same text
    text: str  # as written: "President Vladimir Putin", "he"
    label: str  # spaCy label (PERSON, ORG, GPE, LOC, NORP, FAC) or PRON for a resolved pronoun
    actor_id: str  # the actor it refers to (actors.actor_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleActorRecord:
    """An actor as one article names it; one row of data/processed/article_actors (the actors view
    aggregates them across articles)."""

    actor_id: str  # sha1 of kind + normalized name: the same name gives the same id in every article
    article_id: str
    content_hash: str
    name: str  # the article's canonical name for the actor: "Vladimir Putin"
    kind: ActorKind  # person, organization, place or group
    aliases: tuple[str, ...] = ()  # other names in this article: "Putin", "Vladimir Vladimirovich Putin"
    mention_count: int  # mentions of the actor in the article


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One thing that happened, as one sentence tells it; one row of data/processed/events."""

    event_id: str  # sha1 of article_id, content_hash, sentence_id (and the clause verb's place, for a clause's event)
    article_id: str
    content_hash: str
    text_source: TextSource  # the body, or an image caption
    sentence_id: int  # 0-based index of the sentence in the article (body first, then captions)
    sentence_start: int  # the sentence's character offsets into the text named by text_source
    sentence_end: int  # end offset (exclusive)
    event_date: date | None  # when it happened, as precise as date_precision; null when undated
    date_precision: DatePrecision | None  # day, month or year
    date_text: str | None  # the words the date came from: "last month", "Sept. 21"
    date_start: int | None = None  # offsets of date_text in the same text; null when no expression dated it
    date_end: int | None = None  # end offset (exclusive)
    date_basis: DateBasis | None  # explicit (a date in the text), relative (to the publication date), or published
    trigger: str | None  # lemma of the event's verb: "order", "say" (the main verb, or a clause's own)
    trigger_start: int | None = None  # offsets of the trigger word in the same text; null for a verbless sentence
    trigger_end: int | None = None  # end offset (exclusive)
    clause: bool = False  # the event of a verb inside the sentence that has a date of its own, not of its main verb
    subject_id: str | None  # actor_id of the grammatical subject
    object_id: str | None  # actor_id of the object
    actor_ids: tuple[str, ...] = ()  # every actor in the sentence
    place: str | None  # a place named in the sentence
    negated: bool  # the main verb is negated ("did not attend")
    sentence: str  # the sentence as written


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteRecord:
    """One quotation and who said it; one row of data/processed/quotes."""

    article_id: str
    content_hash: str
    sentence_id: int  # the sentence the quotation starts in
    start_char: int  # the quotation's character offsets into the article's text (without the quotation marks)
    end_char: int  # end offset (exclusive)
    speaker_id: str | None  # actor_id; pronouns and "the group" resolved within the article
    speaker_text: str | None  # as written: "the group", "she"
    quote: str  # without the quotation marks
    verb: str | None  # lemma of the speech verb: "say", "tell"
    sentence: str  # that sentence as written


@dataclass(frozen=True, slots=True, kw_only=True)
class DateMention:
    """A date expression in an article's text and what it resolves to (`dateline analyze`; not a table)."""

    text_source: TextSource  # the body, or an image caption
    sentence_id: int  # the sentence it stands in
    start_char: int  # character offsets into the text named by text_source
    end_char: int
    text: str  # as written: "last month"
    value: date | None  # None for an expression that names no day, month or year ("three years")
    precision: DatePrecision | None


@dataclass(frozen=True, slots=True)
class NlpResult:
    """What the NLP stage gives for one article."""

    mentions: tuple[MentionRecord, ...] = ()
    actors: tuple[ArticleActorRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    quotes: tuple[QuoteRecord, ...] = ()
    dates: tuple[DateMention, ...] = ()  # only when asked for (analyze_article(with_dates=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupRecord:
    """An article version's fingerprint and its story group; one row of data/processed/dedup."""

    article_id: str
    content_hash: str
    dup_group: str  # the article_id of the group's first article: copies of one story share it
    similarity: float  # estimated Jaccard similarity to the article that decided the group (1.0: its own)
    signature: tuple[int, ...] = ()  # MinHash values (transforms.dedup)
    bands: tuple[str, ...] = ()  # LSH band keys: versions sharing one are compared
    fetched_at: datetime  # when the version was fetched


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What extraction gives for one page: the article and its images."""

    article: ArticleRecord
    images: tuple[ImageRecord, ...] = ()
    nlp: NlpResult | None = None  # None when the NLP stage did not run (not English, or switched off)


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRecord:
    """One archived WARC record; one row of the raw index (data/raw/index)."""

    url: str  # the URL requested
    final_url: str  # the URL of this response (== url unless this record is a redirect's target)
    status: int | None  # HTTP status; None for records that are not HTTP responses (saved files)
    content_type: str | None  # the response's Content-Type
    sha1: str  # sha1 of the payload bytes as archived
    length: int  # payload bytes as archived
    truncated: bool  # the body was cut at the size limit
    fetched_at: datetime  # when it was fetched or read
    warc_file: str  # relative to data/raw
    warc_offset: int  # byte offset of the record in warc_file
    record_type: str  # response | resource
    kind: RawKind  # why it was fetched: page, feed, sitemap, robots, or redirect (a hop to a page)
    source: str  # the feed, sitemap, list, WARC or folder that named this URL
    run_id: str
    etag: str | None = None  # validators for the next conditional request
    last_modified: str | None = None  # the response's Last-Modified header


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineRecord:
    """One page or source that a stage rejected; one row of data/processed/quarantine."""

    run_id: str
    stage: Stage  # the stage that rejected it: discover, fetch, archive, decode, extract or load
    reason: RejectReason  # why, one of a fixed list (see `dateline query quarantine_reasons`)
    url: str  # the page or source
    article_id: str | None
    detail: str  # what exactly went wrong, for a person
    raw_ref: str | None  # None when nothing was received (connection refused, robots.txt)
    occurred_at: datetime  # when


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One pipeline run with its counts per stage; one row of data/processed/runs."""

    run_id: str  # sortable and unique: 20261126T213000Z-1a2b3c
    flow_run_id: str | None  # the Prefect flow run's id
    started_at: datetime  # when the run started (UTC)
    finished_at: datetime  # when it ended (UTC)
    status: Literal["completed", "failed", "recovered"]  # recovered: loaded by the next run after a kill
    sources: tuple[str, ...]  # what it read: feed:URL, warc:PATH, ...
    discovered_count: int  # URLs named by the sources (after de-duplication)
    fetched_count: int  # HTTP responses received (redirect hops and robots.txt excluded)
    archived_count: int  # page records this run wrote to WARC (pages archived before are not written again)
    extracted_count: int  # pages that gave an article
    new_article_count: int  # article versions not stored before
    unchanged_article_count: int  # article versions already stored (a re-run)
    quarantined_count: int  # pages and sources it quarantined
    not_modified_count: int = 0  # conditional requests answered 304 (nothing to process)
    skipped_count: int = 0  # URLs seen before, unchanged by their source and not due for a re-check
    nlp_article_count: int = 0  # articles the NLP stage processed (English)
    nlp_skipped_count: int = 0  # articles it skipped (other languages)
    event_count: int = 0  # events the NLP stage found
    dateline_version: str  # the Dateline version that ran
    trafilatura_version: str  # the trafilatura version used
    prefect_version: str  # the Prefect version used


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject:
    """What a transform returns instead of a record: becomes one quarantine row."""

    stage: Stage
    reason: RejectReason
    url: str
    detail: str
    article_id: str | None = None
    raw_ref: str | None = None

    def to_record(self, *, run_id: str, occurred_at: datetime) -> QuarantineRecord:
        """The quarantine row for this reject."""
        return QuarantineRecord(
            run_id=run_id,
            stage=self.stage,
            reason=self.reason,
            url=self.url,
            article_id=self.article_id,
            detail=self.detail,
            raw_ref=self.raw_ref,
            occurred_at=occurred_at,
        )


_ARROW: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
    date: pa.date32(),
}


def _arrow_type(hint: Any) -> tuple[pa.DataType, bool]:
    """(arrow type, nullable) for one dataclass field's type hint."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None
        return _arrow_type(next(a for a in args if a is not type(None)))[0], True
    if origin is tuple:  # tuple[X, ...]
        return pa.list_(_arrow_type(args[0])[0]), False
    if origin is Literal:
        return pa.string(), False
    return _ARROW[hint], False


def arrow_schema(cls: type) -> pa.Schema:
    """The pyarrow schema of a record dataclass: str→string, X | None→nullable, tuple→list."""
    hints = typing.get_type_hints(cls)
    return pa.schema([pa.field(f.name, *_arrow_type(hints[f.name])) for f in fields(cls)])


@dataclass(frozen=True, slots=True)
class Table:
    """A processed table: its record type, schema and Hive partition key."""

    name: str
    record: type
    schema: pa.Schema
    partition: str | None  # Hive partition column, derived by partition_value(); None = unpartitioned
    key: tuple[str, ...]  # columns that identify a row: a re-run adds no row with a stored key


ARTICLES = Table("articles", ArticleRecord, arrow_schema(ArticleRecord), "published_month",
                 ("article_id", "content_hash"))
QUARANTINE = Table("quarantine", QuarantineRecord, arrow_schema(QuarantineRecord), None,
                   ("url", "stage", "reason", "detail"))
IMAGES = Table("images", ImageRecord, arrow_schema(ImageRecord), None, ("article_id", "content_hash", "position"))
MENTIONS = Table("mentions", MentionRecord, arrow_schema(MentionRecord), None,
                 ("article_id", "content_hash", "text_source", "sentence_id", "start_char"))
ARTICLE_ACTORS = Table("article_actors", ArticleActorRecord, arrow_schema(ArticleActorRecord), None,
                       ("actor_id", "article_id", "content_hash"))
EVENTS = Table("events", EventRecord, arrow_schema(EventRecord), None, ("event_id",))
DEDUP = Table("dedup", DedupRecord, arrow_schema(DedupRecord), None, ("article_id", "content_hash"))
QUOTES = Table("quotes", QuoteRecord, arrow_schema(QuoteRecord), None,
               ("article_id", "content_hash", "sentence_id", "quote"))
RUNS = Table("runs", RunRecord, arrow_schema(RunRecord), None, ("run_id",))
RAW_INDEX = Table("raw_index", RawRecord, arrow_schema(RawRecord), None, ("warc_file", "warc_offset"))

TABLES: dict[str, Table] = {t.name: t for t in (ARTICLES, IMAGES, MENTIONS, ARTICLE_ACTORS, EVENTS, QUOTES,
                                                 DEDUP, QUARANTINE, RUNS, RAW_INDEX)}


UNKNOWN_PARTITION = "unknown"


def published_month(published_at: datetime | None) -> str:
    """The articles partition value: "2023-01" (UTC month), or "unknown" without a date."""
    return UNKNOWN_PARTITION if published_at is None else published_at.strftime("%Y-%m")


PARTITION_VALUE = {"published_month": ("published_at", published_month)}
"""Partition column -> (the column it is derived from, how)."""
