"""`pipeline` flow: crawl (fresh process) then ETL over everything new under data_dir/raw."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.artifacts import publish_counts
from flows.crawl import crawl_task
from flows.etl import etl_flow
from flows.settings import CRAWL_TIMEOUT_S, etl_state_dir


@flow(name="pipeline")
def pipeline_flow(start_urls: list[str], data_dir: Path, crawl_settings: dict | None = None,
                  crawl_timeout: float | None = CRAWL_TIMEOUT_S) -> dict:
    """Crawl `start_urls` into data_dir/raw, then publish data_dir/clean; returns both reports.

    The ETL runs as a subflow over the whole raw/ tree: its registry skips files already
    processed, so files from an earlier crawl whose ETL failed are picked up now.
    """
    data_dir = Path(data_dir)
    crawl = crawl_task(start_urls, data_dir, crawl_settings, crawl_timeout)
    clean_dir = data_dir / "clean"
    etl = etl_flow(data_dir / "raw", clean_dir, etl_state_dir(clean_dir))
    key = publish_counts("pipeline", crawl, etl)
    get_run_logger().info("pipeline done: crawl %s, snapshot %s", crawl.get("run_id"), etl.get("snapshot"))
    return {"crawl": crawl, "etl": etl, "artifact_key": key, "flow_run_id": str(flow_run.id)}
