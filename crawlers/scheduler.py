"""Scheduler with a bounded memory queue: the rest of the frontier waits in the state store.

Why: a sitemap yields every URL of a site at once, and Scrapy's scheduler keeps each one as a
Request object (≈ 2.3 MiB per 1,000, Referer and queue slot included) until it is fetched, so
peak memory grew with the size of the site (132 / 154 / 178 MiB for 2k / 10k / 20k pages; a
million-URL sitemap would need gigabytes). Every admitted URL is already `pending` in the
durable frontier (crawlers/middlewares/scheduling.py), so holding it in memory as well buys
nothing. This scheduler keeps at most `HEALTHNEWS_SCHEDULER_MEMORY_MAX` requests in memory;
beyond that a request is *spilled*: dropped, and its URL (depth, priority) appended to the
store's spill queue. When the memory queue has drained to half the limit it is topped up from
the spill queue, re-creating each request exactly as a resumed crawl re-creates its pending
URLs (`request_for_pending`, shared with the resume path).

Only requests that can be re-created from (URL, depth, priority) are spilled: admitted requests
with the default callback and the ledger's errback and no other state. Retries, redirects,
robots.txt and sitemap-index requests carry state of their own (retry count, redirect chain,
callback) and always stay in memory; there are only ever a few of them (≤ concurrency).

This is the component a shared frontier (scrapy-redis) would replace: the seen set, the pending
frontier and now the overflow queue all sit behind the `CrawlStateStore` protocol.
"""

from __future__ import annotations

from collections.abc import Callable

from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.defer import Deferred

from crawlers.context import get_run_context
from crawlers.state import CrawlStateStore, PendingUrl

STATS = "healthnews/scheduler/"
# Meta keys a spillable request may carry: exactly what `request_for_pending` sets again
# (`is_start_request` only routes start requests to Scrapy's start queue).
RECREATED_META = frozenset({"healthnews_url", "depth", "is_start_request", "dont_redirect"})


def request_for_pending(pending: PendingUrl, errback: Callable) -> Request:
    """The request for a frontier URL without an outcome (resume and refill both use this).

    Default callback (the spider's `parse` also recognises robots.txt and sitemaps by content),
    the ledger's errback so every failure becomes an outcome, and `dont_filter` because the URL
    was admitted (deduped, counted `scheduled`) when it was first found.
    """
    return Request(pending.url, dont_filter=True, priority=pending.priority, errback=errback,
                   meta={"healthnews_url": pending.url, "depth": pending.depth, "dont_redirect": True})


def _memory_max(settings) -> int:
    raw = settings.get("HEALTHNEWS_SCHEDULER_MEMORY_MAX")
    try:
        value = settings.getint("HEALTHNEWS_SCHEDULER_MEMORY_MAX")
    except (TypeError, ValueError) as exc:
        raise NotConfigured(f"HEALTHNEWS_SCHEDULER_MEMORY_MAX must be an integer >= 0, got {raw!r}") from exc
    if value < 0 or (isinstance(raw, float) and not raw.is_integer()):
        raise NotConfigured(f"HEALTHNEWS_SCHEDULER_MEMORY_MAX must be an integer >= 0, got {raw!r}")
    return value


class SpillingScheduler(Scheduler):
    """Scrapy's scheduler (same queues, stats and start-request handling) with a memory cap.

    `HEALTHNEWS_SCHEDULER_MEMORY_MAX = 0` turns spilling off (plain Scrapy behaviour). A bad
    value raises `NotConfigured`, which Scrapy does not swallow for the scheduler: the crawl
    fails at start instead of running unbounded.
    """

    memory_max: int = 0          # HEALTHNEWS_SCHEDULER_MEMORY_MAX (0 = no cap)
    refill_at: int = 0           # top up from the spill queue when the memory queue is this short
    memory_peak: int = 0         # largest memory queue seen (stats)
    state: CrawlStateStore
    errback: Callable
    default_callback: Callable

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpillingScheduler:
        memory_max = _memory_max(crawler.settings)
        scheduler = super().from_crawler(crawler)
        scheduler.memory_max = memory_max
        scheduler.refill_at = memory_max // 2
        context = get_run_context(crawler)
        scheduler.state = context.state
        scheduler.errback = context.ledger.on_failure
        scheduler.memory_peak = 0
        return scheduler

    def open(self, spider: Spider) -> Deferred | None:
        self.default_callback = spider.parse
        return super().open(spider)

    def close(self, reason: str) -> Deferred | None:
        if self.memory_max:
            assert self.stats is not None
            self.stats.set_value(STATS + "memory_max", self.memory_max)
            self.stats.set_value(STATS + "memory_peak", self.memory_peak)
        return super().close(reason)

    def __len__(self) -> int:
        """Requests waiting: in memory and spilled (the engine stays busy while either remains)."""
        return super().__len__() + self.state.spilled_count()

    def _spillable(self, request: Request) -> bool:
        """True if `request_for_pending` would re-create this request without losing anything
        but its Referer header."""
        meta = request.meta
        return (meta.get("healthnews_url") == request.url
                and request.errback == self.errback
                and (request.callback is None or request.callback == self.default_callback)
                and meta.keys() <= RECREATED_META
                and request.method == "GET" and not request.body and not request.flags
                and all(name == b"Referer" for name in request.headers)
                and not request.cb_kwargs)

    def enqueue_request(self, request: Request) -> bool:
        if self.memory_max:
            queued = len(self.mqs)
            if queued >= self.memory_max and self._spillable(request):
                self.state.spill(PendingUrl(request.url, int(request.meta.get("depth", 0)), request.priority))
                assert self.stats is not None
                self.stats.inc_value(STATS + "spilled")
                return True
            if queued >= self.memory_peak:
                self.memory_peak = queued + 1
        return super().enqueue_request(request)

    def next_request(self) -> Request | None:
        if self.memory_max and self.state.spilled_count() and len(self.mqs) <= self.refill_at:
            self._refill()
        return super().next_request()

    def _refill(self) -> None:
        """Top the memory queue up to the limit from the spill queue (priority, then age)."""
        taken = self.state.take_spilled(self.memory_max - len(self.mqs))
        for pending in taken:
            super().enqueue_request(request_for_pending(pending, self.errback))
        assert self.stats is not None
        self.stats.inc_value(STATS + "refilled", len(taken))
