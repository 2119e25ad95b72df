"""The README's command examples, run for real: cog (https://nedbatchelder.com/code/cog) calls these
functions from the README's `[[[cog ...]]]` blocks and writes what the commands print under them.

    .venv/bin/cog -r README.md          # regenerate the examples (runs the demo corpus once, ~1 min)
    .venv/bin/python docs/readme.py time   # measure `make demo` and `make test` in a fresh clone

tests/test_readme.py regenerates the README the same way and fails when it differs from the file,
with run ids, timestamps and durations masked (they change with every run; the rest must not).

Three corpora, built on first use under build/readme/ (or where DATELINE_README_DATA points):
`sample`, the demo's (`dateline run --warc data/sample/sample.warc.gz`), `seed`, the seed page
alone (`dateline run --html-dir tests/fixtures/seed`), and `reports`, six short articles telling two
events on several sites (`dateline run --articles data/sample/reports.jsonl`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMINGS = ROOT / "docs" / "timings.json"
INPUTS = {"sample": ["run", "--warc", "data/sample/sample.warc.gz"],
          "seed": ["run", "--html-dir", "tests/fixtures/seed"],
          "reports": ["run", "--articles", "data/sample/reports.jsonl"]}

# what changes from one run to the next: masked before the README is compared with a fresh run
VOLATILE = [
    (re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b"), "RUN_ID"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "TIMESTAMP"),
    (re.compile(r"\b\d{4}/\d{2}/RUN_ID"), "WARC_DIR/RUN_ID"),
    (re.compile(r"\bin \d+(?:\.\d+)? s\b"), "in N s"),
    (re.compile(r"\.warc\.gz#\d+"), ".warc.gz#OFFSET"),  # a record's offset follows the archived path's length
    (re.compile(r"(?m)^(RUN_ID\s+\w+\s+TIMESTAMP\s+)\d+(?:\.\d+)?"), r"\1N"),
]


def mask(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _base() -> Path:
    return Path(os.environ.get("DATELINE_README_DATA") or ROOT / "build" / "readme").resolve()


def _dateline() -> list[str]:
    return [sys.executable, "-m", "dateline"]


def corpus(name: str) -> Path:
    """The data dir of a README corpus, built (one real run) when it is not there yet."""
    data = _base() / name
    if not (data / "run.txt").exists():
        data.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_HOME": str(data / "prefect")}
        done = subprocess.run([*_dateline(), "--data-dir", str(data), *INPUTS[name]], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        summary = done.stderr.strip().splitlines()[-1].replace(str(data), "data")
        (data / "run.txt").write_text(summary + "\n")
    return data


def shell(command: str, *, on: str = "sample", head: int | None = None, show: str | None = None) -> None:
    """Print a fenced block: `$ command` (as `show`, when given) and what the command prints,
    its first ``head`` lines then "..." when longer. ``command`` starts with `dateline`; it runs on
    the named corpus."""
    import cog  # type: ignore[import-not-found]  # only inside cog

    cog.outl("```sh")
    cog.outl(f"$ {show or command}")
    cog.out(run(command, on=on, head=head))
    cog.outl("```")


def run(command: str, *, on: str = "sample", head: int | None = None) -> str:
    """What ``command`` (a `dateline ...` command line) prints on a README corpus."""
    args = shlex.split(command)
    assert args[0] == "dateline", command
    data = corpus(on)
    env = {**os.environ, "PREFECT_HOME": str(data / "prefect"), "COLUMNS": "200"}
    done = subprocess.run([*_dateline(), "--data-dir", str(data), *args[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{command!r} failed: {done.stderr.strip()}")
    lines = done.stdout.replace(str(data), "data").splitlines()
    if head is not None and len(lines) > head:
        lines = [*lines[:head], "..."]
    return "".join(line.rstrip() + "\n" for line in lines)


def run_line(on: str = "sample") -> str:
    """The run's one-line summary, as `dateline run` printed it when the corpus was built."""
    return (corpus(on) / "run.txt").read_text()


def timings() -> None:
    """The measured times (docs/timings.json: `time` writes the make targets'; each entry says what
    was measured, when, and on what)."""
    import cog  # type: ignore[import-not-found]

    t = json.loads(TIMINGS.read_text())
    cog.outl(f"Measured on {t['date']} ({t['machine']}): " + "; ".join(t["measured"]) + ".")


def measure() -> None:
    """Time, in a fresh clone of this checkout: `make demo` (the install included), `make demo` again
    (installed) and `make test` (installed); docs/timings.json keeps the seconds and the date."""
    import platform
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dateline-timing-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        out: dict[str, object] = {"date": datetime.now(UTC).date().isoformat(),
                                  "machine": f"{os.cpu_count()} cores, {platform.machine()}, "
                                             f"Python {platform.python_version()}"}
        for key, target in (("demo_fresh_s", "demo"), ("demo_installed_s", "demo"), ("test_installed_s", "test")):
            subprocess.run(["make", "clean-data"], cwd=clone, check=True, capture_output=True)
            started = time.monotonic()
            subprocess.run(["make", target], cwd=clone, check=True, capture_output=True)
            out[key] = round(time.monotonic() - started, 1)
        out["measured"] = [f"`make demo` in a fresh clone, the install included (pip's cache as the machine has it), "
                           f"{out['demo_fresh_s']} s", f"`make demo` again, installed, {out['demo_installed_s']} s",
                           f"`make test`, installed, {_minutes(float(out['test_installed_s']))}"]
        TIMINGS.write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps(out, indent=2))


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


DEMO = [  # what `make demo` prints after its run (Makefile), with how many lines the README shows
    ("Articles per site and month (sql/articles_per_site_month.sql)", "dateline query articles_per_site_month", 5),
    ("Quarantined pages by stage and reason (sql/quarantine_reasons.sql)", "dateline query quarantine_reasons", 4),
    ("Agencies named by image credits (sql/credit_agencies.sql)", "dateline query credit_agencies", 5),
    ("Most mentioned actors (dateline actors --top 10)", "dateline actors --top 10", 8),
    ("Timeline: what happened with Putin, in date order (dateline timeline Putin)", "dateline timeline Putin", 8),
]


def demo() -> None:
    """The start of what `make demo` prints."""
    import cog  # type: ignore[import-not-found]

    cog.outl("```")
    cog.out(run_line("sample"))
    for title, command, head in DEMO:
        cog.outl("")
        cog.outl(f"== {title}")
        cog.out(run(command, head=head))
    cog.outl("```")


if __name__ == "__main__":
    if sys.argv[1:] == ["time"]:
        measure()
    else:
        sys.exit("usage: python docs/readme.py time")
