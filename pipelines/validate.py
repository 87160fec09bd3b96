"""Validation before publish: schema conformance, row-level value checks, dataset-level gates.

Row failures do not stop a run: the row moves to `quarantine` with a `validate/<dataset>/<check>`
reason (and its child rows follow it with `validate/<dataset>/parent_rejected`, see
pipelines.etl_buckets). A dataset-level failure (e.g. zero articles although pages were parsed,
duplicate primary keys, a foreign key naming no published parent: `check_references`) raises
`PublishAborted` and the previous snapshot stays current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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


def failure_reasons(name: str, table: pa.Table) -> pa.Array:
    """Per row the first failing check as `validate/<dataset>/<check>`, null when the row is good.

    Vectorised so the merge can validate a bucket *before* dedupe and linking (a rejected row
    must neither win a duplicate cluster nor be linked to) and keep the rejected ids with their
    reason for the cascade to child rows (see `reject_rows`).
    """
    reasons = pa.nulls(table.num_rows, pa.string())
    for check, fn in _row_checks(name):
        bad = pc.and_(pc.fill_null(fn(table), False), pc.is_null(reasons))
        if pc.any(bad).as_py():
            reasons = pc.if_else(bad, pa.scalar(f"validate/{name}/{check}"), reasons)
    return reasons if isinstance(reasons, pa.Array) else reasons.combine_chunks()


def reject_rows(name: str, table: pa.Table, reasons: pa.Array | pa.ChunkedArray, *, source: str = "validate",
                detail_prefix: pa.Array | pa.ChunkedArray | None = None) -> list[dict]:
    """Quarantine rows (dicts) for the rows of `table` whose reason is not null, in row order."""
    bad = pc.is_valid(reasons)
    if table.num_rows == 0 or not pc.any(bad).as_py():
        return []
    key = PRIMARY_KEYS.get(name) or ()
    rows = table.filter(bad).select([c for c in (*key, "url", "title") if c in table.column_names]).to_pylist()
    prefixes = detail_prefix.filter(bad).to_pylist() if detail_prefix is not None else [None] * len(rows)
    out = []
    for row, reason, prefix in zip(rows, reasons.filter(bad).to_pylist(), prefixes, strict=True):
        ident = "/".join(str(row.get(k)) for k in key)
        detail = f"{name} row {ident} {row.get('title') or ''}".strip()
        out.append({"source": source, "url": row.get("url"), "reason": reason,
                    "detail": f"{prefix}; {detail}" if prefix else detail, "raw_ref": f"{name}:{ident}",
                    "seen_at": None})
    return out


def check_rows(name: str, table: pa.Table, *, source: str = "validate") -> tuple[pa.Table, list[dict]]:
    """Split a dataset table into (good rows, quarantine rows with reasons)."""
    if table.num_rows == 0:
        return table, []
    reasons = failure_reasons(name, table)
    rejects: list[dict] = []
    for check, _ in _row_checks(name):  # grouped by check, in check order (as always reported)
        reason = f"validate/{name}/{check}"
        rejects += reject_rows(name, table, pc.if_else(pc.equal(reasons, reason), reasons, pa.scalar(None, pa.string())),
                               source=source)
    return table.filter(pc.is_null(reasons)), rejects


def check_dataset(name: str, table: pa.Table, *, pages_parsed: int) -> None:
    """Dataset-level gates; raise PublishAborted instead of publishing something broken."""
    if name == "articles" and pages_parsed > 0 and table.num_rows == 0:
        raise PublishAborted(f"articles is empty although {pages_parsed} pages were parsed")
    key = PRIMARY_KEYS.get(name) or ()
    if key and table.num_rows:
        # dictionary keys (duplicates.dataset) are grouped as strings: chunks written by different
        # shards/tables carry different dictionaries, which Acero refuses to unify
        keys = pa.table({k: table[k].cast(pa.string()) if pa.types.is_dictionary(table[k].type) else table[k]
                         for k in key})
        distinct = keys.group_by(list(key)).aggregate([]).num_rows
        if distinct != table.num_rows:
            raise PublishAborted(f"{name}: {table.num_rows - distinct} duplicate primary keys {key}")
    if table.schema != DATASETS[name]:
        raise PublishAborted(f"{name}: schema differs from pipelines.schemas")


# --- referential integrity over the published datasets ------------------------------------------

@dataclass(frozen=True)
class ForeignKey:
    """`child.column` must name a published `parent.parent_column` (nulls are allowed).

    `many`: the column is a list of keys. `dataset`: only rows of `duplicates` about that dataset;
    their `duplicate_of` may also name another removed row of it (a chain, e.g. a tracking URL of
    an article that was itself removed as a near duplicate), which `duplicates` resolves.
    """

    child: str
    column: str
    parent: str
    parent_column: str
    many: bool = False
    dataset: str | None = None

    def __str__(self) -> str:
        where = f"[{self.dataset}]" if self.dataset else ""
        return f"{self.child}{where}.{self.column} -> {self.parent}.{self.parent_column}"


FOREIGN_KEYS: tuple[ForeignKey, ...] = (
    ForeignKey("article_history", "article_id", "articles", "article_id"),
    ForeignKey("related_items", "article_id", "articles", "article_id"),
    ForeignKey("related_items", "shown_on", "articles", "article_id", many=True),
    ForeignKey("policies", "article_id", "articles", "article_id"),
    ForeignKey("policies", "related_id", "related_items", "related_id"),
    ForeignKey("hospital_rankings", "article_id", "articles", "article_id"),
    ForeignKey("hospital_rankings", "related_id", "related_items", "related_id"),
    ForeignKey("hospital_rankings", "hospital_id", "hospitals", "hospital_id"),
    ForeignKey("duplicates", "duplicate_of", "articles", "article_id", dataset="articles"),
    ForeignKey("duplicates", "duplicate_of", "related_items", "related_id", dataset="related_items"),
)

TableReader = Callable[[str, list[str]], Iterable[pa.Table]]


def parquet_reader(clean_dir: Path) -> TableReader:
    """Read the given columns of a published dataset batch by batch (memory: one batch)."""
    def read(name: str, columns: list[str]) -> Iterable[pa.Table]:
        path = Path(clean_dir) / f"{name}.parquet"
        if path.exists():
            for batch in pq.ParquetFile(path).iter_batches(columns=columns):
                yield pa.Table.from_batches([batch])
    return read


def _rows_about(table: pa.Table, dataset: str | None) -> pa.Table:
    if dataset is None:
        return table
    return table.filter(pc.equal(table["dataset"].cast(pa.string()), dataset))


def _keys(table: pa.Table, column: str, many: bool) -> pa.Array:
    col = table[column].combine_chunks()
    return (pc.list_flatten(col) if many else col).drop_null()


def check_references(read: TableReader) -> dict[str, dict]:
    """Orphans per foreign key over every published dataset: {fk: {"orphans": n, "examples": [...]}};
    empty when every key in a child resolves to a published parent.

    Memory: the parent key sets (a few bytes per article id) plus one batch of a child at a time.
    """
    parent_keys: dict[tuple, pa.Array] = {}
    problems: dict[str, dict] = {}
    for fk in FOREIGN_KEYS:
        cache_key = (fk.parent, fk.parent_column, fk.dataset)
        if cache_key not in parent_keys:
            parts = [t[fk.parent_column].combine_chunks() for t in read(fk.parent, [fk.parent_column])]
            if fk.dataset:  # a removed row may point at another removed row of the same dataset
                parts += [_rows_about(t, fk.dataset)["row_id"].combine_chunks()
                          for t in read("duplicates", ["dataset", "row_id"])]
            parent_keys[cache_key] = pa.concat_arrays([p.cast(pa.string()) for p in parts]) if parts \
                else pa.array([], pa.string())
        known = parent_keys[cache_key]
        orphans, examples = 0, []
        columns = [fk.column, "dataset"] if fk.dataset else [fk.column]
        for table in read(fk.child, columns):
            keys = _keys(_rows_about(table, fk.dataset), fk.column, fk.many)
            missing = keys.filter(pc.invert(pc.is_in(keys, value_set=known)))
            orphans += len(missing)
            examples += missing.slice(0, max(0, 5 - len(examples))).to_pylist()
        if orphans:
            problems[str(fk)] = {"orphans": orphans, "examples": examples}
    return problems
