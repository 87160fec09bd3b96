"""Policy extraction: region (as written + gazetteer codes), year, topic, insurance schemes and
every stated quantity (`figures`).

Figures are `{label, value, unit}`. The label is the nearest preceding noun phrase inside the
same clause (text after the last punctuation before the number, minus filler words such as
为/约/即); the insurance item in force (养老保险, 医疗保险…) is prefixed when the phrase does not
name it, so "养老保险 : 个人缴纳比例:8%" gives label "养老保险 个人缴纳比例". A number with no own
phrase (8400元 × 8% = 672元) borrows the label of the previous figure with the same unit.
"""

from __future__ import annotations

import re
from functools import lru_cache

import ahocorasick

from pipelines.numbers import parse_number
from pipelines.patterns import entities as P
from pipelines.regions import find_region_prefix, resolve_region

__all__ = ["extract_policy", "extract_figures", "policy_topic", "insurance_schemes"]

_LABEL_MAX = 14
_ITEM_WINDOW = 80
_CN_OK_UNITS = frozenset({"元", "个月", "年", "天", "岁", "倍", "%", "工作日", "小时", "分钟"})
_NOT_BEFORE_NUMBER = frozenset("0123456789.第")


def policy_topic(title: str, text: str) -> str:
    """First topic of the controlled vocabulary matching the title, else the start of the text."""
    for source in (title.lower(), text[: P.BODY_EVIDENCE_CHARS].lower()):
        for topic, pattern in P.POLICY_TOPICS:
            if pattern.search(source):
                return topic
    return P.POLICY_TOPIC_OTHER


_INSURANCE_AC = ahocorasick.Automaton()
for _surface, _scheme in P.INSURANCE_OF_SURFACE.items():
    # the flag: this surface names an item fully enough to label figures (养老保险, not a bare 医保)
    _INSURANCE_AC.add_word(_surface, (len(_surface), _scheme,
                                      _scheme in P.ITEM_SCHEMES and _surface in P.ITEM_SURFACES))
_INSURANCE_AC.make_automaton()


def _insurance_mentions(text: str) -> list[tuple[int, str]]:
    """(position, scheme) of every insurance surface form, leftmost-longest (职工医保 hides the 医保
    inside it): pyahocorasick's `iter_long`, about 3x cheaper than a regex alternation."""
    return [(end - n + 1, scheme) for end, (n, scheme, _) in _INSURANCE_AC.iter_long(text.lower())]


