"""Robustness: markup variations must not change the record; bad input must never raise.

The page model comes from the sample site's seed reader (independent of the parser): title,
answer lines, related items. Hypothesis renders it in many shapes - wrapper layout, `<p>` / `<br>` /
`<div>` paragraphs, ads and scripts spliced in, full-width punctuation, different related-date
styles and containers - and every rendering must parse to the same title, answer and related list.
"""

from __future__ import annotations

import os
import time
from datetime import date
from html import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthnews.sample_site.seed_reader import load_bundled_seeds
from pipelines.parse import parse_page
from pipelines.text import normalize_text

RECORD_KEYS = {"source", "url", "title", "answer", "answer_paragraphs", "kind", "published", "related",
               "ranking", "policy", "errors", "extractor_version", "content_sha1"}
_FULLWIDTH = str.maketrans({",": "，", ":": "：", "(": "（", ")": "）", "?": "？", "!": "！", ";": "；",
                            "0": "０", "1": "１", "2": "２", "5": "５"})

SEEDS = [s for s in load_bundled_seeds() if s.related][:2]  # two Chinese seeds with related lists


def _model(seed):
    lines = [line.strip() for block in seed.answer_blocks for line in block]
    answer = [normalize_text(x) for x in lines if x and not x.startswith("本信息整理自")]
    related = [(normalize_text(r.title), r.published, normalize_text(r.snippet)) for r in seed.related[:6]]
    return seed, answer, related


MODELS = [_model(s) for s in SEEDS]


def _date_line(day: date, style: str) -> str:
    return {
        "iso": f"健康新闻 {day.isoformat()}",
        "zh": f"健康新闻 {day.year}年{day.month:02d}月{day.day:02d}日",
        "zh_short": f"{day.year}年{day.month}月{day.day}日",
        "slash": f"{day.year}/{day.month}/{day.day} 健康新闻",
        "dot_pipe": f"健康新闻 | {day.year}.{day.month:02d}.{day.day:02d}",
        "dot": f"{day.year}.{day.month:02d}.{day.day:02d}",
        "zh_time": f"{day.year}年{day.month:02d}月{day.day:02d}日 10:30",
        "labelled": f"来源:健康新闻 发布于 {day.isoformat()}",
    }[style]


# Page furniture of other sites placed around the answer and the related list: none of it may
# reach the answer or the related items.
AFTER_ANSWER = [
    '<div class="bdshare">分享到:<a href="#">微信</a> <a href="#">微博</a></div>',
    '<div class="pn"><p>上一篇:<a href="/p/1.html">医保卡丢了怎么补办</a></p><p>下一篇:<a href="/p/2.html">医保断缴怎么办</a></p></div>',
    '<p class="tags">标签:<a href="/t/1">医保</a> <a href="/t/2">报销</a></p>',
    "<p>(责任编辑:李明)</p>",
]
AFTER_RELATED = [
    '<div class="box"><div class="hd">热门文章</div><ul><li><a href="/h/1.html">长沙个人缴纳社保每月要多少钱</a>'
    "<span>2025-03-23</span></li><li><a href=\"/h/2.html\">内蒙古范围内医保卡通用吗</a><span>2025-03-22</span></li></ul></div>",
    '<div class="pl"><div class="pl-hd">网友评论(2)</div><div><b>网友a</b> <span>2025-05-17 10:22</span><p>说得很清楚。</p></div>'
    "<div><b>安心</b> <span>2025-05-18 09:00</span><p>谢谢。</p></div></div>",
    '<div class="bar"><a href="/">首页</a><a href="/ask">问医生</a><a href="/my">我的</a></div>',
]
RELATED_HEADINGS = ["相关推荐", "相关阅读", "猜你喜欢", "延伸阅读", "【相关文章】", "相关推荐 更多>>"]


