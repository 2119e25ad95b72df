"""dateline.toml and environment settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from dateline.flows.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dateline.toml"
    path.write_text(text)
    return path


def test_config_file_sets_sources_and_settings_relative_to_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("DATELINE_DATA_DIR", raising=False)
    path = write(tmp_path, 'data_dir = "store"\nfeeds = ["https://x.example/rss"]\nurls = ["list.txt"]\n'
                           "[fetch]\nconcurrency = 3\nper_host_delay = 2\n[process]\nbatch_size = 100\n")
    settings, sources = load_config(path)
    assert settings.data_dir == tmp_path / "store"
    assert sources.feeds == ("https://x.example/rss",) and sources.urls == (str(tmp_path / "list.txt"),)
    assert (settings.fetch.concurrency, settings.fetch.per_host_delay, settings.process.batch_size) == (3, 2.0, 100)


@pytest.mark.parametrize(("text", "message"), [
    ('feeds = "not a list"', "feeds must be a list of strings"),
    ("colour = 1", "unknown key"),
    ("[fetch]\nconcurency = 2", "unknown key"),
    ('[fetch]\nconcurrency = "8"', "concurrency must be int"),
    ("[fetch]\nconcurrency = 0", "at least 1"),
    ("feeds = [", "not valid TOML"),
], ids=["type", "unknown-top", "unknown-fetch", "wrong-type", "range", "syntax"])
def test_bad_config_gives_one_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_environment_overrides_data_dir_and_private_networks(tmp_path, monkeypatch):
    monkeypatch.setenv("DATELINE_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("DATELINE_ALLOW_PRIVATE_NETWORKS", "1")
    settings, _ = load_config(None)
    assert settings.data_dir == tmp_path / "env" and settings.fetch.allow_private_networks
