"""URL canonicalization shared by the crawler (request dedupe) and the ETL (article ids, dedupe).

Why here: the article id is a hash of the canonical URL, so the crawler and the ETL must agree on
one rule set. w3lib does the RFC work (sorted query, percent-encoding, fragment removal); on top
we drop tracking parameters and lower-case the host so `?utm_source=x` copies collapse.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Same names as the crawler's HEALTHNEWS_TRACKING_PARAMS (crawlers/settings.py), so the article id
# computed here equals the hash of the URL the crawler deduplicated on. `utm_*` is a prefix.
TRACKING_PARAMS = frozenset({
    "spm", "from", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid",
    "mc_cid", "mc_eid", "_hsenc", "_hsmkt", "share_token", "scene", "isappinstalled",
    "wxshare_count", "share_from", "sessionid", "sid", "ref_src",
})


@lru_cache(maxsize=65536)  # related links repeat on many pages of a shard
def canonical_url(url: str | None) -> str | None:
    """Canonical form of an http(s) URL; None for empty input; other strings returned stripped."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme.lower() == "http":
        netloc = netloc[:-3]
    elif netloc.endswith(":443") and parts.scheme.lower() == "https":
        netloc = netloc[:-4]
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt)


def stable_id(text: str, length: int = 16) -> str:
    """Short stable hex id (sha1 prefix); 64 bits keep collisions negligible at our scale."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def url_id(url: str | None) -> str | None:
    canon = canonical_url(url)
    return stable_id("url:" + canon) if canon else None
