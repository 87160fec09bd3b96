"""Per-crawl shared context: run id, directories, state store, WARC writer, accounting ledger.

Middlewares, extensions and the spider are separate Scrapy components, but one crawl has one
run id, one state store and one set of WARC files. `get_run_context(crawler)` builds that
context once per crawler (settings read once, `CrawlConfigError` on bad values) and hands the same
object to every component that asks.
"""

from __future__ import annotations

import logging
import re
import secrets
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crawlers.canonical import TrackingParams
from crawlers.ledger import Ledger
from crawlers.state import JobInfo, SqliteCrawlStateStore
from crawlers.warc import CapturedResponse, WarcRunWriter, captured_responses, recover_open_file

logger = logging.getLogger(__name__)

RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_CONTEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class CrawlConfigError(ValueError):
    """Bad core configuration (run id, directories, archive settings).

    Deliberately NOT `NotConfigured`: Scrapy answers that by silently disabling the component,
    and a crawl without its archive or accounting must not run at all. Optional components
    (e.g. retry backoff) still raise `NotConfigured`.
    """


def new_run_id(now: datetime | None = None) -> str:
    """`YYYYMMDDTHHMMSSZ-<6 hex>`: sortable by start time, unique across parallel starts."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class RunContext:
    run_id: str
    data_dir: Path
    raw_dir: Path
    state_dir: Path
    started_at: datetime
    state: SqliteCrawlStateStore
    writer: WarcRunWriter
    ledger: Ledger
    tracking: TrackingParams
    job: JobInfo
    retry_http_codes: frozenset[int]
    recovered_files: list[str] = field(default_factory=list)
    replay: dict[str, CapturedResponse] = field(default_factory=dict)


def _int_setting(settings, name: str, minimum: int = 0) -> int:
    try:
        value = settings.getint(name)
    except (TypeError, ValueError) as exc:
        raise CrawlConfigError(f"{name} must be an integer: {settings.get(name)!r}") from exc
    if value < minimum:
        raise CrawlConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def get_run_context(crawler) -> RunContext:
    """The crawl's context, created on first use."""
    context = _CONTEXTS.get(crawler)
    if context is None:
        context = _build_context(crawler)
        _CONTEXTS[crawler] = context
    return context


def _build_context(crawler) -> RunContext:
    settings = crawler.settings
    run_id = settings.get("HEALTHNEWS_RUN_ID") or new_run_id()
    if not RUN_ID_RE.match(run_id):
        raise CrawlConfigError(f"HEALTHNEWS_RUN_ID must look like 20250101T000000Z-a1b2c3, got {run_id!r}")
    data_dir = Path(settings.get("HEALTHNEWS_DATA_DIR") or "data").expanduser().resolve()
    state_dir = Path(settings.get("HEALTHNEWS_STATE_DIR") or data_dir / "state" / "crawl").expanduser().resolve()
    raw_dir = data_dir / "raw" / run_id
    if raw_dir.exists() and any(raw_dir.iterdir()):
        raise CrawlConfigError(f"run directory already used: {raw_dir} (one crawl = one run id)")
    max_bytes = _int_setting(settings, "HEALTHNEWS_WARC_MAX_BYTES", minimum=1024)
    level = _int_setting(settings, "HEALTHNEWS_WARC_COMPRESSLEVEL", minimum=0)
    if level > 9:
        raise CrawlConfigError("HEALTHNEWS_WARC_COMPRESSLEVEL must be 0..9")
    commit_every = _int_setting(settings, "HEALTHNEWS_STATE_COMMIT_EVERY", minimum=1)
    try:
        commit_seconds = settings.getfloat("HEALTHNEWS_STATE_COMMIT_SECONDS")
    except (TypeError, ValueError) as exc:
        raise CrawlConfigError(f"HEALTHNEWS_STATE_COMMIT_SECONDS must be a number: "
                               f"{settings.get('HEALTHNEWS_STATE_COMMIT_SECONDS')!r}") from exc
    if commit_seconds < 0:
        raise CrawlConfigError("HEALTHNEWS_STATE_COMMIT_SECONDS must be >= 0")
    state = SqliteCrawlStateStore(state_dir, commit_every=commit_every, commit_seconds=commit_seconds)
    job = state.begin_run(run_id)
    writer = WarcRunWriter(raw_dir, run_id, prefix=settings.get("HEALTHNEWS_WARC_PREFIX") or "healthnews",
                           max_bytes=max_bytes, compresslevel=level,
                           warcinfo={"operator-contact": settings.get("HEALTHNEWS_CONTACT_URL", ""),
                                     "http-header-user-agent": settings.get("USER_AGENT", "")})
    retry_codes = frozenset(int(x) for x in settings.getlist("RETRY_HTTP_CODES"))
    context = RunContext(
        run_id=run_id, data_dir=data_dir, raw_dir=raw_dir, state_dir=state_dir,
        started_at=datetime.now(UTC), state=state, writer=writer,
        ledger=Ledger(crawler.stats, state, retry_codes),
        tracking=TrackingParams.from_setting(settings.getlist("HEALTHNEWS_TRACKING_PARAMS")),
        job=job, retry_http_codes=retry_codes,
    )
    if job.resumed:
        _recover_previous_runs(context)
    return context


def _recover_previous_runs(context: RunContext) -> None:
    """Close the torn files of the killed run(s) of this job and index what they captured.

    A URL without an outcome in this job whose final response is already in those files is
    replayed from the archive instead of being fetched (and archived) a second time. "Without an
    outcome", not just "pending": with grouped commits the killed run may have archived pages
    whose very enqueue was lost; they are found again and must not be fetched twice.
    """
    state = context.state
    for previous in context.job.previous_run_ids:
        run_dir = context.data_dir / "raw" / previous
        if not run_dir.is_dir():
            continue
        for open_file in sorted(run_dir.glob("*.warc.gz.open")):
            final = recover_open_file(open_file)
            context.recovered_files.append(str(final))
            logger.warning("recovered crashed WARC file %s", final)
        for path in sorted(run_dir.glob("*.warc.gz")):
            for captured in captured_responses(path):
                if captured.status not in context.retry_http_codes and not state.is_done(captured.url):
                    context.replay[captured.url] = captured
    if context.replay:
        logger.info("resume: %d URLs without outcome already archived by the killed run; replaying them from WARC",
                    len(context.replay))
