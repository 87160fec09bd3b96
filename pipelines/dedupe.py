"""Dedupe: exact content hashes, then near-duplicates with vectorised MinHash + LSH banding.

Method (documented in docs/notes/etl.md):
* text policy: `normalize_text`, whitespace removed, then character 5-grams (works for Chinese,
  which has no word boundaries, and for English);
* signature: one-permutation MinHash with 128 bins — every 5-gram is hashed once (64-bit
  polynomial rolling hash + splitmix64 finalizer), the top 7 bits pick the bin, the minimum of
  the low 32 bits per bin is the bin value. This is the "128 permutations" estimator at the cost
  of ONE hash per shingle, fully vectorised with numpy over a whole batch of documents;
* LSH: 21 bands x 6 rows -> candidate pairs (a pair with Jaccard 0.8 is a candidate with
  probability 1-(1-0.8^6)^21 ≈ 0.998, one with 0.4 only ≈ 0.08, which keeps the candidate
  count near-linear on templated sites); candidates are kept when the estimated Jaccard
  (share of equal non-empty bins over all 128) is >= NEAR_THRESHOLD;
* clusters by union-find; in each cluster the row with the best priority (earliest seen, then
  smallest id) is kept and every other row is reported with `duplicate_of` = the kept one.
Documents with fewer than MIN_SHINGLES 5-grams take part in exact dedupe only (too short for a
reliable Jaccard estimate).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from pipelines.text import normalize_text

NUM_BINS = 128
SHINGLE = 5
BANDS = 21
ROWS = 6  # 21 x 6 = 126 of the 128 bins; LSH threshold ~ (1/21)^(1/6) ≈ 0.60
NEAR_THRESHOLD = 0.8
MIN_SHINGLES = 30
EMPTY = np.uint32(0xFFFFFFFF)
_P = np.uint64(1_000_003)
_MAX_PAIRWISE_BUCKET = 32
_VERIFY_CHUNK = 8_192  # candidate pairs verified at once: 2 x 4 MB of signature rows


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_text(text: str | None, normalized: bool = False) -> str:
    """The text the signature is computed on: normalized, without any whitespace."""
    return "".join((text or "" if normalized else normalize_text(text)).split())


def signatures(texts: Sequence[str | None], normalized: bool = False) -> np.ndarray:
    """(n, 128) uint32 MinHash signatures; rows of documents shorter than 5 chars are all EMPTY.

    `normalized=True` skips normalize_text for texts that already went through it.
    """
    n = len(texts)
    sig = np.full((n, NUM_BINS), EMPTY, dtype=np.uint32)
    if n == 0:
        return sig
    codes = [np.frombuffer(shingle_text(t, normalized).encode("utf-32-le"), dtype="<u4") for t in texts]
    lengths = np.fromiter((len(c) for c in codes), dtype=np.int64, count=n)
    if lengths.max(initial=0) < SHINGLE:
        return sig
    flat = np.concatenate(codes).astype(np.uint64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    total = flat.shape[0] - SHINGLE + 1
    with np.errstate(over="ignore"):
        h = np.zeros(total, dtype=np.uint64)
        for j in range(SHINGLE):
            h = h * _P + flat[j:j + total]
        h = _splitmix64(h)
    doc = np.repeat(np.arange(n), lengths)[:total]
    pos = np.arange(total) - starts[doc]
    valid = pos + SHINGLE <= lengths[doc]
    h, doc = h[valid], doc[valid]
    bins = (h >> np.uint64(57)).astype(np.int64)
    vals = (h & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    key = doc * NUM_BINS + bins
    flat_sig = sig.reshape(-1)
    np.minimum.at(flat_sig, key, vals)
    return sig


def shingle_counts(texts: Sequence[str | None], normalized: bool = False) -> np.ndarray:
    return np.fromiter((max(len(shingle_text(t, normalized)) - SHINGLE + 1, 0) for t in texts),
                       dtype=np.int64, count=len(texts))


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard per row pair: equal bins / bins where at least one side is non-empty."""
    both_empty = (sig_a == EMPTY) & (sig_b == EMPTY)
    equal = (sig_a == sig_b) & ~both_empty
    denom = np.maximum((~both_empty).sum(axis=-1), 1)
    return equal.sum(axis=-1) / denom


