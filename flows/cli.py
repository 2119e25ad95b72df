"""The `dateline` command. Logs and progress go to stderr; stdout carries only data."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import click
import pyarrow as pa
from dateline.flows.config import RUNNERS, ConfigError, DatelineError, Settings, Sources, load_config, validate_settings
from dateline.flows.output import BATCH_ROWS, FORMATS, jsonable, write_batches, write_table
from dateline.transforms.extract import DATELINE_VERSION
from dateline.transforms.schema import ActorKind

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _quiet_prefect(verbose: int) -> None:
    """Prefect settings for a command-line run: no telemetry, logs at the chosen level."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    level = {0: "WARNING", 1: "INFO"}.get(verbose, "DEBUG")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", level)


class Context:
    """What the group options resolved to."""

    def __init__(self, settings: Settings, sources: Sources, verbose: int) -> None:
        self.settings = settings
        self.sources = sources
        self.verbose = verbose


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(DATELINE_VERSION, "--version", prog_name="dateline")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="DATELINE_DATA_DIR",
              help="Where data/raw and data/processed live  [env DATELINE_DATA_DIR; default ./data]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A dateline.toml with settings and sources.")
@click.option("--raw-root", metavar="s3://BUCKET/PREFIX",
              help="Keep the raw archive in object storage  [env DATELINE_RAW_ROOT; default <data dir>/raw]")
@click.option("--processed-root", metavar="s3://BUCKET/PREFIX",
              help="Keep the tables in object storage  [env DATELINE_PROCESSED_ROOT; default <data dir>/processed]")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, config_path: Path | None, raw_root: str | None,
        processed_root: str | None, verbose: int) -> None:
    """Dateline: news pages -> an archive, Parquet tables and timelines you can query.

    \b
        dateline run --feed https://example.com/rss.xml
        dateline sql "select site_name, count(*) from articles group by all"
    """
    if config_path is not None and not config_path.is_file():
        raise click.BadParameter(f"no such file: {config_path}", param_hint="--config")
    try:
        settings, sources = load_config(config_path)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if data_dir is not None:
        settings = replace(settings, data_dir=data_dir)
    roots: dict[str, Any] = {k: v for k, v in (("raw_root", raw_root), ("processed_root", processed_root))
                             if v is not None}
    settings = replace(settings, **roots)
    try:
        validate_settings(settings)  # the roots may also come from DATELINE_RAW_ROOT / DATELINE_PROCESSED_ROOT
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(level={0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG),
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("trafilatura", "htmldate", "courlan", "justext", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.ERROR if verbose < 2 else logging.DEBUG)
    if verbose == 0:  # a failed run ends in one "Error: ..." line (main); -v shows the tracebacks
        for handler in logging.getLogger().handlers:
            if getattr(handler, "stream", None) is sys.stderr:  # ours, from basicConfig above
                handler.addFilter(_without_traceback)
    ctx.obj = Context(settings, sources, verbose)
    global _verbosity
    _verbosity = verbose


def _without_traceback(record: logging.LogRecord) -> bool:
    """Log lines without the traceback (Prefect logs one with every failed task and flow run). Only our
    stderr handler has this filter; Prefect's API handler, which runs first, still records them."""
    record.exc_info = record.exc_text = record.stack_info = None
    return True


_verbosity = 0  # the group's -v count, for main(): set once the options are parsed


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="dateline")
    except DatelineError as exc:  # raised outside a command's own handling
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - what no handler foresaw (a bug, a worker's own error): one line
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            # a full disk outside the store's own writes (those raise DiskFullError)
            click.echo(f"Error: no space left writing {exc.filename or 'a file'} ({os.strerror(exc.errno)})",
                       err=True)
            sys.exit(1)
        if _verbosity:
            raise  # -v: the traceback
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc} (run with -v to see the traceback)", err=True)
        sys.exit(1)


# --- run ----------------------------------------------------------------------------------

