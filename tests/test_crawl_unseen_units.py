"""Generic crawl rules for sites we have not seen, without a crawl: trap detection, the port
rule of the offsite filter, binary sniffing, meta refresh, and page kinds decided the way the
spider decides them (generic signals + the parser's word in the weak cases) on every unseen
layout fixture and on the pages of the second test site."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler
from second_site import SecondSite

from crawlers.ledger import FilteredRequest
from crawlers.middlewares.offsite import OffsiteGuardMiddleware
from crawlers.pagekind import (
    ARTICLE,
    LISTING,
    OTHER,
    base_url,
    classify,
    looks_binary,
    meta_refresh_url,
    parse_html,
)
from crawlers.spiders.healthnews import HealthnewsSpider
from crawlers.traps import has_repeated_segments, url_template
from healthnews.sample_site import SampleSite

LAYOUTS = Path(__file__).parent / "fixtures" / "pages" / "other_layouts"


def test_url_template_collapses_digits_and_query_values() -> None:
    assert url_template("http://h:81/calendar?month=2025-05") == url_template("http://h:81/calendar?month=1999-12")
    assert url_template("http://h/archive/2025/05/") == url_template("http://h/archive/1999/12/")
    assert url_template("http://h/c/?page=2") != url_template("http://h/c/")           # other query keys
    assert url_template("http://h/c/?page=2") != url_template("http://h/d/?page=2")   # other path


@pytest.mark.parametrize(("url", "trap"), [
    ("http://h/a/b/b/b/", True), ("http://h/x/y/x/y/x/y/page.html", True), ("http://h/a/a/a", True),
    ("http://h/a/b/b/", False), ("http://h/news/2025/05/05/a1.shtml", False), ("http://h/1/1/1.html", False),
])
def test_repeated_path_segments(url: str, trap: bool) -> None:
    assert has_repeated_segments(url, 2) is trap
    assert has_repeated_segments(url, 0) is False  # 0 = rule off


def _offsite(start_urls: list[str], allowed: list[str]) -> OffsiteGuardMiddleware:
    crawler = get_crawler(HealthnewsSpider)
    middleware = OffsiteGuardMiddleware.from_crawler(crawler)
    spider = HealthnewsSpider()
    spider.start_urls, spider.allowed_domains = start_urls, allowed
    middleware.spider_opened(spider)
    return middleware


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://127.0.0.1:8765/a", True), ("http://127.0.0.1:9999/a", False), ("http://127.0.0.1/a", False),
    ("http://localhost:8765/a", False),
])
def test_offsite_filter_treats_another_port_as_another_site(url: str, allowed: bool) -> None:
    middleware = _offsite(["http://127.0.0.1:8765/"], ["127.0.0.1"])
    if allowed:
        assert middleware.process_request(Request(url)) is None
    else:
        with pytest.raises(FilteredRequest):
            middleware.process_request(Request(url))


def test_offsite_filter_keeps_default_ports_and_subdomains_together() -> None:
    middleware = _offsite(["http://example.org/"], ["example.org"])
    for url in ("https://example.org/a", "http://news.example.org:80/b", "https://www.example.org:443/c"):
        assert middleware.process_request(Request(url)) is None, url
    with pytest.raises(FilteredRequest):
        middleware.process_request(Request("http://example.org:8080/admin"))


@pytest.mark.parametrize(("body", "binary"), [
    (b"%PDF-1.7\n...", True), (b"PK\x03\x04zip", True), (b"\x89PNG\r\n", True), (b"<html>\x00\x01</html>", True),
    (b"  <!DOCTYPE html><html><body>\xe5\x8c\xbb\xe4\xbf\x9d</body></html>", False), ("医保".encode("gbk"), False),
])
def test_binary_sniffing(body: bytes, binary: bool) -> None:
    assert looks_binary(body) is binary


def test_meta_refresh_target() -> None:
    page = parse_html(b'<html><head><meta http-equiv="Refresh" content="0; URL=\'/news/a1.shtml\'"></head></html>')
    assert meta_refresh_url(page) == "/news/a1.shtml"
    assert meta_refresh_url(parse_html(b"<html><head><meta charset='utf-8'></head></html>")) is None


def test_base_href_decides_relative_links() -> None:
    page = parse_html(b'<html><head><base href="/tag/"></head><body><a href="x">x</a></body></html>')
    assert base_url(page, "http://h/tags.html") == "http://h/tag/"
    assert base_url(parse_html(b"<html><body><a href='x'>x</a></body></html>"), "http://h/a/b.html") == "http://h/a/b.html"


def _spider_kind(body: bytes, url: str) -> str:
    spider = HealthnewsSpider()
    spider.article_pattern, spider.parse_items = None, True
    response = HtmlResponse(url=url, body=body, request=Request(url))
    return spider._page_kind(response, response.selector.root)[0]


@pytest.mark.parametrize("path", sorted(LAYOUTS.glob("*.html")), ids=lambda p: p.stem)
def test_unseen_layout_articles_are_articles(path: Path) -> None:
    assert _spider_kind(path.read_bytes(), "http://news.example.org/a/1.html") == ARTICLE


def test_second_site_page_kinds() -> None:
    site = SecondSite.build()
    site.flaky_pending.clear()
    for path in site.article_paths:
        assert _spider_kind(site.respond(path, {})[2], "http://127.0.0.1:1" + path) == ARTICLE, path
    for path in ("/", "/channel/yibao/", "/channel/yibao/?page=9", "/tags.html", "/tag/%E5%8C%BB%E4%BF%9D",
                 "/calendar?month=2025-05", "/calendar?month=2031-01"):
        assert _spider_kind(site.respond(path, {})[2], "http://127.0.0.1:1" + path) == LISTING, path


def test_flat_teaser_list_and_div_paragraphs() -> None:
    teasers = "".join(f"<h3><a href='/a/{i}'>标题{i}</a></h3><p>{'摘要内容' * 30}</p>" for i in range(5))
    assert classify(parse_html(f"<html><body><div>{teasers}</div></body></html>"), "u").kind == LISTING
    lines = "".join(f"<div>{'这是回答的一行文字。' * 8}</div>" for _ in range(3))
    page = f"<html><body><h1>问题</h1><div class='answer'>{lines}</div><a href='/'>首页</a></body></html>"
    assert classify(parse_html(page), "u").kind == ARTICLE
    # a long article split over pages (下一页) is still an article
    long_page = page.replace("<a href='/'>首页</a>", "<a href='?p=2'>下一页</a>").replace("<div>", "<div>" + "长" * 120)
    assert classify(parse_html(long_page), "u").kind == ARTICLE


def test_search_page_with_two_hits_is_a_listing() -> None:
    site = SampleSite()
    status, _, body = site.respond("/search?q=%E7%A4%BE%E4%BF%9D%E5%8D%A1", {})
    assert status == 200 and _spider_kind(body, "http://127.0.0.1:1/search?q=x") == LISTING


def test_plain_text_page_dumps_are_articles(seed_paths: list[Path]) -> None:
    spider = HealthnewsSpider()
    spider.article_pattern, spider.parse_items = None, True
    for path in [*seed_paths, None]:
        body = path.read_bytes() if path else b"User-agent: *\nDisallow: /private/\n"
        response = TextResponse(url="http://h/d.txt", body=body, request=Request("http://h/d.txt"),
                                headers={"Content-Type": "text/plain; charset=utf-8"})
        kind, record = spider._page_kind(response, response.selector.root)
        assert kind == (ARTICLE if path else OTHER), path
        if path:
            assert record["title"] == path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
