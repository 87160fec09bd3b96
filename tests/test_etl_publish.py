"""Atomic versioned publishing: crash mid-publish, snapshot retention, readers, validation gates,
and the generated data dictionary being current."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import datadict
from pipelines.etl import merge_and_publish, process_shard
from pipelines.etl_state import current_generation
from pipelines.parse import EXTRACTOR_VERSION
from pipelines.publish import InjectedCrash, read_manifest
from pipelines.rawio import list_raw_files
from pipelines.schemas import DATASETS
from pipelines.validate import PublishAborted, check_dataset, check_rows, conform


@pytest.fixture(scope="module")
def staged(etl_raw_archive, tmp_path_factory):
    raw_dir, _ = etl_raw_archive
    staging = tmp_path_factory.mktemp("publish_staging")
    shards = [process_shard(p, staging, extractor_version=EXTRACTOR_VERSION) for p in list_raw_files(raw_dir)]
    return [Path(s["staged"]) for s in shards], shards


@pytest.mark.parametrize("crash_point", ["articles", "hospitals", "snapshot"])
def test_crash_mid_publish_leaves_previous_snapshot_readable(staged, tmp_path, crash_point):
    paths, shards = staged
    clean, state = tmp_path / "clean", tmp_path / "state"
    merge_and_publish(paths[:1], clean, state, run_id="run-a", inputs=shards[:1])
    before = {n: pd.read_parquet(clean / f"{n}.parquet") for n in DATASETS}
    reader = pq.ParquetFile(clean / "articles.parquet")  # a reader that opened the old snapshot
    with pytest.raises(InjectedCrash):
        merge_and_publish(paths, clean, state, run_id="run-b", inputs=shards, fail_after=crash_point)
    assert os.readlink(clean / "current") == "snapshots/run-a"
    assert read_manifest(clean)["current"] == "run-a"
    assert current_generation(state).name == "run-a"
    for name in DATASETS:
        pd.testing.assert_frame_equal(pd.read_parquet(clean / f"{name}.parquet"), before[name])
    assert reader.read().num_rows == len(before["articles"])
    # the next run publishes everything and cleans the crashed leftovers
    result = merge_and_publish(paths, clean, state, run_id="run-c", inputs=shards)
    assert os.readlink(clean / "current") == "snapshots/run-c"
    assert result["rows"]["articles"] > len(before["articles"])
    assert sorted(p.name for p in (clean / "snapshots").iterdir()) == ["run-a", "run-c"]


def test_snapshots_are_kept_and_listed_in_manifest(staged, tmp_path):
    paths, shards = staged
    clean, state = tmp_path / "clean", tmp_path / "state"
    for i in range(3):
        merge_and_publish(paths, clean, state, run_id=f"run-{i}", inputs=shards, keep_snapshots=2)
    manifest = json.loads((clean / "manifest.json").read_text())
    assert manifest["current"] == "run-2" and manifest["rows"] == manifest["snapshots"][0]["rows"]
    assert [s["run_id"] for s in manifest["snapshots"]] == ["run-2", "run-1"]
    assert sorted(p.name for p in (clean / "snapshots").iterdir()) == ["run-1", "run-2"]
    entry = manifest["snapshots"][0]
    assert entry["rows"]["articles"] == pq.read_metadata(clean / "articles.parquet").num_rows
    assert set(entry["schema_fingerprints"]) == set(DATASETS) and len(entry["inputs"]) == len(shards)
    assert all((clean / f"{n}.parquet").is_symlink() for n in DATASETS)
    assert pq.ParquetFile(clean / "policies.parquet").metadata.row_group(0).column(0).compression == "ZSTD"


def test_row_checks_quarantine_bad_values_and_dataset_gate_aborts():
    rows = [{"ranking_id": "r1", "source_type": "article", "rank": 0, "hospital_name": "甲医院", "hospital_id": "-|甲医院"},
            {"ranking_id": "r1", "source_type": "article", "rank": 1, "hospital_name": "乙医院", "hospital_id": "-|乙医院"},
            {"ranking_id": "r2", "source_type": "article", "rank": 2, "hospital_name": None, "hospital_id": "-|x"}]
    table = conform(pa.Table.from_pylist(rows), pa.schema([f.with_nullable(True)
                                                           for f in DATASETS["hospital_rankings"]]))
    good, rejects = check_rows("hospital_rankings", table)
    assert good.num_rows == 1 and good["hospital_name"].to_pylist() == ["乙医院"]
    assert sorted(r["reason"] for r in rejects) == ["validate/hospital_rankings/null_hospital_name",
                                                   "validate/hospital_rankings/rank_lt_1"]
    with pytest.raises(PublishAborted):
        check_dataset("articles", DATASETS["articles"].empty_table(), pages_parsed=10)


def test_validation_abort_keeps_previous_snapshot(staged, tmp_path):
    paths, shards = staged
    clean, state = tmp_path / "clean", tmp_path / "state"
    merge_and_publish(paths, clean, state, run_id="ok", inputs=shards)
    # a shard directory whose articles file was emptied (e.g. a broken extractor): zero articles
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in paths[0].iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    pq.write_table(pq.read_table(paths[0] / "articles.parquet").slice(0, 0), broken / "articles.parquet")
    with pytest.raises(PublishAborted):
        merge_and_publish([broken], tmp_path / "clean2", tmp_path / "state2", run_id="bad",
                          inputs=[{"parsed": 40}])
    assert not (tmp_path / "clean2" / "current").exists()
    assert os.readlink(clean / "current") == "snapshots/ok"


def test_data_dictionary_is_generated_and_current():
    committed = datadict.DOC_PATH.read_text(encoding="utf-8")
    assert committed == datadict.render(), "docs/datasets.md is stale: run `python -m pipelines.datadict`"
    for name, schema in DATASETS.items():
        assert f"## `{name}`" in committed
        for field in schema:
            assert f"| `{field.name}` |" in committed and field.metadata[b"description"]
