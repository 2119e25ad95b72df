"""Copies of one wire story across sites share a story group (dup_group)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dateline.flows import store
from dateline.flows.config import FetchSettings, ProcessSettings, Settings
from dateline.flows.pipeline import pipeline
from dateline.transforms.dedup import BANDS, NUM_PERM, fingerprint, similarity

STORY = (Path(__file__).parent / "fixtures" / "http" / "articles" / "seed.html").read_text()


def words(n: int, step: int = 7) -> str:
    return " ".join(f"w{(i * step) % 997}" for i in range(n))


def test_fingerprint_shape_is_fixed():
    fp = fingerprint("one two three four five six seven")
    assert len(fp.signature) == NUM_PERM and len(fp.bands) == BANDS


def test_near_copies_are_similar_and_share_bands():
    text = words(600)
    copy = text.replace("w7 w14", "w7 changed w14", 1) + " Follow us for more."
    a, b = fingerprint(text), fingerprint(copy)
    assert similarity(a.signature, b.signature) >= 0.8 and set(a.bands) & set(b.bands)


def test_different_texts_are_not_similar():
    a, b = fingerprint(words(600)), fingerprint(words(600, step=11) + " other story entirely")
    assert similarity(a.signature, b.signature) < 0.5


def test_signatures_are_stable_across_calls():
    assert fingerprint("the same text here again").signature == fingerprint("the same text here again").signature


@pytest.fixture(scope="module")
def wire_run(http_server, prefect_harness, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dedup")
    urls = tmp / "urls.txt"
    urls.write_text(f"{http_server.url}/wire/alpha\n{http_server.url}/wire/beta\n{http_server.url}/articles/cbc.html\n")
    settings = Settings(data_dir=tmp / "data", fetch=FetchSettings(allow_private_networks=True, per_host_delay=0.0),
                        process=ProcessSettings(workers=1, batch_size=1))  # one page per batch: groups across batches
    pipeline(sources={"urls": [str(urls)]}, settings=settings.to_dict())
    with store.connect(settings.processed_dir, settings.raw_dir) as con:
        return con.execute("select domain, dup_group, article_id from articles_current order by domain").fetchall()


def test_two_sites_carrying_one_wire_story_share_a_dup_group(wire_run):
    groups = {domain: (group, article_id) for domain, group, article_id in wire_run}
    assert set(groups) == {"alpha.example", "beta.example", "cbc.ca"}
    assert groups["alpha.example"][0] == groups["beta.example"][0]
    assert groups["alpha.example"][1] != groups["beta.example"][1]  # two articles, one story
    assert groups["cbc.ca"][0] != groups["alpha.example"][0]
    assert groups["cbc.ca"][0] == groups["cbc.ca"][1]  # a story of its own is its own group


def test_timeline_tells_a_wire_story_once(wire_run, http_server, tmp_path_factory):
    """Both copies of the seed story name Putin; his timeline lists each of their events once."""
    import json

    from click.testing import CliRunner
    from dateline.flows.cli import cli

    data = next(p for p in tmp_path_factory.getbasetemp().glob("dedup*/data"))
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "timeline", "Putin", "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    # a sentence can tell two events (its main verb's and a dated clause's): each once
    told = [(r["sentence"], r["trigger"]) for r in map(json.loads, result.stdout.splitlines())]
    assert told and len(told) == len(set(told))


def stage_versions(processed: Path, run_id: str, versions: list[tuple[str, str, str, int]]) -> None:
    """Stage dedup rows (article id, content hash, text, fetched hour), as a run's batches do."""
    from datetime import UTC, datetime, timedelta

    from dateline.transforms.schema import DEDUP, DedupRecord

    rows = [DedupRecord(article_id=a, content_hash=h, dup_group="", similarity=0.0, signature=fp.signature,
                        bands=fp.bands, fetched_at=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(hours=hour))
            for a, h, text, hour in versions for fp in [fingerprint(text)]]
    store.stage(rows, DEDUP, processed, run_id, "batch")


def test_later_runs_join_stored_story_groups_and_new_versions_keep_theirs(tmp_path):
    from dateline.flows.dedup import assign_groups
    from dateline.transforms.schema import DEDUP

    processed, raw = tmp_path / "processed", tmp_path / "raw"
    store.ensure_tables(processed, raw)
    story, other = words(600), words(600, step=11) + " another story"
    stage_versions(processed, "r1", [("wire-a", "h1", story, 0), ("other", "h1", other, 0)])
    assert assign_groups(processed, "r1") == 0
    store.load_staged(processed, "r1", DEDUP)
    copy = story.replace("w7 w14", "w7 changed w14", 1) + " Follow us for more."
    stage_versions(processed, "r2", [("wire-b", "h1", copy, 5),                  # a copy on another site
                                     ("wire-a", "h2", words(300, step=13), 6),  # wire-a rewritten entirely
                                     ("alone", "h1", words(600, step=17), 7)])
    assert assign_groups(processed, "r2") == 1  # wire-b; wire-a/h2 stays in its own article's group
    store.load_staged(processed, "r2", DEDUP)
    with store.connect(processed, raw) as con:
        groups = dict(con.execute("select article_id || '/' || content_hash, dup_group from dedup").fetchall())
    assert groups == {"wire-a/h1": "wire-a", "other/h1": "other", "wire-b/h1": "wire-a", "wire-a/h2": "wire-a",
                      "alone/h1": "alone"}
