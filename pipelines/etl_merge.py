"""Cross-dataset merge rules: related items across pages, dedupe reports, superseded snippet
records, the hospitals entity table. Pure functions over Arrow tables (used by pipelines.etl).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.dedupe import EMPTY_TEXT_HASH, MIN_SHINGLES, NUM_BINS, find_duplicates_banded
from pipelines.schemas import DUPLICATES, HOSPITALS, STATE_RELATED
from pipelines.urls import stable_id
from pipelines.validate import conform


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


def lookup(keys: pa.ChunkedArray | pa.Array, table_keys: pa.ChunkedArray | pa.Array,
           values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """values[position of each key in table_keys] (null when absent): a vectorised dict.get over
    Arrow arrays, so global lookups cost a few bytes per row instead of Python objects."""
    keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if len(table_keys) == 0:
        return pa.nulls(len(keys), values.type)
    return pc.take(values, pc.index_in(keys, value_set=table_keys))


def link_lookups(articles: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(url -> article_id, unique title -> article_id) over every current article."""
    by_url = articles.select(["url", "article_id"]).filter(
        pc.fill_null(pc.greater(pc.utf8_length(articles["url"]), 0), False))
    counts = articles.select(["title"]).group_by("title", use_threads=False).aggregate([("title", "count")])
    unique = counts.filter(pc.equal(counts["title_count"], 1))["title"]
    by_title = articles.select(["title", "article_id"]).filter(pc.is_in(articles["title"], value_set=unique))
    return by_url, by_title


def link_related(related: pa.Table, by_url: pa.Table, by_title: pa.Table, removed: pa.Table) -> pa.Table:
    """Set related.article_id when the item's article was crawled (by URL, else by unique title);
    an article removed as a duplicate is replaced by the one that was kept."""
    aid = pc.coalesce(lookup(related["url"], by_url["url"], by_url["article_id"]),
                      lookup(related["title"], by_title["title"], by_title["article_id"]))
    linked = pc.coalesce(lookup(aid, removed["removed_id"], removed["kept_id"]), aid)
    return related.set_column(related.schema.get_field_index("article_id"), "article_id", linked.cast(pa.string()))


def published_pages(related: pa.Table, removed_articles: pa.Table, rejected_articles: pa.Array) -> pa.Table:
    """`shown_on` as published: a page removed as a duplicate is replaced by the article kept for
    it (as `link_related` does for `article_id`), a rejected page is left out, so every listed
    page joins to `articles`. The state keeps the observed page ids; only the published view maps.
    """
    if related.num_rows == 0:
        return related
    pages = pc.list_flatten(related["shown_on"])
    owner = pc.list_parent_indices(related["shown_on"])
    pages = pc.coalesce(lookup(pages, removed_articles["removed_id"], removed_articles["kept_id"]), pages)
    keep = pc.invert(pc.fill_null(pc.is_in(pages, value_set=rejected_articles), False))
    pairs = pa.table({"row": owner, "page": pages.cast(pa.string())}).filter(keep)
    pairs = pairs.group_by(["row", "page"], use_threads=False).aggregate([]).sort_by(
        [("row", "ascending"), ("page", "ascending")])
    counts = np.bincount(pairs["row"].to_numpy(), minlength=related.num_rows)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pairs["page"].combine_chunks())
    related = related.set_column(related.schema.get_field_index("shown_on"), "shown_on", lists)
    return related.set_column(related.schema.get_field_index("shown_on_count"), "shown_on_count",
                              pa.array(counts.astype(np.int32)))


REMOVED = pa.schema([pa.field("removed_id", pa.string()), pa.field("kept_id", pa.string()),
                     pa.field("method", pa.string()), pa.field("similarity", pa.float64())])


