"""`dateline schema` and `dateline sql --help`: every table, view and column a reader meets is described."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from dateline.flows import catalog
from dateline.flows.cli import cli
from dateline.transforms.schema import TABLES


def reader_views(con) -> set[str]:
    """The views in the default schema (the store's own live in dateline_internal)."""
    return {r[0] for r in con.execute("select view_name from duckdb_views() where not internal "
                                      "and schema_name = 'main'").fetchall()}


def test_every_view_a_connection_has_is_described_and_nothing_else():
    with catalog.empty_connection() as con:
        assert reader_views(con) == set(catalog.described())


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_of_every_table_has_a_meaning(table):
    with catalog.empty_connection() as con:
        missing = [name for name, _, meaning in catalog.columns(con, table) if not meaning]
    assert missing in ([], ["published_month"])  # the Hive partition column, derived from published_at


def test_schema_lists_views_and_a_views_columns():
    runner = CliRunner()
    listing = runner.invoke(cli, ["schema", "--format", "csv"], catch_exceptions=False)
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[0] == "view,kind,row" and "events,table,\"One thing that happened, as one sentence tells it\"" in lines
    columns = runner.invoke(cli, ["schema", "events", "--format", "csv"], catch_exceptions=False)
    rows = [line.split(",", 2) for line in columns.stdout.splitlines()[1:]]
    trigger = '"lemma of the event\'s verb: ""order"", ""say"" (the main verb, or a clause\'s own)"'
    assert ["trigger", "VARCHAR", trigger] in rows
    assert [r[0] for r in rows][:3] == ["event_id", "article_id", "content_hash"]
    bad = runner.invoke(cli, ["schema", "evnts"])
    assert bad.exit_code == 2 and "no view 'evnts'" in bad.stderr


def test_sql_help_lists_every_view_with_what_a_row_is():
    text = CliRunner().invoke(cli, ["sql", "--help"], catch_exceptions=False).stdout
    for name, row in catalog.described().items():
        assert f"  {name}" in text and row[:40] in " ".join(text.split())
