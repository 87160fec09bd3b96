"""Entity extraction entry point called by the parser for a page and for each related item.

`enrich` classifies first (a few precompiled regex searches on the title) and only runs the
gazetteer, hospital-name and figure extraction that the kind needs, so "other" items stay cheap.
Results are memoized per (title, text) from the FIRST sighting on: on real sites the same related
items recur on many pages, and a copy (a few us) costs a tenth of an extraction (tens of us), so
even a text that recurs once pays for its copy. Callers always get their own objects, so mutating a
result never corrupts the memo. The memo is a bounded LRU (`_MEMO_SIZE` entries). A policy/ranking
result is kept as `marshal` bytes: dumping is ~2x cheaper than a structural copy on first sight,
loading a bit cheaper than one on a hit, and the bytes are smaller than the nested dicts.
Inputs are expected to be normalized already (`pipelines.text.normalize_text`).
"""

from __future__ import annotations

import marshal
from collections import OrderedDict
from datetime import date

import opencc

from pipelines import hospitals, regions
from pipelines.classify import classify
from pipelines.entities import policy as _policy
from pipelines.entities.policy import extract_policy
from pipelines.entities.ranking import extract_ranking

__all__ = ["enrich", "clear_memo", "clear_entity_caches"]

_MEMO_SIZE = 1024  # recurring related items recur within a few dozen pages; 4096 held ~5 MiB more for no hit-rate gain (measured)
_memo: OrderedDict[tuple[str, str], dict | bytes] = OrderedDict()


# Traditional -> simplified Chinese (OpenCC's maintained character and phrase tables, `t2s`).
_TO_SIMPLIFIED = opencc.OpenCC("t2s")

_CONTAINERS = frozenset((dict, list))


def _copy(value):
    """Structural copy of the JSON-like result (much cheaper than copy.deepcopy).

    Recurses only into containers: most leaves are scalars, and skipping the call for them makes
    a memo hit ~30% cheaper (a hit is the common case for related items).
    """
    if type(value) is dict:
        return {k: (_copy(v) if type(v) in _CONTAINERS else v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) if type(v) in _CONTAINERS else v for v in value]
    return value


def _compute(title: str, text: str) -> dict:
    simplified = _TO_SIMPLIFIED.convert(title) if title and not title.isascii() else title
    if simplified != title:
        # A page titled in traditional characters (醫院, 醫保) is read as simplified, as the patterns and
        # gazetteers are; the title alone decides (one conversion of a short string, ~1 us).
        title, text = simplified, _TO_SIMPLIFIED.convert(text)
    kind = classify(title, text)
    return {
        "kind": kind,
        "policy": extract_policy(title, text) if kind == "policy" else None,
        "ranking": extract_ranking(title, text) if kind == "hospital_ranking" else None,
    }


def enrich(title: str, text: str, published: date | None = None, *, memo: bool = True) -> dict:
    """Return `{"kind": "policy"|"hospital_ranking"|"other", "policy": dict|None, "ranking": dict|None}`.

    `published` is accepted for the contract but not used as a fallback for `year`: a year is
    reported only when the text states it (a 2025 publication date says nothing about the policy).
    `memo=False` for texts that practically never recur (a page's own answer): they would only
    pay for a copy and fill the memo with long keys.
    """
    key = (title or "", text or "")
    if not memo:
        return _compute(*key)
    kept = _memo.get(key)
    if kept is not None:
        _memo.move_to_end(key)
        if type(kept) is bytes:
            return marshal.loads(kept)
        return dict(kept) if kept["kind"] == "other" else _copy(kept)
    result = _compute(*key)
    if result["kind"] == "other":
        _memo[key] = dict(result)
    else:
        try:
            _memo[key] = marshal.dumps(result)
        except ValueError:  # a value marshal cannot store (never produced today): keep a structural copy
            _memo[key] = _copy(result)
    if len(_memo) > _MEMO_SIZE:
        _memo.popitem(last=False)
    return result


def clear_memo() -> None:
    """Forget memoized results only (benchmarks timing extraction of new texts with warm gazetteers)."""
    _memo.clear()


def clear_entity_caches() -> None:
    """Forget every memo (benchmarks measuring first-sight cost; tests)."""
    _memo.clear()
    for fn in (regions.resolve_region, regions.find_region_prefix, hospitals.canonical_hospital_name,
               hospitals.hospital_key, hospitals._name_start, hospitals._accept, _policy._clean_label):
        fn.cache_clear()
