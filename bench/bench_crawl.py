"""Crawl throughput benchmark (on demand): our `healthnews` spider vs a bare Scrapy spider.

    python bench/bench_crawl.py                        # 2,000 (3 alternating pairs) + 10,000 (1 pair)
    python bench/bench_crawl.py --sizes 2000 --repeats 5
    python bench/bench_crawl.py --sizes 20000 --repeats 1 --variants ours   # RSS plateau only
    python bench/bench_crawl.py --sizes 2000 --variants ours --profile /tmp/ours.prof
    python bench/bench_crawl.py --sizes 10000 --variants ours --tracemalloc  # what grows 2k -> 10k

Why it looks like this (the first version served the site from a Python threaded server inside
the bench process, which rendered pages on demand on the same 2 cores: the server, not the
spider, set the pace and pages/s swung by +-30 % between runs):

* the site (`SampleSite(extra_articles=N)`) is pre-rendered once into complete HTTP responses
  and served by a separate process with a tiny asyncio server (a dict lookup and one write per
  request, keep-alive), so serving costs a fraction of the crawler's CPU;
* bare and ours run alternately (bare, ours, ours, bare, ...) and medians are printed, so slow
  phases of a shared machine hit both;
* CPU is measured inside the crawler process by a probe extension (`BenchProbe`), from
  spider_opened to engine_stopped: the crawl alone, without interpreter start-up and imports
  (which cost ~1.5 s, 10 % of a 2k crawl). The probe also samples RSS at 2k/5k/10k/20k pages.

Both spiders crawl with politeness off (no robots delay, no AutoThrottle, same concurrency). Ours
archives every response to WARC, keeps SQLite state and accounting and exports items to a JSON
lines feed (parsed, or light items with `--variants light`). The bare spider follows same-site
links with Scrapy's defaults. Targets (issue #4): ours >= 85 % of bare pages/s; memory flat in N
(the last lines compare peak RSS across the site sizes; ours runs with its default scheduler
memory cap, HEALTHNEWS_SCHEDULER_MEMORY_MAX, and prints how many requests it spilled/refilled).

This file is also the bare spider's module (`scrapy runspider`) and the server's (`--serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CONCURRENCY = 32
CHECKPOINTS = (2_000, 5_000, 10_000, 20_000, 50_000)
LINK_RE = re.compile(rb'(?:href="([^"#]+)|<loc>([^<]+)</loc>)')


# -- the site server (separate process) ------------------------------------------------------------
def _raw_response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    from http import HTTPStatus

    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
    if "Content-Length" not in headers:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def prerender(site, host: str) -> dict[str, bytes]:
    """Every page reachable from / , /robots.txt and /sitemap.xml as complete HTTP responses.

    A 500 (the sample site's deliberately flaky page) is asked again, so both spiders see the
    same answer: the bench measures crawling, not retries.
    """
    responses: dict[str, bytes] = {}
    queue = ["/", "/robots.txt", "/sitemap.xml"]
    while queue:
        target = queue.pop()
        if target in responses:
            continue
        status, headers, body = site.respond(target, {"Host": host})
        if status == 500:
            status, headers, body = site.respond(target, {"Host": host})
        responses[target] = _raw_response(status, headers, body)
        for href, loc in LINK_RE.findall(body):
            parts = urlsplit(urljoin(f"http://{host}{target}", (href or loc).decode("utf-8", "replace")))
            if parts.netloc == host and parts.scheme == "http":
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if path not in responses:
                    queue.append(path)
    return responses


class _SiteProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive: GET requests (no body) answered from the pre-rendered dict."""

    def __init__(self, responses: dict[str, bytes], site, host: str) -> None:
        self.responses, self.site, self.host = responses, site, host
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            target = head.split(b" ", 2)[1].decode("latin-1")
            raw = self.responses.get(target)
            if raw is None:  # a spelling the pre-render did not meet: render it once
                raw = self.responses[target] = _raw_response(*self.site.respond(target, {"Host": self.host}))
            self.transport.write(raw)


def serve(size: int, port_file: Path) -> None:
    """`--serve N PORT_FILE`: pre-render, write the port, serve until killed."""
    import socket

    from healthnews.sample_site import SampleSite

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    site = SampleSite(extra_articles=size)
    responses = prerender(site, host)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            lambda: _SiteProtocol(responses, site, host), sock=sock)
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"url": f"http://{host}/", "pages": len(responses)}))
        tmp.rename(port_file)
        await server.serve_forever()

    asyncio.run(main())


