"""Speed of the entity half of the parser (`pipelines.extract.enrich`) on the bundled seeds.

Run: `python bench/bench_entities.py`. Prints µs per `enrich` call by kind, the entity work per
seed-sized page (page + its related items), and region resolution against the baseline of calling
cpca's own DataFrame API per string (measured in the same run). Budget (task brief): ≤ 25 µs per
call for other/policy-free text and ≤ 0.4 ms of entity work per seed-sized page.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from healthnews.sample_site.seed_reader import load_bundled_seeds
from pipelines.classify import classify
from pipelines.extract import clear_entity_caches, clear_memo, enrich
from pipelines.regions import resolve_region
from pipelines.text import normalize_text


def _calls() -> list[list[tuple[str, str]]]:
    pages = []
    for seed in load_bundled_seeds():
        answer = normalize_text(" ".join(" ".join(line.strip() for line in b) for b in seed.answer_blocks))
        calls = [(normalize_text(seed.title), answer)]
        calls += [(normalize_text(r.title), normalize_text(r.snippet)) for r in seed.related]
        pages.append(calls)
    return pages


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    pages = _calls()
    flat = [c for page in pages for c in page]
    for title, text in flat:  # warm caches as a long-running parser would have them
        enrich(title, text)
    by_kind: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for title, text in flat:
        by_kind[classify(title, text)].append((title, text))
    print(f"{len(flat)} enrich calls over {len(pages)} seed pages")
    for kind, calls in sorted(by_kind.items()):
        per = _time(lambda calls=calls: (clear_memo(), [enrich(t, x) for t, x in calls]), 50) / len(calls)
        print(f"  enrich[{kind:16s}] {per * 1e6:8.1f} µs/call new text, warm name caches ({len(calls)} calls)")
    per_page = _time(lambda: [enrich(t, x) for page in pages for t, x in page], 50) / len(pages)
    cold_page = unique_page = float("inf")
    for _ in range(10):
        clear_entity_caches()  # first sight of everything: texts, titles, names, labels
        start = time.perf_counter()
        for page in pages:
            for t, x in page:
                enrich(t, x)
        cold_page = min(cold_page, (time.perf_counter() - start) / len(pages))
        clear_memo()  # new texts, but name/label/region caches warm (steady-state crawl)
        start = time.perf_counter()
        for page in pages:
            for t, x in page:
                enrich(t, x)
        unique_page = min(unique_page, (time.perf_counter() - start) / len(pages))
    print("  entity work per seed page (page + related items), budget 0.4 ms:")
    print(f"    texts seen before (memo hit)            {per_page * 1e3:.3f} ms")
    print(f"    new texts, warm name/label/region caches {unique_page * 1e3:.3f} ms")
    print(f"    everything cold                          {cold_page * 1e3:.3f} ms")

    labels = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "labels"
    for round_, files in (("", ("unseen_rankings.json", "unseen_policies.json")),
                          (" round-2", ("unseen2_rankings.json", "unseen2_policies.json")),
                          (" round-3", ("unseen3_rankings.json", "unseen3_policies.json"))):
        unseen = [(normalize_text(i["title"]), normalize_text(i["text"]))
                  for name in files if (labels / name).exists()
                  for i in json.loads((labels / name).read_text("utf-8"))["items"]]
        if not unseen:
            continue
        per = _time(lambda unseen=unseen: (clear_memo(), [enrich(t, x) for t, x in unseen]), 50) / len(unseen)
        print(f"  enrich on the {len(unseen)} hand-labelled{round_} unseen-phrasing snippets: "
              f"{per * 1e6:.1f} µs/call (new text)")

    titles = [t for t, _ in flat]
    resolve_region.cache_clear()
    start = time.perf_counter()
    for t in titles:
        resolve_region(t)
    ours_cold = (time.perf_counter() - start) / len(titles)
    ours_warm = _time(lambda: [resolve_region(t) for t in titles], 50) / len(titles)
    import cpca  # baseline: cpca's DataFrame API, one call per string

    base = _time(lambda: [cpca.transform([t]) for t in titles[:20]], 2) / 20
    print(f"  resolve_region: cold {ours_cold * 1e6:.1f} µs, cached {ours_warm * 1e6:.2f} µs; "
          f"cpca.transform per string {base * 1e6:.0f} µs -> {base / ours_cold:.0f}x faster cold")


if __name__ == "__main__":
    main()
