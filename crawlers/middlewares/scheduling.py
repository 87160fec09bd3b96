"""Scheduling (spider middleware): canonicalize, dedupe, limit, enqueue, and close outcomes.

Everything the spider yields passes here (order 950, next to the spider):

* each request URL is canonicalized (crawlers/canonical.py) and checked against the crawl's
  state store, not against Scrapy's in-memory dupefilter;
* a new canonical URL is enqueued (durably) and counted `scheduled`; a different spelling of a
  seen URL (tracking parameters, ...) is counted once as `filtered/duplicate`; depth and URL
  length limits are applied here so they are accounted too (Scrapy's Depth/UrlLength middlewares
  would drop requests silently);
* after a page's output has been consumed, its outcome (with validators, page kind and out-links)
  is written after those out-links were enqueued (commits are grouped, but a crash loses only
  the latest writes), so a resumed crawl never loses the links of a page it counts as done;
* a 304 page replays the out-links stored from its last full fetch, so pages reachable only
  through unchanged articles are still visited.

Start requests from a resumed job's frontier are re-issued first (crawlers/state.py), built by
`request_for_pending` exactly like requests the scheduler takes back from its spill queue
(crawlers/scheduler.py).
"""

from __future__ import annotations

import time
from itertools import chain

from scrapy import Request
from scrapy.exceptions import NotConfigured

from crawlers.canonical import canonicalize
from crawlers.context import get_run_context
from crawlers.ledger import status_outcome
from crawlers.scheduler import request_for_pending
from crawlers.state import PageInfo

MAX_STORED_OUTLINKS = 1000
# Positive seen-answers kept in memory (cleared when full). It saves a ~5 µs SQLite lookup per
# repeated link; the hot ones (nav bars, listings) come back within a few pages. 50k entries
# held ~6 MiB, filled by a big sitemap at once: 8k caps it at ~1 MiB for < 1 % more CPU.
SEEN_CACHE_SIZE = 8192


class SchedulingMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.context = get_run_context(crawler)
        self.ledger = self.context.ledger
        self.state = self.context.state
        self.stats = crawler.stats
        self._seen_cache: set[str] = set()
        self._repeats = 0  # links to scheduled URLs, added to the stats once per page (hot path)
        try:
            self.depth_limit = crawler.settings.getint("DEPTH_LIMIT")
            self.url_length_limit = crawler.settings.getint("URLLENGTH_LIMIT")
        except ValueError as exc:
            raise NotConfigured(f"DEPTH_LIMIT / URLLENGTH_LIMIT must be integers: {exc}") from exc

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # -- admission ----------------------------------------------------------------------------------
    def _track(self, request: Request, url: str, depth: int) -> Request:
        meta = dict(request.meta, healthnews_url=url, depth=depth)
        errback = request.errback or self.ledger.on_failure
        return request.replace(url=url, meta=meta, errback=errback)

    def _filter(self, url: str, depth: int, reason: str) -> None:
        self.state.enqueue(url, depth)
        self.ledger.scheduled()
        self.ledger.resolve(url, f"filtered/{reason}")

    def _is_seen(self, url: str) -> bool:
        """State lookup with a bounded in-process cache of positive answers (seen stays seen)."""
        if url in self._seen_cache:
            return True
        if self.state.is_seen(url):
            self._remember(url)
            return True
        return False

    def _remember(self, url: str) -> None:
        if len(self._seen_cache) >= SEEN_CACHE_SIZE:
            self._seen_cache.clear()  # crude but bounded; the state store stays authoritative
        self._seen_cache.add(url)

    def admit(self, request: Request, depth: int) -> tuple[Request | None, str]:
        """(tracked request to schedule or None if duplicate/limited and accounted, canonical URL)."""
        if request.meta.get("healthnews_url"):
            return request, request.url  # already admitted (e.g. re-yielded by another middleware)
        raw = request.url
        url = canonicalize(raw, self.context.tracking)
        if self._is_seen(url):
            if raw != url and not self.state.is_seen(raw):
                self.state.mark_seen(raw)
                self.ledger.scheduled()
                self.stats.inc_value("healthnews/filtered/duplicate")
                self.stats.inc_value("healthnews/filtered")
            else:
                self._repeats += 1
            return None, url
        self._remember(url)
        if self.depth_limit and depth > self.depth_limit:
            self._filter(url, depth, "depth")
            return None, url
        if self.url_length_limit and len(url) > self.url_length_limit:
            self._filter(url, depth, "url_too_long")
            return None, url
        self.state.enqueue(url, depth)
        self.ledger.scheduled()
        return self._track(request, url, depth), url

    # -- start ----------------------------------------------------------------------------------
    async def process_start(self, start):
        for pending in self.context.job.pending:
            self.ledger.scheduled()
            self.stats.inc_value("healthnews/resumed")
            yield request_for_pending(pending, self.ledger.on_failure)
        async for item in start:
            if isinstance(item, Request):
                item, _ = self.admit(item, 0)
                if item is None:
                    continue
            yield item

    # -- spider output --------------------------------------------------------------------------
    def _replayed_links(self, response) -> list[Request]:
        if response.status != 304:
            return []
        info = self.state.page_info(response.meta.get("healthnews_url", ""))
        return [Request(link) for link in (info.outlinks if info else [])]

    def _handle(self, response, item, depth: int, outlinks: list[str]):
        if isinstance(item, Request):
            admitted, url = self.admit(item, depth)
            if len(outlinks) < MAX_STORED_OUTLINKS and url.startswith(("http://", "https://")):
                outlinks.append(url)
            return admitted
        self.stats.inc_value("healthnews/items")
        return item

    def process_spider_output(self, response, result, spider=None):
        depth = response.meta.get("depth", 0) + 1
        outlinks: list[str] = []
        # chain, not a list: a sitemap callback yields thousands of Requests, and materialising
        # them here held them all in memory at once, whatever the scheduler's cap.
        for item in chain(self._replayed_links(response), result):
            handled = self._handle(response, item, depth, outlinks)
            if handled is not None:
                yield handled
        self._finish(response, outlinks)

    async def process_spider_output_async(self, response, result, spider=None):
        depth = response.meta.get("depth", 0) + 1
        outlinks: list[str] = []
        for item in self._replayed_links(response):
            handled = self._handle(response, item, depth, outlinks)
            if handled is not None:
                yield handled
        async for item in result:
            handled = self._handle(response, item, depth, outlinks)
            if handled is not None:
                yield handled
        self._finish(response, outlinks)

    def process_spider_exception(self, response, exception, spider=None):
        """The callback failed on a page we did fetch: it is archived; the error is counted."""
        self.stats.inc_value("healthnews/spider_errors")
        self._finish(response, [])
        return None

    # -- outcome --------------------------------------------------------------------------------
    def _finish(self, response, outlinks: list[str]) -> None:
        if self._repeats:
            self.stats.inc_value("healthnews/links/repeat", self._repeats)
            self._repeats = 0
        url = response.meta.get("healthnews_url")
        status = response.status
        if url is None or not (200 <= status < 300 or status == 304):
            return  # other statuses are resolved by the errback (HttpError)
        now = time.time()
        if status == 304:
            old = self.state.page_info(url)
            page = PageInfo(old.etag, old.last_modified, 200, old.fetched_at, old.kind, old.outlinks) if old else None
        else:
            kind = response.meta.get("healthnews_page_kind")
            self.stats.inc_value(f"healthnews/pages/{kind or 'unknown'}")
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            page = PageInfo(etag.decode("latin-1") if etag else None, modified.decode("latin-1") if modified else None,
                            status, now, kind, list(dict.fromkeys(outlinks)))
        self.ledger.resolve(url, status_outcome(status, self.context.retry_http_codes), status, page,
                            replayed=bool(response.meta.get("healthnews_replayed")))
