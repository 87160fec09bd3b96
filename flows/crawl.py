"""`crawl` flow: run the Scrapy spider in a fresh process and return its report.

Twisted's reactor cannot restart inside one process, so the task delegates to
`crawlers.runner.run_crawl`, which spawns `python -m scrapy crawl healthnews`. A retry helps
when the child process fails to start or dies (it resumes from the crawl state DB with a new
run id); argument errors (ValueError) are not retried.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.artifacts import publish_counts
from flows.settings import CRAWL_RETRIES, CRAWL_TIMEOUT_S


def _retry_crawl(task_obj, task_run, state) -> bool:
    """Retry only process-level failures, never bad arguments."""
    try:
        state.result()
    except ValueError:
        return False
    except Exception:  # noqa: BLE001 - CrawlError, OSError, timeouts: worth one more try
        return True
    return False


@task(name="run-crawl-process", retries=CRAWL_RETRIES, retry_delay_seconds=5, retry_condition_fn=_retry_crawl,
      cache_policy=None)
def crawl_task(start_urls: list[str], data_dir: Path, settings: dict | None = None,
               timeout: float | None = CRAWL_TIMEOUT_S) -> dict:
    """Spawn the crawl process; return its report (small JSON dict, paths as strings)."""
    from crawlers.runner import run_crawl

    logger = get_run_logger()
    logger.info("crawling %s into %s/raw", ", ".join(start_urls), data_dir)
    started = time.perf_counter()
    report = run_crawl(list(start_urls), Path(data_dir), settings=settings, timeout=timeout)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report.pop("stats", None)  # the full Scrapy stats stay in manifest.json; keep task results small
    logger.info("crawl %s: scheduled=%s archived=%s failed=%s not_modified=%s filtered=%s in %.1f s",
                report.get("run_id"), report.get("scheduled"), report.get("archived"), report.get("failed"),
                report.get("not_modified"), report.get("filtered"), report["seconds"])
    return report


@flow(name="crawl", log_prints=False)
def crawl_flow(start_urls: list[str], data_dir: Path, settings: dict | None = None,
               timeout: float | None = CRAWL_TIMEOUT_S) -> dict:
    """Crawl `start_urls` into `<data_dir>/raw/<run_id>/` (WARC + manifest.json)."""
    report = crawl_task(start_urls, data_dir, settings, timeout)
    publish_counts("crawl", report, None)
    return report
