"""Page parser entry point: the bytes (or text) of one page -> one record (docs/datasets.md).

    decode (pipelines.decode) -> HTML or text dump? -> page object picked by the layout registry
    (pipelines.layouts) -> fields via the shared splitter (pipelines.split) -> kind / policy /
    ranking via `pipelines.extract.enrich` for the page and for every related item.

`parse_page` never raises on bad input: empty bytes, binary junk, broken HTML, a page without a
title or huge inputs give a record whose `errors` list says what went wrong (codes below), so the
ETL can quarantine it with a reason instead of crashing or silently dropping it.

Error codes: `empty_input`, `not_text`, `truncated_input`, `charset_mismatch:<codec>`,
`charset_guessed:gb18030`, `decode_replaced`, `html_repaired`, `html_unparseable`, `no_title`,
`no_answer`, `not_a_page` (an XML document such as a sitemap, or a robots.txt), `listing_page` (home / listing /
search page: a list of teasers, not a Q&A), `enrich_failed:<ExceptionName>`, `parser_error:<ExceptionName>` (a bug: report it).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

from pipelines.blocks import count_control_bytes, looks_like_html, parse_html
from pipelines.decode import MAX_INPUT_BYTES, decode_bytes
from pipelines.extract import enrich
from pipelines.layouts import Document, page_for
from pipelines.lines import match_meta
from pipelines.patterns.layout import PREAMBLE_START, ROBOTS_DIRECTIVE
from pipelines.related import RelatedRaw
from pipelines.split import strip_preamble

# Bump whenever the output for the same input can change (the ETL keys its parse cache on it).
EXTRACTOR_VERSION = "parse-1.5"

# Text inputs are capped like byte inputs (characters, not bytes; see pipelines.decode).
MAX_INPUT_CHARS = MAX_INPUT_BYTES
# An "answer" with this many `<category> <date>` teaser lines is a listing page, not an article
# (other navigation evidence: `PageSplit.looks_like_navigation`).
_LISTING_META_LINES = 3
_XML_START = re.compile(r"\s*<\?xml")
# Share of control / replacement characters in the first 4 KB above which input is "not text".
_NOT_TEXT_RATIO = 0.10


def _empty_record(source: str | None, url: str | None, errors: list[str]) -> dict[str, Any]:
    return {
        "source": source,
        "url": url,
        "title": None,
        "answer": "",
        "answer_paragraphs": [],
        "kind": "other",
        "published": None,
        "related": [],
        "ranking": None,
        "policy": None,
        "errors": errors,
        "extractor_version": EXTRACTOR_VERSION,
        "content_sha1": None,
    }


def _looks_binary(text: str, control_free: bool = False) -> bool:
    """Share of control / replacement characters in the first 4 KB above `_NOT_TEXT_RATIO`.

    `control_free`: the caller already knows the page has no C0 control bytes (one pass over
    the original UTF-8 bytes, shared with `parse_html`), so only U+FFFD needs counting.
    """
    head = text[:4096]
    if not head:
        return False
    junk = head.count("\ufffd")
    if not control_free:
        junk += count_control_bytes(head.encode("utf-8", "surrogatepass"))
    return junk / len(head) > _NOT_TEXT_RATIO


def _enrich(title: str, text: str, published: date | None, errors: list[str], *, memo: bool = True) -> dict[str, Any]:
    """Classify and extract entities; a failure there must not lose the page."""
    try:
        return enrich(title, text, published, memo=memo)
    except Exception as exc:  # noqa: BLE001 - recorded in `errors`, see module docstring
        code = f"enrich_failed:{type(exc).__name__}"
        if code not in errors:
            errors.append(code)
        return {"kind": "other", "policy": None, "ranking": None}


def _origin(url: str | None) -> str | None:
    """`scheme://host[:port]` of a page URL (None when it has none)."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _absolute(href: str, url: str, origin: str | None) -> str:
    """`urljoin(url, href)`, with the two common cases done without it (urljoin costs ~7 us, and
    a page has up to ~20 related links): absolute http(s) links and root-relative paths without
    dot segments, query or fragment."""
    if "?" in href or "#" in href:
        return urljoin(url, href)  # urljoin drops an empty query/fragment; keep its exact rules
    if href.startswith(("http://", "https://")):
        return href
    if origin and href.startswith("/") and not href.startswith("//") and "/." not in href:
        return origin + href
    return urljoin(url, href)


