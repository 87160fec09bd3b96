"""URL canonicalization used before dedupe, so one page is fetched (and archived) once.

Two URLs that differ only by tracking parameters (utm_*, spm, from, fbclid, ...), fragment,
default port, host case or query-parameter order name the same page; fetching both would
archive the page twice and double-count it downstream. The rules live in `pipelines/urls.py`
so that the crawler's dedupe key and the ETL's article id can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from pipelines.urls import TrackingParams, canonicalize

__all__ = ["TrackingParams", "canonicalize", "host_in_domains", "port_class", "start_ports"]

DEFAULT_PORTS = {"http": 80, "https": 443}


def host_in_domains(url: str, domains: Iterable[str]) -> bool:
    """True if the URL's host is one of `domains` or a subdomain of one (ports are ignored)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def port_class(url: str) -> int | None:
    """The URL's port, or None for the scheme's default (http:80 and https:443 are one site)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return -1  # malformed: matches no start URL
    return None if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()) else port


def start_ports(start_urls: Iterable[str]) -> dict[str, set[int | None]]:
    """{host: port classes} of the start URLs: which ports of those hosts belong to the crawl."""
    ports: dict[str, set[int | None]] = {}
    for url in start_urls:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        if host:
            ports.setdefault(host, set()).add(port_class(url))
    return ports
