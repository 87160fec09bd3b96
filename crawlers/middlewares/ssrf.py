"""SSRF guard (downloader middleware): never send a request to a private or special address.

A crawled page can link anywhere, including cloud metadata endpoints (169.254.169.254) and
intranet hosts (10.0.0.1). Every request's host is checked before anything touches the network:
IP literals directly, host names by resolving them and checking EVERY resolved address with
`ipaddress`. Private, loopback, link-local, reserved, multicast and unspecified addresses are
refused with `SsrfBlocked` (an IgnoreRequest, accounted as `filtered/ssrf`), unless the exact host
was named as a start URL (the sample site on 127.0.0.1) or listed in HEALTHNEWS_ALLOW_PRIVATE_HOSTS.

Ordered before Scrapy's OffsiteMiddleware and RobotsTxtMiddleware, so a private host does not even
get a robots.txt request. Host names outside the allowed domains are not resolved (OffsiteMiddleware
drops them next, without a lookup) to avoid a DNS query per external link.

Known limit: the guard and Twisted resolve separately; Scrapy's DNS cache makes a rebinding window
small, not impossible.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.canonical import host_in_domains
from crawlers.ledger import SsrfBlocked

logger = logging.getLogger(__name__)
MAX_CACHED_HOSTS = 4096


def is_forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified or not address.is_global)


def resolve_host(host: str, port: int) -> list[str]:
    """All addresses a host name resolves to (blocking; run in a thread)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


class SsrfGuardMiddleware:
    def __init__(self, stats, extra_allowed_hosts: list[str]) -> None:
        self.stats = stats
        self.allowed_hosts: set[str] = {h.strip().lower() for h in extra_allowed_hosts if h.strip()}
        self.allowed_domains: list[str] = []
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.stats, crawler.settings.getlist("HEALTHNEWS_ALLOW_PRIVATE_HOSTS"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider) -> None:
        """Start URLs are explicit operator choices: their exact hosts are trusted."""
        for url in getattr(spider, "start_urls", []) or []:
            host = urlsplit(url).hostname
            if host:
                self.allowed_hosts.add(host.lower())
        self.allowed_domains = [d for d in (getattr(spider, "allowed_domains", None) or []) if d]

    def _literal_verdict(self, host: str) -> str | None | bool:
        """Reason string if blocked, None if allowed, False if the host is a name (needs DNS)."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return f"{host} is a {self._describe(address)} address" if is_forbidden_address(address) else None

    @staticmethod
    def _describe(address) -> str:
        for attribute in ("is_loopback", "is_link_local", "is_multicast", "is_unspecified", "is_private", "is_reserved"):
            if getattr(address, attribute):
                return attribute.removeprefix("is_").replace("_", "-")
        return "special"

    def _block(self, request, reason: str):
        self.stats.inc_value("healthnews/ssrf/blocked")
        logger.warning("SSRF guard: refusing %s (%s)", request.url, reason)
        raise SsrfBlocked(f"SSRF guard: {reason}")

    async def process_request(self, request, spider=None):
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if not host or host in self.allowed_hosts:
            return None
        verdict = self._literal_verdict(host)
        if verdict is None:
            return None
        if isinstance(verdict, str):
            self._block(request, verdict)
        if self.allowed_domains and not host_in_domains(request.url, self.allowed_domains):
            return None  # offsite: dropped by OffsiteMiddleware without ever resolving it
        if host not in self._verdicts:
            self._verdicts[host] = await self._resolve_verdict(host, parts.port or (443 if parts.scheme == "https" else 80))
            if len(self._verdicts) > MAX_CACHED_HOSTS:
                self._verdicts.pop(next(iter(self._verdicts)))
        cached = self._verdicts[host]
        if cached is not None:
            self._block(request, cached)
        return None

    async def _resolve_verdict(self, host: str, port: int) -> str | None:
        try:
            addresses = await maybe_deferred_to_future(deferToThread(resolve_host, host, port))
        except OSError:
            return None  # unresolvable: the download fails with a DNS error and is accounted as failed/dns
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if is_forbidden_address(address):
                return f"{host} resolves to {text}, a {self._describe(address)} address"
        return None
