"""`make lint` passes: ruff over the code, tests and benches, and mypy --strict over the package (a
type error is a test failure, not a note for later)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lint_passes():
    done = subprocess.run(["make", "-s", "lint"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
