"""Cross-dataset merge rules: related items across pages, dedupe reports, superseded snippet
records, the hospitals entity table. Pure functions over Arrow tables (used by pipelines.etl).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.dedupe import NUM_BINS, find_duplicates
from pipelines.schemas import DUPLICATES, HOSPITALS, STATE_RELATED
from pipelines.urls import stable_id
from pipelines.validate import concat_as, conform


def sig_matrix(table: pa.Table) -> np.ndarray:
    """(n, 128) uint32 signatures from the fixed-size `minhash` column."""
    if table.num_rows == 0:
        return np.empty((0, NUM_BINS), dtype=np.uint32)
    col = table["minhash"].combine_chunks()
    data = np.frombuffer(col.buffers()[1], dtype="<u4", count=(col.offset + len(col)) * NUM_BINS)
    return data[col.offset * NUM_BINS:].reshape(len(col), NUM_BINS)


def merge_related(tables: list[pa.Table]) -> pa.Table:
    """One row per related_id over state + shards: first seen row wins, page lists are united."""
    parts = [conform(t, STATE_RELATED) for t in tables if t.num_rows]
    if not parts:
        return STATE_RELATED.empty_table()
    table = pa.concat_tables(parts)
    table = table.append_column("_order", pa.array(np.arange(table.num_rows), pa.int64()))
    grouped = table.select(["related_id", "_order", "first_seen", "last_seen"]).group_by(
        "related_id", use_threads=False).aggregate([("_order", "min"), ("first_seen", "min"), ("last_seen", "max")])
    rep = table.take(grouped["_order_min"]).drop_columns(["_order"])
    # page lists: unique (related_id, page) pairs sorted in Arrow, cut into lists by offsets
    parents = pc.list_parent_indices(table["shown_on"])
    links = pa.table({"related_id": pc.take(table["related_id"], parents),
                      "page": pc.list_flatten(table["shown_on"])})
    pairs = links.group_by(["related_id", "page"], use_threads=False).aggregate([]).sort_by(
        [("related_id", "ascending"), ("page", "ascending")])
    counts = pairs.group_by("related_id", use_threads=False).aggregate([("page", "count")]).sort_by("related_id")
    offsets = np.concatenate([[0], np.cumsum(counts["page_count"].to_numpy())]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pairs["page"].combine_chunks())
    pos = pc.index_in(rep["related_id"], value_set=counts["related_id"])
    page_lists = pc.take(lists, pos)
    rep = rep.set_column(rep.schema.get_field_index("shown_on"), "shown_on", page_lists)
    rep = rep.set_column(rep.schema.get_field_index("shown_on_count"), "shown_on_count",
                         pc.cast(pc.fill_null(pc.list_value_length(page_lists), 0), pa.int32()))
    rep = rep.set_column(rep.schema.get_field_index("first_seen"), "first_seen", grouped["first_seen_min"])
    rep = rep.set_column(rep.schema.get_field_index("last_seen"), "last_seen", grouped["last_seen_max"])
    return rep.sort_by("related_id")


def link_related(related: pa.Table, articles: pa.Table, redirect: dict[str, str]) -> pa.Table:
    """Set related.article_id when the item's article was crawled (by URL, else by unique title)."""
    by_url = dict(zip(articles["url"].to_pylist(), articles["article_id"].to_pylist(), strict=True))
    title_count = Counter(articles["title"].to_pylist())
    by_title = {t: a for t, a in zip(articles["title"].to_pylist(), articles["article_id"].to_pylist(), strict=True)
                if title_count[t] == 1}
    linked = []
    for url, title in zip(related["url"].to_pylist(), related["title"].to_pylist(), strict=True):
        aid = by_url.get(url) if url else None
        aid = aid or by_title.get(title)
        linked.append(redirect.get(aid, aid) if aid else None)
    return related.set_column(related.schema.get_field_index("article_id"), "article_id",
                              pa.array(linked, pa.string()))


