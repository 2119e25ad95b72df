"""transforms/ stays pure: it never imports orchestration, network, database or flows code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FORBIDDEN = {"prefect", "httpx", "duckdb", "flows", "dateline.flows", "requests", "urllib.request", "socket", "logging"}
TRANSFORMS = sorted((ROOT / "transforms").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def forbidden(module: str) -> bool:
    """'dateline.flows.store' and 'duckdb' are forbidden in transforms/; 'dateline.transforms.schema' is not."""
    parts = module.split(".")
    if parts[0] == "dateline":
        return parts[1:2] != ["transforms"]
    return module in FORBIDDEN or parts[0] in FORBIDDEN


@pytest.mark.parametrize("path", TRANSFORMS, ids=lambda p: p.name)
def test_transforms_import_nothing_impure(path):
    bad = {m for m in imported_modules(path) if forbidden(m)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_layout_has_design_card_folders():
    for folder in ("flows", "transforms", "sql", "tests", "data/raw", "data/processed"):
        assert (ROOT / folder).is_dir(), folder