def band_hash(sig: np.ndarray, band: int) -> np.ndarray:
    """uint64 LSH hash of one band (ROWS consecutive bins) of (n, 128) uint32 signatures."""
    bh = np.zeros(sig.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            bh = _splitmix64(bh ^ sig[:, band * ROWS + r].astype(np.uint64))
    return bh


def iter_candidate_pairs(band_of: Callable[[int], np.ndarray], idx: np.ndarray) -> Iterator[np.ndarray]:
    """Pair keys (lo << 32 | hi) sharing an LSH band, band by band, each pair yielded once.

    `band_of(b)` returns band b's hashes of the rows `idx` (one band at a time: at 100k pages all
    21 bands would be 16 MB). Sort-based, no Python buckets: per band, rows are sorted by band
    hash; rows of one bucket are contiguous, so pairs at sorted distance k (k < 32) inside a bucket
    come from one array comparison per k. Buckets larger than 32 also get a star to their first
    row (union-find closes the cluster). Yielding per band (minus the pairs of earlier bands: their
    sorted int64 keys, 8 bytes per unique candidate) lets the caller verify and drop candidates as
    they come: templated pages give millions of candidates, never materialised all at once.
    """
    if idx.size < 2:
        return
    seen: list[np.ndarray] = []  # sorted pair keys yielded per earlier band (no merged copy)
    for b in range(BANDS):
        bh = band_of(b)
        order = np.argsort(bh, kind="stable")
        sorted_h = bh[order]
        new_group = np.empty(idx.size, dtype=bool)
        new_group[0] = True
        new_group[1:] = sorted_h[1:] != sorted_h[:-1]
        gid = np.cumsum(new_group) - 1
        sizes = np.bincount(gid)
        if sizes.max() < 2:
            continue
        keys = []
        for k in range(1, min(int(sizes.max()), _MAX_PAIRWISE_BUCKET)):
            same = gid[k:] == gid[:-k]
            keys.append(_pair_keys(idx[order[:-k][same]], idx[order[k:][same]]))
        if sizes.max() > _MAX_PAIRWISE_BUCKET:
            first = np.flatnonzero(new_group)[gid]
            far = np.arange(idx.size) - first >= _MAX_PAIRWISE_BUCKET
            keys.append(_pair_keys(idx[order[first[far]]], idx[order[far]]))
        band_keys = np.unique(np.concatenate(keys))
        for earlier in seen:
            pos = np.minimum(np.searchsorted(earlier, band_keys), earlier.size - 1)
            band_keys = band_keys[earlier[pos] != band_keys]
        if band_keys.size:
            seen.append(band_keys)
            yield band_keys


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    return (lo << 32) | hi


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def cluster_duplicates(pairs: np.ndarray, priority: np.ndarray) -> list[tuple[int, int]]:
    """Union-find over pairs; return (removed, kept) with kept = lowest priority value per cluster."""
    parent = np.arange(priority.shape[0])
    for a, b in pairs:
        ra, rb = _find(parent, int(a)), _find(parent, int(b))
        if ra != rb:
            if priority[ra] <= priority[rb]:
                parent[rb] = ra
            else:
                parent[ra] = rb
    out = []
    for i in np.unique(pairs):
        root = _find(parent, int(i))
        if root != i:
            out.append((int(i), root))
    return out


# `pipelines.records.content_hash` of an empty text (sha256(b"")[:32]). Rows without text (a
# related item listed without a snippet, a page whose answer was not found) share this hash but
# are not the same content: they never dedupe exactly. Before, every snippet-less related item of
# a run collapsed into one (27 of 28 on a card-style related list) and took its policy records along.
EMPTY_TEXT_HASH = hashlib.sha256(b"").hexdigest()[:32]


def hash_codes(hashes: Sequence[str | None]) -> np.ndarray:
    """Integer code per content hash (equal hashes, equal codes); -1 for a missing/empty hash or
    the hash of an empty text (EMPTY_TEXT_HASH)."""
    uniq, codes = np.unique(np.array([h if h and h != EMPTY_TEXT_HASH else "" for h in hashes], dtype=object),
                            return_inverse=True)
    codes = codes.astype(np.int64).reshape(-1)
    if len(uniq) and uniq[0] == "":
        codes = np.where(codes == 0, -1, codes)
    return codes


class Found(NamedTuple):
    """Removed rows as parallel arrays (no Python tuple per row: at 100k pages ~100k rows go)."""

    removed: np.ndarray
    kept: np.ndarray
    near: np.ndarray  # bool: near duplicate (else exact)
    similarity: np.ndarray


def find_duplicates(hashes: Sequence[str], sig: np.ndarray, shingles: np.ndarray,
                    priority: np.ndarray, active: np.ndarray | None = None,
                    threshold: float = NEAR_THRESHOLD) -> list[tuple[int, int, str, float]]:
    """(removed, kept, method, similarity) over rows: exact content hash first, then near (MinHash).

    `priority`: lower wins (kept). `active`: rows allowed to take part (others ignored).
    """
    found = find_duplicates_banded(hash_codes(hashes), lambda rows: sig[rows], shingles, priority, active, threshold)
    return [(r, k, "near" if n else "exact", s) for r, k, n, s in zip(
        found.removed.tolist(), found.kept.tolist(), found.near.tolist(), found.similarity.tolist(), strict=True)]


def find_duplicates_banded(codes: np.ndarray, sig_rows: Callable[[np.ndarray], np.ndarray],
                           shingles: np.ndarray, priority: np.ndarray, active: np.ndarray | None = None,
                           threshold: float = NEAR_THRESHOLD) -> Found:
    """`find_duplicates` on compact inputs: hash codes (-1 = none) and a reader of signature rows
    (e.g. a memory-mapped file), so the caller never needs all signatures in memory.

    Exact: rows in priority order, the first row of each hash code is kept (vectorised). Near:
    LSH band hashes are computed one band at a time, only for the rows still eligible after exact
    dedupe (signatures read in chunks); candidates are verified as they come.
    """
    n = codes.shape[0]
    active = np.ones(n, dtype=bool) if active is None else active.copy()
    order = np.argsort(priority, kind="stable")
    order = order[(codes[order] >= 0) & active[order]]
    exact_removed = exact_kept = np.empty(0, dtype=np.int64)
    if order.size:
        ordered_codes = codes[order]
        uniq, first = np.unique(ordered_codes, return_index=True)
        kept_of = order[first][np.searchsorted(uniq, ordered_codes)]
        removed = kept_of != order
        exact_removed, exact_kept = order[removed].astype(np.int64), kept_of[removed].astype(np.int64)
        active[exact_removed] = False
    eligible = active & (shingles >= MIN_SHINGLES)
    idx = np.flatnonzero(eligible)

    def band_of(b: int) -> np.ndarray:  # one band of the eligible rows, signatures read in chunks
        return np.concatenate([band_hash(sig_rows(idx[start:start + _VERIFY_CHUNK]), b)
                               for start in range(0, idx.size, _VERIFY_CHUNK)] or [np.empty(0, np.uint64)])

    verified = []
    for keys in iter_candidate_pairs(band_of, idx):  # verify as they come, in bounded chunks
        for start in range(0, keys.size, _VERIFY_CHUNK):
            chunk = keys[start:start + _VERIFY_CHUNK]
            lo, hi = chunk >> 32, chunk & 0xFFFFFFFF
            verified.append(chunk[similarity(sig_rows(lo), sig_rows(hi)) >= threshold])
    uniq = np.sort(np.concatenate(verified)) if verified else np.empty(0, dtype=np.int64)
    clusters = cluster_duplicates(np.stack([uniq >> 32, uniq & 0xFFFFFFFF], axis=1), priority)
    near_removed = np.array([r for r, _ in clusters], dtype=np.int64)
    near_kept = np.array([k for _, k in clusters], dtype=np.int64)
    sims = [round(float(x), 4) for x in similarity(sig_rows(near_removed), sig_rows(near_kept)).tolist()] \
        if clusters else []
    return Found(np.concatenate([exact_removed, near_removed]), np.concatenate([exact_kept, near_kept]),
                 np.concatenate([np.zeros(exact_removed.size, bool), np.ones(near_removed.size, bool)]),
                 np.concatenate([np.ones(exact_removed.size), np.array(sims, dtype=np.float64)]))
