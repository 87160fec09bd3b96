"""A second loopback test site whose URL scheme and markup share nothing with the sample site.

Why it exists: `healthnews/sample_site` is the only site our crawl tests used, so the spider
could be silently tuned to its `/article/<n>.html` paths, its class names and its listing
markup. This site is built (from the same five seed dumps, but rendered differently) to look
like a provincial medical-insurance portal of another vendor, with the usual crawler traps:

* articles as `/news/YYYY/MM/DD/a<id>.shtml` and query-string Q&A pages `/qa?id=<n>`;
* channel pages `/channel/<name>/` paginated with `?page=N` and 下一页 / 上一页, where pages past
  the end are empty but still offer 下一页 (endless pagination);
* a tag cloud `/tags.html` (links relative to `<base href>`) and flat tag listings `/tag/<tag>`
  (h3 link + p snippet, no pagination);
* an infinite calendar `/calendar?month=YYYY-MM` (every month links to the previous and next);
* links with fragments, tracking parameters, an upper-case scheme, `../` and `./` paths;
* off-site links (`www.example.com`, the same host on another port, `localhost`);
* a 301 -> 302 redirect chain ending at an article that is also linked directly;
* a GBK page announced only by `<meta http-equiv>` (Content-Type without charset) and a page
  without any Content-Type header;
* a 404, a page answering 503 once then 200, a 20 MB PDF (Content-Length) and a 20 MB stream
  without Content-Length, a small PDF mislabelled `text/html`, a gzip bomb (20 KB -> 20 MB);
* no robots.txt and no sitemap.xml (both 404);
* JSON-LD NewsArticle / QAPage on some articles, `og:type` on one, nothing on the others;
  bodies as `<p>`, `<br>`-separated table cells, and `<div>`-per-paragraph; one article is a
  seed dump served as `text/plain` (`/dump/2025/001.txt`).

Articles carry ETag and/or Last-Modified and answer 304 to matching conditional requests, so a
second crawl can be checked for being incremental. `SecondSite` is the ground truth for tests.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from healthnews.sample_site.seed_reader import SEED_DIR, SeedPage, load_bundled_seeds

BIG_BYTES = 20 * 1024 * 1024
LAST_MODIFIED = formatdate(1747353600, usegmt=True)  # 2025-05-16
CHANNELS = {"yibao": "医保政策", "jiuyi": "就医指南"}
PAGE_SIZE = 3


@lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * BIG_BYTES + b"</body></html>", compresslevel=9)


@dataclass
class Article:
    path: str              # path + query as linked (canonical form)
    seed: SeedPage
    style: str             # "p", "br_table", "div_lines"
    structured: str | None  # "NewsArticle", "QAPage", "og" or None
    channel: str
    date: str              # YYYY-MM-DD
    charset: str = "utf-8"
    content_type: str | None = "text/html; charset=utf-8"
    etag: bool = True
    last_modified: bool = True
    title: str | None = None
    answer: str | None = None   # replaces the seed's answer (edited or added article)

    @property
    def shown_title(self) -> str:
        return self.title or self.seed.title


@dataclass
class SecondSite:
    """Pages rendered on demand; `hits` counts requests per path+query as received."""

    articles: list[Article] = field(default_factory=list)
    decoy_url: str = "http://127.0.0.1:9/"
    hits: Counter = field(default_factory=Counter)
    flaky_pending: set[str] = field(default_factory=set)
    big_sent: dict[str, int] = field(default_factory=dict)  # bytes of the 20 MB files actually written
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ground truth paths
    redirect_start = "/old/article-1001"
    redirect_middle = "/go?to=a1001"
    missing_path = "/news/2025/01/01/a0999.shtml"
    big_pdf_path = "/upload/2025/report.pdf"
    big_stream_path = "/upload/2025/export.dat"
    small_mislabelled_path = "/upload/2025/notice.pdf"
    gzip_bomb_path = "/special/2025/zt.shtml"   # 20 KB of gzip that inflates to 20 MB
    offsite_urls = ("http://www.example.com/news/1.html", "https://WWW.Example.COM/qa?id=1")

    @classmethod
    def build(cls) -> SecondSite:
        seeds = load_bundled_seeds()
        site = cls()
        site.articles = [
            Article("/news/2025/05/16/a1001.shtml", seeds[0], "p", "NewsArticle", "yibao", "2025-05-16"),
            Article("/news/2025/05/20/a1002.shtml", seeds[1], "br_table", None, "yibao", "2025-05-20",
                    charset="gbk", content_type="text/html", etag=False),
            Article("/qa?id=42", seeds[2], "div_lines", "QAPage", "jiuyi", "2025-05-21", last_modified=False),
            Article("/news/2025/06/02/a1003.shtml", seeds[3], "p", "og", "jiuyi", "2025-06-02", content_type=None),
            Article("/qa?id=7", seeds[4], "div_lines", None, "yibao", "2025-06-03"),
            Article("/dump/2025/001.txt", seeds[1], "dump", None, "jiuyi", "2025-06-05",
                    content_type="text/plain; charset=utf-8"),
        ]
        site.flaky_pending.add("/qa?id=7")
        return site

    # -- ground truth ---------------------------------------------------------------------------
    @property
    def article_paths(self) -> list[str]:
        return [a.path for a in self.articles]

    def article(self, path: str) -> Article | None:
        return next((a for a in self.articles if a.path == path), None)

    def add_article(self, title: str, answer: str) -> str:
        """A new Q&A page, listed first on its channel's page 1 (how new content is found)."""
        with self.lock:
            path = f"/qa?id={100 + len(self.articles)}"
            self.articles.insert(0, Article(path, self.articles[2].seed, "div_lines", None, "yibao", "2025-07-01",
                                            title=title, answer=answer))
        return path

    def edit_article(self, path: str, answer: str) -> None:
        article = self.article(path)
        assert article is not None
        article.answer = answer

    # -- rendering ------------------------------------------------------------------------------
    def respond(self, target: str, headers) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        with self.lock:
            self.hits[target] += 1
        host = headers.get("Host", "127.0.0.1")
        if path == "/":
            return self._html(self._home(host))
        if path == "/qa":
            key = f"/qa?id={query.get('id', [''])[0]}"
            with self.lock:
                flaky = key in self.flaky_pending
                self.flaky_pending.discard(key)
            if flaky:
                return 503, [("Content-Type", "text/html; charset=utf-8"), ("Retry-After", "0")], b"<h1>busy</h1>"
            return self._article(key, headers)
        if (path.startswith("/news/") and path.endswith(".shtml")) or path.startswith("/dump/"):
            return self._article(path, headers)
        if path.startswith("/channel/"):
            name = path.strip("/").split("/")[-1]
            page = int(query.get("page", ["1"])[0] or 1)
            return self._html(self._channel(name, page)) if name in CHANNELS else self._not_found()
        if path == "/tags.html":
            return self._html(self._tag_cloud())
        if path.startswith("/tag/"):
            return self._html(self._tag_page(unquote(path[len("/tag/"):])))
        if path == "/calendar":
            return self._html(self._calendar(query.get("month", ["2025-05"])[0]))
        if target == self.redirect_start:
            return 301, [("Location", self.redirect_middle), ("Content-Length", "0")], b""
        if target == self.redirect_middle:
            return 302, [("Location", f"http://{host}/news/2025/05/16/a1001.shtml")], b"moved"
        if path == self.gzip_bomb_path:
            return 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")], _gzip_bomb()
        if path == self.small_mislabelled_path:
            return 200, [("Content-Type", "text/html; charset=utf-8")], b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8
        return self._not_found()

    @staticmethod
    def _html(body: str, charset: str = "utf-8") -> tuple[int, list[tuple[str, str]], bytes]:
        return 200, [("Content-Type", f"text/html; charset={charset}")], body.encode(charset)

    @staticmethod
    def _not_found() -> tuple[int, list[tuple[str, str]], bytes]:
        return 404, [("Content-Type", "text/html; charset=utf-8")], "<html><body><h1>404 页面不存在</h1></body></html>".encode()

    def _frame(self, title: str, main: str, head: str = "", charset: str = "utf-8") -> str:
        """Shared chrome: table layout, top menu, off-site links, footer (nothing like the sample site)."""
        menu = "".join(f'<td><a href="/channel/{k}/">{v}</a></td>' for k, v in CHANNELS.items())
        return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
                f"<title>{escape(title)}_省医保服务网</title>{head}</head><body>"
                f'<table id="top" width="100%"><tr><td><a href="/">网站首页</a></td>{menu}'
                f'<td><a href="/tags.html">热门标签</a></td><td><a href="/calendar?month=2025-05">资讯日历</a></td>'
                f'<td><a href="{self.offsite_urls[0]}">合作媒体</a></td></tr></table>'
                f'<div id="mainbox">{main}</div>'
                f'<div id="copyright"><a href="mailto:admin@example.com">联系我们</a> '
                f'<a href="javascript:void(0)">收藏本站</a> <a href="#top">返回顶部</a>'
                f"<span>主办单位:省医疗保障局 版权所有</span></div></body></html>")

    def _home(self, host: str) -> str:
        first, second, qa42, third, qa7 = (self.article(p) for p in (
            "/news/2025/05/16/a1001.shtml", "/news/2025/05/20/a1002.shtml", "/qa?id=42",
            "/news/2025/06/02/a1003.shtml", "/qa?id=7"))
        links = [
            f'<a href="HTTP://{host}/qa?id=42#answer">{escape(qa42.shown_title)}</a>',
            f'<a href="http://{host.upper()}/news/2025/05/16/a1001.shtml#comments">{escape(first.shown_title)}</a>',
            f'<a href="/qa?utm_source=weibo&amp;id=42&amp;spm=a1.b2">{escape(qa42.shown_title)}(分享)</a>',
            f'<a href="news/2025/05/16/a1001.shtml?from=timeline#top">{escape(first.shown_title)}</a>',
            f'<a href="/news/2025/06/../05/20/a1002.shtml">{escape(second.shown_title)}</a>',
            f'<a href="//{host}/news/2025/06/02/./a1003.shtml">{escape(third.shown_title)}</a>',
            f'<a href="{self.redirect_start}">旧版文章链接</a>',
            f'<a href="{self.missing_path}">已删除的文章</a>',
            f'<a href="{self.big_pdf_path}">2025年度报告(PDF, 20MB)</a>',
            f'<a href="{self.big_stream_path}">数据导出</a>',
            f'<a href="{self.small_mislabelled_path}">通知附件</a>',
            f'<a href="{self.gzip_bomb_path}">专题</a>',
            f'<a href="{self.decoy_url}news/2.html">兄弟站点</a>',
            f'<a href="http://localhost:{host.rsplit(":", 1)[-1]}/qa?id=42">本机镜像</a>',
            f'<a href="{self.offsite_urls[1]}">外站问答</a>',
            f'<a href="/qa?id=7" rel="bookmark">{escape(qa7.shown_title)}</a>',
        ]
        items = "".join(f"<div class=\"hotline\">{link}</div>" for link in links)
        return self._frame("首页", f'<div class="hotnews">{items}</div>')

    def _channel_articles(self, name: str) -> list[Article]:
        return [a for a in self.articles if a.channel == name]

    def _channel(self, name: str, page: int) -> str:
        entries = self._channel_articles(name)[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = "".join(
            f'<li><span class="date">[{a.date}]</span><a href="{a.path}" target="_blank">{escape(a.shown_title)}</a>'
            f"<p>{escape(self._answer_text(a)[:90])}…</p></li>" for a in entries) or "<li>暂无内容</li>"
        pager = [f'<a href="/channel/{name}/">首页</a>']
        if page > 1:
            pager.append(f'<a href="?page={page - 1}">上一页</a>')
        pager.append(f'<a href="?page={page + 1}">下一页</a>')  # offered even past the end (a trap)
        return self._frame(CHANNELS[name], f'<h2>{CHANNELS[name]}</h2><ul class="newslist">{rows}</ul>'
                                            f'<div class="pagebar">{" ".join(pager)}</div>')

    TAGS = ("医保", "社保卡", "电子凭证", "异地就医")

    def _tag_cloud(self) -> str:
        # relative to <base href>, plus one lower-case percent-encoded spelling of the first tag
        cloud = " ".join(f'<a href="{quote(tag)}" style="font-size:{12 + i * 3}px">{tag}</a>'
                         for i, tag in enumerate(self.TAGS))
        cloud += f' <a href="/tag/{quote(self.TAGS[0]).lower()}">{self.TAGS[0]}</a>'
        return self._frame("热门标签", f'<div class="tagcloud">{cloud}</div>', head='<base href="/tag/">')

    def _tag_page(self, tag: str) -> str:
        if tag not in self.TAGS:
            return self._frame("标签", "<p>没有找到相关内容</p>")
        body = "".join(f'<h3><a href="{a.path}">{escape(a.shown_title)}</a></h3><p>{escape(self._answer_text(a)[:120])}</p>'
                       for a in self.articles)
        return self._frame(f"标签:{tag}", f'<div class="taglist"><h2>标签:{escape(tag)}</h2>{body}</div>')

    def _calendar(self, month: str) -> str:
        try:
            year, mon = (int(x) for x in month.split("-"))
        except ValueError:
            year, mon = 2025, 5
        prev_y, prev_m = (year, mon - 1) if mon > 1 else (year - 1, 12)
        next_y, next_m = (year, mon + 1) if mon < 12 else (year + 1, 1)
        days = "".join(f'<td><a href="{a.path}">{a.date[-2:]}</a></td>' for a in self.articles
                       if a.date.startswith(f"{year:04d}-{mon:02d}")) or "<td>本月无文章</td>"
        nav = (f'<a href="/calendar?month={prev_y:04d}-{prev_m:02d}">&lt; 上月</a> '
               f'<a href="/calendar?month={next_y:04d}-{next_m:02d}">下月 &gt;</a>')
        return self._frame(f"{year}年{mon}月", f'<table class="cal"><caption>{year}年{mon}月</caption><tr>{days}</tr></table>'
                                            f'<div class="calnav">{nav}</div>')

    # -- articles ---------------------------------------------------------------------------------
    @staticmethod
    def _answer_lines(article: Article) -> list[str]:
        if article.answer is not None:
            return [article.answer]
        return [" ".join(line.strip() for line in block) for block in article.seed.answer_blocks]

    def _answer_text(self, article: Article) -> str:
        return "".join(self._answer_lines(article))

    def _body(self, article: Article) -> str:
        lines = self._answer_lines(article)
        if article.style == "br_table":
            cell = "<br><br>\n".join(f"&nbsp;&nbsp;{escape(line)}" for line in lines)
            return f'<table class="contenttable"><tr><td class="bt_content" id="zoom">{cell}</td></tr></table>'
        if article.style == "div_lines":
            return '<div class="answer-con">' + "".join(f"<div>{escape(line)}</div>" for line in lines) + "</div>"
        return '<div class="TRS_Editor">' + "".join(f'<p style="text-indent:2em">{escape(line)}</p>' for line in lines) + "</div>"

    def _related(self, article: Article) -> str:
        seed_items = article.seed.related[:4]
        if not seed_items:
            return ""
        others = [a for a in self.articles if a is not article and a.title is None]  # stable: not added ones
        rows = []
        for i, item in enumerate(seed_items):
            target = others[i % len(others)].path
            if target.startswith("/news/") and article.path.startswith("/news/"):
                href = "../../../.." + target  # relative: ../ past the root resolves to the root
            else:
                href = target + "#comments"
            rows.append(f'<dl><dt><a href="{href}">{escape(item.title)}</a></dt><dd>{escape(item.snippet)}</dd>'
                        f"<dd class=\"src\">健康新闻 {item.published.isoformat()}</dd></dl>")
        return f'<div class="xgwz"><h4>相关推荐</h4>{"".join(rows)}</div>'

    def _article_html(self, article: Article) -> str:
        head = ""
        if article.structured in ("NewsArticle", "QAPage"):
            data = {"@context": "https://schema.org", "@type": article.structured, "headline": article.shown_title,
                    "datePublished": article.date}
            head = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
        elif article.structured == "og":
            head = '<meta property="og:type" content="article">'
        disclaimer = f'<div class="tishi">{escape(article.seed.disclaimer)}</div>' if article.seed.disclaimer else ""
        main = (f'<div class="con_title"><h1>{escape(article.shown_title)}</h1>'
                f'<div class="con_info">来源:省医疗保障局 | 发布时间:{article.date}</div></div>'
                f"{self._body(article)}{disclaimer}{self._related(article)}")
        return self._frame(article.shown_title, main, head, charset=article.charset)

    def _article(self, path: str, headers) -> tuple[int, list[tuple[str, str]], bytes]:
        article = self.article(path)
        if article is None:
            return self._not_found()
        if article.style == "dump":  # the seed page dump itself, as plain text
            body = (SEED_DIR / f"{article.seed.name}.txt").read_bytes()
        else:
            body = self._article_html(article).encode(article.charset)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        out: list[tuple[str, str]] = []
        if article.content_type:
            out.append(("Content-Type", article.content_type))
        if article.etag:
            out.append(("ETag", etag))
        if article.last_modified:
            out.append(("Last-Modified", LAST_MODIFIED))
        if (article.etag and headers.get("If-None-Match") == etag) or (
                not article.etag and article.last_modified and headers.get("If-Modified-Since") == LAST_MODIFIED
                and article.answer is None):
            return 304, [h for h in out if h[0] != "Content-Type"], b""
        return 200, out, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: SecondSite
    log: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.log.append(self.path)
        if self.path in (self.site.big_pdf_path, self.site.big_stream_path):
            self._stream_big(with_length=self.path == self.site.big_pdf_path)
            return
        status, headers, body = self.site.respond(self.path, self.headers)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name == "Content-Length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_big(self, with_length: bool) -> None:
        """20 MB of binary, written in 64 KiB chunks; the client is expected to hang up early."""
        self.send_response(200)
        if with_length:
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(BIG_BYTES))
        else:
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"%PDF-1.7\n" + b"\x00\x01binary" * 8000
        sent = 0
        try:
            while sent < BIG_BYTES:
                piece = chunk[: BIG_BYTES - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self.site.big_sent[self.path] = sent

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def serve(handler_site: SecondSite | None, host: str = "127.0.0.1") -> Iterator[tuple[str, list[str]]]:
    """Serve `handler_site` (None: a decoy that answers 200 to anything) on a free port.

    Yields (base URL ending in '/', the list of request targets received, in order).
    """
    log: list[str] = []
    site = handler_site

    class Handler(_Handler):
        pass

    Handler.log = log
    if site is not None:
        Handler.site = site
    else:
        def decoy(self) -> None:
            self.log.append(self.path)
            body = b"<html><body><a href='/x'>decoy</a></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        Handler.do_GET = decoy  # type: ignore[method-assign]
    server = _CountingServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
