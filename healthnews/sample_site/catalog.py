"""`SiteCatalog`: the ground truth tests and benches compare crawl / ETL results against.

Collections over articles are lazy views (a site with 100,000 synthetic articles must not build
100,000-element tuples just because someone looked at `site.catalog`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar, overload

from healthnews.sample_site.articles import article_id_of, article_path

T = TypeVar("T")


class IdPathSequence(Sequence[str]):
    """Paths of a fixed list of article ids given as concatenated id ranges (no per-item storage)."""

    def __init__(self, ranges: Sequence[Sequence[int]], path_of: Callable[[int], str] = article_path) -> None:
        self._ranges = tuple(ranges)
        self._path_of = path_of
        self._length = sum(len(r) for r in self._ranges)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        for ids in self._ranges:
            if index < len(ids):
                return self._path_of(ids[index])
            index -= len(ids)
        raise IndexError(index)  # pragma: no cover - guarded above

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        if self._path_of is article_path:
            article_id = article_id_of(value)
            return article_id is not None and any(article_id in ids for ids in self._ranges)
        return any(value == self[i] for i in range(self._length))

    def __repr__(self) -> str:
        return f"<{len(self)} paths>"


class ArticleFieldMap(Mapping[str, T], Generic[T]):
    """Lazy `article path -> field` view (title, publish date, answer paragraphs)."""

    def __init__(self, paths: IdPathSequence, lookup: Callable[[str], T | None]) -> None:
        self._paths = paths
        self._lookup = lookup

    def __getitem__(self, path: str) -> T:
        if path not in self._paths:
            raise KeyError(path)
        value = self._lookup(path)
        if value is None:
            raise KeyError(path)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


@dataclass(frozen=True)
class SiteCatalog:
    """Where every awkward case of the sample site lives (snapshot taken at `site.catalog` access;
    `titles` / `published` / `answers` read the live articles, so they reflect later edits)."""

    home_path: str
    robots_path: str
    sitemap_path: str
    article_paths: Sequence[str]            # every canonical article path (base, synthetic, added)
    listing_paths: Sequence[str]            # /list/1.html … /list/N.html
    titles: Mapping[str, str]               # article path -> title (h1)
    published: Mapping[str, date]           # article path -> publish date
    answers: Mapping[str, tuple[str, ...]]  # article path -> rendered answer paragraphs (incl. preamble)
    gbk_path: str
    gbk_title: str
    flaky_path: str
    broken_path: str
    broken_link_source_path: str            # the article whose 相关推荐 links to broken_path
    disallowed_path: str
    tracking_duplicate_url: str             # path?query of an article, linked from a listing page
    tracking_canonical_path: str
    near_duplicate_pairs: tuple[tuple[str, str], ...]
    exact_duplicate_pairs: tuple[tuple[str, str], ...]  # incl. (article, /mirror/… copy)
    mirror_path: str                        # byte-identical copy of mirror_source_path
    mirror_source_path: str
    no_related_path: str | None             # English seed page: no 相关推荐, no disclaimer
    ssrf_page_path: str
    ssrf_urls: tuple[str, ...]
    br_style_paths: tuple[str, ...]         # base articles whose answer uses <br> instead of <p>
    list_style_paths: tuple[str, ...]       # base articles whose answer contains <ol>/<ul>
    base_article_count: int
    synthetic_paths: Sequence[str]
    synthetic_duplicate_of: Mapping[str, str]        # synthetic duplicate path -> original path
    synthetic_exact_duplicate_of: Mapping[str, str]
    synthetic_near_duplicate_of: Mapping[str, str]
    added_paths: tuple[str, ...]
    articles_per_listing_page: int
