"""The main job behind `healthnews run` / `healthnews etl`: one call, a summary dict back.

`run_main_job` checks what a user can get wrong (data dir not writable, start URL unreachable)
BEFORE starting Prefect, so those errors are one clear line, not a failed flow run.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from flows.settings import SAMPLE_SITE_CRAWL_SETTINGS, SAMPLE_SITE_PORT
from healthnews.errors import UserError

CONNECT_TIMEOUT_S = 10.0


def _writable_data_dir(data_dir: Path) -> Path:
    data_dir = Path(data_dir).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise UserError(f"data dir {data_dir} is not writable: {exc.strerror or exc}") from exc
    return data_dir.resolve()


def _check_reachable(url: str) -> None:
    """A TCP connect to the start URL's host: catches typos and closed ports in ~no time."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"start URL must be an http(s) URL, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise UserError(f"start URL {url} is unreachable ({exc.strerror or exc})") from exc


def _summary(result: dict, data_dir: Path, elapsed: dict) -> dict:
    crawl, etl = result.get("crawl") or {}, result.get("etl") or {}
    rows = etl.get("rows") or {}
    filtered = crawl.get("filtered") or {}
    return {
        "ok": bool(etl.get("published", False) or etl.get("reason") == "no new raw files"),
        "pages_fetched": crawl.get("archived", 0),
        "pages_failed": crawl.get("failed", 0),
        "pages_filtered": sum(filtered.values()) if isinstance(filtered, dict) else filtered,
        "pages_not_modified": crawl.get("not_modified", 0),
        "pages_parsed": etl.get("parsed", 0),
        "articles": rows.get("articles", 0),
        "related_items": rows.get("related_items", 0),
        "policies": rows.get("policies", 0),
        "hospital_ranking_rows": rows.get("hospital_rankings", 0),
        "hospitals": rows.get("hospitals", 0),
        "duplicates_removed": etl.get("duplicates_removed", 0),
        "quarantined": etl.get("quarantined", 0),
        "new_versions": etl.get("new_versions", 0),
        "raw_run_dir": crawl.get("raw_dir"),
        "clean_dir": str(Path(data_dir) / "clean"),
        "manifest": etl.get("manifest"),
        "snapshot": etl.get("snapshot"),
        "crawl_run_id": crawl.get("run_id"),
        "etl_run_id": etl.get("run_id"),
        "seconds": {**elapsed, **{f"etl/{k}": v for k, v in (etl.get("stage_seconds") or {}).items()}},
    }


def _sample_site_server(site_cls, server_cls):
    """The sample site on SAMPLE_SITE_PORT, or on any free port when that one is taken."""
    try:
        return server_cls(site_cls(), host="127.0.0.1", port=SAMPLE_SITE_PORT).start()
    except OSError:  # address in use (another run, `healthnews serve-sample`, anything else)
        return server_cls(site_cls(), host="127.0.0.1", port=0).start()


def run_main_job(start_urls: list[str] | None, data_dir: Path) -> dict:
    """Crawl (bundled sample site when start_urls is None) and publish; return a summary dict."""
    started = time.perf_counter()
    data_dir = _writable_data_dir(Path(data_dir))
    for url in start_urls or []:
        _check_reachable(url)
    from flows.pipeline import pipeline_flow

    if start_urls:
        result = pipeline_flow(list(start_urls), data_dir)
    else:
        from healthnews.sample_site import SampleSite, SampleSiteServer

        with _sample_site_server(SampleSite, SampleSiteServer) as server:
            result = pipeline_flow([server.url], data_dir, crawl_settings=SAMPLE_SITE_CRAWL_SETTINGS)
    crawl, etl = result["crawl"], result["etl"]
    elapsed = {"crawl": crawl.get("seconds", 0.0), "etl": etl.get("seconds", 0.0),
               "total": round(time.perf_counter() - started, 3)}
    return _summary(result, data_dir, elapsed)


