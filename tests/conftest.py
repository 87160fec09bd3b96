"""Shared fixtures: the real sample site on 127.0.0.1 and one session-wide Prefect test harness.

A Prefect temporary server costs ~10 s to start here, so every flow test shares one harness
(request the `prefect_harness` fixture); nothing else starts Prefect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from healthnews.sample_site import SampleSite, SampleSiteServer

SEED_DIR = Path(__file__).resolve().parents[1] / "healthnews" / "sample_site" / "seeds"


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(SEED_DIR.glob("*.txt"))
    assert len(paths) == 5
    return paths


@pytest.fixture(scope="session")
def sample_site_server() -> Iterator[SampleSiteServer]:
    """A read-only sample site shared by tests that do not mutate it."""
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture()
def fresh_site_server() -> Iterator[SampleSiteServer]:
    """A private sample site that a test may mutate (add or edit articles)."""
    with SampleSiteServer(SampleSite(), host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# --- ETL (added by the ETL engineer) ------------------------------------------------------------
ETL_SITE_URL = "http://127.0.0.1:8765"


def etl_site_responses(site, paths, when):
    """(url, status, headers, body, date) for `paths` of a SampleSite, answered without HTTP."""
    for path in paths:
        status, headers, body = site.respond(path)
        yield ETL_SITE_URL + path, status, dict(headers), body, when


@pytest.fixture(scope="session")
def etl_raw_archive(tmp_path_factory):
    """A real raw archive: every sample-site catalog page (+404, flaky 500, tracking URL, mirror)
    written with warcio as `response` records into two WARC shards. Returns (raw_dir, site)."""
    from datetime import UTC, datetime

    from pipelines.rawio import write_warc

    site = SampleSite()
    cat = site.catalog
    # Listing pages are in every real crawl's archive: they must not become articles.
    paths = list(cat.article_paths) + [cat.broken_path, cat.tracking_duplicate_url] + list(cat.listing_paths)
    if getattr(cat, "mirror_path", None):
        paths.append(cat.mirror_path)
    raw = tmp_path_factory.mktemp("etl") / "raw" / "20261101T000000Z-aaaaaa"
    raw.mkdir(parents=True)
    when = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    half = len(paths) // 2
    write_warc(raw / "healthnews-00000.warc.gz", etl_site_responses(site, paths[:half], when))
    write_warc(raw / "healthnews-00001.warc.gz", etl_site_responses(site, paths[half:], when))
    return raw.parent, site
