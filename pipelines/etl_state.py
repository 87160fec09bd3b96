"""Persistent ETL state (Parquet files in state_dir) and the incremental merge of articles.

State layout: `state_dir/generations/<run_id>/<table>.parquet` plus `state_dir/CURRENT` (the
generation in use, replaced atomically). A generation is written completely before CURRENT moves,
and CURRENT moves only after the snapshot is published, so a crash leaves the previous state; the
next run then simply reprocesses the same raw files (the merge is idempotent).

Versioning rule: observations of an article are applied in WARC-Date order. Same content hash ->
only first_seen/last_seen move. A different hash observed AFTER the current version's last_seen ->
new version (+1), the old row goes to article_history with superseded_at. An observation from
ANOTHER extractor version that is not newer replaces the extraction in place, whatever its hash
(re-processing after a parser upgrade: same version number, no history row). Other older
observations (replays of merged shards, late shards) change nothing -> idempotent re-runs.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.publish import write_parquet
from pipelines.schemas import ARTICLE_HISTORY, STATE_ARTICLES, STATE_DATASETS
from pipelines.validate import concat_as, conform


def current_generation(state_dir: Path) -> Path | None:
    pointer = Path(state_dir) / "CURRENT"
    if not pointer.exists():
        return None
    gen = Path(state_dir) / "generations" / pointer.read_text(encoding="utf-8").strip()
    return gen if gen.is_dir() else None


def load_state_table(state_dir: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    gen = current_generation(state_dir)
    schema = STATE_DATASETS[name]
    if gen is None or not (gen / f"{name}.parquet").exists():
        table = schema.empty_table()
        return table.select(columns) if columns else table
    return pq.read_table(gen / f"{name}.parquet", columns=columns, schema=schema if not columns else None)


def write_generation(state_dir: Path, run_id: str,
                     tables: dict[str, pa.Table | Callable[[], Iterator[pa.Table]]]) -> Path:
    """Write a complete new generation (not yet current). A table may be given as a callable
    returning tables (streamed from the merge's bucket files)."""
    gen = Path(state_dir) / "generations" / run_id
    shutil.rmtree(gen, ignore_errors=True)
    gen.mkdir(parents=True)
    for name, schema in STATE_DATASETS.items():
        table = tables.get(name)
        if table is None:  # unchanged table: carry over from the current generation
            table = load_state_table(state_dir, name)
        write_parquet(gen / f"{name}.parquet", schema,
                      (conform(t, schema) for t in table()) if callable(table) else [conform(table, schema)])
    return gen


def commit_generation(state_dir: Path, run_id: str, keep: int = 2) -> None:
    """Make a written generation current (atomic) and drop older ones beyond `keep`."""
    state_dir = Path(state_dir)
    tmp = state_dir / f".CURRENT.tmp-{os.getpid()}"
    tmp.write_text(run_id, encoding="utf-8")
    os.replace(tmp, state_dir / "CURRENT")
    gens = sorted((p for p in (state_dir / "generations").iterdir() if p.is_dir()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in gens[keep:]:
        if old.name != run_id:
            shutil.rmtree(old, ignore_errors=True)


POSITION = [pa.field("_src", pa.int32()), pa.field("_row", pa.int64())]
ARTICLE_META = pa.schema([f for f in STATE_ARTICLES if f.name != "answer"] + POSITION)
HISTORY_META = pa.schema([f for f in ARTICLE_HISTORY if f.name != "answer"] + POSITION)


def _us(col: pa.ChunkedArray) -> list[int]:
    return col.cast(pa.int64()).to_pylist() if col.type == pa.int64() else \
        pc.cast(col, pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()


def merge_articles(state: pa.Table, staged: list[pa.Table], stats: Counter) -> tuple[pa.Table, pa.Table]:
    """(current articles, new history rows) from the state articles and staged observations.

    Works on ARTICLE_META tables (no answer text; `_src`/`_row` say which input row each result
    row comes from, so the caller takes the text and other columns back by `_row`).
    """
    combined = concat_as(ARTICLE_META, [state, *staged])
    n_state = state.num_rows
    ids = combined["article_id"].to_pylist()
    hashes = combined["content_hash"].to_pylist()
    first = _us(combined["first_seen"])
    last = _us(combined["last_seen"])
    versions = combined["version"].to_pylist()
    extractors = combined["extractor_version"].cast(pa.string()).to_pylist()
    current: dict[str, dict] = {}
    for i in range(n_state):
        current[ids[i]] = {"idx": i, "version": versions[i], "first": first[i], "last": last[i],
                           "hash": hashes[i]}
    history: list[tuple[int, int, int, int, int, str]] = []  # idx, version, first, last, superseded, by
    order = sorted(range(n_state, len(ids)), key=lambda i: (first[i], hashes[i], i))
    for i in order:
        cur = current.get(ids[i])
        if cur is None:
            current[ids[i]] = {"idx": i, "version": 1, "first": first[i], "last": last[i], "hash": hashes[i]}
            stats["merge/articles/new"] += 1
        elif hashes[i] == cur["hash"]:
            cur["first"], cur["last"] = min(cur["first"], first[i]), max(cur["last"], last[i])
            if extractors[i] != extractors[cur["idx"]]:
                # same text read by another extractor version (a parser upgrade that changed other
                # fields, e.g. title or kind): the re-extraction replaces the row in place too
                cur["idx"] = i
                stats["merge/articles/reextracted"] += 1
            else:
                stats["merge/articles/unchanged"] += 1
        elif first[i] > cur["last"]:
            history.append((cur["idx"], cur["version"], cur["first"], cur["last"], first[i], hashes[i]))
            current[ids[i]] = {"idx": i, "version": cur["version"] + 1, "first": cur["first"],
                               "last": last[i], "hash": hashes[i]}
            stats["merge/articles/new_version"] += 1
        elif extractors[i] != extractors[cur["idx"]]:
            # the same response re-parsed by another extractor version: replace the extraction in
            # place (same version number, no history row: the page did not change, our reading did)
            cur["idx"], cur["hash"] = i, hashes[i]
            stats["merge/articles/reextracted"] += 1
        else:
            stats["merge/articles/stale_observation"] += 1
    keys = sorted(current)
    picks = [current[k] for k in keys]
    ts = pa.timestamp("us", tz="UTC")
    result = combined.take(pa.array([p["idx"] for p in picks], pa.int64()))
    result = result.set_column(result.schema.get_field_index("version"), "version",
                               pa.array([p["version"] for p in picks], pa.int32()))
    result = result.set_column(result.schema.get_field_index("first_seen"), "first_seen",
                               pa.array([p["first"] for p in picks], pa.int64()).cast(ts))
    result = result.set_column(result.schema.get_field_index("last_seen"), "last_seen",
                               pa.array([p["last"] for p in picks], pa.int64()).cast(ts))
    hist = combined.take(pa.array([h[0] for h in history], pa.int64()))
    hist = hist.set_column(hist.schema.get_field_index("version"), "version",
                           pa.array([h[1] for h in history], pa.int32()))
    hist = hist.set_column(hist.schema.get_field_index("first_seen"), "first_seen",
                           pa.array([h[2] for h in history], pa.int64()).cast(ts))
    hist = hist.set_column(hist.schema.get_field_index("last_seen"), "last_seen",
                           pa.array([h[3] for h in history], pa.int64()).cast(ts))
    hist = hist.append_column("superseded_at", pa.array([h[4] for h in history], pa.int64()).cast(ts))
    hist = hist.append_column("superseded_by_hash", pa.array([h[5] for h in history], pa.string()))
    return conform(result, ARTICLE_META), conform(hist, HISTORY_META)


def _per_key(table: pa.Table, key: str, column: str, agg: str) -> pa.Array:
    """Aggregate `column` per `key` and broadcast it back to every row (no join on dict columns)."""
    grouped = table.select([key, column]).group_by(key, use_threads=False).aggregate([(column, agg)])
    positions = pc.index_in(table[key], value_set=grouped[key])
    return pc.take(grouped[f"{column}_{agg}"], positions)


def latest_of(table: pa.Table, key: str, schema: pa.Schema) -> pa.Table:
    """Rows of the latest observation of each `key` in a table tagged with its input (`_src`).

    Newer content replaces older wholesale (a re-crawled ranking replaces all its rank rows).
    When several inputs hold the same observation (state + a replayed shard) the first input
    (smallest `_src`) wins, so replays never duplicate rows.
    """
    if table.num_rows == 0:
        return schema.empty_table()
    table = table.filter(pc.equal(table["seen_at"], _per_key(table, key, "seen_at", "max")))
    table = table.filter(pc.equal(table["_src"], _per_key(table, key, "_src", "min")))
    return conform(table, schema).sort_by([(key, "ascending")] + ([("rank", "ascending")]
                                                                  if "rank" in schema.names else []))
