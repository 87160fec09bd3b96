"""Answer markup of the sample site: the three shapes of `div.article-content`.

Real sites of this kind mix `<p>` paragraphs, `<ol>/<ul>` lists (with block children inside `<li>`)
and old editor output that separates lines with `<br>` only. The site renders each seed page in
the shape its dump suggests (indented `1.` / `•` lines become lists) and the generated pages in one
of the shapes chosen deterministically, so page objects meet all three.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

NUMBERED_RE = re.compile(r"^(\s*)\d+[.、]\s*(.*)$")
BULLET_RE = re.compile(r"^(\s*)[•·●]\s*(.*)$")
SENTENCE_END = tuple("。.!?！？;；:：)）")
PREAMBLE_PREFIX = "本信息整理自互联网公开渠道"
HEADING_MAX_CHARS = 24

STYLE_P = "p"
STYLE_LIST = "ol"
STYLE_BR = "br"


def _is_heading(text: str) -> bool:
    return len(text) <= HEADING_MAX_CHARS and not text.endswith(SENTENCE_END)


def _paragraph(text: str) -> str:
    if text.startswith(PREAMBLE_PREFIX):
        return f'<p class="source-note">{escape(text)}</p>'
    return f"<p>{escape(text)}</p>"


class _ListBuilder:
    """Collects indented `1.` / `•` lines into one top-level list whose items may hold paragraphs
    and a nested bullet list (the structure the seed dumps' indentation encodes)."""

    def __init__(self, tag: str, indent: int) -> None:
        self.tag = tag
        self.indent = indent
        self.items: list[list[str]] = []
        self.nested: list[list[str]] = []

    def add_item(self, text: str) -> None:
        self.items.append([f"<p><strong>{escape(text)}</strong></p>" if self.tag == "ol" else escape(text)])
        self.nested.append([])

    def add_body(self, text: str) -> None:
        if not self.items:
            self.add_item(text)
            return
        item = self.items[-1]
        if self.tag == "ul" and len(item) == 1 and not item[0].startswith("<"):
            item[0] = f"<p>{item[0]}</p>"
        item.append(_paragraph(text))

    def add_nested(self, text: str) -> None:
        if not self.items:
            self.add_item(text)
            return
        self.nested[-1].append(f"<li>{escape(text)}</li>")

    def render(self) -> str:
        rows = [f"<{self.tag}>"]
        for item, nested in zip(self.items, self.nested, strict=True):
            inner = "".join(item)
            if nested:
                if not inner.startswith("<"):
                    inner = f"<p>{inner}</p>"
                inner += "<ul>" + "".join(nested) + "</ul>"
            rows.append(f"<li>{inner}</li>")
        rows.append(f"</{self.tag}>")
        return "\n".join(rows)


def render_seed_answer(blocks: Sequence[Sequence[str]]) -> str:
    """Seed answers: unindented lines -> `<p>` or `<h3>`; indented numbered/bullet lines -> lists."""
    out: list[str] = []
    current: _ListBuilder | None = None
    for line in (line for block in blocks for line in block):
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        numbered = NUMBERED_RE.match(line)
        bullet = BULLET_RE.match(line)
        if indent == 0:
            if current is not None:
                out.append(current.render())
                current = None
            out.append(f"<h3>{escape(text)}</h3>" if _is_heading(text) else _paragraph(text))
            continue
        marker = numbered or bullet
        if marker is not None:
            body = marker.group(2).strip()
            if current is None:
                current = _ListBuilder("ol" if numbered else "ul", indent)
                current.add_item(body)
            elif indent <= current.indent:
                current.add_item(body)
            else:
                current.add_nested(body)
            continue
        if current is None:
            current = _ListBuilder("ul", indent)
        current.add_body(text)
    if current is not None:
        out.append(current.render())
    return "\n".join(out)


def render_plain_lines(lines: Iterable[str]) -> str:
    """`<br>` style: no `<p>`, one text line per paragraph, blank `<br>` between some of them."""
    rows = [escape(line.strip()) for line in lines if line.strip()]
    return "<br>\n".join(rows) + "<br>"


def render_paragraphs(paragraphs: Sequence[str], style: str) -> str:
    """Generated answers (snippets, synthetic text) in one of the three shapes."""
    if style == STYLE_BR:
        return "<br><br>\n".join(escape(text) for text in paragraphs) + "<br>"
    if style == STYLE_LIST and len(paragraphs) >= 3:
        first, *rest = paragraphs
        items = "\n".join(f"<li>{escape(text)}</li>" for text in rest)
        return f"{_paragraph(first)}\n<ol>\n{items}\n</ol>"
    return "\n".join(_paragraph(text) for text in paragraphs)


def split_snippet(snippet: str) -> list[str]:
    """A related-item snippet becomes an answer; runs of 2+ spaces are the dump's paragraph breaks."""
    parts = [part.strip() for part in re.split(r"\s{2,}", snippet)]
    return [part for part in parts if part]


def summary_of(paragraphs: Sequence[str], limit: int = 120) -> str:
    """Listing / related snippet of an article: its answer text cut like the source site cuts it."""
    text = " ".join(paragraphs)
    return text if len(text) <= limit else text[:limit]