AD_BLOCKS = [
    '<div class="ad-banner"><a href="https://ads.example/x">立即咨询专家，免费领取攻略！</a></div>',
    '<script>document.write("相关推荐 提示:本内容不能代替面诊");</script>',
    '<ins class="adsbygoogle">广告</ins>',
    "<style>.x{color:red}</style>",
    "<noscript>请开启JavaScript</noscript>",
]


@st.composite
def renderings(draw):
    seed, answer, related = draw(st.sampled_from(MODELS))
    wrapper = draw(st.sampled_from(["article", "divsoup", "table"]))
    para_style = draw(st.sampled_from(["p", "br", "div"]))
    date_style = draw(st.sampled_from(["iso", "zh", "zh_short", "slash", "dot_pipe", "dot", "zh_time", "labelled"]))
    related_style = draw(st.sampled_from(["ul", "dl", "div", "table", "date_first", "card", "oneline"]))
    heading = draw(st.sampled_from(RELATED_HEADINGS))
    after_answer = draw(st.lists(st.sampled_from(AFTER_ANSWER), max_size=3, unique=True))
    after_related = draw(st.lists(st.sampled_from(AFTER_RELATED), max_size=2, unique=True))
    fullwidth = draw(st.booleans())
    with_disclaimer = draw(st.booleans())
    ads = draw(st.lists(st.tuples(st.integers(0, len(answer)), st.sampled_from(AD_BLOCKS)), max_size=4))

    def fw(text: str) -> str:
        return text.translate(_FULLWIDTH) if fullwidth else text

    body = []
    for i, line in enumerate(answer):
        body.extend(ad for pos, ad in ads if pos == i)
        text = escape(fw(line))
        body.append({"p": f"<p>{text}</p>", "br": f"{text}<br>", "div": f"<div>{text}</div>"}[para_style])
    body.extend(ad for pos, ad in ads if pos == len(answer))
    if with_disclaimer:
        body.append(f"<p>{fw('提示:本内容不能代替面诊,如有不适请尽快就医。')}</p><p>用药务必遵医嘱。</p>")
    body.extend(after_answer)
    items = []
    for title, day, snippet in related:
        meta = escape(_date_line(day, date_style))
        snippet = escape(fw(snippet))
        href = f"/a/{len(items)}.html"
        if related_style == "table":
            items.append(f'<tr><td><a href="{href}">{escape(fw(title))}</a></td><td>{snippet}</td><td>{meta}</td></tr>')
        elif related_style == "date_first":
            items.append(f'<div class="it"><div>{meta}</div><a href="{href}"><div>{escape(fw(title))}</div></a>'
                         f"<div>{snippet}</div></div>")
        elif related_style == "card":
            items.append(f'<li><a href="{href}"><div>{escape(fw(title))}</div><div>{snippet}</div>'
                         f"<div>{meta}</div></a></li>")
        elif related_style == "oneline":
            items.append(f'<li><a href="{href}">{escape(fw(title))}</a><span>{meta}</span></li>')
        elif related_style == "ul":
            items.append(f'<li><a href="/a/{len(items)}.html">{escape(fw(title))}</a><p>{snippet}</p>'
                         f"<span>{meta}</span></li>")
        elif related_style == "dl":
            items.append(f'<dl><dt><a href="/a/{len(items)}.html">{escape(fw(title))}</a></dt>'
                         f"<dd>{snippet}</dd><dd>{meta}</dd></dl>")
        else:
            items.append(f'<div><a href="/a/{len(items)}.html">{escape(fw(title))}</a></div>'
                         f"<div>{snippet}</div><div>{meta}</div>")
    wrap = {"ul": "<ul>{}</ul>", "card": "<ul>{}</ul>", "oneline": "<ul>{}</ul>", "table": "<table>{}</table>"}
    related_html = f"<h3>{heading}</h3>" + wrap.get(related_style, "{}").format("".join(items)) + "".join(after_related)
    title = f"<h1>{escape(fw(seed.title))}</h1>"
    head = f"<head><meta charset='utf-8'><title>{escape(seed.title)}_某网</title><script>var a='首页';</script></head>"
    nav = '<div class="nav"><a href="/">首页</a> <a href="/list">问答</a></div>'
    footer = '<div class="footer"><a href="/">首页</a> <a href="#top">顶部</a><p>Copyright © 2025</p></div>'
    if wrapper == "article":
        page = f"<body>{nav}<article>{title}<section>{''.join(body)}</section></article>" \
               f"<aside>{related_html}</aside>{footer}</body>"
    elif wrapper == "divsoup":
        page = f"<body><div id='top'>{nav}</div><div class='main'><div class='box'>{title}" \
               f"<div class='content'>{''.join(body)}</div></div><div class='rel'>{related_html}</div></div>" \
               f"{footer}</body>"
    else:
        page = f"<body><table><tr><td>{nav}</td></tr><tr><td>{title}{''.join(body)}</td>" \
               f"<td>{related_html}</td></tr><tr><td>{footer}</td></tr></table></body>"
    if related_style == "oneline":  # a one-line item has no snippet
        related = [(title, day, "") for title, day, _ in related]
    category = None if date_style in ("zh_short", "dot", "zh_time") else "健康新闻"
    return f"<!DOCTYPE html><html>{head}{page}</html>", seed, answer, related, category


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(renderings())
def test_markup_variations_give_the_same_record(case):
    html, seed, answer, related, category = case
    record = parse_page(html.encode("utf-8"), url="http://example.org/q/1.html")
    assert record["errors"] == []
    assert record["title"] == normalize_text(seed.title)
    assert record["answer_paragraphs"] == answer
    assert [(r["title"], r["date"], r["snippet"]) for r in record["related"]] == related
    assert {r["category"] for r in record["related"]} == {category}
    assert [r["url"] for r in record["related"]] == [f"http://example.org/a/{i}.html" for i in range(len(related))]


