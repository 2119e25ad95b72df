"""Full-text search: a tantivy index beside the tables, kept in step with the snapshots.

The index lives in ``processed/_search/`` (local processed roots only: with object storage there is no
index, runs skip it and `dateline search` says so). ``state.json`` names the index folder, the snapshot it
is synced to and a Parquet file of the (article_id, content_hash) pairs it holds. After every commit of a
writer (a run, a compaction) :func:`sync` brings it to the current snapshot: the current pairs of
``articles`` against the held ones; every article whose pair is new or gone is deleted by its id, and its
current version is added; then one tantivy commit, and the state is replaced by an atomic rename. Before
the commit the state names the new pairs file as ``pending``: a sync killed between the tantivy commit
and the state's rename leaves the index holding either pair set, so the next sync diffs against both
(deleting by id before each add never leaves a duplicate). An index failure never fails the run: it is
logged, and the next sync catches up from the tables alone.

A search reads the index, then keeps only the hits whose (article_id, content_hash) is the current
version in the caller's pinned snapshot: a search never returns an article the tables do not have. When
the index is synced to exactly that snapshot (state.json, read before and after the searcher is taken,
names it and no pending sync) every hit is current and the tables are not read at all; otherwise the
hits' ids are checked against the snapshot's (article_id, content_hash, fetched_at) columns, never the
text. A hit row comes from the index alone: its stored fields hold the URL, site, language, title and
the first :data:`DESCRIPTION_HEAD` characters of the description and :data:`TEXT_HEAD` of the text, the
snippet's source (the whole text is not stored: it would double the index). A match only further into
the text is found but not highlighted: its snippet is the text's start.

Stemming: each language group (:data:`STEMMED`) has its own title/description/text/captions fields with
its own analyzer; other languages share unstemmed fields. A field query ``title:putin`` is rewritten to
each group's field.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from dateline.flows import snapshot, storage
from dateline.flows.config import DatelineError

log = logging.getLogger(__name__)

SEARCH = "_search"
STATE = "state.json"
STEMMED = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
           "pt": "portuguese", "nl": "dutch", "ru": "russian", "sv": "swedish"}
OTHER = "xx"  # every other language (and none): lowercased, not stemmed
GROUPS = (*STEMMED, OTHER)
TEXT_FIELDS = ("title", "description", "text", "captions")
SHARED_FIELDS = ("authors", "site")
HEAP = 200_000_000
BATCH = 20_000
SNIPPET_CHARS = 200
TEXT_HEAD = 300  # characters of the text stored for the snippet (cut back to a word's end)
DESCRIPTION_HEAD = 400
FORMAT = 2  # state.json "format": 1 (absent) had the ids and URL as indexed text and no stored heads
HIT_SCHEMA = pa.schema([("article_id", pa.string()), ("content_hash", pa.string()), ("score", pa.float64()),
                        ("title", pa.string()), ("url", pa.string()), ("published_at", pa.timestamp("us", tz="UTC")),
                        ("site", pa.string()), ("language", pa.string()), ("snippet", pa.string())])
HIT_COLUMNS = tuple(HIT_SCHEMA.names)


class SearchError(DatelineError):
    """The search index is missing, remote or cannot answer the query."""


def group_of(language: str | None) -> str:
    return language if language in STEMMED else OTHER


def folder(processed: Path) -> Path:
    return processed / SEARCH


def available(processed: Path) -> bool:
    return not storage.is_remote(processed)


def _analyzer(group: str) -> Any:
    import tantivy

    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
               .filter(tantivy.Filter.lowercase()))
    if group in STEMMED:
        builder = builder.filter(tantivy.Filter.stemmer(STEMMED[group]))
    return builder.build()


def _schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("article_id", tokenizer_name="raw", index_option="basic")  # deletes by id
    sb.add_text_field("group", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("language", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("site_key", tokenizer_name="raw", index_option="basic")  # lowercased domain and site name
    sb.add_date_field("published_at", stored=True, indexed=True, fast=True)
    for name in STORED:  # stored only: what a hit's row shows
        sb.add_bytes_field(name, stored=True, indexed=False, fast=False)
    for name in SHARED_FIELDS:
        sb.add_text_field(name, tokenizer_name=f"dl_{OTHER}")
    for group in GROUPS:
        for name in TEXT_FIELDS:
            sb.add_text_field(f"{name}_{group}", stored=name == "title", tokenizer_name=f"dl_{group}")
    return sb.build()


STORED = ("id", "version", "url", "site_name", "description_head", "text_head")


def _key(value: str) -> bytes:
    """An id as stored: a sha1 hex digest as 1 and its 20 bytes (hex does not compress), anything else
    as 0 and its UTF-8."""
    return b"\1" + bytes.fromhex(value) if _SHA1.fullmatch(value) else b"\0" + value.encode("utf-8")


def _unkey(stored: bytes) -> str:
    return stored[1:].hex() if stored[0] == 1 else stored[1:].decode("utf-8")


def head(text: str | None, chars: int) -> str:
    """The start of ``text``, at most ``chars`` characters, cut back to the end of a word."""
    if not text or len(text) <= chars:
        return text or ""
    cut = text[:chars + 1]
    at = max(cut.rfind(" "), cut.rfind("\n"))
    return cut[:at] if at > chars // 2 else text[:chars]


def _open(path: Path, create: bool = False) -> Any:
    import tantivy

    if create:
        path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(path), reuse=True)
    for group in GROUPS:
        index.register_tokenizer(f"dl_{group}", _analyzer(group))
    return index


def read_state(processed: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((folder(processed) / STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return state


def _write_state(processed: Path, state: dict[str, Any]) -> None:
    snapshot.write_atomically(folder(processed) / STATE, json.dumps(state, sort_keys=True))


# --- writing -----------------------------------------------------------------------------------

CURRENT_KEYS = """select article_id, content_hash from articles
qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1"""

DOCUMENTS = """select a.article_id, a.content_hash, a.url, a.domain, a.site_name, a.title, a.description, a.text,
       array_to_string(a.authors, ' ') as authors, a.language, a.published_at, i.captions
