"""How the CLI prints rows: an aligned table, csv, json or jsonl.

Query results arrive as Arrow record batches (``write_batches``) and are turned into text a column
at a time: csv and the table by Arrow's string kernels, json by DuckDB's ``to_json``. Python
objects are made only for the column types those cannot format. The few tables the CLI builds
itself (status, extract) are printed from Python rows (``write_table``), with the same cells for
the same values: ISO dates, UTC timestamps as ``2023-01-04T09:38:00Z``, lists and structs as JSON.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

FORMATS = ("table", "csv", "json", "jsonl")
TABLE_CELL = 60  # characters shown per cell in --format table
BATCH_ROWS = 10_000  # rows per Arrow batch read from DuckDB
UTC_ZONES = ("UTC", "Etc/UTC", "+00:00", "Z")
# what str.split() splits on: RE2's \s is ASCII only, \p{Z} adds the Unicode spaces and separators
WHITESPACE_RUN = r"[\s\x0b\x1c-\x1f\x85\p{Z}]+"


# --- Python values ------------------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """A Python value as JSON takes it: ISO dates, timestamps with Z for UTC, decimals as floats."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str | None:
    """A value as one csv or table cell: lists and structs as JSON; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # as json, DuckDB and Arrow write them
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return str(jsonable(value))


def _cell(value: Any) -> str:
    text = " ".join((_text(value) or "").split())
    return text if len(text) <= TABLE_CELL else text[: TABLE_CELL - 1] + "…"


def write_table(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Print Python rows as an aligned table (the few outputs the CLI builds itself). Returns the row count."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    _table_head(out, columns, widths)
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    return len(cells)


def _table_head(out: TextIO, columns: Sequence[str], widths: Sequence[int]) -> None:
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")


# --- Arrow columns --------------------------------------------------------------------------------

def _timestamps_iso(column: pa.Array) -> pa.Array | None:
    """Timestamps as ``datetime.isoformat`` writes them (Z for UTC); None for other time zones."""
    zone = column.type.tz
    if zone is not None and zone not in UTC_ZONES:
        return None
    text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")  # %S has the unit's fraction: 09.000000
    text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")  # isoformat drops a zero one
    return pc.binary_join_element_wise(text, "Z", "") if zone is not None else text


def _from_python(column: pa.Array, convert: Any) -> pa.Array:
    return pa.array([convert(v) for v in column.to_pylist()], type=pa.string())


def text_column(column: pa.Array) -> pa.Array:
    """A column as csv and table cells (strings, nulls kept): what ``_text`` makes of each value."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return text_column(column.dictionary_decode())
    if pa.types.is_string(kind):
        return column
    if (pa.types.is_large_string(kind) or pa.types.is_integer(kind) or pa.types.is_date(kind)
            or pa.types.is_null(kind) or pa.types.is_boolean(kind)):
        return pc.cast(column, pa.string())
    if pa.types.is_decimal(kind):
        column = _decimal_number(column)
        if pa.types.is_integer(column.type):
            return pc.cast(column, pa.string())
    if pa.types.is_timestamp(kind):
        iso = _timestamps_iso(column)
        if iso is not None:
            return iso
    # floats (Arrow writes 1.0 as 1), nested values, times, intervals, blobs, other time zones
    return _from_python(column, _text)


