"""The bundled sample site: a deterministic health-news site built in memory from the seed dumps.

It is the default crawl target (`healthnews run`, `healthnews serve-sample`), the HTTP fixture of
the crawl tests and the page generator of the benches. See docs/notes/sample_site.md.
"""

from healthnews.sample_site.catalog import SiteCatalog
from healthnews.sample_site.server import SampleSiteServer
from healthnews.sample_site.site import SampleSite

__all__ = ["SampleSite", "SampleSiteServer", "SiteCatalog"]
