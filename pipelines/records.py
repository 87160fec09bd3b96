"""Parse record (one page) -> rows for every dataset, with the one text/number/region policy applied.

The parser owns *what the page says*; this module owns *how it is stored*: ids, hashes, ISO
dates, canonical hospital names, province/city/adcode, numbers as numbers. Rows are plain dicts
keyed by the field names of `pipelines.schemas` plus staging-only fields (`seen_at`, `page_id`).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pipelines.text import normalize_text, parse_date
from pipelines.urls import canonical_url, stable_id

try:  # entity helpers from the entities engineer (documented signatures)
    from pipelines.hospitals import canonical_hospital_name, hospital_key
except ImportError:  # pragma: no cover - only while the module is being written
    def canonical_hospital_name(name: str) -> str:
        return normalize_text(name)

    def hospital_key(name: str) -> str:
        return canonical_hospital_name(name)

try:
    from pipelines.regions import resolve_region
except ImportError:  # pragma: no cover
    def resolve_region(text: str) -> Any:
        return None

try:
    from pipelines.numbers import parse_number
except ImportError:  # pragma: no cover
    def parse_number(text: str) -> float | None:
        try:
            return float(text)
        except (TypeError, ValueError):
            return None


def content_hash(text: str | None) -> str:
    """sha256 prefix of the normalized text: the 'same content' test for versions and exact dedupe."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()[:32]


def article_id_for(url: str | None, fallback: str) -> str:
    canon = canonical_url(url)
    return stable_id("url:" + canon) if canon else stable_id("raw:" + fallback)


def related_id_for(url: str | None, title: str) -> str:
    canon = canonical_url(url)
    return stable_id("url:" + canon) if canon else stable_id("title:" + normalize_text(title))


def to_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value))


def to_number(value: Any) -> float | None:
    """Numbers as numbers: ints/floats pass, strings go through pipelines.numbers (万, 千, 三百…)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = normalize_text(str(value)).replace(",", "")
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = parse_number(text)
    except Exception:  # noqa: BLE001 - a helper failure must not kill the shard; value stays unknown
        return None
    return float(parsed) if parsed is not None else None


def to_int(value: Any) -> int | None:
    number = to_number(value)
    return int(number) if number is not None else None


def region_fields(*candidates: Any) -> dict[str, str | None]:
    """province/city/adcode from explicit fields or by resolving free text (first hit wins)."""
    out: dict[str, str | None] = {"province": None, "city": None, "adcode": None}
    for cand in candidates:
        if isinstance(cand, dict):
            for key in out:
                out[key] = out[key] or (normalize_text(str(cand[key])) if cand.get(key) else None)
    if out["province"] or out["city"]:
        return out
    for cand in candidates:
        if isinstance(cand, str) and cand.strip():
            resolved = resolve_region(cand)
            if resolved is None:
                continue
            getter = resolved.get if isinstance(resolved, dict) else lambda k, r=resolved: getattr(r, k, None)
            for key in out:
                out[key] = getter(key) or out[key]
            if out["province"] or out["city"]:
                break
    return out


def _count(value: Any) -> int | None:
    """A count field: an int (or numeric string); lists and names are not counts."""
    return to_int(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None


def _as_list(value: Any) -> list:
    """A list field that may come as a list, a single string or a count (kept as list only)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] if isinstance(value, str) and value else []


def _figures(raw: Any) -> list[dict]:
    figures = []
    for fig in raw or []:
        if not isinstance(fig, dict):
            continue
        figures.append({"label": normalize_text(str(fig.get("label") or fig.get("name") or "")) or None,
                        "value": to_number(fig.get("value", fig.get("amount"))),
                        "unit": fig.get("unit")})
    return figures


def _doctors(raw: Any) -> list[dict]:
    doctors = []
    for doc in raw or []:
        if isinstance(doc, str):
            doctors.append({"name": normalize_text(doc), "title": None, "specialty": None})
        elif isinstance(doc, dict) and doc.get("name"):
            doctors.append({"name": normalize_text(doc["name"]), "title": doc.get("title"),
                            "specialty": normalize_text(doc.get("specialty") or doc.get("expertise")) or None})
    return doctors


def policy_row(policy: dict, *, source_type: str, source_id: str, article_id: str | None,
               related_id: str | None, title: str, published: date | None, seen_at: datetime) -> dict:
    region_text = policy.get("region") or title
    return {
        "policy_id": stable_id(f"policy:{source_type}:{source_id}"),
        "source_type": source_type, "article_id": article_id, "related_id": related_id,
        "title": title, "region": normalize_text(policy.get("region")) or None,
        **region_fields(policy, region_text, title),
        "year": to_int(policy.get("year")),
        "topic": policy.get("topic"),
        "insurance": [normalize_text(str(x)) for x in _as_list(policy.get("insurance")) if x],
        "figures": _figures(policy.get("figures")),
        "published": to_date(policy.get("published")) or published, "seen_at": seen_at,
    }


