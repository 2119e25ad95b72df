"""Faults: a run killed with SIGKILL while it writes, and a disk that fills up.

The runs under test are real `dateline` processes (``python -m flows.cli``) with their own data
dir and PREFECT_HOME under tmp_path, talking to the session's Prefect test API (so no process
pays for starting a Prefect server of its own). They are killed by polling the data dir until
the moment wanted shows on disk; each test then checks that the kill did land there. The runs
that must finish afterwards are ordinary `dateline run` invocations in this process.
Two runs at once on one data dir: tests/test_lock.py.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from dateline.flows import snapshot, store
from dateline.flows.cli import cli
from dateline.transforms.schema import TABLES
from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "data" / "sample" / "sample.warc.gz"
# records of the sample WARC (0 is its warcinfo): short pages, three English (NLP rows), one no article
CORPUS_RECORDS = {0, 1, 4, 16, 46, 93, 96, 101, 111, 133}
CHECKED = ("articles", "images", "mentions", "article_actors", "events", "quotes", "dedup", "quarantine")


# --- helpers ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small WARC cut from the sample: whole gzip members copied byte for byte."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.warc.gz"
    data = SAMPLE.read_bytes()
    with open(SAMPLE, "rb") as stream, open(path, "wb") as out:
        records = ArchiveIterator(stream)
        for n, record in enumerate(records):
            record.content_stream().read()
            if n in CORPUS_RECORDS:
                start = records.get_record_offset()
                out.write(data[start:start + records.get_record_length()])
    return path


@pytest.fixture(scope="module")
def api_url(prefect_harness: None) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def child_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_API_URL=api_url, DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


def start(args: list[str], env: dict[str, str], stderr: Path,
          preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
    with open(stderr, "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "dateline", *args], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=preexec_fn)


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, stderr: Path) -> None:
    """SIGKILL the process as soon as ``ready()`` holds (polled every 2 ms)."""
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{stderr.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"no {what} within 120 s")
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL  # it was still running: killed, not finished


def data_files(data: Path) -> list[Path]:
    """Table files (schema files aside) under a data dir's processed tree, raw index included."""
    return [p for p in (*(data / "processed").rglob("*.parquet"), *(data / "raw" / "raw_index").glob("*.parquet"))
            if p.name != store.SCHEMA_FILE]


def staged(data: Path, table: str = "articles") -> list[Path]:
    return list((data / "processed" / store.STAGING).glob(f"*/{table}/*.parquet"))


def loaded(data: Path, table: str) -> list[Path]:
    return [p for p in (data / "processed" / table).rglob("*.parquet") if p.name != store.SCHEMA_FILE]


def assert_no_partial_parquet(data: Path) -> None:
    """Every Parquet file a query could read is whole, and every view answers."""
    for path in (data / "processed").rglob("*.parquet"):
        duckdb.sql(f"select count(*) from read_parquet({store.sql_literal(str(path))})").fetchall()
    with store.connect(data / "processed", data / "raw") as con:
        for view in (*CHECKED, "runs", "raw_index", "articles_current"):
            con.execute(f"select count(*) from {view}").fetchall()


def keys(data: Path) -> dict[str, list[tuple]]:
    """Each table's rows by key (a list, so a duplicate shows), and the raw index by (url, sha1)."""
    out: dict[str, list[tuple]] = {}
    with store.connect(data / "processed", data / "raw") as con:
        for name in CHECKED:
            out[name] = sorted(con.execute(f"select {', '.join(TABLES[name].key)} from {name}").fetchall())
        out["raw_index"] = sorted(con.execute("select url, sha1 from raw_index").fetchall())
        out["raw_index_keys"] = sorted(con.execute("select warc_file, warc_offset from raw_index").fetchall())
    return out


def assert_same_as_clean(data: Path, clean: dict[str, list[tuple]]) -> None:
    """No duplicate keys in any table, and the rows of a clean run into a fresh data dir."""
    got = keys(data)
    for name, rows in got.items():
        assert len(rows) == len(set(rows)), f"duplicate keys in {name}"
    assert got["articles"] and got["events"] and got["mentions"]  # the corpus does reach every stage
    for name in (*CHECKED, "raw_index"):
        assert got[name] == clean[name], name


def invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


def warc_args(data: Path, corpus: Path, *more: str) -> list[str]:
    return ["--data-dir", str(data), "run", "--warc", str(corpus), "--workers", "1", *more]


