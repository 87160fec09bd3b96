"""Related items (`相关推荐` and its many spellings): where the list starts and how its blocks group
into items (title, snippet, category, date, link).

Works on the same `Block`s as the answer splitter and reads lines through `pipelines.lines`. An item
is a linked title, optional snippet lines and a `<category> <date>` meta line, in any of the orders
sites use (meta after the title, date first, everything on one line, title / meta / snippet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipelines.blocks import Block
from pipelines.lines import (
    HEADING_FIRST,
    LOOSE_DATE_LAST_CHARS,
    MARKER_MAX_LEN,
    NOISE_MAX_LEN,
    is_footer,
    is_noise,
    loose_date,
    match_loose_meta,
    match_meta,
    meta_of,
)
from pipelines.patterns.layout import (
    ALSO_SEARCHED,
    CATEGORY_ONLY,
    DISCLAIMER,
    ITEM_CATEGORY_PREFIX,
    ITEM_COUNTER,
    RELATED_HEADING,
    SECTION_HEADING,
    TRAILING_DATE,
    TRAILING_LOOSE_DATE,
)
from pipelines.text import date_of_match

# An unlabelled related list: this many consecutive (linked title, ..., meta line) groups, each
# with at most this many blocks between the title and its meta line.
_TEASER_RUN = 2

_TEASER_MAX_LINES = 3

# A related item without any date must at least look like a title, not a nav link (`问医生`, `Sign in`).
_UNDATED_TITLE_MIN_CHARS = 5

_UNDATED_TITLE_MIN_WORDS = 3

# A line of several short links (a tab bar) is navigation: its first link is at most this long.
_NAV_LINK_MAX_CHARS = 6

# Text beside a related title's link that is only a rank number or badge (`1`, `NEW`, `热`).
_ITEM_BADGE_MAX_CHARS = 3

@dataclass(slots=True)
class RelatedRaw:
    """A related item as found on the page (before classification)."""

    title: str
    snippet: str
    category: str | None
    date: date | None
    href: str | None

def related_start(blocks: list[Block], start: int = 0, *, stop: int | None = None,
                  labelled_only: bool = False) -> int:
    """Index of the first related item in `blocks[start:stop]`: right after a related heading, else
    the first unlabelled teaser list (`starts_teaser_list`) above any other section heading (a
    dated list under `热门文章` is not related); -1 when there is none."""
    n = len(blocks) if stop is None else stop
    heading = next((k for k in range(start, n) if blocks[k].text[:1] in HEADING_FIRST
                    and RELATED_HEADING.match(blocks[k].text)), -1)
    if heading >= 0:
        return heading + 1
    if labelled_only:
        return -1
    for k in range(start, n):
        b = blocks[k]
        if not b.chrome and starts_teaser_list(blocks, k):
            return k
        if len(b.text) <= MARKER_MAX_LEN and b.text[:1] in HEADING_FIRST and SECTION_HEADING.match(b.text):
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
        if i >= n or not blocks[i].href or len(blocks[i].text) > NOISE_MAX_LEN:
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
        short = len(text) <= NOISE_MAX_LEN
        if short:
            meta = match_meta(text) if len(text) <= 40 else None
            if meta is None and len(text) <= 24 and text[-1:] in LOOSE_DATE_LAST_CHARS:
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
                        and meta_of(blocks[k + 1].text, year_hint) is None:
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
            heading_like = len(text) <= MARKER_MAX_LEN and text[:1] in HEADING_FIRST
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
        if (short and text[:1] in HEADING_FIRST and ALSO_SEARCHED.match(text)) or (("提示" in text or "声明" in text or "聲明" in text) and DISCLAIMER.match(text)):
            if items:
                break
            group.clear()
            continue
        if items and region is not None and b.chrome != region and not group:
            break  # left the list's region (content list -> sidebar / footer, sidebar -> article)
        if b.link_text and len(text) <= MARKER_MAX_LEN and len(b.link_text) <= _NAV_LINK_MAX_CHARS \
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
            meta = meta_of(rest, year_hint)
            if meta is not None:
                return RelatedRaw(link, "", meta[0] or category, meta[1], b.href)
        return None
    one_line = TRAILING_DATE.match(text)
    if one_line:
        day = date_of_match(one_line)
        if day:
            return RelatedRaw(one_line["title"], "", None, day, b.href)
    loose = TRAILING_LOOSE_DATE.match(text) if text[-1:] in LOOSE_DATE_LAST_CHARS else None
    if loose:
        return RelatedRaw(loose["title"], "", None, loose_date(loose["date"], year_hint), b.href)
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
        elif len(rest) <= _ITEM_BADGE_MAX_CHARS or ITEM_COUNTER.fullmatch(rest):
            title = link  # ... or a reply counter after it (`标题12个回答`)
    return RelatedRaw(title, snippet, category, day, title_block.href)
