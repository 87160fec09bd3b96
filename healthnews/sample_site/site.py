"""`SampleSite`: the deterministic in-memory health-news site (routing + HTTP semantics).

`respond()` is a pure function of (site state, path, request headers) apart from the deliberate
flaky URL, so the same request against two fresh `SampleSite()` instances returns identical bytes.
No wall clock anywhere: Last-Modified comes from article dates, and mutations advance a logical
clock that starts one day after the newest seed date.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from healthnews.sample_site import templates
from healthnews.sample_site.articles import (
    BROKEN_ID,
    BROKEN_SNIPPET,
    BROKEN_TITLE,
    HOT_TAGS,
    Article,
    BaseSite,
    article_id_of,
    article_path,
    build_base_site,
)
from healthnews.sample_site.catalog import ArticleFieldMap, IdPathSequence, SiteCatalog
from healthnews.sample_site.content import STYLE_P, render_paragraphs
from healthnews.sample_site.seed_reader import load_bundled_seeds
from healthnews.sample_site.synthetic import DuplicateMap, SyntheticArticles, source_from_articles

PAGE_SIZE = 10
SITEMAP_CHUNK = 10_000
RENDER_CACHE_LIMIT = 2_000
DISALLOWED_PREFIX = "/private/"
DISALLOWED_PATH = "/private/member.html"
MIRROR_PREFIX = "/mirror"
TRACKING_QUERY = "utm_source=wechat&utm_medium=social&utm_campaign=list"
HTML = "text/html; charset=utf-8"
Response = tuple[int, dict[str, str], bytes]


@lru_cache(maxsize=1)
def _base_template() -> BaseSite:
    """Seeds -> base articles once per process; each SampleSite copies the (small) article dict."""
    return build_base_site(load_bundled_seeds())


class SampleSite:
    """See docs/architecture.md ("Sample site") and docs/notes/sample_site.md for the site map."""

    def __init__(self, extra_articles: int = 0) -> None:
        if extra_articles < 0:
            raise ValueError(f"extra_articles must be >= 0, got {extra_articles}")
        base = _base_template()
        self._base = base
        self._articles: dict[int, Article] = dict(base.articles)  # base + added + edited synthetic
        self._base_ids = tuple(sorted(base.articles))
        generated = [a for a in base.articles.values() if a.id > len(load_bundled_seeds())]
        oldest = min(a.published for a in base.articles.values())
        disclaimer = next((a.disclaimer for a in generated if a.disclaimer), None)
        self._synthetic = SyntheticArticles(
            source_from_articles(generated, disclaimer), first_id=max(self._base_ids) + 1,
            count=extra_articles, newest_date=oldest - timedelta(days=1), hot_tags=HOT_TAGS)
        self._added: list[int] = []
        newest = max(a.modified for a in base.articles.values())
        self._clock = newest + timedelta(days=1)
        self._structure_modified = newest
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[str, bytes, datetime]] = {}
        self._flaky_served = False
        self._catalog: SiteCatalog | None = None

    # ----------------------------------------------------------------- articles and order
    def article(self, article_id: int) -> Article | None:
        """The live article with this id (base, added, edited or lazily generated synthetic)."""
        found = self._articles.get(article_id)
        if found is None and self._synthetic.contains(article_id):
            return self._synthetic.article(self._synthetic.index_of(article_id))
        return found

    def _article_at_path(self, path: str) -> Article | None:
        article_id = article_id_of(path)
        return None if article_id is None else self.article(article_id)

    def _listing_count(self) -> int:
        return len(self._added) + len(self._base.order) + self._synthetic.count

    def _listing_id(self, position: int) -> int:
        """Newest first: added articles (latest first), base articles by date, then synthetic."""
        if position < len(self._added):
            return self._added[-1 - position]
        position -= len(self._added)
        if position < len(self._base.order):
            return self._base.order[position]
        return self._synthetic.first_id + position - len(self._base.order)

    def _page_count(self) -> int:
        return max(1, -(-self._listing_count() // PAGE_SIZE))

    # ----------------------------------------------------------------- mutations
    def _tick(self) -> datetime:
        self._clock += timedelta(hours=1)
        self._structure_modified = self._clock
        self._cache.clear()
        self._catalog = None
        return self._clock

    def add_article(self, title: str, answer_text: str) -> str:
        """Publish a new article (newest: first on listing page 1); returns its path."""
        paragraphs = _paragraphs(answer_text)
        if not title.strip() or not paragraphs:
            raise ValueError("add_article needs a non-empty title and answer_text")
        with self._lock:
            moment = self._tick()
            article_id = max(max(self._articles), self._synthetic.first_id + self._synthetic.count - 1) + 1
            related = tuple(self._listing_id(i) for i in range(min(3, self._listing_count())))
            self._articles[article_id] = Article(
                id=article_id, title=title.strip(), published=moment.date(), paragraphs=paragraphs,
                content_html=render_paragraphs(paragraphs, STYLE_P),
                disclaimer=self._synthetic.source.disclaimer, related=related, last_modified=moment)
            self._added.append(article_id)
            return article_path(article_id)

    def edit_article(self, path: str, answer_text: str) -> None:
        """Replace an article's answer: new body, ETag and a later Last-Modified."""
        paragraphs = _paragraphs(answer_text)
        if not paragraphs:
            raise ValueError("edit_article needs a non-empty answer_text")
        with self._lock:
            current = self._article_at_path(urlsplit(path).path)
            if current is None:
                raise KeyError(f"no article at {path!r}")
            moment = self._tick()
            self._articles[current.id] = Article(
                id=current.id, title=current.title, published=current.published, paragraphs=paragraphs,
                content_html=render_paragraphs(paragraphs, STYLE_P), disclaimer=current.disclaimer,
                hot_tags=current.hot_tags, related=current.related, last_modified=moment,
                charset=current.charset, friend_links=current.friend_links)

    # ----------------------------------------------------------------- HTTP semantics
    def respond(self, path_with_query: str, request_headers: Mapping[str, str] | None = None) -> Response:
        """Answer one GET like the HTTP server would: (status, headers, body)."""
        headers = {k.lower(): v for k, v in (request_headers or {}).items()}
        parts = urlsplit(path_with_query)
        path = parts.path or "/"
        with self._lock:
            if path == self._base_path(self._base.flaky_id) and not self._flaky_served:
                self._flaky_served = True
                return _simple(500, "服务器繁忙,请稍后再试")
            rendered = self._render_cached(path, parts.query, headers.get("host", ""))
        if rendered is None:
            return _simple(404, "页面不存在")
        content_type, body, modified = rendered
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        out = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if _not_modified(headers, etag, modified):
            return 304, out, b""
        out["Content-Type"] = content_type
        out["Content-Length"] = str(len(body))
        return 200, out, body

    def _base_path(self, article_id: int) -> str:
        return article_path(article_id)

    def _render_cached(self, path: str, query: str, host: str) -> tuple[str, bytes, datetime] | None:
        cacheable = not query and path not in ("/robots.txt",) and not path.startswith("/sitemap")
        if cacheable and path in self._cache:
            return self._cache[path]
        rendered = self._render(path, query, host)
        if rendered is not None and cacheable and len(self._cache) < RENDER_CACHE_LIMIT:
            article_id = article_id_of(path)
            if article_id is None or not self._synthetic.contains(article_id):
                self._cache[path] = rendered
        return rendered

    def _render(self, path: str, query: str, host: str) -> tuple[str, bytes, datetime] | None:
        base_url = f"http://{host}" if host else "http://127.0.0.1"
        if path in ("/", "/index.html"):
            return HTML, self._home().encode(), self._structure_modified
        if path.startswith("/list/"):
            return self._listing(path)
        if path.startswith(MIRROR_PREFIX + "/"):
            if path != MIRROR_PREFIX + article_path(self._base.mirror_id):
                return None
            path = path[len(MIRROR_PREFIX):]
        if path.startswith("/article/"):
            return self._article_page(path)
        if path == "/search":
            query_text = (parse_qs(query).get("q") or [""])[0]
            return HTML, templates.render_search(query_text, self._search(query_text)).encode(), \
                self._structure_modified
        if path == "/robots.txt":
            text = templates.render_robots(base_url, DISALLOWED_PREFIX)
            return "text/plain; charset=utf-8", text.encode(), self._initial_modified()
        if path == "/sitemap.xml" or path.startswith("/sitemap-"):
            return self._sitemap(path, base_url)
        if path == DISALLOWED_PATH:
            return HTML, templates.render_private().encode(), self._initial_modified()
        return None

    def _initial_modified(self) -> datetime:
        return max(a.modified for a in self._base.articles.values())

    def _entry(self, article_id: int, tracking: bool = False) -> templates.LinkEntry:
        if article_id == BROKEN_ID:
            newest = self._base.articles[self._base.order[0]].published
            return templates.LinkEntry(article_path(BROKEN_ID), BROKEN_TITLE, BROKEN_SNIPPET, newest)
        article = self.article(article_id)
        assert article is not None, article_id
        href = article.path + ("?" + TRACKING_QUERY if tracking else "")
        return templates.LinkEntry(href, article.title, article.summary, article.published)

    def _article_page(self, path: str) -> tuple[str, bytes, datetime] | None:
        article = self._article_at_path(path)
        if article is None:
            return None
        related = None if article.related is None else [self._entry(i) for i in article.related]
        view = templates.ArticleView(
            path=article.path, title=article.title, published=article.published,
            content_html=article.content_html, disclaimer=article.disclaimer, hot_tags=article.hot_tags,
            related=related, friend_links=article.friend_links, charset=article.charset)
        html = templates.render_article(view)
        charset = article.charset
        return f"text/html; charset={charset}", html.encode(charset, errors="xmlcharrefreplace"), article.modified

    def _listing(self, path: str) -> tuple[str, bytes, datetime] | None:
        name = path[len("/list/"):]
        if not name.endswith(".html") or not name[:-5].isdigit():
            return None
        page = int(name[:-5])
        if not 1 <= page <= self._page_count() or name[:-5] != str(page):
            return None
        start = (page - 1) * PAGE_SIZE
        ids = [self._listing_id(i) for i in range(start, min(start + PAGE_SIZE, self._listing_count()))]
        entries = [self._entry(i, tracking=i == self._base.tracking_id) for i in ids]
        html = templates.render_listing(page, self._page_count(), entries)
        return HTML, html.encode(), self._structure_modified

    def _home(self) -> str:
        latest = [self._entry(self._listing_id(i)) for i in range(min(PAGE_SIZE, self._listing_count()))]
        mirror = self._base.articles[self._base.mirror_id]
        featured = [(MIRROR_PREFIX + mirror.path, f"{mirror.title}(专题镜像)"),
                    ("/search?q=" + "%E5%BC%82%E5%9C%B0%E5%B0%B1%E5%8C%BB", "异地就医专题")]
        return templates.render_home(latest, self._page_count(), featured)

    def _search(self, query_text: str) -> list[templates.LinkEntry]:
        if not query_text:
            return []
        ids = [*reversed(self._added), *self._base.order]
        hits = [i for i in ids if query_text in (self.article(i) or _EMPTY).title]
        return [self._entry(i) for i in hits[:20]]

    def _sitemap(self, path: str, base_url: str) -> tuple[str, bytes, datetime] | None:
        paths = self.catalog.article_paths
        chunks = max(1, -(-len(paths) // SITEMAP_CHUNK))
        xml = "application/xml; charset=utf-8"
        if path == "/sitemap.xml" and chunks > 1:
            names = [f"/sitemap-{n}.xml" for n in range(1, chunks + 1)]
            return xml, templates.render_sitemap_index(base_url, names).encode(), self._structure_modified
        if path == "/sitemap.xml":
            chunk = 1
        else:
            number = path[len("/sitemap-"):-len(".xml")] if path.endswith(".xml") else ""
            if not number.isdigit() or not 1 <= int(number) <= chunks or chunks == 1:
                return None
            chunk = int(number)
        selected = paths[(chunk - 1) * SITEMAP_CHUNK: chunk * SITEMAP_CHUNK]
        entries = [(p, self._article_at_path(p).published) for p in selected]  # type: ignore[union-attr]
        return xml, templates.render_sitemap(base_url, entries).encode(), self._structure_modified

    # ----------------------------------------------------------------- catalog
    @property
    def catalog(self) -> SiteCatalog:
        with self._lock:
            if self._catalog is None:
                self._catalog = self._build_catalog()
            return self._catalog

    def _field_map(self, paths: IdPathSequence, field: str) -> ArticleFieldMap:
        def lookup(path: str) -> object:
            article = self._article_at_path(path)
            return None if article is None else getattr(article, field)
        return ArticleFieldMap(paths, lookup)

    def _build_catalog(self) -> SiteCatalog:
        base = self._base
        synthetic = self._synthetic
        synthetic_ids = range(synthetic.first_id, synthetic.first_id + synthetic.count)
        paths = IdPathSequence([self._base_ids, synthetic_ids, tuple(self._added)])
        path = article_path
        gbk = base.articles[base.gbk_id]
        mirror_source = path(base.mirror_id)
        base_articles = [base.articles[i] for i in self._base_ids]
        return SiteCatalog(
            home_path="/", robots_path="/robots.txt", sitemap_path="/sitemap.xml",
            article_paths=paths,
            listing_paths=IdPathSequence([range(1, self._page_count() + 1)], lambda n: f"/list/{n}.html"),
            titles=self._field_map(paths, "title"), published=self._field_map(paths, "published"),
            answers=self._field_map(paths, "paragraphs"),
            gbk_path=path(base.gbk_id), gbk_title=gbk.title, flaky_path=path(base.flaky_id),
            broken_path=path(BROKEN_ID), broken_link_source_path=path(base.broken_host_id),
            disallowed_path=DISALLOWED_PATH,
            tracking_duplicate_url=f"{path(base.tracking_id)}?{TRACKING_QUERY}",
            tracking_canonical_path=path(base.tracking_id),
            near_duplicate_pairs=tuple((path(a), path(b)) for a, b in base.near_duplicate_pairs),
            exact_duplicate_pairs=(*((path(a), path(b)) for a, b in base.exact_duplicate_pairs),
                                   (mirror_source, MIRROR_PREFIX + mirror_source)),
            mirror_path=MIRROR_PREFIX + mirror_source, mirror_source_path=mirror_source,
            no_related_path=None if base.no_related_id is None else path(base.no_related_id),
            ssrf_page_path=path(base.ssrf_id),
            ssrf_urls=tuple(href for href, _ in base.articles[base.ssrf_id].friend_links if "://" in href),
            br_style_paths=tuple(a.path for a in base_articles if "<p" not in a.content_html),
            list_style_paths=tuple(a.path for a in base_articles if "<ol>" in a.content_html
                                   or "<ul>" in a.content_html),
            base_article_count=len(self._base_ids),
            synthetic_paths=IdPathSequence([synthetic_ids]),
            synthetic_duplicate_of=DuplicateMap(synthetic, frozenset({"exact", "near"})),
            synthetic_exact_duplicate_of=DuplicateMap(synthetic, frozenset({"exact"})),
            synthetic_near_duplicate_of=DuplicateMap(synthetic, frozenset({"near"})),
            added_paths=tuple(path(i) for i in self._added),
            articles_per_listing_page=PAGE_SIZE,
        )


_EMPTY = Article(id=-1, title="", published=date(2000, 1, 1), paragraphs=(), content_html="", disclaimer=None)


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _simple(status: int, message: str) -> Response:
    body = templates.render_error(status, message).encode()
    return status, {"Content-Type": HTML, "Content-Length": str(len(body))}, body


def _not_modified(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; weak comparison for If-None-Match."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return modified <= since
    return False


__all__ = ["SampleSite"]
