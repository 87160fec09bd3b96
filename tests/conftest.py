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
