"""The shared splitter: ordered text blocks -> title, answer, published date, related items.

Works on `Block`s from either an HTML page or a text dump, using only the text markers in
`pipelines.patterns.layout` (plus the `chrome` flag and link targets HTML gives us). A page of
this family reads, top to bottom:

    [chrome/nav]  title  [published line]  [source preamble]  answer paragraphs...
    [disclaimer + its follow-up sentences]  [大家都在搜 ...]  相关推荐
    (item title, [snippet lines], `<category> <date>`)*   [footer noise]

The answer is everything between the title and the first end marker (disclaimer, 大家都在搜,
related heading or footer line) minus chrome, noise lines and the preamble sentences. Related items
are groups of blocks each closed by a `<category> <date>` meta line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipelines.blocks import Block
from pipelines.patterns.layout import (
    ALSO_SEARCHED,
    ANSWER_HEADING,
    ANSWER_LABEL,
    ANSWERER_LINE,
    BREADCRUMB,
    CATEGORY_ONLY,
    CHROME_LINE,
    DATE_FIELD_LINE,
    DISCLAIMER,
    DISCLAIMER_EN,
    DISCLAIMER_INLINE,
    FOOTER_ANYWHERE,
    FOOTER_LINE,
    ITEM_CATEGORY_PREFIX,
    LOOSE_META_LINE,
    META_CATEGORY,
    META_EXTRA,
    META_ISO_LINE,
    META_LABEL_LEAD,
    META_LABEL_TAIL,
    META_SEPARATORS,
    META_TIME,
    NOISE_LINE,
    PREAMBLE_SENTENCE,
    PREAMBLE_START,
    PUBLISHED_FIELD,
    PUBLISHED_LINE,
    QUESTION_LABEL,
    RELATED_HEADING,
    REPRINT_NOTICE,
    SECTION_HEADING,
    SENTENCE_END,
    TITLE_LABEL,
    TRAILING_DATE,
    TRAILING_LOOSE_DATE,
    YEARLESS_DATE,
    first_chars,
)
from pipelines.text import DATE_RE, EN_DATE_RE, date_of_match, find_date, normalize_text, parse_date

# How many blocks under the title may hold the page's own date line.
_PUBLISHED_WINDOW = 3
_PUBLISHED_MAX_LEN = 80
_PUBLISHED_ABOVE = 2  # ... or this many blocks above it
# An unlabelled related list: this many consecutive (linked title, ..., meta line) groups, each
# with at most this many blocks between the title and its meta line.
_TEASER_RUN = 2
_TEASER_MAX_LINES = 3
# Section headings and nav noise are short; longer blocks skip those regexes entirely.
_MARKER_MAX_LEN = 24
_NOISE_MAX_LEN = 60
_CHROME_LINE_MAX_LEN = 100
# A related item without any date must at least look like a title, not a nav link (`问医生`, `Sign in`).
_UNDATED_TITLE_MIN_CHARS = 5
_UNDATED_TITLE_MIN_WORDS = 3
# A line of several short links (a tab bar) is navigation: its first link is at most this long.
_NAV_LINK_MAX_CHARS = 6
# Text beside a related title's link that is only a rank number or badge (`1`, `NEW`, `热`).
_ITEM_BADGE_MAX_CHARS = 3
# Title fallback when the only <title> is a short bare name: the first h1-h3 among the first blocks.
_SITE_NAME_MAX_CHARS = 12
_TITLE_SCAN_BLOCKS = 12
_TITLE_TAGS = frozenset(("h1", "h2", "h3"))
_TITLE_MAX_LEN = 120
_TITLE_END = "?!。 "
# Last character of any loose related date (`05-16`, `5月16日`, `3天前`, `昨天`, `刚刚`, `2 days ago`,
# `yesterday`, `just now`, `)` after a bracketed one).
_LOOSE_DATE_LAST_CHARS = frozenset("0123456789日前天刚owyWY)]")


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
_HEADING_FIRST = _union_first(ALSO_SEARCHED, RELATED_HEADING, SECTION_HEADING)
_ANSWER_LINE_FIRST = _union_first(ANSWER_HEADING, DATE_FIELD_LINE)
_QUESTION_FIRST = _union_first(QUESTION_LABEL)


@dataclass(slots=True)
class RelatedRaw:
    """A related item as found on the page (before classification)."""

    title: str
    snippet: str
    category: str | None
    date: date | None
    href: str | None


@dataclass(slots=True)
class PageSplit:
    title: str | None = None
    answer_paragraphs: list[str] = field(default_factory=list)
    published: date | None = None
    related: list[RelatedRaw] = field(default_factory=list)
    end_reason: str = "end_of_page"


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
    m = DATE_RE.search(text) or (EN_DATE_RE.search(text) if not _has_cjk(text) else None)
    if m is None:
        return None
    before = _meta_part(text[: m.start()])
    after = _meta_part(META_TIME.sub("", text[m.end():], count=1))
    if before and after:
        return None
    category = before or after
    if category and not META_CATEGORY.match(category):
        return None
    day = date_of_match(m)
    return (category or None, day) if day else None


def _has_cjk(text: str) -> bool:
    """Any character beyond Latin / general punctuation (CJK text never holds an English date)."""
    return any(ord(c) >= 0x2E80 for c in text)


def match_loose_meta(text: str, year_hint: date | None = None) -> tuple[str | None, date | None] | None:
    """A related item's meta line whose date has no year (`05-16`, `医保 5月16日`) or is relative
    (`3天前`, `昨天`, `2 days ago`) -> (category, date or None).

    A missing year is taken from the page's own date (`year_hint`; the year before when the day
    would lie after it); without a hint, and for relative dates, the date is unknown (None) but
    the line still closes the item.
    """
    if len(text) > 24 or text[-1:] not in _LOOSE_DATE_LAST_CHARS:
        return None  # (cheap guard: the regex costs ~3 us and runs on most short related-list lines)
    m = LOOSE_META_LINE.match(text)
    if m is None:
        return None
    category = _meta_part(m["cat"] or "") or None
    if category and not META_CATEGORY.match(category):
        return None
    return category, _loose_date(m["date"], year_hint)


def _loose_date(text: str, year_hint: date | None) -> date | None:
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


def is_noise(text: str) -> bool:
    """Navigation / widget line: nav words, breadcrumb, prev/next link, share bar, tag cloud, app
    prompt, reprint notice."""
    if len(text) > _CHROME_LINE_MAX_LEN:
        return False
    if "转载" in text and REPRINT_NOTICE.search(text):
        return True
    if text[:1] not in _NOISE_FIRST:
        return False
    if len(text) <= _NOISE_MAX_LEN and (NOISE_LINE.match(text) is not None or BREADCRUMB.match(text) is not None):
        return True
    return CHROME_LINE.match(text) is not None


def strip_preamble(text: str) -> str:
    """Drop the leading source-preamble sentences of a block; return what is left (maybe "")."""
    sentences = [s for s in SENTENCE_END.split(text) if s]
    while sentences and PREAMBLE_SENTENCE.search(sentences[0]):
        sentences.pop(0)
    return normalize_text("".join(sentences))


def _find_title(blocks: list[Block], hints: list[str]) -> tuple[str | None, int]:
    """(title, index of its block or -1).

    Hints (every h1, then <title> and its suffix-stripped forms) win when a content block equals
    one; next a content block the <title> starts with; only then chrome blocks (a logo `<h1>` in
    the header must not beat the question); else the most-stripped <title>.
    Text dumps have no hints: the first content line is the title.
    """
    if hints:
        for hint in hints:
            for i, b in enumerate(blocks):
                if b.text == hint and not b.chrome:
                    return hint, i
        shortest = hints[-1]
        for i, b in enumerate(blocks):
            if not b.chrome and len(b.text) >= 0.6 * len(shortest) and any(h.startswith(b.text) for h in hints):
                return b.text, i
        # The question shown with a `问` / `Q:` badge or without its `?` (`<span>问</span>医保…可以吗?`).
        plain = {h.rstrip(_TITLE_END) for h in hints}
        cores = {_title_core(h) for h in hints}
        for i, b in enumerate(blocks[:_TITLE_SCAN_BLOCKS * 4]):
            if b.chrome or len(b.text) > _TITLE_MAX_LEN:
                continue
            if b.text.rstrip(_TITLE_END) in plain:
                return b.text, i
            if _title_core(b.text) in cores:
                return TITLE_LABEL.sub("", b.text, count=1), i
        for hint in hints:
            for i, b in enumerate(blocks):
                if b.text == hint:
                    return hint, i
        if len(hints) == 1 and len(shortest) <= _SITE_NAME_MAX_CHARS:
            # A bare, short <title> that no block confirms is the site or channel name (`医保问答`):
            # the question is the first content heading above the answer text.
            for i, b in enumerate(blocks[:_TITLE_SCAN_BLOCKS]):
                if len(b.text) > _NOISE_MAX_LEN:
                    break
                if b.tag in _TITLE_TAGS and not b.chrome and not is_noise(b.text) and _end_marker(b.text) is None:
                    return b.text, i
        return shortest, -1
    for i, b in enumerate(blocks):
        if not b.chrome and not is_noise(b.text):
            return b.text, i
    return None, -1


def _title_core(text: str) -> str:
    """A title without a leading question badge (`问`, `问:`, `Q:`) and trailing `?` / `。`."""
    return TITLE_LABEL.sub("", text, count=1).rstrip(_TITLE_END)


def _end_marker(text: str) -> str | None:
    """Which section marker `text` is, if any. Cheap substring tests guard the regexes: this runs
    on every answer paragraph and most paragraphs are long and marker-free."""
    if ("提示" in text or "声明" in text or "聲明" in text) and (DISCLAIMER.match(text) or DISCLAIMER_INLINE.search(text)):
        return "disclaimer"
    if text[:1] in "DdNnTt" and DISCLAIMER_EN.match(text):
        return "disclaimer"
    if len(text) <= _MARKER_MAX_LEN and text[:1] in _HEADING_FIRST:
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


def _inline_disclaimer_cut(text: str) -> int:
    """Position where a disclaimer starts inside a block glued to the answer, or -1."""
    m = DISCLAIMER_INLINE.search(text)
    return m.start() if m and m.start() > 0 else -1


def is_published_line(text: str) -> bool:
    """A short line under the title that carries the page's own date: `发布时间:…`, `健康新闻
    2025-05-16`, or a date among article fields (`作者:李明 发布日期:2025-05-16 点击:905`)."""
    if len(text) > _PUBLISHED_MAX_LEN or any(c in text for c in "。!?;") or ("," in text and _has_cjk(text)):
        return False  # a sentence (`2025年1月1日起,个人账户划入比例调整…`) is answer text, not a date line
    if PUBLISHED_LINE.match(text) or match_meta(text):
        return True
    return PUBLISHED_FIELD.search(text) is not None and find_date(text) is not None


def split_blocks(blocks: list[Block], *, title_hints: list[str] | None = None,
                 published_hint: date | None = None) -> PageSplit:
    """Split a page's blocks into its parts (see module docstring). `published_hint`: the page's
    date from metadata, the year of related dates written without one (`05-16`)."""
    out = PageSplit()
    out.title, title_idx = _find_title(blocks, [h for h in (title_hints or []) if h])
    i = title_idx + 1
    n = len(blocks)

    # The page's own date: a short date line right under the title.
    published_idx = -1
    for j in range(i, min(i + _PUBLISHED_WINDOW, n)):
        if is_published_line(blocks[j].text):
            out.published = find_date(blocks[j].text)
            published_idx = j
            break
    else:
        # Some templates put the date line just ABOVE the title.
        for j in range(title_idx - 1, max(title_idx - 1 - _PUBLISHED_ABOVE, -1), -1):
            if not blocks[j].chrome and not blocks[j].href and is_published_line(blocks[j].text):
                out.published = find_date(blocks[j].text)
                break

    out.answer_paragraphs, i, out.end_reason = collect_answer(
        blocks, i, title=out.title, skip_index=published_idx
    )
    paragraphs = out.answer_paragraphs
    if paragraphs and title_idx >= 0 and blocks[title_idx].text != out.title:
        # the title wore a `问` badge: the answer's `答` / `A:` badge goes too
        first = ANSWER_LABEL.sub("", paragraphs[0], count=1)
        if first:
            paragraphs[0] = first
    start = related_start(blocks, i)
    stop = n
    if start < 0 and title_idx > 0:
        # A related list in a sidebar placed BEFORE the article in the markup: search above the title.
        start, stop = related_start(blocks, 0, stop=title_idx, labelled_only=True), title_idx
    if start >= 0:
        out.related = parse_related(blocks[start:stop], year_hint=out.published or published_hint)
    return out


def related_start(blocks: list[Block], start: int = 0, *, stop: int | None = None,
                  labelled_only: bool = False) -> int:
    """Index of the first related item in `blocks[start:stop]`: right after a related heading, else
    the first unlabelled teaser list (`starts_teaser_list`) above any other section heading (a
    dated list under `热门文章` is not related); -1 when there is none."""
    n = len(blocks) if stop is None else stop
    heading = next((k for k in range(start, n) if blocks[k].text[:1] in _HEADING_FIRST
                    and RELATED_HEADING.match(blocks[k].text)), -1)
    if heading >= 0:
        return heading + 1
    if labelled_only:
        return -1
    for k in range(start, n):
        b = blocks[k]
        if not b.chrome and starts_teaser_list(blocks, k):
            return k
        if len(b.text) <= _MARKER_MAX_LEN and b.text[:1] in _HEADING_FIRST and SECTION_HEADING.match(b.text):
            return -1
    return -1


def starts_teaser_list(blocks: list[Block], i: int) -> bool:
    """Does a list of related items WITHOUT a heading start at `blocks[i]`?

    Evidence: `_TEASER_RUN` consecutive groups, each a short linked title followed within
    `_TEASER_MAX_LINES` blocks by a `<category> <date>` meta line (or the date on the title line
    itself). An answer paragraph with a link is not followed by such a rhythm, and neither is a
    single "see also" link. Only called on linked blocks, so it costs nothing on plain answers.
    """
    n = len(blocks)
    for _ in range(_TEASER_RUN):
        if i >= n or not blocks[i].href or len(blocks[i].text) > _NOISE_MAX_LEN:
            return False
        one_line = TRAILING_DATE.match(blocks[i].text)
        if one_line and date_of_match(one_line):
            i += 1
            continue
        for j in range(i + 1, min(i + 1 + _TEASER_MAX_LINES, n)):
            if match_meta(blocks[j].text) is not None:
                i = j + 1
                break
        else:
            return False
    return True


def collect_answer(
    blocks: list[Block], start: int = 0, *, title: str | None = None, skip_index: int = -1
) -> tuple[list[str], int, str]:
    """Answer paragraphs from `blocks[start:]` up to the first end marker.

    Returns (paragraphs, index of the end-marker block or len(blocks), end reason); an unlabelled
    related list (`starts_teaser_list`) also ends the answer (reason `related_list`). Chrome, noise
    lines, a repeated title, the block at `skip_index` (the published line), labelled date lines,
    an answerer byline and the leading source-preamble sentences are left out; a disclaimer glued
    to the end of a paragraph is cut off. Markers inside chrome (a sidebar's `相关推荐` or `热门文章`,
    a header's `关于我们`) end the answer only once it has begun: sidebars often come first in the
    markup. On Q&A pages an answer heading (`最佳答案`, `医生回答`) after a question description
    (`问题描述:…`) restarts the answer: the description is the question, not the answer.
    """
    answer: list[str] = []
    i, n = start, len(blocks)
    seen_question = False
    while i < n:
        b = blocks[i]
        text = b.text
        if b.href and not b.chrome and starts_teaser_list(blocks, i):
            return answer, i, "related_list"  # related items without a heading
        marker = _end_marker(text)
        if marker == "section" and not answer and not b.chrome:
            marker = None  # `最新文章` right under a listing page's name: its teasers decide (listing_page)
        elif marker == "disclaimer" and not answer and _inline_disclaimer_cut(text) <= 0:
            i += 1  # a disclaimer ABOVE the answer (some sites put it first): skip it, not the answer
            continue
        if marker and not (b.chrome and not answer):
            cut = _inline_disclaimer_cut(text) if marker == "disclaimer" else -1
            if cut > 0 and not b.chrome:
                head = normalize_text(text[:cut])
                if head:
                    answer.append(head)
            return answer, i, marker
        i += 1
        if b.chrome or marker or i - 1 == skip_index or is_noise(text) or text == title:
            continue
        if len(text) <= _NOISE_MAX_LEN and text[:1] in _ANSWER_LINE_FIRST:
            heading = ANSWER_HEADING.match(text) if len(text) <= _MARKER_MAX_LEN else None
            if heading is not None:
                if seen_question or not (heading["weak"] or heading["weak_en"]):
                    answer.clear()  # what came before was the question (description), not the answer
                    seen_question = False
                continue
            if DATE_FIELD_LINE.match(text):
                continue
        if len(text) <= _NOISE_MAX_LEN and "师" in text and ANSWERER_LINE.match(text):
            continue
        if text[:1] in _QUESTION_FIRST and QUESTION_LABEL.match(text):
            seen_question = True
        if not answer and PREAMBLE_START.match(text):
            text = strip_preamble(text)
            if not text:
                continue
        if b.marker and not text.startswith(b.marker):
            text = f"{b.marker} {text}"
        answer.append(text)
    return answer, n, "end_of_page"


def parse_related(blocks: list[Block], *, year_hint: date | None = None) -> list[RelatedRaw]:
    """Group blocks into related items, each group closed by a `<category> <date>` meta line.

    Also: a linked title with its date (and category) on the same line is a whole item; a new
    link (another href) after a linked title starts a new item even when the previous one had no
    date; a list whose first line is a date carries each date on to the title after it; loose
    dates (`05-16`, `3天前`) close items too (`match_loose_meta`). The list ends at a footer,
    another section heading (comments, hot lists), the disclaimer once items exist, or where the
    page leaves the list's region (items in the content, then a chrome sidebar, or the reverse).
    Length guards keep the marker regexes off the long snippet blocks.
    """
    items: list[RelatedRaw] = []
    group: list[Block] = []
    date_first: tuple[str | None, date | None] | None = None  # pending (category, date) in date-first lists
    region: bool | None = None  # chrome flag of the first item's title

    def close(category: str | None, day: date | None) -> None:
        nonlocal region
        if group and (day is not None or category is not None or _title_like(group[0])):
            if region is None:
                region = group[0].chrome
            items.append(_make_item(group, category, day))
        group.clear()

    for k, b in enumerate(blocks):
        text = b.text
        short = len(text) <= _NOISE_MAX_LEN
        if short:
            meta = match_meta(text) if len(text) <= 40 else None
            if meta is None and len(text) <= 24 and text[-1:] in _LOOSE_DATE_LAST_CHARS:
                meta = match_loose_meta(text, year_hint)
            if meta is not None and b.href and b.link_text and not group and date_first is None:
                meta = None  # the anchor's own text is known: `_linked_line` below splits title and meta
            if meta is not None and b.href and not group and meta[0] and date_first is None:
                # `<a>标题</a><span>2025-05-16</span>` in one block: a whole item, the "category" is its title
                title = b.link_text or meta[0]
                items.append(RelatedRaw(title, "", None, meta[1], b.href))
                region = b.chrome if region is None else region
                continue
            if meta is not None:
                category, day = meta
                if date_first is None and not group and not items and k + 1 < len(blocks) \
                        and _meta_of(blocks[k + 1].text, year_hint) is None:
                    date_first = (category, day)  # the list opens with a date: it comes BEFORE each title
                    continue
                if date_first is not None:
                    close(*date_first)
                    date_first = (category, day)
                    continue
                if category is None and len(group) >= 2 and CATEGORY_ONLY.match(group[-1].text):
                    category = group.pop().text
                close(category, day)
                continue
            if is_noise(text):
                continue
            heading_like = len(text) <= _MARKER_MAX_LEN and text[:1] in _HEADING_FIRST
            if heading_like and RELATED_HEADING.match(text):  # a second related list (`相关推荐` then `延伸阅读`)
                if items and region is not None and b.chrome != region:
                    break  # ... in another region (a sidebar's `热门推荐` after the article's list): not ours
                _attach_snippet(items, group)
                if group and group[0].href:
                    close(*(date_first or (None, None)))
                group.clear()
                date_first, region = None, None
                continue
            if k and heading_like and SECTION_HEADING.match(text):
                break  # (a list may start AT its own section heading: a listing page's `最新文章`)
        if is_footer(text):
            break
        if (short and text[:1] in _HEADING_FIRST and ALSO_SEARCHED.match(text)) or (("提示" in text or "声明" in text or "聲明" in text) and DISCLAIMER.match(text)):
            if items:
                break
            group.clear()
            continue
        if items and region is not None and b.chrome != region and not group:
            break  # left the list's region (content list -> sidebar / footer, sidebar -> article)
        if b.link_text and len(text) <= _MARKER_MAX_LEN and len(b.link_text) <= _NAV_LINK_MAX_CHARS \
                and 2 * len(b.link_text) < len(text) and _linked_line(b, year_hint) is None:
            if items or group:
                break  # a bar of short links (`首页 问医生 我的`): the list is over
            continue
        if b.href and group and not group[0].href:
            _attach_snippet(items, group)  # `title / meta / snippet` order: the snippet was the previous item's
        if b.href and short:
            linked = _linked_line(b, year_hint)
            if linked is not None and date_first is None:
                if group and group[0].href:  # the previous linked title had no date line
                    close(None, None)
                items.append(linked)
                region = b.chrome if region is None else region
                group.clear()
                continue
            if group and group[0].href and b.href != group[0].href and date_first is None:
                close(None, None)  # a new link: the previous linked title had no date line
        group.append(b)
    # A trailing linked title without a meta line is still an item (its date is unknown).
    _attach_snippet(items, group)
    if group and (group[0].href or date_first is not None):
        close(*(date_first or (None, None)))
    return items


def _attach_snippet(items: list[RelatedRaw], group: list[Block]) -> None:
    """Unlinked text after a linked item's meta line and before the next link is that item's
    snippet (`title / meta / snippet` layouts); moved out of `group` into the previous item."""
    if group and not group[0].href and items and items[-1].href and not items[-1].snippet:
        items[-1].snippet = " ".join(b.text for b in group)
        group.clear()


def _meta_of(text: str, year_hint: date | None) -> tuple[str | None, date | None] | None:
    """A meta line with a full date (`match_meta`), else one with a loose date (`match_loose_meta`)."""
    meta = match_meta(text) if len(text) <= 40 else None
    if meta is None and len(text) <= 24:
        return match_loose_meta(text, year_hint)
    return meta


def _title_like(b: Block) -> bool:
    """Could this linked block be a related title on its own (no date, no category)?"""
    text = b.text
    if not b.href or is_noise(text):
        return False
    if text.isascii():
        return len(text.split()) >= _UNDATED_TITLE_MIN_WORDS
    return len(text) >= _UNDATED_TITLE_MIN_CHARS


def _linked_line(b: Block, year_hint: date | None) -> RelatedRaw | None:
    """A linked title with its date (and maybe a category) on the same line, as one item.

    With the anchor's own text known (`Block.link_text`) the title is exactly the link and what
    surrounds it must be a meta line (`[医保]标题04-19`, `标题 健康新闻 2025-05-16`); otherwise the
    date must end the line (`标题 (2025/5/15)`, `Title May 16, 2025`, `标题 3天前`).
    """
    text, link = b.text, b.link_text
    if link and link in text:
        at = text.index(link)
        before, after = text[:at].strip(), text[at + len(link):].strip(" |·•()[]")
        category = None
        prefix = ITEM_CATEGORY_PREFIX.fullmatch(before) if before else None
        if prefix:
            category, rest = prefix[1], after
        elif len(before) <= _ITEM_BADGE_MAX_CHARS:
            rest = after  # a rank number or badge before the link (`1.`, `热`)
        else:
            rest = f"{before} {after}".strip(" |·•()[]")
        if rest:
            meta = _meta_of(rest, year_hint)
            if meta is not None:
                return RelatedRaw(link, "", meta[0] or category, meta[1], b.href)
        return None
    one_line = TRAILING_DATE.match(text)
    if one_line:
        day = date_of_match(one_line)
        if day:
            return RelatedRaw(one_line["title"], "", None, day, b.href)
    loose = TRAILING_LOOSE_DATE.match(text) if text[-1:] in _LOOSE_DATE_LAST_CHARS else None
    if loose:
        return RelatedRaw(loose["title"], "", None, _loose_date(loose["date"], year_hint), b.href)
    return None


def _make_item(group: list[Block], category: str | None, day: date | None) -> RelatedRaw:
    title_block = group[0]
    snippet = " ".join(b.text for b in group[1:])  # block texts are already normalized
    title, link = title_block.text, title_block.link_text
    if link and link != title:
        # `<span>1</span><a>标题</a>`, `<i>热</i><a>标题</a>`, `<a>[医保]</a><a>标题</a>`: the link is the title
        rest = title.replace(link, "", 1).strip()
        prefix = ITEM_CATEGORY_PREFIX.fullmatch(rest)
        if prefix:
            title, category = link, category or prefix[1]
        elif len(rest) <= _ITEM_BADGE_MAX_CHARS:
            title = link
    return RelatedRaw(title, snippet, category, day, title_block.href)


__all__ = ["Block", "PageSplit", "RelatedRaw", "split_blocks", "collect_answer", "parse_related", "related_start",
           "match_meta", "match_loose_meta", "strip_preamble", "parse_date", "is_published_line"]
