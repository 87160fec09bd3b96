"""Hospital-ranking extraction: region, condition, year and an ordered, merged hospital list.

Each hospital mention "owns" the text up to the next mention; the details found there (grade,
address, "X个科室", "X位医生", "综合评分", doctors) are attached to it, and repeated mentions of
the same hospital (same `hospital_key`) are merged, keeping the rank of the first mention.
"""

from __future__ import annotations

import re

from pipelines.hospitals import find_hospital_mentions, hospital_key
from pipelines.patterns import entities as P
from pipelines.regions import Region, resolve_region

__all__ = ["extract_ranking", "extract_doctors", "normalize_grade", "ranking_condition"]

_DETAIL_SPAN = 400  # chars after a mention searched for its details
_GRADE_SPAN = 100  # grades further away usually describe something else
_PRE_WINDOW = 12  # "三甲综合医院福建省…第一医院": a grade right before the name
_PRE_BOUNDARY_CHARS = "。,，;；:：!?！？()（）、 0123456789"
_NAME_BAD_CHARS = re.compile(r"[的了是在和与及等之其个位名多为有从对被把向专]")
_NEXT_TITLE = re.compile(rf"[,，;；][^,，;；]*?(?:{P.DOCTOR_TITLE})")


def normalize_grade(text: str) -> str | None:
    """First hospital grade in `text`, normalized: 三甲 → 三级甲等, 二乙 → 二级乙等, 三级 → 三级."""
    m = P.GRADE.search(text)
    if not m:
        return None
    if m.group(1):
        return f"{m.group(1)}级{m.group(2)}等"
    if m.group(3):
        return f"{m.group(3)}级{m.group(4)}等"
    return f"{m.group(5)}级"


def ranking_condition(title: str, region: Region | None, _year: re.Match | None | bool = False) -> str | None:
    """The disease/symptom asked about: the title minus year, region and the question tail.
    (`_year`: the title's YEAR match when the caller has it already.)"""
    if title.isascii():
        m = P.EN_CONDITION.search(title)
        return m.group("c") if m else None
    rest = title
    ym = P.YEAR.search(rest) if _year is False else _year
    if ym and ym.start() <= 2:
        rest = rest[ym.end():]
    at = rest.find(region.surface) if region else -1
    if at >= 0:
        rest = rest[at + len(region.surface):]
    rest = P.CONDITION_LEAD.sub("", rest.strip(" ?？,，:："))
    after = P.CONDITION_AFTER_QUESTION.match(rest)  # 哪家医院看眼科好
    rest = (after.group("c") or after.group("d")) if after else P.RANKING_TAIL.sub("", rest)
    rest = rest.strip(" 的?？,，:：")
    while rest.endswith(P.CONDITION_TRAIL_WORDS):
        rest = rest[: -next(len(w) for w in P.CONDITION_TRAIL_WORDS if rest.endswith(w))].rstrip(" 的")
    return rest or None


def _valid_name(name: str) -> bool:
    return (2 <= len(name) <= 3 and not _NAME_BAD_CHARS.search(name) and not P.NOT_A_NAME.match(name)
            and name[-1] not in "医师主副科院")


def _trim_spec(spec: str) -> str:
    """A specialty ends where the next doctor's title begins (…手术,副主任医师李明…), or at a ")" that
    closes a bracket opened before it (王华(主任医师,擅长痛风)…)."""
    close = spec.find(")")
    if close >= 0 and "(" not in spec[:close]:
        spec = spec[:close]
    m = _NEXT_TITLE.search(spec)
    return (spec[: m.start()] if m else spec).strip(" ,，")


def _with_title_matches(span: str) -> list[tuple[re.Match, str | None]]:
    """`DOCTOR_WITH_TITLE` matches with their trimmed specialty. A specialty stops where the next
    doctor's title begins, and the scan resumes there, so "樊嘉教授擅长…,周俭教授擅长…" gives both."""
    out = []
    pos = 0
    while (m := P.DOCTOR_WITH_TITLE.search(span, pos)) is not None:
        spec = m.group("spec")
        if spec:
            trimmed = _trim_spec(spec)
            out.append((m, trimmed))
            pos = m.end() if len(trimmed) == len(spec.strip(" ,，")) else m.start("spec") + len(trimmed) + 1
        else:
            out.append((m, None))
            pos = m.end()
    return out