def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The source and processing options shared by `run` and `serve`."""
    options = [
        click.option("--feed", "feeds", multiple=True, metavar="URL", help="RSS/Atom/JSON feed (repeatable)."),
        click.option("--sitemap", "sitemaps", multiple=True, metavar="URL",
                     help="Sitemap, sitemap index or news sitemap (repeatable)."),
        click.option("--urls", "url_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="File with one URL a line (repeatable)."),
        click.option("--warc", "warcs", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="WARC file whose response records are pages, e.g. CC-NEWS (repeatable)."),
        click.option("--html-dir", "html_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                     help="Folder of saved .html / .html.gz pages (repeatable)."),
        click.option("--batch-size", type=click.IntRange(1, 10_000), help="Pages per processing task [150]."),
        click.option("--workers", type=click.IntRange(0, 256), help="Extraction processes; 0 = one per core [0]."),
        click.option("--concurrency", type=click.IntRange(1, 256), help="Requests in flight at once [8]."),
        click.option("--delay", type=click.FloatRange(0), help="Seconds between requests to one host [1.0]."),
        click.option("--allow-private-networks", is_flag=True, default=None,
                     help="Allow fetching from loopback and private addresses (intranets, tests)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run_inputs(obj: Context, feeds: tuple[str, ...], sitemaps: tuple[str, ...], url_files: tuple[str, ...],
                warcs: tuple[str, ...], html_dirs: tuple[str, ...], batch_size: int | None, workers: int | None,
                concurrency: int | None, delay: float | None,
                allow_private_networks: bool | None) -> tuple[dict[str, list[str]], Settings]:
    """The flow's parameters from the options and the config file: sources (absolute paths) and settings."""
    sources = obj.sources.merged(Sources(feeds=feeds, sitemaps=sitemaps, urls=url_files, warcs=warcs,
                                         html_dirs=html_dirs))
    if sources.is_empty():
        raise click.UsageError("no sources: give --feed, --sitemap, --urls, --warc or --html-dir "
                               "(or list them in --config)")
    for option, urls in (("--feed", sources.feeds), ("--sitemap", sources.sitemaps)):
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint=option)
    settings = obj.settings
    fetch_changes: dict[str, Any] = {k: v for k, v in (("concurrency", concurrency), ("per_host_delay", delay),
                                     ("allow_private_networks", allow_private_networks)) if v is not None}
    process_changes: dict[str, Any] = {k: v for k, v in (("batch_size", batch_size), ("workers", workers))
                                       if v is not None}
    settings = replace(settings, fetch=replace(settings.fetch, **fetch_changes),
                       process=replace(settings.process, **process_changes))
    try:
        validate_settings(settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    resolved = {k: [str(Path(p).resolve()) if k in {"urls", "warcs", "html_dirs", "articles"} else p for p in v]
                for k, v in asdict(sources).items()}
    return resolved, replace(settings, data_dir=settings.data_dir.resolve())


@cli.command()
@source_options
@click.option("--cron", help='A cron schedule, e.g. "*/15 * * * *" (UTC).')
@click.option("--interval", type=click.IntRange(1), help="Seconds between runs.")
@click.pass_obj
def serve(obj: Context, /, cron: str | None, interval: int | None, **options: Any) -> None:
    """Run the pipeline on a schedule until stopped (Ctrl-C).

    Without PREFECT_API_URL a local Prefect server is started (127.0.0.1, its database under the
    data dir) and stopped on exit; its UI address goes to stderr.

    \b
        dateline serve --cron "*/15 * * * *" --feed https://www.theguardian.com/world/rss
        dateline serve --interval 900 --config dateline.toml
    """
    if (cron is None) == (interval is None):
        raise click.UsageError("give exactly one of --cron and --interval")
    _quiet_prefect(obj.verbose)
    if cron is not None:
        _check_cron(cron)
    sources, settings = _run_inputs(obj, **options)
    settings = _with_runner(settings, None, None)  # runner 'dask' with a remote scheduler needs PREFECT_API_URL
    from dateline.flows.server import LocalPrefectServer

    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server = LocalPrefectServer(settings.data_dir / "prefect")
        server.start()
        os.environ["PREFECT_API_URL"] = server.api_url
        click.echo(f"Prefect server and UI: {server.url} (stopped when this command ends)", err=True)
    try:
        from dateline.flows.pipeline import pipeline
        from prefect.types.entrypoint import EntrypointType

        click.echo(f"serving dateline-run {'cron ' + cron if cron else f'every {interval} s'}; Ctrl-C stops",
                   err=True)
        stop = threading.Event()
        announcer = threading.Thread(target=_announce_runs, args=(settings, datetime.now(UTC), stop),
                                     name="dateline-announce", daemon=True)
        announcer.start()
        try:
            pipeline.serve(name="dateline-serve", cron=cron, interval=interval,
                           parameters={"sources": sources, "settings": settings.to_dict()},
                           print_starting_message=False, pause_on_shutdown=False, limit=1,
                           entrypoint_type=EntrypointType.MODULE_PATH)
        finally:
            stop.set()
            announcer.join(timeout=10)
    finally:
        if server is not None:
            server.stop()


def _check_cron(cron: str) -> None:
    """A cron string Prefect accepts, or a usage error now (not a pydantic traceback once serving)."""
    import pydantic
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except pydantic.ValidationError:
        raise click.BadParameter(f"{cron!r} is not a cron schedule like \"*/15 * * * *\" "
                                 "(minute hour day month weekday)", param_hint="--cron") from None


ANNOUNCE_SECONDS = 5.0  # how often `serve` looks for finished runs


def run_summary(run: dict[str, Any]) -> str:
    """One line on what a run did: what `run` and `serve` print to stderr."""
    seconds = (run["finished_at"] - run["started_at"]).total_seconds()
    return (f"run {run['run_id']} {run['status']} in {seconds:.1f} s: {run['discovered_count']} discovered, "
            f"{run['archived_count']} archived, {run['extracted_count']} articles "
            f"({run['new_article_count']} new, {run['unchanged_article_count']} already stored), "
            f"{run['quarantined_count']} quarantined")


def _announce_runs(settings: Settings, since: datetime, stop: threading.Event) -> None:
    """`serve`'s line per run: every few seconds, the runs that ended since the last look (read from
    the runs table, which every run writes, failed ones included)."""
    from dateline.flows import store

    seen: set[str] = set()
    while not stop.wait(ANNOUNCE_SECONDS):
        if next(settings.processed_dir.rglob("runs/*.parquet"), None) is None:
            continue
        try:
            con = store.connect(settings.processed_dir, settings.raw_dir)
            cursor = con.execute("select * from runs where started_at >= $since order by started_at",
                                 {"since": since})
            columns = [d[0] for d in cursor.description or []]
            rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
            con.close()
        except Exception as exc:  # noqa: BLE001 - a reader's failure must not stop the schedule
            logging.getLogger("dateline.serve").warning("could not read the runs table: %s", exc)
            continue
        for row in rows:
            if row["run_id"] not in seen:
                seen.add(row["run_id"])
                click.echo(run_summary(row), err=True)


def _with_runner(settings: Settings, runner: str | None, dask_address: str | None) -> Settings:
    """Settings with the --runner and --dask-address options applied, validated."""
    if dask_address is not None and (runner or settings.process.runner) != "dask":
        raise click.UsageError("--dask-address is for --runner dask")
    from dateline.flows.server import local_server_needed  # imports httpx: only for commands that run flows

    changes: dict[str, Any] = {k: v for k, v in (("runner", runner), ("dask_address", dask_address)) if v is not None}
    settings = replace(settings, process=replace(settings.process, **changes))
    try:
        validate_settings(settings)
        local_server_needed(settings)  # refuses a remote scheduler with no PREFECT_API_URL
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return settings


@cli.command()
@source_options
@click.option("--runner", type=click.Choice(RUNNERS), help="Where the processing tasks run [local].")
@click.option("--dask-address", metavar="tcp://HOST:PORT",
              help="The Dask scheduler for --runner dask (its workers must import Dateline and reach the data).")
@click.option("--max-reject-rate", type=click.FloatRange(0, 1),
              help="Exit with code 3 when more than this share of pages was quarantined.")
@click.option("--articles", "articles", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Articles extracted elsewhere: JSON Lines, JSON or CSV (.gz too), fields url, title, "
                   "published_at, text (news-please and Media Cloud names too); instead of the other sources.")
@click.pass_obj
def run(obj: Context, /, runner: str | None, dask_address: str | None, max_reject_rate: float | None,
        articles: tuple[str, ...], **options: Any) -> None:
    """Fetch or read sources, archive them raw, extract articles, write Parquet.

    Sources come from the options and from the --config file. The run's counts go to stderr;
    rows go to data/processed (query them with `dateline sql`).

    With --runner dask the processing tasks run on a Dask cluster; it needs a Prefect server
    (PREFECT_API_URL), which is started for the run when the scheduler is on this machine.

    \b
        dateline run --feed https://www.theguardian.com/world/rss
        dateline run --sitemap https://example.com/news-sitemap.xml --urls more-urls.txt
        dateline run --warc CC-NEWS-20240101.warc.gz --html-dir saved-pages/
        dateline run --warc CC-NEWS-20240101.warc.gz --runner dask --dask-address tcp://10.0.0.5:8786
        dateline run --articles news-please-export.jsonl
    """
    resolved, settings = _articles_inputs(obj, articles, options) if articles else _run_inputs(obj, **options)
    settings = _with_runner(settings, runner, dask_address)
    _quiet_prefect(obj.verbose)  # before Prefect is imported: it reads its settings once
    from dateline.flows.server import prefect_api_for

    with prefect_api_for(settings) as server:
        if server:
            click.echo(f"runner dask: Prefect server and UI at {server} (stopped when this command ends)", err=True)
        from dateline.flows.pipeline import pipeline  # imports Prefect: only for commands that need it

        result = pipeline(sources=resolved, settings=settings.to_dict())
    click.echo(f"{run_summary(result)}; data in {settings.data_dir}", err=True)
    _explain_refusals(settings, result)
    seen = max(result["discovered_count"], result["archived_count"], 1)
    rate = result["quarantined_count"] / seen
    if max_reject_rate is not None and rate > max_reject_rate:
        click.echo(f"Error: reject rate {rate:.0%} is above {max_reject_rate:.0%}", err=True)
        sys.exit(3)


SOURCE_OPTIONS = {"feeds": "--feed", "sitemaps": "--sitemap", "url_files": "--urls", "warcs": "--warc",
                  "html_dirs": "--html-dir"}


def _articles_inputs(obj: Context, articles: tuple[str, ...],
                     options: dict[str, Any]) -> tuple[dict[str, list[str]], Settings]:
    """`run --articles`: the articles files are the run's only source (the --config file's are not read)."""
    if given := [flag for name, flag in SOURCE_OPTIONS.items() if options.get(name)]:
        raise click.UsageError(f"--articles cannot be combined with {', '.join(given)}: run them separately")
    return _run_inputs(Context(obj.settings, Sources(articles=articles), obj.verbose), **options)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def analyze(obj: Context, file: Path) -> None:
    """Analyze articles extracted elsewhere and print what the NLP finds, one JSON object per line.

    FILE is JSON Lines, JSON or CSV (.gz too) with url, title, published_at and text (paragraphs
    separated by blank lines), optional id, authors, language, site_name; news-please and Media
    Cloud field names are read too. Each line has the row's id (else its url), mentions, actors,
    events (each with the cluster_id of the real-world event it tells, shared by the file's
    other reports of it), dates and quotes, with character offsets into the given text; a row that gives no
    article prints {"id": ..., "error": "reason"}. Nothing is stored, no Prefect server is needed.

    \b
        dateline analyze articles.jsonl
        dateline analyze stories.csv.gz | jq -c '.events[] | select(.event_date)'
    """
    from dateline.flows.articles import analysis_json, analyze_file, cluster_analyzed

    try:
        results = analyze_file(file, obj.settings.process.nlp_model)
    except (OSError, EOFError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    except DatelineError as exc:
        raise click.ClickException(str(exc)) from None
    clusters = cluster_analyzed(results)  # across the file's articles: every row is read first
    for item in results:
        click.echo(json.dumps(analysis_json(item, clusters), ensure_ascii=False))


# --- reading -------------------------------------------------------------------------------

def read_connection(obj: Context, as_of: str | None = None) -> Any:
    """A connection for a reading command; a data dir that holds no corpus is an error (exit 1) and
    nothing is created in it (`--data-dir /typo actors` must not leave an empty data dir behind)."""
    from dateline.flows import store

    processed = obj.settings.processed_dir
    if isinstance(processed, Path) and next(processed.rglob("*.parquet"), None) is None:
        raise click.ClickException(f"no corpus in {obj.settings.data_dir}: nothing has been loaded there "
                                   "(run `dateline run ...` first, or give --data-dir)")
    return store.connect(processed, obj.settings.raw_dir, snap=as_of, retention=obj.settings.process.retention_seconds)


# reasons a setting decides, and the setting that would let the pages through
SETTING_OF_REASON = {
    "blocked_address": "--allow-private-networks (fetch.allow_private_networks = true in dateline.toml)",
    "robots_disallowed": "fetch.obey_robots = false in dateline.toml",
    "too_large": "fetch.max_bytes in dateline.toml",
}


def _explain_refusals(settings: Settings, result: dict[str, Any]) -> None:
    """When a run got no article and every page it lost was refused for one setting, say which."""
    if result["extracted_count"] or not result["quarantined_count"]:
        return
    from dateline.flows import store

    con = store.connect(settings.processed_dir, settings.raw_dir)
    reasons = dict(con.execute("select reason, count(*) from quarantine where run_id = $run group by all",
                               {"run": result["run_id"]}).fetchall())
    con.close()
    for reason, setting in SETTING_OF_REASON.items():
        if reasons.get(reason) and sum(n for r, n in reasons.items() if r in SETTING_OF_REASON) == sum(
                reasons.values()):
            click.echo(f"note: all {reasons[reason]} pages were refused as {reason}; the setting is {setting}",
                       err=True)


# --- output --------------------------------------------------------------------------------

def format_option(default: str = "table", choices: Sequence[str] = FORMATS) -> Callable[[Any], Any]:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def _one_line(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def query_batches(con: Any, sql: str, params: dict[str, str]) -> pa.RecordBatchReader | None:
    """``sql``'s rows as Arrow batches (None for a statement with no result); a DuckDB error becomes a
    one-line Error."""
    import duckdb

    try:
        relation = con.sql(sql, params=params or None)
        return None if relation is None else relation.to_arrow_reader(BATCH_ROWS)
    except duckdb.Error as exc:
        raise _one_line(exc) from None


def print_query(con: Any, sql: str, params: dict[str, str], fmt: str) -> None:
    """Print ``sql``'s rows to stdout in ``fmt``."""
    reader = query_batches(con, sql, params)
    if reader is not None:
        print_batches(reader, fmt)


def print_batches(reader: pa.RecordBatchReader, fmt: str) -> None:
    """Print a query's batches to stdout in ``fmt``. An error while the rows stream (a cast that fails
    on row 10,000) is a one-line Error too."""
    import duckdb

    try:
        write_batches(sys.stdout, reader, fmt)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise _one_line(exc) from None


# --- sql / query ----------------------------------------------------------------------------

def _views_epilog() -> str:
    from dateline.flows.catalog import help_text

    return "\b\nViews (what a row is; `dateline schema VIEW` lists the columns):\n" + help_text()


@cli.command(epilog=_views_epilog())
@click.argument("query", required=False)
@format_option()
@click.option("--write-db", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a DuckDB file holding the views, for any DuckDB client, and exit.")
@click.option("--as-of", metavar="RUN_ID|SNAPSHOT|TIME",
              help="Read an older snapshot (a run id, a snapshot id or an ISO time), while it is retained.")
@click.pass_obj
def sql(obj: Context, query: str | None, fmt: str, write_db: Path | None, as_of: str | None) -> None:
    """Run ad-hoc SQL over the tables and views listed below.

    \b
        dateline sql "select domain, count(*) as n from articles group by all order by n desc"
        dateline sql --format csv "select url, title, published_at from articles" > articles.csv
        dateline sql --write-db corpus.duckdb     # then, from its folder: duckdb corpus.duckdb
        dateline sql --as-of 20261126T213000Z-1a2b3c "select count(*) from articles"

    Every query reads one snapshot (the last commit when it started). A --write-db file pins
    the current snapshot, names its files relative to the file's folder (open it from there),
    and errs once they are removed (after process.retention_seconds): write it again then.
    """
    from dateline.flows import store

    if write_db is None and not query:
        raise click.UsageError("give a query, or --write-db PATH")
    if write_db is not None:
        if query:
            raise click.UsageError("--write-db takes no query")
        if not write_db.parent.is_dir():
            raise click.BadParameter(f"no such folder: {write_db.parent}", param_hint="--write-db")
        write_db.unlink(missing_ok=True)
        con = store.connect(obj.settings.processed_dir, obj.settings.raw_dir, database=str(write_db), snap=as_of,
                            retention=obj.settings.process.retention_seconds)
        (snap_id,) = con.execute("select id from dateline_internal.snapshot").fetchone() or (0,)
        con.close()
        click.echo(f"wrote {write_db}: views over snapshot {snap_id} of {obj.settings.data_dir.resolve()}, "
                   f"paths relative to {write_db.resolve().parent}", err=True)
        return
    assert query is not None
    print_query(read_connection(obj, as_of), query, {}, fmt)


@cli.command()
@click.argument("view", required=False)
@format_option()
def schema(view: str | None, fmt: str) -> None:
    """The tables and views, and what a row of each is; with VIEW, its columns, types and meaning.

    Descriptions come from transforms/schema.py, where the columns are defined; no data dir needed.

    \b
        dateline schema
        dateline schema events
        dateline schema actor_events --format csv
    """
    from dateline.flows import catalog

    entries = catalog.described()
    if view is None:
        table = pa.table({"view": list(entries), "kind": ["table" if v not in catalog.VIEWS else "view"
                                                          for v in entries], "row": list(entries.values())})
        print_batches(table.to_reader(), fmt)
        return
    if view not in entries:
        raise click.BadParameter(f"no view {view!r}; the views: {', '.join(entries)}", param_hint="VIEW")
    with catalog.empty_connection() as con:
        rows = catalog.columns(con, view)
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(("column", "type", "meaning"))})
    print_batches(table.to_reader(), fmt)


def _query_choices() -> list[str]:
    from dateline.flows.store import saved_queries

    return saved_queries()


@cli.command()
@click.argument("name", type=click.Choice(_query_choices()))
@click.option("-p", "--param", "params", multiple=True, type=(str, str), metavar="KEY VALUE",
              help="Named $parameter: -p site 'The Jerusalem Post'")
@format_option()
@click.pass_obj
def query(obj: Context, name: str, params: tuple[tuple[str, str], ...], fmt: str) -> None:
    """Run saved query sql/NAME.sql and print its rows.

    \b
        dateline query articles_per_site_month
        dateline query quarantine_reasons --format csv
    """
    from dateline.flows import store

    text = store.read_query(name)
    declared = store.query_params(text)
    given = dict(params)
    unknown = set(given) - set(declared)
    if unknown:
        raise click.UsageError(f"{name} has no parameter {', '.join(sorted(unknown))}; "
                               f"its parameters: {', '.join(declared) or 'none'}")
    missing = [p for p in declared if p not in given]
    if missing:
        raise click.UsageError(f"{name} needs -p {missing[0]} VALUE")
    con = read_connection(obj)
    print_query(con, text, given, fmt)


# --- timeline / actors ---------------------------------------------------------------------

ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
TIMELINE_TABLE = ("event_date", "trigger", "reports", "sites", "sentence", "first_url")  # --format table columns
# the same name-or-alias match as the saved actor queries, to tell "no such actor" from "no events"
_ACTOR_EXISTS = "select count(*) from actor_named($actor)"


def _iso_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    """An ISO date option, normalized to YYYY-MM-DD; '' when not given (the saved queries' "no bound")."""
    if value is None:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2023-01-31") from None


def event_days(dates: pa.Array, precisions: pa.Array) -> pa.Array:
    """Event dates as precise as the text gave them: '2023-01-04', '2022-12' (month), '1942' (year)."""
    import pyarrow.compute as pc

    days = pc.cast(dates, pa.string())
    for precision, length in (("year", 4), ("month", 7)):
        days = pc.if_else(pc.fill_null(pc.equal(precisions, precision), False),
                          pc.utf8_slice_codeunits(days, 0, length), days)
    return days


def _timeline_table(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """The --format table columns of a timeline: the event's day as precise as its date, then the rest."""
    schema = pa.schema([(c, pa.string()) for c in TIMELINE_TABLE])

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            columns = [batch.column(c).cast(pa.string()) for c in TIMELINE_TABLE[1:]]
            yield pa.RecordBatch.from_arrays(
                [event_days(batch.column("event_date"), batch.column("date_precision")), *columns], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def timeline_batches(con: Any, actor: str, since: str = "", until: str = "", about: str = "") -> pa.RecordBatchReader:
    """An actor's timeline (sql/actor_timeline.sql) as Arrow batches, after checking the actor is named
    in the corpus: what `dateline timeline` prints, and what bench/duckdb_scale.py times."""
    from dateline.flows import store

    exists = query_batches(con, _ACTOR_EXISTS, {"actor": actor})
    assert exists is not None
    if exists.read_all().column(0)[0].as_py() == 0:
        raise click.ClickException(f"no actor named '{actor}' (try: dateline actors)")
    reader = query_batches(con, store.read_query("actor_timeline"),
                           {"actor": actor, "since": since, "until": until, "about": about})
    assert reader is not None
    return reader


# every current report of the timeline's events: a cluster's members, or the event itself when it has none
_EVENT_REPORTS = """
with shown as (
    select unnest($events) as event_id, unnest($clusters) as cluster_id, generate_subscripts($events, 1) as at
)
select s.at, a.published_at, coalesce(a.site_name, a.domain) as site, a.url, e.sentence, e.event_id
from shown as s
join event_cluster_members as m on m.cluster_id = s.cluster_id
join events as e on e.event_id = m.event_id
join articles_current as a on a.article_id = e.article_id and a.content_hash = e.content_hash
union all
select s.at, a.published_at, coalesce(a.site_name, a.domain), a.url, e.sentence, e.event_id
from shown as s
join events as e on e.event_id = s.event_id
join articles_current as a on a.article_id = e.article_id and a.content_hash = e.content_hash
where s.cluster_id is null
order by 1, 2 nulls last, 4, 6
"""
REPORTS_TABLE = ("event_date", "trigger", "reports", "published_at", "site", "url", "sentence")


def timeline_reports(con: Any, timeline: pa.Table) -> pa.Table:
    """Every report of each timeline event, under it: the event's date, trigger and report count, then
    each report's publication time, site, URL and sentence (the first report of an event first)."""
    events = timeline.column("event_id").to_pylist()
    clusters = timeline.column("cluster_id").to_pylist()
    reports = con.sql(_EVENT_REPORTS, params={"events": events, "clusters": clusters}).to_arrow_table()
    at = reports.column("at")
    import pyarrow.compute as pc

    index = pc.subtract(at, 1)
    days = event_days(timeline.column("event_date"), timeline.column("date_precision"))
    return pa.table({
        "event_date": pc.take(days, index), "trigger": pc.take(timeline.column("trigger"), index),
        "reports": pc.take(timeline.column("reports"), index), "published_at": reports.column("published_at"),
        "site": reports.column("site"), "url": reports.column("url"), "sentence": reports.column("sentence"),
        "event_id": reports.column("event_id"), "cluster_id": pc.take(timeline.column("cluster_id"), index)})


@cli.command()
@click.argument("actor")
@click.option("--since", callback=_iso_date, metavar="DATE", help="Only events on or after this day (2022-02-24).")
@click.option("--until", callback=_iso_date, metavar="DATE", help="Only events on or before this day.")
@click.option("--about", default="", metavar="WORD", help="Only events a report of which contains WORD (any case).")
@click.option("--reports", "with_reports", is_flag=True, help="List every report of each event under it.")
@format_option()
@click.pass_obj
def timeline(obj: Context, actor: str, since: str, until: str, about: str, with_reports: bool, fmt: str) -> None:
    """What happened with ACTOR (a name or alias, any case), in date order (sql/actor_timeline.sql).

    Each row is one event: the reports of it in every article and site share a row (event clusters),
    told by its most representative sentence, dated by the text ("last month" -> '2022-12') or else
    by the articles; undated events come last. `reports` and `sites` count who told it. The table
    shows the date, verb, counts, sentence and first report's URL; csv, json and jsonl give every
    column. --reports lists each event's reports under it: when, which site, URL and sentence.

    \b
        dateline timeline putin
        dateline timeline putin --reports --since 2022-09-01
        dateline timeline "Vladimir Putin" --since 2022-02-24 --about mobilization --format csv
    """

    con = read_connection(obj)
    reader = timeline_batches(con, actor, since, until, about)
    if with_reports:
        listed = timeline_reports(con, reader.read_all())
        if fmt == "table":
            import pyarrow.compute as pc

            when = pc.strftime(listed.column("published_at"), format="%Y-%m-%d %H:%M", locale="C")
            listed = listed.set_column(listed.schema.get_field_index("published_at"), "published_at", when)
            listed = listed.select(REPORTS_TABLE).cast(pa.schema([(c, pa.string()) for c in REPORTS_TABLE]))
        print_batches(pa.RecordBatchReader.from_batches(listed.schema, listed.to_batches()), fmt)
        return
    print_batches(_timeline_table(reader) if fmt == "table" else reader, fmt)


@cli.command(name="search")
@click.argument("text", metavar="QUERY")
@click.option("--since", callback=_iso_date, metavar="DATE", help="Only articles published on or after this day.")
@click.option("--until", callback=_iso_date, metavar="DATE", help="Only articles published on or before this day.")
@click.option("--site", metavar="SITE", help="Only this site: its domain or name, any case (apnews.com).")
@click.option("--language", metavar="CODE", help="Only articles in this language (ISO 639-1: en, de).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True, help="How many hits.")
@click.option("--full-snippets", is_flag=True,
              help="Mark matches past the start of a text too, reading the texts from the tables (slower).")
@format_option()
@click.pass_obj
def search_command(obj: Context, text: str, since: str, until: str, site: str | None, language: str | None,
                   limit: int, full_snippets: bool, fmt: str) -> None:
    """Full-text search: the best hits for QUERY, ranked, with a snippet (matches in **), URL and date.

    Words must all match (AND is the default; OR, NOT, -word, "phrases", (groups) work), stemmed per
    language (English, German, French, Spanish, Italian, Portuguese, Dutch, Russian, Swedish). Fields:
    title:, description:, text:, captions:, authors:, site:. A snippet marks matches in the description
    and the first 300 characters of the text (--full-snippets: anywhere). In SQL the hits are the table
    search('QUERY'[, limit]): dateline sql "select ... from search('wagner AND bakhmut') join events
    using (article_id)".

    \b
        dateline search putin
        dateline search '"partial mobilization" title:putin' --since 2022-09-01 --format csv
        dateline search 'wagner AND NOT bakhmut' --language en --site apnews.com
    """
    from dateline.flows import search

    con = read_connection(obj)
    try:
        hits = search.search(con, obj.settings.processed_dir, text, since=since, until=until, site=site,
                             language=language, limit=limit, full_snippets=full_snippets)
    except search.SearchError as exc:
        raise _one_line(exc) from None
    if fmt == "table":
        hits = hits.select(["published_at", "site", "title", "snippet", "url"])
    print_batches(hits.to_reader(), fmt)


@cli.command()
@click.option("--top", type=click.IntRange(1), default=20, show_default=True, help="How many actors to list.")
@click.option("--kind", type=click.Choice(ACTOR_KINDS), help="Only actors of this kind.")
@format_option()
@click.pass_obj
def actors(obj: Context, top: int, kind: str | None, fmt: str) -> None:
    """The actors named in the most articles, with their mention counts (sql/top_actors.sql).

    \b
        dateline actors
        dateline actors --top 50 --kind organization --format csv
    """
    from dateline.flows import store

    con = read_connection(obj)
    print_query(con, store.read_query("top_actors"),
                {"since": "", "until": "", "kind": kind or "", "limit": str(top)}, fmt)


@cli.command()
@click.argument("actor", required=False)
@click.option("--corpus", is_flag=True, help="Report on the whole corpus instead of one actor.")
@click.option("--since", callback=_iso_date, metavar="DATE", help="Only events on or after this day.")
@click.option("--until", callback=_iso_date, metavar="DATE", help="Only events on or before this day.")
@click.option("--interval", type=click.Choice(("day", "week")), default="day", show_default=True,
              help="Mentions per day or per week.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write.")
@click.pass_obj
def report(obj: Context, actor: str | None, corpus: bool, since: str, until: str, interval: str,
           output: Path) -> None:
    """Write one self-contained HTML file (charts and tables; opens offline) on ACTOR or the --corpus.

    ACTOR: its events on a time axis (a day as a point, a month or a year as a bar), its mentions
    per day or week, the actors named with it and its quotes. --corpus: articles per site and day,
    quarantine reasons, languages, and the agencies and photographers image credits name.

    \b
        dateline report putin -o putin.html
        dateline report "Vladimir Putin" --since 2022-09-01 --interval week -o putin.html
        dateline report --corpus -o corpus.html
    """
    if corpus == (actor is not None):
        raise click.UsageError("give an ACTOR or --corpus")
    if corpus and (since or until):
        raise click.UsageError("--since and --until bound an actor's events; --corpus covers every date")
    if not output.parent.is_dir():
        raise click.BadParameter(f"no such folder: {output.parent}", param_hint="--output")
    from dateline.flows import report as reports

    con = read_connection(obj)
    try:
        page = (reports.corpus_report(con) if actor is None else
                reports.actor_report(con, actor, since=since, until=until, interval=interval))
        reports.write_report(output, page)
    except DatelineError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {output} ({len(page.encode()) // 1024} KiB)", err=True)


@cli.command()
@click.option("--since", help="Only pages fetched on or after this date (ISO).")
@click.option("--rebuild", is_flag=True, help="Rebuild data/processed from scratch (runs and fetch-stage "
              "quarantine rows are kept); without it, only new article versions are added.")
@click.option("--workers", type=click.IntRange(0, 256), help="Extraction processes; 0 = one per core [0].")
@click.pass_obj
def reprocess(obj: Context, since: str | None, rebuild: bool, workers: int | None) -> None:
    """Extract and analyze the archived pages again, from data/raw, with no network.

    Use it after an extractor upgrade: `extractor_version` on every row tells old from new.

    \b
        dateline reprocess --rebuild
        dateline reprocess --since 2024-06-01
    """
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise click.BadParameter(f"{since!r} is not a date like 2024-06-01", param_hint="--since") from None
    settings = obj.settings
    if workers is not None:
        settings = replace(settings, process=replace(settings.process, workers=workers))
    settings = _with_runner(replace(settings, data_dir=settings.data_dir.resolve()), None, None)
    if not (settings.raw_dir / "raw_index").exists():
        raise click.ClickException(f"no raw archive under {settings.raw_dir}")
    _quiet_prefect(obj.verbose)
    from dateline.flows.server import prefect_api_for

    with prefect_api_for(settings):  # a local Prefect server when dateline.toml sets runner = "dask"
        from dateline.flows.pipeline import pipeline

        # a rebuild writes its tables beside the old ones and switches to them in one commit at the end
        result = pipeline(sources={}, settings=settings.to_dict(), reprocess=True, reprocess_since=since,
                          rebuild=rebuild)
    click.echo(f"reprocess {result['run_id']} {result['status']}: {result['archived_count']} archived pages, "
               f"{result['extracted_count']} articles ({result['new_article_count']} new), "
               f"{result['quarantined_count']} quarantined", err=True)


@cli.command()
@click.argument("article", required=False)
@click.option("--since", default="", help="Only articles changed on or after this date (ISO).")
@format_option()
@click.pass_obj
def revisions(obj: Context, article: str | None, since: str, fmt: str) -> None:
    """List articles that changed after they were first fetched, or show one article's changes.

    ARTICLE (an article_id or URL) prints a short diff of its last two versions' title and text.

    \b
        dateline revisions --since 2024-06-01
        dateline revisions https://www.jpost.com/international/article-726552
    """
    import difflib

    from dateline.flows import store

    con = read_connection(obj)
    if article is None:
        print_query(con, store.read_query("revisions"), {"since": since}, fmt)
        return
    versions = con.execute(
        "select fetched_at, title, text from articles where article_id = $a or url = $a or canonical_url = $a "
        "order by fetched_at desc limit 2", {"a": article}).fetchall()
    if len(versions) < 2:
        raise click.ClickException(f"{article!r} has {'one version' if versions else 'no article'}: nothing to compare")
    (new_at, new_title, new_text), (old_at, old_title, old_text) = versions
    old = [f"title: {old_title}", *old_text.split("\n")]
    new = [f"title: {new_title}", *new_text.split("\n")]
    diff = difflib.unified_diff(old, new, fromfile=f"fetched {old_at:%Y-%m-%d %H:%M}Z",
                                tofile=f"fetched {new_at:%Y-%m-%d %H:%M}Z", lineterm="", n=0)
    for line in diff:
        click.echo(line)


# --- status / compact -------------------------------------------------------------------------

STATUS_SECTIONS = (("Last runs", "runs_recent"), ("Quarantined pages by stage and reason", "quarantine_reasons"),
                   ("Freshness per source", "source_freshness"))


@cli.command()
@format_option(choices=("table", "json"))
@click.pass_obj
def status(obj: Context, fmt: str) -> None:
    """Show the last runs, their counts per stage, quarantine reasons and freshness per source.

    \b
        dateline status
        dateline status --format json
    """
    from dateline.flows import snapshot, store

    con = read_connection(obj)
    report: dict[str, Any] = {}
    for title, name in STATUS_SECTIONS:
        cursor = con.execute(store.read_query(name), {"since": ""} if store.query_params(store.read_query(name))
                             else None)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
        if fmt == "json":
            report[name] = [jsonable(dict(zip(columns, r, strict=True))) for r in rows]
            continue
        sys.stdout.write(f"== {title}\n")
        write_table(sys.stdout, columns, rows)
        sys.stdout.write("\n")
    snaps = [{"snapshot": s.id, "committed_at": s.committed_at, "kind": s.kind, "run_id": s.run_id,
              "rows_added": ", ".join(f"{k} +{v}" for k, v in sorted(s.added.items()) if v)}
             for s in reversed(snapshot.history(obj.settings.processed_dir)[-10:])]
    if fmt == "json":
        report["snapshots"] = snaps
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write("== Last snapshots (dateline sql --as-of SNAPSHOT|RUN_ID reads one while it is retained)\n")
    columns = ["snapshot", "committed_at", "kind", "run_id", "rows_added"]
    write_table(sys.stdout, columns, [[s[c] for c in columns] for s in snaps])


@cli.command()
@click.option("--search", "rebuild_search", is_flag=True,
              help="Also rebuild the search index from articles_current alone (beside the old one).")
@click.pass_obj
def compact(obj: Context, rebuild_search: bool) -> None:
    """Merge each table partition's small Parquet files into one, in one commit; remove old files.

    Readers keep the snapshot they started with; replaced files are removed once no snapshot of the
    retention window (process.retention_seconds) lists them. The search index is brought to the new
    snapshot; with --search it is built afresh from the tables.

    \b
        dateline compact
        dateline compact --search
    """
    from dateline.flows import search, store
    from dateline.flows.lock import data_dir_lock

    settings = obj.settings
    if rebuild_search and not search.available(settings.processed_dir):
        raise click.UsageError("--search needs a local processed root: the search index is not kept in object storage")
    with data_dir_lock(settings.data_dir, settings.process.lock_wait_seconds):  # never during a run
        done = store.compact(settings.processed_dir, settings.raw_dir)
        for note in store.collect_garbage(settings.processed_dir, settings.raw_dir, settings.process.retention_seconds):
            click.echo(note, err=True)
        if rebuild_search:
            synced = search.sync(settings.processed_dir, settings.raw_dir, rebuild=True)
            click.echo(f"search index rebuilt: {synced.get('added', 0)} articles, snapshot {synced.get('snapshot')}",
                       err=True)
        else:
            search.sync_quietly(settings.processed_dir, settings.raw_dir)
    for folder, (files, rows) in sorted(done.items()):
        click.echo(f"{folder}: {files} files -> 1 ({rows} rows)", err=True)
    if not done:
        click.echo("nothing to compact", err=True)


# --- extract --------------------------------------------------------------------------------

@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@format_option(default="jsonl", choices=("jsonl", "json", "table"))
@click.option("--url", help="The page's URL, for a single saved page that does not declare one.")
@click.pass_obj
def extract(obj: Context, paths: tuple[Path, ...], fmt: str, url: str | None) -> None:
    """Extract articles from saved pages or WARC files, without orchestration or writing anything.

    PATH is an .html or .html.gz file, a folder of them, or a .warc/.warc.gz file. Prints one
    object per page with the `articles` columns plus `source`; a page that fails has `error`
    {stage, reason, detail} instead.

    \b
        dateline extract saved/article.html
        dateline extract crawl.warc.gz --format table
    """
    from dateline.flows.local import extract_paths

    outcomes = extract_paths(list(paths), obj.settings.fetch.max_bytes, url=url)
    if fmt == "table":
        columns = ["source", "title", "published_at", "language", "word_count", "error"]
        rows = ([o.get(c) if c != "error" else (o["error"]["reason"] if "error" in o else None)
                 for c in columns] for o in outcomes)
        write_table(sys.stdout, columns, rows)
        return
    records = (jsonable(o) for o in outcomes)
    if fmt == "json":
        first = True
        sys.stdout.write("[")
        for rec in records:
            sys.stdout.write(("," if not first else "") + "\n" + json.dumps(rec, ensure_ascii=False, indent=2))
            first = False
        sys.stdout.write("\n]\n")
    else:
        for rec in records:
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
