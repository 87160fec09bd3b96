"""Scrapy settings for the `healthnews` crawl: the ONE place where crawl defaults live.

Our own knobs are prefixed `HEALTHNEWS_`; every component reads them once in `from_crawler`
and raises `NotConfigured` on a bad value. Override per run with `-s NAME=VALUE`, `-a` spider
arguments (start_url, allowed_domains) or `run_crawl(settings={...})`. See docs/notes/crawling.md.
"""

from __future__ import annotations

import os

from pipelines.urls import DEFAULT_TRACKING_PARAM_NAMES

BOT_NAME = "healthnews"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# --- what to crawl ----------------------------------------------------------------------------
# The bundled sample site (`healthnews serve-sample`) is the default target.
HEALTHNEWS_SAMPLE_URL = os.environ.get("HEALTHNEWS_SAMPLE_URL", "http://127.0.0.1:8765/")
HEALTHNEWS_START_URLS: list[str] = []          # empty -> [HEALTHNEWS_SAMPLE_URL]
HEALTHNEWS_ALLOWED_DOMAINS: list[str] = []     # empty -> the hosts of the start URLs
# Optional regex: URLs matching it are articles, others are not (refines the generic detection).
HEALTHNEWS_ARTICLE_URL_PATTERN = ""
HEALTHNEWS_FOLLOW_SITEMAPS = True              # robots.txt `Sitemap:` lines and /sitemap.xml
HEALTHNEWS_PARSE_ITEMS = True                  # False: yield light items (url/kind) without parsing

# --- where results go ---------------------------------------------------------------------------
HEALTHNEWS_DATA_DIR = os.environ.get("HEALTHNEWS_DATA_DIR", "data")
HEALTHNEWS_STATE_DIR = ""                      # empty -> <data_dir>/state/crawl
# State writes are committed in groups: after this many outcomes or this many seconds, whichever
# first (a kill loses at most that window; resume re-fetches or WARC-replays it; 1 / 0 = every outcome).
HEALTHNEWS_STATE_COMMIT_EVERY = 100
HEALTHNEWS_STATE_COMMIT_SECONDS = 1.0
HEALTHNEWS_RUN_ID = ""                         # empty -> YYYYMMDDTHHMMSSZ-<6 hex>
HEALTHNEWS_WARC_MAX_BYTES = 100 * 1024 * 1024  # rotate WARC files at this compressed size
HEALTHNEWS_WARC_PREFIX = "healthnews"
HEALTHNEWS_WARC_COMPRESSLEVEL = 6              # gzip level per record (9 costs ~3x CPU for ~3% size)

# --- incremental re-crawl -------------------------------------------------------------------------
HEALTHNEWS_CONDITIONAL_REQUESTS = True         # If-None-Match / If-Modified-Since from stored validators
# Listing pages fetched longer ago than this are re-fetched in full (no validators) so that new
# articles are found; 0 = always re-fetch listings in full.
HEALTHNEWS_LISTING_REVISIT_SECONDS = 0

# --- URL hygiene --------------------------------------------------------------------------------
# Query parameters dropped before dedupe; entries ending in `*` are prefixes.
HEALTHNEWS_TRACKING_PARAMS = list(DEFAULT_TRACKING_PARAM_NAMES)  # shared with the ETL (pipelines/urls.py)

# --- crawler traps (crawlers/traps.py; refused URLs are accounted as filtered/trap) --------------
# A non-article page that finds nothing new except links of its own URL template (endless
# calendars, pagination past the last page) passes one more "barren hop" to those links; links
# beyond this many hops are refused. 0 = off.
HEALTHNEWS_TRAP_MAX_BARREN_HOPS = 5
# Refuse paths where a run of 1-3 segments repeats more than this many times (/a/b/b/b/). 0 = off.
HEALTHNEWS_TRAP_MAX_REPEATED_SEGMENTS = 2

# --- politeness and safety ----------------------------------------------------------------------
HEALTHNEWS_CONTACT_URL = "https://github.com/healthnews-etl/healthnews-etl"
USER_AGENT = f"healthnews-etl/0.1 (+{HEALTHNEWS_CONTACT_URL})"  # rebuilt from the contact URL at start
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024            # also caps decompressed size (HttpCompressionMiddleware)
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
HEALTHNEWS_RETRY_BACKOFF_BASE = 1.0            # seconds before retry n: base * 2**(n-1), capped
HEALTHNEWS_RETRY_BACKOFF_MAX = 60.0
HEALTHNEWS_ALLOW_PRIVATE_HOSTS: list[str] = []  # extra hosts exempt from the SSRF guard
# Outputs of one response (≈ 10-20 requests + at most one item) are handled by this many asyncio
# tasks. Scrapy's default (100) starts 100 tasks per response whatever it yields: ≈ 1 ms CPU per
# page in the bench (about 20 % of the crawl). Our item pipelines (feed exports) are synchronous,
# so more parallelism buys nothing; 32 keeps a typical page's output (queue = 2 x 32) flowing
# without waits. 8-16 save no more CPU and hold ~8 MiB more RSS (bench/bench_crawl.py,
# docs/notes/crawling.md).
CONCURRENT_ITEMS = 32
DEPTH_LIMIT = 0                                # enforced (and accounted) by our scheduling middleware
URLLENGTH_LIMIT = 2083                         # idem
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# 304 reaches the spider so stored links are replayed; 3xx so that the spider yields the Location
# as a link (our requests carry dont_redirect, see crawlers/middlewares/scheduling.py).
HTTPERROR_ALLOWED_CODES = [304, 301, 302, 303, 307, 308]

# Dedupe is ours (state store, per canonical URL): Scrapy's in-memory fingerprint set grows without
# bound (scrapy#5307) and JOBDIR only persists on a clean stop (scrapy#2399).
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
# At most this many requests wait in Scrapy's memory queue; beyond that their URLs wait only in
# the state store's frontier (they are `pending` there anyway) and the queue is topped up from
# it as it drains, so memory does not grow with the sitemap (crawlers/scheduler.py). 0 = no cap.
# 2,000 Requests ≈ 4-5 MiB; smaller saves little and costs one SQLite round per limit/2 pages.
SCHEDULER = "crawlers.scheduler.SpillingScheduler"
HEALTHNEWS_SCHEDULER_MEMORY_MAX = 2000
# LIFO (Scrapy default): depth-first keeps the in-memory queue small on big sites (flat memory);
# the durable frontier is the state store anyway.

DOWNLOADER_MIDDLEWARES = {
    # Before Scrapy's OffsiteMiddleware (50) and RobotsTxtMiddleware (100): a private address is
    # refused before robots.txt is fetched from it or anything else touches the network.
    "crawlers.middlewares.ssrf.SsrfGuardMiddleware": 40,
    # Replaces Scrapy's OffsiteMiddleware, whose drops bypass errbacks (and so the accounting).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawlers.middlewares.offsite.OffsiteGuardMiddleware": 50,
    "crawlers.middlewares.conditional.ConditionalRequestMiddleware": 560,
    "crawlers.middlewares.conditional.RetryBackoffMiddleware": 570,
    # Closest to the network: sees every response (also retried ones) with the raw wire body.
    "crawlers.middlewares.archive.WarcArchiveMiddleware": 950,
}
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.scheduling.SchedulingMiddleware": 950,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}
EXTENSIONS = {
    "crawlers.report.CrawlReportExtension": 500,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
