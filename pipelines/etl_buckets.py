"""The merge, bucket by bucket: memory bounded by the bucket size, not by the corpus.

Every keyed table (articles, related items, policies, rankings) is hash-partitioned by its key into
K bucket files (`pipelines.partition`, K grows with the row count) and merged one bucket at a time;
merged buckets are written back to disk and later streamed into the state generation and the
snapshot. What has to be global stays compact and columnar:

* dedupe (exact + near) needs every row: per row only id, content hash, first_seen, url, title and
  shingle count stay in memory; the 512-byte signatures go to a flat file that is memory-mapped
  (and its pages dropped after each read) to compute LSH band hashes for the rows still eligible
  after exact dedupe and to verify candidate pairs;
* the cross-table facts (removed ids, related -> article links, url/title -> article, rejected
  ids) are small Arrow tables joined per bucket with `index_in`, never Python dicts of every row.

Parents (articles, related items) are validated in their merge bucket before dedupe and linking;
their children (records, history, aliases) follow a rejected parent into quarantine
(`Outputs.cascade`), so no published child names a missing parent.

All functions here write into `work` (the run's scratch dir) and return small Python values.
"""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import etl_merge as em
from pipelines.dedupe import NUM_BINS
from pipelines.etl_state import POSITION, latest_of, merge_articles
from pipelines.partition import (
    Partitioner,
    iter_arrow,
    num_buckets,
    parquet_batches,
    parquet_rows,
    read_arrow,
    release_memory,
)
from pipelines.schemas import (
    ARTICLE_HISTORY,
    ARTICLES,
    DATASETS,
    DUPLICATES,
    RELATED_ITEMS,
    STATE_ARTICLES,
    STATE_POLICIES,
    STATE_RANKINGS,
    STATE_RELATED,
    STATE_URL_ALIASES,
)
from pipelines.urls import stable_id
from pipelines.validate import (
    check_dataset,
    check_rows,
    concat_as,
    conform,
    failure_reasons,
    reject_rows,
)

SRC = pa.field("_src", pa.int32())
REJECTED = pa.schema([pa.field("id", pa.string()), pa.field("reason", pa.string())])
COMPACT_COLUMNS = ["content_hash", "first_seen", "url", "title", "shingles"]


