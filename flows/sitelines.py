"""The site evidence kept across runs (transforms/sitewide.py): one small JSON file per site.

``data/processed/site_lines/<sha1 of the site>.json`` holds, for one registered domain, the line keys its
pages showed with the ids of up to MIN_STORIES stories each, and the display names its pages gave. A batch
reads the files of its own sites only (never the whole corpus) as they were when the run started;
it stages what its pages showed in the run's staging folder (``_staging/<run_id>/site_lines/<batch_id>.json``,
dropped with the run's other staged rows when the run is discarded); the run's load step merges the
staged evidence into the site files in batch order and removes it. So
batches running at once never write the same file, and a run's output depends only on its input and
on the runs committed before it.

A site's file keeps at most MAX_KEYS lines: past that, lines seen on one story only are dropped
oldest first (furniture recurs on nearly every page, so it reaches several stories long before).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from dateline.flows import storage, store
from dateline.transforms.sitewide import MIN_STORIES, SiteEvidence, SiteLines, merged

MAX_KEYS = 50_000


def _dir(processed: Path) -> Path:
    return processed / "site_lines"


def _file(processed: Path, site: str) -> Path:
    # named by a hash: no file on disk takes its name from text a page or URL supplied
    return _dir(processed) / f"{hashlib.sha1(site.lower().encode()).hexdigest()[:20]}.json"


def _staging(processed: Path, run_id: str) -> Path:
    return store.staging_dir(processed, run_id) / "site_lines"


def _write_json(path: Path, value: object) -> None:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if storage.is_remote(path):  # an object PUT is atomic
        path.write_text(text, encoding="utf-8")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader sees the old file or the new one


def _to_json(ev: SiteEvidence) -> dict[str, object]:
    return {"lines": ev.lines, "names": ev.names}


def _from_json(value: dict[str, object]) -> SiteEvidence:
    lines = value.get("lines") or {}
    names = value.get("names") or {}
    return SiteEvidence({str(k): [str(i) for i in v][:MIN_STORIES] for k, v in dict(lines).items()},  # type: ignore[call-overload]
                        {str(k): int(v) for k, v in dict(names).items()})  # type: ignore[call-overload]


def read_site_lines(processed: Path, sites: set[str]) -> SiteLines:
    """The committed evidence of the given sites (sites without a file have none yet)."""
    out: SiteLines = {}
    for site in sorted(sites):
        path = _file(processed, site)
        try:
            out[site] = _from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, TypeError, AttributeError):
            continue  # a damaged file is evidence lost, not a failed run: it is rewritten at the next load
    return out


def stage_site_lines(processed: Path, run_id: str, batch_id: str, evidence: SiteLines) -> None:
    """Stage what one batch's pages showed, to be merged when the run is loaded."""
    if evidence:
        _write_json(_staging(processed, run_id) / f"{batch_id}.json",
                    {site: _to_json(ev) for site, ev in evidence.items()})


def load_site_lines(processed: Path, run_id: str) -> int:
    """Merge a run's staged evidence into the site files (batches in id order), drop the staging; the
    number of site files written. Safe to repeat: merging the same stories twice changes nothing."""
    staging = _staging(processed, run_id)
    if not staging.exists():
        return 0
    new: SiteLines = {}
    for path in sorted(staging.glob("*.json")):
        batch = {site: _from_json(ev) for site, ev in json.loads(path.read_text(encoding="utf-8")).items()}
        new = merged(new, batch)
    prior = read_site_lines(processed, set(new))
    for site, ev in merged(prior, new).items():
        if len(ev.lines) > MAX_KEYS:
            singles = [k for k, ids in ev.lines.items() if len(ids) < 2]
            for key in singles[:len(ev.lines) - MAX_KEYS]:
                del ev.lines[key]
        _write_json(_file(processed, site), _to_json(ev))
    storage.remove_tree(staging)
    return len(new)
