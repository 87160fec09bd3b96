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
    BREADCRUMB,
    CATEGORY_ONLY,
    DISCLAIMER,
    DISCLAIMER_INLINE,
    FOOTER_ANYWHERE,
    FOOTER_LINE,
    META_CATEGORY,
    META_ISO_LINE,
    META_LABEL_LEAD,
    META_LABEL_TAIL,
    META_SEPARATORS,
    META_TIME,
    NOISE_LINE,
    PREAMBLE_SENTENCE,
    PREAMBLE_START,
    PUBLISHED_LINE,
    RELATED_HEADING,
    SENTENCE_END,
    TRAILING_DATE,
)
from pipelines.text import DATE_RE, EN_DATE_RE, date_of_match, find_date, normalize_text, parse_date

# How many blocks under the title may hold the page's own date line.
_PUBLISHED_WINDOW = 3
_PUBLISHED_MAX_LEN = 80
# An unlabelled related list: this many consecutive (linked title, ..., meta line) groups, each
# with at most this many blocks between the title and its meta line.
_TEASER_RUN = 2
_TEASER_MAX_LINES = 3
# Section headings and nav noise are short; longer blocks skip those regexes entirely.
_MARKER_MAX_LEN = 24
_NOISE_MAX_LEN = 60


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
    m = DATE_RE.search(text) or (EN_DATE_RE.search(text) if text.isascii() else None)
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


def _meta_part(text: str) -> str:
    """A meta line's text beside its date without separators and field labels (`来源:`, `时间:`)."""
    text = text.strip(META_SEPARATORS)
    return META_LABEL_LEAD.sub("", META_LABEL_TAIL.sub("", text)).strip(META_SEPARATORS) if text else text


def is_noise(text: str) -> bool:
    return len(text) <= _NOISE_MAX_LEN and (NOISE_LINE.match(text) is not None or BREADCRUMB.match(text) is not None)


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
        for hint in hints:
            for i, b in enumerate(blocks):
                if b.text == hint:
                    return hint, i
        return shortest, -1
    for i, b in enumerate(blocks):
        if not b.chrome and not is_noise(b.text):
            return b.text, i
    return None, -1


def _end_marker(text: str) -> str | None:
    """Which section marker `text` is, if any. Cheap substring tests guard the regexes: this runs
    on every answer paragraph and most paragraphs are long and marker-free."""
    if ("提示" in text or "声明" in text) and (DISCLAIMER.match(text) or DISCLAIMER_INLINE.search(text)):
        return "disclaimer"
    if len(text) <= _MARKER_MAX_LEN:
        if ALSO_SEARCHED.match(text):
            return "also_searched"
        if RELATED_HEADING.match(text):
            return "related_heading"
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


def split_blocks(blocks: list[Block], *, title_hints: list[str] | None = None) -> PageSplit:
    """Split a page's blocks into its parts (see module docstring)."""
    out = PageSplit()
    out.title, title_idx = _find_title(blocks, [h for h in (title_hints or []) if h])
    i = title_idx + 1
    n = len(blocks)

    # The page's own date: a short date line right under the title.
    published_idx = -1
    for j in range(i, min(i + _PUBLISHED_WINDOW, n)):
        text = blocks[j].text
        if len(text) <= _PUBLISHED_MAX_LEN and (PUBLISHED_LINE.match(text) or match_meta(text)):
            out.published = find_date(text)
            published_idx = j
            break

    out.answer_paragraphs, i, out.end_reason = collect_answer(
        blocks, i, title=out.title, skip_index=published_idx
    )
    start = related_start(blocks, i)
    if start >= 0:
        out.related = parse_related(blocks[start:])
    return out


def related_start(blocks: list[Block], start: int = 0) -> int:
    """Index of the first related item at or after `start`: right after a related heading, else
    the first unlabelled teaser list (`starts_teaser_list`); -1 when there is none."""
    n = len(blocks)
    heading = next((k for k in range(start, n) if RELATED_HEADING.match(blocks[k].text)), -1)
    if heading >= 0:
        return heading + 1
    return next((k for k in range(start, n) if starts_teaser_list(blocks, k)), -1)


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
    lines, a repeated title, the block at `skip_index` (the published line) and the leading
    source-preamble sentences are left out; a disclaimer glued to the end of a paragraph is cut off.
    """
    answer: list[str] = []
    i, n = start, len(blocks)
    while i < n:
        b = blocks[i]
        text = b.text
        if b.href and starts_teaser_list(blocks, i):
            return answer, i, "related_list"  # related items without a heading
        marker = _end_marker(text)
        if marker:
            cut = _inline_disclaimer_cut(text) if marker == "disclaimer" else -1
            if cut > 0 and not b.chrome:
                head = normalize_text(text[:cut])
                if head:
                    answer.append(head)
            return answer, i, marker
        i += 1
        if b.chrome or i - 1 == skip_index or is_noise(text) or text == title:
            continue
        if not answer and PREAMBLE_START.match(text):
            text = strip_preamble(text)
            if not text:
                continue
        if b.marker and not text.startswith(b.marker):
            text = f"{b.marker} {text}"
        answer.append(text)
    return answer, n, "end_of_page"


def parse_related(blocks: list[Block]) -> list[RelatedRaw]:
    """Group blocks into related items, each group closed by a `<category> <date>` meta line.

    Length guards keep the marker regexes off the long snippet blocks (this runs on ~60 blocks
    per page).
    """
    items: list[RelatedRaw] = []
    group: list[Block] = []
    for b in blocks:
        text = b.text
        short = len(text) <= _NOISE_MAX_LEN
        if short:
            meta = match_meta(text) if len(text) <= 40 else None
            if meta is not None and b.href and not group and meta[0]:
                # `<a>标题</a><span>2025-05-16</span>` in one block: a whole item, the "category" is its title
                items.append(RelatedRaw(meta[0], "", None, meta[1], b.href))
                continue
            if meta is not None:
                category, day = meta
                if category is None and len(group) >= 3 and CATEGORY_ONLY.match(group[-1].text):
                    category = group.pop().text
                if group:
                    items.append(_make_item(group, category, day))
                group = []
                continue
            if is_noise(text):
                continue
            if RELATED_HEADING.match(text):
                break
        if is_footer(text):
            break
        if (short and ALSO_SEARCHED.match(text)) or (("提示" in text or "声明" in text) and DISCLAIMER.match(text)):
            if items:
                break
            group.clear()
            continue
        if b.href and short:
            one_line = TRAILING_DATE.match(text)
            if one_line:
                day = date_of_match(one_line)
                if day:
                    if group and group[0].href:  # the previous linked title had no date line
                        items.append(_make_item(group, None, None))
                    items.append(RelatedRaw(one_line["title"], "", None, day, b.href))
                    group = []
                    continue
        group.append(b)
    # A trailing linked title without a meta line is still an item (its date is unknown).
    if group and group[0].href:
        items.append(_make_item(group, None, None))
    return items


def _make_item(group: list[Block], category: str | None, day: date | None) -> RelatedRaw:
    title_block = group[0]
    snippet = " ".join(b.text for b in group[1:])  # block texts are already normalized
    return RelatedRaw(title_block.text, snippet, category, day, title_block.href)


__all__ = ["Block", "PageSplit", "RelatedRaw", "split_blocks", "collect_answer", "parse_related", "related_start",
           "match_meta", "strip_preamble", "parse_date"]
