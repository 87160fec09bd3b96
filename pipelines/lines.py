"""What one text line of a page is: a `<category> <date>` meta line, navigation noise, a footer,
a section marker (disclaimer, 大家都在搜, related / other section heading), the page's own date line.

Shared by the answer splitter (`pipelines.split`) and the related-list parser (`pipelines.related`),
so both read a line the same way. Patterns live in `pipelines.patterns.layout`; the functions here
add the cheap guards (length limits, first-character gates) that keep the regexes off the long
answer paragraphs that make up most of a page.
"""

from __future__ import annotations

from datetime import date

from pipelines.patterns.layout import (
    ALSO_SEARCHED,
    ANSWER_HEADING,
    ATTACHMENT_LAST_CHARS,
    ATTACHMENT_LINE,
    BREADCRUMB,
    CHROME_LINE,
    DATE_FIELD_LINE,
    DISCLAIMER,
    DISCLAIMER_EN,
    DISCLAIMER_INLINE,
    FOOTER_ANYWHERE,
    FOOTER_LINE,
    GLUED_META_DATE,
    LOOSE_META_LINE,
    META_CATEGORY,
    META_EXTRA,
    META_ISO_LINE,
    META_LABEL_LEAD,
    META_LABEL_TAIL,
    META_SEPARATORS,
    META_TIME,
    NOISE_LINE,
    PAGER_LEAD,
    PUBLISHED_FIELD,
    PUBLISHED_LINE,
    QUESTION_LABEL,
    RELATED_HEADING,
    REPRINT_NOTICE,
    SECTION_HEADING,
    YEARLESS_DATE,
    first_chars,
)
from pipelines.text import DATE_RE, EN_DATE_RE, date_of_match, find_date

# Section headings and nav noise are short; longer blocks skip those regexes entirely.
MARKER_MAX_LEN = 24

NOISE_MAX_LEN = 60

_CHROME_LINE_MAX_LEN = 100

_PUBLISHED_MAX_LEN = 80

# Last character of any loose related date (`05-16`, `5月16日`, `3天前`, `昨天`, `刚刚`, `2 days ago`,
# `yesterday`, `just now`, `)` after a bracketed one).
LOOSE_DATE_LAST_CHARS = frozenset("0123456789日前天刚owyWY)]")

class _AnyChar:
    """The gate of a pattern whose first character is unbounded: lets every line through."""

    def __contains__(self, item: object) -> bool:
        return True

def _union_first(*patterns) -> frozenset[str] | _AnyChar:
    """First characters any of `patterns` can start with (`_AnyChar()` when unbounded)."""
    sets = [first_chars(p) for p in patterns]
    return _AnyChar() if any(x is None for x in sets) else frozenset().union(*sets)

# First-character gates: one set lookup skips marker regexes a line cannot match (see first_chars).
_NOISE_FIRST = _union_first(NOISE_LINE, BREADCRUMB, CHROME_LINE)

HEADING_FIRST = _union_first(ALSO_SEARCHED, RELATED_HEADING, SECTION_HEADING)

ANSWER_LINE_FIRST = _union_first(ANSWER_HEADING, DATE_FIELD_LINE)

QUESTION_FIRST = _union_first(QUESTION_LABEL)

def match_meta(text: str) -> tuple[str | None, date] | None:
    """`健康新闻 2025-05-16` / `2025年05月16日` / `2025/5/16 健康新闻` -> (category, date), else None.

    Procedural on purpose: one date search, then checks on what surrounds it. An equivalent
    single regex with an optional lazy category prefix backtracks ~10x slower on title lines.
    """
    if len(text) > 40 or ("20" not in text and "19" not in text):
        return None
    fast = META_ISO_LINE.fullmatch(text)
    if fast is not None:
        try:
            return fast[1], date(int(fast[2]), int(fast[3]), int(fast[4]))
        except ValueError:
            return None
    return match_meta_general(text)

def match_meta_general(text: str) -> tuple[str | None, date] | None:
    """`match_meta` without its fast path for `<category> YYYY-MM-DD` (kept apart so a test can
    check that both agree)."""
    m = DATE_RE.search(text) or (EN_DATE_RE.search(text) if not has_cjk(text) else None)
    if m is None:
        m = GLUED_META_DATE.search(text) if text[-1:].isdigit() else None
        if m is None:
            return None
    before = text[: m.start()]
    if ":" in before:  # a video length / time of day in front of the date (`03:12 2025-05-06`)
        before = META_TIME.sub("", before, count=1)
    before = _meta_part(before)
    after = _meta_part(META_TIME.sub("", text[m.end():], count=1))
    if before and after:
        return None
    category = before or after
    if category and not META_CATEGORY.match(category):
        return None
    day = date_of_match(m)
    return (category or None, day) if day else None

def has_cjk(text: str) -> bool:
    """Any character beyond Latin / general punctuation (CJK text never holds an English date)."""
    return any(ord(c) >= 0x2E80 for c in text)

