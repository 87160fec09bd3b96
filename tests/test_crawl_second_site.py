"""The real crawl on a site layout it was never tuned to (tests/second_site.py), twice.

Everything runs through the entry points operators use (`run_crawl` = `python -m scrapy crawl
healthnews -a start_url=...` in a child process, and `scrapy crawl` directly), with default
crawl settings except politeness delays: traps, size limits and redirects use the defaults.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from second_site import BIG_BYTES, SecondSite, serve
from warcio.archiveiterator import ArchiveIterator

from crawlers.context import new_run_id
from crawlers.runner import crawl_env, run_crawl
from crawlers.settings import HEALTHNEWS_TRAP_MAX_BARREN_HOPS

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HEALTHNEWS_RETRY_BACKOFF_BASE": 0.05,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
EDITED = "/qa?id=7"
LISTINGS = ("/", "/channel/yibao/", "/channel/jiuyi/", "/channel/yibao/?page=2", "/tags.html",
            "/tag/%E5%8C%BB%E4%BF%9D", "/calendar?month=2025-05", "/calendar?month=2025-07")


@dataclass
class Crawl:
    report: dict
    requests: list[str]        # request targets our server received, in order
    items: list[dict]
    records: list[tuple[str, str, int]]  # (WARC type, path+query, HTTP status)


@dataclass
class Crawls:
    site: SecondSite
    base: str
    decoy_requests: list[str]
    first: Crawl
    second: Crawl
    new_path: str
    first_paths: list[str]     # the articles during the first crawl


def _records(raw_dir: Path, base: str) -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(raw_dir.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    found.append((record.rec_type, url.removeprefix(base), int(record.http_headers.get_statuscode())))
    return found


def _crawl(url: str, data_dir: Path, log: list[str], name: str) -> Crawl:
    start = len(log)
    items_path = data_dir / f"{name}.jsonl"
    report = run_crawl([url], data_dir, timeout=120,
                       settings={**FAST, "FEEDS": {str(items_path): {"format": "jsonlines"}}})
    items = [json.loads(line) for line in items_path.read_text(encoding="utf-8").splitlines()]
    return Crawl(report, log[start:], items, _records(Path(report["raw_dir"]), url.rstrip("/")))


@pytest.fixture(scope="module")
def crawls(tmp_path_factory) -> Crawls:
    """Crawl the second site, change it (one new, one edited article), crawl it again."""
    data_dir = tmp_path_factory.mktemp("second")
    site = SecondSite.build()
    with serve(None) as (decoy_url, decoy_log), serve(site) as (url, log):
        site.decoy_url = decoy_url   # the same host on another port: another service, off-site
        first = _crawl(url, data_dir, log, "first")
        first_paths = list(site.article_paths)
        new_path = site.add_article("新增问答:医保电子凭证怎么激活", "打开国家医保服务平台,完成实名认证后即可激活医保电子凭证。" * 6)
        site.edit_article(EDITED, "这个回答已经更新:二代社保卡就是社保卡,可以直接就医结算。" * 6)
        second = _crawl(url, data_dir, log, "second")
    return Crawls(site, url.rstrip("/"), list(decoy_log), first, second, new_path, first_paths)


def _ok(records, path: str) -> list[tuple[str, str, int]]:
    return [r for r in records if r[1] == path]


def test_every_article_fetched_once_archived_once_and_parsed(crawls: Crawls) -> None:
    first, site = crawls.first, crawls.site
    hits = Counter(first.requests)
    for path in crawls.first_paths:
        assert hits[path] == (2 if path == EDITED else 1), (path, hits[path])  # EDITED answers 503 once
        assert [r for r in _ok(first.records, path) if r[2] == 200] == [("response", path, 200)], path
    by_url = Counter(item["url"].removeprefix(crawls.base) for item in first.items)
    assert by_url == Counter(crawls.first_paths)
    for item in first.items:
        article = site.article(item["url"].removeprefix(crawls.base))
        # the longest paragraph of the seed's answer (the source preamble is split off by design)
        longest = max((" ".join(line.strip() for line in block) for block in article.seed.answer_blocks), key=len)
        assert item["title"] == article.seed.title, item["url"]       # GBK page included
        assert len(item["answer"]) > 200 and longest[:20] in item["answer"], item["url"]
        assert "listing_page" not in item["errors"]
    assert first.report["items"] == first.report["stats"]["healthnews/pages/article"] == len(crawls.first_paths)


def test_listing_pages_archived_but_not_published(crawls: Crawls) -> None:
    first = crawls.first
    for path in LISTINGS:
        assert ("response", path, 200) in first.records, path
    # the tag cloud's links are relative to its <base href>: all four tag pages, no 404 guesses
    assert len({r[1] for r in first.records if r[1].startswith("/tag/") and r[2] == 200}) == len(crawls.site.TAGS)
    published = {item["url"].removeprefix(crawls.base) for item in first.items}
    assert not published & {r[1] for r in first.records if r[1] not in crawls.first_paths}
    assert first.report["stats"]["healthnews/pages/listing"] >= len(LISTINGS)


def test_calendar_and_endless_pagination_stay_bounded(crawls: Crawls) -> None:
    first = crawls.first
    calendar = [p for p in first.requests if p.startswith("/calendar")]
    paging = [p for p in first.requests if p.startswith("/channel/yibao/?page=")]
    # Each direction of the calendar: a few productive months, then HOPS barren ones.
    assert 3 <= len(calendar) <= 2 * (HEALTHNEWS_TRAP_MAX_BARREN_HOPS + 2) + 1, calendar
    assert len(paging) <= HEALTHNEWS_TRAP_MAX_BARREN_HOPS + 3, paging
    assert first.report["filtered"]["trap"] >= 3  # the next month both ways, the next empty page
    assert len(first.requests) < 80 and first.report["scheduled"] < 80


def test_offsite_links_never_requested(crawls: Crawls) -> None:
    report = crawls.first.report
    assert crawls.decoy_requests == []            # not even its robots.txt
    # www.example.com twice (different paths), localhost (same server, other host name), the decoy port
    assert report["filtered"]["offsite"] == 4
    # every request that reached the downloader reached OUR server (nothing went anywhere else)
    assert report["stats"]["downloader/request_count"] == len(crawls.first.requests)


def test_url_spellings_collapse_to_one_request(crawls: Crawls) -> None:
    first = crawls.first
    assert not [p for p in first.requests if "utm_" in p or "spm=" in p or "from=" in p or "#" in p or ".." in p]
    # tracking params, fragment, HTTP://, upper-case host, lower-case percent-encoding
    assert first.report["filtered"]["duplicate"] >= 5


def test_redirect_chain_resolved_once(crawls: Crawls) -> None:
    first, site = crawls.first, crawls.site
    target = "/news/2025/05/16/a1001.shtml"  # also linked directly from several pages
    hits = Counter(first.requests)
    assert hits[site.redirect_start] == hits[site.redirect_middle] == hits[target] == 1
    assert ("response", site.redirect_start, 301) in first.records
    assert ("response", site.redirect_middle, 302) in first.records
    assert first.report["archived_status"]["301"] == first.report["archived_status"]["302"] == 1
    assert first.report["stats"]["healthnews/pages/redirect"] == 2


def test_retry_then_success(crawls: Crawls) -> None:
    first = crawls.first
    assert [r[2] for r in _ok(first.records, EDITED)] == [503, 200]
    assert first.report["failed"] == 0 and first.report["stats"]["retry/count"] == 1


def test_binaries_cut_off_and_never_parsed(crawls: Crawls) -> None:
    first, site = crawls.first, crawls.site
    # DOWNLOAD_MAXSIZE: announced by Content-Length, reached mid-stream, reached while gunzipping
    assert first.report["filtered"]["size"] == 3
    # the gzip bomb's 20 KB were received and archived as they came; it was never inflated past the cap
    assert _ok(first.records, site.gzip_bomb_path) == [("response", site.gzip_bomb_path, 200)]
    # the stream without Content-Length was abandoned once past the limit, not read to the end
    assert site.big_sent[site.big_stream_path] < BIG_BYTES
    assert not _ok(first.records, site.big_pdf_path) and not _ok(first.records, site.big_stream_path)
    assert first.report["stats"]["healthnews/archive/bytes"] < 2 * 1024 * 1024
    # a small PDF mislabelled text/html: archived as it came, classified `other`, no item
    assert ("response", site.small_mislabelled_path, 200) in first.records
    assert first.report["stats"]["healthnews/pages/other"] == 1


def test_accounting_balances(crawls: Crawls) -> None:
    for crawl in (crawls.first, crawls.second):
        report = crawl.report
        assert report["balanced"] and report["pending"] == 0 and report["finish_reason"] == "finished"
        assert report["scheduled"] == report["archived"] + report["failed"] + report["filtered_total"]
        assert sum(report["filtered"].values()) == report["filtered_total"]
    first = crawls.first
    # no robots.txt, no sitemap.xml, one dead link: three 404s, archived (definitive answers)
    assert first.report["archived_status"]["404"] == 3
    assert {r[1] for r in first.records if r[2] == 404} == {"/robots.txt", "/sitemap.xml", crawls.site.missing_path}


def test_second_crawl_is_incremental(crawls: Crawls) -> None:
    second, site = crawls.second, crawls.site
    unchanged = [p for p in site.article_paths if p not in (EDITED, crawls.new_path)]
    hits = Counter(second.requests)
    for path in unchanged:
        assert hits[path] == 1 and _ok(second.records, path) == [("revisit", path, 304)], path
    assert second.report["not_modified"] == len(unchanged) == 5   # ETag-only, Last-Modified-only, both
    assert _ok(second.records, EDITED) == [("response", EDITED, 200)]
    assert _ok(second.records, crawls.new_path) == [("response", crawls.new_path, 200)]
    published = sorted(item["url"].removeprefix(crawls.base) for item in second.items)
    assert published == sorted([EDITED, crawls.new_path])
    assert ("response", "/channel/yibao/", 200) in second.records   # listings re-read: how new pages are found
    assert hits[site.redirect_start] == hits[site.redirect_middle] == 1


def test_scrapy_crawl_command_with_upper_case_start_host(tmp_path: Path) -> None:
    """`scrapy crawl healthnews -a start_url=...` as an operator types it, host in upper case."""
    site = SecondSite.build()
    with serve(site) as (url, log):
        start = url.replace("127.0.0.1", "LocalHost")
        run_id = new_run_id()
        items_path = tmp_path / "items.jsonl"
        command = [sys.executable, "-m", "scrapy", "crawl", "healthnews", "-a", f"start_url={start}",
                   "-O", str(items_path), "-s", f"HEALTHNEWS_DATA_DIR={tmp_path}", "-s", f"HEALTHNEWS_RUN_ID={run_id}",
                   *[arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]]
        done = subprocess.run(command, cwd=tmp_path, env=crawl_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "raw" / run_id / "manifest.json").read_text(encoding="utf-8"))
    assert report["balanced"] and report["allowed_domains"] == ["localhost"]
    items = [json.loads(line) for line in items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(i["url"].removeprefix(f"http://localhost:{url.rsplit(':', 1)[1].rstrip('/')}") for i in items) \
        == sorted(site.article_paths)
    hits = Counter(log)
    assert all(hits[p] == (2 if p == EDITED else 1) for p in site.article_paths), hits
