"""One run at a time per data dir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dateline.flows.config import ProcessSettings, Settings
from dateline.flows.lock import DataDirLocked, data_dir_lock

SEED_DIR = Path(__file__).parent / "fixtures" / "seed"


def test_second_holder_gives_up_with_a_clear_message(tmp_path):
    with data_dir_lock(tmp_path, wait_seconds=5), pytest.raises(DataDirLocked, match="another run is using"), \
            data_dir_lock(tmp_path, wait_seconds=0.3):
        pass


def test_lock_is_free_again_after_the_block(tmp_path):
    with data_dir_lock(tmp_path, wait_seconds=1):
        pass
    with data_dir_lock(tmp_path, wait_seconds=0.3):
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = ("import sys, time; from pathlib import Path; from flows.lock import data_dir_lock\n"
            "with data_dir_lock(Path(sys.argv[1]), 1):\n    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              cwd=Path(__file__).parent.parent)
    assert holder.stdout.readline().strip() == b"held"
    with pytest.raises(DataDirLocked), data_dir_lock(tmp_path, wait_seconds=0.3):
        pass
    holder.kill()
    holder.wait(timeout=10)
    holder.stdout.close()
    with data_dir_lock(tmp_path, wait_seconds=2):
        pass


def test_a_run_refuses_while_another_holds_the_data_dir(tmp_path, prefect_harness):
    from dateline.flows.pipeline import pipeline

    settings = Settings(data_dir=tmp_path / "data", process=ProcessSettings(workers=1, lock_wait_seconds=0.3))
    with data_dir_lock(settings.data_dir, wait_seconds=1), pytest.raises(DataDirLocked):
        pipeline(sources={"html_dirs": [str(SEED_DIR)]}, settings=settings.to_dict())
