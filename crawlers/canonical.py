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

__all__ = ["TrackingParams", "canonicalize", "host_in_domains"]


def host_in_domains(url: str, domains: Iterable[str]) -> bool:
    """True if the URL's host is one of `domains` or a subdomain of one (ports are ignored)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)
