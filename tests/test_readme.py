"""The README's command examples are what the commands print: docs/readme.py regenerates them with
cog from real runs (the demo corpus and the seed page), and this test fails when the README differs,
run ids, timestamps and durations masked (`make readme` regenerates it)."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))
import readme  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples_match_what_the_commands_print(tmp_path):
    out = tmp_path / "README.md"
    env = {**os.environ, "DATELINE_README_DATA": str(tmp_path / "corpora")}
    done = subprocess.run([sys.executable, "-m", "cogapp", "-I", "docs", "-p", "import readme", "-o", str(out),
                           "README.md"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    now, then = readme.mask(out.read_text()), readme.mask((ROOT / "README.md").read_text())
    diff = "\n".join(difflib.unified_diff(then.splitlines(), now.splitlines(), "README.md", "regenerated",
                                          lineterm="", n=1))
    assert now == then, f"the README's examples have drifted; run `make readme`:\n{diff[:4000]}"


def test_mask_hides_only_what_changes_between_runs():
    line = "run 20261205T162319Z-bba9fb completed in 20.8 s: 155 discovered; at 2026-12-05T16:23:19.5Z"
    assert readme.mask(line) == "run RUN_ID completed in N s: 155 discovered; at TIMESTAMP"
