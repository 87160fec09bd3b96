"""HTML templates of the sample site (markup contract documented in docs/notes/sample_site.md).

The markup imitates the kind of Chinese health-news / medical-insurance Q&A portal the seed dumps
were taken from: a header with nav, a breadcrumb, the article (h1, Chinese date line, answer,
disclaimer, 大家都在搜 tags), a 相关推荐 list, and a footer with 首页 / 顶部 links, plus inline
<style> and <script> noise. Page objects in pipelines/ are written against this contract, so keep
class names stable; change them only together with docs/notes/sample_site.md.

Everything here is pure string building (no I/O, no clock) so two renders of the same inputs are
byte-identical, which the site's strong ETags rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from urllib.parse import quote

SITE_NAME = "健康新闻网"
CHANNEL_NAME = "健康问答"
RELATED_LABEL = "健康新闻"

STYLE = """<style>
body{margin:0;font:14px/1.8 "Microsoft YaHei",sans-serif;color:#333;background:#f5f5f5}
a{color:#1a5fb4;text-decoration:none}.header{background:#2b7bd6;color:#fff;padding:8px 20px}
.header .logo{color:#fff;font-size:20px;font-weight:bold}.nav{display:inline;margin-left:30px}
.nav li{display:inline;margin-right:16px}.nav a{color:#fff}.wrap{width:960px;margin:0 auto}
.breadcrumb{padding:8px 0;color:#999}.article,.related,.list-box{background:#fff;padding:16px 24px;margin-bottom:12px}
.article-title{font-size:24px}.article-info{color:#999}.disclaimer{color:#c00;font-size:12px}
.hot-search a{display:inline-block;margin:4px 8px;padding:0 8px;border:1px solid #ddd}
.related-item,.news-item{border-bottom:1px dashed #eee;padding:8px 0}.related-meta,.news-meta{color:#999;font-size:12px}
.pagination a,.pagination span{margin:0 4px}.footer{text-align:center;color:#999;padding:20px}
</style>"""

SCRIPT_HEAD = """<script>
var pageConfig = {"channel": "健康问答", "version": "2.3.1", "ads": ["医保报销", "在线问诊"]};
var _hmt = _hmt || [];
</script>"""

SCRIPT_FOOT = """<script>
(function () {
  var top = document.getElementById("gotop");
  if (top) { top.onclick = function () { window.scrollTo(0, 0); return false; }; }
  document.write('<span class="pv" style="display:none">统计代码</span>');
})();
</script>"""


@dataclass(frozen=True)
class LinkEntry:
    """One item of a 相关推荐 list, a listing page or search results: title link, snippet, date."""

    href: str
    title: str
    snippet: str
    published: date


@dataclass(frozen=True)
class ArticleView:
    """Everything an article page shows; `content_html` is the pre-rendered answer markup."""

    path: str
    title: str
    published: date
    content_html: str
    disclaimer: str | None
    hot_tags: Sequence[str]
    related: Sequence[LinkEntry] | None
    friend_links: Sequence[tuple[str, str]] = ()
    charset: str = "utf-8"


def chinese_date(day: date) -> str:
    """Article pages print dates as `2025年05月16日` (zero padded, like the source site)."""
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def related_date(day: date) -> str:
    """Related items and listing entries print `健康新闻 2025-05-16`, as in the seed dumps."""
    return f"{RELATED_LABEL} {day.isoformat()}"


def _head(title: str, charset: str, canonical: str | None, description: str | None) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        f'<meta charset="{charset}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
    ]
    if description:
        parts.append(f'<meta name="description" content="{escape(description)}">')
    if canonical:
        parts.append(f'<link rel="canonical" href="{escape(canonical)}">')
    parts.append(STYLE)
    parts.append(SCRIPT_HEAD)
    parts.append("</head>")
    return "\n".join(parts)


def _header() -> str:
    return (
        '<body>\n<div class="header" id="top">\n'
        f'<a class="logo" href="/">{SITE_NAME}</a>\n'
        '<ul class="nav">'
        '<li><a href="/">首页</a></li>'
        f'<li><a href="/list/1.html">{CHANNEL_NAME}</a></li>'
        '<li><a href="/search?q=%E5%8C%BB%E4%BF%9D">医保政策</a></li>'
        '<li><a href="/private/member.html">会员中心</a></li>'
        "</ul>\n</div>"
    )


def _footer(friend_links: Sequence[tuple[str, str]] = ()) -> str:
    parts = ['<div class="footer" id="footer">', '<p class="footer-nav"><a href="/">首页</a> '
             '<a href="#top" id="gotop">顶部</a></p>']
    if friend_links:
        links = " ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in friend_links)
        parts.append(f'<p class="friend-links">友情链接: {links}</p>')
    parts.append(f'<p class="copyright">Copyright © 2018-2025 {SITE_NAME} 版权所有 '
                 "本站内容仅供参考</p>")
    parts.append("</div>")
    parts.append(SCRIPT_FOOT)
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def _link_list(entries: Sequence[LinkEntry], list_class: str, item_prefix: str) -> str:
    rows = [f'<ul class="{list_class}">']
    for entry in entries:
        rows.append(
            f'<li class="{item_prefix}-item">'
            f'<a class="{item_prefix}-title" href="{escape(entry.href)}">{escape(entry.title)}</a>'
            f'<p class="{item_prefix}-snippet">{escape(entry.snippet)}</p>'
            f'<span class="{item_prefix}-meta">{related_date(entry.published)}</span></li>'
        )
    rows.append("</ul>")
    return "\n".join(rows)


def render_article(view: ArticleView) -> str:
    """An article page; the answer lives in `div.article-content`, see the notes for the contract."""
    parts = [
        _head(f"{view.title}_{CHANNEL_NAME}_{SITE_NAME}", view.charset, view.path, None),
        _header(),
        '<div class="wrap">',
        '<div class="breadcrumb"><a href="/">首页</a> &gt; '
        f'<a href="/list/1.html">{CHANNEL_NAME}</a> &gt; <span>{escape(view.title)}</span></div>',
        '<div class="article" id="article">',
        f'<h1 class="article-title">{escape(view.title)}</h1>',
        f'<div class="article-info"><span class="pub-date">{chinese_date(view.published)}</span> '
        f'<span class="source">来源:{SITE_NAME}</span></div>',
        f'<div class="article-content" id="content">\n{view.content_html}\n</div>',
    ]
    if view.disclaimer:
        parts.append(f'<div class="disclaimer"><p>{escape(view.disclaimer)}</p></div>')
    if view.hot_tags:
        tags = "".join(
            f'<a href="/search?q={_quote(tag)}">{escape(tag)}</a>' for tag in view.hot_tags
        )
        parts.append(f'<div class="hot-search"><h3>大家都在搜</h3><div class="tags">{tags}</div></div>')
    parts.append("</div>")
    if view.related is not None:
        parts.append('<div class="related" id="related">')
        parts.append("<h3>相关推荐</h3>")
        parts.append(_link_list(view.related, "related-list", "related"))
        parts.append("</div>")
    parts.append("</div>")
    parts.append(_footer(view.friend_links))
    return "\n".join(parts)


def _pagination(page: int, total_pages: int) -> str:
    """Prev / numbered window / next links, like most CMS list pages."""
    items = []
    if page > 1:
        items.append(f'<a class="prev" href="/list/{page - 1}.html">上一页</a>')
    if page > 3:
        items.append('<a class="first" href="/list/1.html">1</a><span class="dots">...</span>')
    for number in range(max(1, page - 2), min(total_pages, page + 2) + 1):
        if number == page:
            items.append(f'<span class="current">{number}</span>')
        else:
            items.append(f'<a href="/list/{number}.html">{number}</a>')
    if page + 2 < total_pages:
        items.append(f'<span class="dots">...</span><a class="last" href="/list/{total_pages}.html">'
                     f"{total_pages}</a>")
    if page < total_pages:
        items.append(f'<a class="next" href="/list/{page + 1}.html">下一页</a>')
    return '<div class="pagination">' + " ".join(items) + "</div>"


def render_listing(page: int, total_pages: int, entries: Sequence[LinkEntry]) -> str:
    """Listing page `/list/<page>.html`: newest first, `ul.news-list` + `div.pagination`."""
    title = f"{CHANNEL_NAME}_第{page}页_{SITE_NAME}"
    return "\n".join([
        _head(title, "utf-8", f"/list/{page}.html", None),
        _header(),
        '<div class="wrap">',
        f'<div class="breadcrumb"><a href="/">首页</a> &gt; <span>{CHANNEL_NAME}</span></div>',
        '<div class="list-box" id="list">',
        f"<h2>{CHANNEL_NAME}</h2>",
        _link_list(entries, "news-list", "news"),
        _pagination(page, total_pages),
        "</div>",
        "</div>",
        _footer(),
    ])


def render_home(latest: Sequence[LinkEntry], total_pages: int,
                featured: Sequence[tuple[str, str]]) -> str:
    """Home page `/`: latest articles, links to the first listing pages and a 专题 block."""
    pages = " ".join(f'<a href="/list/{n}.html">第{n}页</a>' for n in range(1, min(total_pages, 5) + 1))
    featured_html = "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in featured)
    return "\n".join([
        _head(f"{SITE_NAME} - 医保社保健康问答", "utf-8", "/", "医保、社保、就医问答与医院推荐"),
        _header(),
        '<div class="wrap">',
        '<div class="list-box" id="latest">',
        "<h2>最新文章</h2>",
        _link_list(latest, "news-list", "news"),
        f'<div class="more">{pages} <a href="/list/1.html">更多&gt;&gt;</a></div>',
        "</div>",
        f'<div class="list-box" id="featured"><h2>精选专题</h2><ul class="featured">{featured_html}</ul></div>',
        "</div>",
        _footer(),
    ])


def render_search(query: str, results: Sequence[LinkEntry]) -> str:
    """`/search?q=…` result page (targets of the 大家都在搜 tags); noindex like real search pages."""
    body = _link_list(results, "news-list", "news") if results else '<p class="empty">暂无相关内容</p>'
    head = _head(f"{query}_搜索结果_{SITE_NAME}", "utf-8", None, None)
    head = head.replace("</head>", '<meta name="robots" content="noindex,follow">\n</head>')
    return "\n".join([
        head,
        _header(),
        '<div class="wrap"><div class="list-box" id="search">',
        f"<h2>“{escape(query)}”的搜索结果</h2>",
        body,
        "</div></div>",
        _footer(),
    ])


def render_private() -> str:
    """The member page under the robots.txt-disallowed prefix (linked from every nav bar)."""
    return "\n".join([
        _head(f"会员中心_{SITE_NAME}", "utf-8", None, None),
        _header(),
        '<div class="wrap"><div class="list-box" id="member">',
        "<h2>会员中心</h2><p>请登录后查看您的收藏与咨询记录。</p>",
        "</div></div>",
        _footer(),
    ])


def render_error(status: int, message: str) -> str:
    return "\n".join([
        _head(f"{status} {message}_{SITE_NAME}", "utf-8", None, None),
        _header(),
        f'<div class="wrap"><div class="list-box error"><h2>{status}</h2><p>{escape(message)}</p>'
        '<p><a href="/">返回首页</a></p></div></div>',
        _footer(),
    ])


def render_robots(base_url: str, disallowed_prefix: str) -> str:
    return (
        "User-agent: *\n"
        f"Disallow: {disallowed_prefix}\n"
        "\n"
        f"Sitemap: {base_url}/sitemap.xml\n"
    )


def render_sitemap(base_url: str, entries: Sequence[tuple[str, date]]) -> str:
    rows = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, day in entries:
        rows.append(f"<url><loc>{escape(base_url + path)}</loc><lastmod>{day.isoformat()}</lastmod></url>")
    rows.append("</urlset>\n")
    return "\n".join(rows)


def render_sitemap_index(base_url: str, paths: Sequence[str]) -> str:
    rows = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    rows.extend(f"<sitemap><loc>{escape(base_url + path)}</loc></sitemap>" for path in paths)
    rows.append("</sitemapindex>\n")
    return "\n".join(rows)


def _quote(text: str) -> str:
    return quote(text, safe="")
