"""The shared splitter: ordered text blocks -> title, answer, published date, related items.

Works on `Block`s from either an HTML page or a text dump, using only the text markers in
`pipelines.patterns.layout` (plus the `chrome` flag and link targets HTML gives us). A page of
this family reads, top to bottom:

    [chrome/nav]  title  [published line]  [source preamble]  answer paragraphs...
    [disclaimer + its follow-up sentences]  [大家都在搜 ...]  相关推荐
    (item title, [snippet lines], `<category> <date>`)*   [footer noise]

The answer is everything between the title and the first end marker (disclaimer, 大家都在搜,
related heading or footer line) minus chrome, noise lines and the preamble sentences. Related items
are groups of blocks each closed by a `<category> <date>` meta line (`pipelines.related`); what a
single line is (meta line, noise, footer, section marker) is decided in `pipelines.lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipelines.blocks import Block
from pipelines.lines import (
    ANSWER_LINE_FIRST,
    MARKER_MAX_LEN,
    NOISE_MAX_LEN,
    QUESTION_FIRST,
    end_marker,
    inline_disclaimer_cut,
    is_noise,
    is_published_line,
    match_loose_meta,
)
from pipelines.patterns.layout import (
    ANSWER_HEADING,
    ANSWER_LABEL,
    ANSWERER_LINE,
    DATE_FIELD_LINE,
    EMPTY_LIST_NOTICE,
    PREAMBLE_SENTENCE,
    PREAMBLE_START,
    QUESTION_LABEL,
    SENTENCE_END,
    TITLE_LABEL,
)
from pipelines.related import RelatedRaw, parse_related, related_start, starts_teaser_list
from pipelines.text import find_date, normalize_text

# Navigation pages (`PageSplit.looks_like_navigation`): this many link blocks or teasers; an
# "answer" of at most NAV_MAX_ANSWER_CHARS above unlabelled teasers (a section heading such as
# `最新文章`); a region at least NAV_MIN_REGION_CHARS long that is NAV_MIN_LINK_SHARE links.
NAV_MIN_LINK_BLOCKS = 3
NAV_MAX_ANSWER_CHARS = 16
NAV_MIN_REGION_CHARS = 20
NAV_MIN_LINK_SHARE = 0.6
_LINK_BLOCK_MAX_CHARS = 120
_LINK_BLOCK_MAX_EXTRA = 16  # text beside the link in a link block: `[2025-05-16]`, `健康新闻 05-16`
# How many blocks under the title may hold the page's own date line.
_PUBLISHED_WINDOW = 3
_PUBLISHED_ABOVE = 2  # ... or this many blocks above it
# Title fallback when the only <title> is a short bare name: the first h1-h3 among the first blocks.
_SITE_NAME_MAX_CHARS = 12
_TITLE_SCAN_BLOCKS = 12
_TITLE_TAGS = frozenset(("h1", "h2", "h3"))
_TITLE_MAX_LEN = 120
_TITLE_END = "?!。 "


@dataclass(slots=True)
class PageSplit:
    title: str | None = None
    answer_paragraphs: list[str] = field(default_factory=list)
    published: date | None = None
    related: list[RelatedRaw] = field(default_factory=list)
    end_reason: str = "end_of_page"
    # The region between the title and the end of the answer (content blocks, not chrome or noise):
    # navigation evidence. A link block is a short block that is (mostly) one link: a title in a
    # teaser list, a nav entry, a calendar day, `[2025-05-16]标题`.
    region_blocks: int = 0
    region_link_blocks: int = 0
    region_chars: int = 0
    region_link_chars: int = 0
    region_starts_with_link: bool = False
    region_empty_notices: int = 0  # `暂无内容`, `本月无文章`

    def looks_like_navigation(self) -> bool:
        """A list of links or teasers (home, channel, tag, search, calendar page), not a Q&A.

        - teasers right under the title without a related heading (`end_reason == "related_list"`;
          with a `相关推荐` heading, a one-sentence answer is still an answer);
        - a region that OPENS with a link block and is mostly links: at least `NAV_MIN_LINK_BLOCKS`
          link blocks making at least half of its blocks (linked titles, maybe with teasers between
          them), or at least `NAV_MIN_LINK_SHARE` of its characters inside links (tag clouds, nav
          rows); or an empty list's notice (`暂无内容`) with nothing but links around it.
          An answer that introduces a list of linked hospitals with a sentence first is an
          article: the region then opens with text.
        """
        if self.region_empty_notices and self.region_link_blocks == self.region_blocks:
            return True  # an empty list (`暂无内容`) among links: an empty channel, month or search
        answer_chars = sum(map(len, self.answer_paragraphs))
        if (self.end_reason == "related_list" and len(self.related) >= NAV_MIN_LINK_BLOCKS
                and answer_chars <= NAV_MAX_ANSWER_CHARS):
            return True
        if not self.region_starts_with_link:
            return False
        links = self.region_link_blocks
        if links >= NAV_MIN_LINK_BLOCKS and 2 * links >= self.region_blocks:
            return True
        return (self.region_chars >= NAV_MIN_REGION_CHARS
                and self.region_link_chars >= NAV_MIN_LINK_SHARE * self.region_chars)


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
            fallback = -1
            for i, b in enumerate(blocks):
                if b.text == hint and not b.chrome:
                    if b.href is None or b.link_text is not None:
                        return hint, i
                    if fallback < 0:
                        fallback = i  # a nav link with the page's name (`医保政策` in the menu) above its heading
            if fallback >= 0:
                return hint, fallback
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
                if len(b.text) > NOISE_MAX_LEN:
                    break
                if b.tag in _TITLE_TAGS and not b.chrome and not is_noise(b.text) and end_marker(b.text) is None:
                    return b.text, i
        return shortest, -1
    for i, b in enumerate(blocks):
        if not b.chrome and not is_noise(b.text):
            return b.text, i
    return None, -1


def _title_core(text: str) -> str:
    """A title without a leading question badge (`问`, `问:`, `Q:`) and trailing `?` / `。`."""
    return TITLE_LABEL.sub("", text, count=1).rstrip(_TITLE_END)


def _measure_region(out: PageSplit, region: list[Block]) -> None:
    """Fill `out.region_*` (see `PageSplit.looks_like_navigation`); skips what the answer skips."""
    for b in region:
        text = b.text
        if b.chrome or text == out.title or is_noise(text):
            continue
        if len(text) <= MARKER_MAX_LEN and EMPTY_LIST_NOTICE.match(text):
            out.region_empty_notices += 1
            continue
        # The whole block is the link, or a link plus a date, badge or category (`[2025-05-16]标题`);
        # titles may be long in English.
        is_link = b.href is not None and len(text) <= _LINK_BLOCK_MAX_CHARS and (
            b.link_text is None or len(text) - len(b.link_text) <= _LINK_BLOCK_MAX_EXTRA)
        if not out.region_blocks:
            out.region_starts_with_link = is_link
        out.region_blocks += 1
        out.region_link_blocks += is_link
        out.region_chars += len(text)
        out.region_link_chars += b.link_chars


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
        loose = match_loose_meta(blocks[j].text, published_hint) if not blocks[j].href else None
        if loose is not None:  # `健康小编 04-20`, `3天前`: the date line, its year (if any) from metadata
            out.published, published_idx = loose[1], j
            break
    else:
        # Some templates put the date line just ABOVE the title.
        for j in range(title_idx - 1, max(title_idx - 1 - _PUBLISHED_ABOVE, -1), -1):
            if not blocks[j].chrome and not blocks[j].href and is_published_line(blocks[j].text):
                out.published = find_date(blocks[j].text)
                break

    answer_start = i
    out.answer_paragraphs, i, out.end_reason = collect_answer(
        blocks, i, title=out.title, skip_index=published_idx
    )
    _measure_region(out, blocks[answer_start:i])
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
    markup. On Q&A pages an answer heading (`最佳答案`, `医生回答`) or the first answerer byline
    (`医生:张建国 主治医师 某医院`) after a question description (`病情描述:…`) restarts the answer:
    the description is the question, not the answer.
    """
    answer: list[str] = []
    i, n = start, len(blocks)
    seen_question = False
    while i < n:
        b = blocks[i]
        text = b.text
        if b.href and not b.chrome and starts_teaser_list(blocks, i):
            return answer, i, "related_list"  # related items without a heading
        marker = end_marker(text)
        if marker == "section" and ((not answer and not b.chrome) or (b.href and b.link_text is None)):
            # `最新文章` right under a listing page's name: its teasers decide (listing_page); a bare
            # link named like a section (`热门标签` in a menu row) is navigation, not a heading.
            marker = None
        elif marker == "disclaimer" and not answer and inline_disclaimer_cut(text) <= 0:
            i += 1  # a disclaimer ABOVE the answer (some sites put it first): skip it, not the answer
            continue
        if marker and not (b.chrome and not answer):
            cut = inline_disclaimer_cut(text) if marker == "disclaimer" else -1
            if cut > 0 and not b.chrome:
                head = normalize_text(text[:cut])
                if head:
                    answer.append(head)
            return answer, i, marker
        i += 1
        if b.chrome or marker or i - 1 == skip_index or is_noise(text) or text == title:
            continue
        if len(text) <= NOISE_MAX_LEN and text[:1] in ANSWER_LINE_FIRST:
            heading = ANSWER_HEADING.match(text) if len(text) <= MARKER_MAX_LEN else None
            if heading is not None:
                if seen_question or not (heading["weak"] or heading["weak_en"]):
                    answer.clear()  # what came before was the question (description), not the answer
                    seen_question = False
                continue
            if DATE_FIELD_LINE.match(text):
                continue
        if len(text) <= NOISE_MAX_LEN and ("师" in text or ":" in text) and ANSWERER_LINE.match(text):
            if seen_question:  # the first answerer's byline after a `病情描述:` block: the answer starts here
                answer.clear()
                seen_question = False
            continue
        if text[:1] in QUESTION_FIRST and QUESTION_LABEL.match(text):
            seen_question = True
        if not answer and PREAMBLE_START.match(text):
            text = strip_preamble(text)
            if not text:
                continue
        if b.marker and not text.startswith(b.marker):
            text = f"{b.marker} {text}"
        answer.append(text)
    return answer, n, "end_of_page"


__all__ = ["PageSplit", "split_blocks", "collect_answer", "strip_preamble"]