def match_loose_meta(text: str, year_hint: date | None = None) -> tuple[str | None, date | None] | None:
    """A related item's meta line whose date has no year (`05-16`, `医保 5月16日`) or is relative
    (`3天前`, `昨天`, `2 days ago`) -> (category, date or None).

    A missing year is taken from the page's own date (`year_hint`; the year before when the day
    would lie after it); without a hint, and for relative dates, the date is unknown (None) but
    the line still closes the item.
    """
    if len(text) > 24 or text[-1:] not in LOOSE_DATE_LAST_CHARS:
        return None  # (cheap guard: the regex costs ~3 us and runs on most short related-list lines)
    m = LOOSE_META_LINE.match(text)
    if m is None:
        return None
    category = _meta_part(m["cat"] or "") or None
    if category and not META_CATEGORY.match(category):
        return None
    return category, loose_date(m["date"], year_hint)

def loose_date(text: str, year_hint: date | None) -> date | None:
    m = YEARLESS_DATE.fullmatch(text)
    if m is None or year_hint is None:
        return None
    for year in (year_hint.year, year_hint.year - 1):
        try:
            day = date(year, int(m["m"]), int(m["d"]))
        except ValueError:
            return None
        if day <= year_hint:
            return day
    return None

def _meta_part(text: str) -> str:
    """A meta line's text beside its date without separators, field labels (`来源:`, `时间:`),
    weekday and view counters (`星期五`, `阅读 1234`)."""
    text = text.strip(META_SEPARATORS)
    if text and ("星期" in text or "周" in text or any(c.isdigit() for c in text)):
        text = META_EXTRA.sub("", text).strip(META_SEPARATORS)
    return META_LABEL_LEAD.sub("", META_LABEL_TAIL.sub("", text)).strip(META_SEPARATORS) if text else text

def meta_of(text: str, year_hint: date | None) -> tuple[str | None, date | None] | None:
    """A meta line with a full date (`match_meta`), else one with a loose date (`match_loose_meta`)."""
    meta = match_meta(text) if len(text) <= 40 else None
    if meta is None and len(text) <= 24:
        return match_loose_meta(text, year_hint)
    return meta

def is_noise(text: str) -> bool:
    """Navigation / widget line: nav words, breadcrumb, prev/next link, share bar, tag cloud, app
    prompt, reprint notice, attachment download."""
    if len(text) > _CHROME_LINE_MAX_LEN:
        return False
    if "转载" in text and REPRINT_NOTICE.search(text):
        return True
    if "." in text and text[-1:] in ATTACHMENT_LAST_CHARS and ATTACHMENT_LINE.match(text):
        return True
    if text[:1] not in _NOISE_FIRST:
        return False
    if len(text) <= NOISE_MAX_LEN and (NOISE_LINE.match(text) is not None or BREADCRUMB.match(text) is not None):
        return True
    if text[:1].isdigit() and len(text) <= NOISE_MAX_LEN and NOISE_LINE.match(text.lstrip(PAGER_LEAD)) is not None:
        return True  # a pager row (`1 2 3 下一页 尾页`), a vote bar after its count (`12 已赞过 评论`)
    return CHROME_LINE.match(text) is not None

def end_marker(text: str) -> str | None:
    """Which section marker `text` is, if any. Cheap substring tests guard the regexes: this runs
    on every answer paragraph and most paragraphs are long and marker-free."""
    if ("提示" in text or "声明" in text or "聲明" in text) and (DISCLAIMER.match(text) or DISCLAIMER_INLINE.search(text)):
        return "disclaimer"
    if text[:1] in "DdNnTt" and DISCLAIMER_EN.match(text):
        return "disclaimer"
    if len(text) <= MARKER_MAX_LEN and text[:1] in HEADING_FIRST:
        if ALSO_SEARCHED.match(text):
            return "also_searched"
        if RELATED_HEADING.match(text):
            return "related_heading"
        if SECTION_HEADING.match(text):
            return "section"  # comments, other answers, hot / latest lists
    if is_footer(text):
        return "footer"
    return None

def is_footer(text: str) -> bool:
    return FOOTER_LINE.match(text) is not None or ("ICP" in text or "公网安备" in text) and \
        FOOTER_ANYWHERE.search(text) is not None

def inline_disclaimer_cut(text: str) -> int:
    """Position where a disclaimer starts inside a block glued to the answer, or -1."""
    m = DISCLAIMER_INLINE.search(text)
    return m.start() if m and m.start() > 0 else -1

def is_published_line(text: str) -> bool:
    """A short line under the title that carries the page's own date: `发布时间:…`, `健康新闻
    2025-05-16`, or a date among article fields (`作者:李明 发布日期:2025-05-16 点击:905`)."""
    if len(text) > _PUBLISHED_MAX_LEN or any(c in text for c in "。!?;") or ("," in text and has_cjk(text)):
        return False  # a sentence (`2025年1月1日起,个人账户划入比例调整…`) is answer text, not a date line
    if PUBLISHED_LINE.match(text) or match_meta(text):
        return True
    return PUBLISHED_FIELD.search(text) is not None and find_date(text) is not None