from articles as a
semi join wanted as w using (article_id, content_hash)
left join (select article_id, content_hash, string_agg(caption, '\n') as captions from images
           semi join wanted using (article_id, content_hash)
           where caption is not null group by all) as i using (article_id, content_hash)"""


def _document(row: dict[str, Any]) -> Any:
    import tantivy

    group = group_of(row["language"])
    doc = tantivy.Document()
    doc.add_text("article_id", row["article_id"])
    doc.add_bytes("id", _key(row["article_id"]))
    doc.add_bytes("version", _key(row["content_hash"]))
    doc.add_bytes("url", row["url"].encode("utf-8"))
    doc.add_text("group", group)
    doc.add_text("language", row["language"] or "")
    doc.add_bytes("site_name", (row["site_name"] or row["domain"]).encode("utf-8"))
    for name, chars in (("description", DESCRIPTION_HEAD), ("text", TEXT_HEAD)):
        if row[name]:
            doc.add_bytes(f"{name}_head", head(row[name], chars).encode("utf-8"))
    for key in {row["domain"].lower(), (row["site_name"] or "").lower()} - {""}:
        doc.add_text("site_key", key)
    doc.add_text("site", " ".join(v for v in (row["site_name"], row["domain"]) if v))
    if row["authors"]:
        doc.add_text("authors", row["authors"])
    if row["published_at"] is not None:
        doc.add_date("published_at", row["published_at"])
    for name in TEXT_FIELDS:
        if row[name]:
            doc.add_text(f"{name}_{group}", row[name])
    return doc


def _pairs(data: pa.Table) -> set[tuple[str, str]]:
    return set(zip(data.column("article_id").to_pylist(), data.column("content_hash").to_pylist(), strict=True))


def _read_pairs(base: Path, name: str | None) -> pa.Table:
    if name and (base / name).exists():
        return pq.read_table(base / name)
    return pa.table({"article_id": pa.array([], pa.string()), "content_hash": pa.array([], pa.string())})


def sync(processed: Path, raw: Path, rebuild: bool = False) -> dict[str, Any]:
    """Bring the index to the current snapshot (or build it afresh beside the old one with ``rebuild``).
    Call it holding the data dir lock, after the commit. Returns what it did."""
    from dateline.flows import store

    if not available(processed):
        return {"skipped": "the processed root is remote; the search index is local only"}
    snap = snapshot.current(processed)
    if snap is None:
        return {"skipped": "no snapshot"}
    base = folder(processed)
    base.mkdir(parents=True, exist_ok=True)
    state = None if rebuild else read_state(processed)
    if state is not None and not (base / state["index"]).exists():
        state = None  # the index folder is gone: build it again
    if state is not None and state.get("format", 1) != FORMAT:
        log.info("search index: %s has format %s, this version writes %s: building it again from the tables",
                 state["index"], state.get("format", 1), FORMAT)
        state = None
    if state is not None and state["snapshot"] == snap.id and not state.get("pending"):
        return {"snapshot": snap.id, "added": 0, "deleted": 0}
    started = time.perf_counter()
    con = store.connect(processed, raw, snap=snap)
    try:
        current = con.sql(CURRENT_KEYS).to_arrow_table()
        if state is None:  # a new, empty index folder
            index_name, held = f"index-{uuid.uuid4().hex[:12]}", set()
            held_any: set[tuple[str, str]] = set()
        else:
            index_name = state["index"]
            held = _pairs(_read_pairs(base, state["keys"]))
            pending = _pairs(_read_pairs(base, state.get("pending")))
            held_any = held | pending  # killed after a commit whose state was not written: either set
            if state.get("pending"):
                held = held & pending
        now = _pairs(current)
        added = now - held
        deleted_ids = set() if state is None else {a for a, _ in held_any - now} | {a for a, _ in added}
        keys_name = f"keys-{snap.id:08d}-{uuid.uuid4().hex[:6]}.parquet"
        pq.write_table(current, base / keys_name, compression="zstd")  # hex: snappy would not shrink it
        if state is not None:
            _write_state(processed, {**state, "pending": keys_name})
        index = _open(base / index_name, create=True)
        writer = index.writer(HEAP)
        for article_id in deleted_ids:
            writer.delete_documents_by_term("article_id", article_id)
        wanted = pa.table({"article_id": [a for a, _ in added], "content_hash": [h for _, h in added]},
                          schema=current.schema)
        con.register("wanted", wanted)
        reader = con.sql(DOCUMENTS).to_arrow_reader(BATCH)
        for batch in reader:
            for row in batch.to_pylist():
                writer.add_document(_document(row))
        writer.commit()
        writer.wait_merging_threads()
        _write_state(processed, {"index": index_name, "snapshot": snap.id, "committed_at": snap.committed_at,
                                 "keys": keys_name, "pending": None, "format": FORMAT})
    finally:
        con.close()
    for path in base.iterdir():  # the replaced pairs files and indexes
        if path.name.startswith("keys-") and path.name != keys_name or (
                path.name.startswith("index-") and path.name != index_name):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    took = time.perf_counter() - started
    log.info("search index: snapshot %d, %d added, %d deleted in %.1f s", snap.id, len(added),
             len(deleted_ids), took)
    return {"snapshot": snap.id, "added": len(added), "deleted": len(deleted_ids), "seconds": took}


def sync_quietly(processed: Path, raw: Path, logger: Any = log) -> None:
    """:func:`sync`, its failure logged and not raised: the tables are committed, the next sync catches up."""
    try:
        sync(processed, raw)
    except Exception as exc:  # noqa: BLE001 - search must never fail a run whose tables are committed
        logger.warning("search index not updated (the next run catches it up): %s: %s", type(exc).__name__, exc)


# --- reading -----------------------------------------------------------------------------------

_FIELD = re.compile(r'("(?:[^"\\]|\\.)*")|\b(title|description|text|captions):|\bAND\s+NOT\b')


def rewrite(query: str, group: str) -> str:
    """``title:x`` -> ``title_<group>:x``, and ``a AND NOT b`` -> ``a NOT b`` (tantivy's parser matches
    nothing for the former), leaving quoted phrases alone."""
    def replaced(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        return f"{m.group(2)}_{group}:" if m.group(2) else "NOT"

    return _FIELD.sub(replaced, query)


def _bound(value: str | date | None, end: bool) -> datetime | None:
    if value in (None, ""):
        return None
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


_INDEXES: dict[str, tuple[float, Any]] = {}


def _searcher(processed: Path, snap_id: int, committed_at: str) -> tuple[Any, Any, dict[str, Any], bool]:
    """The index, a searcher on its newest commit, its state, and whether that searcher holds exactly the
    current versions of snapshot ``snap_id`` (committed at ``committed_at``). The state is read before
    and after the searcher is taken: a sync names its pairs file as pending before its tantivy commit and
    writes a new state after it, so an unchanged, settled state means no commit came in between."""
    if not available(processed):
        raise SearchError("search needs a local processed root: the index is not kept in object storage")
    state = read_state(processed)
    if state is None or not (folder(processed) / state["index"]).exists():
        raise SearchError(f"no search index in {processed}: the next run builds it, or `dateline compact --search`")
    if state.get("format", 1) != FORMAT:
        raise SearchError(f"the search index in {processed} was built by an older version (format "
                          f"{state.get('format', 1)}): the next run builds it again, or `dateline compact --search`")
    path = folder(processed) / state["index"]
    meta = (path / "meta.json").stat().st_mtime
    cached = _INDEXES.get(str(path))
    if cached is None or cached[0] != meta:
        index = _open(path)
        _INDEXES[str(path)] = cached = (meta, index)
    index = cached[1]
    index.reload()
    searcher = index.searcher()
    synced = (read_state(processed) == state and not state.get("pending") and state["snapshot"] == snap_id
              and state.get("committed_at") == committed_at)
    return index, searcher, state, synced


def _reader(processed: Path) -> tuple[Any, dict[str, Any]]:
    """The index and its state (for bench/search.py's engine-only timings)."""
    index, _searcher_, state, _synced = _searcher(processed, -1, "")
    return index, state


def engine_query(index: Any, query: str, since: str | date | None = None, until: str | date | None = None,
                 site: str | None = None, language: str | None = None) -> Any:
    """The tantivy query: the user's query in every language group's fields, and the filters."""
    import tantivy

    groups = [group_of(language)] if language else list(GROUPS)
    per_group = []
    for group in groups:
        fields = [f"{n}_{group}" for n in TEXT_FIELDS] + list(SHARED_FIELDS)
        try:
            parsed = index.parse_query(rewrite(query, group), fields, {f"title_{group}": 2.0},
                                       conjunction_by_default=True)
        except ValueError as exc:
            raise SearchError(f"cannot parse the query {query!r}: {exc}") from None
        in_group = tantivy.Query.term_query(index.schema, "group", group)
        per_group.append((tantivy.Occur.Should, tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, parsed), (tantivy.Occur.Must, in_group)])))
    clauses = [(tantivy.Occur.Must, tantivy.Query.boolean_query(per_group))]
    low, high = _bound(since, False), _bound(until, True)
    if low or high:
        clauses.append((tantivy.Occur.Must, tantivy.Query.range_query(
            index.schema, "published_at", tantivy.FieldType.Date, low or tantivy.MIN_DATETIME,
            high or tantivy.MAX_DATETIME, include_upper=False)))
    if site:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "site_key", site.lower())))
    if language:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "language", language)))
    return tantivy.Query.boolean_query(clauses)


