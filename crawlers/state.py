"""Crawl state behind one interface: seen set, frontier, outcomes, validators, page memory.

Why not Scrapy's own: JOBDIR persists the scheduler queue only on a clean stop (scrapy#2399)
and the fingerprint dupefilter keeps every fingerprint in memory (scrapy#5307). Here outcomes
go to SQLite (WAL mode) as they happen, so a SIGKILLed crawl resumes from the last commit and
memory stays flat. A shared backend (e.g. scrapy-redis sets and hashes) could stand behind the
same `CrawlStateStore` protocol for multi-process crawls.

Commits are grouped (HEALTHNEWS_STATE_COMMIT_EVERY outcomes or HEALTHNEWS_STATE_COMMIT_SECONDS,
whichever comes first): one transaction per outcome cost ~0.1 ms CPU and ~0.15 ms of write
syscalls per page. Why grouping is still crash-safe: all writes go through one connection in
program order, so a kill loses a *suffix* of them, never a middle. A page's out-links are
enqueued before its outcome is written, so a page counted done always has its links in the
frontier; a URL whose enqueue was lost was found by a page whose outcome was lost too, which is
pending again and finds it again. Responses the killed run archived in the lost window are
answered from its WARC on resume (crawlers/context.py), not fetched twice.

Vocabulary: a *job* is one logical crawl of a site; it spans one run id, or several when a
killed crawl is resumed. Rows of `frontier` belong to a job: `pending` (scheduled, no outcome
yet), `done` (final outcome recorded) or `alias` (a non-canonical spelling already accounted).
`pages` is per URL across jobs: validators, last fetch, page kind and out-links.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class PendingUrl:
    """A frontier URL without an outcome: what is needed to re-create its request (resume, refill)."""

    url: str
    depth: int
    priority: int = 0


@dataclass(frozen=True)
class JobInfo:
    job_id: int
    resumed: bool
    previous_run_ids: list[str]
    pending: list[PendingUrl]


@dataclass(frozen=True)
class PageInfo:
    """What we remember about a URL from earlier fetches (used for conditional requests)."""

    etag: str | None
    last_modified: str | None
    status: int | None
    fetched_at: float | None
    kind: str | None
    outlinks: list[str]


class CrawlStateStore(Protocol):
    """The crawl's memory. Writes must become durable in order (a crash may lose only the most
    recent ones, as a whole suffix); `flush()` makes everything so far durable."""

    def begin_run(self, run_id: str) -> JobInfo: ...
    def is_seen(self, url: str) -> bool: ...
    def mark_seen(self, url: str) -> None: ...
    def enqueue(self, url: str, depth: int) -> bool: ...
    def pending(self) -> list[PendingUrl]: ...
    def mark_done(self, url: str, outcome: str, status: int | None = None,
                  page: PageInfo | None = None) -> bool: ...
    def page_info(self, url: str) -> PageInfo | None: ...
    def finish_run(self, complete: bool) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    # Spill queue: pending URLs whose requests the scheduler did not keep in memory (crawlers/scheduler.py).
    def spill(self, pending: PendingUrl) -> None: ...
    def take_spilled(self, limit: int) -> list[PendingUrl]: ...
    def spilled_count(self) -> int: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_ids TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS frontier (
    job_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    state TEXT NOT NULL,
    depth INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    status INTEGER,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job_id, url)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS frontier_pending ON frontier (job_id, state);
CREATE TABLE IF NOT EXISTS spill (
    seq INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    depth INTEGER NOT NULL,
    priority INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS spill_order ON spill (priority DESC, seq);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    status INTEGER,
    fetched_at REAL,
    kind TEXT,
    outlinks TEXT
) WITHOUT ROWID;
"""