def _related_record(item: RelatedRaw, url: str | None, origin: str | None, errors: list[str]) -> dict[str, Any]:
    href = item.href
    if href and url:
        href = _absolute(href, url, origin)
    snippet = item.snippet
    if snippet[:1] in "本以" and PREAMBLE_START.match(snippet):
        # An excerpt of the linked article's text: its source preamble is boilerplate here too.
        snippet = strip_preamble(snippet)
    rec: dict[str, Any] = {
        "title": item.title,
        "snippet": snippet,
        "category": item.category,
        "date": item.date,
        "url": href or None,
    }
    info = _enrich(item.title, snippet, item.date, errors)
    kind = info.get("kind") or "other"
    rec["kind"] = kind
    if kind == "hospital_ranking":
        rec["ranking"] = info.get("ranking")
    elif kind == "policy":
        rec["policy"] = info.get("policy")
    return rec


def parse_page(
    content: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Parse one page (HTML or seed-format text dump) into a record; never raises on bad input."""
    errors: list[str] = []
    try:
        return _parse(content, url, content_type, source, errors)
    except Exception as exc:  # noqa: BLE001 - last-resort net: a bug must quarantine, not crash a crawl
        errors.append(f"parser_error:{type(exc).__name__}")
        return _empty_record(source, url, errors)


def _parse(content: bytes | str | None, url: str | None, content_type: str | None,
           source: str | None, errors: list[str]) -> dict[str, Any]:
    if not content:
        errors.append("empty_input")
        return _empty_record(source, url, errors)
    utf8: bytes | None = None  # original bytes, when they are exactly the UTF-8 of `text`
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        text, codec, decode_errors = decode_bytes(data, content_type)
        errors.extend(decode_errors)
        if codec == "utf-8" and not decode_errors and not count_control_bytes(data):
            utf8 = data  # libxml2 may read these bytes as they are (see parse_html)
    else:
        text = str(content)
        if len(text) > MAX_INPUT_CHARS:
            text = text[:MAX_INPUT_CHARS]
            errors.append("truncated_input")
    if _looks_binary(text, control_free=utf8 is not None):
        errors.append("not_text")
        return _empty_record(source, url, errors)
    if not text or text.isspace():  # no copy of the page, unlike `not text.strip()`
        errors.append("empty_input")
        return _empty_record(source, url, errors)
    if (_XML_START.match(text) or ROBOTS_DIRECTIVE.match(text)) and not looks_like_html(text):
        errors.append("not_a_page")  # sitemap, feed or other XML document; robots.txt
        return _empty_record(source, url, errors)

    root = parse_html(text, errors, utf8) if looks_like_html(text) else None
    page = page_for(Document(text=text, url=url, root=root, errors=errors))

    title = page.title()
    paragraphs = page.answer_paragraphs()
    published = page.published()
    related = page.related()
    if not title:
        errors.append("no_title")
    if page.looks_like_navigation():
        errors.append("listing_page")  # teasers or bare links under the title: not a Q&A
    elif not paragraphs:
        errors.append("no_answer")
    elif sum(1 for p in paragraphs if match_meta(p)) >= _LISTING_META_LINES:
        errors.append("listing_page")  # a list of article teasers (home, listing, search), not a Q&A
    answer = "\n".join(paragraphs)

    record = _empty_record(source, url, errors)
    origin = _origin(url) if related else None
    info = _enrich(title or "", answer, published, errors, memo=False)  # related items recur, answers do not
    record.update(
        title=title,
        answer=answer,
        answer_paragraphs=paragraphs,
        kind=info.get("kind") or "other",
        published=published,
        related=[_related_record(item, url, origin, errors) for item in related],
        ranking=info.get("ranking"),
        policy=info.get("policy"),
        content_sha1=hashlib.sha1(answer.encode("utf-8")).hexdigest() if answer else None,
    )
    return record
