"""Text dumps exported as Markdown (`# 标题`, `> 引用`, `## 小标题`, `- [标题](url)` related items).

WHY a separate step: the dump splitter reads plain lines, so Markdown syntax would reach the
record as text (`# ` in the title, `> ` before the preamble, `- [标题](url)` as a related title
without its link). Each line is mapped to what a renderer would show (the heading text, the quote
text, a bullet drawn as `•`, a link's text with its href), then the shared splitter runs as usual.
Kept out of `pipelines/blocks.py` (size); patterns live in `pipelines/patterns/layout.py`.
"""

from __future__ import annotations

from pipelines.blocks import Block
from pipelines.patterns.layout import MD_BULLET, MD_HEADING, MD_LINK_ITEM, MD_QUOTE


def looks_like_markdown(text: str) -> bool:
    """Cheap sniff: a `# ` first line or `## ` section lines, and no HTML (callers checked that)."""
    head = text.lstrip()[:2]
    return head == "# " or "\n## " in text or "\n# " in text


def markdown_block(line: str) -> Block | None:
    """The block a Markdown renderer would show for one normalized line (None: nothing shown)."""
    if line[:1] == ">":
        line = MD_QUOTE.sub("", line, count=1)
        if not line:
            return None
    if line[:1] == "#":
        line = MD_HEADING.sub("", line, count=1)
        return Block(line) if line else None
    if line[:1] in "-*+":
        item = MD_LINK_ITEM.match(line)
        if item:
            rest = item["rest"].strip()
            text = f"{item['title']} {rest}" if rest else item["title"]
            return Block(text, href=item["url"], link_text=item["title"] if rest else None,
                         link_chars=len(item["title"]))
        bullet = MD_BULLET.match(line)
        if bullet and len(line) > bullet.end():
            return Block(line[bullet.end():], marker="•")
    return Block(line)