class SqliteCrawlStateStore:
    """`CrawlStateStore` in one SQLite file; WAL + synchronous=NORMAL survives process kills.

    (synchronous=NORMAL may lose the last commits on power loss, not on SIGKILL: the WAL is in
    the OS page cache once `commit()` returns.)
    """

    def __init__(self, state_dir: Path, name: str = "crawl.sqlite", *, commit_every: int = 1,
                 commit_seconds: float = 0.0) -> None:
        if commit_every < 1 or commit_seconds < 0:
            raise ValueError("commit_every must be >= 1 and commit_seconds >= 0")
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / name
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._job_id: int | None = None
        self._uncommitted = 0          # outcomes in the open transaction
        self._opened_at = 0.0          # monotonic time the open transaction began
        self._spilled = 0              # rows in `spill` (one crawl process per state file)

    # -- grouped commits -----------------------------------------------------------------------------
    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        """Execute a write inside the open transaction (opening one if needed)."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
            self._opened_at = time.monotonic()
        return self._db.execute(sql, params)

    def _outcome_written(self) -> None:
        self._uncommitted += 1
        if self._uncommitted >= self.commit_every or time.monotonic() - self._opened_at >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        """Commit the open transaction: everything written so far survives a crash."""
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._uncommitted = 0

    # -- jobs ---------------------------------------------------------------------------------------
    def begin_run(self, run_id: str) -> JobInfo:
        """Resume the unfinished job if there is one, else start a new job.

        The spill queue of a previous process is dropped: its URLs are still `pending` in the
        frontier, so a resumed job re-issues them through `pending()` like every other.
        """
        self.flush()
        self._db.execute("DELETE FROM spill")
        self._spilled = 0
        row = self._db.execute(
            "SELECT job_id, run_ids FROM jobs WHERE finished_at IS NULL ORDER BY job_id DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            job_id, run_ids = row[0], json.loads(row[1])
            self._db.execute("UPDATE jobs SET run_ids = ? WHERE job_id = ?", (json.dumps(run_ids + [run_id]), job_id))
            self._job_id = job_id
            return JobInfo(job_id, True, run_ids, self.pending())
        cur = self._db.execute("INSERT INTO jobs (run_ids, started_at) VALUES (?, ?)", (json.dumps([run_id]), time.time()))
        self._job_id = int(cur.lastrowid or 0)
        return JobInfo(self._job_id, False, [], [])

    def finish_run(self, complete: bool) -> None:
        """A complete job is closed (the next run starts fresh); otherwise the next run resumes it.

        Frontier rows of older finished jobs are deleted so the file does not grow per run.
        """
        self.flush()
        if complete and self._job_id is not None:
            with self._db:
                self._db.execute("UPDATE jobs SET finished_at = ? WHERE job_id = ?", (time.time(), self._job_id))
                self._db.execute("DELETE FROM frontier WHERE job_id < ?", (self._job_id,))

    @property
    def job_id(self) -> int:
        if self._job_id is None:
            raise RuntimeError("begin_run() was not called")
        return self._job_id

    # -- seen set / frontier -------------------------------------------------------------------------
    def is_seen(self, url: str) -> bool:
        return self._db.execute(
            "SELECT 1 FROM frontier WHERE job_id = ? AND url = ?", (self.job_id, url)
        ).fetchone() is not None

    def mark_seen(self, url: str) -> None:
        """Remember a non-canonical spelling (it is accounted once, as filtered/duplicate)."""
        self._write(
            "INSERT OR IGNORE INTO frontier (job_id, url, state, updated_at) VALUES (?, ?, 'alias', ?)",
            (self.job_id, url, time.time()),
        )

    def enqueue(self, url: str, depth: int) -> bool:
        """Add a URL to the frontier; False if this job has seen it already."""
        cur = self._write(
            "INSERT OR IGNORE INTO frontier (job_id, url, state, depth, updated_at) VALUES (?, ?, 'pending', ?, ?)",
            (self.job_id, url, depth, time.time()),
        )
        return cur.rowcount == 1

    def pending(self) -> list[PendingUrl]:
        rows = self._db.execute(
            "SELECT url, depth FROM frontier WHERE job_id = ? AND state = 'pending' ORDER BY depth, updated_at",
            (self.job_id,),
        ).fetchall()
        return [PendingUrl(url, depth) for url, depth in rows]

    def mark_done(self, url: str, outcome: str, status: int | None = None, page: PageInfo | None = None) -> bool:
        """Record the final outcome of a pending URL (and what we learnt about the page) atomically.

        Returns False, changing nothing, if the URL is not pending: an outcome is recorded once.
        Both rows are in the same transaction (grouped commits never split an outcome).
        """
        cur = self._write(
            "UPDATE frontier SET state = 'done', outcome = ?, status = ?, updated_at = ? "
            "WHERE job_id = ? AND url = ? AND state = 'pending'",
            (outcome, status, time.time(), self.job_id, url),
        )
        if cur.rowcount != 1:
            return False
        if page is not None:
            self._write(
                "INSERT INTO pages (url, etag, last_modified, status, fetched_at, kind, outlinks) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "etag = excluded.etag, last_modified = excluded.last_modified, status = excluded.status, "
                "fetched_at = excluded.fetched_at, kind = excluded.kind, outlinks = excluded.outlinks",
                (url, page.etag, page.last_modified, page.status, page.fetched_at, page.kind,
                 json.dumps(page.outlinks, ensure_ascii=False)),
            )
        self._outcome_written()
        return True

    def is_done(self, url: str) -> bool:
        """True if this job recorded an outcome (or an alias) for the URL."""
        return self._db.execute(
            "SELECT 1 FROM frontier WHERE job_id = ? AND url = ? AND state != 'pending'", (self.job_id, url)
        ).fetchone() is not None

    def outcome_counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT COALESCE(outcome, state), COUNT(*) FROM frontier WHERE job_id = ? AND state != 'alias' "
            "GROUP BY 1", (self.job_id,),
        ).fetchall()
        return {key: n for key, n in rows}

    # -- spill queue ----------------------------------------------------------------------------------
    def spill(self, pending: PendingUrl) -> None:
        """Park a pending URL's request here instead of in the scheduler's memory queue.

        The frontier row stays `pending` (resume and accounting do not care where the request
        waits); this table only orders what the scheduler takes back, highest priority first.
        """
        self._write("INSERT INTO spill (url, depth, priority) VALUES (?, ?, ?)",
                    (pending.url, pending.depth, pending.priority))
        self._spilled += 1

    def take_spilled(self, limit: int) -> list[PendingUrl]:
        """Remove up to `limit` spilled URLs (highest priority, then oldest) and return those still
        pending in this job: a URL that got an outcome meanwhile is not fetched again."""
        limit = max(0, limit)
        rows = self._db.execute(
            "SELECT s.seq, s.url, s.depth, s.priority, f.state FROM spill s "
            "LEFT JOIN frontier f ON f.job_id = ? AND f.url = s.url "
            "ORDER BY s.priority DESC, s.seq LIMIT ?", (self.job_id, limit),
        ).fetchall()
        if not rows:
            return []
        # Same order and limit, same connection, nothing written in between: the same rows.
        self._write("DELETE FROM spill WHERE seq IN (SELECT seq FROM spill ORDER BY priority DESC, seq LIMIT ?)",
                    (limit,))
        self._spilled -= len(rows)
        return [PendingUrl(url, depth, priority) for _, url, depth, priority, state in rows if state == "pending"]

    def spilled_count(self) -> int:
        return self._spilled

    # -- page memory ---------------------------------------------------------------------------------
    def page_info(self, url: str) -> PageInfo | None:
        row = self._db.execute(
            "SELECT etag, last_modified, status, fetched_at, kind, outlinks FROM pages WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        return PageInfo(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else [])

    def close(self) -> None:
        self.flush()
        self._db.close()
