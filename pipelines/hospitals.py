"""Hospital names: finding them in running text, canonical surface form, and a merge key.

Finding names (`find_hospital_mentions`) is structural: every hospital-name suffix (医院, 人民医院,
中医院, 妇幼保健院, 卫生院, 医学中心, 精神卫生中心… plus an optional 分院/院区 branch) is extended to
the left over name characters until punctuation, whitespace, the end of the previous suffix, or a
function word (包括, 如, 选择, 和, 的…) that lies outside any gazetteer place name (so 于都县 or
成都市 are not cut). Candidates that are generic phrases (三甲医院, 公立综合医院, 该医院), platform
names (名医汇医院排行榜) or followed by 排名/简介/… are dropped. See docs/notes/entities.md.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from pipelines.patterns import entities as P
from pipelines.regions import find_region_prefix, may_start_place, place_spans, resolve_region

__all__ = ["HospitalMention", "canonical_hospital_name", "hospital_key", "find_hospital_mentions",
           "is_generic_hospital_phrase"]

_MAX_NAME_LEN = 32
_TRAILING_JUNK = re.compile(r"[\s.,;:!?。，、；：！？…·\-—_()（）\[\]【】\"'“”‘’]+$")
_LEADING_JUNK = re.compile(r"^[\s.,;:!?。，、；：！？…·\-—_\"'“”‘’\d]+(?=\D)")
_INNER_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


class HospitalMention(NamedTuple):
    start: int
    end: int
    name: str


@lru_cache(maxsize=4096)
def canonical_hospital_name(name: str) -> str:
    """Normalized surface form: NFKC (full-width → half-width), no surrounding punctuation, no spaces
    except one between Latin words (Beijing Tongren Hospital)."""
    if not name:
        return ""
    name = unicodedata.normalize("NFKC", name)
    name = " ".join(name.split())
    if " " in name:
        name = _INNER_SPACE.sub("", name)
    name = _TRAILING_JUNK.sub("", name)
    return _LEADING_JUNK.sub("", name)


@lru_cache(maxsize=4096)
def hospital_key(name: str, province: str | None = None, city: str | None = None) -> str:
    """Merge key `<adcode>|<core name>`: the same hospital written with or without its place prefix
    maps to one key (福建省南平市第一医院 and 南平市第一医院 in 福建 南平 → `350700|第一医院`).

    Rule: drop a leading army prefix (中国人民解放军…), then a leading gazetteer place name; the
    place found there scopes the key, otherwise the given province/city do. Limits: different
    spellings of the core (第一医院 vs 第一人民医院, abbreviations like 南平一院) stay different.
    """
    canon = P.KEY_DROP_PREFIX.sub("", canonical_hospital_name(name))
    prefix = find_region_prefix(canon)
    if prefix is not None and len(prefix.surface) < len(canon):
        core, scope = canon[len(prefix.surface):], prefix.adcode
    else:
        core = canon
        context = resolve_region((province or "") + (city or "")) if (province or city) else None
        scope = context.adcode if context else None
    core = P.KEY_DROP_PREFIX.sub("", core)
    return f"{scope or '-'}|{core}"


def is_generic_hospital_phrase(prefix: str) -> bool:
    """True when the words before the suffix are only generic modifiers (三甲, 公立, 综合, 该…)."""
    if P.GENERIC_PREFIX.search(prefix):
        return True
    rest = P.GENERIC_MODIFIER.sub("", prefix)
    return not rest or (len(rest) == 1 and rest in P.GENERIC_LEFTOVER)


def _left_bound(text: str, start: int, floor: int) -> int:
    """Leftmost index of the name whose suffix starts at `start` (not below `floor`): the run of
    name characters just before `start`, at most `_MAX_NAME_LEN` long, then trimmed by `_name_start`.
    The run is measured on the reversed window (one anchored match, ~3x cheaper than listing every
    non-name character of the text)."""
    lo = max(floor, start - _MAX_NAME_LEN, 0)
    i = start - P.NAME_CHARS_RUN.match(text[lo:start][::-1]).end()
    return i + _name_start(text[i:start]) if i < start else i


@lru_cache(maxsize=4096)
def _name_start(prefix: str) -> int:
    """Where the name starts inside the run of name characters before a suffix (cached: the same
    runs recur across related items)."""
    stops = list(P.NAME_LEFT_STOPS.finditer(prefix))
    lead = not may_start_place(prefix, 0) and any(
        may_start_place(prefix, k) for k in range(1, P.PLACE_LEAD_MAX + 1))
    if not stops and not lead:
        return 0
    protected = place_spans(prefix)
    cut = 0
    if (protected and 0 < protected[0][0] <= P.PLACE_LEAD_MAX and not P.ORG_LEAD.search(prefix[: protected[0][0]])
            and find_region_prefix(prefix[protected[0][0]:]) is not None):
        cut = protected[0][0]  # (a county stem alone, 红|兴隆…, is not a place: 红兴隆中心医院 stays whole)
    for m in reversed(stops):
        a, b = m.start(), m.end()
        if a < cut:
            break
        if any(a < pe and b > ps for ps, pe in protected):
            continue
        if m.group() == "和" and (P.HE_INSIDE_NAME.search(prefix, max(0, a - 1), min(len(prefix), b + 1)) or (
                a > 0 and prefix[a - 1] not in P.HE_SEPARATES_AFTER and find_region_prefix(prefix[b:]) is None)):
            continue  # 协和, 美中宜和: inside a name. It separates at the start, after a department or place
            # (神经内科和华山医院), or before a place (…和北京同仁医院)
        return b
    return cut


@lru_cache(maxsize=4096)
def _accept(prefix: str) -> bool:
    return not is_generic_hospital_phrase(prefix) and not P.PLATFORM_NAMES.search(prefix)


def find_hospital_mentions(text: str) -> list[HospitalMention]:
    """Every hospital name in `text`, in order of appearance (repeats included)."""
    mentions: list[HospitalMention] = []
    floor = 0
    last_end = -1  # end of the last accepted name
    for m in P.HOSPITAL_SUFFIX.finditer(text):
        s, e = m.start(), m.end()
        if s < floor:
            continue  # already inside the previous name (…总医院第一医学中心)
        near = text[e: e + 8]
        if "分" in near or "院区" in near or near.startswith("第") or near[1:2] == "院":
            branch = P.BRANCH_SUFFIX.match(text, e)
            if branch and (branch.group().startswith("第") or not P.HOSPITAL_SUFFIX.search(branch.group())):
                e = branch.end()
        prev_floor, floor = floor, e
        if P.GENERIC_FOLLOWERS.match(text, e):
            continue  # 医院排名, 南平市公立医院排名: a category, not a name (医院简介 etc. are left to _accept)
        left = _left_bound(text, s, prev_floor)
        if left == last_end or (last_end > 0 and text[left - 1] == ")" and (
                text[last_end] == ")" or (text[last_end] == "(" and text.find(")", last_end) == left - 1))):
            # glued to the previous name, or to the "(…)" right after it: …医院(…)生殖医学中心
            place = find_region_prefix(text[left:s])
            if place is None:
                if left == last_end and mentions[-1].name.endswith("中心") and text.startswith("医院", e - 2):
                    prev = mentions[-1]  # 宁波市医疗中心李惠利医院: a hospital named under its centre
                    mentions[-1] = HospitalMention(prev.start, e, canonical_hospital_name(text[prev.start:e]))
                    last_end = e
                continue  # one of its units (…华山医院国际医疗中心), not another hospital
            if place.surface == text[left:s] and left == last_end:  # …肿瘤医院深圳医院: a city branch, one name
                prev = mentions[-1]
                mentions[-1] = HospitalMention(prev.start, e, canonical_hospital_name(text[prev.start:e]))
                last_end = e
                continue
            # else a new name that starts with its own place (…人民医院南平市第一医院)
        if not _accept(text[left:s]):
            continue
        name = canonical_hospital_name(text[left:e])
        if name:
            mentions.append(HospitalMention(left, e, name))
            last_end = e
    if text.isascii():  # English page (an O(1) flag check): English names
        english = _english_mentions(text)
        if english:
            mentions = sorted(mentions + english) if mentions else english
    return mentions


_EN_FACILITY = frozenset(("Hospital", "Clinic", "Medical", "Health", "Cancer"))


def _english_mentions(text: str) -> list[HospitalMention]:
    """English hospital names (capitalized words + Hospital/Clinic/Medical Center [of …]), without
    sentence-opening or descriptive words in front (The, Best, General…)."""
    found = []
    for m in P.EN_HOSPITAL.finditer(text):
        words = m.group().split()
        skip = 0
        while skip < len(words) and words[skip] in P.EN_GENERIC_WORDS:
            skip += 1
        head = words[skip:]
        if (len(head) < 2 or head[0] in _EN_FACILITY) and " of " in m.group():
            skip = 0  # Children's Hospital of Fudan University: only openers are dropped
            while skip < len(words) and words[skip] in P.EN_OPENER_WORDS:
                skip += 1
            head = words[skip:]
        if len(head) < 2 or head[0] in _EN_FACILITY:
            continue  # only generic words before the facility word
        start = m.start() + m.group().index(head[0]) if skip else m.start()
        found.append(HospitalMention(start, m.end(), canonical_hospital_name(" ".join(head))))
    return found
