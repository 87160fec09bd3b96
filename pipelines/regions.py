"""Region resolution against a real administrative-division gazetteer (cpca's bundled adcodes).

Why not `cpca.transform`: it builds a pandas DataFrame per call (milliseconds), far too slow for
~20 calls per page. We read cpca's `adcodes.csv` once, index every full name and its short form
(福建省→福建, 南平市→南平, 内蒙古自治区→内蒙古, 延边朝鲜族自治州→延边, county-level 邵武市→邵武)
in one pyahocorasick automaton, and cache results per input string.

Resolution rule: take the first place-name match in the text and the matches that follow it
contiguously (福建|南平, 黑龙江省|双鸭山市); choose, among same-named candidates, the reading in
which the later names lie inside the earlier ones (adcode prefix); a lone ambiguous name prefers
the higher level (吉林 → 吉林省). Short forms followed by 路/街/大学… are street or school names
(中山路) and are skipped. Xinjiang Production and Construction Corps cities missing from the
gazetteer (新星, 胡杨河, 昆玉…) are recognised so that the surface form is complete, but they add
no city and no code: we never invent an adcode.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import ahocorasick

from pipelines.patterns.entities import EN_PLACE, EN_PLACE_NAMES

__all__ = ["Region", "resolve_region", "find_region_prefix", "may_start_place", "place_spans", "province_of"]

_SPECIAL_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}
# Short forms that are ordinary words; only the full name (合作市, 东方市…) counts.
_AMBIGUOUS_SHORT = frozenset({"合作", "安宁", "东方", "江山", "大安", "新民", "来宾", "安达", "和龙", "开平", "永安", "福安"})
# A short form followed by these is part of a street/school/company name, not a region.
_SHORT_FORM_BLOCKERS = re.compile(r"路|街|大道|大街|巷|村|镇|乡|桥|大学|学院|中学|小学|公司|集团")
# XPCC (新疆生产建设兵团) county-level cities; resolved to 新疆 only when the gazetteer lacks them.
_XPCC_CITIES = ("石河子", "阿拉尔", "图木舒克", "五家渠", "北屯", "铁门关", "双河", "可克达拉", "昆玉", "胡杨河", "新星", "白杨")
_XINJIANG = "650000"
# Kinds of surface forms: the full name, a short form, and a district/county short form that only
# counts right after a place containing it (重庆万州 → 万州区, 上海浦东 → 浦东新区).
_FULL, _SHORT, _CHILD_ONLY = 0, 1, 2
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_DISTRICT_SUFFIX = re.compile(r"(?:新区|区|县)$")


@dataclass(frozen=True, slots=True)
class Region:
    """A resolved place. `surface` is the text as written (e.g. 福建南平); codes are 6 digits."""

    province: str | None
    city: str | None
    district: str | None
    adcode: str | None
    surface: str

    def as_dict(self) -> dict:
        return {"province": self.province, "city": self.city, "district": self.district,
                "adcode": self.adcode, "surface": self.surface}


@dataclass(frozen=True, slots=True)
class _Place:
    name: str
    adcode: str
    rank: int  # 0 province, 1 city (prefecture), 2 county

    def contains(self, other: _Place) -> bool:
        return other.adcode.startswith(self.adcode[: (self.rank + 1) * 2]) and other.rank > self.rank


def _short_form(name: str, rank: int, nations: list[str]) -> str | None:
    """Common short form of a division name, or None (ambiguous words are handled by `_build`)."""
    if name in _SPECIAL_SHORT:
        return _SPECIAL_SHORT[name]
    short = None
    if rank == 1 and "自治州" in name:
        cut = min((i for i in (name.find(n) for n in nations) if i > 0), default=-1)
        short = name[:cut] if cut > 1 else None
    elif rank < 2 and re.search(r"(?:省|市|地区|盟)$", name):
        short = re.sub(r"(?:省|市|地区|盟)$", "", name)
    elif rank == 2 and name.endswith("市"):
        short = name[:-1]
    if short and len(short) >= 2:
        return short
    return None


def _build() -> tuple[ahocorasick.Automaton, dict[str, _Place], frozenset[str]]:
    pkg = resources.files("cpca.resources")
    nations = [n.strip() for n in pkg.joinpath("56_nations.csv").read_text("utf-8").splitlines() if n.strip()]
    nations = sorted({n for n in nations} | {n[:-1] for n in nations if len(n) > 2}, key=len, reverse=True)
    by_code: dict[str, _Place] = {}
    surfaces: dict[str, list[tuple[_Place, bool]]] = {}
    reader = csv.DictReader(io.StringIO(pkg.joinpath("adcodes.csv").read_text("utf-8")))
    for row in reader:
        name, code = row["name"], row["adcode"][:6]
        if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            continue
        rank = 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
        place = _Place(name, code, rank)
        by_code[code] = place
        surfaces.setdefault(name, []).append((place, _FULL))
        short = _short_form(name, rank, nations)
        if short in _AMBIGUOUS_SHORT:  # 江山, 合作: a place only right after one containing it (浙江江山)
            surfaces.setdefault(short, []).append((place, _CHILD_ONLY))
        elif short:
            surfaces.setdefault(short, []).append((place, _SHORT))
            if rank == 1 and "自治州" in name:  # 延边州, 凉山州: the everyday form of a prefecture
                surfaces.setdefault(short + "州", []).append((place, _SHORT))
        elif rank == 2:
            stem = _DISTRICT_SUFFIX.sub("", name)
            if "自治" in name:  # 峨山彝族自治县 → 峨山 (云南峨山): the part before the nationality
                cut = min((i for i in (name.find(n) for n in nations) if i > 0), default=-1)
                stem = name[:cut] if cut > 1 else name
            if len(stem) >= 2 and stem != name:
                surfaces.setdefault(stem, []).append((place, _CHILD_ONLY))
    automaton = ahocorasick.Automaton()
    for surface, places in surfaces.items():
        places.sort(key=lambda p: (p[0].rank, p[1]))
        automaton.add_word(surface, (surface, tuple(places)))
    for xp in _XPCC_CITIES:
        if xp not in surfaces and xp + "市" not in surfaces:
            for form in (xp + "市", xp):
                automaton.add_word(form, (form, ()))
    automaton.make_automaton()
    heads = {surface[:2] for surface in surfaces} | {xp[:2] for xp in _XPCC_CITIES}
    return automaton, by_code, frozenset(heads)


# _HEADS: first two characters of every surface form, an O(1) test that a string cannot START
# with a place name (the automaton call costs microseconds even when nothing matches).
_AUTOMATON, _BY_CODE, _HEADS = _build()


def _matches(text: str) -> list[tuple[int, int, str, tuple]]:
    """Leftmost-longest, non-overlapping gazetteer matches as (start, end, surface, candidates)."""
    found = []
    for end, (surface, places) in _AUTOMATON.iter_long(text):
        if places and places[0][1] and all(kind for _, kind in places):
            if _SHORT_FORM_BLOCKERS.match(text, end + 1):
                continue  # 中山路: a street, not the city
        found.append((end - len(surface) + 1, end + 1, surface, places))
    return found


def _chain_from(matches: list, i: int) -> list:
    chain = [matches[i]]
    while i + 1 < len(matches) and matches[i + 1][0] == chain[-1][1]:
        i += 1
        chain.append(matches[i])
    return chain


def _pick(chain: list) -> list[_Place]:
    """Choose one candidate per link so that each place lies inside the previous one."""
    best: list[_Place] = []
    starts = [(p, kind) for p, kind in chain[0][3] if kind != _CHILD_ONLY]
    if chain[0][3] and not starts:
        return []  # 万州 alone is not a region; only 重庆万州 is
    for first, _ in starts or ((None, _FULL),):
        picked = [first] if first else []
        parent = first
        for link in chain[1:]:
            child = next((p for p, _ in link[3] if parent is None or parent.contains(p)), None)
            if child is None:
                break
            picked.append(child)
            parent = child
        if len(picked) > len(best):
            best = picked
    return best


def _region_from(places: list[_Place], surface: str) -> Region:
    deepest = places[-1] if places else None
    if deepest is None:  # only an XPCC city the gazetteer lacks
        xj = _BY_CODE.get(_XINJIANG)
        return Region(xj.name if xj else None, None, None, _XINJIANG if xj else None, surface)
    code = deepest.adcode
    province = _BY_CODE.get(code[:2] + "0000")
    city = None
    district = None
    if code[:2] in _MUNICIPALITIES:  # the city is the province; 万州区/浦东新区 are districts
        city = province
        district = deepest.name if deepest.rank == 2 else None
    elif deepest.rank >= 1:
        city = _BY_CODE.get(code[:4] + "00")
        if deepest.rank == 2:
            district = deepest.name
            if city is None:  # province-administered county-level city (仙桃市, 石河子市)
                city, district = deepest, None
    return Region(province.name if province else None, city.name if city else None, district, code, surface)


@lru_cache(maxsize=8192)
def resolve_region(text: str) -> Region | None:
    """The first region named in `text` (福建南平 → 福建省/南平市/350700), or None."""
    if not text:
        return None
    matches = _matches(text)
    for i in range(len(matches)):
        chain = _chain_from(matches, i)
        places = _pick(chain)
        if not places and chain[0][3]:
            continue
        used = max(len(places), 1)
        while used < len(chain) and not chain[used][3]:  # trailing XPCC name the gazetteer lacks
            used += 1
        return _region_from(places, text[chain[0][0] : chain[used - 1][1]])
    if not matches and text.isascii():  # English text: "in Shenzhen", "Beijing hospitals"
        m = EN_PLACE.search(text)
        region = resolve_region(EN_PLACE_NAMES[m.group()]) if m else None
        if region is not None:
            return Region(region.province, region.city, region.district, region.adcode, m.group())
    return None


@lru_cache(maxsize=8192)
def find_region_prefix(name: str) -> Region | None:
    """The region spelled at the very start of `name` (福建省南平市第一医院 → 福建省南平市), or None."""
    if name[:2] not in _HEADS:
        return None
    matches = _matches(name)
    if not matches or matches[0][0] != 0:
        return None
    chain = _chain_from(matches, 0)
    places = _pick(chain)
    if not places:
        return None
    used = chain[: len(places)]
    return _region_from(places, name[: used[-1][1]])


def place_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every gazetteer place name in `text` (leftmost-longest)."""
    return [(a, b) for a, b, _, places in _matches(text) if places]


def may_start_place(text: str, i: int = 0) -> bool:
    """Cheap necessary condition for a gazetteer name starting at `text[i]`."""
    return text[i: i + 2] in _HEADS


def province_of(adcode: str | None) -> str | None:
    """Province name for a 6-digit adcode (or None)."""
    if not adcode:
        return None
    place = _BY_CODE.get(adcode[:2] + "0000")
    return place.name if place else None
