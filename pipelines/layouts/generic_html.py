"""Any HTML page, no site-specific selectors: the fallback layout for sites we have never seen.

Title: the `<h1>` if present, else the `<title>` (with a trailing ` - 站点名` suffix removed when
the page body confirms the shorter form). Everything else comes from the shared block splitter,
which keys on text markers (相关推荐 / 提示: / 大家都在搜) and on nav/footer/aside chrome. The
published date prefers machine-readable metadata (`article:published_time`, `<time itemprop=datePublished>`).
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

from pipelines.blocks import element_text, html_to_blocks
from pipelines.layouts.base import Document, Page
from pipelines.patterns.layout import TITLE_SUFFIX
from pipelines.split import PageSplit, split_blocks
from pipelines.text import parse_date

_META_DATE_XPATH = (
    "//meta[@property='article:published_time' or @name='pubdate' or @name='publishdate' "
    "or @name='PubDate' or @itemprop='datePublished' or @name='date' or @name='article:published_time']"
    "/@content | //time[@itemprop='datePublished' or @pubdate]/@datetime"
)


_MAX_SUFFIXES = 3


def title_hints(root) -> list[str]:
    """Candidate titles in order of trust: every <h1>, then <title>, then <title> minus one, two,
    three `_站点名` / ` - 频道` suffixes. The splitter takes the first one a page block equals."""
    hints = [element_text(h) for h in root.iter("h1")]
    title_el = root.find(".//title")
    if title_el is not None:
        candidate = element_text(title_el)
        for _ in range(_MAX_SUFFIXES + 1):
            if not candidate:
                break
            hints.append(candidate)
            shorter = TITLE_SUFFIX.sub("", candidate)
            if shorter == candidate:
                break
            candidate = shorter
    return [h for h in hints if h]


def meta_published(root) -> date | None:
    """Machine-readable publication date from <meta> or a `<time>` marked as the publication date.

    A bare `<time>` is NOT trusted: related items carry their own; a visible date line under the
    title is found by the splitter instead.
    """
    for value in root.xpath(_META_DATE_XPATH):
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
        blocks = html_to_blocks(body if body is not None else root)
        return split_blocks(blocks, title_hints=title_hints(root))

    def published(self) -> date | None:
        return meta_published(self.doc.root) or super().published()
