"""Any HTML page, no site-specific selectors: the fallback layout for sites we have never seen.

Title: the `<h1>` if present, else the `<title>` (with a trailing ` - 站点名` suffix removed when
the page body confirms the shorter form). Everything else comes from the shared block splitter,
which keys on text markers (相关推荐 / 提示: / 大家都在搜) and on nav/footer/aside chrome. The
published date prefers machine-readable metadata (`article:published_time`, `<time itemprop=datePublished>`).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property

from pipelines.blocks import element_text, html_to_blocks
from pipelines.layouts.base import Document, Page
from pipelines.patterns.layout import TITLE_LEAD, TITLE_PREFIX, TITLE_SUFFIX
from pipelines.split import PageSplit, split_blocks
from pipelines.text import parse_date

_META_DATE_XPATH = (
    "//meta[@property='article:published_time' or @name='pubdate' or @name='publishdate' "
    "or @name='PubDate' or @itemprop='datePublished' or @name='date' or @name='article:published_time']"
    "/@content | //time[@itemprop='datePublished' or @pubdate]/@datetime"
    " | //script[@type='application/ld+json']/text()"
)
# schema.org JSON-LD (AMP and news pages often carry their date nowhere else).
_JSONLD_DATE = re.compile(r'"(?:datePublished|dateCreated|uploadDate)"\s*:\s*"([^"]{8,40})"')


_MAX_SUFFIXES = 3


def title_hints(root) -> list[str]:
    """Candidate titles in order of trust: every <h1>, then <title>, then <title> minus one, two,
    three `_站点名` / ` - 频道` suffixes and minus a `【问答】` channel tag. The splitter takes the
    first one a page block equals. An <h1> that is only one of the removed suffixes is the site's
    logo, not the question: dropped; one that the <title> does not contain and that is shorter
    than a <title> candidate (`<h1>健康网</h1>` + `<title>医保卡丢了怎么补办</title>`) goes after them."""
    h1s = [text for text in (element_text(h) for h in root.iter("h1")) if text]
    title_el = root.find(".//title")
    if title_el is None:
        return h1s
    full = candidate = element_text(title_el)
    candidates: list[str] = []
    removed: list[str] = []
    for _ in range(_MAX_SUFFIXES + 1):
        if not candidate:
            break
        candidates.append(candidate)
        shorter = TITLE_SUFFIX.sub("", candidate)
        if shorter == candidate:
            break
        removed.append(candidate[len(shorter):].lstrip(" -_|–—"))
        candidate = shorter
    unprefixed = TITLE_PREFIX.sub("", candidate, count=1)
    if unprefixed and unprefixed != candidate:
        candidates.append(unprefixed)
    unled = TITLE_LEAD.sub("", full, count=1)
    if unled != full and len(unled) > len(candidates[-1]) and TITLE_SUFFIX.sub("", unled) == unled:
        # `打印 - 问题`, `健康网 | 问题`: a short site / mode name FIRST, the longer question after it.
        # Tried before the bare lead, but a block must confirm it (the fallback stays the lead).
        candidates.insert(len(candidates) - 1, unled)
    h1s = [h for h in h1s if h not in removed]
    longest = max(map(len, candidates), default=0)
    first = [h for h in h1s if h in full or len(h) >= longest]
    return first + candidates + [h for h in h1s if h not in first]


def meta_published(root) -> date | None:
    """Machine-readable publication date from <meta> or a `<time>` marked as the publication date.

    A bare `<time>` is NOT trusted: related items carry their own; a visible date line under the
    title is found by the splitter instead.
    """
    for value in root.xpath(_META_DATE_XPATH):
        if value[:1] in "{[ \n\r\t":  # a JSON-LD script
            m = _JSONLD_DATE.search(value)
            if m is None:
                continue
            value = m[1]
        day = parse_date(value)
        if day:
            return day
    return None


class GenericHtmlPage(Page):
    name = "generic_html"

    @classmethod
    def matches(cls, doc: Document) -> bool:
        return doc.is_html

    @cached_property
    def split(self) -> PageSplit:
        root = self.doc.root
        body = root.find("body")
        # content after a stray `</body>` becomes a sibling of <body>: then walk the whole document
        blocks = html_to_blocks(body if body is not None and body.getnext() is None else root)
        return split_blocks(blocks, title_hints=title_hints(root), published_hint=self._meta_published)

    @cached_property
    def _meta_published(self) -> date | None:
        return meta_published(self.doc.root)

    def published(self) -> date | None:
        return self._meta_published or super().published()
