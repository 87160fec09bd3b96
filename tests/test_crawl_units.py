"""Crawl building blocks without a crawl: canonicalization, SSRF guard, state store, WARC files,
page-kind detection on the real sample-site pages."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure
from warcio.archiveiterator import ArchiveIterator

from crawlers.canonical import TrackingParams, canonicalize, host_in_domains
from crawlers.ledger import FilteredRequest, SsrfBlocked, failure_outcome, status_outcome
from crawlers.middlewares.ssrf import SsrfGuardMiddleware, is_forbidden_address, resolve_host
from crawlers.pagekind import ARTICLE, LISTING, classify, parse_html
from crawlers.settings import HEALTHNEWS_TRACKING_PARAMS
from crawlers.state import PageInfo, SqliteCrawlStateStore
from crawlers.warc import HttpExchange, WarcRunWriter, captured_responses, recover_open_file
from healthnews.sample_site import SampleSite

TRACKING = TrackingParams.from_setting(HEALTHNEWS_TRACKING_PARAMS)


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTP://Example.COM:80/a/b.html?utm_source=x&id=3&spm=a.b#top", "http://example.com/a/b.html?id=3"),
    ("https://example.com:443/?b=2&a=1&fbclid=zz&from=timeline", "https://example.com/?a=1&b=2"),
    ("https://example.com:8443/x?UTM_Medium=y", "https://example.com:8443/x"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com/s?q=%E5%8C%BB%E4%BF%9D&page=2", "http://example.com/s?page=2&q=%E5%8C%BB%E4%BF%9D"),
    ("http://example.com/s?q=医保", "http://example.com/s?q=%E5%8C%BB%E4%BF%9D"),
    ("http://example.com/a/1.html;jsessionid=0A1B2C?id=3&PHPSESSID=9", "http://example.com/a/1.html?id=3"),
    ("http://example.com/a;v=2/1.html;JSESSIONID=x", "http://example.com/a;v=2/1.html"),
])
def test_canonicalize(raw: str, expected: str) -> None:
    assert canonicalize(raw, TRACKING) == expected


def test_canonicalize_sample_tracking_duplicate() -> None:
    catalog = SampleSite().catalog
    base = "http://127.0.0.1:8765"
    assert canonicalize(base + catalog.tracking_duplicate_url, TRACKING) == base + catalog.tracking_canonical_path
    assert host_in_domains("http://sub.example.org:81/x", ["example.org"])
    assert not host_in_domains("http://badexample.org/", ["example.org"])


def _guard(*start_urls: str, allowed: list[str] | None = None) -> SsrfGuardMiddleware:
    crawler = get_crawler(Spider, {"HEALTHNEWS_ALLOW_PRIVATE_HOSTS": []})
    guard = SsrfGuardMiddleware.from_crawler(crawler)
    crawler.stats.open_spider()
    spider = Spider(name="unit", start_urls=list(start_urls))
    spider.allowed_domains = allowed or []
    guard.spider_opened(spider)
    return guard


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/admin", "http://127.0.0.2:8080/",
    "http://[::1]/", "http://192.168.1.1/", "http://224.0.0.1/", "http://0.0.0.0/", "http://[::ffff:10.0.0.1]/",
])
def test_ssrf_guard_blocks_special_addresses(url: str) -> None:
    guard = _guard("http://127.0.0.1:8765/")
    with pytest.raises(SsrfBlocked):
        asyncio.run(guard.process_request(Request(url)))
    assert guard.stats.get_value("healthnews/ssrf/blocked") == 1


def test_ssrf_guard_allows_start_host_and_public_addresses() -> None:
    guard = _guard("http://127.0.0.1:8765/", allowed=["127.0.0.1"])
    assert asyncio.run(guard.process_request(Request("http://127.0.0.1:8765/list/2.html"))) is None
    assert asyncio.run(guard.process_request(Request("http://93.184.216.34/"))) is None
    # Offsite host names are left to the offsite filter, unresolved (no DNS query per external link).
    assert asyncio.run(guard.process_request(Request("http://intranet.example/"))) is None
    # A host name is judged by every address it resolves to: "localhost" is loopback.
    addresses = resolve_host("localhost", 80)
    assert addresses and all(is_forbidden_address(ipaddress.ip_address(a)) for a in addresses)
    assert not is_forbidden_address(ipaddress.ip_address("8.8.8.8"))


def test_state_store_is_durable_and_resumable(tmp_path: Path) -> None:
    store = SqliteCrawlStateStore(tmp_path)
    job = store.begin_run("20250101T000000Z-aaaaaa")
    assert not job.resumed
    assert store.enqueue("http://x/a", 0) and store.enqueue("http://x/b", 1)
    assert not store.enqueue("http://x/a", 3)
    page = PageInfo('"e1"', "Fri, 16 May 2025 02:00:00 GMT", 200, 1.0, ARTICLE, ["http://x/b"])
    assert store.mark_done("http://x/a", "archived", 200, page)
    assert not store.mark_done("http://x/a", "failed/http_500", 500)  # one outcome per URL
    store.close()  # no finish_run: like a killed crawl
    store = SqliteCrawlStateStore(tmp_path)
    job = store.begin_run("20250101T000100Z-bbbbbb")
    assert job.resumed and job.previous_run_ids == ["20250101T000000Z-aaaaaa"]
    assert [p.url for p in job.pending] == ["http://x/b"]
    assert store.is_seen("http://x/a") and store.page_info("http://x/a") == page
    assert store.mark_done("http://x/b", "archived", 404)
    store.finish_run(complete=True)
    assert not store.begin_run("20250101T000200Z-cccccc").resumed
    assert not store.is_seen("http://x/a")  # a new job has a fresh seen set, validators remain
    assert store.page_info("http://x/a").etag == '"e1"'


def test_state_store_groups_commits_and_loses_only_a_suffix(tmp_path: Path) -> None:
    """What another connection sees is what a SIGKILL would leave: whole groups, in order."""
    import sqlite3

    store = SqliteCrawlStateStore(tmp_path, commit_every=2, commit_seconds=3600)
    store.begin_run("20250101T000000Z-aaaaaa")
    outside = sqlite3.connect(store.path)

    def committed() -> dict[str, str]:
        return dict(outside.execute("SELECT url, state FROM frontier").fetchall())

    store.enqueue("http://x/a", 0)
    store.enqueue("http://x/b", 1)
    assert store.mark_done("http://x/a", "archived", 200)
    assert committed() == {} and store.is_done("http://x/a") and not store.is_done("http://x/b")
    assert store.mark_done("http://x/b", "archived", 404)  # second outcome: the group is committed
    assert committed() == {"http://x/a": "done", "http://x/b": "done"}
    store.enqueue("http://x/c", 2)
    store.close()  # a clean stop commits the open group
    assert committed()["http://x/c"] == "pending"
    outside.close()
    with pytest.raises(ValueError):
        SqliteCrawlStateStore(tmp_path, commit_every=0)


def test_warc_rotation_and_crash_recovery(tmp_path: Path) -> None:
    writer = WarcRunWriter(tmp_path, "20250101T000000Z-aaaaaa", max_bytes=2048, compresslevel=1)
    bodies = {f"http://x/{i}": bytes(range(256)) * (i + 1) for i in range(6)}
    for url, body in bodies.items():
        writer.write_exchange(HttpExchange(url, "GET", [("User-Agent", "t")], b"", 200, "HTTP/1.1",
                                           [("Content-Type", "application/octet-stream")], body))
    torn = writer._path
    assert torn is not None and torn.name.endswith(".warc.gz.open")
    with open(torn, "ab") as stream:  # a SIGKILL mid-record leaves a torn gzip member
        stream.write(gzip.compress(b"WARC/1.1\r\n" * 50)[:40])
    recover_open_file(torn)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2 and not list(tmp_path.glob("*.open"))
    seen = {}
    for path in files:
        with open(path, "rb") as stream:
            records = list(ArchiveIterator(stream))
        assert records[0].rec_type == "warcinfo"
        for captured in captured_responses(path):
            seen[captured.url] = captured
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    assert record.content_stream().read() == bodies[record.rec_headers.get_header("WARC-Target-URI")]
    assert set(seen) == set(bodies)


def test_page_kind_on_sample_pages() -> None:
    site = SampleSite()
    catalog = site.catalog
    for path in list(catalog.article_paths)[:40] + [catalog.gbk_path, catalog.no_related_path]:
        status, _, body = site.respond(path, {})
        if status == 200:
            assert classify(parse_html(body), path).kind == ARTICLE, path
    for path in [catalog.home_path, *catalog.listing_paths]:
        status, _, body = site.respond(path, {})
        assert classify(parse_html(body), path).kind == LISTING, path


@pytest.mark.parametrize(("exception", "expected"), [
    (SsrfBlocked("SSRF guard: 10.0.0.1 is a private address"), "filtered/ssrf"),
    (IgnoreRequest("Forbidden by robots.txt"), "filtered/robots"),
    (FilteredRequest("offsite", "offsite request to 'x.org'"), "filtered/offsite"),
    (DownloadCancelledError("Received 99 bytes which is larger than download max size (10) in request <GET x>."),
     "filtered/size"),
    # a body without Content-Length that grows past DOWNLOAD_MAXSIZE: Scrapy cancels with no message
    (DownloadCancelledError(""), "filtered/size"),
    (DownloadTimeoutError("Getting x took longer than 30 seconds."), "failed/timeout"),
    (DownloadConnectionRefusedError("refused"), "failed/connection_refused"),
    (ZeroDivisionError("boom"), "failed/zero_division"),
])
def test_failure_outcomes(exception: Exception, expected: str) -> None:
    assert failure_outcome(Failure(exception), frozenset({500, 503}))[0] == expected


def test_status_outcomes_decide_404_is_archived() -> None:
    codes = frozenset({500, 502, 503, 504, 408, 429})
    assert status_outcome(404, codes) == "archived" and status_outcome(200, codes) == "archived"
    assert status_outcome(503, codes) == "failed/http_503" and status_outcome(429, codes) == "failed/http_429"