def extract_doctors(span: str) -> list[dict]:
    """Doctors named in `span`: `{name, title, specialty}` (title/specialty None when unstated)."""
    found: list[tuple[int, dict]] = []
    # Each pattern starts with a large surname class (slow to scan): run it only if its cue occurs.
    has_title = "医师" in span or "主任" in span or "教授" in span
    with_title = _with_title_matches(span) if has_title else ()
    title_first = P.DOCTOR_TITLE_FIRST.finditer(span) if has_title else ()
    with_spec = P.DOCTOR_WITH_SPECIALTY.finditer(span) if "(" in span else ()
    after_cue = P.DOCTOR_AFTER_CUE.finditer(span) if P.DOCTOR_CUE_WORDS.search(span) else ()
    for m, spec in with_title:
        for name in re.split(r"[、,和]", m.group("names")):
            if _valid_name(name):
                found.append((m.start(), {"name": name, "title": m.group("title"), "specialty": spec}))
    for m in title_first:
        tail = P.SPECIALTY_TAIL.match(span, m.end())
        for name in m.group("names").split("、"):
            if _valid_name(name):
                found.append((m.start(), {"name": name, "title": m.group("title"),
                                          "specialty": _trim_spec(tail.group("spec")) if tail else None}))
    for m in with_spec:
        if _valid_name(m.group("name")):
            found.append((m.start(), {"name": m.group("name"), "title": None, "specialty": m.group("spec").strip()}))
    for m in after_cue:
        names = m.group("names") or m.group("name2")
        tail = P.SPECIALTY_TAIL.match(span, m.end() + 2 if span.startswith("医生", m.end()) else m.end())
        for name in names.split("、"):
            if _valid_name(name):
                found.append((m.start(), {"name": name, "title": None,
                                          "specialty": tail.group("spec").strip() if tail else None}))
    merged: dict[str, dict] = {}
    for _, doc in sorted(found, key=lambda x: x[0]):
        have = merged.setdefault(doc["name"], doc)
        for field in ("title", "specialty"):
            if have[field] is None and doc[field]:
                have[field] = doc[field]
    return list(merged.values())


def _grade_window(span: str) -> str:
    """The sentence holding the name, plus the next one when it still describes the same hospital."""
    dot = span.find("。", 0, _GRADE_SPAN)
    if dot < 0:
        return span[:_GRADE_SPAN]
    if P.CONTINUES_SUBJECT.match(span, dot + 1):
        nxt = span.find("。", dot + 1, dot + 1 + _GRADE_SPAN)
        return span[: nxt if nxt > 0 else dot + 1 + _GRADE_SPAN]
    return span[:dot]


def _int(m: re.Match | None) -> int | None:
    return int(m.group(1)) if m else None


def _details(text: str, start: int, end: int, next_start: int, prev_end: int) -> dict:
    # Substring pre-checks (`in` is C-fast) spare the regexes on spans that cannot match.
    span = text[end: min(next_start, end + _DETAIL_SPAN)]
    grade = normalize_grade(_grade_window(span)) if ("级" in span or "甲" in span or "乙" in span) else None
    if grade is None:
        pre = text[max(prev_end, start - _PRE_WINDOW): start]
        if "级" in pre or "甲" in pre or "乙" in pre:
            cut = max((pre.rfind(ch) for ch in _PRE_BOUNDARY_CHARS), default=-1)
            grade = normalize_grade(pre[cut + 1:])
    addr = P.ADDRESS.search(span) if ("地址" in span or "位于" in span) else None
    score = P.SCORE.search(span) if "评分" in span else None
    return {
        "grade": grade,
        "address": (addr.group("a") or addr.group("b")).rstrip("。.,") if addr else None,
        "doctors": extract_doctors(span) if P.DOCTOR_CUE.search(span) else [],
        "departments": _int(P.DEPARTMENTS.search(span)) if "科室" in span else None,
        "doctor_count": _int(P.DOCTOR_COUNT.search(span)) if ("医生" in span or "医师" in span) else None,
        "score": float(score.group(1)) if score else None,
    }


def _body_region(text: str) -> Region | None:
    """Region named near the start of the text, skipping a short form that is a hospital's own
    name (瑞金医院, 中山医院, 同仁医院 name hospitals, not the places 瑞金/中山/同仁)."""
    head = text[:120]
    while head:
        region = resolve_region(head)
        if region is None:
            return None
        at = head.find(region.surface) + len(region.surface)
        if not head.startswith("医院", at) or region.surface.endswith(_FULL_PLACE_ENDINGS):
            return region
        head = head[at:]
    return None


_FULL_PLACE_ENDINGS = ("省", "市", "区", "县", "州", "盟", "旗")


