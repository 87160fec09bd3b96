"""The `healthnews` spider: discovers pages and hands article pages to the parser.

It only schedules requests and yields items. Archiving, dedupe, state, the SSRF guard,
canonicalization, retries, throttling and accounting live in middlewares, extensions and
settings (see crawlers/settings.py and docs/notes/crawling.md).

    scrapy crawl healthnews                                   # the sample site on :8765
    scrapy crawl healthnews -a start_url=https://example.org/ -a allowed_domains=example.org
    scrapy crawl healthnews -O items.jsonl                    # parsed article records
"""

from __future__ import annotations

import gzip
import io
import re
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse
from scrapy.utils.sitemap import Sitemap

from crawlers.pagekind import ARTICLE, classify, link_hrefs
from pipelines.parse import parse_page

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one (uncompressed) file


def _split_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\s]+", value) if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def _validate_start_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured(f"start URL must be an absolute http(s) URL, got {url!r}")
    return url


class HealthnewsSpider(scrapy.Spider):
    name = "healthnews"

    def __init__(self, *args, start_url: str | None = None, start_urls=None, allowed_domains=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._arg_start_urls = _split_list(start_url) + _split_list(start_urls)
        self._arg_allowed_domains = _split_list(allowed_domains)

    @classmethod
    def update_settings(cls, settings) -> None:
        """The User-Agent names the operator's contact URL unless USER_AGENT was set explicitly."""
        super().update_settings(settings)
        if settings.getpriority("USER_AGENT") <= settings.getpriority("HEALTHNEWS_CONTACT_URL"):
            settings.set("USER_AGENT", f"healthnews-etl/0.1 (+{settings.get('HEALTHNEWS_CONTACT_URL')})",
                         priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        starts = spider._arg_start_urls or _split_list(settings.getlist("HEALTHNEWS_START_URLS")) \
            or [settings.get("HEALTHNEWS_SAMPLE_URL")]
        spider.start_urls = [_validate_start_url(url) for url in starts]
        domains = spider._arg_allowed_domains or _split_list(settings.getlist("HEALTHNEWS_ALLOWED_DOMAINS"))
        for domain in domains:
            if "/" in domain or ":" in domain.strip("[]"):
                raise NotConfigured(f"allowed domain must be a bare host name (no scheme/port/path), got {domain!r}")
        spider.allowed_domains = domains or sorted({urlsplit(u).hostname for u in spider.start_urls})
        pattern = settings.get("HEALTHNEWS_ARTICLE_URL_PATTERN") or ""
        try:
            spider.article_pattern = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise NotConfigured(f"HEALTHNEWS_ARTICLE_URL_PATTERN is not a valid regex: {exc}") from exc
        spider.follow_sitemaps = settings.getbool("HEALTHNEWS_FOLLOW_SITEMAPS")
        spider.parse_items = settings.getbool("HEALTHNEWS_PARSE_ITEMS")
        return spider

    async def start(self):
        origins: list[str] = []
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse)
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
        if self.follow_sitemaps:
            for origin in origins:
                yield scrapy.Request(origin + "/robots.txt", callback=self.parse_robots,
                                     meta={"dont_obey_robotstxt": True})
                yield scrapy.Request(origin + "/sitemap.xml", callback=self.parse_sitemap)

    # -- pages ----------------------------------------------------------------------------------
    def parse(self, response):
        if response.status != 200:
            return  # 304: links are replayed by the scheduling middleware; nothing to parse
        if response.url.endswith("/robots.txt"):
            yield from self.parse_robots(response)
            return
        if response.body[:2] == b"\x1f\x8b" or (isinstance(response, TextResponse) and self._looks_like_sitemap(response)):
            yield from self.parse_sitemap(response)
            return
        if not isinstance(response, TextResponse):
            response.meta["healthnews_page_kind"] = "other"  # PDF, image, ...: archived, not parsed
            return
        root = response.selector.root
        if not hasattr(root, "iter"):
            response.meta["healthnews_page_kind"] = "other"
            return
        signals = classify(root, response.url, self.article_pattern)
        response.meta["healthnews_page_kind"] = signals.kind
        # Nav bars and related lists repeat links within a page (≈ 13 hrefs, 9 distinct on the
        # sample site): one Request per distinct href, the scheduler dedupes across pages.
        for href in dict.fromkeys(link_hrefs(root)):
            url = urljoin(response.url, href)
            if url.startswith(("http://", "https://")):
                yield scrapy.Request(url, callback=self.parse)
        if signals.kind == ARTICLE:
            yield self._item(response)

    def _item(self, response) -> dict:
        content_type = response.headers.get(b"Content-Type")
        content_type_text = content_type.decode("latin-1") if content_type else None
        if not self.parse_items:
            return {"url": response.url, "kind": ARTICLE, "status": response.status, "content_type": content_type_text}
        return parse_page(response.body, url=response.url, content_type=content_type_text)

    # -- discovery helpers ------------------------------------------------------------------------
    def parse_robots(self, response):
        response.meta["healthnews_page_kind"] = "robots"
        if response.status != 200:
            return
        for line in response.body.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                yield scrapy.Request(urljoin(response.url, value.strip()), callback=self.parse_sitemap)

    @staticmethod
    def _looks_like_sitemap(response) -> bool:
        head = response.body[:512].lstrip().lower()
        return head.startswith(b"<?xml") and (b"<urlset" in response.body[:4096] or b"<sitemapindex" in response.body[:4096])

    def parse_sitemap(self, response):
        response.meta["healthnews_page_kind"] = "sitemap"
        if response.status != 200:
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
                    body = stream.read(MAX_SITEMAP_BYTES + 1)
            except OSError:
                return
            if len(body) > MAX_SITEMAP_BYTES:
                return
        if not body.lstrip().startswith(b"<"):
            return
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 - a broken sitemap is just no links (page is archived anyway)
            return
        callback = self.parse_sitemap if sitemap.type == "sitemapindex" else self.parse
        for entry in sitemap:
            loc = entry.get("loc")
            if loc:
                yield scrapy.Request(urljoin(response.url, loc), callback=callback)
