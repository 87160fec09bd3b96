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
   "Paragraphs" are `<p>` and any leaf block (`<div>`, `<dd>`, `<td>`, ... holding only inline
   content): editors that write one `<div>` per line are as common as `<p>`. A paragraph that
   directly follows a lone link (`<h3><a>title</a></h3><p>snippet</p>`, repeated) is a teaser
   of a flat listing and does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import html as lxml_html

ARTICLE = "article"
LISTING = "listing"
OTHER = "other"

MIN_ARTICLE_BLOCK_CHARS = 100
# Below MIN_ARTICLE_BLOCK_CHARS but at least this (no pagination): a short answer or a listing
# with a line of free text; the spider asks the parser (crawlers/spiders/healthnews.py).
MIN_SHORT_ARTICLE_CHARS = 20
# Magic numbers of binary formats served as links (sometimes mislabelled text/html).
BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0", b"Rar!",
                b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\x00\x00\x01\x00", b"RIFF", b"ID3", b"OggS", b"\x7fELF")
# A block this large is an article even on a page with pagination links: long articles are
# split over pages (下一页) and article pages link the next article ("Next"); listing pages
# keep their text in repeated entries, which never count as a block.
STRONG_ARTICLE_BLOCK_CHARS = 500
# Leaf blocks (no block-level child) that count as a paragraph of their parent.
PARAGRAPH_TAGS = ("p", "div", "dd", "td", "section", "article", "blockquote", "pre", "center", "font")
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "details", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# Teasers of a flat listing follow a lone link; it takes this many such pairs in one container.
MIN_FLAT_TEASERS = 3
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

    teaser_parents = _flat_listing_containers(root)
    for paragraph in root.iter(*PARAGRAPH_TAGS):
        if paragraph.tag != "p" and any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS for c in paragraph):
            continue  # not a leaf: its own paragraphs are credited to it instead
        parent = paragraph.getparent()
        if parent in teaser_parents and _follows_lone_link(paragraph):
            continue
        credit(parent, _own_text_chars(paragraph))
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


def _is_lone_link(element) -> bool:
    """An element whose whole text is one link: `<a href>`, `<h3><a href>title</a></h3>`, `<dt><a>`."""
    if not isinstance(element.tag, str):
        return False
    links = [element] if element.tag == "a" else element.findall(".//a")
    if len(links) != 1 or not links[0].get("href"):
        return False
    text = (element.text_content() or "").strip()
    return bool(text) and text == (links[0].text_content() or "").strip()


def _follows_lone_link(element) -> bool:
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    return previous is not None and _is_lone_link(previous)


def _flat_listing_containers(root) -> set:
    """Containers holding at least MIN_FLAT_TEASERS (lone link, paragraph) pairs."""
    counts: dict[object, int] = {}
    for element in root.iter(*PARAGRAPH_TAGS):
        if _follows_lone_link(element):
            parent = element.getparent()
            counts[parent] = counts.get(parent, 0) + 1
    return {parent for parent, count in counts.items() if count >= MIN_FLAT_TEASERS}


def _is_list_entry(element) -> bool:
    """A repeated, linked item (one entry of a listing or related list), not a body of text."""
    if element.find(".//a") is None:
        return False
    if element.tag == "li":
        return True  # a list item holding a link is an entry however short the list (2 search hits)
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
    elif block >= STRONG_ARTICLE_BLOCK_CHARS or (block >= MIN_ARTICLE_BLOCK_CHARS and not paginated):
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


def looks_binary(body: bytes) -> bool:
    """A known binary signature, or NUL bytes early on (text in any charset but UTF-16/32 has none)."""
    head = body[:1024].lstrip()
    return head.startswith(BINARY_MAGIC) or (b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")))


def meta_refresh_url(root) -> str | None:
    """Target of `<meta http-equiv="refresh" content="0; url=...">`, if any."""
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() == "refresh":
            match = re.search(r"url\s*=\s*['\"]?([^'\";]+)", meta.get("content") or "", re.IGNORECASE)
            if match:
                return match.group(1).strip()
    return None


def base_url(root, url: str) -> str:
    """The URL relative links resolve against: `<base href>` (itself relative to the page) or the page."""
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href and not href.lower().startswith(IGNORED_SCHEMES):
            return urljoin(url, href)
        break
    return url
