"""Plain-Python ETL entry points (the flows in `flows/` wrap exactly these functions).

raw WARC shard --process_shard--> staging/<digest>/*.parquet --merge_and_publish--> state + snapshot

Shards are independent (process pool, Dask or Ray workers can run them); only small dicts of
counts travel between steps — data moves through Parquet files on disk.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import etl_buckets as eb
from pipelines import etl_merge as em
from pipelines.dedupe import signatures
from pipelines.etl_state import commit_generation, current_generation, load_state_table, write_generation
from pipelines.partition import Partitioner, column_reader, release_memory
from pipelines.publish import current_snapshot, publish_snapshot, write_parquet
from pipelines.rawio import CorruptWarc, file_digest, iter_records, list_raw_files
from pipelines.records import page_rows
from pipelines.schemas import (
    DATASETS,
    DUPLICATES,
    MINHASH,
    QUARANTINE,
    STATE_ARTICLES,
    STATE_DATASETS,
    STATE_POLICIES,
    STATE_RANKINGS,
    STATE_REGISTRY,
    STATE_RELATED,
)
from pipelines.steps import StepContext, make_parse_step, run_steps, select_pages
from pipelines.validate import PublishAborted, check_dataset, check_references, concat_as, conform

__all__ = ["list_raw_files", "file_digest", "process_shard", "merge_and_publish", "processed_registry",
           "needs_processing", "run_etl", "new_run_id"]

STAGED_TABLES = {"articles": STATE_ARTICLES, "related": STATE_RELATED, "policies": STATE_POLICIES,
                 "hospital_rankings": STATE_RANKINGS, "quarantine": QUARANTINE}


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _minhash_column(texts: list[str]) -> tuple[pa.Array, pa.Array]:
    sig = signatures(texts, normalized=True)
    arr = pa.FixedSizeBinaryArray.from_buffers(MINHASH, len(texts), [None, pa.py_buffer(sig.tobytes())])
    shingles = pa.array([max(len("".join(t.split())) - 4, 0) for t in texts], pa.int32())
    return arr, shingles


def _aggregate_related(rows: list[dict]) -> list[dict]:
    """Pre-aggregate a shard's related links: one row per related_id with its page list."""
    merged: dict[str, dict] = {}
    for r in rows:
        cur = merged.get(r["related_id"])
        if cur is None:
            merged[r["related_id"]] = cur = {**r, "shown_on": set(), "first_seen": r["seen_at"],
                                             "last_seen": r["seen_at"]}
        cur["shown_on"].add(r["page_id"])
        cur["first_seen"] = min(cur["first_seen"], r["seen_at"])
        cur["last_seen"] = max(cur["last_seen"], r["seen_at"])
    out = []
    for r in merged.values():
        pages = sorted(r.pop("shown_on"))
        r.pop("page_id"), r.pop("seen_at")
        out.append({**r, "shown_on": pages, "shown_on_count": len(pages), "article_id": None})
    return out


def _guarded(records: Iterator, ctx: StepContext) -> Iterator:
    """Pass records through; a damaged WARC ends the shard with a quarantine row, not a crash."""
    try:
        yield from records
    except CorruptWarc as exc:
        ctx.reject("raw/corrupt_warc", str(exc)[:500], url=None, raw_ref=ctx.source, seen_at=None)


def _first_time(seen: dict[tuple, object], key: str, rank: object, seen_at: object) -> bool:
    """Keep one row per (source id, rank) per shard: the latest observation wins in the merge anyway."""
    if (key, rank) in seen:
        return False
    seen[(key, rank)] = seen_at
    return True


