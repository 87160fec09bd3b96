"""Text normalization, date parsing and byte decoding: the policies every other part relies on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.blocks import Block
from pipelines.decode import MAX_INPUT_BYTES, charset_from_content_type, decode_bytes
from pipelines.lines import is_noise, is_published_line, match_loose_meta, match_meta, match_meta_general
from pipelines.patterns.layout import RELATED_HEADING, SECTION_HEADING
from pipelines.related import parse_related
from pipelines.split import collect_answer, strip_preamble
from pipelines.text import find_date, normalize_text, parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("提示：本内容不能代替面诊，如有不适请尽快就医。", "提示:本内容不能代替面诊,如有不适请尽快就医。"),
        ("ＡＢＣ１２３（医保）", "ABC123(医保)"),
        ("  医保\u3000卡号\u00a0是\t\n多少  ", "医保 卡号 是 多少"),
        ("医\u200b保\u200c卡\u200d号\ufeff", "医保卡号"),
        ("CJK punctuation stays: 。、“”《》", "CJK punctuation stays: 。、“”《》"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_is_idempotent_on_seed_lines(seed_paths):
    for path in seed_paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            once = normalize_text(line)
            assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-05-16", date(2025, 5, 16)),
        ("2025年05月16日", date(2025, 5, 16)),
        ("2025年5月6日", date(2025, 5, 6)),
        ("2025/5/16", date(2025, 5, 16)),
        ("2025.05.16", date(2025, 5, 16)),
        ("２０２５－０５－１６", date(2025, 5, 16)),
        ("2025-06-02T09:30:00+08:00", date(2025, 6, 2)),
        ("2025-02-30", None),
        ("健康新闻 2025-05-16", None),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_find_date_inside_text():
    assert find_date("发布时间:2025年06月02日 09:30 浏览 1024") == date(2025, 6, 2)
    assert find_date("Published March 1, 2025") == date(2025, 3, 1)
    assert find_date("编号HN0000005,2021年此类咨询约1185件") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("健康新闻 2025-05-16", ("健康新闻", date(2025, 5, 16))),
        ("健康新闻 2025年05月16日", ("健康新闻", date(2025, 5, 16))),
        ("健康新闻 2025/5/16", ("健康新闻", date(2025, 5, 16))),
        ("2025-05-16 健康新闻", ("健康新闻", date(2025, 5, 16))),
        ("健康新闻 | 2025.05.16 10:30", ("健康新闻", date(2025, 5, 16))),
        ("2025年05月16日", (None, date(2025, 5, 16))),
        ("2025年新疆胡杨河异地就医备案失败怎么办", None),
        ("社保基数2025-05-16调整了吗?", None),
        ("江西萍乡社保基数8400医保卡每月多少", None),
    ],
)
def test_related_meta_line(line, expected):
    assert match_meta(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("健康新闻 2025-05-16 阅读 1234", ("健康新闻", date(2025, 5, 16))),
        ("发布于 2025年5月16日 星期五", (None, date(2025, 5, 16))),
        ("2025-05-14 · 568次浏览", (None, date(2025, 5, 14))),
        ("Insurance · May 12, 2025", ("Insurance", date(2025, 5, 12))),
        ("Insurance · 2 May 2025", ("Insurance", date(2025, 5, 2))),
    ],
)
def test_meta_line_with_counters_weekdays_and_english_dates(line, expected):
    assert match_meta(line) == expected


@pytest.mark.parametrize(
    ("line", "hint", "expected"),
    [
        ("04-18", date(2025, 4, 20), (None, date(2025, 4, 18))),
        ("医保 5月16日", date(2025, 6, 1), ("医保", date(2025, 5, 16))),
        ("12-30", date(2025, 1, 5), (None, date(2024, 12, 30))),  # after the page date: the year before
        ("04-18", None, (None, None)),  # no page date: the year is unknown
        ("3天前", date(2025, 4, 20), (None, None)),
        ("Insurance · 2 days ago", None, ("Insurance", None)),
        ("昨天 10:30", None, (None, None)),
        ("13-45", date(2025, 4, 20), None),
        ("医保卡钱不够可以用统筹吗", date(2025, 4, 20), None),
    ],
)
def test_loose_related_dates(line, hint, expected):
    assert match_loose_meta(line, hint) == expected


@pytest.mark.parametrize(
    ("text", "heading"),
    [("相关推荐", "related"), ("【相关推荐】", "related"), ("相关推荐 更多>>", "related"), ("— 相关阅读 —", "related"),
     ("猜你喜欢", "related"), ("延伸阅读", "related"), ("相关问题推荐", "related"), ("You might also like", "related"),
     ("网友评论(2)", "section"), ("其他回答(1)", "section"), ("热门文章", "section"), ("24小时热点", "section"),
     ("2 Responses", "section"), ("Comments (3)", "section"), ("医保问答", None), ("相关", None)],
)
def test_related_and_other_section_headings(text, heading):
    found = "related" if RELATED_HEADING.match(text) else "section" if SECTION_HEADING.match(text) else None
    assert found == heading


@pytest.mark.parametrize(
    ("line", "noise"),
    [("上一篇:医保卡号指的是哪一个", True), ("下一篇:没有了", True), ("分享到:微信 微博", True), ("打开APP,阅读全文", True),
     ("标签:门诊报销 检查费", True), ("(责任编辑:周敏)", True), ("您现在的位置:首页 > 医保 > 正文", True),
     ("Medically reviewed by Dr. Wang Li, Chief Physician", True), ("更多>>", True), ("相关阅读:医保卡密码忘了怎么办", True),
     ("有用(12) 没用(1)", True), ("本文为健康网原创,转载请注明出处。", True), ("相关推荐:", False),
     ("温馨提示:办理时请携带身份证和医保卡原件。", False), ("社保卡上的“社会保障号码”字段直接显示身份证号。", False),
     ("来源:国家医保局发布的2025年医保目录调整方案,共新增药品91种。", False)],
)
def test_chrome_lines(line, noise):
    assert is_noise(normalize_text(line)) is noise


@pytest.mark.parametrize(
    ("line", "published"),
    [("作者:李明 发布日期:2025-05-16 点击:905", True), ("2025/5/16 10:30 来源:康民健康网 阅读:2381", True),
     ("提问时间:2025-04-20 浏览:1536次", True), ("By Health Desk | Updated 16 May 2025", True),
     ("2025年1月1日起职工医保个人账户划入比例调整为2%,退休人员按定额划入。", False),
     ("职工医保缴费比例2025年起有变化", False)],
)
def test_published_line(line, published):
    assert is_published_line(line) is published


def test_question_description_is_not_the_answer():
    blocks = [Block(t) for t in ("问题描述:我的医保卡余额不足了,住院还能用统筹吗?", "最佳答案", "王建华 主治医师 邢台市人民医院",
                                 "可以,符合条件的费用由统筹基金报销。", "回答时间:2025-04-20 18:32", "网友评论(2)",
                                 "说得很清楚。")]
    answer, end, reason = collect_answer(blocks)
    assert answer == ["可以,符合条件的费用由统筹基金报销。"] and reason == "section" and end == 5
    # without a question description a generic `回答` heading is only dropped, nothing is restarted
    answer, _, _ = collect_answer([Block("医保卡可以家庭共济。"), Block("回答"), Block("需先绑定家人。")])
    assert answer == ["医保卡可以家庭共济。", "需先绑定家人。"]


def test_related_items_without_dates_dates_first_and_trailing_nav():
    linked = [Block("2025-05-16"), Block("医保卡号指的是哪一个", href="/1"), Block("摘要一。"),
              Block("2025-05-12"), Block("二代医保卡是社保卡吗", href="/2"), Block("摘要二。"),
              Block("首页 问医生 我的", href="/", link_text="首页")]
    got = [(r.title, r.date, r.snippet) for r in parse_related(linked)]
    assert got == [("医保卡号指的是哪一个", date(2025, 5, 16), "摘要一。"), ("二代医保卡是社保卡吗", date(2025, 5, 12), "摘要二。")]
    undated = [Block("社保退休医保补交规定", href="/3"), Block("北京医保官网查询系统", href="/4"), Block("我的", href="/my")]
    assert [(r.title, r.date) for r in parse_related(undated)] == [("社保退休医保补交规定", None), ("北京医保官网查询系统", None)]
    glued = [Block("[医保]医保钱不够自费能报销吗04-19", href="/5", link_text="医保钱不够自费能报销吗")]
    item = parse_related(glued, year_hint=date(2025, 4, 20))[0]
    assert (item.title, item.category, item.date) == ("医保钱不够自费能报销吗", "医保", date(2025, 4, 19))


@given(st.text(alphabet="健康新闻医保 |·:-,.。/0123456789年月日aZ", max_size=24),
       st.integers(1890, 2110), st.integers(0, 13), st.integers(0, 32))
def test_meta_fast_path_agrees_with_general_path(category, year, month, day):
    for line in (f"{category} {year}-{month:02d}-{day:02d}", f"{category}{year}-{month:02d}-{day:02d}",
                 f"{category} {year}-{month}-{day}", category):
        assert match_meta(line) == match_meta_general(line), line


def test_strip_preamble_keeps_answer_sentences():
    block = "本信息整理自互联网公开渠道,仅供参考,可能存在不准确或滞后之处。职工医保退休后能享受医保待遇。"
    assert strip_preamble(block) == "职工医保退休后能享受医保待遇。"
    assert strip_preamble("本信息整理自互联网公开渠道,仅供参考。如发现内容有误,欢迎联系反馈至:,我们将及时核查并更新。") == ""


def test_decode_prefers_http_charset_then_meta_then_utf8_then_gb18030():
    text = "医保卡号指的是哪一个"
    gbk = f'<html><head><meta charset="gbk"></head><body>{text}</body></html>'.encode("gbk")
    assert decode_bytes(gbk, "text/html; charset=GBK")[:2] == (gbk.decode("gb18030"), "gb18030")
    decoded, codec, errors = decode_bytes(gbk)  # meta only
    assert text in decoded and codec == "gb18030" and errors == []
    bare = text.encode("gb2312")  # no label anywhere: utf-8 fails, gb18030 guessed and reported
    decoded, codec, errors = decode_bytes(bare)
    assert decoded == text and errors == ["charset_guessed:gb18030"]
    assert decode_bytes("\ufeff医保".encode("utf-8"))[0] == "医保"
    assert decode_bytes("医保".encode("utf-16"))[0] == "医保"


def test_decode_wrong_label_and_truncation():
    utf8 = "医保卡号".encode()
    # UTF-8 bytes mislabelled as latin-1 / gbk would decode "fine" into mojibake: UTF-8 wins.
    for label in ("iso-8859-1", "gbk"):
        decoded, codec, errors = decode_bytes(utf8, f"text/html; charset={label}")
        assert (decoded, codec) == ("医保卡号", "utf-8") and errors[0].startswith("charset_mismatch:")
    gbk = "医保卡号".encode("gbk")  # GBK bytes labelled utf-8: strict utf-8 fails, gb18030 rescues
    decoded, codec, errors = decode_bytes(gbk, "text/html; charset=utf-8")
    assert decoded == "医保卡号" and "charset_mismatch:utf-8" in errors
    big = ("医" * (MAX_INPUT_BYTES // 3 + 10)).encode()
    decoded, _, errors = decode_bytes(big)
    assert "truncated_input" in errors and set(decoded) == {"医"}
    assert charset_from_content_type('text/html; charset="UTF-8"') == "utf-8"
    assert charset_from_content_type("text/html") is None


_GATED = ("NOISE_LINE", "BREADCRUMB", "CHROME_LINE", "ALSO_SEARCHED", "RELATED_HEADING", "SECTION_HEADING",
          "ANSWER_HEADING", "DATE_FIELD_LINE", "QUESTION_LABEL")


@given(st.text(alphabet="相关推荐阅读评论热门网友首页上一篇标签:>» 【】—-|()[]·2024年05月16日RrMmCcHhYy问题描述答案回最佳", max_size=16))
def test_first_character_gates_never_hide_a_match(text):
    """The splitter skips a marker regex when the line's first character is not in the regex's
    `first_chars` set: that must never hide a line the regex would match."""
    from pipelines.patterns import layout

    for name in _GATED:
        pattern = getattr(layout, name)
        gate = layout.first_chars(pattern)
        assert gate is not None, name
        if pattern.match(text):
            assert text[:1] in gate, (name, text)


@pytest.mark.parametrize("line", ["Updated May 16th, 2025", "16th of May 2025", "Last updated on May 16, 2025 · 4 min read",
                                  "By Health Desk | Updated 16 May 2025"])
def test_english_ordinal_dates(line):
    assert find_date(line) == date(2025, 5, 16)


def test_a_second_related_list_continues_only_in_the_same_region():
    content = [Block("相关推荐"), Block("医保卡密码忘了怎么办", href="/1"), Block("健康新闻 2025-05-16"),
               Block("延伸阅读"), Block("医保卡余额怎么查", href="/2"), Block("健康新闻 2025-05-15")]
    assert [r.title for r in parse_related(content[1:])] == ["医保卡密码忘了怎么办", "医保卡余额怎么查"]
    sidebar = content[:3] + [Block("热门推荐", chrome=True), Block("长沙社保15年后每月拿多少", href="/9", chrome=True),
                             Block("健康新闻 2025-03-22", chrome=True)]
    assert [r.title for r in parse_related(sidebar[1:])] == ["医保卡密码忘了怎么办"]


def test_chrome_anchor_href_does_not_leak_and_longest_link_is_the_title():
    from pipelines.blocks import html_to_blocks, parse_html

    html = ('<body><a class="logo" href="/">健康网</a><a class="nav-home" href="/home">首页</a><p>正文第一段。</p>'
            '<ul><li><a href="/c/yb">[医保]</a><a href="/a/1.html">医保钱不够自费能报销吗</a><em>04-19</em></li></ul></body>')
    blocks = html_to_blocks(parse_html(html, []))
    assert [(b.text, b.href, b.link_text) for b in blocks if not b.chrome] == [
        ("正文第一段。", None, None), ("[医保]医保钱不够自费能报销吗04-19", "/a/1.html", "医保钱不够自费能报销吗")]


# --- Session 3, round 2: shapes found on held-out pages (pager rows, player bars, credits, attachments) ---
@pytest.mark.parametrize(
    ("line", "noise"),
    [("第1页 共3页 下一页", True), ("1 2 3 下一页 阅读全文", True), ("上一页 1 2 3 4 尾页", True),
     ("播放 00:00 / 03:25 倍速 全屏", True), ("目录", True), ("打印本页 关闭窗口", True),
     ("图片来源:网络", True), ("(图片来源:视觉中国)", True), ("本文链接:https://www.example.org/a/88.html", True),
     ("附件:1.2025年城乡居民医保缴费标准.pdf", True), ("2.政策问答.docx", True), ("扫一扫在手机打开当前页", True),
     # answer text that merely mentions the same words
     ("1 2 3", False), ("点击播放按钮后,按提示完成刷脸认证即可。", False), ("目录内药品按甲类、乙类分别报销。", False),
     ("报销时需提交发票原件和费用清单.", False), ("图片仅供参考,以实际卡面为准。", False)],
)
def test_round2_chrome_lines(line, noise):
    assert is_noise(normalize_text(line)) is noise


@pytest.mark.parametrize(
    ("line", "expected"),
    [("萍乡社保通 阅读 1.2万 2025-04-27", ("萍乡社保通", date(2025, 4, 27))),
     ("03:12 2025-05-06", (None, date(2025, 5, 6))), ("03:122025-05-06", (None, date(2025, 5, 6))),
     ("萍乡社保通阅读 86252025-04-26", ("萍乡社保通", date(2025, 4, 26))),
     ("健康号·萍乡社保通 2025-04-28 阅读 3.4万", ("健康号·萍乡社保通", date(2025, 4, 28))),
     ("3.5万次播放 2025-05-08", (None, date(2025, 5, 8)))],
)
def test_round2_meta_lines_with_big_counters_and_durations(line, expected):
    assert match_meta(line) == expected
    assert is_published_line(line)


def test_answerer_with_label_restarts_the_answer_after_a_description():
    blocks = [Block(t) for t in ("病情描述:个人账户里只剩几十块钱了,住院还能用统筹吗?", "医生:张建国 主治医师 邢台市人民医院 医保办",
                                 "可以,符合条件的费用由统筹基金报销。", "医生:李芳 副主任医师 河北省人民医院",
                                 "账户用完不影响统筹报销。")]
    answer, _, _ = collect_answer(blocks)
    assert answer == ["可以,符合条件的费用由统筹基金报销。", "账户用完不影响统筹报销。"]


def test_decode_meta_charset_beats_a_server_default_latin1_header():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>医保卡号</body></html>'
    decoded, codec, errors = decode_bytes(page.encode("gb2312"), "text/html; charset=ISO-8859-1")
    assert "医保卡号" in decoded and codec == "gb18030" and errors == ["charset_mismatch:iso8859-1"]
    # without a meta charset the header is all we have (latin-1 never fails: no guessing here)
    bare = "医保卡号".encode("gb2312")
    assert decode_bytes(bare, "text/html; charset=ISO-8859-1")[1] == "iso8859-1"
    # a header that is not a server default still wins over the meta tag
    assert decode_bytes(page.encode("gb2312"), "text/html; charset=gbk")[2] == []


# --- Session 3, round 3: WeChat toolbars, forum floors, lazy-load placeholders, reply counters ---
@pytest.mark.parametrize(
    ("line", "noise"),
    [("- END -", True), ("阅读原文", True), ("赞 在看", True), ("赞赏", True), ("阅读 2.1万", True), ("#医保 12个", True),
     ("#医保 #异地就医", True), ("微信扫一扫", True), ("关注该公众号", True), ("加载中…", True), ("正在加载...", True),
     ("点击查看更多", True), ("回复 引用 举报", True), ("返回列表 发新帖", True), ("沙发 发表于 2025-05-06 10:40", True),
     ("2楼 发表于 2025-05-06 13:05", True), ("楼主", True), ("< >", True),
     # answer text that merely mentions the same words
     ("在看病前先确认医院是否为医保定点。", False), ("阅读原文件后再签字确认。", False), ("#1 住院报销需要哪些材料", False),
     ("沙发等家具不属于医保报销范围。", False), ("2楼为医保服务窗口,可咨询慢特病申请。", False),
     ("关注当地医保公众号可查询缴费记录。", False), ("赞同这个做法的人不多,仍以当地政策为准。", False)],
)
def test_round3_chrome_lines(line, noise):
    assert is_noise(normalize_text(line)) is noise


def test_round3_reply_counter_after_a_related_title_is_not_part_of_it():
    blocks = [Block("医保卡初始密码是多少8个回答", href="/q/1", link_text="医保卡初始密码是多少"),
              Block("社保卡和医保卡密码一样吗(5条回复)", href="/q/2", link_text="社保卡和医保卡密码一样吗"),
              Block("医保卡丢了怎么补办 社保服务中心", href="/q/3", link_text="医保卡丢了怎么补办")]
    assert [r.title for r in parse_related(blocks)] == ["医保卡初始密码是多少", "社保卡和医保卡密码一样吗",
                                                        "医保卡丢了怎么补办 社保服务中心"]  # not a counter: kept


def test_round3_consultant_byline_dropped_but_a_doctor_list_line_stays():
    blocks = [Block("李医保 医保咨询师"), Block("可以到医保经办机构重置密码。"), Block("张友胜 主任医师")]
    answer, _, _ = collect_answer(blocks)
    assert answer == ["可以到医保经办机构重置密码。", "张友胜 主任医师"]


def test_round3_profile_links_labels_and_article_headers():
    from pipelines.blocks import html_to_blocks, parse_html

    html = ('<body><header class="site-header"><a href="/">健康网</a></header><article><header><h1>问题</h1></header>'
            '<div><a href="/space-uid-7.html">老张头</a></div><p>正文。</p><a href="/a/2.html">医保卡丢了怎么补办</a>'
            '<label>栏目跳转:</label><select><option>医保</option></select></article></body>')
    blocks = html_to_blocks(parse_html(html, []))
    assert [b.text for b in blocks if not b.chrome] == ["问题", "正文。", "医保卡丢了怎么补办"]


@pytest.mark.parametrize(
    ("line", "noise"),
    [("12 已赞过 已踩过< 你对这个回答的评价是? 评论 收起", True), ("3 评论", True),
     ("12 个月内可补缴。", False), ("120 急救电话", False)],
)
def test_round3_vote_bar_after_its_count(line, noise):
    assert is_noise(normalize_text(line)) is noise


def test_round3_markdown_dump_lines():
    from pipelines.blocks import text_to_blocks

    blocks = text_to_blocks("# 问题\n\n> 引用段落\n>\n## 小标题\n- 要点一\n- [医保卡丢了怎么补办](https://x.example/a/1.html)\n")
    assert [(b.text, b.href, b.marker) for b in blocks] == [
        ("问题", None, None), ("引用段落", None, None), ("小标题", None, None), ("要点一", None, "•"),
        ("医保卡丢了怎么补办", "https://x.example/a/1.html", None)]
    # a plain dump (no `# ` title, no `## ` sections) keeps its lines as they are
    assert [b.text for b in text_to_blocks("医保卡\n- 不是列表的破折号\n")] == ["医保卡", "- 不是列表的破折号"]