def dedupe_table(table: pa.Table, *, dataset: str, id_col: str, hash_col: str,
                 url_col: str | None) -> tuple[np.ndarray, list[pa.Table], dict[str, tuple[str, str]]]:
    """Exact + near dedupe of a table with minhash/shingles columns.

    Returns (keep mask, [duplicates table], {removed id: (kept id, method)}). The kept row of a
    cluster is the earliest seen (then shortest URL, then smallest id), so results do not depend on input order.
    """
    n = table.num_rows
    keep = np.ones(n, dtype=bool)
    if n == 0:
        return keep, [], {}
    # the kept row of a cluster does not depend on input order (see priority below)
    ids = table[id_col].to_pylist()
    first = pc.cast(table["first_seen"], pa.int64()).to_numpy(zero_copy_only=False)
    priority = np.empty(n, dtype=np.int64)
    url_len = np.array([len(u or "") for u in (table[url_col].to_pylist() if url_col else [None] * n)])
    # earliest seen wins; ties: the shorter URL (an original rather than a mirror/copy path), then id
    priority[np.lexsort((np.array(ids, dtype=str), url_len, first))] = np.arange(n)
    shingles = pc.fill_null(table["shingles"], 0).to_numpy(zero_copy_only=False)
    found = find_duplicates(table[hash_col].to_pylist(), sig_matrix(table), shingles, priority)
    titles = table["title"].to_pylist()
    urls = table[url_col].to_pylist() if url_col else [None] * n
    redirect = {}
    cols: dict[str, list] = {"row_id": [], "duplicate_of": [], "method": [], "similarity": [], "title": [], "url": []}
    for removed, kept, method, sim in found:
        keep[removed] = False
        redirect[ids[removed]] = (ids[kept], method)
        for key, value in (("row_id", ids[removed]), ("duplicate_of", ids[kept]), ("method", method),
                           ("similarity", sim), ("title", titles[removed]), ("url", urls[removed])):
            cols[key].append(value)
    dups = pa.table({"dataset": [dataset] * len(found), **cols})
    return keep, [conform(dups, DUPLICATES)], redirect


def drop_superseded(table: pa.Table, *, dataset: str, id_col: str, prefix: str,
                    removed_articles: dict[str, tuple[str, str]], removed_related: dict[str, tuple[str, str]],
                    related_link: dict[str, str], articles_with_record: set[str]) -> tuple[pa.Table, list[pa.Table]]:
    """Remove policy/ranking rows whose source was deduped or whose crawled article has its own record."""
    if table.num_rows == 0:
        return table, []
    keep = []
    dups: dict[str, tuple[str, str, str]] = {}  # removed id -> (kept id, method, title); columns, not dicts
    columns = [table[c].to_pylist() for c in (id_col, "source_type", "article_id", "related_id", "title")]
    for row_id, source_type, article_id, related_id, title in zip(*columns, strict=True):
        target = None
        if source_type == "article" and article_id in removed_articles:
            kept, method = removed_articles[article_id]
            target = (stable_id(f"{prefix}:article:{kept}"), method)
        elif source_type == "related":
            linked = related_link.get(related_id)
            if linked and linked in articles_with_record:
                target = (stable_id(f"{prefix}:article:{linked}"), "url")
            elif related_id in removed_related:
                kept, method = removed_related[related_id]
                target = (stable_id(f"{prefix}:related:{kept}"), method)
        keep.append(target is None)
        if target and row_id not in dups:
            dups[row_id] = (target[0], target[1], title)
    del columns
    dup_table = pa.table({"dataset": [dataset] * len(dups), "row_id": list(dups),
                         "duplicate_of": [v[0] for v in dups.values()], "method": [v[1] for v in dups.values()],
                         "similarity": [1.0] * len(dups), "title": [v[2] for v in dups.values()],
                         "url": pa.nulls(len(dups), pa.string())})
    return table.filter(pa.array(keep, pa.bool_())), [conform(dup_table, DUPLICATES)]


def duplicates_table(rows: list[dict], tables: list[pa.Table]) -> pa.Table:
    """All removed rows (dicts from dedupe + tables from drop_superseded), sorted by dataset, id."""
    parts = [pa.Table.from_pylist(rows, schema=DUPLICATES.remove_metadata())] if rows else []
    merged = concat_as(DUPLICATES, parts + tables)
    if merged.num_rows == 0:
        return merged
    order = pc.sort_indices(pa.table({"d": merged["dataset"].cast(pa.string()), "r": merged["row_id"]}),
                            sort_keys=[("d", "ascending"), ("r", "ascending")])
    return merged.take(order)


def build_hospitals(rankings: pa.Table) -> pa.Table:
    """One row per hospital_id: aliases = every spelling, attributes = most frequent stated value."""
    if rankings.num_rows == 0:
        return HOSPITALS.empty_table()
    cols = ["hospital_id", "hospital_name", "hospital_name_raw", "province", "city", "grade", "address"]
    agg: dict[str, dict] = defaultdict(lambda: {"names": Counter(), "aliases": set(), "province": Counter(),
                                                "city": Counter(), "grade": Counter(), "address": None, "n": 0})
    for row in rankings.select(cols).to_pylist():
        h = agg[row["hospital_id"]]
        h["n"] += 1
        h["names"][row["hospital_name"]] += 1
        h["aliases"].update(x for x in (row["hospital_name"], row["hospital_name_raw"]) if x)
        for key in ("province", "city", "grade"):
            if row[key]:
                h[key][row[key]] += 1
        h["address"] = h["address"] or row["address"]

    def top(counter: Counter) -> str | None:
        return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counter else None

    rows = [{"hospital_id": hid, "name": top(h["names"]), "aliases": sorted(h["aliases"]),
             "province": top(h["province"]), "city": top(h["city"]), "grade": top(h["grade"]),
             "address": h["address"], "ranking_count": h["n"]} for hid, h in sorted(agg.items())]
    return conform(pa.Table.from_pylist(rows), HOSPITALS)
