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
import os
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


def run_child(work: Path, workers: int) -> tuple[dict, dict]:
    """Run the ETL in a child process; return (report, peak RSS in MB: tree, driver, largest worker)."""
    cmd = [sys.executable, __file__, "--child", str(work), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_main = 0
    peak_by_pid: dict[int, int] = {}
    cpu_by_pid: dict[int, float] = {}
    while proc.poll() is None:
        try:
            main = ps.memory_info().rss
            children = ps.children(recursive=True)
            kids = {c.pid: c.memory_info().rss for c in children}
            for c in children:  # last CPU seconds seen per worker: both busy <=> both near the wall time
                cpu_by_pid[c.pid] = sum(c.cpu_times()[:2])
        except psutil.Error:
            continue
        for pid, rss in kids.items():
            peak_by_pid[pid] = max(peak_by_pid.get(pid, 0), rss)
        peak_tree, peak_main = max(peak_tree, main + sum(kids.values())), max(peak_main, main)
        time.sleep(0.05)
    out = proc.stdout.read().decode()
    if proc.returncode:
        raise SystemExit(f"ETL child failed ({proc.returncode})")
    # the spawn pool has a small resource-tracker child too: the largest child is a shard worker
    peaks = {"tree": peak_tree / 2**20, "main": peak_main / 2**20,
             "worker": max(peak_by_pid.values(), default=0) / 2**20,
             "worker_cpu_s": sorted((round(v, 1) for v in cpu_by_pid.values() if v > 1.0), reverse=True)}
    return json.loads(out.strip().splitlines()[-1]), peaks


def child(work: Path, workers: int) -> None:
    from pipelines.etl import run_etl

    report = run_etl(work / "raw", work / "clean", work / "state", workers=workers)
    report.pop("shards", None)
    print(json.dumps(report, ensure_ascii=False, default=str))


def bench(pages: int, workers: int, keep: bool, cache: Path | None = None) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench_etl_{pages}_"))
    try:
        if cache is not None:  # reuse a generated archive (generating 100k pages takes ~75 s of CPU)
            cached = cache / f"raw{pages}"
            info = cached / "bench.json"
            if not info.exists():
                shutil.rmtree(cached, ignore_errors=True)
                info.parent.mkdir(parents=True)
                info.write_text(json.dumps(generate(pages, cached)), encoding="utf-8")
            gen = {**json.loads(info.read_text(encoding="utf-8")), "generate_s": "cached"}
            (work / "raw").symlink_to(cached, target_is_directory=True)
        else:
            gen = generate(pages, work / "raw")
        started = time.perf_counter()
        report, peaks = run_child(work, workers)
        wall = time.perf_counter() - started
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {**gen, "etl_s": round(wall, 1), "pages_per_s": round(gen["pages"] / wall),
              "peak_rss_tree_mb": round(peaks["tree"]), "peak_rss_main_mb": round(peaks["main"]),
              "peak_rss_worker_mb": round(peaks["worker"]), "worker_cpu_s": peaks["worker_cpu_s"],
              "rows": report["rows"],
              "stage_seconds": report["stage_seconds"], "cpu_seconds": report["cpu_seconds"],
              "buckets": report.get("buckets"), "load_avg": [round(x, 2) for x in os.getloadavg()],
              "duplicates_removed": report["duplicates_removed"], "quarantined": report["quarantined"]}
    cpu = result["cpu_seconds"]
    print(f"\n== {gen['pages']:,} pages ({gen['shards']} shards, {gen['raw_mb']} MB raw, generated in "
          f"{gen['generate_s']} s)")
    print(f"raw -> published: {result['etl_s']} s = {result['pages_per_s']:,} pages/s "
          f"(target <= 180 s for 100k on 2 cores)")
    print(f"peak RSS: {result['peak_rss_tree_mb']} MB tree (driver + workers), driver {result['peak_rss_main_mb']} MB, "
          f"largest worker {result['peak_rss_worker_mb']} MB (target <= 1024 MB, flat in N)")
    print(f"CPU: shards {cpu['process_shards']} CPU-s in {result['stage_seconds']['process_shards']} s wall = "
          f"{cpu['process_shards_cores_busy']} cores busy (per worker: {result['worker_cpu_s']} CPU-s); "
          f"merge+publish {cpu['merge_and_publish']} CPU-s; "
          f"load average after the run {result['load_avg']}")
    print("stage seconds:", json.dumps(result["stage_seconds"]), "| buckets:", json.dumps(result["buckets"]))
    print("driver peak RSS (MB) after each merge stage:", json.dumps(report.get("peak_rss_mb_by_stage")))
    print("rows:", json.dumps(result["rows"]), "| duplicates removed:", result["duplicates_removed"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, action="append", help="archive size (repeatable; default 100000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary archive and outputs")
    parser.add_argument("--cache", type=Path, help="directory to keep generated archives in and reuse them from")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workers)
        return
    results = [bench(n, args.workers, args.keep, args.cache) for n in (args.pages or [100_000])]
    if len(results) > 1:
        base, big = results[0], results[-1]
        print(f"\n{big['pages']:,} vs {base['pages']:,} pages: time x{big['etl_s'] / base['etl_s']:.2f}, "
              f"peak RSS x{big['peak_rss_tree_mb'] / base['peak_rss_tree_mb']:.2f} "
              f"(driver x{big['peak_rss_main_mb'] / base['peak_rss_main_mb']:.2f}, "
              f"worker x{big['peak_rss_worker_mb'] / base['peak_rss_worker_mb']:.2f}); "
              f"pages x{big['pages'] / base['pages']:.1f}")


if __name__ == "__main__":
    main()