def _hash_codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer code per content hash, -1 for null/empty or the hash of an empty text (those
    never dedupe exactly: two items without a snippet are not the same item)."""
    encoded = pc.dictionary_encode(column.combine_chunks().cast(pa.string()))
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    for no_text in ("", EMPTY_TEXT_HASH):
        position = pc.index(encoded.dictionary, no_text).as_py()
        if position >= 0:
            codes[codes == position] = -1
    return codes


def exact_codes(compact: pa.Table, shingles: np.ndarray) -> np.ndarray:
    """Exact-dedupe codes: the content hash; for a SHORT text (under MIN_SHINGLES 5-grams, the
    texts near dedupe skips) the content hash AND the title. -1 = never an exact duplicate.

    Why: on Q&A sites different questions share short answers (不可以。/ 可以。) and related lists
    share placeholder snippets (点击查看详情): equal text there says nothing about the row being
    the same article / item, and a different title says it is not. Long equal texts (mirrors,
    syndicated copies under another headline) still dedupe on the text alone.
    """
    codes = _hash_codes(compact["content_hash"])
    short = shingles < MIN_SHINGLES
    if short.any():
        keyed = pc.binary_join_element_wise(compact["content_hash"].cast(pa.string()),
                                            pc.fill_null(compact["title"].cast(pa.string()), ""), "\x1f")
        with_title = _hash_codes(keyed)
        codes = np.where(short & (codes >= 0), with_title + codes.max() + 1, codes)
    return codes


def dedupe_compact(compact: pa.Table, sig_rows: Callable[[np.ndarray], np.ndarray], *,
                   dataset: str, id_col: str, sticky: pa.Array | None = None) -> tuple[pa.Table, pa.Table]:
    """Exact + near dedupe over compact per-row arrays (sorted by id): (duplicates, removed map).

    `compact` holds id, content_hash, first_seen, url, title, shingles; `sig_rows` reads
    signature rows (by position) for the near-duplicate search only. The kept row of a
    cluster is the one published by the previous run (`sticky`: its published ids), then the
    earliest seen, then the shortest URL, then the smallest id, so results depend neither on
    input order nor on a late shard that moves a twin's first_seen back (published ids stay).
    """
    n = compact.num_rows
    if n == 0:
        return DUPLICATES.empty_table(), REMOVED.empty_table()
    first = pc.cast(compact["first_seen"], pa.int64()).to_numpy()
    url_len = pc.fill_null(pc.utf8_length(compact["url"]), 0).to_numpy()
    was_published = np.zeros(n, dtype=bool) if sticky is None or len(sticky) == 0 else \
        pc.is_in(compact[id_col], value_set=sticky).to_numpy()
    priority = np.empty(n, dtype=np.int64)
    # previously published first; then earliest seen; ties: the shorter URL (an original rather
    # than a mirror/copy path), then the smaller id (rows are sorted by id: position = id rank)
    priority[np.lexsort((np.arange(n), url_len, first, ~was_published))] = np.arange(n)
    shingles = pc.fill_null(compact["shingles"], 0).to_numpy()
    found = find_duplicates_banded(exact_codes(compact, shingles), sig_rows, shingles, priority)
    removed, kept = pa.array(found.removed), pa.array(found.kept)
    methods = pc.take(pa.array(["exact", "near"]), pa.array(found.near.astype(np.int8)))
    dups = pa.table({"dataset": pa.repeat(pa.scalar(dataset, pa.string()), len(found.removed)),
                     "row_id": compact[id_col].take(removed), "duplicate_of": compact[id_col].take(kept),
                     "method": methods, "similarity": pa.array(found.similarity, pa.float64()),
                     "title": compact["title"].take(removed), "url": compact["url"].take(removed)})
    removed_map = pa.table({"removed_id": compact[id_col].take(removed), "kept_id": compact[id_col].take(kept),
                            "method": methods, "similarity": dups["similarity"]}, schema=REMOVED)
    return conform(dups, DUPLICATES), removed_map


def history_of_removed(history: pa.Table, removed: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(history rows to publish, `duplicates` rows): earlier versions of an article removed as a
    duplicate are duplicates too (dataset `article_history`, row_id `<article_id>:v<version>`,
    same kept article, method and similarity), so `article_history` never names a missing article."""
    pos = pc.index_in(history["article_id"], value_set=removed["removed_id"])
    hit = pc.is_valid(pos)
    if history.num_rows == 0 or not pc.any(hit).as_py():
        return history, DUPLICATES.empty_table()
    gone, pos = history.filter(hit), pos.filter(hit)
    dups = pa.table({
        "dataset": pa.repeat(pa.scalar("article_history", pa.string()), gone.num_rows),
        "row_id": pc.binary_join_element_wise(gone["article_id"], gone["version"].cast(pa.string()), ":v"),
        "duplicate_of": pc.take(removed["kept_id"], pos), "method": pc.take(removed["method"], pos),
        "similarity": pc.take(removed["similarity"], pos), "title": gone["title"], "url": gone["url"]})
    return history.filter(pc.invert(hit)), conform(dups, DUPLICATES)


