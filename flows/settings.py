"""Orchestration defaults in ONE place: schedule, concurrency, retries, pool sizes.

`healthnews serve`, `prefect.yaml` and the flows read these; an operator overrides the
schedule with CLI flags or the HEALTHNEWS_SCHEDULE_* environment variables, never by
editing code. Values chosen for safety (see docs/notes/flows.md):
- Asia/Shanghai has no daylight-saving time, so "0 3 * * *" fires exactly once every night.
- pause_on_shutdown=False: restarting `healthnews serve` must not silently pause the schedule.
- one pipeline run at a time: two crawls would race on the crawl state DB and the ETL state.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CRON = "0 3 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
CRON_ENV = "HEALTHNEWS_SCHEDULE_CRON"
TIMEZONE_ENV = "HEALTHNEWS_SCHEDULE_TIMEZONE"

DEPLOYMENT_NAME = "healthnews-nightly"
DEPLOYMENT_TAGS = ["healthnews", "etl"]
PAUSE_ON_SHUTDOWN = False
# Deployment-wide limit (server side, across every runner/worker) plus the runner's own limit.
MAX_CONCURRENT_PIPELINE_RUNS = 1
# CANCEL_NEW: a run that collides with a still-running one is cancelled (visible in the UI)
# instead of queueing; the next nightly run catches up because crawl and ETL are incremental.
COLLISION_STRATEGY = "CANCEL_NEW"

# Parsing shards: one worker process per core (the target machine has 2), but only when at least
# PROCESS_POOL_MIN_SHARDS new shards wait: spawning a worker costs ~3 s of imports.
SHARD_WORKERS = max(1, min(4, os.cpu_count() or 1))
PROCESS_POOL_MIN_SHARDS = int(os.environ.get("HEALTHNEWS_PROCESS_POOL_MIN_SHARDS", "8"))
CRAWL_TIMEOUT_S = 3600.0
CRAWL_RETRIES = 1
IO_RETRIES = 2
IO_RETRY_DELAY_S = 2.0
ARTIFACT_KEY_PREFIX = "healthnews"
# `healthnews run` serves the bundled sample site on this port when it is free (else any free
# port): the same URLs every run, so a second run is incremental (304s, only last_seen moves)
# instead of a "new site" whose pages all dedupe against the previous run's.
SAMPLE_SITE_PORT = int(os.environ.get("HEALTHNEWS_SAMPLE_SITE_PORT", "8765"))
# The bundled sample site is our own server on 127.0.0.1: no politeness delay is needed there
# (real sites keep crawlers/settings.py's AutoThrottle + delay). Cuts `healthnews run` from ~36 s
# of crawling to a few seconds.
SAMPLE_SITE_CRAWL_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
                              "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "HEALTHNEWS_RETRY_BACKOFF_BASE": 0.05}


def etl_state_dir(clean_dir: Path) -> Path:
    """ETL state lives next to clean/: <data_dir>/state/etl (the ETL core's documented default)."""
    return Path(clean_dir).parent / "state" / "etl"


def schedule_cron(cron: str | None = None) -> str:
    return cron or os.environ.get(CRON_ENV) or DEFAULT_CRON


def schedule_timezone(timezone: str | None = None) -> str:
    return timezone or os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
