"""Raw archive (downloader middleware, closest to the network): every response into WARC.

Sitting at order 950 it sees each response as the download handler produced it: before
HttpCompressionMiddleware decodes the body, before RedirectMiddleware follows a 3xx and before
RetryMiddleware swallows a 500 it is going to retry. So the archive holds every exchange that
happened (including the 500 of a page that later answered 200), with the raw body bytes.
A 304 becomes a `revisit` record (profile server-not-modified).

It also serves resume replays: a pending URL whose response a killed run already archived is
answered from that WARC record (`healthnews_replay` meta) instead of the network, and not
archived again.
"""

from __future__ import annotations

from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from crawlers.context import get_run_context
from crawlers.warc import HttpExchange, read_captured


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1")
        for value in values:
            pairs.append((key, value.decode("latin-1")))
    return pairs


class WarcArchiveMiddleware:
    def __init__(self, context, stats) -> None:
        self.context = context
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(get_run_context(crawler), crawler.stats)

    def process_request(self, request, spider=None):
        captured = self.context.replay.pop(request.meta.get("healthnews_url", ""), None) \
            if self.context.replay else None
        if captured is None:
            return None
        status, header_pairs, body = read_captured(captured)
        headers = Headers()
        for name, value in header_pairs:
            headers.appendlist(name, value)
        request.meta["healthnews_replayed"] = True
        response_cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return response_cls(url=request.url, status=status, headers=headers, body=body, request=request)

    def process_response(self, request, response, spider=None):
        if request.meta.get("healthnews_replayed"):
            return response
        exchange = HttpExchange(
            url=response.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            request_body=request.body or b"",
            status=response.status,
            protocol=response.protocol or "HTTP/1.1",
            response_headers=_header_pairs(response.headers),
            body=response.body,
            ip_address=str(response.ip_address) if response.ip_address else None,
            refers_to_date=request.meta.get("healthnews_refers_to_date"),
        )
        self.context.writer.write_exchange(exchange)
        self.stats.inc_value("healthnews/archive/records")
        self.stats.inc_value("healthnews/archive/bytes", len(response.body))
        return response