def _mentions_and_items(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """`_insurance_mentions` plus the item mentions among them, in the same automaton pass (the
    item test is precomputed per surface instead of a 21-way startswith per mention)."""
    mentions, items = [], []
    for end, (n, scheme, is_item) in _INSURANCE_AC.iter_long(text.lower()):
        mentions.append((end - n + 1, scheme))
        if is_item:
            items.append(mentions[-1])
    return mentions, items


def insurance_schemes(text: str, mentions: list[tuple[int, str]] | None = None) -> list[str]:
    """Insurance schemes named in `text`, in order of first mention; a specific scheme
    (职工医保) hides the generic one (医疗保险) at the same place."""
    seen: list[str] = []
    for _, name in mentions if mentions is not None else _insurance_mentions(text):
        if name not in seen:
            seen.append(name)
    return seen


_TRAIL_BY_LAST: dict[str, tuple[str, ...]] = {}
for _word in P.LABEL_TRAIL_WORDS:
    _TRAIL_BY_LAST[_word[-1]] = (*_TRAIL_BY_LAST.get(_word[-1], ()), _word)


def _strip_trail(label: str) -> str:
    while True:
        label = label.rstrip(P.LABEL_TRAIL_CHARS)
        for word in _TRAIL_BY_LAST.get(label[-1:], ()):
            if label.endswith(word):
                label = label[: -len(word)]
                break
        else:
            return label


def _strip_lead(label: str) -> str:
    m = P.LABEL_LEAD.match(label)
    return label[m.end():] if m else label


_HAS_LETTER = re.compile(r"[A-Za-z]")
_EN_CLAUSE_SPLIT = re.compile(r"[,;:()!?]|\.(?:\s|$)|\b(?:and|or|while|but)\b", re.I)


def _clean_label_en(raw: str) -> str:
    """English label: the last clause's last words without stopwords at either end
    ("Employees pay" from "Employees pay 2%"; nothing from "within 30 days")."""
    words = _EN_CLAUSE_SPLIT.split(raw)[-1].split()
    while words and words[-1].lower() in P.EN_LABEL_STOPWORDS:
        words.pop()
    words = words[-P.EN_LABEL_MAX_WORDS:]
    while words and words[0].lower() in P.EN_LABEL_STOPWORDS:
        words.pop(0)
    label = " ".join(words)
    return label if _HAS_LETTER.search(label) else ""


@lru_cache(maxsize=4096)
def _clean_label(raw: str) -> str:
    """Label from the text before a number: last clause, fillers and years dropped, place name
    dropped, tail kept if too long (cached: snippets recur across pages)."""
    if raw.isascii() and _HAS_LETTER.search(raw):
        return _clean_label_en(raw)
    pieces = [p for p in P.LABEL_SPLIT.split(raw) if p and p.strip()]
    if not pieces:
        return ""
    label = _strip_trail(pieces[-1].strip())
    if "年" in label:
        label = P.LABEL_NOISE.sub("", label)
    label = _strip_lead(label)
    place = find_region_prefix(label) if label else None
    if place and len(place.surface) < len(label) - 1:
        label = label[len(place.surface):]
    label = _strip_lead(_strip_trail(label)).rstrip("的")
    if len(label) > _LABEL_MAX:  # keep the head noun: the part after the last 的, else after 为
        for sep in ("的", "为"):
            tail = label.rsplit(sep, 1)[-1]
            if 2 <= len(tail) < len(label) and len(tail) <= _LABEL_MAX:
                label = tail
                break
        else:
            label = label[-_LABEL_MAX:]
    return label if len(label) >= 2 or label in P.LABEL_ONE_CHAR_OK else ""


def _items(text: str, mentions: list[tuple[int, str]] | None,
           items: list[tuple[int, str]] | None = None) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Insurance items usable as label context: all full item names (养老保险, 职工医保…; not a
    bare 医保 or 工伤), and those opening a section (after 。/newline/space or a 一、/1. marker)."""
    if items is None:
        items = [(pos, name) for pos, name in mentions
                 if name in P.ITEM_SCHEMES and text.startswith(P.ITEM_SURFACES, pos)]
    headings = []
    for pos, name in items:
        before = text[pos - 1] if pos else ""
        if pos == 0 or before in P.HEADING_BEFORE or (
                before in "、." and pos >= 2 and text[pos - 2] in P.HEADING_NUMERALS):
            headings.append((pos, name))
    return items, headings


def _last_before(pairs: list[tuple[int, str]], lo: int, hi: int) -> str | None:
    found = None
    for pos, name in pairs:
        if pos >= hi:
            break
        if pos >= lo:
            found = name
    return found


_CN_HINTS = ahocorasick.Automaton()
for _hint in P.CN_FIGURE_HINTS:
    _CN_HINTS.add_word(_hint, _hint)
_CN_HINTS.make_automaton()


# Figure patterns without a unit group, and the unit they stand for.
_FIXED_UNIT = ((P.FIGURE_BARE_WAN, "元"), (P.FIGURE_CURRENCY_FIRST, "元"), (P.FIGURE_CN_PERCENT, "%"),
               (P.FIGURE_CN_PERMILLE, "%"))


def _figure_matches(text: str) -> list[re.Match]:
    """Arabic-number quantities plus, only if a Chinese-numeral unit bigram occurs (C-speed
    Aho-Corasick check), Chinese-numeral ones, plus unit-less 万/亿 amounts (`封顶线40万`; their
    match has no `unit` group), in text order."""
    found = list(P.FIGURE.finditer(text))
    extra = False
    if next(_CN_HINTS.iter(text), None) is not None:
        found += P.CN_FIGURE.finditer(text)
        extra = True
    if "万" in text:  # (a bare 亿 without any 万 in the text is left alone: rare, and a scan costs)
        found += P.FIGURE_BARE_WAN.finditer(text)
        extra = True
    if "百分之" in text:
        found += P.FIGURE_CN_PERCENT.finditer(text)
        extra = True
    if "千分之" in text:
        found += P.FIGURE_CN_PERMILLE.finditer(text)
        extra = True
    if "¥" in text or (text.isascii() and ("RMB" in text or "CNY" in text)):
        found += P.FIGURE_CURRENCY_FIRST.finditer(text)
        extra = True
    if extra:
        found.sort(key=lambda m: m.start())
    return found


def _id_length(text: str, end: int, before: str) -> bool:
    """A `N位` count that gives the length of a number or code (its noun follows, or the sentence
    talks about a 号/码), not a number of people."""
    if text.startswith(P.DIGIT_COUNT_NEXT, end):
        return True
    return any(w in before for w in P.ID_CONTEXT_WORDS) and not any(w in text[end:end + 6] for w in P.PEOPLE_AFTER_COUNT)


def _find_year_en(text: str) -> int | None:
    """`in 2025`, `Since January 1, 2025`: a year after a space, checked by the words before it
    (`find` loops: a regex scan for 4-digit years costs ~15 us on a 2 KB English answer)."""
    found = None
    for lead in (" 19", " 20"):
        i = text.find(lead)
        while i >= 0 and (found is None or i < found):
            year = text[i + 1: i + 5]
            after = text[i + 5: i + 7]
            if (year.isdigit() and not after[:1].isalnum() and not (after[:1] in ",." and after[1:].isdigit())
                    and P.YEAR_EN_BEFORE.search(text, max(0, i - 19), i + 1)):
                found = i
                break
            i = text.find(lead, i + 1)
    return int(text[found + 1: found + 5]) if found is not None else None


def find_year(text: str) -> int | None:
    """First calendar year written as `YYYY年` (1900-2100): a `find` loop, cheaper than a regex scan.
    English text (all ASCII) has no 年: there a year after in/since/from/a month name counts."""
    if text.isascii():
        return _find_year_en(text)
    i = text.find("年")
    while i >= 0:
        if i >= 4 and text[i - 4: i].isdigit() and text[i - 4: i - 2] in ("19", "20") and not (
                i >= 5 and text[i - 5].isdigit()) and not text[i + 1: i + 2].isdigit():
            return int(text[i - 4: i])
        i = text.find("年", i + 1)
    return None


def extract_figures(text: str, mentions: list[tuple[int, str]] | None = None,
                    _items_found: list[tuple[int, str]] | None = None) -> list[dict]:
    """Every quantity with a unit in `text` as `{label, value, unit}` (calendar years excluded)."""
    figures: list[dict] = []
    last_label: dict[str, str] = {}
    prev_end = 0
    prev_unit = prev_label = None
    figure_rx, cn_rx, bare_rx = P.FIGURE, P.CN_FIGURE, P.FIGURE_BARE_WAN
    sentence_start = 0
    if mentions is None and _items_found is None:
        mentions, _items_found = _mentions_and_items(text)
    items, headings = _items(text, mentions, _items_found)
    for m in _figure_matches(text):
        start = m.start()
        if start and text[start - 1] in _NOT_BEFORE_NUMBER:
            continue  # a tail of a longer number, a decimal or an ordinal (第二)
        rx = m.re
        if rx is figure_rx or rx is cn_rx:
            a, am, b, bm, raw_unit = m.group("a", "am", "b", "bm", "unit")
            unit = P.UNIT_CANON.get(raw_unit, raw_unit)
        else:  # identity lookup: hashing a compiled pattern hashes its whole code
            a, am, b, bm = m.group("a", "am", "b", "bm")
            unit = next(u for r, u in _FIXED_UNIT if r is rx)
        arabic = a[0].isdigit()
        if unit == "年" and not b and len(a) == 4 and arabic and 1900 <= int(a) <= 2100:
            continue  # calendar year (2025年), reported as `year` instead
        if unit == "日" and text[max(0, start - 3): start].rstrip().endswith("月"):
            continue  # a date (5月16日)
        if not arabic and unit not in _CN_OK_UNITS:
            continue  # 一个, 三家: words, not stated quantities
        if a == "一" and text.startswith(P.ONE_PER_UNIT_NEXT, m.end()):
            continue  # 一年社保费用: "per year", not a duration
        if arabic and not am and not bm:  # the common case, without the general parser
            values = [float(a.replace(",", ""))]
            if b:
                values.append(float(b.replace(",", "")))
        else:
            values = [parse_number(a, am or (bm if b else None))]
            if b:
                values.append(parse_number(b, bm))
            if rx is P.FIGURE_CN_PERMILLE and values[0] is not None:
                values = [round(values[0] / 10, 6)]  # 千分之五 = 0.5 %
        end = m.end()
        if unit == "元" and not b and values[0] is not None and text[end:end + 1].isdigit():
            cents = P.JIAO_FEN.match(text, end)
            if cents:  # 18元7角2分 = 18.72 元
                jiao, fen = cents.group("jiao") or 0, cents.group("fen") or cents.group("fen_only") or 0
                values[0] = round(values[0] + int(jiao) / 10 + int(fen) / 100, 2)
                end = cents.end()
        dot = text.rfind("。", sentence_start, start)  # only a stop after the current sentence start matters
        if dot >= sentence_start:
            sentence_start = dot + 1
            last_label.clear()
        if unit == "位" and _id_length(text, m.end(), text[max(sentence_start, start - 30): start]):
            continue  # 18位身份证号码, 卡号由12位数字组成: the length of an identifier, not a quantity
        label = _clean_label(text[max(prev_end, sentence_start, start - 40): start])
        if rx is bare_rx and not P.MONEY_LABEL.search(label):
            continue  # a bare 万 that is not money (3200万 people without 人 is not guessed)
        if prev_unit == unit and start - prev_end <= 3 and text[prev_end:start].strip() in P.RANGE_JOINERS:
            figures.extend({"label": prev_label, "value": float(v), "unit": unit}
                           for v in values if v is not None)  # 60%-80%: the other end of a range
            prev_end = m.end()
            continue
        item = (_last_before(items, max(sentence_start, start - _ITEM_WINDOW), start)
                or _last_before(headings, 0, start)) if items else None
        if not label and text.startswith("的", end):
            after = P.FOLLOWING_NOUN.match(text, end)
            label = after.group(1) if after else ""
        if label:
            last_label[unit] = label
        elif unit == "%":
            label = "比例" if item else ""
        else:
            label = last_label.get(unit, "")
        if item and item not in label:
            # a label cut to its last characters may begin inside the item (职工医保在… → 工医保在…): drop that part
            cut = 0
            i = item.find(label[0], 1) if label else -1
            while i > 0:  # longest overlap first
                if label.startswith(item[i:]):
                    cut = len(item) - i
                    break
                i = item.find(label[0], i + 1)
            label = f"{item} {label[cut:]}".strip()
        prev_end = end
        prev_unit, prev_label = unit, label or None
        for value in values:
            if value is not None:
                figures.append({"label": label or None, "value": float(value), "unit": unit})
    return figures


def _body_lead_region(text: str):
    """A place that OPENS the answer (成都长期护理保险…) when the title names none: the answer then
    speaks for that place. A place later in the body may be an example or a comparison, so it is
    not used. A place glued to 医院 is a hospital's name (瑞金医院), not the policy's region."""
    region = find_region_prefix(text[: P.BODY_LEAD_REGION_CHARS])
    if region is None or text.startswith(("医院", "人民医院"), len(region.surface)):
        return None
    return region


def extract_policy(title: str, text: str) -> dict:
    """The `policy` object of the contract (see docs/notes/entities.md)."""
    region = resolve_region(title) or _body_lead_region(text)
    year = find_year(title) or find_year(text)
    mentions, items = _mentions_and_items(text)
    title_schemes = insurance_schemes(title)
    return {
        "region": region.surface if region else None,
        "province": region.province if region else None,
        "city": region.city if region else None,
        "adcode": region.adcode if region else None,
        "year": year,
        "topic": policy_topic(title, text),
        "insurance": title_schemes + [s for s in insurance_schemes(text, mentions) if s not in title_schemes],
        "figures": extract_figures(text, mentions, items) or extract_figures(title),
    }
