"""Crawl throughput benchmark (on demand): our `healthnews` spider vs a bare Scrapy spider.

    python bench/bench_crawl.py                 # 2,000 and 10,000 extra articles
    python bench/bench_crawl.py --sizes 2000    # quicker

Both spiders crawl the same `SampleSite(extra_articles=N)` served on 127.0.0.1 in this process,
each in its own fresh process, politeness off (no robots delay, no AutoThrottle, same
concurrency). Ours archives every response to WARC, keeps SQLite state and accounting, and
hands off items (parsed, and again with HEALTHNEWS_PARSE_ITEMS=False). The bare spider only
follows same-site links with Scrapy's defaults. Printed per run: pages, pages/s (responses over
the crawl's own elapsed time), CPU seconds per page (child process user+sys, startup included)
and peak RSS (polled). Target: ours >= 85% of the bare spider's pages/s; memory flat in N.

This file is also the bare spider's module: `scrapy runspider bench/bench_crawl.py` finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import scrapy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CONCURRENCY = 32


class BareSpider(scrapy.Spider):
    """Baseline: follow every same-site link, nothing else."""

    name = "bare"

    def __init__(self, start_url: str = "", out: str = "", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]
        self.allowed_domains = [urlsplit(start_url).hostname]
        self.out = out

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)

    def closed(self, reason):
        from datetime import UTC, datetime

        stats = self.crawler.stats.get_stats()
        elapsed = (datetime.now(UTC) - stats["start_time"]).total_seconds()
        Path(self.out).write_text(json.dumps({"pages": stats.get("response_received_count", 0), "elapsed": elapsed}))


def _run_measured(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, float]:
    """Run a child; return (cpu seconds, peak RSS bytes, wall seconds)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    watched = psutil.Process(process.pid)
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.05)
    process.wait()
    reader.join(timeout=5)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        tail = b"".join(stderr_chunks).decode("utf-8", "replace")[-3000:]
        raise RuntimeError(f"{command[:5]} failed ({process.returncode}):\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, peak, wall


def bench_ours(url: str, work: Path, parse_items: bool) -> dict:
    from crawlers.context import new_run_id
    from crawlers.runner import build_command, crawl_env

    run_id = new_run_id()
    data_dir = work / f"ours-{run_id}"
    data_dir.mkdir()
    settings = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": CONCURRENCY,
                "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY, "LOG_LEVEL": "WARNING",
                "HEALTHNEWS_PARSE_ITEMS": parse_items,
                "FEEDS": {str(data_dir / "items.jsonl"): {"format": "jsonlines"}}}
    cpu, peak, wall = _run_measured(build_command([url], data_dir, run_id, settings=settings), crawl_env(), data_dir)
    manifest = json.loads((data_dir / "raw" / run_id / "manifest.json").read_text(encoding="utf-8"))
    from datetime import datetime

    elapsed = (datetime.fromisoformat(manifest["finished_at"]) - datetime.fromisoformat(manifest["started_at"])).total_seconds()
    pages = manifest["stats"]["downloader/response_count"]
    return {"pages": pages, "elapsed": elapsed, "cpu": cpu, "peak_rss": peak, "wall": wall,
            "items": manifest["items"], "balanced": manifest["balanced"]}


def bench_bare(url: str, work: Path) -> dict:
    out = work / f"bare-{time.time_ns()}.json"
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "scrapy", "runspider", str(Path(__file__).resolve()),
               "-a", f"start_url={url}", "-a", f"out={out}",
               "-s", f"CONCURRENT_REQUESTS={CONCURRENCY}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}",
               "-s", "LOG_LEVEL=WARNING", "-s", "TELNETCONSOLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False"]
    cpu, peak, wall = _run_measured(command, env, work)
    stats = json.loads(out.read_text())
    return {"pages": stats["pages"], "elapsed": stats["elapsed"], "cpu": cpu, "peak_rss": peak, "wall": wall}


def _line(label: str, result: dict) -> str:
    rate = result["pages"] / result["elapsed"] if result["elapsed"] else 0.0
    return (f"  {label:<28} pages={result['pages']:>6}  {rate:8.1f} pages/s  "
            f"cpu/page={result['cpu'] / max(1, result['pages']) * 1000:6.2f} ms  "
            f"peak RSS={result['peak_rss'] / 2**20:6.1f} MiB  wall={result['wall']:.1f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    from healthnews.sample_site import SampleSite, SampleSiteServer

    for size in args.sizes:
        site = SampleSite(extra_articles=size)
        with SampleSiteServer(site, host="127.0.0.1", port=0) as server, tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            bare = bench_bare(server.url, work)
            ours_parsed = bench_ours(server.url, work, parse_items=True)
            ours_light = bench_ours(server.url, work, parse_items=False)
        rate = {name: r["pages"] / r["elapsed"] for name, r in
                (("bare", bare), ("parsed", ours_parsed), ("light", ours_light))}
        print(f"SampleSite(extra_articles={size}): {len(site.catalog.article_paths)} articles")
        print(_line("bare Scrapy spider", bare))
        print(_line("healthnews (parse items)", ours_parsed) + f"  items={ours_parsed['items']}")
        print(_line("healthnews (PARSE_ITEMS=0)", ours_light) + f"  items={ours_light['items']}")
        print(f"  ratio vs bare: parsed {rate['parsed'] / rate['bare']:.2f}, light {rate['light'] / rate['bare']:.2f} "
              f"(target >= 0.85); accounting balanced: {ours_parsed['balanced'] and ours_light['balanced']}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
