"""Bounded scheduler memory (crawlers/scheduler.py): requests beyond the limit wait in SQLite.

A real crawl of the sample site with a memory queue of 5 requests must still fetch every page
exactly once with balanced accounting; the store's spill queue keeps priority order, skips URLs
that got an outcome meanwhile and is dropped (not lost: the URLs stay pending) on resume.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawlers.runner import CrawlError, run_crawl
from crawlers.scheduler import SpillingScheduler, request_for_pending
from crawlers.state import PendingUrl, SqliteCrawlStateStore
from healthnews.sample_site import SampleSite, SampleSiteServer

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HEALTHNEWS_RETRY_BACKOFF_BASE": 0.05,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
LIMIT = 5


def test_spill_queue_order_skips_resolved_urls_and_resets_on_resume(tmp_path: Path) -> None:
    store = SqliteCrawlStateStore(tmp_path)
    store.begin_run("20260101T000000Z-aaaaaa")
    for index, url in enumerate(["http://h/a", "http://h/b", "http://h/c", "http://h/d"]):
        store.enqueue(url, index)
    store.spill(PendingUrl("http://h/a", 0))
    store.spill(PendingUrl("http://h/b", 1, priority=3))
    store.spill(PendingUrl("http://h/c", 2))
    store.spill(PendingUrl("http://h/d", 3))
    assert store.spilled_count() == 4
    store.mark_done("http://h/c", "archived", 200)  # resolved while spilled: must not come back
    assert store.take_spilled(1) == [PendingUrl("http://h/b", 1, 3)]  # highest priority first
    assert store.take_spilled(2) == [PendingUrl("http://h/a", 0)]     # then oldest; c skipped
    assert store.spilled_count() == 1
    store.close()  # the process dies with d still spilled
    resumed = SqliteCrawlStateStore(tmp_path)
    job = resumed.begin_run("20260101T000001Z-bbbbbb")
    # d is re-issued through the resume path, not also from a stale spill queue.
    assert job.resumed and {p.url for p in job.pending} == {"http://h/a", "http://h/b", "http://h/d"}
    assert resumed.spilled_count() == 0 and resumed.take_spilled(10) == []
    resumed.close()


def test_refilled_request_is_the_resumed_request() -> None:
    def errback(failure):
        return None

    request = request_for_pending(PendingUrl("http://h/x", 4, priority=2), errback)
    assert (request.url, request.priority, request.errback, request.callback) == ("http://h/x", 2, errback, None)
    assert request.meta == {"healthnews_url": "http://h/x", "depth": 4, "dont_redirect": True} and request.dont_filter


@pytest.mark.parametrize("value", [-1, "many", 2.5])
def test_bad_memory_limit_is_refused(tmp_path: Path, value) -> None:
    crawler = get_crawler(Spider, {"HEALTHNEWS_SCHEDULER_MEMORY_MAX": value, "HEALTHNEWS_DATA_DIR": str(tmp_path)})
    with pytest.raises(NotConfigured, match="HEALTHNEWS_SCHEDULER_MEMORY_MAX"):
        SpillingScheduler.from_crawler(crawler)


def test_crawl_with_tiny_memory_queue_fetches_everything_exactly_once(tmp_path: Path) -> None:
    items_path = tmp_path / "items.jsonl"
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        report = run_crawl([server.url], tmp_path, timeout=120,
                           settings={**FAST, "HEALTHNEWS_SCHEDULER_MEMORY_MAX": LIMIT,
                                     "FEEDS": {str(items_path): {"format": "jsonlines"}}})
        requested = [path for _, path in server.requests]
        base = server.url.rstrip("/")
    catalog = server.site.catalog
    stats = report["stats"]
    manifest = json.loads(Path(report["manifest_path"]).read_text(encoding="utf-8"))
    # Most of the sitemap went through the spill queue, and all of it came back.
    spilled = stats["healthnews/scheduler/spilled"]
    assert spilled > len(catalog.article_paths) // 2
    assert stats["healthnews/scheduler/refilled"] == spilled
    # Only requests that cannot be re-created (start requests with own callbacks, retries) may
    # exceed the limit, and there are few of them.
    assert stats["healthnews/scheduler/memory_peak"] <= LIMIT + 3
    # Accounting: balanced, nothing pending, the same categories as without a limit.
    assert manifest["balanced"] and report["pending"] == 0
    assert report["scheduled"] == report["archived"] + report["failed"] + sum(report["filtered"].values())
    assert report["failed"] == 0 and report["filtered"]["robots"] >= 1 and report["filtered"]["ssrf"] == 2
    # Exactly once: every page requested, none twice (robots.txt: Scrapy's middleware + our
    # sitemap discovery; the flaky page: its retry), and every article parsed once.
    reachable = {p for p in [*catalog.article_paths, *catalog.listing_paths, "/"] if SampleSite().respond(p, {})[0] != 500}
    assert reachable <= set(requested), sorted(reachable - set(requested))[:5]
    repeats = {p for p, n in Counter(requested).items() if n > 1}
    assert repeats <= {"/robots.txt", catalog.flaky_path}, repeats
    assert not any(path.startswith(catalog.disallowed_path) for path in requested)
    items = [json.loads(line)["url"] for line in items_path.read_text(encoding="utf-8").splitlines()]
    assert len(items) == len(set(items)) == report["items"]
    ok_articles = {p for p in catalog.article_paths if server.site.respond(p, {})[0] == 200}
    assert ok_articles <= {url.removeprefix(base) for url in items}


def test_bad_memory_limit_stops_the_crawl_loudly(tmp_path: Path) -> None:
    """NotConfigured from the scheduler is not swallowed by Scrapy: no unbounded crawl starts."""
    with pytest.raises(CrawlError, match="HEALTHNEWS_SCHEDULER_MEMORY_MAX"):
        run_crawl(["http://127.0.0.1:9/"], tmp_path, settings={"HEALTHNEWS_SCHEDULER_MEMORY_MAX": -3}, timeout=60)
