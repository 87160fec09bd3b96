"""Split a bundled seed dump into the parts the sample site needs to render pages.

This is a SITE-BUILDING HELPER, not the production parser (that lives in `pipelines/` and must cope
with pages and layouts we have never seen). It relies on the blank-line structure of the bundled
dumps: title line, answer blocks, a `提示:` disclaimer line followed by the `大家都在搜` / `相关推荐`
markers, then related items as (title block, snippet block, `健康新闻 YYYY-MM-DD` line), and trailing
nav noise such as `首页 顶部`. Indentation of answer lines is kept because it encodes list structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent / "seeds"

DISCLAIMER_PREFIX = "提示:"
HOT_SEARCH_MARKER = "大家都在搜"
RELATED_MARKER = "相关推荐"
RELATED_DATE_RE = re.compile(r"^健康新闻\s+(\d{4})-(\d{2})-(\d{2})\s*$")
NAV_NOISE = frozenset({"首页 顶部", "首页", "顶部"})


@dataclass(frozen=True)
class RelatedItem:
    title: str
    snippet: str
    published: date


@dataclass(frozen=True)
class SeedPage:
    """One seed dump split into its parts; `answer_blocks` keep raw lines (with indentation)."""

    name: str
    title: str
    answer_blocks: tuple[tuple[str, ...], ...]
    disclaimer: str | None
    hot_tags: tuple[str, ...]
    has_hot_search_section: bool
    has_related_section: bool
    related: tuple[RelatedItem, ...]


class SeedFormatError(ValueError):
    """A bundled dump does not have the structure this helper expects."""


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.strip():
            current.append(raw.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def read_seed(text: str, name: str = "seed") -> SeedPage:
    """Split one dump; raises SeedFormatError when there is no title or a related item has no date."""
    lines = [line for block in _blocks(text) for line in block + [""]]
    if not lines or not lines[0].strip():
        raise SeedFormatError(f"{name}: empty dump")
    title = lines[0].strip()
    answer_blocks: list[tuple[str, ...]] = []
    current: list[str] = []
    disclaimer: str | None = None
    hot_tags: list[str] = []
    has_related = False
    has_hot_search = False
    index = 1
    # Answer: everything up to the disclaimer or a section marker.
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(DISCLAIMER_PREFIX) or stripped in (HOT_SEARCH_MARKER, RELATED_MARKER):
            break
        if stripped:
            current.append(line)
        elif current:
            answer_blocks.append(tuple(current))
            current = []
        index += 1
    if current:
        answer_blocks.append(tuple(current))
    if index < len(lines) and lines[index].strip().startswith(DISCLAIMER_PREFIX):
        disclaimer = lines[index].strip()
        index += 1
    if index < len(lines) and lines[index].strip() == HOT_SEARCH_MARKER:
        has_hot_search = True
        index += 1
        while index < len(lines) and lines[index].strip() and lines[index].strip() != RELATED_MARKER:
            hot_tags.extend(lines[index].split())
            index += 1
    related: list[RelatedItem] = []
    if index < len(lines) and lines[index].strip() == RELATED_MARKER:
        has_related = True
        related = _read_related([line.strip() for line in lines[index + 1:]], name)
    return SeedPage(name=name, title=title, answer_blocks=tuple(answer_blocks), disclaimer=disclaimer,
                    hot_tags=tuple(hot_tags), has_hot_search_section=has_hot_search, has_related_section=has_related, related=tuple(related))


def _read_related(lines: list[str], name: str) -> list[RelatedItem]:
    """Related items are (title, snippet lines…, date line); nav noise after the last date is dropped."""
    items: list[RelatedItem] = []
    pending: list[str] = []
    for line in lines:
        if not line or line in NAV_NOISE:
            continue
        match = RELATED_DATE_RE.match(line)
        if match is None:
            pending.append(line)
            continue
        if len(pending) < 2:
            raise SeedFormatError(f"{name}: related item without title or snippet before {line!r}")
        year, month, day = (int(part) for part in match.groups())
        items.append(RelatedItem(title=pending[0], snippet=" ".join(pending[1:]),
                                 published=date(year, month, day)))
        pending = []
    if pending:
        raise SeedFormatError(f"{name}: trailing related item without a date: {pending[0]!r}")
    return items


@lru_cache(maxsize=1)
def load_bundled_seeds() -> tuple[SeedPage, ...]:
    """The five bundled dumps, parsed once per process (the site is rebuilt per test; seeds are not)."""
    paths = sorted(SEED_DIR.glob("*.txt"))
    if not paths:
        raise SeedFormatError(f"no seed dumps in {SEED_DIR}")
    return tuple(read_seed(path.read_text(encoding="utf-8"), name=path.stem) for path in paths)
