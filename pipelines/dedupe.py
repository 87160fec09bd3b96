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

from collections.abc import Sequence

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


def candidate_pairs(sig: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """(m, 2) index pairs sharing at least one LSH band (eligible rows only), unique, i < j.

    Vectorised: per band, rows are sorted by band hash; rows of one bucket are contiguous, so
    pairs at sorted distance k (k < 32) inside a bucket come from one array comparison per k.
    Buckets larger than 32 also get a star to their first row (union-find closes the cluster).
    """
    idx = np.flatnonzero(eligible)
    if idx.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    sub = sig[idx].astype(np.uint64)
    keys = []
    for b in range(BANDS):
        with np.errstate(over="ignore"):
            bh = np.zeros(idx.size, dtype=np.uint64)
            for r in range(ROWS):
                bh = _splitmix64(bh ^ sub[:, b * ROWS + r])
        order = np.argsort(bh, kind="stable")
        sorted_h = bh[order]
        new_group = np.empty(idx.size, dtype=bool)
        new_group[0] = True
        new_group[1:] = sorted_h[1:] != sorted_h[:-1]
        gid = np.cumsum(new_group) - 1
        sizes = np.bincount(gid)
        if sizes.max() < 2:
            continue
        for k in range(1, min(int(sizes.max()), _MAX_PAIRWISE_BUCKET)):
            same = gid[k:] == gid[:-k]
            keys.append(_pair_keys(idx[order[:-k][same]], idx[order[k:][same]]))
        if sizes.max() > _MAX_PAIRWISE_BUCKET:
            first = np.flatnonzero(new_group)[gid]
            far = np.arange(idx.size) - first >= _MAX_PAIRWISE_BUCKET
            keys.append(_pair_keys(idx[order[first[far]]], idx[order[far]]))
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    uniq = np.unique(np.concatenate(keys))
    return np.stack([uniq >> 32, uniq & 0xFFFFFFFF], axis=1)


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


def find_duplicates(hashes: Sequence[str], sig: np.ndarray, shingles: np.ndarray,
                    priority: np.ndarray, active: np.ndarray | None = None,
                    threshold: float = NEAR_THRESHOLD) -> list[tuple[int, int, str, float]]:
    """(removed, kept, method, similarity) over rows: exact content hash first, then near (MinHash).

    `priority`: lower wins (kept). `active`: rows allowed to take part (others ignored).
    """
    n = len(hashes)
    active = np.ones(n, dtype=bool) if active is None else active.copy()
    result: list[tuple[int, int, str, float]] = []
    best: dict[str, int] = {}
    for i in np.argsort(priority, kind="stable"):
        if not active[i] or not hashes[i]:
            continue
        kept = best.setdefault(hashes[i], int(i))
        if kept != i:
            result.append((int(i), kept, "exact", 1.0))
            active[i] = False
    eligible = active & (shingles >= MIN_SHINGLES)
    pairs = candidate_pairs(sig, eligible)
    if pairs.size:  # verify in chunks: bounded memory whatever the candidate count
        sims = np.concatenate([similarity(sig[c[:, 0]], sig[c[:, 1]])
                               for c in np.array_split(pairs, max(1, len(pairs) // 50_000))])
        pairs = pairs[sims >= threshold]
    for removed, kept in cluster_duplicates(pairs, priority):
        sim = float(similarity(sig[removed], sig[kept]))
        result.append((removed, kept, "near", round(sim, 4)))
    return result
