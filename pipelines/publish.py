"""Atomic, versioned publishing of Parquet snapshots.

Layout under clean_dir:
    snapshots/<run_id>/<dataset>.parquet   one complete, immutable snapshot per run
    current -> snapshots/<run_id>           swapped with os.replace (atomic rename of a symlink)
    <dataset>.parquet -> current/<dataset>.parquet   stable paths for pandas / DuckDB
    manifest.json                           snapshots kept (run id, time, rows, fingerprints, inputs)

Why this is crash-safe: a snapshot is written under `snapshots/.tmp-<run_id>` and renamed when
complete; `current` only ever points at complete snapshots and is changed by one rename; the
manifest is written to a temp file and renamed. A crash at any point leaves the previous
`current` and everything it points to untouched. Readers resolve the symlink once per open, so
a reader sees one snapshot even while a swap happens.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.schemas import DATASETS, SCHEMA_VERSION, schema_fingerprint

ROW_GROUP_ROWS = 50_000


class InjectedCrash(RuntimeError):
    """Raised by the `fail_after` test hook to simulate a crash mid-publish."""


def write_parquet(path: Path, schema: pa.Schema, tables: Iterable[pa.Table | pa.RecordBatch]) -> int:
    """Stream tables/batches into one zstd Parquet file with the exact schema; return row count."""
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd", compression_level=3) as writer:
        for table in tables:
            if table.num_rows:
                if isinstance(table, pa.RecordBatch):
                    writer.write_batch(table)
                else:
                    writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
                rows += table.num_rows
    return rows


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Streamed parts carry the exact column types; only field metadata/nullability may differ."""
    return table if table.schema.equals(schema, check_metadata=True) else \
        pa.Table.from_arrays(table.select(schema.names).columns, schema=schema)


def _atomic_symlink(target: str, link: Path) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _atomic_write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(clean_dir: Path) -> dict:
    path = Path(clean_dir) / "manifest.json"
    if not path.exists():
        return {"current": None, "snapshots": []}
    return json.loads(path.read_text(encoding="utf-8"))


def current_snapshot(clean_dir: Path) -> Path | None:
    link = Path(clean_dir) / "current"
    return link.resolve() if link.is_symlink() else None


def publish_snapshot(clean_dir: Path, run_id: str, tables: dict[str, pa.Table | Callable[[], Iterable[pa.Table]]],
                     *, inputs: list[dict],
                     keep_snapshots: int = 5, fail_after: str | None = None,
                     extra: dict | None = None) -> dict:
    """Write every dataset into a new snapshot, swap `current`, update the manifest, prune.

    `fail_after`: test hook — a dataset name (crash after writing it) or "snapshot" (crash after
    the snapshot directory is complete but before the swap).
    """
    clean_dir = Path(clean_dir)
    snapshots = clean_dir / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    final = snapshots / run_id
    if final.exists():
        raise FileExistsError(f"snapshot {final} already exists (run ids must be unique)")
    tmp = snapshots / f".tmp-{run_id}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    rows: dict[str, int] = {}
    for name, schema in DATASETS.items():
        table = tables.get(name, schema.empty_table())
        batches = (_conform(t, schema) for t in table()) if callable(table) else table.to_batches(ROW_GROUP_ROWS)
        rows[name] = write_parquet(tmp / f"{name}.parquet", schema, batches)
        if fail_after == name:
            raise InjectedCrash(f"injected crash after writing {name}")
    os.replace(tmp, final)
    if fail_after == "snapshot":
        raise InjectedCrash("injected crash after writing the snapshot, before the swap")
    _atomic_symlink(f"snapshots/{run_id}", clean_dir / "current")
    for name in DATASETS:
        link = clean_dir / f"{name}.parquet"
        if not link.is_symlink() or os.readlink(link) != f"current/{name}.parquet":
            _atomic_symlink(f"current/{name}.parquet", link)
    manifest = read_manifest(clean_dir)
    entry = {
        "run_id": run_id, "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "path": f"snapshots/{run_id}", "rows": rows, "schema_version": SCHEMA_VERSION,
        "schema_fingerprints": {n: schema_fingerprint(s) for n, s in DATASETS.items()},
        "inputs": inputs, **(extra or {}),
    }
    kept = [entry] + [s for s in manifest.get("snapshots", []) if s["run_id"] != run_id]
    kept = kept[:max(keep_snapshots, 1)]
    _atomic_write_json(clean_dir / "manifest.json", {"current": run_id, "published_at": entry["published_at"],
                                                     "rows": rows, "snapshots": kept})
    _prune(snapshots, {s["run_id"] for s in kept})
    return {"snapshot": str(final), "rows": rows}


def _prune(snapshots: Path, keep: set[str]) -> None:
    """Delete snapshots not in the manifest and leftovers of crashed runs (never `current`)."""
    for child in snapshots.iterdir():
        if child.name in keep:
            continue
        if child.name.startswith(".tmp-") or child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
