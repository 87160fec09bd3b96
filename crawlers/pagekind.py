"""Generic page-kind detection and link discovery (no site-specific paths or class names).

An *article* is a page whose main content is one block of running text (a question's answer);
a *listing* is a page that mostly points elsewhere (home page, channel pages, search results),
typically with pagination. Signals, strongest first:

1. `HEALTHNEWS_ARTICLE_URL_PATTERN` when the operator set one (it decides alone);
2. structured data: `og:type=article` or JSON-LD `Article`/`NewsArticle`/`QAPage`/...;
3. pagination (rel=next/prev, 下一页/上一页/next/previous links) marks a listing;
4. the largest text block: the paragraphs, list items and `<br>`-separated text of one
   container, link text excluded, where repeated linked entries (siblings of the same tag and
   class that each hold a link: listing rows, related items) do not count as a block. Listings
   spread snippets over many such entries; an answer body is one block of running text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html

ARTICLE = "article"
LISTING = "listing"
OTHER = "other"

MIN_ARTICLE_BLOCK_CHARS = 100
PAGINATION_TEXT = re.compile(r"^\s*(下一?页|上一?页|尾页|末页|首页\s*»|next|prev(ious)?|older|newer|»|›|>>)\s*$",
                             re.IGNORECASE)
ARTICLE_TYPES = re.compile(r'"@type"\s*:\s*"(Article|NewsArticle|BlogPosting|QAPage|MedicalWebPage|Report)"')
SKIP_TEXT_TAGS = {"script", "style", "noscript", "template", "a", "option", "select", "button", "title"}
IGNORED_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "ftp:", "#")


@dataclass(frozen=True)
class PageSignals:
    kind: str
    block_chars: int
    has_pagination: bool
    structured_article: bool


def _text_len(text: str | None) -> int:
    return len(text.strip()) if text else 0


def _own_text_chars(element) -> int:
    """Characters of an element's text, not counting link text, scripts or styles."""
    total = _text_len(element.text)
    for child in element.iterdescendants():
        if not isinstance(child.tag, str):
            continue
        if child.tag not in SKIP_TEXT_TAGS and not any(
                isinstance(a.tag, str) and a.tag in SKIP_TEXT_TAGS for a in child.iterancestors() if a is not element):
            total += _text_len(child.text)
        total += _text_len(child.tail)
    return total


def largest_text_block(root) -> int:
    """Characters in the container holding the most paragraph / list / line-broken text.

    Paragraphs count for their parent; list items for the list's parent (an answer with an
    <ol> is still one block); `<br>`-separated text for the element holding it. Link text is
    not counted, so a list of links (a listing) scores low however long it is.
    """
    per_container: dict[object, int] = {}

    def credit(container, chars: int) -> None:
        if container is not None and chars:
            per_container[container] = per_container.get(container, 0) + chars

    for paragraph in root.iter("p"):
        credit(paragraph.getparent(), _own_text_chars(paragraph))
    for item in root.iter("li"):
        if item.find(".//a") is None:
            parent = item.getparent()
            credit(parent.getparent() if parent is not None else None, _own_text_chars(item))
    seen_br_parents: set[object] = set()
    for br in root.iter("br"):
        parent = br.getparent()
        if parent is None or parent in seen_br_parents or parent.tag in ("p", "li"):
            continue
        seen_br_parents.add(parent)
        credit(parent, _text_len(parent.text) + sum(_text_len(c.tail) for c in parent if isinstance(c.tag, str)))
    for container, chars in sorted(per_container.items(), key=lambda pair: -pair[1]):
        if not _is_list_entry(container):
            return chars
    return 0


def _is_list_entry(element) -> bool:
    """A repeated, linked item (one entry of a listing or related list), not a body of text."""
    if element.find(".//a") is None:
        return False
    parent = element.getparent()
    if parent is None:
        return False
    key = (element.tag, element.get("class"))
    twins = sum(1 for sibling in parent if sibling is not element and isinstance(sibling.tag, str)
                and (sibling.tag, sibling.get("class")) == key and sibling.find(".//a") is not None)
    return twins >= 2


def has_pagination(root) -> bool:
    if root.xpath("//link[@rel='next' or @rel='prev'] | //a[@rel='next' or @rel='prev']"):
        return True
    return any(PAGINATION_TEXT.match(a.text_content() or "") for a in root.iter("a"))


def has_structured_article(root) -> bool:
    og_type = root.xpath("string(//meta[@property='og:type']/@content)").strip().lower()
    if og_type == "article":
        return True
    return any(ARTICLE_TYPES.search(script.text or "")
               for script in root.xpath("//script[@type='application/ld+json']"))


def classify(root, url: str, article_pattern: re.Pattern[str] | None = None) -> PageSignals:
    """Decide article / listing / other for a parsed HTML document."""
    block = largest_text_block(root)
    paginated = has_pagination(root)
    structured = has_structured_article(root)
    if article_pattern is not None:
        kind = ARTICLE if article_pattern.search(url) else LISTING
    elif structured:
        kind = ARTICLE
    elif block >= MIN_ARTICLE_BLOCK_CHARS and not paginated:
        kind = ARTICLE
    elif root.find(".//a") is not None:
        kind = LISTING
    else:
        kind = OTHER
    return PageSignals(kind, block, paginated, structured)


def parse_html(body: bytes | str, encoding: str | None = None):
    """lxml document for classification (the spider reuses Scrapy's selector when it can)."""
    parser = lxml_html.HTMLParser(encoding=encoding) if encoding else None
    return lxml_html.document_fromstring(body, parser=parser)


def link_hrefs(root) -> list[str]:
    """Raw href values of <a>/<area> elements worth following (no mailto:, javascript:, fragments)."""
    hrefs: list[str] = []
    for element in root.iter("a", "area"):
        href = (element.get("href") or "").strip()
        if not href or href.lower().startswith(IGNORED_SCHEMES):
            continue
        rel = (element.get("rel") or "").lower()
        if "nofollow" in rel:
            continue
        hrefs.append(href)
    return hrefs
