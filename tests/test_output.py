"""Query results printed from Arrow batches read as the same rows printed from Python values.

``write_batches`` (what `dateline sql`, `query`, `timeline`, `actors` and `revisions` print with)
formats a column at a time in Arrow and DuckDB. ``_plain`` below formats Python values one by one,
the plain way (the table through ``write_table``, which the CLI's own tables use). Both read the
same DuckDB result here, and must print the same csv and table text and the same json values,
whatever the strings hold and in batches of any size.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from dateline.flows.output import TABLE_CELL, jsonable, write_batches, write_table
from hypothesis import given, settings
from hypothesis import strategies as st

# Python's whitespace that RE2's \s lacks, separators, quotes, commas, line breaks, wide characters
TRICKY = ' \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2003\u2028\u2029\u202f\u3000,"\'…éЖ漢🙂ab'
texts = st.one_of(st.none(), st.text(alphabet=TRICKY, max_size=80), st.text(max_size=20))

SCALARS = """
select 'plain' as s, null::varchar as missing, 42 as n, -7::bigint as big, true as yes, false as no,
       0.1::double as f, 1.0::double as whole, 1e20::double as huge, 1.50::decimal(4, 2) as d,
       (select sum(x) from range(10) t(x)) as total, date '2023-01-04' as day,
       timestamptz '2023-01-04 09:38:00' as at, timestamptz '2023-01-04 09:38:00.25' as at_fraction,
       timestamp '2023-01-04 09:38:00' as naive, ['a', 'b,c', null] as names, {'k': 1, 'day': date '2022-12-01'} as st,
       'x'::enum('x', 'y') as kind, repeat('long ', 30) as long_text
"""


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con


def _cell_text(value: object) -> str | None:
    """One value as a csv field: booleans as json writes them, lists and structs as JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return str(jsonable(value))


def _plain(out: io.StringIO, columns: list[str], rows: list[tuple], fmt: str) -> int:
    """The plain way: Python's json and csv modules, a value at a time."""
    objects = [json.dumps(jsonable(dict(zip(columns, row, strict=True))), ensure_ascii=False) for row in rows]
    if fmt == "jsonl":
        out.write("".join(o + "\n" for o in objects))
    elif fmt == "json":
        out.write("[" + ",".join("\n  " + o for o in objects) + ("\n]\n" if objects else "]\n"))
    elif fmt == "csv":
        # Python's writer quotes the fields as RFC 4180 does (a "\r" included); lines end in "\n"
        for line in [columns, *([_cell_text(v) for v in row] for row in rows)]:
            one = io.StringIO()
            csv.writer(one).writerow(line)
            out.write(one.getvalue().removesuffix("\r\n") + "\n")
    else:
        return write_table(out, columns, rows)
    return len(rows)


def _both(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, batch_rows: int = 3,
          params: dict | None = None) -> tuple[str, str]:
    arrow, plain = io.StringIO(), io.StringIO()
    n = write_batches(arrow, con.sql(sql, params=params).to_arrow_reader(batch_rows), fmt)
    cursor = con.execute(sql, params)
    rows = cursor.fetchall()
    assert _plain(plain, [d[0] for d in cursor.description], rows, fmt) == n == len(rows)
    return arrow.getvalue(), plain.getvalue()


def _jsonl(text: str) -> list:
    """Objects a line each, split at line feeds only (U+2028 may stand raw in a JSON string)."""
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


@pytest.mark.parametrize("fmt", ["csv", "table", "json", "jsonl"])
def test_every_column_type_prints_as_the_python_values_print(fmt):
    arrow, plain = _both(_connection(), SCALARS, fmt)
    if fmt in ("csv", "table"):
        assert arrow == plain
    elif fmt == "json":
        assert json.loads(arrow) == json.loads(plain)
    else:
        assert _jsonl(arrow) == _jsonl(plain)


def test_values_print_as_iso_dates_utc_timestamps_and_json_lists():
    [row] = csv.DictReader(io.StringIO(_both(_connection(), SCALARS, "csv")[0]))
    assert row["day"] == "2023-01-04" and row["at"] == "2023-01-04T09:38:00Z"
    assert row["at_fraction"] == "2023-01-04T09:38:00.250000Z" and row["naive"] == "2023-01-04T09:38:00"
    assert json.loads(row["names"]) == ["a", "b,c", None] and row["missing"] == "" and row["yes"] == "true"
    assert row["total"] == "45" and row["d"] == "1.5" and row["whole"] == "1.0" and row["kind"] == "x"
    [obj] = json.loads(_both(_connection(), SCALARS, "json")[0])
    assert obj["total"] == 45 and obj["st"] == {"k": 1, "day": "2022-12-01"} and obj["missing"] is None


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(texts, texts), max_size=12), batch_rows=st.integers(1, 5))
def test_any_strings_print_as_python_prints_them(rows, batch_rows):
    table = pa.table({"a": pa.array([r[0] for r in rows], pa.string()),
                      "b": pa.array([r[1] for r in rows], pa.string())})
    con = _connection()
    con.register("t", table)
    sql = "select a, b, a is null as a_null from t"
    for fmt in ("csv", "table"):
        arrow, plain = _both(con, sql, fmt, batch_rows)
        assert arrow == plain
    arrow, plain = _both(con, sql, "jsonl", batch_rows)
    assert _jsonl(arrow) == _jsonl(plain)
    assert [(o["a"], o["b"]) for o in _jsonl(arrow)] == rows
    # the csv reads back to the strings (a null as an empty field)
    back = list(csv.reader(io.StringIO(_both(con, sql, "csv", batch_rows)[0])))
    assert back[1:] == [[a or "", b or "", "true" if a is None else "false"] for a, b in rows]


def test_table_cells_are_one_line_and_cut_at_the_cell_width():
    out = _both(_connection(), "select 'a\n b\u2028c' as short, repeat('word ', 40) as long", "table")[0]
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2].startswith("a b c  word word")
    assert lines[2].endswith("…") and len(lines[2]) == len("a b c  ") + TABLE_CELL


def test_repeated_and_odd_column_names_keep_their_values_in_json():
    con = _connection()
    sql = """select 1 as a, 2 as a, 3 as "dateline row", 4 as "it's", 5 as batch"""
    [obj] = json.loads(_both(con, sql, "json")[0])
    assert obj == {"a": 1, "a_1": 2, "dateline row": 3, "it's": 4, "batch": 5}


@pytest.mark.parametrize("fmt", ["csv", "table", "json", "jsonl"])
def test_a_result_with_no_rows_prints_its_header_or_an_empty_list(fmt):
    arrow, plain = _both(_connection(), "select 1 as n, 'x' as s where false", fmt)
    assert arrow == plain
    assert arrow == {"csv": "n,s\n", "table": "n  s\n-  -\n", "json": "[]\n", "jsonl": ""}[fmt]


def test_bound_parameters_reach_the_query():
    arrow, _ = _both(_connection(), "select $word as w, $day::date as d", "csv",
                     params={"word": "a,b", "day": "2024-02-29"})
    assert arrow == 'w,d\n"a,b",2024-02-29\n'


def test_python_values_print_as_json_takes_them():
    assert jsonable({"d": date(2023, 1, 4), "t": datetime(2023, 1, 4, 9, 38, tzinfo=UTC), "x": Decimal("1.50"),
                     "l": [date(2022, 12, 1)]}) == {"d": "2023-01-04", "t": "2023-01-04T09:38:00Z", "x": 1.5,
                                                    "l": ["2022-12-01"]}
