"""Readers always see one committed snapshot: reader processes query in a loop while a writer runs,
is SIGKILLed and SIGTERMed at random points, compacts and rebuilds; every answer must be the state of
the snapshot it read (a state between two commits), checked afterwards against that snapshot, and
no query may fail.

DATELINE_STRESS_ROUNDS=5 repeats the writer's sequence (a longer bench; default 1, for CI).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from dateline.flows import snapshot, store
from test_faults import ROOT, SAMPLE, child_env, invoke, start
from warcio.archiveiterator import ArchiveIterator

ROUNDS = int(os.environ.get("DATELINE_STRESS_ROUNDS", "1"))

# one answer per query: the snapshot read and counts that a half-visible commit would break (articles
# without their run's row or their story group, derived rows behind their tables)
FINGERPRINT = """
select (select id from dateline_internal.snapshot) as snapshot,
       (select count(*) from articles) as articles,
       (select count(*) from articles_current where dup_group is null) as without_group,
       (select count(*) from articles where run_id not in (select run_id from runs)) as without_run,
       (select count(*) from events) as events,
       (select count(*) from mentions) as mentions,
       (select count(*) from actor_events) as actor_events,
       (select count(*) from dateline_internal.actor_events_computed) as actor_events_computed,
       (select count(*) from runs) as runs,
       (select count(*) from raw_index) as raw_index
"""

READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from dateline.flows import store
    processed, raw, out, stop, sql, kept = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), \\
        sys.argv[5], sys.argv[6] == "kept"
    con = store.connect(processed, raw) if kept else None
    with open(out, "w") as fh:
        n = 0
        while not stop.exists():
            n += 1
            try:
                if kept:
                    if n % 20 == 0:
                        store.refresh(con)
                    row = con.execute(sql).fetchone()
                else:
                    with store.connect(processed, raw) as fresh:
                        row = fresh.execute(sql).fetchone()
                fh.write(json.dumps({"row": list(row)}) + "\\n")
            except Exception as exc:
                fh.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\\n")
            fh.flush()
""")


def cut(records: set[int], path: Path) -> Path:
    """A WARC of some of the sample's records (whole gzip members, byte for byte)."""
    data = SAMPLE.read_bytes()
    with open(SAMPLE, "rb") as stream, open(path, "wb") as out:
        iterator = ArchiveIterator(stream)
        for n, record in enumerate(iterator):
            record.content_stream().read()
            if n in records:
                start_at = iterator.get_record_offset()
                out.write(data[start_at:start_at + iterator.get_record_length()])
    return path


@pytest.fixture(scope="module")
def api_url(prefect_harness: None) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def interrupt(proc: subprocess.Popen[bytes], rng: random.Random, sig: signal.Signals, err: Path,
              staging: Path) -> str:
    """Send ``sig`` at a random moment of the run (SIGTERM: once it stages, so its handler is set);
    returns what happened. SIGTERM must end it within 15 s."""
    while sig is signal.SIGTERM and proc.poll() is None and not list(staging.glob("*/*")):
        time.sleep(0.01)
    deadline = time.monotonic() + rng.uniform(0.0, 1.0 if sig is signal.SIGTERM else 5.0)
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is not None:
        return f"finished before {sig.name}"
    sent = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout=15)
    assert code != 0, err.read_text()[-2000:]
    if sig is signal.SIGTERM and code != -signal.SIGTERM:  # -15: signalled before the run set its handler
        assert "stopped by SIGTERM" in err.read_text(), err.read_text()[-3000:]
    return f"{sig.name}: exit {code} after {time.monotonic() - sent:.1f} s"


def test_readers_see_whole_commits_while_a_writer_runs_is_killed_compacts_and_rebuilds(tmp_path, api_url):
    rng = random.Random(17)
    first = cut({0, 1, 4, 16, 46, 93}, tmp_path / "first.warc.gz")
    second = cut({0, 96, 101, 111, 133, 140, 150, 160}, tmp_path / "second.warc.gz")
    data = tmp_path / "data"
    processed, raw = data / "processed", data / "raw"
    invoke("--data-dir", str(data), "run", "--warc", str(first), "--workers", "1")
    env = child_env(tmp_path, api_url)
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(processed), str(raw), str(tmp_path / f"r{n}.jsonl"),
                                 str(stop), FINGERPRINT, kind], cwd=ROOT, env=env)
               for n, kind in enumerate(("fresh", "fresh", "kept"))]
    err = tmp_path / "writer.txt"
    happened = []
    try:
        for _ in range(ROUNDS):
            for args, sig in (
                    (["run", "--warc", str(second), "--workers", "1", "--batch-size", "1"], signal.SIGKILL),
                    (["run", "--warc", str(second), "--workers", "1"], None),
                    (["compact"], None),
                    (["reprocess", "--rebuild", "--workers", "1", "--batch-size", "2"], signal.SIGTERM),
                    (["reprocess", "--rebuild", "--workers", "1"], None),
                    (["run", "--warc", str(first), "--workers", "1", "--batch-size", "1"], signal.SIGTERM)):
                proc = start(["--data-dir", str(data), *args], env, err)
                if sig is None:
                    assert proc.wait(timeout=300) == 0, err.read_text()[-3000:]
                    happened.append(f"{args[0]}: done")
                else:
                    happened.append(f"{args[0]}: {interrupt(proc, rng, sig, err, processed / store.STAGING)}")
        invoke("--data-dir", str(data), "run", "--warc", str(first), "--workers", "1")  # picks up what remains
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    answers = [json.loads(line) for n in range(len(readers))
               for line in (tmp_path / f"r{n}.jsonl").read_text().splitlines()]
    errors = [a["error"] for a in answers if "error" in a]
    assert not errors, errors[:5]
    rows = [tuple(a["row"]) for a in answers]
    seen = sorted({r[0] for r in rows})
    assert len(rows) > 50 and len(seen) > 3, (len(rows), seen, happened)
    # every answer is exactly the state of the snapshot it read (read again now, pinned to that snapshot)
    expected = {}
    for snap_id in seen:
        with store.connect(processed, raw, snap=str(snap_id)) as con:
            expected[snap_id] = con.execute(FINGERPRINT).fetchone()
    wrong = [r for r in rows if r != expected[r[0]]]
    assert not wrong, (wrong[:5], [expected[r[0]] for r in wrong[:5]])
    for row in expected.values():  # and each snapshot is whole: no article without its run or story group,
        assert row[2] == row[3] == 0 and row[6] == row[7], row  # derived rows as the tables give them
    kinds = {s.kind for s in snapshot.history(processed)}
    assert {"run", "compact", "rebuild"} <= kinds, kinds
    with store.connect(processed, raw) as con:  # the interrupted runs left nothing behind
        final = con.execute(FINGERPRINT).fetchone()
        assert final[1] > 0 and final[2] == final[3] == 0
    assert not list((processed / store.STAGING).glob("*")) if (processed / store.STAGING).exists() else True
    print("\n".join(happened), f"\n{len(rows)} answers over {len(seen)} snapshots")
