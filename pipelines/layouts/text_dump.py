"""Plain-text page dumps (the seed format): first non-empty line is the title, one block per line."""

from __future__ import annotations

from functools import cached_property

from pipelines.blocks import text_to_blocks
from pipelines.layouts.base import Document, Page
from pipelines.split import PageSplit, split_blocks


class TextDumpPage(Page):
    name = "text_dump"

    @classmethod
    def matches(cls, doc: Document) -> bool:
        return not doc.is_html

    @cached_property
    def split(self) -> PageSplit:
        return split_blocks(text_to_blocks(self.doc.text))
