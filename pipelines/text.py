"""Text normalization policy shared by every part of the project (parser, ETL, dedupe).

`normalize_text` is the ONE definition of "the same text": two strings that differ only in
full-width vs half-width ASCII/punctuation, compatibility characters, kinds or amounts of
whitespace, or invisible zero-width characters normalize to the same string. The parser applies
it to titles, answers and snippets so that pages rendered with different punctuation widths give
the same record and the same content hash.

What it touches, exactly:

1. Unicode NFKC. Concretely for our pages: full-width ASCII letters/digits/punctuation
   (U+FF01-U+FF5E, e.g. `：，（）！？１Ａ`) become their ASCII forms (`:,()!?1A`); the ideographic
   space U+3000 and NO-BREAK SPACE U+00A0 become U+0020; compatibility characters such as
   circled/enclosed numbers, ligatures (`ﬁ`), half-width katakana, `…`-style compatibility
   forms and superscripts are decomposed. NFKC does NOT touch CJK punctuation without an ASCII
   compatibility mapping: `。、“”‘’《》【】—` stay as they are.
2. Zero-width characters U+200B, U+200C, U+200D, U+2060 and U+FEFF (BOM) are removed.
3. Every run of whitespace (Python `str.split()` definition: spaces, tabs, newlines, U+3000,
   U+00A0, other Unicode spaces) becomes one ASCII space; leading/trailing whitespace is stripped.

`normalize_text` therefore returns a single line; callers that need paragraphs normalize each
paragraph separately and join them with "\n".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = ["normalize_text", "parse_date", "find_date", "date_of_match", "DATE_PATTERN", "DATE_RE", "EN_DATE_RE"]

_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

# Year, month, day separated by -, /, . or 年/月(/日); whitespace around separators allowed.
DATE_PATTERN = r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?!\d)\s*日?"
DATE_RE = re.compile(DATE_PATTERN)
_DATE_FULL_RE = re.compile(r"\s*" + DATE_PATTERN + r"(?:[T\s]\d{1,2}:\d{2}(?::\d{2})?\S*)?\s*")


def normalize_text(s: str | None) -> str:
    """Return the canonical single-line form of `s` (see module docstring); None -> ""."""
    if not s:
        return ""
    if not s.isascii():
        s = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", s))
    return " ".join(s.split())


_MONTH_NAMES = ("january february march april may june july august september october november "
                "december").split()
_MONTHS = {**{m: i for i, m in enumerate(_MONTH_NAMES, start=1)},
           **{m[:3]: i for i, m in enumerate(_MONTH_NAMES, start=1)}, "sept": 9}
# English forms seen under article titles: `March 1, 2025`, `Mar. 1 2025`, `1 March 2025`, `May 16th, 2025`,
# `16th of May 2025`.
EN_DATE_PATTERN = (
    r"(?:(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>[A-Za-z]{3,9})\.?,?\s+(?P<year2>(?:19|20)\d\d))"
)
EN_DATE_RE = re.compile(EN_DATE_PATTERN)


def _make_date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def parse_date(s: str | None) -> date | None:
    """Parse a string that IS a date: `2025-05-16`, `2025年05月16日`, `2025年5月6日`, `2025/5/16`,
    `2025.05.16` (full-width digits too; an optional trailing time such as `T08:00:00+08:00`).

    Returns None for anything else, including impossible dates like 2025-02-30.
    """
    if not s:
        return None
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    m = _DATE_FULL_RE.fullmatch(s)
    return _make_date(m["y"], m["m"], m["d"]) if m else None


def date_of_match(m: re.Match) -> date | None:
    """The date of a match of a pattern built from DATE_PATTERN and/or EN_DATE_PATTERN (their
    group names do not clash), or None when it is not a real date."""
    groups = m.groupdict()
    if groups.get("y"):
        return _make_date(m["y"], m["m"], m["d"])
    month = _MONTHS.get((groups.get("mon") or groups.get("mon2") or "").lower())
    if not month:
        return None
    return _make_date(groups.get("year") or groups.get("year2"), str(month), groups.get("day") or groups.get("day2"))


def find_date(s: str | None) -> date | None:
    """Return the first valid date found anywhere inside `s` (e.g. `发布时间:2025-05-16 10:00`,
    `Published March 1, 2025`); numeric forms are tried before English month names."""
    if not s:
        return None
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    for m in DATE_RE.finditer(s):
        found = _make_date(m["y"], m["m"], m["d"])
        if found:
            return found
    for m in EN_DATE_RE.finditer(s):
        found = date_of_match(m)
        if found:
            return found
    return None
