"""`healthnews` as a user runs it: a real subprocess, real files, one main-job run on its own server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from flows.main_job import format_summary
from pipelines.schemas import DATASETS

REPO = Path(__file__).resolve().parents[1]
PARSE_FIELDS = {"source", "url", "title", "answer", "answer_paragraphs", "kind", "published", "related",
                "ranking", "policy", "errors", "extractor_version"}
# Every published dataset must have rows after one sample-site run, except history (needs an edit).
MAY_BE_EMPTY = {"article_history", "quarantine"}  # the sample site serves no bad input


def healthnews(*args: str, cwd: Path, env_extra: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    # Like a user's shell: no Prefect API from a test harness, so `run` starts its own temporary server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PYTHONPATH": str(REPO), **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "healthnews", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def assert_one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


@pytest.fixture(scope="module")
def main_run(tmp_path_factory) -> tuple[Path, dict]:
    """`healthnews run --data-dir DATA --json` from an unrelated working directory (one flow run)."""
    work = tmp_path_factory.mktemp("cli")
    data = work / "data"
    result = healthnews("run", "--data-dir", str(data), "--json", cwd=work, timeout=240,
                        env_extra={"PREFECT_HOME": str(work / "prefect-home")})
    assert result.returncode == 0, result.stderr[-3000:]
    return data, json.loads(result.stdout)


def test_run_publishes_every_dataset_with_the_data_dictionary_columns(main_run) -> None:
    data, summary = main_run
    clean = data / "clean"
    files = {p.name.removesuffix(".parquet"): p for p in clean.glob("*.parquet")}
    assert set(files) == set(DATASETS)
    for name, path in files.items():
        frame = pd.read_parquet(path)
        assert list(frame.columns) == DATASETS[name].names, name
        if name not in MAY_BE_EMPTY:
            assert len(frame) > 0, f"{name} has no rows"
    assert summary["ok"] is True
    articles = pd.read_parquet(files["articles"])
    assert summary["articles"] == len(articles)
    # robots.txt and the sitemap are archived but are neither articles nor bad input
    assert not articles.url.str.endswith(("/robots.txt", "/sitemap.xml")).any()
    assert not pd.read_parquet(files["quarantine"]).url.str.endswith(("/robots.txt", "/sitemap.xml")).any()
    assert summary["hospital_ranking_rows"] == len(pd.read_parquet(files["hospital_rankings"]))
    assert summary["pages_fetched"] >= summary["articles"]
    assert Path(summary["manifest"]).is_file() and Path(summary["raw_run_dir"]).is_dir()
    assert list(Path(summary["raw_run_dir"]).glob("*.warc.gz"))
    assert summary["seconds"]["total"] < 60


def test_summary_text_names_the_counts_and_places(main_run) -> None:
    _, summary = main_run
    text = format_summary(summary)
    assert text.splitlines()[0] == "healthnews: OK"
    assert f"articles                {summary['articles']}" in text
    assert summary["clean_dir"] in text and summary["manifest"] in text


def test_parse_prints_one_json_object_per_input(tmp_path, seed_paths, sample_site_server) -> None:
    site = sample_site_server.site
    status, _headers, body = site.respond(site.catalog.article_paths[0])
    assert status == 200
    html = tmp_path / "page.html"
    html.write_bytes(body)
    result = healthnews("parse", str(seed_paths[0]), str(html), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    for record in records:
        assert PARSE_FIELDS <= set(record)
        assert record["title"] and record["answer"]
    assert records[0]["source"] == str(seed_paths[0]) and records[1]["source"] == str(html)


def test_crawl_archives_without_publishing_and_second_crawl_is_incremental(tmp_path) -> None:
    from healthnews.sample_site import SampleSite

    site = SampleSite()  # `healthnews crawl` without --start-url serves this same site itself
    data = tmp_path / "data"
    first = healthnews("crawl", "--data-dir", str(data), "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    manifest = json.loads(Path(report["crawl_manifest"]).read_text(encoding="utf-8"))
    assert report["pages_fetched"] == manifest["archived"] > len(site.catalog.article_paths) // 2
    assert report["pages_failed"] == 0 and report["items"] > 0
    assert report["filtered"].get("robots") == 1 and report["filtered"].get("ssrf", 0) >= 1
    assert sorted(Path(report["raw_run_dir"]).glob("*.warc.gz"))
    assert not (data / "clean").exists(), "crawl must not publish"
    second = json.loads(healthnews("crawl", "--data-dir", str(data), "--json", cwd=tmp_path).stdout)
    assert second["crawl_run_id"] != report["crawl_run_id"]
    assert second["pages_not_modified"] >= len(site.catalog.article_paths) // 2


def test_user_errors_are_one_line_without_traceback(tmp_path) -> None:
    assert_one_line_error(healthnews("parse", str(tmp_path / "missing.html"), cwd=tmp_path), "no such file")
    assert_one_line_error(healthnews("run", "--start-url", closed_port_url(), "--data-dir", str(tmp_path / "d"),
                                     cwd=tmp_path), "unreachable")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert_one_line_error(healthnews("run", "--start-url", closed_port_url(), "--data-dir", str(not_a_dir),
                                     cwd=tmp_path), "not writable")
    assert_one_line_error(healthnews("etl", "--raw", str(tmp_path / "nope"), cwd=tmp_path), "not found")
    assert_one_line_error(healthnews("crawl", "--start-url", closed_port_url(), "--data-dir", str(tmp_path / "d"),
                                     cwd=tmp_path), "unreachable")
    bad = healthnews("run", "--no-such-option", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "unrecognized arguments: --no-such-option" in bad.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", ["", "run", "crawl", "serve-sample", "parse", "etl", "serve"])
def test_help(command, tmp_path) -> None:
    result = healthnews(*([command] if command else []), "--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("usage: healthnews")
    assert "Traceback" not in result.stderr
