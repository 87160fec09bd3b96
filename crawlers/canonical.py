"""URL canonicalization used before dedupe, so one page is fetched (and archived) once.

Two URLs that differ only by tracking parameters (utm_*, spm, from, fbclid, ...), fragment,
default port, host case or query-parameter order name the same page; fetching both would
archive the page twice and double-count it downstream. w3lib does the percent-encoding and
query sorting; we add the parts it leaves alone (tracking params, default ports, host case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class TrackingParams:
    """Parameter names to drop: exact names plus prefixes (written `utm_*` in settings)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def from_setting(cls, names: Iterable[str]) -> TrackingParams:
        exact: set[str] = set()
        prefixes: list[str] = []
        for raw in names:
            name = str(raw).strip().lower()
            if not name:
                continue
            if name.endswith("*"):
                prefixes.append(name[:-1])
            else:
                exact.add(name)
        return cls(frozenset(exact), tuple(prefixes))

    def matches(self, name: str) -> bool:
        lowered = name.lower()
        if lowered in self.exact:
            return True
        return bool(self.prefixes) and lowered.startswith(self.prefixes)


@lru_cache(maxsize=16384)
def canonicalize(url: str, tracking: TrackingParams) -> str:
    """Return the canonical form of an absolute http(s) URL (other schemes are returned unchanged).

    Cached (bounded): the same links repeat on every page of a site (nav, related lists).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: keep the URL as written, the download will fail
        return url
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not tracking.matches(k)]
    path = parts.path or "/"
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query_pairs), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def host_in_domains(url: str, domains: Iterable[str]) -> bool:
    """True if the URL's host is one of `domains` or a subdomain of one (ports are ignored)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)