def test_full_width_text_dump_equals_half_width(seed_paths):
    text = seed_paths[0].read_text(encoding="utf-8")
    wide = text.translate(_FULLWIDTH).replace(" ", "\u3000")
    a, b = parse_page(text), parse_page(wide)
    for key in ("title", "answer", "answer_paragraphs", "content_sha1"):
        assert a[key] == b[key]
    assert [(r["title"], r["date"], r["snippet"]) for r in a["related"]] == \
           [(r["title"], r["date"], r["snippet"]) for r in b["related"]]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "empty_input"),
        ("", "empty_input"),
        (b"   \n\t  ", "empty_input"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not_text"),
        (bytes(4000), "not_text"),
        (b"<!DOCTYPE html>", "no_title"),
        (b"<html><head></head><body></body></html>", "no_title"),
        (b"<html><body><p>only one paragraph and no heading anywhere</p>", "no_answer"),
        ("<?xml version='1.0' encoding='utf-8'?><html><body><h1>标题</h1></body></html>", "no_answer"),
    ],
)
def test_bad_input_gives_error_codes(content, error):
    record = parse_page(content)
    assert set(record) == RECORD_KEYS
    assert error in record["errors"]


def test_truncated_html_still_parses(seed_paths):
    from healthnews.sample_site import SampleSite

    _, _, body = SampleSite().respond("/article/1.html")
    start = body.index(b'class="article-content"')
    cut = body[: body.index(b"</p>", start) + 2]  # mid closing tag, inside the answer
    record = parse_page(cut)
    assert record["title"] == "社会保障号和医保号是一样吗"
    assert len(record["answer_paragraphs"]) == 1 and record["related"] == []
    cut = body[: body.index(b"class=\"related-meta\"") + 27]  # inside the first related meta line
    record = parse_page(cut)
    assert len(record["answer_paragraphs"]) == 12


