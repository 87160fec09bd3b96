"""Layout registry: pick the page object for a document by a cheap marker check.

Most specific first; `GenericHtmlPage` and `TextDumpPage` together accept every document, so
the chain never comes up empty. Supporting a second site = one new module with a `Page` subclass
and one line in `LAYOUTS`.
"""

from __future__ import annotations

from pipelines.layouts.base import Document, Page
from pipelines.layouts.generic_html import GenericHtmlPage
from pipelines.layouts.sample_site import SampleSiteArticlePage
from pipelines.layouts.text_dump import TextDumpPage

LAYOUTS: list[type[Page]] = [SampleSiteArticlePage, GenericHtmlPage, TextDumpPage]


def page_for(doc: Document) -> Page:
    """Instantiate the first layout whose `matches` accepts `doc`."""
    for layout in LAYOUTS:
        if layout.matches(doc):
            return layout(doc)
    return TextDumpPage(doc)


__all__ = ["Document", "Page", "LAYOUTS", "page_for", "GenericHtmlPage", "SampleSiteArticlePage",
           "TextDumpPage"]
