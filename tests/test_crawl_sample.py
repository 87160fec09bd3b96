"""One real crawl of the sample site (subprocess via run_crawl) and what it must guarantee:
archive fidelity, accounting that adds up, robots, SSRF, tracking duplicates, charsets."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.runner import CrawlError, run_crawl
from healthnews.sample_site import SampleSite, SampleSiteServer

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HEALTHNEWS_RETRY_BACKOFF_BASE": 0.05,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16}


def warc_records(raw_dir: Path) -> list[tuple[str, str, int, dict[str, str], bytes]]:
    """(type, url, status, http headers, raw payload) of every response/revisit record."""
    found = []
    for path in sorted(raw_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                                  int(record.http_headers.get_statuscode()), dict(record.http_headers.headers),
                                  record.raw_stream.read()))
    return found


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Iterator[tuple[SampleSiteServer, dict, Path]]:
    """A private site (its flaky page must see our first request) crawled once."""
    data_dir = tmp_path_factory.mktemp("crawl")
    items_path = data_dir / "items.jsonl"
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        report = run_crawl([server.url], data_dir, timeout=120,
                           settings={**FAST, "FEEDS": {str(items_path): {"format": "jsonlines"}}})
        yield server, report, items_path


def test_accounting_adds_up_including_404_and_flaky_500(crawled) -> None:
    server, report, _ = crawled
    catalog = server.site.catalog
    manifest = json.loads(Path(report["manifest_path"]).read_text(encoding="utf-8"))
    assert manifest["run_id"] == report["run_id"] and manifest["balanced"] and manifest["pending"] == 0
    assert report["scheduled"] == report["archived"] + report["failed"] + sum(report["filtered"].values())
    assert report["scheduled"] > len(catalog.article_paths)
    # 404 is archived with its status; the flaky page's 500 was retried and ended archived 200.
    assert report["archived_status"]["404"] == 1 and report["failed"] == 0
    records = warc_records(Path(report["raw_dir"]))
    statuses = {(url.removeprefix(server.url.rstrip("/")), status) for _, url, status, _, _ in records}
    assert (catalog.flaky_path, 500) in statuses and (catalog.flaky_path, 200) in statuses
    assert (catalog.broken_path, 404) in statuses
    files = {f["name"]: f for f in manifest["files"]}
    assert files and all(Path(report["raw_dir"], name).is_file() for name in files)
    assert not list(Path(report["raw_dir"]).glob("*.open"))


def test_archive_holds_exact_bytes_of_every_page(crawled) -> None:
    server, report, _ = crawled
    site = server.site
    records = warc_records(Path(report["raw_dir"]))
    base = server.url.rstrip("/")
    archived_pages = {url for kind, url, status, _, _ in records if kind == "response" and status == 200}
    expected = {base + p for p in [*site.catalog.article_paths, *site.catalog.listing_paths, "/"]
                if site.respond(p, {})[0] == 200}
    assert expected <= archived_pages
    for kind, url, status, headers, payload in records:
        if kind == "response" and status == 200 and url in expected:
            path = url.removeprefix(base)
            assert payload == site.respond(path, {})[2], url
            assert headers.get("Content-Type")


def test_robots_disallowed_page_never_requested(crawled) -> None:
    server, report, _ = crawled
    requested = [path for _, path in server.requests]
    assert report["filtered"]["robots"] >= 1
    assert not any(path.startswith(server.site.catalog.disallowed_path) for path in requested)
    # And nothing was requested twice except robots.txt (Scrapy's robots middleware + our sitemap lookup)
    # and the flaky page's retry.
    repeats = {p for p, n in Counter(requested).items() if n > 1}
    assert repeats <= {"/robots.txt", server.site.catalog.flaky_path}


def test_ssrf_links_filtered_before_any_connection(crawled) -> None:
    server, report, _ = crawled
    stats = report["stats"]
    assert report["filtered"]["ssrf"] == len(server.site.catalog.ssrf_urls) == 2
    # Every request that reached the downloader got an HTTP response that was archived: the two
    # private-address requests were refused before the download layer (no connection, no timeout).
    assert stats["downloader/request_count"] == stats["downloader/response_count"] == report["archive_records"]
    urls = {url for _, url, _, _, _ in warc_records(Path(report["raw_dir"]))}
    assert not any(u.startswith(("http://169.254.", "http://10.")) for u in urls)


def test_tracking_duplicate_filtered_and_gbk_title_decoded(crawled) -> None:
    server, report, items_path = crawled
    catalog = server.site.catalog
    assert report["filtered"]["duplicate"] == 1
    assert ("GET", catalog.tracking_duplicate_url) not in server.requests
    items = [json.loads(line) for line in items_path.read_text(encoding="utf-8").splitlines()]
    assert len(items) == report["items"]
    by_url = {item["url"].removeprefix(server.url.rstrip("/")): item for item in items}
    assert by_url[catalog.gbk_path]["title"] == catalog.gbk_title
    # Items are articles only: listing pages never become records.
    assert not set(by_url) & set(catalog.listing_paths)
    ok_articles = {p for p in catalog.article_paths if server.site.respond(p, {})[0] == 200}
    assert ok_articles <= set(by_url)


def test_run_crawl_reports_process_failure(tmp_path: Path) -> None:
    with pytest.raises(CrawlError) as info:
        run_crawl(["http://127.0.0.1:9/"], tmp_path, settings={"HEALTHNEWS_WARC_COMPRESSLEVEL": 42}, timeout=60)
    assert "HEALTHNEWS_WARC_COMPRESSLEVEL" in str(info.value)
