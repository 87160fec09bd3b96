"""Incremental re-crawl and polite retries (downloader middlewares).

`ConditionalRequestMiddleware` adds If-None-Match / If-Modified-Since from the validators the
state store kept from the last 200 of a URL, so an unchanged article answers `304 Not Modified`
(archived as a WARC revisit, not re-parsed). Listing pages (and robots.txt / sitemaps) drive
discovery, so they are re-fetched in full once they are older than
HEALTHNEWS_LISTING_REVISIT_SECONDS (default 0: every run), which is how new articles are found.

`RetryBackoffMiddleware` delays retry n by base * 2**(n-1) seconds (capped). Scrapy's
RetryMiddleware re-schedules immediately and has no backoff setting; the delay is taken in
process_request, before the request occupies a download slot.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import formatdate

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawlers.context import get_run_context
from crawlers.pagekind import ARTICLE


class ConditionalRequestMiddleware:
    def __init__(self, context, stats, enabled: bool, listing_revisit_seconds: float) -> None:
        self.context = context
        self.stats = stats
        self.enabled = enabled
        self.listing_revisit_seconds = listing_revisit_seconds

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        revisit = settings.getfloat("HEALTHNEWS_LISTING_REVISIT_SECONDS")
        if revisit < 0:
            raise NotConfigured("HEALTHNEWS_LISTING_REVISIT_SECONDS must be >= 0")
        return cls(get_run_context(crawler), crawler.stats,
                   settings.getbool("HEALTHNEWS_CONDITIONAL_REQUESTS"), revisit)

    def process_request(self, request, spider=None):
        url = request.meta.get("healthnews_url")
        if not self.enabled or url is None or b"If-None-Match" in request.headers \
                or b"If-Modified-Since" in request.headers:
            return None
        info = self.context.state.page_info(url)
        if info is None or info.status != 200 or not (info.etag or info.last_modified):
            return None
        age = time.time() - (info.fetched_at or 0)
        if info.kind != ARTICLE and age >= self.listing_revisit_seconds:
            self.stats.inc_value("healthnews/revisit/full")
            return None
        if info.etag:
            request.headers[b"If-None-Match"] = info.etag
        if info.last_modified:
            request.headers[b"If-Modified-Since"] = info.last_modified
        elif info.fetched_at:
            request.headers[b"If-Modified-Since"] = formatdate(info.fetched_at, usegmt=True)
        if info.fetched_at:
            request.meta["healthnews_refers_to_date"] = datetime.fromtimestamp(info.fetched_at, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        self.stats.inc_value("healthnews/revisit/conditional")
        return None


class RetryBackoffMiddleware:
    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler):
        base = crawler.settings.getfloat("HEALTHNEWS_RETRY_BACKOFF_BASE")
        cap = crawler.settings.getfloat("HEALTHNEWS_RETRY_BACKOFF_MAX")
        if base < 0 or cap < 0:
            raise NotConfigured("HEALTHNEWS_RETRY_BACKOFF_BASE/MAX must be >= 0")
        if base == 0:
            raise NotConfigured("retry backoff disabled (HEALTHNEWS_RETRY_BACKOFF_BASE = 0)")
        return cls(base, cap)

    def delay_for(self, retry_times: int) -> float:
        return min(self.cap, self.base * 2 ** max(0, retry_times - 1)) if retry_times > 0 else 0.0

    async def process_request(self, request, spider=None):
        delay = self.delay_for(int(request.meta.get("retry_times", 0)))
        if delay > 0:
            from twisted.internet import (
                reactor,  # the installed one (asyncio); never import it at module level
            )

            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None
