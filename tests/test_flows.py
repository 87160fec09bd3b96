"""Real Prefect flows on the session harness over the real sample site (3 pipeline runs in total)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest

from flows.settings import SAMPLE_SITE_CRAWL_SETTINGS
from pipelines.schemas import PRIMARY_KEYS

pytestmark = pytest.mark.flow

COMPARED = ("articles", "related_items", "policies", "hospital_rankings", "hospitals")


def load(clean: Path, name: str) -> pd.DataFrame:
    frame = pd.read_parquet(clean / f"{name}.parquet")
    keys = list(PRIMARY_KEYS[name])
    return frame.sort_values(keys).reset_index(drop=True) if keys else frame


def stable_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Everything but the columns that move on every sighting."""
    return frame.drop(columns=[c for c in ("last_seen", "seen_at") if c in frame.columns]).astype(str)


def read_artifact(key: str, flow_run_id: str) -> dict:
    """The artifact `key` created by one flow run, read back through the Prefect REST API.

    (The client's read_artifacts() always sends task/flow-run filters, which in 3.8.8 drop
    flow-level artifacts; a plain artifact filter does not.)
    """
    from prefect.client.orchestration import get_client

    body = {"artifacts": {"key": {"any_": [key]}, "flow_run_id": {"any_": [flow_run_id]}}, "limit": 5}
    with get_client(sync_client=True) as client:
        found = client.request("POST", "/artifacts/filter", json=body).json()
    assert len(found) == 1, found
    return found[0]


def test_pipeline_runs_incrementally_and_versions_edits(prefect_harness, fresh_site_server, tmp_path) -> None:
    from flows.pipeline import pipeline_flow

    server, site = fresh_site_server, fresh_site_server.site
    clean = tmp_path / "clean"

    # 1. full run
    first = pipeline_flow([server.url], tmp_path, crawl_settings=SAMPLE_SITE_CRAWL_SETTINGS)
    crawl, etl = first["crawl"], first["etl"]
    assert crawl["archived"] > 0 and Path(crawl["raw_dir"]).is_dir()
    assert etl["published"] and etl["files_new"] >= 1
    assert etl["rows"]["articles"] > 0 and etl["rows"]["related_items"] > 0
    assert etl["pages_read"] >= etl["parsed"] > 0
    before = {name: load(clean, name) for name in COMPARED}
    assert len(before["articles"]) == etl["rows"]["articles"]

    # the run's artifact carries the counts, read back through the Prefect API
    artifact = read_artifact(first["artifact_key"], first["flow_run_id"])
    assert artifact["type"] == "table"
    table = {row["metric"]: row["value"] for row in _table_rows(artifact["data"])}
    assert table["crawl/archived"] == crawl["archived"]
    assert table["etl/parsed"] == etl["parsed"]
    assert table["rows/articles"] == etl["rows"]["articles"]
    assert table["etl/duplicates_removed"] == etl["duplicates_removed"]
    assert "seconds/crawl" in table and "seconds/parse_shards" in table

    # 2. no site change: only the new raw file is processed, rows unchanged but for last_seen
    second = pipeline_flow([server.url], tmp_path, crawl_settings=SAMPLE_SITE_CRAWL_SETTINGS)
    assert second["crawl"]["not_modified"] > 0
    assert second["etl"]["files_new"] == 1  # the first crawl's file is in the registry
    for name in COMPARED:
        after = load(clean, name)
        pd.testing.assert_frame_equal(stable_view(before[name]), stable_view(after), obj=name)

    # 3. the site adds one article and edits another
    published_urls = set(before["articles"]["url"])
    # Edit an article outside every duplicate pair: editing one side of a pair would (correctly)
    # revive its removed twin as a separate article, and which twin survives depends on crawl order.
    cat = site.catalog
    paired = {p for pair in (*cat.near_duplicate_pairs, *cat.exact_duplicate_pairs) for p in pair}
    edited_path = next(p for p in cat.article_paths
                       if p not in paired and server.url.rstrip("/") + p in published_urls)
    new_path = site.add_article("新农合门诊报销比例是多少?", "新农合门诊报销比例一般在50%左右。\n具体以当地政策为准。")
    site.edit_article(edited_path, "这是更新后的回答内容。\n报销比例已经调整,请以最新政策为准。")
    third = pipeline_flow([server.url], tmp_path, crawl_settings=SAMPLE_SITE_CRAWL_SETTINGS)
    assert third["etl"]["published"]
    articles = load(clean, "articles")
    assert any(url.endswith(new_path) for url in articles["url"])
    edited = articles[articles["url"].str.endswith(edited_path)]
    assert len(edited) == 1 and edited["version"].iloc[0] == 2
    assert "更新后的回答" in edited["answer"].iloc[0]
    history = pd.read_parquet(clean / "article_history.parquet")
    # only the edited article has history: listing pages that shifted are not articles
    assert set(history["article_id"]) == {edited["article_id"].iloc[0]}
    assert len(articles) == len(before["articles"]) + 1


