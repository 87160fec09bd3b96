"""Crawl report + manifest (extension): closes the WARC files and says what happened.

At spider close: the current WARC file is closed (renamed from `.open`), the counts are checked
(`scheduled == archived + failed + filtered + pending`), `<raw_dir>/manifest.json` is written
atomically (temp file + rename) and the report is logged and printed. The state store's job is
closed only if the crawl finished with nothing pending; otherwise the next run resumes it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals

from crawlers.context import get_run_context
from pipelines.rawio import file_digest

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
STATS_IN_MANIFEST = ("healthnews/", "downloader/", "retry/", "robotstxt/", "item_scraped_count")
REPORTED_SETTINGS = (
    "USER_AGENT", "ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE", "RETRY_TIMES", "RETRY_HTTP_CODES",
    "DEPTH_LIMIT", "HEALTHNEWS_PARSE_ITEMS", "HEALTHNEWS_CONDITIONAL_REQUESTS", "HEALTHNEWS_LISTING_REVISIT_SECONDS",
    "HEALTHNEWS_ARTICLE_URL_PATTERN", "HEALTHNEWS_WARC_MAX_BYTES", "HEALTHNEWS_TRACKING_PARAMS",
    "HEALTHNEWS_SCHEDULER_MEMORY_MAX", "HEALTHNEWS_TRAP_MAX_BARREN_HOPS", "HEALTHNEWS_TRAP_MAX_REPEATED_SEGMENTS",
)


def write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def format_report(report: dict) -> str:
    filtered = ", ".join(f"{k}={v}" for k, v in report["filtered"].items()) or "none"
    failed = ", ".join(f"{k}={v}" for k, v in report["failed_reasons"].items()) or "none"
    statuses = ", ".join(f"{k}={v}" for k, v in report["archived_status"].items()) or "none"
    check = "OK" if report["balanced"] else "MISMATCH"
    return (f"healthnews crawl {report['run_id']} ({report['finish_reason']}): scheduled={report['scheduled']} "
            f"archived={report['archived']} [{statuses}] failed={report['failed']} [{failed}] "
            f"filtered={report['filtered_total']} [{filtered}] pending={report['pending']} "
            f"not_modified={report['not_modified']} items={report['items']} -> accounting {check}; "
            f"{len(report['files'])} WARC file(s) in {report['raw_dir']}")


class CrawlReportExtension:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.context = get_run_context(crawler)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider) -> None:
        job = self.context.job
        logger.info("healthnews run %s -> %s (state %s, job %s%s)", self.context.run_id, self.context.raw_dir,
                    self.context.state.path, job.job_id,
                    f", resuming {len(job.pending)} pending URLs of {job.previous_run_ids}" if job.resumed else "")
        for previous in job.previous_run_ids:
            self._manifest_for_killed_run(previous)

    def _manifest_for_killed_run(self, run_id: str) -> None:
        run_dir = self.context.data_dir / "raw" / run_id
        if not run_dir.is_dir() or (run_dir / MANIFEST_NAME).exists():
            return
        files = [{"name": p.name, "size": p.stat().st_size, "sha256": file_digest(p)} for p in sorted(run_dir.glob("*.warc.gz"))]
        write_json_atomic(run_dir / MANIFEST_NAME, {
            "run_id": run_id, "status": "killed", "recovered_by": self.context.run_id,
            "note": "the crawl process died; its files were recovered and its pending URLs resumed by recovered_by",
            "files": files,
        })

    def build_report(self, reason: str) -> dict:
        ctx = self.context
        counts = ctx.ledger.counts(pending=ctx.state.outcome_counts().get("pending", 0))
        balanced = counts["scheduled"] == counts["archived"] + counts["failed"] + counts["filtered_total"] + counts["pending"]
        spider = self.crawler.spider
        files = [{"name": f.name, "size": f.size, "sha256": f.sha256, "records": f.records}
                 for f in ctx.writer.closed_files]
        return {
            "run_id": ctx.run_id,
            "job_id": ctx.job.job_id,
            "resumed_from": ctx.job.previous_run_ids,
            "raw_dir": str(ctx.raw_dir),
            "manifest_path": str(ctx.raw_dir / MANIFEST_NAME),
            "state_path": str(ctx.state.path),
            "started_at": ctx.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "finish_reason": reason,
            "start_urls": list(getattr(spider, "start_urls", []) or []),
            "allowed_domains": list(getattr(spider, "allowed_domains", []) or []),
            **counts,
            "balanced": balanced,
            "archive_records": self.crawler.stats.get_value("healthnews/archive/records", 0),
            "recovered_files": ctx.recovered_files,
            "files": files,
            "settings": {name: self.crawler.settings.get(name) for name in REPORTED_SETTINGS},
            "stats": {k: v for k, v in sorted(self.crawler.stats.get_stats().items())
                      if k.startswith(STATS_IN_MANIFEST)},
        }

    def spider_closed(self, spider, reason: str) -> None:
        ctx = self.context
        ctx.writer.close()
        report = self.build_report(reason)
        ctx.raw_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(ctx.raw_dir / MANIFEST_NAME, report)
        complete = reason == "finished" and report["pending"] == 0
        ctx.state.finish_run(complete)
        ctx.state.close()
        stats = self.crawler.stats
        stats.set_value("healthnews/pending", report["pending"])
        stats.set_value("healthnews/archive/files", len(report["files"]))
        text = format_report(report)
        lost = reason == "finished" and report["pending"] > 0
        if lost:
            logger.error("%d scheduled URLs have no outcome although the crawl finished", report["pending"])
        (logger.info if report["balanced"] and not lost else logger.error)(text)
        print(text, file=sys.stderr, flush=True)
