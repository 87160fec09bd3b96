"""Crawler-trap detection: keep a crawl of an unknown site bounded without site-specific rules.

Two generic rules (both accounted as `filtered/trap`, settings in crawlers/settings.py):

* **barren self-similar chains** (`HEALTHNEWS_TRAP_MAX_BARREN_HOPS`): an endless calendar
  (`?month=2025-06` -> `?month=2025-07` -> ...), pagination that keeps offering 下一页 past
  the last page, or `?date=` / `/archive/2025/05/` style links lead from a page to pages of the
  *same URL template* (same host and path shape with digit runs collapsed, same query keys)
  and find nothing else that is new. A non-article page that yields no new URL of another
  template is *barren*; its same-template links get `hops = parent hops + 1`, and are refused
  once hops exceed the limit. A productive page (new articles, new sections) resets the count,
  so real pagination that keeps finding articles is never cut. Article pages always reset it
  (related lists legitimately chain article to article).
* **repeated path segments** (`HEALTHNEWS_TRAP_MAX_REPEATED_SEGMENTS`): relative links that
  re-append themselves (`/a/b/b/b/b/`, `/x/y/x/y/x/y/`), the classic soft-404 trap.

A depth limit (`DEPTH_LIMIT`) remains the operator's blunt backstop (0 = off by default).
Why not a per-path page budget: query-string articles (`/qa?id=1` ... `/qa?id=90000`) share
one path, so any budget small enough to stop a trap would also stop real content.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

DIGIT_RUN = re.compile(r"\d+")


@lru_cache(maxsize=4096)
def url_template(url: str) -> tuple[str, str, tuple[str, ...]]:
    """(host:port, path with digit runs as `0`, sorted query keys): the shape of a URL."""
    parts = urlsplit(url)
    keys = tuple(sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return parts.netloc.lower(), DIGIT_RUN.sub("0", parts.path), keys


@lru_cache(maxsize=16)
def _repeat_pattern(max_repeats: int) -> re.Pattern[str]:
    # a group of 1-3 path segments followed by more than `max_repeats` copies of itself
    return re.compile(r"((?:/[^/]+){1,3}?)\1{" + str(max_repeats) + r",}(?=/|$)")


def has_repeated_segments(url: str, max_repeats: int) -> bool:
    """True if a run of 1-3 path segments repeats more than `max_repeats` times in a row."""
    if max_repeats <= 0:
        return False
    return _repeat_pattern(max_repeats).search(urlsplit(url).path) is not None
