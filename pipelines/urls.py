"""URL canonicalization shared by the crawler (request dedupe) and the ETL (article ids, dedupe).

Why one module: the article id is a hash of the canonical URL, so the crawler and the ETL must agree
on one rule set. w3lib does the RFC work (sorted query, percent-encoding, fragment removal); on top
we drop tracking parameters and session ids (also `;jsessionid=` path parameters), default ports and lower-case scheme and host so `?utm_source=x` copies
collapse. The crawler may pass its own list (HEALTHNEWS_TRACKING_PARAMS); the default is below.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track the visitor; `x*` is a prefix. Default of HEALTHNEWS_TRACKING_PARAMS.
DEFAULT_TRACKING_PARAM_NAMES: tuple[str, ...] = (
    "utm_*", "spm", "from", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid",
    "mc_cid", "mc_eid", "_hsenc", "_hsmkt", "share_token", "scene", "isappinstalled",
    "wxshare_count", "share_from", "sessionid", "sid", "ref_src", "jsessionid", "phpsessid", "aspsessionid*",
)
# Servlet session ids are also written as a path parameter: `/a/1.html;jsessionid=0A1B?x=1`.
SESSION_PATH_PARAM = re.compile(r";jsessionid=[^/?#;]*", re.IGNORECASE)

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


@lru_cache(maxsize=4096)
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
    if ";" in path:
        path = SESSION_PATH_PARAM.sub("", path)
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query_pairs), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


DEFAULT_TRACKING = TrackingParams.from_setting(DEFAULT_TRACKING_PARAM_NAMES)


def canonical_url(url: str | None) -> str | None:
    """Canonical form with the default tracking list; None for empty input."""
    if not url:
        return None
    return canonicalize(url.strip(), DEFAULT_TRACKING)


def stable_id(text: str, length: int = 16) -> str:
    """Short stable hex id (sha1 prefix); 64 bits keep collisions negligible at our scale."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def url_id(url: str | None) -> str | None:
    canon = canonical_url(url)
    return stable_id("url:" + canon) if canon else None