# -- in-crawler probe (extension) and the bare spider -----------------------------------------------
def _rss_bytes() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class BenchProbe:
    """CPU / wall / RSS of the crawl proper, measured inside the crawler process.

    Writes JSON to the BENCH_PROBE_OUT setting at engine_stopped (after every spider_closed
    handler, so closing WARC files and writing the manifest are included). With
    BENCH_TRACEMALLOC it diffs tracemalloc snapshots between the first and last checkpoint.
    """

    def __init__(self, crawler) -> None:
        self.out = Path(crawler.settings.get("BENCH_PROBE_OUT"))
        self.trace = crawler.settings.getbool("BENCH_TRACEMALLOC")
        self.pages = 0
        self.rss: dict[int, int] = {}
        self.snapshots: list = []
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response, signal=signals.response_received)
        crawler.signals.connect(self.stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider) -> None:
        if self.trace:
            import tracemalloc

            tracemalloc.start(8)
        self.t0, self.cpu0 = time.perf_counter(), sum(os.times()[:2])

    def response(self, response, request, spider) -> None:
        self.pages += 1
        if self.pages in CHECKPOINTS:
            self.rss[self.pages] = _rss_bytes()
            if self.trace:
                import tracemalloc

                self.snapshots.append(tracemalloc.take_snapshot())

    def stopped(self) -> None:
        import resource

        result = {"pages": self.pages, "elapsed": time.perf_counter() - self.t0,
                  "cpu": sum(os.times()[:2]) - self.cpu0, "rss": self.rss,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
        if len(self.snapshots) >= 2:
            diff = self.snapshots[-1].compare_to(self.snapshots[0], "traceback")
            result["growth"] = [{"kib": round(d.size_diff / 1024), "count": d.count_diff,
                                 "where": [f"{f.filename}:{f.lineno}" for f in d.traceback][-4:]}
                                for d in diff[:15]]
        self.out.write_text(json.dumps(result))


class BareSpider(scrapy.Spider):
    """Baseline: follow every same-site link, nothing else."""

    name = "bare"

    def __init__(self, start_url: str = "", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]
        self.allowed_domains = [urlsplit(start_url).hostname]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)


# -- running and measuring -------------------------------------------------------------------------
def _probe_settings(out: Path, trace: bool, base_extensions: dict) -> list[str]:
    extensions = dict(base_extensions, **{"bench_crawl.BenchProbe": 0})
    return ["-s", f"EXTENSIONS={json.dumps(extensions)}", "-s", f"BENCH_PROBE_OUT={out}",
            "-s", f"BENCH_TRACEMALLOC={trace}", "-s", f"CONCURRENT_REQUESTS={CONCURRENCY}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}", "-s", "LOG_LEVEL=WARNING"]


def _set_options(extra: tuple[str, ...]) -> list[str]:
    return [part for setting in extra for part in ("-s", setting)]