def drop_superseded(table: pa.Table, *, dataset: str, id_col: str, prefix: str, removed_articles: pa.Table,
                    removed_related: pa.Table, related_link: pa.Table,
                    articles_with_record: pa.Array) -> tuple[pa.Table, pa.Table]:
    """Remove policy/ranking rows whose source was deduped or whose crawled article has its own record.

    The global facts (removed ids, related -> article links, articles with their own record)
    come as Arrow tables and are joined per bucket; only this bucket's rows become Python values.
    """
    if table.num_rows == 0:
        return table, DUPLICATES.empty_table()
    linked = lookup(table["related_id"], related_link["related_id"], related_link["article_id"])
    by_article = pc.index_in(table["article_id"], value_set=removed_articles["removed_id"])
    by_related = pc.index_in(table["related_id"], value_set=removed_related["removed_id"])
    columns = [table[id_col], table["source_type"].cast(pa.string()), table["title"],
               pc.take(removed_articles["kept_id"], by_article), pc.take(removed_articles["method"], by_article),
               linked, pc.fill_null(pc.is_in(linked, value_set=articles_with_record), False),
               pc.take(removed_related["kept_id"], by_related), pc.take(removed_related["method"], by_related)]
    keep = []
    dups: dict[str, tuple[str, str, str]] = {}  # removed id -> (kept id, method, title)
    for row_id, source_type, title, art_kept, art_method, link, has_record, rel_kept, rel_method in zip(
            *(c.to_pylist() for c in columns), strict=True):
        target = None
        if source_type == "article" and art_kept is not None:
            target = (stable_id(f"{prefix}:article:{art_kept}"), art_method)
        elif source_type == "related":
            if link and has_record:
                target = (stable_id(f"{prefix}:article:{link}"), "url")
            elif rel_kept is not None:
                target = (stable_id(f"{prefix}:related:{rel_kept}"), rel_method)
        keep.append(target is None)
        if target and row_id not in dups:
            dups[row_id] = (target[0], target[1], title)
    dup_table = pa.table({"dataset": [dataset] * len(dups), "row_id": list(dups),
                          "duplicate_of": [v[0] for v in dups.values()], "method": [v[1] for v in dups.values()],
                          "similarity": [1.0] * len(dups), "title": [v[2] for v in dups.values()],
                          "url": pa.nulls(len(dups), pa.string())})
    return table.filter(pa.array(keep, pa.bool_())), conform(dup_table, DUPLICATES)


class HospitalAggregator:
    """The hospitals table built bucket by bucket: aliases = every spelling, attributes = most
    frequent stated value, address = the first stated one in (ranking_id, rank) order.

    State is per hospital (hundreds), not per ranking row, so memory does not grow with N.
    """

    COLUMNS = ["ranking_id", "rank", "hospital_id", "hospital_name", "hospital_name_raw", "province", "city",
               "grade", "address"]

    def __init__(self) -> None:
        self._agg: dict[str, dict] = defaultdict(lambda: {
            "names": Counter(), "aliases": set(), "province": Counter(), "city": Counter(), "grade": Counter(),
            "address": None, "n": 0})

    def add(self, rankings: pa.Table) -> None:
        for row in rankings.select(self.COLUMNS).to_pylist():
            h = self._agg[row["hospital_id"]]
            h["n"] += 1
            h["names"][row["hospital_name"]] += 1
            h["aliases"].update(x for x in (row["hospital_name"], row["hospital_name_raw"]) if x)
            for key in ("province", "city", "grade"):
                if row[key]:
                    h[key][row[key]] += 1
            if row["address"]:
                candidate = ((row["ranking_id"], row["rank"]), row["address"])
                h["address"] = min(h["address"], candidate) if h["address"] else candidate

    def table(self) -> pa.Table:
        def top(counter: Counter) -> str | None:
            return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counter else None

        if not self._agg:
            return HOSPITALS.empty_table()
        rows = [{"hospital_id": hid, "name": top(h["names"]), "aliases": sorted(h["aliases"]),
                 "province": top(h["province"]), "city": top(h["city"]), "grade": top(h["grade"]),
                 "address": h["address"][1] if h["address"] else None, "ranking_count": h["n"]}
                for hid, h in sorted(self._agg.items())]
        return conform(pa.Table.from_pylist(rows), HOSPITALS)


def with_hospital_names(rankings: Callable[[], Iterator[pa.Table]],
                        hospitals: pa.Table) -> Callable[[], Iterator[pa.Table]]:
    """Ranking rows streamed with `hospital_name` = the merged hospital's `hospitals.name`.

    Why: per row the name was the spelling of that page (福建省南平市人民医院 on one, 南平市人民医院
    on another), so one `hospital_id` carried several names and `GROUP BY hospital_name` split a
    hospital that the `hospitals` table had merged. The spelling as written stays in
    `hospital_name_raw`. `hospitals` is one row per hospital (hundreds), rankings stream bucket by bucket.
    """
    def tables() -> Iterator[pa.Table]:
        for table in rankings():
            if table.num_rows and hospitals.num_rows:
                position = pc.index_in(table["hospital_id"], value_set=hospitals["hospital_id"])
                names = pc.coalesce(pc.take(hospitals["name"], position), table["hospital_name"])
                table = table.set_column(table.schema.get_field_index("hospital_name"), "hospital_name", names)
            yield table
    return tables
