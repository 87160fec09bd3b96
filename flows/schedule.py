"""Scheduling: serve the `pipeline` flow on a cron schedule with the safe defaults of flows.settings.

`deployment_options` is shared by `serve_pipeline` (long-running `flow.serve`) and
`build_deployment` (a RunnerDeployment object, used by tests and by anyone applying the
deployment to a server), so both carry the same schedule, time zone and concurrency limit.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.pipeline import pipeline_flow
from flows.settings import (
    COLLISION_STRATEGY,
    DEPLOYMENT_NAME,
    DEPLOYMENT_TAGS,
    MAX_CONCURRENT_PIPELINE_RUNS,
    PAUSE_ON_SHUTDOWN,
    schedule_cron,
    schedule_timezone,
)
from healthnews.errors import UserError


def concurrency_config() -> ConcurrencyLimitConfig:
    """At most one pipeline run per deployment; a colliding run is handled per COLLISION_STRATEGY."""
    return ConcurrencyLimitConfig(limit=MAX_CONCURRENT_PIPELINE_RUNS,
                                  collision_strategy=ConcurrencyLimitStrategy(COLLISION_STRATEGY))


def _check_schedule(cron: str, timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"unknown time zone {timezone!r} (use an IANA name such as Asia/Shanghai)") from exc
    from prefect.schedules import validate_cron_string

    try:
        validate_cron_string(cron)
    except ValueError as exc:
        raise UserError(f"invalid cron expression {cron!r}") from exc


def deployment_options(cron: str | None = None, timezone: str | None = None,
                       start_urls: list[str] | None = None, data_dir: Path = Path("data")) -> dict:
    """Keyword arguments common to `Flow.serve` and `Flow.to_deployment`."""
    if not start_urls:
        raise UserError("--start-url is required for a scheduled pipeline (the sample site is for `healthnews run`)")
    cron, timezone = schedule_cron(cron), schedule_timezone(timezone)
    _check_schedule(cron, timezone)
    return {
        "name": DEPLOYMENT_NAME,
        "schedule": Cron(cron, timezone=timezone),
        "parameters": {"start_urls": list(start_urls), "data_dir": str(Path(data_dir).expanduser().resolve())},
        "tags": list(DEPLOYMENT_TAGS),
        "description": f"healthnews crawl + ETL, cron {cron!r} in {timezone}",
    }


def build_deployment(cron: str | None = None, timezone: str | None = None,
                     start_urls: list[str] | None = None, data_dir: Path = Path("data")):
    """The RunnerDeployment `serve_pipeline` registers (same schedule and concurrency limit)."""
    return pipeline_flow.to_deployment(**deployment_options(cron, timezone, start_urls, data_dir),
                                       concurrency_limit=concurrency_config())


def serve_options() -> dict:
    """Runner options of `Flow.serve`: keep schedules active across restarts, one run at a time."""
    return {"pause_on_shutdown": PAUSE_ON_SHUTDOWN, "limit": MAX_CONCURRENT_PIPELINE_RUNS,
            "global_limit": concurrency_config()}


def _require_prefect_server() -> None:
    """Prefect's temporary server runs no scheduler, so serving against it would never fire."""
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise UserError("healthnews serve needs a Prefect server for its schedule: run `prefect server start` "
                        "and `export PREFECT_API_URL=http://127.0.0.1:4200/api` first")


def serve_pipeline(cron: str | None = None, timezone: str | None = None, start_urls: list[str] | None = None,
                   data_dir: Path = Path("data")) -> None:
    """Block forever, running the pipeline flow on schedule (Ctrl-C to stop; schedule stays active)."""
    options = deployment_options(cron, timezone, start_urls, data_dir)
    _require_prefect_server()
    pipeline_flow.serve(**options, **serve_options())
