"""Incremental re-crawl and crash-safe resume, on real sample-site servers and real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.context import new_run_id
from crawlers.runner import build_command, crawl_env, run_crawl
from healthnews.sample_site import SampleSite, SampleSiteServer

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HEALTHNEWS_RETRY_BACKOFF_BASE": 0.05,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16}


def captures(raw_dirs: list[Path]) -> list[tuple[str, str, int]]:
    """(record type, url, status) of every response/revisit record in these run dirs."""
    found = []
    for raw_dir in raw_dirs:
        for path in sorted(raw_dir.glob("*.warc.gz")):
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type in ("response", "revisit"):
                        found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                                      int(record.http_headers.get_statuscode())))
    return found


def test_second_run_uses_304s_and_finds_new_article(tmp_path: Path) -> None:
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        base = server.url.rstrip("/")
        first = run_crawl([server.url], tmp_path, settings=FAST, timeout=120)
        new_path = server.site.add_article("新增文章:异地就医备案怎么办理", "异地就医备案可以通过国家医保服务平台办理。" * 8)
        edited = server.site.catalog.article_paths[1]
        server.site.edit_article(edited, "这篇文章的答案已经更新。" * 12)
        items_path = tmp_path / "items2.jsonl"
        second = run_crawl([server.url], tmp_path, timeout=120,
                           settings={**FAST, "FEEDS": {str(items_path): {"format": "jsonlines"}}})
    assert first["balanced"] and second["balanced"] and second["pending"] == 0
    full_first = first["archived_status"]["200"]
    full_second = second["archived_status"]["200"]
    assert second["not_modified"] >= len(server.site.catalog.article_paths) - 5
    assert full_second * 3 < full_first, (full_first, full_second)
    second_captures = captures([Path(second["raw_dir"])])
    assert ("response", base + new_path, 200) in second_captures
    assert ("response", base + edited, 200) in second_captures
    assert sum(1 for kind, _, status in second_captures if kind == "revisit" and status == 304) == second["not_modified"]
    items = {json.loads(line)["url"].removeprefix(base) for line in items_path.read_text(encoding="utf-8").splitlines()}
    assert new_path in items and edited in items
    # Only pages that really changed (200) are re-parsed; 304s are not.
    full_urls = {url.removeprefix(base) for kind, url, status in second_captures if status == 200}
    assert items <= full_urls


# Default grouped commits; a window so wide that the killed run committed nothing at all (its
# archived pages were never even enqueued durably, and must still be replayed, not fetched twice);
# and a memory queue of 5 requests, so most of the frontier waits spilled in SQLite in both runs.
NOTHING_COMMITTED = {"HEALTHNEWS_STATE_COMMIT_EVERY": 100_000, "HEALTHNEWS_STATE_COMMIT_SECONDS": 3600}
SPILL = {"HEALTHNEWS_SCHEDULER_MEMORY_MAX": 5}


@pytest.mark.parametrize("variant", [{}, NOTHING_COMMITTED, SPILL], ids=["default", "none", "spill"])
def test_resume_after_sigkill_loses_nothing_and_archives_nothing_twice(tmp_path: Path, variant: dict) -> None:
    spill = variant if variant is SPILL else {}
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        slow = {**FAST, "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0.03,
                **variant}
        first_id = new_run_id()
        process = subprocess.Popen(build_command([server.url], tmp_path, first_id, settings=slow),
                                   cwd=tmp_path, env=crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while server.request_count < 40 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert server.request_count < 100, "the crawl finished before it could be killed"
        first_dir = tmp_path / "raw" / first_id
        assert list(first_dir.glob("*.warc.gz.open")) and not (first_dir / "manifest.json").exists()

        second = run_crawl([server.url], tmp_path, settings={**FAST, **spill}, timeout=120)
        catalog = server.site.catalog
        base = server.url.rstrip("/")

    assert second["resumed_from"] == [first_id] and second["pending"] == 0 and second["balanced"]
    if spill:  # the resumed frontier itself overflowed the memory queue and came back from SQLite
        stats = second["stats"]
        assert stats["healthnews/scheduler/spilled"] == stats["healthnews/scheduler/refilled"] > 0
    if variant is NOTHING_COMMITTED:  # every page the killed run archived comes from its WARC
        first_final = [c for c in captures([first_dir]) if c[2] != 500 and not c[1].endswith("/robots.txt")]
        # (>=: the spider's own robots.txt request is replayed too)
        assert second["replayed"] >= len(first_final) > 0, (second["replayed"], len(first_final))
    assert second["recovered_files"] and not list(first_dir.glob("*.open"))
    assert json.loads((first_dir / "manifest.json").read_text(encoding="utf-8"))["status"] == "killed"
    all_captures = captures([first_dir, Path(second["raw_dir"])])
    final = [url for _, url, status in all_captures if status not in (500,) and not url.endswith("/robots.txt")]
    reachable = {base + p for p in [*catalog.article_paths, *catalog.listing_paths, "/", catalog.sitemap_path]
                 if SampleSite().respond(p, {})[0] in (200, 404)}
    assert reachable <= set(final), sorted(reachable - set(final))[:5]
    twice = [url for url, n in Counter(final).items() if n > 1]
    assert not twice, twice


def test_resume_replays_archived_but_uncommitted_page_from_warc(tmp_path: Path) -> None:
    """The crash window between 'response written to WARC' and 'outcome committed' is closed by
    replaying the archived response instead of fetching (and archiving) it a second time."""
    import sqlite3

    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        base = server.url.rstrip("/")
        first = run_crawl([server.url], tmp_path, settings=FAST, timeout=120)
        article = base + server.site.catalog.article_paths[2]
        # Make the state look like a kill right after the WARC write of `article`.
        with sqlite3.connect(first["state_path"]) as db:
            db.execute("UPDATE frontier SET state = 'pending', outcome = NULL WHERE url = ?", (article,))
            db.execute("UPDATE jobs SET finished_at = NULL")
        server.reset_requests()
        second = run_crawl([server.url], tmp_path, settings=FAST, timeout=120)
        requested = [path for _, path in server.requests]
    assert second["resumed_from"] == [first["run_id"]]
    assert second["scheduled"] == 1 and second["replayed"] == 1 and second["archived_status"] == {"200": 1}
    assert second["items"] == 1 and second["pending"] == 0
    assert article.removeprefix(base) not in requested  # answered from the archive, not the network
    assert not [c for c in captures([Path(second["raw_dir"])]) if c[1] == article]
