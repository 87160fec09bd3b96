"""Text normalization, date parsing and byte decoding: the policies every other part relies on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.decode import MAX_INPUT_BYTES, charset_from_content_type, decode_bytes
from pipelines.split import match_meta, match_meta_general, strip_preamble
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
