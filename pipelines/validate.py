"""Validation before publish: schema conformance, row-level value checks, dataset-level gates.

Row failures do not stop a run: the row moves to `quarantine` with a `validate/<dataset>/<check>`
reason. A dataset-level failure (e.g. zero articles although pages were parsed, duplicate primary
keys) raises `PublishAborted` and the previous snapshot stays current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schemas import DATASETS, PRIMARY_KEYS


class PublishAborted(RuntimeError):
    """A dataset failed a dataset-level check; nothing was swapped in."""


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select the schema's columns in order and cast (dictionary types, tz, nesting) exactly."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                col = col.cast(field.type)
        else:
            col = pa.nulls(table.num_rows, field.type)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)


def concat_as(schema: pa.Schema, tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables after conforming each to `schema` (nullability/metadata differences vanish)."""
    parts = [conform(t, schema) for t in tables if t.num_rows]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _tomorrow() -> date:
    return (datetime.now(UTC) + timedelta(days=1)).date()


RATE_LABEL_HINTS = ("比例", "费率", "报销", "率")


def _figure_rate_ok(figures: list | None) -> bool:
    """Rates (a % figure labelled as a ratio / reimbursement rate) must lie in 0–100.

    Other percentages may legitimately exceed 100 (缴费档次 60%–300% of the average wage).
    """
    for fig in figures or []:
        if not fig or fig.get("unit") not in ("%", "％") or fig.get("value") is None:
            continue
        if any(h in (fig.get("label") or "") for h in RATE_LABEL_HINTS) and not 0 <= fig["value"] <= 100:
            return False
        if fig["value"] < 0:
            return False
    return True


def _row_checks(name: str) -> list[tuple[str, Callable[[pa.Table], pa.ChunkedArray | pa.Array]]]:
    """(check name, table -> boolean 'row is bad') for one dataset."""
    tomorrow = pa.scalar(_tomorrow(), pa.date32())
    checks: list = []
    for field in DATASETS[name]:
        if not field.nullable:
            checks.append((f"null_{field.name}", lambda t, f=field.name: pc.is_null(t[f])))
    if "title" in DATASETS[name].names and name not in ("policies", "hospital_rankings", "duplicates"):
        checks.append(("empty_title", lambda t: pc.equal(pc.utf8_length(pc.fill_null(t["title"], "")), 0)))
    if "published" in DATASETS[name].names:
        checks.append(("future_date", lambda t: pc.fill_null(pc.greater(t["published"], tomorrow), False)))
    if name == "hospital_rankings":
        checks.append(("rank_lt_1", lambda t: pc.fill_null(pc.less(t["rank"], 1), False)))
        checks.append(("negative_score", lambda t: pc.fill_null(pc.less(t["score"], 0), False)))
        checks.append(("negative_doctor_count", lambda t: pc.fill_null(pc.less(t["doctor_count"], 0), False)))
    if name == "policies":
        checks.append(("rate_out_of_range", lambda t: pa.array(
            [not _figure_rate_ok(v) for v in t["figures"].to_pylist()], pa.bool_())))
        checks.append(("implausible_year", lambda t: pc.fill_null(pc.or_(
            pc.less(t["year"], 1949), pc.greater(t["year"], _tomorrow().year + 1)), False)))
    return checks


def check_rows(name: str, table: pa.Table, *, source: str = "validate") -> tuple[pa.Table, list[dict]]:
    """Split a dataset table into (good rows, quarantine rows with reasons)."""
    if table.num_rows == 0:
        return table, []
    bad_any = pa.array([False] * table.num_rows)
    rejects: list[dict] = []
    key = PRIMARY_KEYS.get(name) or ()
    for check, fn in _row_checks(name):
        bad = pc.and_(fn(table), pc.invert(bad_any))
        if not pc.any(bad).as_py():
            continue
        bad_rows = table.filter(bad)
        for row in bad_rows.select([c for c in (*key, "url", "title") if c in table.column_names]).to_pylist():
            ident = "/".join(str(row.get(k)) for k in key)
            rejects.append({"source": source, "url": row.get("url"), "reason": f"validate/{name}/{check}",
                            "detail": f"{name} row {ident} {row.get('title') or ''}".strip(),
                            "raw_ref": f"{name}:{ident}", "seen_at": None})
        bad_any = pc.or_(bad_any, bad)
    return table.filter(pc.invert(bad_any)), rejects


def check_dataset(name: str, table: pa.Table, *, pages_parsed: int) -> None:
    """Dataset-level gates; raise PublishAborted instead of publishing something broken."""
    if name == "articles" and pages_parsed > 0 and table.num_rows == 0:
        raise PublishAborted(f"articles is empty although {pages_parsed} pages were parsed")
    key = PRIMARY_KEYS.get(name) or ()
    if key and table.num_rows:
        distinct = table.group_by(list(key)).aggregate([]).num_rows
        if distinct != table.num_rows:
            raise PublishAborted(f"{name}: {table.num_rows - distinct} duplicate primary keys {key}")
    if table.schema != DATASETS[name]:
        raise PublishAborted(f"{name}: schema differs from pipelines.schemas")