def _json_column(column: pa.Array) -> pa.Array:
    """A column ready for DuckDB's to_json: timestamps as our ISO text, types it lacks as text."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        iso = _timestamps_iso(column)
        return iso if iso is not None else _from_python(column, lambda v: None if v is None else jsonable(v))
    if pa.types.is_decimal(kind):
        return _decimal_number(column)
    return column


def _decimal_number(column: pa.Array) -> pa.Array:
    """Decimals as JSON numbers, as ``jsonable`` makes them: whole ones (DuckDB's sum) as integers."""
    if column.type.scale == 0:
        try:
            return pc.cast(column, pa.int64())
        except pa.ArrowInvalid:  # past 2**63
            pass
    return pc.cast(column, pa.float64())


def csv_cells(column: pa.Array) -> pa.Array:
    """A column as csv fields, quoted as Python's csv writer quotes (only a field holding a comma, a
    quote or a line break; quotes doubled); a null is an empty field."""
    text = text_column(column)
    needs = pc.match_substring_regex(text, r'[,"\r\n]')
    if pc.any(needs).as_py():
        text = pc.if_else(needs, pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', ""), text)
    return pc.fill_null(text, "")


def table_cells(column: pa.Array) -> pa.Array:
    """A column as table cells: whitespace runs as one space, at most TABLE_CELL characters."""
    text = pc.utf8_trim(pc.replace_substring_regex(pc.fill_null(text_column(column), ""),
                                                   pattern=WHITESPACE_RUN, replacement=" "), characters=" ")
    cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, TABLE_CELL - 1), "…", "")
    return pc.if_else(pc.greater(pc.utf8_length(text), TABLE_CELL), cut, text)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        key, n = name, 0
        while key in seen:
            n += 1
            key = f"{name}_{n}"
        seen.add(key)
        unique.append(key)
    return unique


def _joined(strings: pa.Array | pa.ChunkedArray, separator: str = "\n") -> str:
    """The strings as one text (joined by Arrow: no Python string per row)."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    one_list = pa.ListArray.from_arrays(pa.array([0, len(strings)], pa.int32()), strings)
    return str(pc.binary_join(one_list, separator)[0].as_py())


# --- Arrow batches --------------------------------------------------------------------------------

def write_batches(out: TextIO, reader: pa.RecordBatchReader, fmt: str) -> int:
    """Print a query's Arrow batches in a format; streams but for the table. Returns the row count."""
    names = reader.schema.names
    count = 0
    if fmt == "table":
        table = reader.read_all()
        cells = [table_cells(column.combine_chunks()) for column in table.columns]
        widths = [max(len(name), pc.max(pc.utf8_length(c)).as_py() or 0) for name, c in zip(names, cells, strict=True)]
        _table_head(out, names, widths)
        if table.num_rows:
            padded = [pc.utf8_rpad(c, width=w, padding=" ") for c, w in zip(cells, widths, strict=True)]
            lines = pc.utf8_rtrim(pc.binary_join_element_wise(*padded, "  "), characters=" ")
            out.write(_joined(lines) + "\n")
        return int(table.num_rows)
    if fmt == "csv":
        # lines end in \n, as DuckDB's own CLI writes csv (\r\n, RFC 4180's, breaks tail, cut and shell
        # arithmetic); a line break inside a quoted field stays as it was
        csv.writer(out, lineterminator="\n").writerow(names)
        for batch in reader:
            if batch.num_rows and batch.num_columns:
                lines = pc.binary_join_element_wise(*(csv_cells(c) for c in batch.columns), ",")
                out.write(_joined(lines, "\n") + "\n")
            count += batch.num_rows
        return count
    # the object's keys as the query names them, the batch's columns renamed c0, c1, ...: no column
    # name can be mistaken for SQL; a repeated name gets a suffix (a, a_1), as DuckDB's own scans do
    columns = [f"c{i}" for i in range(len(names))]
    fields = ", ".join(f"{_sql_string(key)}: {column}" for key, column in zip(_unique(names), columns, strict=True))
    if fmt == "json":
        out.write("[")
    with duckdb.connect() as con:  # its own connection: the query's connection is busy streaming
        for batch in reader:
            if not batch.num_rows:
                continue
            ready = pa.RecordBatch.from_arrays([_json_column(c) for c in batch.columns], names=columns)
            con.register("batch", ready)
            objects = con.sql(f"select to_json({{{fields}}})::varchar from batch").to_arrow_table().column(0)
            con.unregister("batch")
            if fmt == "json":
                out.write(("," if count else "") + "\n  " + _joined(objects, ",\n  "))
            else:
                out.write(_joined(objects) + "\n")
            count += batch.num_rows
    if fmt == "json":
        out.write("\n]\n" if count else "]\n")
    return count