def _tagged(table: pa.Table | pa.RecordBatch, src: int) -> pa.Table:
    """Tag rows with their input (0 = state, then shards in order): "first input wins" needs it."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    return table.append_column("_src", pa.array(np.full(table.num_rows, src, dtype=np.int32)))


def write_arrow(path: Path, table: pa.Table) -> None:
    """One merged bucket as an Arrow IPC file (read back by `iter_arrow` when publishing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


@dataclass
class Outputs:
    """Paths of the merged bucket files per state table / published dataset, plus validation
    rejects: the quarantine rows, a counter per reason and, for the parents of other datasets
    (articles, related items), the rejected ids with their reason for the cascade to child rows.

    The rejected ids are the only global fact validation needs: children are bucketed on their
    own key (policy_id, ranking_id, related_id), not on their parent's, so parent and child do
    not share a bucket; the set is as small as the rejects (Arrow, a few bytes per id).
    """

    work: Path
    state: dict[str, list[Path]] = field(default_factory=dict)
    published: dict[str, list[Path]] = field(default_factory=dict)
    rejects: list[dict] = field(default_factory=list)
    rejected: dict[str, list[pa.Table]] = field(default_factory=dict)
    counters: Counter = field(default_factory=Counter)

    def reject(self, name: str, table: pa.Table, reasons: pa.Array, id_col: str | None = None,
               detail_prefix: pa.Array | None = None) -> pa.Table:
        """Quarantine the rows with a reason (counted under that reason); return the other rows."""
        bad = reject_rows(name, table, reasons, detail_prefix=detail_prefix)
        if not bad:
            return table
        self.rejects += bad
        self.counters.update(r["reason"] for r in bad)
        hit = pc.is_valid(reasons)
        if id_col:
            self.rejected.setdefault(name, []).append(pa.table(
                {"id": table[id_col].filter(hit), "reason": reasons.filter(hit)}, schema=REJECTED))
        return table.filter(pc.invert(hit))

    def rejected_ids(self, name: str) -> pa.Table:
        parts = self.rejected.get(name, [])
        return pa.concat_tables(parts).combine_chunks() if parts else REJECTED.empty_table()

    def cascade(self, name: str, table: pa.Table, column: str, parent: str) -> pa.Table:
        """Rows whose `column` names a rejected `parent` row follow it into quarantine
        (`validate/<name>/parent_rejected`, the parent's reason in the detail): a child of a
        rejected article must not be published as an orphan, nor vanish without a trace."""
        rejected = self.rejected_ids(parent)
        if rejected.num_rows == 0 or table.num_rows == 0:
            return table
        pos = pc.index_in(table[column], value_set=rejected["id"])
        hit = pc.is_valid(pos)
        if not pc.any(hit).as_py():
            return table
        reasons = pc.if_else(hit, pa.scalar(f"validate/{name}/parent_rejected"), pa.scalar(None, pa.string()))
        prefix = pc.binary_join_element_wise(f"parent {parent}", table[column].cast(pa.string()), "rejected:",
                                             pc.take(rejected["reason"], pos), " ")
        kept = self.reject(name, table, reasons.combine_chunks() if isinstance(reasons, pa.ChunkedArray) else reasons,
                           detail_prefix=prefix)
        self.counters["validate/dropped/parent_rejected"] += table.num_rows - kept.num_rows
        return kept

    def add(self, kind: str, name: str, bucket: int, table: pa.Table) -> None:
        path = self.work / kind / name / f"{bucket:05d}.arrow"
        write_arrow(path, table)
        (self.state if kind == "state" else self.published).setdefault(name, []).append(path)

    def stream(self, kind: str, name: str) -> Callable[[], Iterator[pa.Table]]:
        """A zero-argument callable streaming the bucket files (what the state/snapshot writers take)."""
        paths = (self.state if kind == "state" else self.published).get(name, [])
        return lambda: iter_arrow(paths)


class Compact:
    """Per-row dedupe inputs of one table gathered bucket by bucket (see module docstring)."""

    def __init__(self, work: Path, name: str, id_col: str) -> None:
        self.id_col = id_col
        self.parts: list[pa.Table] = []
        self.sig_path = work / f"{name}.sig"
        self._sig = open(self.sig_path, "wb")  # noqa: SIM115 - closed in dedupe()

    def add(self, table: pa.Table) -> None:
        sig = em.sig_matrix(table)
        self._sig.write(np.ascontiguousarray(sig).tobytes())
        self.parts.append(table.select([self.id_col, *COMPACT_COLUMNS]))

    def dedupe(self, dataset: str, sticky: pa.Array | None = None) -> tuple[pa.Table, pa.Table, pa.Table]:
        """(compact rows sorted by id, duplicates, removed map); `sticky`: ids published by the
        previous run, which stay the kept row of their cluster (pipelines.etl_merge.dedupe_compact)."""
        self._sig.close()
        compact = pa.concat_tables(self.parts) if self.parts else None
        self.parts = []
        if compact is None or compact.num_rows == 0:
            empty = pa.schema([pa.field(self.id_col, pa.string()), *(STATE_RELATED.field(c) for c in COMPACT_COLUMNS)])
            return empty.empty_table(), DUPLICATES.empty_table(), em.REMOVED.empty_table()
        perm = pc.sort_indices(compact[self.id_col]).to_numpy()
        compact = compact.take(pa.array(perm)).combine_chunks()
        release_memory()
        with open(self.sig_path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            sig_rows = _signature_reader(mapped, compact.num_rows, perm)
            dups, removed = em.dedupe_compact(compact, sig_rows, dataset=dataset, id_col=self.id_col,
                                              sticky=sticky)
            del sig_rows  # releases the buffer export before the map closes
        return compact, dups, removed


def _signature_reader(mapped: mmap.mmap, rows: int, perm: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Signature rows (by sorted position) read from the mapped file, for candidate verification."""
    sigs = np.frombuffer(mapped, dtype="<u4").reshape(rows, NUM_BINS)

    def sig_rows(positions: np.ndarray) -> np.ndarray:
        # copy the rows, then drop the mapped pages from this process's RSS (they stay in the
        # page cache): otherwise verification would leave every signature resident
        out = sigs[perm[positions]]
        mapped.madvise(mmap.MADV_DONTNEED)
        return out

    return sig_rows


def _staged(staged: list[Path], name: str) -> list[Path]:
    return [Path(s) / f"{name}.parquet" for s in staged]


def bucket_counts(state: dict[str, Path | None], staged: list[Path]) -> dict[str, int]:
    """K per keyed table from the Parquet footers of the state and the staged shards."""
    out = {}
    for state_name, staged_name in (("articles", "articles"), ("related", "related"), ("policies", "policies"),
                                    ("hospital_rankings", "hospital_rankings")):
        rows = parquet_rows(state[state_name]) if state[state_name] else 0
        out[state_name] = num_buckets(rows + sum(parquet_rows(p) for p in _staged(staged, staged_name)))
    out["duplicates"] = max(out.values())
    return out


def merge_article_buckets(work: Path, state: dict[str, Path | None], staged: list[Path], k: int,
                          out: Outputs, dups: Partitioner, stats: Counter) -> tuple[Compact, int]:
    """Articles (versions, history, URL aliases) bucket by bucket; returns the dedupe inputs."""
    in_schema = STATE_ARTICLES.append(SRC)
    part = Partitioner(work / "in", "articles", in_schema, k, "article_id")
    for batch in parquet_batches(state["articles"]):
        part.write(_tagged(batch, 0))
    for i, path in enumerate(_staged(staged, "articles")):
        part.write(_tagged(pq.read_table(path, schema=STATE_ARTICLES), i + 2))
    part.close()
    history_in = Partitioner(work / "in", "article_history", ARTICLE_HISTORY, k, "article_id")
    aliases_in = Partitioner(work / "in", "url_aliases", STATE_URL_ALIASES, k, "article_id")
    for batch in parquet_batches(state["article_history"]):
        history_in.write(batch)
    for batch in parquet_batches(state["url_aliases"]):
        aliases_in.write(batch)
    history_in.close()
    aliases_in.close()
    compact = Compact(work, "articles", "article_id")
    current_rows = 0
    for bucket in range(k):
        rows = part.read(bucket)
        rows = rows.append_column(POSITION[1], pa.array(np.arange(rows.num_rows, dtype=np.int64)))
        meta = rows.drop_columns(["answer"])
        from_state = pc.equal(meta["_src"], 0)
        current, new_history = merge_articles(meta.filter(from_state), [meta.filter(pc.invert(from_state))], stats)
        current = conform(current.append_column("answer", rows["answer"].take(current["_row"])), STATE_ARTICLES)
        new_history = new_history.append_column("answer", rows["answer"].take(new_history["_row"]))
        out.add("state", "articles", bucket, current)  # the state keeps rejected rows (re-checked each run)
        out.add("state", "article_history", bucket,
                concat_as(ARTICLE_HISTORY, [history_in.read(bucket), new_history]))
        # validated before dedupe and linking: a rejected article neither wins a duplicate cluster
        # (its twin is published instead) nor gets related items linked to it
        reasons = failure_reasons("articles", conform(current, ARTICLES))
        out.reject("articles", current, reasons, id_col="article_id")
        aliases = concat_as(STATE_URL_ALIASES, [aliases_in.read(bucket), rows.filter(pc.invert(from_state))])
        aliases = aliases.group_by(["article_id", "raw_url"], use_threads=False).aggregate([]).sort_by(
            [("article_id", "ascending"), ("raw_url", "ascending")])
        out.add("state", "url_aliases", bucket, conform(aliases, STATE_URL_ALIASES))
        dups.write(out.cascade("duplicates", _url_duplicates(aliases, current), "duplicate_of", "articles"))
        compact.add(current.filter(pc.is_null(reasons)))
        current_rows += current.num_rows
        del rows, meta, current, new_history, aliases
        release_memory()
    return compact, current_rows


def _url_duplicates(aliases: pa.Table, current: pa.Table) -> pa.Table:
    """Every other raw URL seen for an article (e.g. `?utm_source=…`): a `method = url` row."""
    pos = pc.index_in(aliases["article_id"], value_set=current["article_id"])
    canon = pc.take(current["url"], pos)
    raw = aliases["raw_url"]
    mask = pc.and_(pc.and_(pc.fill_null(pc.greater(pc.utf8_length(raw), 0), False), pc.is_valid(pos)),
                   pc.fill_null(pc.not_equal(raw, canon), True))
    hits = aliases.filter(mask)
    titles = pc.take(current["title"], pc.index_in(hits["article_id"], value_set=current["article_id"]))
    raws = hits["raw_url"].to_pylist()
    table = pa.table({"dataset": pa.array(["articles"] * len(raws), pa.string()),
                      "row_id": pa.array([stable_id("rawurl:" + r) for r in raws], pa.string()),
                      "duplicate_of": hits["article_id"], "method": pa.array(["url"] * len(raws), pa.string()),
                      "similarity": pa.array([1.0] * len(raws), pa.float64()), "title": titles, "url": hits["raw_url"]})
    return conform(table, DUPLICATES)


def merge_related_buckets(work: Path, state_path: Path | None, staged: list[Path], k: int, out: Outputs,
                          links: tuple[pa.Table, pa.Table], removed_articles: pa.Table) -> tuple[Compact, pa.Table]:
    """Related items merged across pages and linked to crawled articles; (dedupe inputs, links)."""
    part = Partitioner(work / "in", "related", STATE_RELATED, k, "related_id")
    for batch in parquet_batches(state_path):
        part.write(batch)
    for path in _staged(staged, "related"):
        part.write(pq.read_table(path, schema=STATE_RELATED))
    part.close()
    compact = Compact(work, "related", "related_id")
    link_parts = []
    for bucket in range(k):
        related = em.link_related(em.merge_related([part.read(bucket)]), *links, removed_articles)
        out.add("state", "related", bucket, related)
        # validated before dedupe (a rejected item must not win its cluster); an item listed only
        # on rejected pages follows them into quarantine
        view = published_related(related, removed_articles, out)
        reasons = failure_reasons("related_items", view)
        orphaned = pc.and_(pc.equal(view["shown_on_count"], 0), pc.greater(related["shown_on_count"], 0))
        reasons = pc.if_else(pc.and_(orphaned, pc.is_null(reasons)),
                             pa.scalar("validate/related_items/parent_rejected"), reasons)
        prefix = pc.if_else(orphaned, pa.scalar("every page listing it was rejected"), pa.scalar(None, pa.string()))
        out.reject("related_items", view, reasons, id_col="related_id", detail_prefix=prefix)
        if pc.any(orphaned).as_py():
            out.counters["validate/dropped/parent_rejected"] += pc.sum(pc.cast(orphaned, pa.int64())).as_py()
        related = related.filter(pc.is_null(reasons))
        compact.add(related)
        linked = related.select(["related_id", "article_id"])
        link_parts.append(linked.filter(pc.is_valid(linked["article_id"])))
        del related, linked
        release_memory()
    related_link = pa.concat_tables(link_parts) if link_parts else \
        pa.table({"related_id": pa.array([], pa.string()), "article_id": pa.array([], pa.string())})
    return compact, related_link


def published_related(related: pa.Table, removed_articles: pa.Table, out: Outputs) -> pa.Table:
    """Related items as published: published schema, `shown_on` naming published pages only."""
    return em.published_pages(conform(related, RELATED_ITEMS), removed_articles, out.rejected_ids("articles")["id"])


def merge_entity_buckets(work: Path, name: str, state_path: Path | None, staged: list[Path], k: int,
                         out: Outputs) -> pa.Array:
    """Policies / rankings: latest observation per source, bucket by bucket; returns the ids of
    articles that have their own (page) record in this table that passes validation (a snippet's
    record is superseded only by a record that will be published, never by a rejected one)."""
    key, schema = ("policy_id", STATE_POLICIES) if name == "policies" else ("ranking_id", STATE_RANKINGS)
    part = Partitioner(work / "in", name, schema.append(SRC), k, key)
    for batch in parquet_batches(state_path):
        part.write(_tagged(batch, 0))
    for i, path in enumerate(_staged(staged, name)):
        part.write(_tagged(pq.read_table(path, schema=schema), i + 1))
    part.close()
    with_record = []
    for bucket in range(k):
        merged = latest_of(part.read(bucket), key, schema)
        out.add("state", name, bucket, merged)
        own = merged.filter(pc.equal(merged["source_type"].cast(pa.string()), "article"))
        own = own.filter(pc.is_null(failure_reasons(name, conform(own, DATASETS[name]))))
        with_record.append(pc.unique(own["article_id"].combine_chunks()))
    return pc.unique(pa.concat_arrays(with_record)) if with_record else pa.array([], pa.string())


def publish_entity_buckets(name: str, out: Outputs, dups: Partitioner, facts: dict,
                           hospitals: em.HospitalAggregator | None) -> None:
    """Published policies / rankings per bucket: superseded rows removed, rows validated."""
    id_col, prefix = ("policy_id", "policy") if name == "policies" else ("ranking_id", "ranking")
    for bucket, path in enumerate(out.state.get(name, [])):
        table = out.cascade(name, read_arrow(path, None), "article_id", "articles")
        table = out.cascade(name, table, "related_id", "related_items")
        table, drops = em.drop_superseded(table, dataset=name, id_col=id_col, prefix=prefix, **facts)
        dups.write(drops)
        table, bad = check_rows(name, conform(table, DATASETS[name]), source="validate")
        out.rejects += bad
        out.counters.update(r["reason"] for r in bad)
        check_dataset(name, table, pages_parsed=0)
        if hospitals is not None:
            hospitals.add(table)
        out.add("published", name, bucket, table)
        release_memory()


def publish_keyed_buckets(out: Outputs, removed: dict[str, pa.Table], dups: Partitioner) -> int:
    """Published articles, history and related items per bucket (dedupe losers and rows rejected
    before dedupe removed, history of rejected articles quarantined, history of removed duplicates
    listed in `duplicates`); returns the number of published articles."""
    articles = 0
    for name, state_name, schema, id_col in (("articles", "articles", ARTICLES, "article_id"),
                                            ("article_history", "article_history", ARTICLE_HISTORY, None),
                                            ("related_items", "related", RELATED_ITEMS, "related_id")):
        for bucket, path in enumerate(out.state.get(state_name, [])):
            table = read_arrow(path, None)
            if name == "related_items":
                table = published_related(table, removed["articles"], out)
            if id_col:
                gone = pa.concat_arrays([removed[name]["removed_id"].combine_chunks(),
                                         out.rejected_ids(name)["id"].combine_chunks()])
                table = table.filter(pc.invert(pc.fill_null(pc.is_in(table[id_col], value_set=gone), False)))
            else:  # history rows follow their article: rejected -> quarantine, removed -> duplicates
                table = out.cascade(name, table, "article_id", "articles")
                table, history_dups = em.history_of_removed(table, removed["articles"])
                dups.write(history_dups)
            table, bad = check_rows(name, conform(table, schema), source="validate")
            out.rejects += bad
            out.counters.update(r["reason"] for r in bad)
            check_dataset(name, table, pages_parsed=0)
            articles += table.num_rows if name == "articles" else 0
            out.add("published", name, bucket, table)
            release_memory()
    return articles


def publish_duplicates(dups: Partitioner, out: Outputs) -> int:
    """Duplicates per row_id bucket, sorted by (dataset, row_id) inside each bucket."""
    rows = 0
    for bucket in range(dups.k):
        table = dups.read(bucket)
        if table.num_rows:
            order = pc.sort_indices(pa.table({"d": table["dataset"].cast(pa.string()), "r": table["row_id"]}),
                                    sort_keys=[("d", "ascending"), ("r", "ascending")])
            table = table.take(order)
        check_dataset("duplicates", table, pages_parsed=0)
        out.add("published", "duplicates", bucket, table)
        rows += table.num_rows
    return rows