def test_ten_megabytes_of_junk_is_capped():
    junk = (b"<div>" + os.urandom(64).hex().encode() + b"</div>\n") * 80_000  # ~11 MB
    start = time.perf_counter()
    record = parse_page(junk)
    elapsed = time.perf_counter() - start
    assert "truncated_input" in record["errors"]
    assert elapsed < 10  # generous bound on a loaded CI box; the cap is what keeps it ~1 s


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000)))
def test_arbitrary_input_never_raises(content):
    record = parse_page(content, content_type="text/html; charset=bogus-charset")
    assert set(record) == RECORD_KEYS
    assert isinstance(record["errors"], list)
    assert not any(e.startswith("parser_error") for e in record["errors"]), record["errors"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "</p>", "<br>", "<li>", "<ul>", "<a href='x'>", "</a>",
                                 "<script>", "</script>", "<h1>", "</h1>", "<!--", "-->", "相关推荐", "提示:本内容",
                                 "健康新闻 2025-05-16", "标题", "&amp;", "<", ">", "\x00", "\u3000"]),
                max_size=80))
def test_tag_soup_never_raises(parts):
    record = parse_page("".join(parts))
    assert not any(e.startswith("parser_error") for e in record["errors"]), record["errors"]


@given(st.text(alphabet="/.?#=&abc:%@-_ 1", max_size=20),
       st.sampled_from(["http://x.org/a/b.html", "https://X.org:8443/a/?q=1", "http://127.0.0.1:8765/article/1.html"]))
def test_related_link_fast_path_equals_urljoin(href, base):
    from urllib.parse import urljoin

    from pipelines.parse import _absolute, _origin

    for candidate in (href, "/" + href, "http://o.org/" + href):
        assert _absolute(candidate, base, _origin(base)) == urljoin(base, candidate)


def test_marker_regexes_do_not_backtrack_exponentially():
    """A nav-like line of many nav words ending in another word made NOISE_LINE try 2^n ways to
    split its spaces (`首页 ` x 16 took > 20 s). Every layout pattern must answer such lines at once:
    a 2 s alarm is 10^5 times the normal cost, so it only fires on a catastrophic pattern."""
    import re
    import signal

    from pipelines.patterns import layout

    def _timeout(signum, frame):
        raise TimeoutError(name)

    lines = ["首页 " * 20 + "医保", "首页1 " * 20 + "x", "— " * 30 + "相关x", "相关推荐" + " —" * 30 + "x", "王 " * 30]
    old = signal.signal(signal.SIGALRM, _timeout)
    try:
        for name in dir(layout):
            pattern = getattr(layout, name)
            if isinstance(pattern, re.Pattern):
                signal.alarm(2)
                for line in lines:
                    pattern.match(line)
                signal.alarm(0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_content_after_a_stray_end_of_document_is_kept():
    """libxml2 drops everything after `</html>`; a browser keeps rendering it. Same record either way."""
    from pipelines.parse import parse_page

    head = "<html><head><meta charset='utf-8'><title>医保码是密码么</title></head><body><h1>医保码是密码么</h1>"
    tail = ("<p>医保码本身不是密码。</p><p>密码用于保护医保账户安全。</p>"
            "<div>相关推荐</div><div><a href='/a/2.html'>医保卡号指的是哪一个</a><span>2025-04-20</span></div>")
    clean = parse_page(head + tail + "</body></html>", url="https://x.example/a/1.html")
    for stray in ("</body></html>", "</BODY>\n</HTML>\n", "</html>", "</body>"):
        broken = head + "<p>医保码本身不是密码。</p>" + stray + tail.split("</p>", 1)[1]
        for content in (broken, broken.encode("utf-8")):
            record = parse_page(content, url="https://x.example/a/1.html")
            assert record["answer_paragraphs"] == clean["answer_paragraphs"] == ["医保码本身不是密码。", "密码用于保护医保账户安全。"]
            assert [r["title"] for r in record["related"]] == ["医保卡号指的是哪一个"]
