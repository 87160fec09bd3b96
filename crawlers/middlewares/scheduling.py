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
  through unchanged articles are still visited;
* crawler traps are refused and accounted as `filtered/trap` (crawlers/traps.py): links of a
  non-article page that share the page's URL template are held back until the page's output
  is consumed, and admitted with one more "barren hop" if the page found nothing else new.

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
from crawlers.pagekind import ARTICLE
from crawlers.scheduler import request_for_pending
from crawlers.state import PageInfo
from crawlers.traps import has_repeated_segments, url_template

MAX_STORED_OUTLINKS = 1000
# Positive seen-answers kept in memory (cleared when full). It saves a ~5 µs SQLite lookup per
# repeated link; the hot ones (nav bars, listings) come back within a few pages. 50k entries
# held ~6 MiB, filled by a big sitemap at once: 8k caps it at ~1 MiB for < 1 % more CPU.
SEEN_CACHE_SIZE = 8192
BARREN_HOPS_META = "healthnews_barren_hops"


class _PageLinks:
    """Same-template links of one non-article page, held back until its output is consumed."""

    __slots__ = ("template", "deferred", "found_new")

    def __init__(self, template: tuple) -> None:
        self.template = template
        self.deferred: list[Request] = []
        self.found_new = False


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
            self.trap_hops = crawler.settings.getint("HEALTHNEWS_TRAP_MAX_BARREN_HOPS")
            self.trap_repeats = crawler.settings.getint("HEALTHNEWS_TRAP_MAX_REPEATED_SEGMENTS")
        except ValueError as exc:
            raise NotConfigured(f"DEPTH_LIMIT / URLLENGTH_LIMIT / HEALTHNEWS_TRAP_* must be integers: {exc}") from exc
        if self.trap_hops < 0 or self.trap_repeats < 0:
            raise NotConfigured("HEALTHNEWS_TRAP_MAX_BARREN_HOPS / _MAX_REPEATED_SEGMENTS must be >= 0")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # -- admission ----------------------------------------------------------------------------------
    def _track(self, request: Request, url: str, depth: int) -> Request:
        # dont_redirect: a 3xx reaches the spider, which yields its Location as a link (admitted,
        # deduped and accounted here like any other); Scrapy's redirect and meta-refresh
        # middlewares would fetch the target behind the frontier's back (fetched twice when it
        # is also linked directly). Scrapy's own requests (robots.txt) still follow redirects.
        meta = dict(request.meta, healthnews_url=url, depth=depth, dont_redirect=True)
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
        if self.trap_repeats and has_repeated_segments(url, self.trap_repeats):
            self._filter(url, depth, "trap")
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

    def _trap_scope(self, response) -> _PageLinks | None:
        """Link holding for the barren-chain rule (None: rule off, or a 304's replayed links)."""
        if not self.trap_hops or response.status == 304:
            return None
        return _PageLinks(url_template(response.meta.get("healthnews_url") or response.url))

    def _admit_link(self, request: Request, depth: int, outlinks: list[str]) -> Request | None:
        admitted, url = self.admit(request, depth)
        if len(outlinks) < MAX_STORED_OUTLINKS and url.startswith(("http://", "https://")):
            outlinks.append(url)
        return admitted

    def _handle(self, response, item, depth: int, outlinks: list[str], page: _PageLinks | None):
        if isinstance(item, Request):
            # The spider sets the page kind before it yields the page's first link.
            if page is not None and not item.meta.get("healthnews_url") \
                    and response.meta.get("healthnews_page_kind") != ARTICLE \
                    and url_template(canonicalize(item.url, self.context.tracking)) == page.template:
                page.deferred.append(item)
                return None
            admitted = self._admit_link(item, depth, outlinks)
            if admitted is not None and page is not None:
                page.found_new = True
            return admitted
        self.stats.inc_value("healthnews/items")
        return item

    def _release(self, response, page: _PageLinks | None, depth: int, outlinks: list[str]):
        """Admit the held-back same-template links, or refuse them as a trap (see crawlers/traps.py)."""
        if page is None or not page.deferred:
            return
        hops = response.meta.get(BARREN_HOPS_META, 0) + 1 if not page.found_new else 0
        for request in page.deferred:
            if hops > self.trap_hops:
                url = canonicalize(request.url, self.context.tracking)
                if self._is_seen(url):
                    self._repeats += 1
                else:
                    self._remember(url)
                    self._filter(url, depth, "trap")
                continue
            if hops:
                request.meta[BARREN_HOPS_META] = hops
            admitted = self._admit_link(request, depth, outlinks)
            if admitted is not None:
                yield admitted

    def process_spider_output(self, response, result, spider=None):
        depth = response.meta.get("depth", 0) + 1
        outlinks: list[str] = []
        page = self._trap_scope(response)
        # chain, not a list: a sitemap callback yields thousands of Requests, and materialising
        # them here held them all in memory at once, whatever the scheduler's cap.
        for item in chain(self._replayed_links(response), result):
            handled = self._handle(response, item, depth, outlinks, page)
            if handled is not None:
                yield handled
        yield from self._release(response, page, depth, outlinks)
        self._finish(response, outlinks)

    async def process_spider_output_async(self, response, result, spider=None):
        depth = response.meta.get("depth", 0) + 1
        outlinks: list[str] = []
        page = self._trap_scope(response)
        for item in self._replayed_links(response):
            handled = self._handle(response, item, depth, outlinks, page)
            if handled is not None:
                yield handled
        async for item in result:
            handled = self._handle(response, item, depth, outlinks, page)
            if handled is not None:
                yield handled
        for handled in self._release(response, page, depth, outlinks):
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
        if url is None or not 200 <= status < 400:
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
