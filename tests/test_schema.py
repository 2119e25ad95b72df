"""Schemas are derived from the record dataclasses."""

from __future__ import annotations

from dataclasses import fields
from typing import get_args

import pyarrow as pa
import pytest
from dateline.transforms.schema import (
    ARTICLES,
    REJECT_REASONS,
    TABLES,
    ArticleRecord,
    RejectReason,
    arrow_schema,
    published_month,
)


def test_article_schema_types_follow_the_hints():
    schema = arrow_schema(ArticleRecord)
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("published_at").nullable
    assert schema.field("authors").type == pa.list_(pa.string())
    assert not schema.field("article_id").nullable
    assert schema.field("word_count").type == pa.int64()
    assert schema.field("published_precision").type == pa.string()


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda t: t.name)
def test_every_table_schema_has_one_column_per_field_and_its_key(table):
    assert table.schema.names == [f.name for f in fields(table.record)]
    assert set(table.key) <= set(table.schema.names)


def test_reject_reasons_come_from_the_literal():
    assert frozenset(get_args(RejectReason)) == REJECT_REASONS


def test_unknown_fields_are_refused():
    with pytest.raises(TypeError):
        ArticleRecord(article_id="x", nonsense=1)  # type: ignore[call-arg]


def test_published_month_partition_value():
    from datetime import UTC, datetime
    assert published_month(datetime(2023, 1, 31, 23, 0, tzinfo=UTC)) == "2023-01"
    assert published_month(None) == "unknown"
    assert ARTICLES.partition == "published_month"
