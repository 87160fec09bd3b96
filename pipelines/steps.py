"""Composable ETL steps (datatrove style): each step takes an iterable of items and yields items.

Every drop carries a reason: the step bumps a namespaced counter (`raw/skipped/http_404`,
`parse/quarantined/empty_input`, …) and, for inputs that are bad rather than merely out of scope,
emits a quarantine row through the shared `StepContext`. Nothing disappears silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

Step = Callable[[Iterable[Any], "StepContext"], Iterator[Any]]


@dataclass
class StepContext:
    """Counters and the quarantine sink shared by the steps of one run over one shard."""

    source: str
    counters: Counter = field(default_factory=Counter)
    quarantine: list[dict] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n

    def reject(self, reason: str, detail: str, *, url: str | None, raw_ref: str | None,
               seen_at: datetime | None) -> None:
        """Quarantine one input with its reason (and count it under the same key)."""
        self.counters[reason] += 1
        self.quarantine.append({"source": self.source, "url": url, "reason": reason, "detail": detail,
                                "raw_ref": raw_ref, "seen_at": seen_at})


def run_steps(items: Iterable[Any], steps: list[Step], ctx: StepContext) -> Iterator[Any]:
    """Chain the steps lazily: items flow one at a time, so memory stays per-record."""
    stream: Iterable[Any] = items
    for step in steps:
        stream = step(stream, ctx)
    return iter(stream)


# --- steps of one raw shard: WARC records -> parse records ------------------------------------

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


XML_TYPES = ("application/xml", "text/xml")


def _crawler_document(url: str | None, ctype: str) -> str | None:
    """`robots_txt` / `xml_document` for the files every crawl fetches besides pages (robots.txt,
    sitemaps, feeds): archived for the record, never articles, and not bad input either."""
    if url and urlsplit(url).path == "/robots.txt":
        return "robots_txt"
    if ctype.startswith(XML_TYPES) or (ctype.endswith("+xml") and ctype != "application/xhtml+xml"):
        return "xml_document"
    return None


def select_pages(records: Iterable[Any], ctx: StepContext) -> Iterator[Any]:
    """Keep 2xx HTML/text `response` records; count or quarantine everything else.

    Out of scope (counted only): warcinfo/request/metadata records, revisits (304: content
    unchanged, nothing to parse), non-2xx responses (`raw/skipped/http_<status>`), robots.txt
    and XML documents such as sitemaps (`raw/skipped/robots_txt`, `raw/skipped/xml_document`). Bad inputs
    (quarantined): empty 2xx bodies, binary payloads, unsupported content types.
    """
    for rec in records:
        ctx.count(f"raw/records/{rec.record_type}")
        if rec.record_type == "revisit":
            ctx.count("raw/skipped/revisit")
            continue
        if rec.record_type != "response":
            continue
        ctx.count("raw/pages_read")
        ref = rec.ref(ctx.source)
        if rec.status is None or not 200 <= rec.status < 300:
            ctx.count(f"raw/skipped/http_{rec.status}")
            continue
        ctype = (rec.content_type or "").split(";")[0].strip().lower()
        non_page = _crawler_document(rec.url, ctype)
        if non_page:
            ctx.count(f"raw/skipped/{non_page}")  # expected on every crawl: counted, not quarantined
            continue
        if ctype and not ctype.startswith(HTML_TYPES):
            ctx.reject("raw/unsupported_content_type", f"content type {ctype!r} is not HTML/text",
                       url=rec.url, raw_ref=ref, seen_at=rec.date)
            continue
        if not rec.payload.strip():
            ctx.reject("raw/empty_body", "2xx response with an empty body", url=rec.url, raw_ref=ref,
                       seen_at=rec.date)
            continue
        if b"\x00" in rec.payload[:4096]:
            ctx.reject("raw/binary_payload", f"NUL bytes in a {ctype or 'untyped'} body", url=rec.url,
                       raw_ref=ref, seen_at=rec.date)
            continue
        yield rec


# Parser verdicts that mean "a real page, but not an article": navigation pages (home, listing,
# search) and XML documents (sitemaps, feeds). They are expected on every crawl, so they are
# counted under parse/dropped/<reason> rather than quarantined as bad input.
NON_ARTICLE_ERRORS = ("listing_page", "not_a_page")


def _non_article_reason(record: dict) -> str | None:
    errs = record.get("errors") or []
    return next((e for e in NON_ARTICLE_ERRORS if e in errs), None)


# Parser errors that mean "no usable page" (anything else is kept as a warning in parse_errors).
def _fatal_parse_problem(record: dict) -> str | None:
    if not (record.get("title") or "").strip():
        errs = record.get("errors") or []
        return f"parse/no_title:{errs[0]}" if errs else "parse/no_title"
    if not (record.get("answer") or "").strip() and not record.get("related"):
        return "parse/empty_page"
    return None


def make_parse_step(parse_page: Callable[..., dict]) -> Step:
    """Step: RawRecord -> (RawRecord, parse record); pages without title/content are quarantined."""

    def parse_pages(records: Iterable[Any], ctx: StepContext) -> Iterator[Any]:
        for rec in records:
            try:
                record = parse_page(rec.payload, url=rec.url, content_type=rec.content_type, source=ctx.source)
            except Exception as exc:  # noqa: BLE001 - the parser promises not to raise; if it does, quarantine
                ctx.reject("parse/exception", f"{type(exc).__name__}: {exc}"[:500], url=rec.url,
                           raw_ref=rec.ref(ctx.source), seen_at=rec.date)
                continue
            non_article = _non_article_reason(record)
            if non_article:
                ctx.count(f"parse/dropped/{non_article}")
                continue
            problem = _fatal_parse_problem(record)
            if problem:
                reason, _, first_error = problem.partition(":")
                ctx.reject(reason, first_error or "page has no title or no content; errors="
                           + ",".join(record.get("errors") or []), url=rec.url,
                           raw_ref=rec.ref(ctx.source), seen_at=rec.date)
                continue
            ctx.count("parse/parsed")
            yield rec, record

    return parse_pages
