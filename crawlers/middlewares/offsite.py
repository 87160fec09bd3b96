"""Offsite filter (downloader middleware) that raises an accountable IgnoreRequest.

Replaces Scrapy's OffsiteMiddleware, which drops offsite requests from a `request_scheduled`
signal handler: those never reach an errback, so they would vanish from the crawl accounting.
Here an offsite request (also a redirect leaving the site) fails with
`FilteredRequest("offsite")` and is counted as `filtered/offsite`. Runs after the SSRF guard so
a link to a private address is reported as what it is (`filtered/ssrf`).

Ports: another port of a start URL's host (or of its sub-domains) is another service, not
the site (`127.0.0.1:8765` vs `127.0.0.1:9000`; `example.org` vs `example.org:8080`), so a
URL on such a host must use one of the start URLs' ports for it (http:80 and https:443 count
as one, so an http -> https upgrade stays on site). Hosts allowed only through an explicit
`allowed_domains` entry unrelated to any start host are not port-restricted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import signals

from crawlers.canonical import host_in_domains, port_class, start_ports
from crawlers.ledger import FilteredRequest


class OffsiteGuardMiddleware:
    def __init__(self, stats) -> None:
        self.stats = stats
        self.domains: list[str] = []
        self.ports: dict[str, set[int | None]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.stats)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider) -> None:
        # The spider validated them (bare host names) in from_crawler.
        self.domains = [d.strip().lower() for d in (getattr(spider, "allowed_domains", None) or []) if d and d.strip()]
        self.ports = start_ports(getattr(spider, "start_urls", None) or [])

    def _port_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        related = [ports for start, ports in self.ports.items() if host == start or host.endswith("." + start)]
        return not related or any(port_class(url) in ports for ports in related)

    def process_request(self, request, spider=None):
        if request.meta.get("allow_offsite") or not self.domains:
            return None
        if host_in_domains(request.url, self.domains) and self._port_allowed(request.url):
            return None
        raise FilteredRequest("offsite", f"offsite request to {urlsplit(request.url).hostname!r}")