def ranking_rows(ranking: dict, *, source_type: str, source_id: str, article_id: str | None,
                 related_id: str | None, title: str, published: date | None, seen_at: datetime) -> list[dict]:
    hospitals = ranking.get("hospitals") or ranking.get("entries") or ranking.get("items") or []
    region = region_fields(ranking, ranking.get("region") or "", title)
    ranking_id = stable_id(f"ranking:{source_type}:{source_id}")
    rows = []
    for position, hosp in enumerate(hospitals, start=1):
        if isinstance(hosp, str):
            hosp = {"name": hosp}
        raw_name = normalize_text(hosp.get("name") or hosp.get("hospital_name"))
        if not raw_name:
            continue
        rows.append({
            "ranking_id": ranking_id, "source_type": source_type, "article_id": article_id,
            "related_id": related_id, "title": title, **{k: region[k] for k in ("province", "city")},
            "condition": normalize_text(ranking.get("condition")) or None,
            "year": to_int(ranking.get("year")),
            "rank": to_int(hosp.get("rank")) or position,
            "hospital_name": canonical_hospital_name(raw_name), "hospital_name_raw": raw_name,
            "hospital_id": hospital_key(raw_name, region["province"], region["city"]),
            "grade": hosp.get("grade"), "address": normalize_text(hosp.get("address")) or None,
            "doctors": _doctors(hosp.get("doctors")),
            # the parser's `departments` is a count (91个科室): department_count; names would be a list
            "departments": [normalize_text(str(d)) for d in _as_list(hosp.get("departments")) if d],
            "department_count": _count(hosp.get("departments")),
            "doctor_count": to_int(hosp.get("doctor_count")), "score": to_number(hosp.get("score")),
            "published": to_date(ranking.get("published")) or published, "seen_at": seen_at,
        })
    return rows


def page_rows(record: dict, *, raw_url: str | None, seen_at: datetime, source_run: str, source_file: str,
              source_record: str, extractor_version: str,
              known_related: set[str] | None = None) -> dict[str, list[dict]]:
    """All staging rows of one parsed page: article, related links, policies, rankings.

    `known_related`: related ids whose policy/ranking rows were already built in this shard
    (a related item repeats on many pages); their records are not rebuilt. Updated in place.
    """
    known_related = set() if known_related is None else known_related
    url = canonical_url(record.get("url") or raw_url)
    title = normalize_text(record.get("title"))
    paragraphs = [normalize_text(p) for p in record.get("answer_paragraphs") or []]
    answer = "\n".join(p for p in paragraphs if p) or normalize_text(record.get("answer"))
    published = to_date(record.get("published"))
    article_id = article_id_for(url, f"{source_file}:{source_record}")
    related = [r for r in record.get("related") or [] if isinstance(r, dict) and r.get("title")]
    rows: dict[str, list[dict]] = {"articles": [], "related": [], "policies": [], "hospital_rankings": []}
    rows["articles"].append({
        "article_id": article_id, "url": url, "title": title, "answer": answer,
        "kind": record.get("kind") or "other", "published": published,
        "content_hash": content_hash(answer), "version": 1, "first_seen": seen_at, "last_seen": seen_at,
        "related_count": len(related), "extractor_version": record.get("extractor_version") or extractor_version,
        "source_run": source_run, "source_file": source_file, "source_record": source_record,
        "parse_errors": [str(e) for e in record.get("errors") or []],
    })
    _add_entity_rows(rows, record, source_type="article", source_id=article_id, article_id=article_id,
                     related_id=None, title=title, published=published, seen_at=seen_at)
    for item in related:
        rtitle = normalize_text(item.get("title"))
        rurl = canonical_url(item.get("url"))
        # no snippet = null (not ""): `snippet IS NULL` / `isna()` find the items listed by title only
        snippet = normalize_text(item.get("snippet") or item.get("text")) or None
        rid = related_id_for(rurl, rtitle)
        rpublished = to_date(item.get("published") or item.get("date"))
        rows["related"].append({
            "related_id": rid, "title": rtitle, "snippet": snippet, "published": rpublished, "url": rurl,
            "kind": item.get("kind") or "other", "content_hash": content_hash(snippet) if snippet else None,
            "page_id": article_id, "seen_at": seen_at,
        })
        if rid in known_related:
            continue
        known_related.add(rid)
        _add_entity_rows(rows, item, source_type="related", source_id=rid, article_id=None, related_id=rid,
                         title=rtitle, published=rpublished, seen_at=seen_at)
    return rows


def _add_entity_rows(rows: dict[str, list[dict]], source: dict, **ids_and_context: Any) -> None:
    """Policy and ranking rows of one page or related item: the same shape for both sources."""
    if isinstance(source.get("policy"), dict):
        rows["policies"].append(policy_row(source["policy"], **ids_and_context))
    if isinstance(source.get("ranking"), dict):
        rows["hospital_rankings"].extend(ranking_rows(source["ranking"], **ids_and_context))