_SHA1 = re.compile(r"[0-9a-f]{40}")


def _listed(ids: Iterable[str]) -> str:
    """The ids as an SQL list of literals (inlined, so the filter is pushed into the Parquet scan)."""
    from dateline.flows.store import sql_literal

    return ", ".join(sql_literal(i) for i in sorted(set(ids))) or "''"


def _current_pairs(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[tuple[str, str]]:
    """The current (article_id, content_hash) of each of ``ids`` in ``con``'s pinned snapshot: only the
    narrow key columns are read (the ids inlined, so the filter is pushed into the Parquet scan)."""
    rows = con.execute(f"""select article_id, content_hash from articles where article_id in ({_listed(ids)})
qualify row_number() over (partition by article_id order by fetched_at desc, content_hash) = 1""").fetchall()
    return set(rows)


def _texts(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[Any, Any]]:
    """The whole text and description of each (article_id, content_hash) in ``con``'s snapshot."""
    rows = con.execute("select article_id, content_hash, text, description from articles "
                       f"where article_id in ({_listed(a for a, _ in pairs)})").fetchall()
    wanted = set(pairs)
    return {(a, h): (text, description) for a, h, text, description in rows if (a, h) in wanted}


def _hit(doc: Any, score: float) -> dict[str, Any]:
    language = doc.get_first("language") or None
    group = group_of(language)

    def text(name: str) -> str | None:
        stored = doc.get_first(name)
        return None if stored is None else bytes(stored).decode("utf-8")

    return {"article_id": _unkey(doc.get_first("id")), "content_hash": _unkey(doc.get_first("version")),
            "score": float(score), "title": doc.get_first(f"title_{group}"), "url": text("url"),
            "published_at": doc.get_first("published_at"), "site": text("site_name"), "language": language,
            "group": group, "text": text("text_head"), "description": text("description_head")}


def _marked(snippet: Any) -> str:
    """The snippet's fragment with its highlighted words in ** (tantivy's ranges are byte offsets)."""
    raw = snippet.fragment().encode("utf-8")
    out, at = [], 0
    for span in snippet.highlighted():
        out += [raw[at:span.start], b"**", raw[span.start:span.end], b"**"]
        at = span.end
    out.append(raw[at:])
    return b"".join(out).decode("utf-8", errors="replace").replace("\n", " ")


def search(con: duckdb.DuckDBPyConnection, processed: Path, query: str, *, since: str | date | None = None,
           until: str | date | None = None, site: str | None = None, language: str | None = None,
           limit: int = 20, full_snippets: bool = False) -> pa.Table:
    """The best ``limit`` hits of ``query``, ranked, as Arrow (:data:`HIT_COLUMNS`): only current article
    versions of ``con``'s pinned snapshot. Snippets are cut from the stored start of the description and
    text; with ``full_snippets`` a hit whose match is further in is cut from its whole text, read from the
    tables (slow at scale: that read is most of the time)."""
    import tantivy

    pinned = con.cursor()
    ((snap_id, committed_at),) = pinned.execute("select id, committed_at from dateline_internal.snapshot").fetchall()
    index, searcher, state, synced = _searcher(processed, snap_id, committed_at)
    if state["snapshot"] < snap_id:
        log.warning("the search index is synced to snapshot %s, the tables are at %s: newer articles are not "
                    "found until the next run (or `dateline compact --search`)", state["snapshot"], snap_id)
    elif state["snapshot"] > snap_id:
        log.warning("the search index is synced to snapshot %s, newer than this connection's %s: article "
                    "versions replaced since are not found", state["snapshot"], snap_id)
    q = engine_query(index, query, since, until, site, language)
    rows: list[dict[str, Any]] = []
    offset, page = 0, limit if synced else max(limit * 2, 20)
    while len(rows) < limit:
        hits = searcher.search(q, page, count=False, offset=offset).hits
        if not hits:
            break
        found = [_hit(searcher.doc(address), score) for score, address in hits]
        if not synced:  # the index is not at the pinned snapshot: keep the hits current there
            current = _current_pairs(pinned, [f["article_id"] for f in found])
            found = [f for f in found if (f["article_id"], f["content_hash"]) in current]
        rows += found
        if len(hits) < page:
            break
        offset += page
    rows = rows[:limit]
    generators: dict[str, Any] = {}

    def cut(hit: dict[str, Any]) -> str:
        """The snippet of the first of the hit's text and description that holds a match, marked; or ""."""
        for name in ("text", "description"):
            key = f"{name}_{hit['group']}"
            if not hit[name]:
                continue
            if key not in generators:
                generators[key] = tantivy.SnippetGenerator.create(searcher, q, index.schema, key)
                generators[key].set_max_num_chars(SNIPPET_CHARS)
            snippet = generators[key].snippet_from_doc(tantivy.Document(**{key: hit[name]}))
            if snippet.highlighted():
                return _marked(snippet)
        return ""

    for hit in rows:
        hit["snippet"] = cut(hit)
    unmarked = [hit for hit in rows if not hit["snippet"]]
    if full_snippets and unmarked:
        whole = _texts(pinned, [(h["article_id"], h["content_hash"]) for h in unmarked])
        for hit in unmarked:
            hit["text"], hit["description"] = whole.get((hit["article_id"], hit["content_hash"]), (None, None))
            hit["snippet"] = cut(hit)
    for hit in unmarked:
        if not hit["snippet"]:
            hit["snippet"] = (hit["description"] or hit["text"] or "")[:SNIPPET_CHARS].replace("\n", " ")
    return pa.Table.from_pylist([{c: h[c] for c in HIT_COLUMNS} for h in rows], schema=HIT_SCHEMA)


SQL_LIMIT = 1000
SQL_TYPE = ("STRUCT(article_id VARCHAR, content_hash VARCHAR, score DOUBLE, title VARCHAR, url VARCHAR, "
            "published_at TIMESTAMPTZ, site VARCHAR, language VARCHAR, snippet VARCHAR)[]")


def register(con: duckdb.DuckDBPyConnection, processed: Path) -> None:
    """``search('query'[, limit])`` as a table on ``con`` (a temporary macro over a Python function)."""
    def hits(query: str, limit: int) -> list[dict[str, Any]]:
        try:
            found: list[dict[str, Any]] = search(con, processed, query, limit=int(limit)).to_pylist()
            return found
        except SearchError as exc:
            raise ValueError(str(exc)) from None

    con.create_function("dateline_search_hits", hits, ["VARCHAR", "BIGINT"], SQL_TYPE, side_effects=True)
    con.execute(f"create or replace temp macro search(q, lim := {SQL_LIMIT}) as table "
                "select unnest(dateline_search_hits(q, lim), recursive := true)")
