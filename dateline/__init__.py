"""Dateline: news pages to a queryable record of what happened, when, and who was involved.

The code lives in three subpackages, mapped from the repository's top-level folders (pyproject.toml):
``dateline.flows`` (flows/: orchestration, I/O, the command line), ``dateline.transforms``
(transforms/: pure functions) and ``dateline.sql`` (sql/: the views and saved queries).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["actors", "connect", "query", "search", "timeline"]


def connect(data_dir: str | Path = "data", *, processed_root: str | None = None,
            raw_root: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the corpus's views (`dateline schema` lists them), for notebooks.

    ``data_dir`` is what `dateline --data-dir` takes; ``processed_root`` and ``raw_root`` put the tables
    or the archive in object storage as `--processed-root` and `--raw-root` do. A data dir that holds
    no corpus raises FileNotFoundError.
    """
    from dateline.flows import store
    from dateline.flows.config import Settings

    settings = Settings(data_dir=Path(data_dir), processed_root=processed_root or "", raw_root=raw_root or "")
    processed = settings.processed_dir
    if isinstance(processed, Path) and next(processed.rglob("*.parquet"), None) is None:
        raise FileNotFoundError(f"no corpus in {data_dir}: nothing has been loaded there")
    return store.connect(processed, settings.raw_dir)


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """Saved query sql/NAME.sql with its $parameters (`dateline query NAME`), as an Arrow table;
    ``.to_pandas()`` gives a DataFrame."""
    from dateline.flows import store

    text = store.read_query(name)
    declared = store.query_params(text)
    unknown = set(params) - set(declared)
    if unknown:
        raise TypeError(f"{name} has no parameter {', '.join(sorted(unknown))}; its parameters: "
                        f"{', '.join(declared) or 'none'}")
    values = {p: "" if params.get(p) is None else str(params[p]) for p in declared}
    return con.sql(text, params=values or None).to_arrow_table()


def timeline(con: duckdb.DuckDBPyConnection, actor: str, *, since: date | str | None = None,
             until: date | str | None = None, about: str = "") -> pa.Table:
    """What happened with ``actor`` (a name or alias, any case), in date order: `dateline timeline`'s
    rows with every column, as an Arrow table. An actor the corpus does not name raises LookupError."""
    if not con.execute("select count(*) from actor_named($actor)", {"actor": actor}).fetchall()[0][0]:
        raise LookupError(f"no actor named {actor!r}")
    return query(con, "actor_timeline", actor=actor, since=since, until=until, about=about)


def actors(con: duckdb.DuckDBPyConnection, *, top: int = 20, kind: str | None = None,
           since: date | str | None = None, until: date | str | None = None) -> pa.Table:
    """The actors named in the most articles, with their mention counts (`dateline actors`)."""
    return query(con, "top_actors", since=since, until=until, kind=kind, limit=top)


def search(con: duckdb.DuckDBPyConnection, query: str, *, since: date | str | None = None,
           until: date | str | None = None, site: str | None = None, language: str | None = None,
           limit: int = 20, full_snippets: bool = False) -> pa.Table:
    """Full-text search (`dateline search`): the best ``limit`` hits, ranked, as an Arrow table of
    article_id, content_hash, score, title, url, published_at, site, language and snippet; only
    article versions current in ``con``'s snapshot. In SQL on ``con``: ``from search('query')``.
    Snippets mark matches in the start of the text (the stored part) and the description;
    ``full_snippets`` cuts the others from the whole text, read from the tables (slower)."""
    from dateline.flows import search as engine

    ((processed,),) = con.execute("select processed from dateline_internal.snapshot").fetchall()
    return engine.search(con, Path(processed), query, since=since, until=until, site=site, language=language,
                         limit=limit, full_snippets=full_snippets)
