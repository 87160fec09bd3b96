"""Offsite filter (downloader middleware) that raises an accountable IgnoreRequest.

Replaces Scrapy's OffsiteMiddleware, which drops offsite requests from a `request_scheduled`
signal handler: those never reach an errback, so they would vanish from the crawl accounting.
Here an offsite request (also a redirect leaving the site) fails with
`FilteredRequest("offsite")` and is counted as `filtered/offsite`. Runs after the SSRF guard so
a link to a private address is reported as what it is (`filtered/ssrf`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import signals

from crawlers.canonical import host_in_domains
from crawlers.ledger import FilteredRequest


class OffsiteGuardMiddleware:
    def __init__(self, stats) -> None:
        self.stats = stats
        self.domains: list[str] = []

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.stats)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider) -> None:
        # The spider validated them (bare host names) in from_crawler.
        self.domains = [d.strip().lower() for d in (getattr(spider, "allowed_domains", None) or []) if d and d.strip()]

    def process_request(self, request, spider=None):
        if request.meta.get("allow_offsite") or not self.domains:
            return None
        if host_in_domains(request.url, self.domains):
            return None
        raise FilteredRequest("offsite", f"offsite request to {urlsplit(request.url).hostname!r}")
