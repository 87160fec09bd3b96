"""Run one `healthnews` crawl in a fresh Python process and return its report.

Twisted's reactor cannot be restarted inside a process, so every crawl (from Prefect flows,
tests, the CLI) runs `python -m scrapy crawl healthnews` as a child process with
`SCRAPY_SETTINGS_MODULE=crawlers.settings` and the repository on PYTHONPATH: it works from any
working directory. The report is read back from the run's manifest.json (written by
crawlers/report.py), so the parent never parses logs. The child's log goes to
`<data_dir>/logs/crawl-<run_id>.log`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from crawlers.context import RUN_ID_RE, new_run_id

REPO_ROOT = Path(__file__).resolve().parents[1]
STDERR_TAIL_LINES = 40


class CrawlError(RuntimeError):
    """The crawl process failed (or timed out) before writing its manifest."""

    def __init__(self, message: str, *, returncode: int | None, log_tail: str, log_path: Path) -> None:
        super().__init__(f"{message}\n--- last lines of {log_path} ---\n{log_tail}")
        self.returncode = returncode
        self.log_tail = log_tail
        self.log_path = log_path


def _setting_value(value: object) -> str:
    """Encode a setting for `-s NAME=VALUE` the way Scrapy's getters read it back."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Mapping):
        return json.dumps(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return str(value)


def build_command(start_urls: Sequence[str], data_dir: Path, run_id: str, *,
                  allowed_domains: Sequence[str] | None = None,
                  settings: Mapping[str, object] | None = None) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "healthnews",
               "-a", "start_url=" + ",".join(start_urls),
               "-s", f"HEALTHNEWS_DATA_DIR={data_dir}", "-s", f"HEALTHNEWS_RUN_ID={run_id}"]
    if allowed_domains:
        command += ["-a", "allowed_domains=" + ",".join(allowed_domains)]
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={_setting_value(value)}"]
    return command


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def crawl_env() -> dict[str, str]:
    """Environment of a crawl process: our settings module, the repository importable."""
    return dict(os.environ, SCRAPY_SETTINGS_MODULE="crawlers.settings",
                PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))


def run_crawl(start_urls: list[str], data_dir: Path, *, run_id: str | None = None,
              allowed_domains: list[str] | None = None, settings: dict | None = None,
              timeout: float | None = None) -> dict:
    """Crawl `start_urls` into `<data_dir>/raw/<run_id>/` and return the crawl report.

    The report is manifest.json: run_id, raw_dir, manifest_path, scheduled, archived, failed,
    filtered {reason: n}, not_modified, items, pending, files, ... (docs/notes/crawling.md).
    Raises CrawlError with the log tail if the process fails or times out, ValueError on bad
    arguments.
    """
    if not start_urls:
        raise ValueError("run_crawl needs at least one start URL")
    run_id = run_id or new_run_id()
    if not RUN_ID_RE.match(run_id):
        raise ValueError(f"run_id must look like 20250101T000000Z-a1b2c3, got {run_id!r}")
    data_dir = Path(data_dir).expanduser().resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"crawl-{run_id}.log"
    env = crawl_env()
    command = build_command(start_urls, data_dir, run_id, allowed_domains=allowed_domains, settings=settings)
    with open(log_path, "wb") as log:
        try:
            completed = subprocess.run(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise CrawlError(f"crawl {run_id} timed out after {timeout} s", returncode=None,
                             log_tail=_tail(log_path), log_path=log_path) from exc
    manifest_path = data_dir / "raw" / run_id / "manifest.json"
    if completed.returncode != 0 or not manifest_path.exists():
        raise CrawlError(f"crawl {run_id} failed (exit code {completed.returncode}"
                         f"{', no manifest' if not manifest_path.exists() else ''})",
                         returncode=completed.returncode, log_tail=_tail(log_path), log_path=log_path)
    report = json.loads(manifest_path.read_text(encoding="utf-8"))
    report["log_path"] = str(log_path)
    return report