def _is_alias(text: str, prev_end: int, start: int, end: int) -> bool:
    """`A医院(B医院)` / `A医院(原B医院)` / `A医院(简称“B医院”)`: B, alone in parentheses right after A, is
    A's other name."""
    gap = text[prev_end:start]
    if gap[:1] != "(" or ")" in gap:
        return False
    close = end + (text[end:end + 1] in P.ALIAS_QUOTES)
    return text[close:close + 1] == ")" and (len(gap) <= 4 or gap[1:].rstrip(P.ALIAS_QUOTES) in P.ALIAS_LEADS)


def _merge_into(have: dict, info: dict) -> None:
    """Add a later mention's details to a hospital: new doctors appended, empty fields filled."""
    for field, value in info.items():
        if field == "doctors":
            known = {d["name"] for d in have["doctors"]}
            have["doctors"].extend(d for d in value if d["name"] not in known)
        elif have[field] is None:
            have[field] = value


def _merge_abbreviations(hospitals: list[dict]) -> list[dict]:
    """Fold a hospital into an earlier one whose name ends with its name or is the end of it
    (阜外医院 after 中国医学科学院阜外医院; names of 4+ characters), then renumber the ranks. A post
    pass over the few distinct hospitals (plain loops: this runs for every ranking)."""
    kept: list[dict] = []
    folded = False
    for h in hospitals:
        name = h["name"]
        if len(name) >= 4:
            for k in reversed(kept):
                other = k["name"]
                if (other.endswith(name) or name.endswith(other)) and len(other) >= 4:
                    _merge_into(k, {f: v for f, v in h.items() if f != "rank" and f != "name"})
                    folded = True
                    break
            else:
                kept.append(h)
        else:
            kept.append(h)
    if folded:
        for i, h in enumerate(kept, 1):
            h["rank"] = i
    return kept


def _advised_against(text: str, start: int, warned_end: int) -> bool:
    """`不建议去A医院`, `别去B医院和C医院`: a name right after a warning (or joined to a name that was) is not
    recommended. Only the few characters before the name are read, and only when the character right
    before it ends a warning (a scan of the whole answer cost ~5 us per ranking); a clause end or `而` between warning and name turns it round
    (不要去小诊所而要去D医院)."""
    if 0 < start - warned_end <= 2 and text[warned_end:start].lstrip(")") in P.NAME_JOINERS:
        return True
    window = text[max(0, start - P.WARNING_WINDOW): start]
    if not ("不" in window or "别" in window or "避" in window or "慎" in window):
        return False
    ends = [w.end() for w in P.ADVISED_AGAINST.finditer(window)]
    return bool(ends) and not any(c in window[ends[-1]:] for c in P.CLAUSE_ENDS)


def extract_ranking(title: str, text: str) -> dict:
    """The `ranking` object of the contract (see docs/notes/entities.md)."""
    region = resolve_region(title) or _body_region(text)
    province = region.province if region else None
    city = region.city if region else None
    year = P.YEAR.search(title)
    mentions = find_hospital_mentions(text)
    hospitals: dict[str, dict] = {}
    prev_key = None
    prev_end = -9
    warned_end = -9  # end of the last name skipped after a warning
    for i, m in enumerate(mentions):
        if (text[m.start - 1: m.start] in P.WARNING_LAST_CHARS or warned_end > 0) and (
                _advised_against(text, m.start, warned_end) or (
                m.start - warned_end <= 7 and _is_alias(text, warned_end, m.start, m.end))):
            warned_end, prev_end = m.end, -9  # not a recommendation (nor its alias): not listed
            continue
        next_start = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
        info = _details(text, m.start, m.end, next_start, mentions[i - 1].end if i else 0)
        key = hospital_key(m.name, province, city)
        if m.start - prev_end <= 7 and key not in hospitals and _is_alias(text, prev_end, m.start, m.end):
            key = prev_key
        prev_key, prev_end = key, m.end
        have = hospitals.get(key)
        if have is None:
            hospitals[key] = {"rank": len(hospitals) + 1, "name": m.name, **info}
            continue
        for field, value in info.items():  # inline _merge_into: this loop is hot
            if field == "doctors":
                known = {d["name"] for d in have["doctors"]}
                have["doctors"].extend(d for d in value if d["name"] not in known)
            elif have[field] is None:
                have[field] = value
    return {
        "province": province,
        "city": city,
        "condition": ranking_condition(title, region, year),
        "year": int(year.group(1)) if year else None,
        "hospitals": _merge_abbreviations(ranked) if len(ranked := list(hospitals.values())) > 1 else ranked,
    }