def process_shard(raw_file: Path, staging_dir: Path, *, extractor_version: str) -> dict:
    """Parse one WARC file into staging Parquet files (one per table) and return counts."""
    from pipelines.parse import parse_page  # late import: the parser is heavy and optional for readers

    started = time.perf_counter()
    raw_file = Path(raw_file)
    digest = file_digest(raw_file)
    out_dir = Path(staging_dir) / digest
    tmp_dir = Path(staging_dir) / f".tmp-{digest}-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    ctx = StepContext(source=f"{raw_file.parent.name}/{raw_file.name}")
    buffers: dict[str, list[dict]] = {"articles": [], "related": [], "policies": [], "hospital_rankings": []}
    seen_keys: dict[tuple, object] = {}
    known_related: set[str] = set()
    for rec, record in run_steps(_guarded(iter_records(raw_file), ctx), [select_pages, make_parse_step(parse_page)],
                                 ctx):
        rows = page_rows(record, raw_url=rec.url, seen_at=rec.date, source_run=raw_file.parent.name,
                         source_file=raw_file.name, source_record=rec.record_id,
                         extractor_version=extractor_version, known_related=known_related)
        rows["articles"][0]["raw_url"] = rec.url
        for name, items in rows.items():
            if name in ("policies", "hospital_rankings"):  # a related item repeats on many pages
                items = [r for r in items if _first_time(seen_keys, r.get("policy_id") or r["ranking_id"],
                                                          r.get("rank"), r["seen_at"])]
            buffers[name].extend(items)
    articles = buffers["articles"]
    related = _aggregate_related(buffers["related"])
    tables = {}
    for name, rows, text_key in (("articles", articles, "answer"), ("related", related, "snippet")):
        mh, sh = _minhash_column([r[text_key] or "" for r in rows])
        base = pa.Table.from_pylist(rows, schema=pa.schema([f for f in STAGED_TABLES[name]
                                                             if f.name not in ("minhash", "shingles")]))
        tables[name] = base.append_column("minhash", mh).append_column("shingles", sh)
    tables["policies"] = pa.Table.from_pylist(buffers["policies"], schema=STATE_POLICIES)
    tables["hospital_rankings"] = pa.Table.from_pylist(buffers["hospital_rankings"], schema=STATE_RANKINGS)
    tables["quarantine"] = pa.Table.from_pylist(ctx.quarantine, schema=QUARANTINE)
    for name, schema in STAGED_TABLES.items():
        write_parquet(tmp_dir / f"{name}.parquet", schema, [conform(tables[name], schema)])
    result = {
        "raw_file": str(raw_file), "digest": digest, "staged": str(out_dir),
        "extractor_version": extractor_version, "pages_read": ctx.counters["raw/pages_read"],
        "parsed": ctx.counters["parse/parsed"], "quarantined": len(ctx.quarantine),
        "rows": {n: t.num_rows for n, t in tables.items()}, "counters": dict(sorted(ctx.counters.items())),
        "seconds": round(time.perf_counter() - started, 3),
    }
    (tmp_dir / "_shard.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp_dir, out_dir)
    return result


def _registry_rows(inputs: list[dict], run_id: str) -> pa.Table:
    now = datetime.now(UTC)
    rows = [{"digest": i["digest"], "path": i.get("raw_file"), "extractor_version": i.get("extractor_version"),
             "run_id": run_id, "processed_at": now} for i in inputs if i.get("digest")]
    return pa.Table.from_pylist(rows, schema=STATE_REGISTRY)


def _quarantine(state_dir: Path, staged: list[Path]) -> pa.Table:
    """Accumulated quarantine, one row per (source, raw_ref, reason), first occurrence kept."""
    quarantine = concat_as(QUARANTINE, [load_state_table(state_dir, "quarantine"),
                                        *[pq.read_table(s / "quarantine.parquet", schema=QUARANTINE) for s in staged]])
    if quarantine.num_rows:
        quarantine = quarantine.append_column("_i", pa.array(np.arange(quarantine.num_rows)))
        # `reason` is dictionary-encoded and every shard has its own dictionary: Acero cannot
        # group on differing dictionaries ("Unifying differing dictionaries"), so key on strings.
        keys = quarantine.select(["source", "raw_ref", "reason", "_i"])
        keys = keys.set_column(2, "reason", pc.cast(keys["reason"], pa.string()))
        firsts = keys.group_by(
            ["source", "raw_ref", "reason"], use_threads=False).aggregate([("_i", "min")])
        first_rows = pc.take(firsts["_i_min"], pc.sort_indices(firsts["_i_min"]))
        quarantine = quarantine.take(first_rows).drop_columns(["_i"])
    return quarantine


def _published_ids(clean_dir: Path, dataset: str, column: str) -> pa.Array:
    """Ids in the current snapshot (one column read): the previous run's dedupe survivors."""
    snapshot = current_snapshot(clean_dir)
    path = snapshot / f"{dataset}.parquet" if snapshot else None
    if path is None or not path.exists():
        return pa.array([], pa.string())
    return pq.read_table(path, columns=[column])[column].combine_chunks()


def merge_and_publish(staged: list[Path], clean_dir: Path, state_dir: Path, *, run_id: str,
                      inputs: list[dict], keep_snapshots: int = 5, fail_after: str | None = None) -> dict:
    """Merge staged shards into the state, dedupe, validate, publish one atomic snapshot.

    Bucketed (pipelines.etl_buckets): every keyed table is hash-partitioned to disk and merged
    one bucket at a time, so peak memory depends on the bucket size, not on the corpus.
    """
    stats: Counter = Counter()
    timings: dict[str, float] = {}
    high_water: dict[str, int] = {}  # process peak RSS (MB) once each stage is done: where memory goes
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        high_water[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        clock = now
        release_memory()  # hand freed Arrow buffers and heap pages back to the OS between stages

    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    staged = [Path(s) for s in staged]
    for shard in staged:
        if not (shard / "_shard.json").exists():
            raise ValueError(f"{shard} is not a complete staged shard (no _shard.json)")
    gen = current_generation(state_dir)
    state = {name: (gen / f"{name}.parquet" if gen and (gen / f"{name}.parquet").exists() else None)
             for name in STATE_DATASETS}
    work = state_dir / "work" / run_id
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        k = eb.bucket_counts(state, staged)
        out = eb.Outputs(work)
        dups = Partitioner(work / "in", "duplicates", DUPLICATES, k["duplicates"], "row_id")
        # 1. articles: versions + history + URL aliases, bucket by bucket
        articles, current_articles = eb.merge_article_buckets(work, state, staged, k["articles"], out, dups, stats)
        lap("merge_articles")
        # 2. dedupe articles (exact, near) over compact arrays
        # the survivor of a duplicate cluster stays the one published last time (sticky), so a
        # late shard with an earlier fetch of its twin does not switch the published id
        compact, article_dups, removed_articles = articles.dedupe(
            "articles", sticky=_published_ids(clean_dir, "articles", "article_id"))
        dups.write(article_dups)
        links = em.link_lookups(compact)
        del compact, articles, article_dups
        lap("dedupe_articles")
        # 3. related items: merged across pages, linked to crawled articles, deduped
        related, related_link = eb.merge_related_buckets(work, state["related"], staged, k["related"], out, links,
                                                         removed_articles)
        del links  # ~14 MB at 100k pages: gone before the related dedupe allocates its arrays
        _, related_dups, removed_related = related.dedupe(
            "related_items", sticky=_published_ids(clean_dir, "related_items", "related_id"))
        dups.write(related_dups)
        del related, related_dups
        lap("related_items")
        # 4. policies / rankings: latest observation per source, superseded snippet records removed
        hospitals = em.HospitalAggregator()
        for name in ("policies", "hospital_rankings"):
            with_record = eb.merge_entity_buckets(work, name, state[name], staged, k[name], out)
            facts = {"removed_articles": removed_articles, "removed_related": removed_related,
                     "related_link": related_link, "articles_with_record": with_record}
            eb.publish_entity_buckets(name, out, dups, facts, hospitals if name == "hospital_rankings" else None)
        del facts, with_record, related_link
        lap("policies_rankings")
        # 5. validate the remaining datasets (row checks per bucket, dataset gates)
        published_articles = eb.publish_keyed_buckets(out, {"articles": removed_articles,
                                                            "related_items": removed_related}, dups)
        del removed_articles, removed_related  # only small tables stay alive into the writes below
        dups.close()
        duplicates = eb.publish_duplicates(dups, out)
        quarantine = _quarantine(state_dir, staged)
        hospitals_table = hospitals.table()
        check_dataset("hospitals", hospitals_table, pages_parsed=0)
        quarantine_out = concat_as(QUARANTINE, [quarantine, pa.Table.from_pylist(out.rejects, schema=QUARANTINE)])
        parsed = sum(int(i.get("parsed", 0)) for i in inputs) + current_articles
        if parsed > 0 and published_articles == 0:
            raise PublishAborted(f"articles is empty although {parsed} pages were parsed")
        # every foreign key of a published child must name a published parent (the cascade above
        # guarantees it; this gate makes a regression abort the run instead of shipping orphans)
        orphans = check_references(column_reader(out.published, {"hospitals": hospitals_table}))
        if orphans:
            raise PublishAborted(f"referential integrity: {orphans}")
        stats.update(out.counters)
        lap("validate")
        # 6. state generation, snapshot, swap, then commit state (crash => previous state + snapshot)
        write_generation(state_dir, run_id, {
            **{name: out.stream("state", name) for name in ("articles", "article_history", "related", "policies",
                                                             "hospital_rankings", "url_aliases")},
            "quarantine": quarantine,
            "registry": concat_as(STATE_REGISTRY, [load_state_table(state_dir, "registry"),
                                                   _registry_rows(inputs, run_id)]),
        })
        lap("write_state")
        tables = {name: out.stream("published", name) for name in DATASETS}
        tables.update(hospitals=hospitals_table, quarantine=quarantine_out,
                      hospital_rankings=em.with_hospital_names(tables["hospital_rankings"], hospitals_table))
        published = publish_snapshot(clean_dir, run_id, tables, inputs=[_small(i) for i in inputs],
                                     keep_snapshots=keep_snapshots, fail_after=fail_after)
        commit_generation(state_dir, run_id)
        lap("publish")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"run_id": run_id, "published": True, "snapshot": published["snapshot"], "rows": published["rows"],
            "duplicates_removed": duplicates, "quarantined": quarantine_out.num_rows,
            "validation_rejects": len(out.rejects), "new_versions": stats["merge/articles/new_version"],
            "counters": dict(sorted(stats.items())), "stage_seconds": timings, "peak_rss_mb_by_stage": high_water,
            "buckets": k}


def _small(info: dict) -> dict:
    return {k: info[k] for k in ("raw_file", "digest", "extractor_version", "pages_read", "parsed", "quarantined")
            if k in info}


def processed_registry(state_dir: Path) -> dict[str, dict]:
    """{digest: {path, extractor_version, run_id, processed_at}} of raw files already merged."""
    if current_generation(Path(state_dir)) is None:
        return {}
    rows = load_state_table(Path(state_dir), "registry").to_pylist()
    return {r["digest"]: {k: r[k] for k in ("path", "extractor_version", "run_id", "processed_at")} for r in rows}


def needs_processing(state_dir: Path, raw_files: list[Path], extractor_version: str) -> list[Path]:
    """Raw files whose digest is new or was processed by another extractor version."""
    registry = processed_registry(state_dir)
    todo = []
    for path in raw_files:
        entry = registry.get(file_digest(path))
        if entry is None or entry["extractor_version"] != extractor_version:
            todo.append(path)
    return todo


def run_etl(raw_dir: Path, clean_dir: Path, state_dir: Path, *, workers: int = 1, run_id: str | None = None,
            keep_snapshots: int = 5) -> dict:
    """Driver: new raw files -> shards (process pool when workers > 1) -> merge -> publish."""
    from pipelines.parse import EXTRACTOR_VERSION

    started = time.perf_counter()
    # The driver holds the merge: the system allocator returns freed Arrow buffers to the OS
    # promptly (measured at 100k pages: ~0.9 GB peak vs ~1.08 GB with the default mimalloc pool).
    pa.set_memory_pool(pa.system_memory_pool())
    run_id = run_id or new_run_id()
    raw_files = list_raw_files(Path(raw_dir))
    todo = needs_processing(state_dir, raw_files, EXTRACTOR_VERSION)
    report = {"run_id": run_id, "files_total": len(raw_files), "files_new": len(todo)}
    if not todo:
        return {**report, "published": False, "reason": "no new raw files"}
    staging = Path(state_dir) / "staging" / run_id
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    if workers > 1 and len(todo) > 1:
        # spawn, not fork: the caller may run threads (Prefect, HTTP servers) that fork would clone mid-lock
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            shards = list(pool.map(_process_one, [(p, staging, EXTRACTOR_VERSION) for p in todo]))
    else:
        shards = [process_shard(p, staging, extractor_version=EXTRACTOR_VERSION) for p in todo]
    shard_seconds, shard_cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    cpu1 = _cpu_seconds()
    result = merge_and_publish([Path(s["staged"]) for s in shards], clean_dir, state_dir, run_id=run_id,
                               inputs=shards, keep_snapshots=keep_snapshots)
    merge_cpu = _cpu_seconds() - cpu1
    shutil.rmtree(staging, ignore_errors=True)
    counters: Counter = Counter()
    for s in shards:
        counters.update(s["counters"])
    result["stage_seconds"] = {"process_shards": round(shard_seconds, 3), **result["stage_seconds"]}
    # CPU seconds of this process + its (joined) pool workers: cpu/wall ~ cores kept busy
    result["cpu_seconds"] = {"process_shards": round(shard_cpu, 2), "merge_and_publish": round(merge_cpu, 2),
                             "process_shards_cores_busy": round(shard_cpu / max(shard_seconds, 1e-9), 2)}
    return {**report, **result, "shards": [_small(s) for s in shards], "pages_read": sum(s["pages_read"] for s in shards),
            "parsed": sum(s["parsed"] for s in shards), "shard_counters": dict(sorted(counters.items())),
            "seconds": round(time.perf_counter() - started, 3)}


def _cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children (the joined pool workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _process_one(args: tuple[Path, Path, str]) -> dict:
    path, staging, version = args
    return process_shard(path, staging, extractor_version=version)
