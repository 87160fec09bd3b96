"""ETL benchmark: synthetic raw archive of N pages -> run_etl(workers=2) -> published snapshot.

    python bench/bench_etl.py                    # 100,000 pages
    python bench/bench_etl.py --pages 20000
    python bench/bench_etl.py --pages 20000 --pages 100000   # compare RSS 20k vs 100k

The archive comes from `SampleSite(extra_articles=N).respond(path)` (real HTML with the site's
share of exact and near duplicates) written as WARC shards with warcio. The ETL runs in a fresh
child process; this process samples the RSS of that child and its workers with psutil.
Targets: 100k pages in <= 180 s on 2 cores, peak RSS <= 1 GB and flat between 20k and 100k.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES_PER_SHARD = 2_000
BASE_URL = "http://127.0.0.1:8765"


def generate(pages: int, raw_dir: Path) -> dict:
    """Write the synthetic site (N extra articles + the seed-based base site) as WARC shards."""
    from healthnews.sample_site import SampleSite
    from pipelines.rawio import write_warc

    started = time.perf_counter()
    site = SampleSite(extra_articles=max(pages - 87, 0))
    paths = list(site.catalog.article_paths)[:pages]
    run_dir = raw_dir / "20261101T000000Z-bench0"
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for shard, start in enumerate(range(0, len(paths), PAGES_PER_SHARD)):
        chunk = paths[start:start + PAGES_PER_SHARD]

        def responses(chunk=chunk, start=start):
            for i, path in enumerate(chunk):
                status, headers, body = site.respond(path)
                yield BASE_URL + path, status, dict(headers), body, t0 + timedelta(seconds=start + i)

        write_warc(run_dir / f"healthnews-{shard:05d}.warc.gz", responses())
    size = sum(p.stat().st_size for p in run_dir.glob("*.warc.gz"))
    return {"pages": len(paths), "shards": -(-len(paths) // PAGES_PER_SHARD), "raw_mb": round(size / 2**20, 1),
            "generate_s": round(time.perf_counter() - started, 1)}


def run_child(work: Path, workers: int) -> tuple[dict, float, float]:
    """Run the ETL in a child process; return (report, peak RSS of the tree in MB, peak main RSS)."""
    cmd = [sys.executable, __file__, "--child", str(work), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_main = 0
    while proc.poll() is None:
        try:
            main = ps.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in ps.children(recursive=True))
        except psutil.Error:
            continue
        peak_tree, peak_main = max(peak_tree, tree), max(peak_main, main)
        time.sleep(0.05)
    out = proc.stdout.read().decode()
    if proc.returncode:
        raise SystemExit(f"ETL child failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), peak_tree / 2**20, peak_main / 2**20


def child(work: Path, workers: int) -> None:
    from pipelines.etl import run_etl

    report = run_etl(work / "raw", work / "clean", work / "state", workers=workers)
    report.pop("shards", None)
    print(json.dumps(report, ensure_ascii=False, default=str))


def bench(pages: int, workers: int, keep: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench_etl_{pages}_"))
    try:
        gen = generate(pages, work / "raw")
        started = time.perf_counter()
        report, peak_tree, peak_main = run_child(work, workers)
        wall = time.perf_counter() - started
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {**gen, "etl_s": round(wall, 1), "pages_per_s": round(gen["pages"] / wall),
              "peak_rss_tree_mb": round(peak_tree), "peak_rss_main_mb": round(peak_main),
              "rows": report["rows"], "stage_seconds": report["stage_seconds"],
              "duplicates_removed": report["duplicates_removed"], "quarantined": report["quarantined"]}
    print(f"\n== {gen['pages']:,} pages ({gen['shards']} shards, {gen['raw_mb']} MB raw, generated in "
          f"{gen['generate_s']} s)")
    print(f"raw -> published: {result['etl_s']} s = {result['pages_per_s']:,} pages/s "
          f"(target <= 180 s for 100k on 2 cores)")
    print(f"peak RSS: {result['peak_rss_tree_mb']} MB main+workers, {result['peak_rss_main_mb']} MB main "
          f"(target <= 1024 MB)")
    print("stage seconds:", json.dumps(result["stage_seconds"]))
    print("rows:", json.dumps(result["rows"]), "| duplicates removed:", result["duplicates_removed"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, action="append", help="archive size (repeatable; default 100000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary archive and outputs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workers)
        return
    results = [bench(n, args.workers, args.keep) for n in (args.pages or [100_000])]
    if len(results) > 1:
        base, big = results[0], results[-1]
        print(f"\n{big['pages']:,} vs {base['pages']:,} pages: time x{big['etl_s'] / base['etl_s']:.2f}, "
              f"peak RSS x{big['peak_rss_tree_mb'] / base['peak_rss_tree_mb']:.2f} "
              f"(main x{big['peak_rss_main_mb'] / base['peak_rss_main_mb']:.2f}); pages x{big['pages'] / base['pages']:.1f}")


if __name__ == "__main__":
    main()
