"""Article model and the base (non-synthetic) article set built from the bundled seeds.

Id layout (stable, so tests and docs can rely on it):
  1..S          one page per seed dump, answer rendered in the shape its dump suggests;
  S+1..         one page per related item of every seed (snippet = answer, its date = publish date),
                each with a 相关推荐 list of sibling items from the same seed;
  then          two near-duplicate variants and one re-post (exact duplicate) — see `BaseSite`.
Id 0 is never an article: it is the deliberate broken link (404).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from healthnews.sample_site.content import (
    PREAMBLE_PREFIX,
    STYLE_BR,
    STYLE_LIST,
    STYLE_P,
    render_paragraphs,
    render_plain_lines,
    render_seed_answer,
    split_snippet,
    summary_of,
)
from healthnews.sample_site.seed_reader import SeedPage

HOT_TAGS = ("医保报销", "社保卡", "异地就医", "医保卡", "养老金", "医院排名", "社保基数", "医保电子凭证")
BROKEN_ID = 0
BROKEN_TITLE = "医保个人账户余额查询方法汇总"
BROKEN_SNIPPET = "医保个人账户余额可以通过国家医保服务平台APP、当地医保公众号或12393热线查询,具体步骤如下。"
PUBLISH_HOUR = time(2, 0, tzinfo=UTC)  # 10:00 Beijing time
NEAR_DUP_JACCARD = 0.8


@dataclass(frozen=True)
class Article:
    """One article as the site knows it; `paragraphs` is the plain-text ground truth of the answer."""

    id: int
    title: str
    published: date
    paragraphs: tuple[str, ...]
    content_html: str
    disclaimer: str | None
    hot_tags: tuple[str, ...] = ()
    related: tuple[int, ...] | None = ()
    last_modified: datetime | None = None
    charset: str = "utf-8"
    friend_links: tuple[tuple[str, str], ...] = ()
    summary_override: str | None = None

    @property
    def path(self) -> str:
        return article_path(self.id)

    @property
    def summary(self) -> str:
        return self.summary_override if self.summary_override is not None else summary_of(self.paragraphs)

    @property
    def modified(self) -> datetime:
        return self.last_modified or datetime.combine(self.published, PUBLISH_HOUR)


def article_path(article_id: int) -> str:
    return f"/article/{article_id}.html"


_PATH_RE = re.compile(r"^/article/(\d+)\.html$")


def article_id_of(path: str) -> int | None:
    match = _PATH_RE.match(path)
    return int(match.group(1)) if match else None


def shingles(text: str, size: int = 3) -> frozenset[str]:
    compact = re.sub(r"\s+", "", text)
    return frozenset(compact[i:i + size] for i in range(max(1, len(compact) - size + 1)))


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    return len(left & right) / len(left | right) if left or right else 1.0


def tweak_lines(lines: Sequence[str]) -> list[str]:
    """A near-duplicate edit: bump the first number after the first line, else append a note."""
    out = list(lines)
    for index in range(1, len(out)):
        match = re.search(r"\d+", out[index])
        if match:
            bumped = str(int(match.group()) + 1)
            out[index] = out[index][:match.start()] + bumped + out[index][match.end():]
            return out
    out[-1] = out[-1] + "(转载)"
    return out


def _gbk_ok(article: Article) -> bool:
    try:
        (article.title + "".join(article.paragraphs) + (article.disclaimer or "")).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class BaseSite:
    """The base article set and which article plays which awkward role."""

    articles: dict[int, Article]
    gbk_id: int
    flaky_id: int
    ssrf_id: int
    broken_host_id: int
    tracking_id: int
    mirror_id: int
    no_related_id: int | None
    near_duplicate_pairs: list[tuple[int, int]]
    exact_duplicate_pairs: list[tuple[int, int]]
    order: list[int] = field(default_factory=list)  # listing order, newest first


def _seed_article(article_id: int, seed: SeedPage, published: date, related: tuple[int, ...] | None,
                  blocks: Sequence[Sequence[str]]) -> Article:
    lines = [line for block in blocks for line in block]
    single_block_lines = len(blocks) == 1 and len(blocks[0]) > 1 and all(not ln[:1].isspace() for ln in lines)
    html = render_plain_lines(lines) if single_block_lines else render_seed_answer(blocks)
    return Article(id=article_id, title=seed.title, published=published,
                   paragraphs=tuple(line.strip() for line in lines), content_html=html,
                   disclaimer=seed.disclaimer,
                   hot_tags=seed.hot_tags or (HOT_TAGS[:5] if seed.has_hot_search_section else ()),
                   related=related)


def _snippet_style(position: int, paragraph_count: int) -> str:
    if position % 6 == 2:
        return STYLE_BR
    if position % 6 == 4 and paragraph_count >= 3:
        return STYLE_LIST
    return STYLE_P


def build_base_site(seeds: Sequence[SeedPage]) -> BaseSite:
    """Deterministically turn the seed dumps into the base article set with its awkward roles."""
    all_dates = [item.published for seed in seeds for item in seed.related] or [date(2025, 1, 1)]
    fallback_date = min(all_dates) - timedelta(days=7)
    disclaimers = [seed.disclaimer for seed in seeds if seed.disclaimer]
    short_disclaimer = min(disclaimers, key=len) if disclaimers else None
    preambles = [line.strip() for seed in seeds for block in seed.answer_blocks for line in block
                 if line.strip().startswith(PREAMBLE_PREFIX)]
    articles: dict[int, Article] = {}
    next_id = len(seeds) + 1
    generated: list[int] = []
    for seed_index, seed in enumerate(seeds, start=1):
        ids = tuple(range(next_id, next_id + len(seed.related)))
        next_id += len(seed.related)
        published = max((item.published for item in seed.related), default=fallback_date)
        related = ids if seed.has_related_section else None
        articles[seed_index] = _seed_article(seed_index, seed, published, related, seed.answer_blocks)
        count = len(ids)
        for position, (article_id, item) in enumerate(zip(ids, seed.related, strict=True)):
            siblings = [ids[(position + step) % count] for step in (1, 2, 4, 7)]
            sibling_ids = tuple(dict.fromkeys(s for s in siblings if s != article_id))
            if position % 5 == 0:
                sibling_ids += (seed_index,)
            paragraphs = split_snippet(item.snippet)
            if position % 7 == 3 and preambles:
                paragraphs = [preambles[0], *paragraphs]
            style = _snippet_style(position, len(paragraphs))
            articles[article_id] = Article(
                id=article_id, title=item.title, published=item.published, paragraphs=tuple(paragraphs),
                content_html=render_paragraphs(paragraphs, style), disclaimer=short_disclaimer,
                hot_tags=HOT_TAGS[position % 4: position % 4 + 3] if position % 3 == 0 else (),
                related=sibling_ids, summary_override=item.snippet)
            generated.append(article_id)
    return _assign_roles(seeds, articles, generated, next_id)


def _natural_near_duplicates(articles: dict[int, Article], generated: list[int]) -> list[tuple[int, int]]:
    sets = {i: shingles(" ".join(articles[i].paragraphs)) for i in generated}
    pairs = []
    for left_pos, left in enumerate(generated):
        for right in generated[left_pos + 1:]:
            if articles[left].title != articles[right].title and jaccard(sets[left], sets[right]) >= NEAR_DUP_JACCARD:
                pairs.append((left, right))
    return pairs


def _assign_roles(seeds: Sequence[SeedPage], articles: dict[int, Article], generated: list[int],
                  next_id: int) -> BaseSite:
    natural = _natural_near_duplicates(articles, generated)
    in_pairs = {i for pair in natural for i in pair}
    free = [i for i in generated if i not in in_pairs]
    if len(free) < 12:
        raise ValueError("the seeds yield too few related items to build the sample site")

    # Near-duplicate variants: of the first seed page with a related list, and of the longest free page.
    seed_with_related = next(i for i, seed in enumerate(seeds, start=1) if seed.has_related_section)
    seed = seeds[seed_with_related - 1]
    flat = [line for block in seed.answer_blocks for line in block]
    tweaked, offset = tweak_lines(flat), 0
    blocks = []
    for block in seed.answer_blocks:
        blocks.append(tuple(tweaked[offset:offset + len(block)]))
        offset += len(block)
    original = articles[seed_with_related]
    variant_one = replace(_seed_article(next_id, seed, original.published + timedelta(days=1),
                                       original.related, blocks), title="转载:" + original.title)
    articles[next_id] = variant_one
    longest = max(free[len(free) // 2:], key=lambda i: len(" ".join(articles[i].paragraphs)))
    free.remove(longest)
    source = articles[longest]
    paragraphs = tweak_lines(source.paragraphs)
    articles[next_id + 1] = replace(
        source, id=next_id + 1, title="转载:" + source.title, published=source.published + timedelta(days=1),
        paragraphs=tuple(paragraphs), content_html=render_paragraphs(paragraphs, STYLE_P),
        summary_override=None)
    near_pairs = [*natural, (seed_with_related, next_id), (longest, next_id + 1)]

    # Exact duplicate #1: a re-post of another seed page under a new id (same content and date).
    repost_source = next(i for i, s in enumerate(seeds, start=1) if s.has_related_section and i != seed_with_related)
    articles[next_id + 2] = replace(articles[repost_source], id=next_id + 2)
    mirror_id = next((i for i, s in enumerate(seeds, start=1) if s.has_related_section
                      and i not in (seed_with_related, repost_source)), seed_with_related)
    exact_pairs = [(repost_source, next_id + 2)]

    step = len(free) // 8
    flaky_id, ssrf_id, broken_host_id = free[3 * step], free[5 * step], free[7 * step]
    gbk_id = next(i for i in free[step:] if _gbk_ok(articles[i]) and i not in (flaky_id, ssrf_id, broken_host_id))
    articles[gbk_id] = replace(articles[gbk_id], charset="gbk")
    articles[ssrf_id] = replace(articles[ssrf_id], friend_links=(
        ("http://169.254.169.254/latest/meta-data/", "云服务状态"),
        ("http://10.0.0.1/admin", "内部管理后台"),
        ("/list/1.html", "健康问答"),
    ))
    host = articles[broken_host_id]
    related = host.related or ()
    articles[broken_host_id] = replace(host, related=related[:2] + (BROKEN_ID,) + related[2:])

    no_related = next((i for i, s in enumerate(seeds, start=1) if not s.has_related_section), None)
    order = sorted(articles, key=lambda i: (-articles[i].published.toordinal(), i))
    roles = {gbk_id, flaky_id, ssrf_id, broken_host_id}
    tracking_id = next(i for i in order[1:] if i not in roles)
    return BaseSite(articles=articles, gbk_id=gbk_id, flaky_id=flaky_id, ssrf_id=ssrf_id,
                    broken_host_id=broken_host_id, tracking_id=tracking_id, mirror_id=mirror_id,
                    no_related_id=no_related, near_duplicate_pairs=near_pairs,
                    exact_duplicate_pairs=exact_pairs, order=order)
