"""Lazily generated synthetic articles for benchmarks (`SampleSite(extra_articles=N)`).

Nothing is materialised up front: article k (0-based) is computed from k alone when requested, so
constructing a site with 100,000 extra articles costs microseconds and no memory per article.

Content of an ORIGINAL synthetic article: a title built from one seed related item with its place
name swapped for one of REGIONS and a year prefix, and an answer of four snippet paragraphs drawn
from the seed related items. The 4-subset is the k-th element of a fixed permutation of all
4-subsets (combination unranking of a scrambled index), so no two originals share more than 3 of
their 4 paragraphs; every article also carries one sentence with numbers unique to k.

Fixed duplicate share (ground truth for dedupe benches, exposed via `duplicate_of`):
  k % 20 == 10  -> EXACT duplicate of k-1 (same title, answer and date; different URL),   5 %
  k % 20 == 15  -> NEAR duplicate of k-1 (title + "(更新)", one number in the answer changed), 5 %
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from healthnews.sample_site.articles import Article, article_id_of, article_path
from healthnews.sample_site.content import (
    PREAMBLE_PREFIX,
    STYLE_BR,
    STYLE_LIST,
    STYLE_P,
    render_paragraphs,
)

EXACT_DUPLICATE_RESIDUE = 10
NEAR_DUPLICATE_RESIDUE = 15
DUPLICATE_PERIOD = 20
EXACT_DUPLICATE_SHARE = 1 / DUPLICATE_PERIOD
NEAR_DUPLICATE_SHARE = 1 / DUPLICATE_PERIOD
PARAGRAPHS_PER_ARTICLE = 4
ARTICLES_PER_DAY = 50

REGIONS = (
    "浙江杭州", "江苏苏州", "广东佛山", "山东烟台", "湖北宜昌", "四川绵阳", "河南洛阳", "安徽芜湖",
    "湖南株洲", "广西柳州", "陕西宝鸡", "甘肃天水", "辽宁鞍山", "吉林四平", "黑龙江齐齐哈尔", "山西大同",
    "福建泉州", "江西九江", "贵州遵义", "云南曲靖", "重庆万州", "天津滨海", "上海浦东", "海南三亚",
    "青海西宁", "宁夏银川", "新疆昌吉", "西藏林芝", "河北保定", "山东潍坊", "江苏徐州", "浙江温州",
    "广东湛江", "湖北襄阳", "四川南充", "河南南阳", "安徽阜阳", "湖南岳阳", "内蒙古包头", "辽宁锦州",
)
# Place names that occur in the bundled seed titles; swapped for a REGION when building titles.
SEED_PLACES = (
    "新疆胡杨河", "新疆昆玉", "新疆新星", "福建南平", "江西赣州", "江西萍乡", "河北邢台", "贵州铜仁",
    "云南丽江", "双鸭山", "内蒙古", "长沙", "大连", "北京", "西安", "南平", "赣州", "萍乡", "邢台",
)
YEAR_PREFIX_RE = re.compile(r"^\d{4}年")


@dataclass(frozen=True)
class SyntheticSource:
    """Seed material the generator recombines (titles and answer paragraphs of related items)."""

    paragraphs: tuple[str, ...]
    titles: tuple[str, ...]  # titles[i] = title of the page paragraphs[i] came from
    disclaimer: str | None
    preamble: str | None


def _unrank_combination(rank: int, n: int, k: int) -> list[int]:
    """The rank-th k-subset of range(n) in colex order (combinatorial number system)."""
    out = []
    for size in range(k, 0, -1):
        candidate = size - 1
        while math.comb(candidate + 1, size) <= rank:
            candidate += 1
        out.append(candidate)
        rank -= math.comb(candidate, size)
    return out


class SyntheticArticles:
    """Article k of the synthetic range, computed on demand from k."""

    def __init__(self, source: SyntheticSource, first_id: int, count: int, newest_date: date,
                 hot_tags: Sequence[str]) -> None:
        if len(source.paragraphs) < PARAGRAPHS_PER_ARTICLE + 2:
            raise ValueError("not enough seed paragraphs to generate synthetic articles")
        self.source = source
        self.first_id = first_id
        self.count = count
        self.newest_date = newest_date
        self.hot_tags = tuple(hot_tags)
        self._subsets = math.comb(len(source.paragraphs), PARAGRAPHS_PER_ARTICLE)
        stride = 7_368_787
        while math.gcd(stride, self._subsets) != 1:
            stride += 2
        self._stride = stride

    def contains(self, article_id: int) -> bool:
        return self.first_id <= article_id < self.first_id + self.count

    def index_of(self, article_id: int) -> int:
        return article_id - self.first_id

    def duplicate_source(self, index: int) -> tuple[int, str] | None:
        """(original index, "exact" | "near") when synthetic article `index` is a planted duplicate."""
        residue = index % DUPLICATE_PERIOD
        if residue == EXACT_DUPLICATE_RESIDUE:
            return index - 1, "exact"
        if residue == NEAR_DUPLICATE_RESIDUE:
            return index - 1, "near"
        return None

    def _content(self, index: int) -> tuple[str, list[str], int]:
        source = self.source
        rank = (index * self._stride + 12_345) % self._subsets
        picks = _unrank_combination(rank, len(source.paragraphs), PARAGRAPHS_PER_ARTICLE)
        rotation = index % PARAGRAPHS_PER_ARTICLE
        picks = picks[rotation:] + picks[:rotation]
        region = REGIONS[(index * 7 + index // len(REGIONS)) % len(REGIONS)]
        year = 2021 + index % 5
        base_title = YEAR_PREFIX_RE.sub("", source.titles[picks[0]])
        place = next((p for p in SEED_PLACES if p in base_title), None)
        title = base_title.replace(place, region) if place else region + base_title
        paragraphs = [source.paragraphs[p] for p in picks]
        if place:  # the lead paragraph answers the title, so it names the same place
            paragraphs[0] = paragraphs[0].replace(place, region)
        days = 2 + index % 13
        paragraphs.append(
            f"据{region}医保经办机构统计,{year}年此类咨询约{1000 + (index * 37) % 9000}件,"
            f"平均办理时长{days}个工作日,服务编号HN{index:07d}。")
        if index % 6 == 1 and source.preamble:
            paragraphs.insert(0, source.preamble)
        return f"{year}年{title}", paragraphs, days

    def article(self, index: int) -> Article:
        duplicate = self.duplicate_source(index)
        content_index = duplicate[0] if duplicate else index
        title, paragraphs, days = self._content(content_index)
        if duplicate and duplicate[1] == "near":
            title += "(更新)"
            paragraphs[-1] = paragraphs[-1].replace(f"时长{days}个", f"时长{days + 1}个")
        style = {4: STYLE_BR, 5: STYLE_LIST}.get(content_index % 9, STYLE_P)
        neighbours = [(index + step) % self.count for step in (1, 2, 5, 11)]
        related = tuple(dict.fromkeys(self.first_id + n for n in neighbours if n != index))
        tags_start = index % len(self.hot_tags) if self.hot_tags else 0
        return Article(
            id=self.first_id + index,
            title=title,
            published=self.newest_date - timedelta(days=content_index // ARTICLES_PER_DAY),
            paragraphs=tuple(paragraphs),
            content_html=render_paragraphs(paragraphs, style),
            disclaimer=self.source.disclaimer,
            hot_tags=self.hot_tags[tags_start:tags_start + 3] if index % 4 == 0 else (),
            related=related,
        )


class DuplicateMap(Mapping[str, str]):
    """Lazy `duplicate path -> original path` view over the synthetic range (no per-item memory)."""

    def __init__(self, articles: SyntheticArticles, kinds: frozenset[str]) -> None:
        self._articles = articles
        self._kinds = kinds

    def __getitem__(self, path: str) -> str:
        article_id = article_id_of(path)
        if article_id is None or not self._articles.contains(article_id):
            raise KeyError(path)
        found = self._articles.duplicate_source(self._articles.index_of(article_id))
        if found is None or found[1] not in self._kinds:
            raise KeyError(path)
        return article_path(self._articles.first_id + found[0])

    def __iter__(self) -> Iterator[str]:
        for index in range(self._articles.count):
            found = self._articles.duplicate_source(index)
            if found is not None and found[1] in self._kinds:
                yield article_path(self._articles.first_id + index)

    def __len__(self) -> int:
        count = self._articles.count
        total = 0
        for residue, kind in ((EXACT_DUPLICATE_RESIDUE, "exact"), (NEAR_DUPLICATE_RESIDUE, "near")):
            if kind in self._kinds:
                total += count // DUPLICATE_PERIOD + (1 if count % DUPLICATE_PERIOD > residue else 0)
        return total


def source_from_articles(articles: Sequence[Article], disclaimer: str | None) -> SyntheticSource:
    """Pool: titles and distinct answer paragraphs of the base pages built from related items."""
    seen: list[str] = []
    titles: list[str] = []
    for article in articles:
        for paragraph in article.paragraphs:
            if paragraph.startswith(PREAMBLE_PREFIX) or len(paragraph) < 40:
                continue
            if any(paragraph in other or other in paragraph for other in seen):
                continue
            seen.append(paragraph)
            titles.append(article.title)
    preamble = next((p for a in articles for p in a.paragraphs if p.startswith(PREAMBLE_PREFIX)), None)
    return SyntheticSource(paragraphs=tuple(seen), titles=tuple(titles), disclaimer=disclaimer,
                           preamble=preamble)