def test_etl_flow_parses_shards_in_worker_processes(prefect_harness, etl_raw_archive, tmp_path,
                                                    monkeypatch) -> None:
    """The backlog path: 2 shards in a ProcessPoolTaskRunner, shard cache keyed by digest + version."""
    import flows.etl
    from flows.etl import etl_flow, shard_cache_key
    from pipelines.parse import EXTRACTOR_VERSION
    from pipelines.rawio import file_digest, list_raw_files

    raw_dir, _site = etl_raw_archive
    monkeypatch.setattr(flows.etl, "PROCESS_POOL_MIN_SHARDS", 2)
    monkeypatch.setattr(flows.etl, "SHARD_WORKERS", 2)
    assert type(flows.etl.shard_task_runner(2)).__name__ == "ProcessPoolTaskRunner"
    result = etl_flow(raw_dir, tmp_path / "clean")
    files = list_raw_files(raw_dir)
    assert result["published"] and result["files_new"] == len(files) == 2
    assert result["rows"]["articles"] == len(pd.read_parquet(tmp_path / "clean" / "articles.parquet")) > 0
    assert result["state_dir"] == str(tmp_path / "state" / "etl")
    key = shard_cache_key(None, {"digest": file_digest(files[0]), "staging_dir": "/x/staging/RUN"})
    assert file_digest(files[0]) in key and EXTRACTOR_VERSION in key


def _table_rows(data) -> list[dict]:
    import json

    return json.loads(data) if isinstance(data, str) else data


def test_serve_configuration_is_safe(prefect_harness) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy
    from prefect.flows import Flow

    from flows import settings
    from flows.schedule import build_deployment, serve_options

    # every runner option we pass exists in this Prefect version's Flow.serve
    serve_params = inspect.signature(Flow.serve).parameters
    options = serve_options()
    assert set(options) <= set(serve_params)
    assert options["pause_on_shutdown"] is False and options["limit"] == 1

    deployment = build_deployment(start_urls=["https://example.org/"], data_dir=Path("/srv/hn"))
    schedule = deployment.schedules[0].schedule
    assert schedule.cron == settings.DEFAULT_CRON == "0 3 * * *"
    assert schedule.timezone == "Asia/Shanghai"
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert deployment.parameters == {"start_urls": ["https://example.org/"], "data_dir": "/srv/hn"}

    # the server stores what we asked for (no flow run: the deployment is only registered)
    deployment_id = deployment.apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    assert stored.schedules[0].schedule.timezone == "Asia/Shanghai"
    assert stored.schedules[0].active
    assert stored.global_concurrency_limit is not None and stored.global_concurrency_limit.limit == 1
    assert stored.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW


def test_prefect_yaml_matches_the_serve_defaults() -> None:
    import yaml

    from flows import settings

    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    assert deployment["entrypoint"] == "flows/pipeline.py:pipeline_flow"
    assert deployment["schedules"] == [{"cron": settings.DEFAULT_CRON, "timezone": settings.DEFAULT_TIMEZONE,
                                        "active": True}]
    assert deployment["concurrency_limit"] == {"limit": settings.MAX_CONCURRENT_PIPELINE_RUNS,
                                               "collision_strategy": settings.COLLISION_STRATEGY}
    assert deployment["name"] == settings.DEPLOYMENT_NAME


def test_serve_rejects_bad_schedule_without_starting() -> None:
    from flows.schedule import deployment_options
    from healthnews.errors import UserError

    with pytest.raises(UserError, match="time zone"):
        deployment_options(timezone="Mars/Olympus", start_urls=["https://example.org/"])
    with pytest.raises(UserError, match="cron"):
        deployment_options(cron="61 * * * *", start_urls=["https://example.org/"])
    with pytest.raises(UserError, match="start-url"):
        deployment_options()