@pytest.fixture(scope="module")
def clean_warc(corpus: Path, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[Path, dict[str, list[tuple]]]:
    """The corpus run once, undisturbed, into a fresh data dir: what every recovered run must equal."""
    data = tmp_path_factory.mktemp("clean-warc") / "data"
    invoke(*warc_args(data, corpus))
    return data, keys(data)


# --- SIGKILL --------------------------------------------------------------------------------

def test_run_killed_while_staging_leaves_whole_files_and_the_next_run_redoes_its_pages(
        tmp_path, corpus, api_url, clean_warc):
    data, err = tmp_path / "data", tmp_path / "stderr.txt"
    proc = start(warc_args(data, corpus, "--batch-size", "1"), child_env(tmp_path, api_url), err)
    kill_when(proc, lambda: bool(staged(data)), "staged articles", err)
    assert staged(data), "killed while staging"
    assert not [p for p in data_files(data) if store.STAGING not in p.parts], "killed before its commit point"
    assert_no_partial_parquet(data)

    invoke(*warc_args(data, corpus))
    assert not list((data / "processed").glob(f"{store.STAGING}/*")), "the dead run's staging is gone"
    assert not list(data.rglob(f".*{store.TMP_SUFFIX}"))
    assert_same_as_clean(data, clean_warc[1])


def test_run_killed_while_loading_is_finished_by_the_next_run(tmp_path, http_server, api_url):
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{http_server.url}/articles/{name}.html\n" for name in ("seed", "cbc", "apnews")))
    args = ["run", "--urls", str(urls), "--workers", "1", "--delay", "0", "--allow-private-networks"]
    clean, data, err = tmp_path / "clean", tmp_path / "data", tmp_path / "stderr.txt"
    invoke("--data-dir", str(clean), *args)

    proc = start(["--data-dir", str(data), *args], child_env(tmp_path, api_url), err)
    kill_when(proc, lambda: bool(loaded(data, "articles")), "loaded articles", err)
    leftover = list((data / "processed" / store.STAGING).iterdir())
    assert len(leftover) == 1 and (leftover[0] / store.COMMITTED).exists(), "killed during the load"
    assert_no_partial_parquet(data)

    invoke("--data-dir", str(data), *args)
    with store.connect(data / "processed", data / "raw") as con:
        # the pages are not due again: only the recovery can have loaded the rest of the killed run
        runs = con.execute("select status, skipped_count from runs order by finished_at").fetchall()
        assert runs == [("recovered", 0), ("completed", 3)]
    assert not list((data / "processed" / store.STAGING).iterdir())
    assert_same_as_clean(data, keys(clean))


def test_rebuild_killed_midway_is_rolled_back_by_the_next_run(tmp_path, corpus, api_url, clean_warc):
    data, err = tmp_path / "data", tmp_path / "stderr.txt"
    shutil.copytree(clean_warc[0], data)
    with store.connect(data / "processed", data / "raw") as con:
        (runs_before,) = con.execute("select count(*) from runs").fetchone()
    proc = start(["--data-dir", str(data), "reprocess", "--rebuild", "--workers", "1"], child_env(tmp_path, api_url),
                 err)
    kill_when(proc, lambda: bool(staged(data)), "a rebuild staging its articles", err)
    assert staged(data), "killed mid-rebuild"
    assert_same_as_clean(data, clean_warc[1])  # readers still see the old corpus, whole

    invoke(*warc_args(data, corpus))
    assert not list((data / "processed" / store.STAGING).iterdir()), "the rebuild's staging is discarded"
    with store.connect(data / "processed", data / "raw") as con:
        assert con.execute("select count(*) from runs").fetchone() == (runs_before + 1,)  # plus this run
    assert_same_as_clean(data, clean_warc[1])


def test_a_compaction_cut_short_changes_nothing_and_the_next_one_merges(tmp_path, clean_warc):
    data = tmp_path / "data"
    shutil.copytree(clean_warc[0], data)
    processed = data / "processed"
    images = processed / "images"
    (whole,) = [processed / f for f in snapshot.current(processed).files("images")]
    table = pq.read_table(whole)
    half = table.num_rows // 2
    tx = store.begin(processed, data / "raw", "run")  # as two runs would leave it
    tx.replace("images", [store.write_parquet(table.slice(0, half), images / "a.parquet"),
                          store.write_parquet(table.slice(half), images / "b.parquet")])
    tx.commit()
    before = image_keys(data)
    # a compaction killed before its commit: the merged file is written, no snapshot lists it
    assert store.compact(processed, data / "raw", tx=store.begin(processed, data / "raw", "compact"))
    (orphan,) = images.glob("compact-*.parquet")
    assert image_keys(data) == before and len(snapshot.current(processed).files("images")) == 2

    result = CliRunner().invoke(cli, ["--data-dir", str(data), "compact"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    (merged,) = snapshot.current(processed).files("images")
    assert merged.startswith("images/compact-") and not orphan.exists()
    assert (images / "a.parquet").exists()  # replaced, kept for the retention window
    assert image_keys(data) == before == sorted(
        tuple(r.values()) for r in table.select(list(TABLES["images"].key)).to_pylist())


def image_keys(data: Path) -> list[tuple]:
    with store.connect(data / "processed", data / "raw") as con:
        return sorted(con.execute(f"select {', '.join(TABLES['images'].key)} from images").fetchall())


# --- a full disk ------------------------------------------------------------------------------

def file_size_limit(limit: int) -> Callable[[], None]:
    """For preexec_fn: no file may grow past ``limit`` bytes, and a write past it fails with EFBIG
    (SIGXFSZ ignored) - what a full disk looks like to the writer, without mounting one."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def assert_one_line_error(proc: subprocess.Popen[bytes], err: Path, names: str) -> str:
    assert proc.wait(timeout=120) == 1
    text = err.read_text()
    assert "Traceback" not in text, text
    last = text.strip().splitlines()[-1]
    assert last.startswith("Error: no space left writing ") and "(File too large)" in last, last
    assert names in last, last
    return last


def test_disk_full_while_archiving_gives_one_line_and_a_readable_warc(tmp_path, corpus, api_url):
    data, err = tmp_path / "data", tmp_path / "stderr.txt"
    limit = corpus.stat().st_size // 3
    proc = start(warc_args(data, corpus), child_env(tmp_path, api_url), err, file_size_limit(limit))
    assert_one_line_error(proc, err, ".warc.gz")
    warcs = list((data / "raw").rglob("*.warc.gz"))
    assert len(warcs) == 1 and 0 < warcs[0].stat().st_size <= limit
    with open(warcs[0], "rb") as stream:  # whole records only: the one cut short was taken off
        types = [record.rec_type for record in ArchiveIterator(stream)]
    assert types[0] == "warcinfo" and types.count("response") >= 1
    assert_no_partial_parquet(data)
    with store.connect(data / "processed", data / "raw") as con:  # nothing committed, nothing loaded
        assert con.execute("select status from runs").fetchall() == [("failed",)]
        assert con.execute("select (select count(*) from raw_index) + (select count(*) from articles)").fetchall() \
            == [(0,)]


def test_disk_full_while_rebuilding_gives_one_line_and_keeps_the_old_tables(tmp_path, api_url, clean_warc):
    data, err = tmp_path / "data", tmp_path / "stderr.txt"
    shutil.copytree(clean_warc[0], data)
    # room for the schema files and the failed run's row, not for a staged batch of articles
    limit = 2 * max(p.stat().st_size for p in data.rglob("*.parquet") if p.name == store.SCHEMA_FILE
                    or p.parent.name == "runs")
    config = tmp_path / "dateline.toml"
    config.write_text("[process]\nnlp = false\n")  # NLP would only delay the first write that fails
    # the first write past the limit is a library's scratch file (the language model unpacked into the
    # temp folder): a machine fault, so the run stops; it once quarantined every page instead, and the
    # rebuild committed an empty corpus
    env = {**child_env(tmp_path, api_url), "TMPDIR": str(tmp_path / "scratch")}
    (tmp_path / "scratch").mkdir()
    proc = start(["--data-dir", str(data), "--config", str(config), "reprocess", "--rebuild", "--workers", "1"],
                 env, err, file_size_limit(limit))
    assert_one_line_error(proc, err, str(tmp_path / "scratch"))
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("processed")) == ["processed"]
    assert not list(data.rglob(f".*{store.TMP_SUFFIX}"))
    assert_no_partial_parquet(data)
    assert_same_as_clean(data, clean_warc[1])
