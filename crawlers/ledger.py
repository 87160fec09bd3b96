"""Crawl accounting: every scheduled URL gets exactly one outcome, and the stats say which.

Stats keys (a contract; the report and manifest are built from them):

- `healthnews/scheduled`                 URLs the spider scheduled (distinct spellings)
- `healthnews/archived`                  got a definitive HTTP answer, stored in the WARC files
- `healthnews/archived/status/<code>`    ... by final status (200, 304, 404, ...)
- `healthnews/not_modified`              ... of which 304 (revisit records)
- `healthnews/replayed`                  ... of which taken from a killed run's WARC on resume
- `healthnews/failed`, `healthnews/failed/<reason>`
                                         no definitive answer: `http_<code>` for a retryable status
                                         (5xx, 408, 429) after all retries, or the exception class
                                         (`timeout`, `dns`, `connection_refused`, ...)
- `healthnews/filtered`, `healthnews/filtered/<reason>`
                                         never fetched on purpose: robots, offsite, duplicate, depth,
                                         url_too_long, size, ssrf, ignored, trap
- `healthnews/pending`                   scheduled without an outcome when the crawl stopped
                                         (0 for a finished crawl; resumed by the next run)

Invariant checked at close: scheduled == archived + failed + filtered + pending.
Decision on 404 (and other non-retryable 4xx): the server answered definitively, so the URL is
*archived* with its status (counted under archived/status/404); it is not a failure to retry.
"""

from __future__ import annotations

import logging
import re

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.state import PageInfo, SqliteCrawlStateStore

logger = logging.getLogger(__name__)

P = "healthnews/"
FILTER_REASONS = ("robots", "offsite", "duplicate", "depth", "url_too_long", "size", "ssrf", "ignored", "trap")
EXCEPTION_REASONS = {
    "DownloadTimeoutError": "timeout", "TimeoutError": "timeout", "TCPTimedOutError": "timeout",
    "CannotResolveHostError": "dns", "DNSLookupError": "dns",
    "DownloadConnectionRefusedError": "connection_refused", "ConnectionRefusedError": "connection_refused",
    "ConnectionLost": "connection_lost", "ConnectionDone": "connection_lost", "ResponseFailed": "connection_lost",
    "ResponseDataLossError": "data_loss", "DownloadFailedError": "download_failed",
}


class SsrfBlocked(IgnoreRequest):
    """Raised by the SSRF guard: the URL resolves to a private/reserved address."""


class FilteredRequest(IgnoreRequest):
    """An IgnoreRequest that carries its accounting reason."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().removesuffix("_error") or "error"


def failure_outcome(failure: Failure, retry_codes: frozenset[int]) -> tuple[str, int | None]:
    """Map a download failure to (outcome, HTTP status)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return status_outcome(status, retry_codes), status
    if isinstance(exc, SsrfBlocked):
        return "filtered/ssrf", None
    if isinstance(exc, FilteredRequest):
        return f"filtered/{exc.reason}", None
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "robots.txt" in message:
            return "filtered/robots", None
        if "offsite" in message.lower():
            return "filtered/offsite", None
        if "MAXSIZE" in message or "max size" in message.lower():
            return "filtered/size", None
        return "filtered/ignored", None
    name = type(exc).__name__
    # Scrapy cancels a download only for its size limits: with a message when Content-Length
    # announced too much, with an EMPTY one when a body without Content-Length grew past
    # DOWNLOAD_MAXSIZE mid-stream (Twisted's CancelledError re-raised without text).
    if name == "DownloadCancelledError" and (not str(exc) or "maxsize" in str(exc).lower()
                                             or "max size" in str(exc).lower() or "warnsize" in str(exc).lower()):
        return "filtered/size", None
    return f"failed/{EXCEPTION_REASONS.get(name, _snake(name))}", None


def status_outcome(status: int, retry_codes: frozenset[int]) -> str:
    """Retryable statuses that survived all retries are failures; any other answer is archived."""
    return f"failed/http_{status}" if status in retry_codes or status >= 500 else "archived"


class Ledger:
    """Single writer of outcomes: state store (durable) + stats (report)."""

    def __init__(self, stats, state: SqliteCrawlStateStore, retry_codes: frozenset[int]) -> None:
        self.stats = stats
        self.state = state
        self.retry_codes = retry_codes

    def scheduled(self) -> None:
        self.stats.inc_value(P + "scheduled")

    def resolve(self, url: str, outcome: str, status: int | None = None, page: PageInfo | None = None,
                *, replayed: bool = False) -> bool:
        """Record the outcome of a scheduled URL once; later calls for the same URL are ignored."""
        if not self.state.mark_done(url, outcome, status, page):
            self.stats.inc_value(P + "outcome_already_recorded")
            return False
        category = outcome.split("/", 1)[0]
        self.stats.inc_value(P + category)
        if category == "archived":
            self.stats.inc_value(f"{P}archived/status/{status}")
            if status == 304:
                self.stats.inc_value(P + "not_modified")
            if replayed:
                self.stats.inc_value(P + "replayed")
        else:
            self.stats.inc_value(P + outcome)
        return True

    def on_failure(self, failure: Failure) -> None:
        """Errback attached to every scheduled request: the failure becomes an outcome.

        Returning None swallows the failure (we log it here, once, with its outcome).
        """
        request = failure.request
        url = request.meta.get("healthnews_url")
        outcome, status = failure_outcome(failure, self.retry_codes)
        page = PageInfo(None, None, status, None, None, []) if isinstance(failure.value, HttpError) else None
        if url is not None:
            self.resolve(url, outcome, status, page, replayed=bool(request.meta.get("healthnews_replayed")))
        level = logging.DEBUG if outcome.startswith("filtered/") or outcome == "archived" else logging.WARNING
        logger.log(level, "%s %s (%s)", outcome, request.url, failure.getErrorMessage())
        return None

    def counts(self, pending: int) -> dict:
        """Report counts; `pending` comes from the state store (URLs still without an outcome)."""
        stats = self.stats.get_stats()
        scheduled = stats.get(P + "scheduled", 0)
        archived = stats.get(P + "archived", 0)
        failed = stats.get(P + "failed", 0)
        filtered = stats.get(P + "filtered", 0)

        def by_prefix(prefix: str) -> dict[str, int]:
            return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}

        return {
            "scheduled": scheduled,
            "archived": archived,
            "failed": failed,
            "filtered": by_prefix(P + "filtered/"),
            "filtered_total": filtered,
            "failed_reasons": by_prefix(P + "failed/"),
            "archived_status": {int(k): v for k, v in by_prefix(P + "archived/status/").items()},
            "not_modified": stats.get(P + "not_modified", 0),
            "replayed": stats.get(P + "replayed", 0),
            "items": stats.get(P + "items", 0),
            "pending": pending,
        }
