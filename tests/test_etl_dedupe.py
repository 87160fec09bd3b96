"""Dedupe on labelled pairs from the sample site and the seed pages: precision / recall of the
exact + MinHash near-duplicate detector, plus URL canonicalization."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from healthnews.sample_site import SampleSite
from pipelines.dedupe import (
    NEAR_THRESHOLD,
    find_duplicates,
    shingle_counts,
    shingle_text,
    signatures,
    similarity,
)
from pipelines.parse import parse_page
from pipelines.records import content_hash
from pipelines.urls import canonical_url


def _clusters(texts: list[str]) -> list[int]:
    """Cluster id per text after exact + near dedupe (removed rows join their kept row)."""
    sig = signatures(texts)
    found = find_duplicates([content_hash(t) for t in texts], sig, shingle_counts(texts), np.arange(len(texts)))
    parent = list(range(len(texts)))
    for removed, kept, _, _ in found:
        parent[removed] = kept
    return [parent[parent[i]] for i in range(len(texts))]


@pytest.fixture(scope="module")
def labelled(seed_paths):
    """Texts + positive pairs (labelled duplicates) + negative pairs (different articles)."""
    site = SampleSite()
    cat = site.catalog
    texts: dict[str, str] = {}
    for path in [*cat.article_paths, cat.mirror_path]:
        status, headers, body = site.respond(path)
        if status == 200:
            texts[path] = parse_page(body, url="http://127.0.0.1" + path)["answer"]
    positives = {tuple(p) for p in (*cat.near_duplicate_pairs, *cat.exact_duplicate_pairs) if set(p) <= set(texts)}
    for seed in seed_paths:  # related snippets of the seeds; the 萍乡 8400/8500 pair is a labelled positive
        for item in parse_page(seed.read_bytes())["related"]:
            texts.setdefault("seed:" + item["title"], item.get("snippet") or "")
    pingxiang = ("seed:江西萍乡社保基数8400医保卡每月多少", "seed:江西萍乡社保基数8500医保卡每月多少")
    assert set(pingxiang) <= set(texts)
    positives.add(pingxiang)
    # a sample-site article and the seed snippet it was built from are the same text: not "different"
    same_source = {frozenset((k, "seed:" + site.catalog.titles[k])) for k in cat.article_paths
                   if k in texts and "seed:" + str(site.catalog.titles[k]) in texts}
    keys = sorted(texts)
    # ground-truth classes: labelled duplicates + (sample article, seed snippet it was built from)
    label = {k: k for k in keys}

    def root(k: str) -> str:
        while label[k] != k:
            k = label[k]
        return k

    for pair in (*positives, *(tuple(p) for p in same_source)):
        label[root(pair[0])] = root(pair[1])
    positive_set, negatives = set(), []
    for a, b in itertools.combinations([k for k in keys if texts[k]], 2):
        (positive_set.add if root(a) == root(b) else negatives.append)(frozenset((a, b)))
    assert frozenset(pingxiang) in positive_set
    return keys, texts, positive_set, negatives


def test_near_duplicate_precision_recall_on_labelled_pairs(labelled):
    keys, texts, positives, negatives = labelled
    clusters = dict(zip(keys, _clusters([texts[k] for k in keys]), strict=True))
    same = {k: clusters[k] for k in keys}
    tp = sum(1 for p in positives if len({same[k] for k in p}) == 1)
    fn = len(positives) - tp
    fp_pairs = [tuple(p) for p in negatives if len({same[k] for k in p}) == 1]
    precision = tp / max(tp + len(fp_pairs), 1)
    recall = tp / max(tp + fn, 1)
    near_pos = [p for p in positives if len({content_hash(texts[k]) for k in p}) == 2]
    near_found = sum(1 for p in near_pos if len({same[k] for k in p}) == 1)
    print(f"\nnear-only positives (text differs): {near_found}/{len(near_pos)} found")
    assert near_found == len(near_pos) >= 3
    print(f"\nnear-dup threshold {NEAR_THRESHOLD}: {len(positives)} positive / {len(negatives)} negative pairs, "
          f"precision {precision:.3f} recall {recall:.3f}, false positives {fp_pairs[:5]}")
    assert recall == 1.0
    assert precision >= 0.95


def test_pingxiang_pair_is_near_not_exact_and_estimate_tracks_jaccard(labelled):
    _, texts, _, _ = labelled
    a = texts["seed:江西萍乡社保基数8400医保卡每月多少"]
    b = texts["seed:江西萍乡社保基数8500医保卡每月多少"]
    assert content_hash(a) != content_hash(b)
    sig = signatures([a, b])
    est = float(similarity(sig[0], sig[1]))
    grams = [{shingle_text(t)[i:i + 5] for i in range(len(shingle_text(t)) - 4)} for t in (a, b)]
    true = len(grams[0] & grams[1]) / len(grams[0] | grams[1])
    assert est >= NEAR_THRESHOLD and abs(est - true) < 0.1
    other = texts["seed:江西萍乡社保基数8400每月交多少"]
    assert float(similarity(sig[0], signatures([other])[0])) < 0.5
    assert (signatures([a, b]) == sig).all()  # deterministic across calls


def test_canonical_url_drops_tracking_and_fragment():
    assert canonical_url("HTTP://Example.COM:80/a/1.html?utm_source=x&b=2&a=1&spm=3#top") == \
        "http://example.com/a/1.html?a=1&b=2"
    assert canonical_url("https://example.com/p?id=7") == "https://example.com/p?id=7"
    assert canonical_url(None) is None