def run_crawl_job(start_urls: list[str] | None, data_dir: Path) -> dict:
    """`healthnews crawl`: one crawl into DATA_DIR/raw, no ETL, no Prefect server (an operator's
    hand run; scheduled runs use the `crawl` flow). The bundled sample site when start_urls is None."""
    from crawlers.runner import CrawlError, run_crawl

    started = time.perf_counter()
    data_dir = _writable_data_dir(Path(data_dir))
    for url in start_urls or []:
        _check_reachable(url)
    try:
        if start_urls:
            report = run_crawl(list(start_urls), data_dir)
        else:
            from healthnews.sample_site import SampleSite, SampleSiteServer

            with _sample_site_server(SampleSite, SampleSiteServer) as server:
                report = run_crawl([server.url], data_dir, settings=SAMPLE_SITE_CRAWL_SETTINGS)
    except CrawlError as exc:
        raise UserError(f"crawl failed (exit code {exc.returncode}); log: {exc.log_path}") from exc
    elapsed = round(time.perf_counter() - started, 3)
    summary = _summary({"crawl": report}, data_dir, {"total": elapsed})
    summary["ok"] = True
    summary["items"] = report.get("items", 0)
    summary["filtered"] = report.get("filtered") or {}
    for key in ("pages_parsed", "articles", "related_items", "policies", "hospital_ranking_rows", "hospitals",
                "duplicates_removed", "quarantined", "new_versions", "clean_dir", "manifest", "snapshot",
                "etl_run_id"):
        summary.pop(key, None)
    summary["crawl_manifest"] = report.get("manifest_path")
    return summary


def run_etl_job(raw_dir: Path, clean_dir: Path, state_dir: Path | None = None) -> dict:
    """`healthnews etl`: raw -> clean without crawling; same summary shape as run_main_job."""
    from flows.etl import etl_flow

    started = time.perf_counter()
    clean_dir = Path(clean_dir).expanduser()
    _writable_data_dir(clean_dir.parent)
    etl = etl_flow(Path(raw_dir), clean_dir, state_dir)
    summary = _summary({"etl": etl}, clean_dir.parent, {"etl": etl.get("seconds", 0.0),
                                                        "total": round(time.perf_counter() - started, 3)})
    summary["clean_dir"] = str(clean_dir)
    for key in ("pages_fetched", "pages_failed", "pages_filtered", "pages_not_modified", "raw_run_dir",
                "crawl_run_id"):
        summary.pop(key, None)
    summary["raw_dir"] = str(raw_dir)
    return summary


def format_summary(summary: dict) -> str:
    """Readable multi-line summary for the terminal."""
    lines = ["healthnews: " + ("OK" if summary.get("ok") else "FAILED")]
    labels = [("pages_fetched", "pages fetched"), ("pages_failed", "pages failed"),
              ("pages_filtered", "pages filtered"), ("pages_not_modified", "pages not modified"),
              ("pages_parsed", "pages parsed"), ("articles", "articles"), ("related_items", "related items"),
              ("policies", "policies"), ("hospital_ranking_rows", "hospital-ranking rows"),
              ("hospitals", "hospitals"), ("duplicates_removed", "duplicates removed"),
              ("quarantined", "quarantined"), ("new_versions", "new article versions"),
              ("items", "article items")]
    for key, label in labels:
        if key in summary:
            lines.append(f"  {label:<24}{summary[key]}")
    filtered = summary.get("filtered")
    if filtered:
        lines.append(f"  {'filtered by reason':<24}" + ", ".join(f"{k} {v}" for k, v in sorted(filtered.items())))
    for key, label in (("raw_dir", "raw archive"), ("raw_run_dir", "raw run dir"), ("clean_dir", "clean dir"),
                       ("manifest", "manifest"), ("crawl_manifest", "crawl manifest"), ("snapshot", "snapshot")):
        if summary.get(key):
            lines.append(f"  {label:<24}{summary[key]}")
    seconds = summary.get("seconds") or {}
    if seconds:
        lines.append("  seconds: " + ", ".join(f"{k} {float(v):.2f}" for k, v in seconds.items()))
    return "\n".join(lines)
