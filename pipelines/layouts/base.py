"""Page-object base: one class per site layout, one method per output field (web-poet style).

A layout only says WHERE things are (selectors); WHAT they mean (splitting, dates, boilerplate)
is the shared logic in `pipelines.split`. Subclasses override single field methods and call
`super()` for any field their selectors miss, so a half-matching layout still yields a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import ClassVar

from lxml import etree

from pipelines.related import RelatedRaw
from pipelines.split import PageSplit


@dataclass(slots=True)
class Document:
    """A decoded page plus what later steps may need from it (the lxml tree when HTML)."""

    text: str
    url: str | None = None
    root: etree._Element | None = None  # set for HTML pages
    errors: list[str] = field(default_factory=list)

    @property
    def is_html(self) -> bool:
        return self.root is not None


class Page:
    """Base page object. `matches` must be cheap: the registry calls it for every page."""

    name: ClassVar[str] = "base"

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    @classmethod
    def matches(cls, doc: Document) -> bool:
        raise NotImplementedError

    @cached_property
    def split(self) -> PageSplit:
        """The shared splitter's view of the whole page; computed once, used by every field."""
        raise NotImplementedError

    def title(self) -> str | None:
        return self.split.title

    def answer_paragraphs(self) -> list[str]:
        return self.split.answer_paragraphs

    def published(self) -> date | None:
        return self.split.published

    def related(self) -> list[RelatedRaw]:
        return self.split.related

    def looks_like_navigation(self) -> bool:
        """Home / channel / tag / search / calendar page rather than an article (`listing_page`)."""
        return self.split.looks_like_navigation()
