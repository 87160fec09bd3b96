"""HTML or plain-text page dump -> ordered list of normalized text blocks.

Both input kinds end up as the same `Block` list so that ONE splitter (`pipelines.split`) finds
the title, answer, disclaimer and related items whatever the markup. For HTML a block is the text
of a block-level element (a `<br>` also ends a block, so `<br>`-separated answers give the same
paragraphs as `<p>` ones); for a text dump a block is a non-empty line.

Hot path: lxml only (`lxml.html` parser + one `iterwalk` pass). BeautifulSoup is used in exactly
one place, `parse_html`, as a repair path when lxml refuses the input (it raises on some broken
documents, e.g. ones that are nothing but a stray declaration); bs4 with the lxml builder
re-serializes what it managed to read and lxml parses that. It never runs for normal pages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import lxml.etree as etree

from pipelines.patterns.layout import AD_TOKEN, CHROME_TOKEN, PROFILE_HREF
from pipelines.text import _ZERO_WIDTH_RE, DATE_RE, normalize_text

BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd table tbody thead tfoot tr td th caption section "
    "article header footer nav aside main blockquote pre form fieldset figure figcaption address "
    "hr center details summary body".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# `<video>` / `<audio>` children are the fallback a browser shows only WITHOUT media support
# (`您的浏览器不支持视频播放`), never page text.
SKIP_TAGS = frozenset(
    "script style noscript template head iframe svg object embed select option button label canvas video audio".split()
)
# `figcaption`: an image caption (`图1 激活页面`) is not answer text, but may sit inside the article.
CHROME_TAGS = frozenset("nav footer aside header figcaption".split())
# Containers whose class/id is never used to classify chrome: a `body class="has-sidebar"` or an
# `article class="post-header-x"` must not turn the whole page into chrome.
_NEVER_CHROME = frozenset("html body main article".split())

_HTML_SNIFF = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|h1|h2|br|article|section|span|table|ul|a\s)[\s>/]",
    re.I,
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# C0 controls other than \t \n \r are invalid in XML/HTML text and make lxml refuse the string.
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Plain `etree.HTMLParser`, not `lxml.html`'s: lxml.html attaches a Python class lookup to every
# element proxy, which costs more than the rest of our walk. We only need tags, attributes, text.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False)
_UTF8_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False, encoding="utf-8")
CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])


def count_control_bytes(data: bytes) -> int:
    """C0 control bytes (not tab/newline/CR) in `data`; `bytes.translate` is ~20x faster than a regex."""
    return len(data) - len(data.translate(None, CONTROL_BYTES))
_EMPTY_HTML = "<html><body></body></html>"


@dataclass(slots=True)
class Block:
    """One text block in page order.

    `chrome`: inside nav/header/footer/aside or a container whose class/id says so; such blocks
    are never part of the answer but may still hold the related list. `href`: the link of the
    block's longest anchor (the related-item title link, not a `[医保]` category link before it),
    else of the first anchor that contributed text, even after leading unlinked text such as a
    date. `marker`: kept apart from
    the text so the answer can show `1. 医保码` like the text dump does while related-list titles
    (also `<li>`s) stay clean.
    """

    text: str
    tag: str = "line"
    href: str | None = None
    chrome: bool = False
    marker: str | None = None  # list marker a browser would draw (`1.`, `•`) for the first block of an <li>
    # Text of the anchor that gave `href` when the block holds more than that anchor
    # (`<a>标题</a><span>医保 04-18</span>` -> "标题"): separates a related title from what is glued to it.
    link_text: str | None = None
    # Characters of the block inside links (at most len(text)): link density, a navigation signal.
    link_chars: int = 0


def looks_like_html(text: str) -> bool:
    """Cheap sniff on the first 2 KB: does this contain HTML tags at all?"""
    return _HTML_SNIFF.search(text, 0, 2048) is not None


def text_to_blocks(text: str) -> list[Block]:
    """Plain-text dump: one block per non-empty normalized line."""
    from pipelines.markdown import looks_like_markdown, markdown_block  # (it imports Block from here)

    out = []
    tabs = "\t" in text
    markdown = looks_like_markdown(text)
    for line in text.splitlines():
        if tabs and "\t" in line:
            # columns ending in a date (`标题<TAB>健康新闻<TAB>2025-04-20`): a block per column, like table cells
            fields = [f for f in map(normalize_text, line.split("\t")) if f]
            if len(fields) > 1 and len(fields[-1]) <= 20 and DATE_RE.search(fields[-1]):
                out.extend(Block(f) for f in fields)
                continue
        norm = normalize_text(line)
        if norm:
            out.append(Block(norm) if not markdown else markdown_block(norm))
    return [b for b in out if b is not None] if markdown else out


# libxml2 (2.14) drops EVERYTHING after a `</html>` (a browser keeps rendering it): a template that
# closes the page early (`</body></html>`, then the rest of the answer and the related list) would
# lose them. (Content after a stray `</body>` alone is kept by libxml2, as a sibling of <body>.)
_END_TAG = {str: re.compile(r"</(?:body|html)\s*>", re.I), bytes: re.compile(rb"</(?:body|html)\s*>", re.I)}
_ONLY_END_TAGS = {str: re.compile(r"(?:\s*</[A-Za-z][^>]{0,20}>)*\s*"), bytes: re.compile(rb"(?:\s*</[A-Za-z][^>]{0,20}>)*\s*")}


def _markup_after_last_end(doc) -> bool:
    """Does markup follow the page's last `</html>`? `rfind` stops near the end of a normal page (a
    stray `</html>` before a second, final one is missed: finding it costs a whole-page scan)."""
    b = isinstance(doc, bytes)
    end = doc.rfind(b"</html" if b else "</html")
    if end < 0:
        end = doc.rfind(b"</HTML" if b else "</HTML")
    return end >= 0 and _ONLY_END_TAGS[bytes if b else str].fullmatch(doc, end) is None


def _without_stray_end_tags(doc):
    """`doc` (str or bytes) without `</body>` / `</html>` tags when content follows the first one."""
    m = _END_TAG[type(doc)].search(doc)
    if m is None or _ONLY_END_TAGS[type(doc)].fullmatch(doc, m.start()):
        return doc
    return doc[: m.start()] + _END_TAG[type(doc)].sub(b"" if isinstance(doc, bytes) else "", doc[m.start():])


_LINKED_ROW_MAX_CHARS = 60
_ROW_DATE = re.compile(r"\d{1,2}\s*[-/.月]\s*\d{1,2}|前|昨天|ago")


def _is_data_row(tr: etree._Element) -> bool:
    """A `<tr>` of a data table (`一级医院 | 200元 | 90%`): two or more cells without block content.
    Read as ONE line (cells joined by a space) like a reader reads a row; layout tables (cells
    holding paragraphs) stay per cell."""
    if len(tr) < 2:
        return False
    linked = False
    for cell in tr:
        if cell.tag != "td" and cell.tag != "th":
            return False
        for el in cell.iterdescendants():
            if el.tag in BLOCK_TAGS:
                return False
            linked = linked or el.tag == "a"
    if not linked:
        return True
    # links (`<a>某医院</a> | 三甲`) only in short undated rows: related-list rows (`<a>标题</a> | 2025-05-16`) stay per cell
    text = "".join(tr.itertext())
    if len(text) > _LINKED_ROW_MAX_CHARS or _ROW_DATE.search(text) is not None:
        return False
    for a in tr.iter("a"):  # a row of nothing but links is a nav bar / calendar row: per cell
        text = text.replace("".join(a.itertext()), "", 1)
    return not text.isspace() and text != ""


def parse_html(text: str, errors: list[str], utf8: bytes | None = None) -> etree._Element:
    """Parse HTML text with lxml; fall back to BeautifulSoup repair; an empty tree if nothing usable.

    lxml's HTML parser (libxml2, recover mode) accepts almost anything; it returns None for
    documents with no element at all (only a doctype, only comments) and raises on a few inputs.
    Only then does BeautifulSoup (lxml builder) get a go, and lxml re-parses its output.

    `utf8`: the page's original bytes when they are known to be valid UTF-8 of `text` AND free of
    C0 control bytes (`count_control_bytes(utf8) == 0`; the caller checks once and shares the
    answer). libxml2 parses those directly, ~30% faster than a Python str (which it would re-encode
    first).
    """
    if utf8 is not None:
        root = _parse_keeping_tail(utf8[3:] if utf8.startswith(b"\xef\xbb\xbf") else utf8, _UTF8_PARSER)
        if root is not None:
            return root
    text = _XML_DECL.sub("", text, count=1)
    if count_control_bytes(text.encode("utf-8", "surrogatepass")):
        text = _CONTROL_CHARS_RE.sub("", text)
    root = _parse_keeping_tail(text, _PARSER)
    if root is not None:
        return root
    errors.append("html_repaired")
    try:
        from bs4 import BeautifulSoup  # repair path only, see module docstring

        repaired = str(BeautifulSoup(text, "lxml"))
        root = etree.fromstring(repaired, _PARSER) if repaired.strip() else None
    except Exception:  # noqa: BLE001 - any failure here means "unparseable"; reported, not raised
        root = None
    if root is None:
        errors.append("html_unparseable")
        root = etree.fromstring(_EMPTY_HTML, _PARSER)
    return root


def _parse_keeping_tail(doc, parser) -> etree._Element | None:
    """lxml parse; re-parsed without stray `</body>`/`</html>` tags when content after one was lost."""
    try:
        if _markup_after_last_end(doc):
            doc = _without_stray_end_tags(doc)
        return etree.fromstring(doc, parser)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None


def raw_text(el: etree._Element) -> str:
    """All text inside `el`, unnormalized (like lxml.html's text_content, for plain etree elements).

    Leaf elements (the common case for titles, snippets, dates) read `.text` directly: building an
    `itertext` iterator costs ~2 us per element, more than the rest of the per-item work.
    """
    if len(el):
        return "".join(el.itertext())
    return el.text or ""


def element_text(el: etree._Element) -> str:
    """Normalized text of an element."""
    return normalize_text(raw_text(el))


_ROLE_CACHE: dict[tuple[str, str | None, str | None], tuple[bool, bool]] = {}
_ROLE_CACHE_MAX = 4096


def _is_chrome_or_ad(el: etree._Element) -> tuple[bool, bool]:
    """(is_ad, is_chrome) from tag name and class/id tokens (memoized: sites repeat their classes)."""
    tag = el.tag
    if tag in _NEVER_CHROME:
        return False, False
    if tag == "header" and next(el.iterancestors("article", "section"), None) is not None:
        return False, False  # HTML5: the header OF an article / section (its title, a sub-heading), not the site's
    attrib = el.attrib
    key = (tag, attrib.get("class"), attrib.get("id"))
    cached = _ROLE_CACHE.get(key)
    if cached is not None:
        return cached
    attrs = f"{key[1] or ''} {key[2] or ''}"
    if attrs != " " and AD_TOKEN.search(attrs):
        role = (True, False)
    elif tag in CHROME_TAGS:
        role = (False, True)
    else:
        role = (False, attrs != " " and CHROME_TOKEN.search(attrs) is not None)
    if len(_ROLE_CACHE) < _ROLE_CACHE_MAX:
        _ROLE_CACHE[key] = role
    return role


_SEP = "\x1e"  # record separator: control chars were stripped from the input, so it is unique


def normalize_many(raw: list[str]) -> list[str]:
    """`normalize_text` over many strings with ONE NFKC pass (per-call overhead dominates otherwise)."""
    if not raw:
        return []
    joined = _SEP.join(raw)
    if not joined.isascii():
        joined = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", joined))
    return [" ".join(part.split()) for part in joined.split(_SEP)]


def html_to_blocks(root: etree._Element) -> list[Block]:
    """Walk `root` once and return its text blocks in document order (see module docstring).

    Hot loop: plain local variables, no per-event function calls; text is normalized in bulk.
    """
    raw: list[str] = []  # raw text per pending block
    meta: list[tuple[str, str | None, bool, str | None, int, int]] = []  # (tag, href, chrome, marker, link, link chars)
    links: list[str] = []  # raw anchor texts of blocks holding more than their anchor (see _link_raw)
    anchor_starts: list[tuple[int, int]] = []  # (len(buf), flushes) at each open <a>
    link_span: tuple[int, int] | None = None  # buf slice of the block's longest closed anchor
    link_len = 0  # its text length: the longest anchor of a line is its title (`[医保]` `<a>标题</a>`)
    link_chars = 0  # raw characters of the pending block inside `<a href>` (link density)
    flushes = 0
    buf: list[str] = []
    hrefs: list[str | None] = []  # open <a> elements' hrefs, innermost last
    tags: list[str] = ["div"]  # open block-level elements, innermost last
    chrome_els: set = set()
    ad_els: set = set()
    chrome_depth = 0
    href = None  # href of the anchor that gave the pending block its first non-blank text
    has_text = False
    counters: list[int] = []  # open lists: next-number-minus-one for <ol>, -1 for <ul>
    pending_marker: str | None = None  # marker of an <li> whose first text has not come yet
    marker: str | None = None  # marker of the pending block
    block_tags, skip_tags, chrome_tags = BLOCK_TAGS, SKIP_TAGS, CHROME_TAGS
    row_cells: set = set()  # cells of data-table rows: inline, joined by a space (see _is_data_row)

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if event == "start":
            if tag in skip_tags:
                walker.skip_subtree()
                continue
            is_block = tag in block_tags
            if row_cells and is_block and el in row_cells:
                is_block = False
                if buf:
                    buf.append(" ")
            if (is_block or tag == "br") and buf:
                if has_text:
                    raw.append("".join(buf))
                    meta.append((tags[-1], href, chrome_depth > 0, marker, _link_raw(buf, link_span, links), link_chars))
                buf.clear()
                href, has_text, marker, link_span, link_len, link_chars = None, False, None, None, 0, 0
                flushes += 1
            if el.attrib or tag in chrome_tags:
                is_ad, is_chrome = _is_chrome_or_ad(el)
                if is_ad:
                    walker.skip_subtree()
                    ad_els.add(el)
                    continue
                if is_chrome:
                    if buf:
                        if has_text:
                            raw.append("".join(buf))
                            meta.append((tags[-1], href, chrome_depth > 0, marker, _link_raw(buf, link_span, links), link_chars))
                        buf.clear()
                        href, has_text, marker, link_span, link_len, link_chars = None, False, None, None, 0, 0
                        flushes += 1
                    chrome_els.add(el)
                    chrome_depth += 1
            if is_block:
                tags.append(tag)
                if tag == "li":
                    if counters and counters[-1] >= 0:
                        counters[-1] += 1
                        pending_marker = f"{counters[-1]}."
                    else:
                        pending_marker = "•"
                elif tag == "ol":
                    start = el.get("start")
                    counters.append(int(start) - 1 if start and start.isdigit() else 0)
                elif tag == "ul":
                    counters.append(-1)
                elif tag == "tr" and _is_data_row(el):
                    row_cells.update(el)
            elif tag == "a":
                hrefs.append(el.get("href"))
                anchor_starts.append((len(buf), flushes))
            text = el.text
        else:
            if tag in skip_tags:
                text = el.tail
            elif el in ad_els:
                ad_els.discard(el)
                text = el.tail
            else:
                is_block = tag in block_tags
                if row_cells and is_block and el in row_cells:
                    is_block = False
                if is_block or el in chrome_els:
                    if buf:
                        if has_text:
                            raw.append("".join(buf))
                            meta.append((tags[-1], href, chrome_depth > 0, marker, _link_raw(buf, link_span, links), link_chars))
                        buf.clear()
                        href, has_text, marker, link_span, link_len, link_chars = None, False, None, None, 0, 0
                        flushes += 1
                    if is_block and len(tags) > 1:
                        tags.pop()
                    if (tag == "ol" or tag == "ul") and counters:
                        counters.pop()
                    elif tag == "li":
                        pending_marker = None
                    if el in chrome_els:
                        chrome_els.discard(el)
                        chrome_depth -= 1
                if tag == "a" and hrefs:  # also for a chrome `<a class="logo">`: its href must not leak on
                    start_at, start_flushes = anchor_starts.pop()
                    if start_flushes == flushes and hrefs[-1] is not None:
                        length = len("".join(buf[start_at:]).strip())
                        if length > link_len:
                            link_len, link_span, href = length, (start_at, len(buf)), hrefs[-1]
                    hrefs.pop()
                text = el.tail
        if text:
            if not has_text and not text.isspace():
                has_text = True
                href = hrefs[-1] if hrefs else None
                marker, pending_marker = pending_marker, None
            elif href is None and hrefs and not text.isspace():
                href = hrefs[-1]  # `<span>2025-05-16</span> <a>标题</a>`: the block's link comes second
            if hrefs and hrefs[-1] is not None:
                link_chars += len(text)
            buf.append(text)
    if buf and has_text:
        raw.append("".join(buf))
        meta.append((tags[-1], href, chrome_depth > 0, marker, _link_raw(buf, link_span, links), link_chars))
    texts = normalize_many(raw + links) if links else normalize_many(raw)
    n = len(raw)
    # A block that is one link to a place on the same page (`<a href="#zz">2 症状</a>`) is a table of
    # contents entry, one link to a member profile a user name: navigation, never answer text.
    return [Block(text, tag, link, chrome or (link is not None and li < 0 and (
                      (link[:1] == "#" and len(link) > 1) or PROFILE_HREF.search(link) is not None)),
                  mark, texts[n + li] if li >= 0 else None, min(chars, len(text)))
            for text, (tag, link, chrome, mark, li, chars) in zip(texts, meta, strict=False) if text]


def _link_raw(buf: list[str], span: tuple[int, int] | None, links: list[str]) -> int:
    """Index in `links` of the raw text of the block's own anchor, or -1 when the anchor is the
    whole block (the common case: nothing to separate) or its extent is unknown."""
    if span is None or (span[0] == 0 and span[1] == len(buf)):
        return -1
    links.append("".join(buf[span[0]:span[1]]))
    return len(links) - 1
