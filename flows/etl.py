"""`etl` flow: new raw WARC files -> staged shards (parallel) -> one merged, published snapshot.

Incremental: only files whose (content digest, extractor version) is not in the ETL registry are
parsed. Tasks exchange FILE PATHS and small count dicts, never data frames: each shard task writes
Parquet under the run's staging dir. I/O tasks retry; the parse task does not (a parse failure is
deterministic - it would fail again - and parse_page already quarantines bad pages).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.context import TaskRunContext
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import unmapped

from flows.artifacts import publish_counts
from flows.settings import IO_RETRIES, IO_RETRY_DELAY_S, PROCESS_POOL_MIN_SHARDS, SHARD_WORKERS, etl_state_dir


def _retry_on_os_error(task_obj, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:  # noqa: BLE001 - validation/parse errors are deterministic
        return False
    return False


def shard_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """File digest + extractor version + staging dir: same bytes, same parser -> same staged shard.

    Built from the digest rather than Prefect's default (hash of pickled inputs) so a renamed or
    copied file hits the cache, and a new EXTRACTOR_VERSION misses it.
    """
    from pipelines.parse import EXTRACTOR_VERSION

    return f"shard-{parameters['digest']}-{EXTRACTOR_VERSION}-{Path(parameters['staging_dir']).name}"


@task(name="find-new-raw-files", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAY_S,
      retry_condition_fn=_retry_on_os_error, cache_policy=None)
def find_new_raw_files(raw_dir: Path, state_dir: Path) -> dict:
    """List closed raw files and keep those not yet processed by this extractor version."""
    from pipelines.etl import processed_registry
    from pipelines.parse import EXTRACTOR_VERSION
    from pipelines.rawio import file_digest, list_raw_files

    files = list_raw_files(Path(raw_dir))
    registry = processed_registry(Path(state_dir))
    new = []
    for path in files:
        digest = file_digest(path)
        entry = registry.get(digest)
        if entry is None or entry.get("extractor_version") != EXTRACTOR_VERSION:
            new.append({"path": str(path), "digest": digest})
    get_run_logger().info("%d raw files under %s, %d new for extractor %s",
                          len(files), raw_dir, len(new), EXTRACTOR_VERSION)
    return {"files_total": len(files), "new": new}


@task(name="parse-shard", cache_key_fn=shard_cache_key, persist_result=True,
      task_run_name="parse-{digest:.12}")
def parse_shard(raw_file: str, digest: str, staging_dir: str) -> dict:
    """Parse one WARC shard into staged Parquet files; returns paths + counts only."""
    from pipelines.etl import process_shard
    from pipelines.parse import EXTRACTOR_VERSION

    info = process_shard(Path(raw_file), Path(staging_dir), extractor_version=EXTRACTOR_VERSION)
    get_run_logger().info("%s: read %s pages, parsed %s, quarantined %s in %.2f s", Path(raw_file).name,
                          info.get("pages_read"), info.get("parsed"), info.get("quarantined"),
                          info.get("seconds", 0.0))
    return info


@task(name="merge-and-publish", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAY_S,
      retry_condition_fn=_retry_on_os_error, cache_policy=None)
def merge_publish(shards: list[dict], clean_dir: Path, state_dir: Path, run_id: str) -> dict:
    """Merge staged shards into the ETL state and swap in one new Parquet snapshot atomically."""
    from pipelines.etl import merge_and_publish

    result = merge_and_publish([Path(s["staged"]) for s in shards], Path(clean_dir), Path(state_dir),
                               run_id=run_id, inputs=shards)
    get_run_logger().info("published %s: rows %s, duplicates removed %s, quarantined %s",
                          result.get("snapshot"), result.get("rows"), result.get("duplicates_removed"),
                          result.get("quarantined"))
    return result


def shard_task_runner(new_files: int) -> TaskRunner:
    """Processes for CPU-bound parsing when there is enough work to pay for spawning them.

    Parsing holds the GIL, so threads do not add CPU (measured: 2 threads no faster than 1);
    a spawned worker costs ~3 s of imports, so small runs (the nightly increment, the sample
    site) parse in-process and a big backlog uses one process per core.
    """
    if SHARD_WORKERS > 1 and new_files >= PROCESS_POOL_MIN_SHARDS:
        return ProcessPoolTaskRunner(max_workers=SHARD_WORKERS)
    return ThreadPoolTaskRunner(max_workers=1)


def _current_rows(clean_dir: Path) -> dict:
    """Rows of the snapshot already published (reported when there was nothing new to process)."""
    import json

    manifest = Path(clean_dir) / "manifest.json"
    if not manifest.exists():
        return {}
    return json.loads(manifest.read_text(encoding="utf-8")).get("rows", {})


@flow(name="etl")
def etl_flow(raw_dir: Path, clean_dir: Path, state_dir: Path | None = None) -> dict:
    """Process raw files not processed before and publish a snapshot; returns the counts."""
    from pipelines.etl import new_run_id

    logger = get_run_logger()
    started = time.perf_counter()
    state_dir = Path(state_dir) if state_dir else etl_state_dir(Path(clean_dir))
    found = find_new_raw_files(Path(raw_dir), state_dir)
    run_id = new_run_id()
    summary: dict = {"run_id": run_id, "files_total": found["files_total"], "files_new": len(found["new"]),
                     "raw_dir": str(raw_dir), "clean_dir": str(clean_dir), "state_dir": str(state_dir)}
    if not found["new"]:
        logger.info("nothing new to process; the current snapshot stays published")
        summary.update(published=False, reason="no new raw files", rows=_current_rows(Path(clean_dir)),
                       pages_read=0, parsed=0, quarantined=0, duplicates_removed=0, stage_seconds={})
    else:
        staging = state_dir / "staging" / run_id
        t0 = time.perf_counter()
        params = {"raw_file": [f["path"] for f in found["new"]], "digest": [f["digest"] for f in found["new"]],
                  "staging_dir": unmapped(str(staging))}
        with shard_task_runner(len(found["new"])) as runner:
            logger.info("parsing %d shards with %s", len(found["new"]), type(runner).__name__)
            shards = runner.map(parse_shard, params).result()
        parse_seconds = round(time.perf_counter() - t0, 3)
        result = merge_publish(shards, Path(clean_dir), state_dir, run_id)
        shutil.rmtree(staging, ignore_errors=True)
        summary.update(result)
        summary["pages_read"] = sum(s.get("pages_read", 0) for s in shards)
        summary["parsed"] = sum(s.get("parsed", 0) for s in shards)
        summary["shard_quarantined"] = sum(s.get("quarantined", 0) for s in shards)
        summary["stage_seconds"] = {"parse_shards": parse_seconds, **(result.get("stage_seconds") or {})}
    summary.pop("counters", None)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["manifest"] = str(Path(clean_dir) / "manifest.json")
    summary["artifact_key"] = publish_counts("etl", None, summary)
    return summary