def _run(command: list[str], env: dict[str, str], cwd: Path, probe_out: Path) -> dict:
    """Run one crawler process; its own probe figures plus whole-process CPU (os.wait4)."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stderr.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    if process.returncode != 0 or not probe_out.exists():
        raise RuntimeError(f"{command[:6]} failed ({process.returncode}):\n"
                           + b"".join(chunks).decode("utf-8", "replace")[-3000:])
    result = json.loads(probe_out.read_text())
    result["process_cpu"] = usage.ru_utime + usage.ru_stime
    return result


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO / "bench"), str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, **extra)


def run_variant(variant: str, url: str, work: Path, trace: bool = False, profile: str | None = None,
                extra: tuple[str, ...] = ()) -> dict:
    from crawlers.context import new_run_id
    from crawlers.runner import build_command
    from crawlers.settings import CONCURRENT_ITEMS, EXTENSIONS

    probe_out = work / f"probe-{time.time_ns()}.json"
    prefix = [sys.executable, "-m", "cProfile", "-o", profile] if profile else [sys.executable]
    if variant.startswith("bare"):
        env = {k: v for k, v in _env().items() if k != "SCRAPY_SETTINGS_MODULE"}
        tuned = ["-s", f"CONCURRENT_ITEMS={CONCURRENT_ITEMS}"] if variant == "bare-tuned" else []
        command = [*prefix, "-m", "scrapy", "runspider", str(Path(__file__).resolve()), "-a", f"start_url={url}",
                   "-s", "TELNETCONSOLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False", *tuned,
                   *_probe_settings(probe_out, trace, {}), *_set_options(extra)]
        return _run(command, env, work, probe_out)
    run_id = new_run_id()
    data_dir = work / f"{variant}-{run_id}"
    data_dir.mkdir()
    settings = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HEALTHNEWS_PARSE_ITEMS": variant == "ours",
                "FEEDS": {str(data_dir / "items.jsonl"): {"format": "jsonlines"}}}
    command = build_command([url], data_dir, run_id, settings=settings)
    command = [*prefix, *command[1:], *_probe_settings(probe_out, trace, EXTENSIONS), *_set_options(extra)]
    result = _run(command, _env(SCRAPY_SETTINGS_MODULE="crawlers.settings"), data_dir, probe_out)
    manifest = json.loads((data_dir / "raw" / run_id / "manifest.json").read_text(encoding="utf-8"))
    result.update(items=manifest["items"], balanced=manifest["balanced"] and manifest["pending"] == 0,
                  spilled=manifest["stats"].get("healthnews/scheduler/spilled", 0),
                  refilled=manifest["stats"].get("healthnews/scheduler/refilled", 0),
                  queue_peak=manifest["stats"].get("healthnews/scheduler/memory_peak"))
    return result


def start_server(size: int, work: Path) -> tuple[subprocess.Popen, str, int]:
    port_file = work / "server.json"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(size), str(port_file)], env=_env())
    while not port_file.exists():
        if server.poll() is not None:
            raise RuntimeError("site server died")
        time.sleep(0.1)
    info = json.loads(port_file.read_text())
    return server, info["url"], info["pages"]


def _fmt(label: str, runs: list[dict]) -> str:
    rate = statistics.median(r["pages"] / r["elapsed"] for r in runs)
    cpu = statistics.median(r["cpu"] / r["pages"] * 1000 for r in runs)
    each = " ".join(f"{r['pages'] / r['elapsed']:.0f}/{r['cpu'] / r['pages'] * 1000:.2f}" for r in runs)
    rss = " ".join(f"{int(k) // 1000}k:{v / 2**20:.0f}" for k, v in sorted(runs[-1]["rss"].items(), key=lambda kv: int(kv[0])))
    return (f"  {label:<10} pages={runs[0]['pages']:>6}  {rate:7.1f} pages/s  cpu/page={cpu:5.2f} ms"
            f"  (each: {each})"
            f"  process cpu={statistics.median(r['process_cpu'] for r in runs):.1f}s"
            f"  peak RSS={max(r['peak_rss'] for r in runs) / 2**20:.0f} MiB  RSS@pages MiB [{rss}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--repeats", type=int, nargs="+", default=[3, 1],
                        help="alternating runs per variant, per size (last value repeats)")
    parser.add_argument("--variants", nargs="+", default=["bare", "ours"], choices=["bare", "bare-tuned", "ours", "light"],
                        help="bare-tuned: the bare spider with our Scrapy-level tuning (CONCURRENT_ITEMS)")
    parser.add_argument("--tracemalloc", action="store_true", help="diff allocations between checkpoints")
    parser.add_argument("--profile", help="cProfile output path (one run per variant; figures are skewed)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="Scrapy setting for every variant (e.g. CONCURRENT_ITEMS=100)")
    parser.add_argument("--json", help="also write the raw per-run figures here (last size)")
    parser.add_argument("--serve", nargs=2, metavar=("SIZE", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return 0
    import psutil

    print(f"load average before: {os.getloadavg()}", flush=True)
    peaks: dict[str, dict[int, float]] = {}
    for index, size in enumerate(args.sizes):
        repeats = args.repeats[min(index, len(args.repeats) - 1)]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            server, url, prerendered = start_server(size, work)
            try:
                server_cpu0 = sum(psutil.Process(server.pid).cpu_times()[:2])
                runs: dict[str, list[dict]] = {v: [] for v in args.variants}
                for repeat in range(repeats):
                    order = args.variants if repeat % 2 == 0 else list(reversed(args.variants))
                    for variant in order:
                        profile = f"{args.profile}.{variant}" if args.profile else None
                        runs[variant].append(run_variant(variant, url, work, args.tracemalloc, profile,
                                                         tuple(args.set)))
                server_cpu = sum(psutil.Process(server.pid).cpu_times()[:2]) - server_cpu0
                if args.json:
                    Path(args.json).write_text(json.dumps({"size": size, "runs": runs}, indent=1))
            finally:
                server.terminate()
                server.wait()
        total_pages = sum(r["pages"] for rs in runs.values() for r in rs)
        print(f"SampleSite(extra_articles={size}): {prerendered} pre-rendered responses, {repeats} run(s) each; "
              f"server cpu/page={server_cpu / max(1, total_pages) * 1000:.2f} ms; load average {os.getloadavg()}")
        for variant, variant_runs in runs.items():
            first = variant_runs[0]
            extra = (f"  items={first.get('items')} balanced={first.get('balanced')}"
                     f" spilled={first.get('spilled')} refilled={first.get('refilled')}"
                     f" queue peak={first.get('queue_peak')}") if not variant.startswith("bare") else ""
            print(_fmt(variant, variant_runs) + extra)
            for growth in variant_runs[-1].get("growth", []):
                print(f"      {growth['kib']:>7} KiB {growth['count']:>7}  {' <- '.join(reversed(growth['where']))}")
        for variant, variant_runs in runs.items():
            peaks.setdefault(variant, {})[size] = max(r["peak_rss"] for r in variant_runs) / 2**20
        for base in (b for b in ("bare", "bare-tuned") if b in runs):
            base_rate = statistics.median(r["pages"] / r["elapsed"] for r in runs[base])
            base_cpu = statistics.median(r["cpu"] / r["pages"] for r in runs[base])
            for variant in (v for v in runs if not v.startswith("bare")):
                rate = statistics.median(r["pages"] / r["elapsed"] for r in runs[variant])
                cpu = statistics.median(r["cpu"] / r["pages"] for r in runs[variant])
                print(f"  {variant} vs {base}: pages/s ratio {rate / base_rate:.2f} (target >= 0.85), "
                      f"CPU/page ratio {cpu / base_cpu:.2f}", flush=True)
    # Issue #4: memory flat in the site size (the sitemap's URLs must not all sit in memory).
    for variant, by_size in peaks.items():
        if len(by_size) > 1:
            figures = ", ".join(f"{size}: {mib:.0f} MiB" for size, mib in by_size.items())
            print(f"peak RSS by site size, {variant}: {figures}; largest / smallest "
                  f"{max(by_size.values()) / min(by_size.values()):.2f} (target <= 1.10 for ours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
