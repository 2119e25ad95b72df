"""The Python API for notebooks: dateline.connect, timeline, actors and query, on a real run's corpus."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from dateline.flows.config import ProcessSettings, Settings
from dateline.flows.pipeline import pipeline

import dateline

SEED_DIR = Path(__file__).parent / "fixtures" / "seed"


@pytest.fixture(scope="module")
def data_dir(prefect_harness, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("api") / "data"
    settings = Settings(data_dir=data, process=ProcessSettings(workers=1))
    pipeline(sources={"html_dirs": [str(SEED_DIR)]}, settings=settings.to_dict())
    return data


def test_connect_gives_the_views_and_timeline_the_actors_events(data_dir):
    con = dateline.connect(data_dir)
    assert con.execute("select count(*) from articles_current").fetchall() == [(1,)]
    rows = dateline.timeline(con, "putin")
    assert isinstance(rows, pa.Table) and rows.num_rows > 0
    assert {"event_date", "trigger", "sentence", "url"} <= set(rows.column_names)
    assert sum("Putin" in s for s in rows.column("sentence").to_pylist()) >= rows.num_rows // 2
    since = dateline.timeline(con, "Vladimir Putin", since="2022-12-01")
    assert 0 < since.num_rows <= rows.num_rows
    frame = dateline.actors(con, top=3, kind="person").to_pandas()
    assert list(frame.columns) == ["actor_id", "name", "kind", "articles", "mentions"]
    assert frame["name"].iloc[0] == "Vladimir Putin"


def test_saved_queries_take_keyword_parameters(data_dir):
    con = dateline.connect(data_dir)
    assert dateline.query(con, "articles_per_site_month").num_rows == 1
    with pytest.raises(TypeError, match="has no parameter bogus"):
        dateline.query(con, "top_actors", bogus=1)


def test_unknown_actor_and_missing_corpus_raise(data_dir, tmp_path):
    with pytest.raises(LookupError, match="no actor named 'nobody at all'"):
        dateline.timeline(dateline.connect(data_dir), "nobody at all")
    with pytest.raises(FileNotFoundError, match="no corpus in"):
        dateline.connect(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_the_readmes_python_example_runs(data_dir, tmp_path, monkeypatch, capsys):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("\n## Python\n"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]
    (tmp_path / "data").symlink_to(data_dir)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Vladimir Putin" in printed and "event_date" in printed
