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

from crawlers.pagekind import (
    ARTICLE,
    LISTING,
    MIN_ARTICLE_BLOCK_CHARS,
    MIN_SHORT_ARTICLE_CHARS,
    OTHER,
    base_url,
    classify,
    link_hrefs,
    looks_binary,
    meta_refresh_url,
)
from pipelines.parse import parse_page
from pipelines.steps import NON_ARTICLE_ERRORS

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one (uncompressed) file
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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
        contact_priority = settings.getpriority("HEALTHNEWS_CONTACT_URL")  # None under another settings module
        if contact_priority is not None and (settings.getpriority("USER_AGENT") or 0) <= contact_priority:
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
    def _redirect(self, response, callback):
        """A 3xx is a page with one link, its Location (Scrapy's redirect following is off for our
        requests: the target goes through admission like any link, so it is deduped against direct
        links to it, fetched once, and gets its own outcome and validators)."""
        response.meta["healthnews_page_kind"] = "redirect"
        location = response.headers.get(b"Location")
        if location:
            url = urljoin(response.url, location.decode("latin-1").strip())
            if url.startswith(("http://", "https://")):
                yield scrapy.Request(url, callback=callback)

    def parse(self, response):
        if response.status in REDIRECT_STATUSES:
            yield from self._redirect(response, self.parse)
            return
        if response.status != 200:
            return  # 304: links are replayed by the scheduling middleware; nothing to parse
        if response.url.endswith("/robots.txt"):
            yield from self.parse_robots(response)
            return
        if response.body[:2] == b"\x1f\x8b" or (isinstance(response, TextResponse) and self._looks_like_sitemap(response)):
            yield from self.parse_sitemap(response)
            return
        if not isinstance(response, TextResponse) or looks_binary(response.body):
            response.meta["healthnews_page_kind"] = "other"  # PDF, image, ... (even if labelled text/html)
            return
        root = response.selector.root
        if not hasattr(root, "iter"):
            response.meta["healthnews_page_kind"] = "other"
            return
        kind, record = self._page_kind(response, root)
        response.meta["healthnews_page_kind"] = kind
        # Nav bars and related lists repeat links within a page (≈ 13 hrefs, 9 distinct on the
        # sample site): one Request per distinct href, the scheduler dedupes across pages.
        hrefs = link_hrefs(root)
        refresh = meta_refresh_url(root)
        if refresh:
            hrefs.append(refresh)  # Scrapy's MetaRefreshMiddleware is off for our requests too
        base = base_url(root, response.url)  # <base href> when the page has one
        for href in dict.fromkeys(hrefs):
            url = urljoin(base, href)
            if url.startswith(("http://", "https://")):
                yield scrapy.Request(url, callback=self.parse)
        if kind == ARTICLE:
            yield self._item(response, record)

    def _page_kind(self, response, root) -> tuple[str, dict | None]:
        """(kind, parsed record if the decision needed one). The generic signals decide; the parser,
        which ETL trusts to drop navigation pages anyway, gets the last word where they are weak:

        * a short answer (one or two sentences) is below the block threshold, and an article split
          over several pages (`第1页 共3页 下一页`) has pagination: with some free text, such a page
          is an article if the parser finds an answer and no `listing_page`;
        * a page the signals call an article without structured data or a URL pattern, but the
          parser calls `listing_page` (a search page with two results, a teaser list): listing.
          The record is parsed for the item anyway, so this costs nothing extra;
        * plain text (a page dump served as text/plain) has no markup to measure at all.
        """
        if self.article_pattern is None and self._is_plain_text(response):
            record = self._parse_record(response)
            if record.get("title") and len((record.get("answer") or "").strip()) >= MIN_ARTICLE_BLOCK_CHARS \
                    and not set(record.get("errors") or ()) & set(NON_ARTICLE_ERRORS):
                return ARTICLE, record
            return OTHER, None
        signals = classify(root, response.url, self.article_pattern)
        if self.article_pattern is not None or signals.structured_article:
            return signals.kind, None
        if signals.kind == ARTICLE:
            if not self.parse_items:
                return ARTICLE, None
            record = self._parse_record(response)
            return (LISTING if set(record.get("errors") or ()) & set(NON_ARTICLE_ERRORS) else ARTICLE), record
        if signals.block_chars >= MIN_SHORT_ARTICLE_CHARS:  # incl. an article with its own pager
            record = self._parse_record(response)
            if len((record.get("answer") or "").strip()) >= MIN_SHORT_ARTICLE_CHARS \
                    and not set(record.get("errors") or ()) & set(NON_ARTICLE_ERRORS):
                return ARTICLE, record
        return signals.kind, None

    @classmethod
    def _is_plain_text(cls, response) -> bool:
        """text/plain, or a text response whose body is not markup at all."""
        content_type = (cls._content_type(response) or "").split(";", 1)[0].strip().lower()
        if content_type:
            return content_type == "text/plain"
        return not response.body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")

    @staticmethod
    def _content_type(response) -> str | None:
        content_type = response.headers.get(b"Content-Type")
        return content_type.decode("latin-1") if content_type else None

    def _parse_record(self, response) -> dict:
        return parse_page(response.body, url=response.url, content_type=self._content_type(response))

    def _item(self, response, record: dict | None = None) -> dict:
        if not self.parse_items:
            return {"url": response.url, "kind": ARTICLE, "status": response.status,
                    "content_type": self._content_type(response)}
        return record if record is not None else self._parse_record(response)

    # -- discovery helpers ------------------------------------------------------------------------
    def parse_robots(self, response):
        if response.status in REDIRECT_STATUSES:
            yield from self._redirect(response, self.parse_robots)
            return
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
        if response.status in REDIRECT_STATUSES:
            yield from self._redirect(response, self.parse_sitemap)
            return
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
