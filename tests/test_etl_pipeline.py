"""ETL end to end on real WARC files built from the sample site: process_shard -> merge_and_publish."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ETL_SITE_URL, etl_site_responses

from healthnews.sample_site import SampleSite
from pipelines.etl import merge_and_publish, needs_processing, process_shard, processed_registry, run_etl
from pipelines.parse import EXTRACTOR_VERSION
from pipelines.rawio import list_raw_files, write_warc
from pipelines.schemas import DATASETS
from pipelines.urls import url_id


def _stage(raw_dir: Path, staging: Path) -> tuple[list[Path], list[dict]]:
    shards = [process_shard(p, staging, extractor_version=EXTRACTOR_VERSION) for p in list_raw_files(raw_dir)]
    return [Path(s["staged"]) for s in shards], shards


def _read(clean: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(clean / f"{name}.parquet")


@pytest.fixture(scope="module")
def published(etl_raw_archive, tmp_path_factory):
    raw_dir, site = etl_raw_archive
    root = tmp_path_factory.mktemp("etl_pub")
    report = run_etl(raw_dir, root / "clean", root / "state", workers=2, run_id="20261101T040000Z-000001")
    return report, root, site


def test_run_etl_publishes_every_dataset_with_declared_schema(published):
    report, root, site = published
    cat = site.catalog
    clean = root / "clean"
    assert report["published"] and report["files_new"] == 2
    assert report["shard_counters"]["raw/skipped/http_404"] == 1
    assert report["shard_counters"]["parse/dropped/listing_page"] == len(cat.listing_paths)
    for name, schema in DATASETS.items():
        read_back = pq.read_schema(clean / f"{name}.parquet")
        assert read_back.equals(schema), name
        assert pq.read_table(clean / f"{name}.parquet").schema.equals(schema)
    articles = _read(clean, "articles")
    assert str(articles["kind"].dtype) == "category" and str(articles["first_seen"].dtype) == "datetime64[us, UTC]"
    # published + removed-as-duplicate articles partition the crawled ids; each labelled pair keeps one
    crawled = [p for p in [*cat.article_paths, cat.mirror_path] if p and p != cat.flaky_path]
    crawled_ids = {url_id(ETL_SITE_URL + p) for p in crawled}
    dups = _read(clean, "duplicates")
    art_dups = dups[dups.dataset == "articles"]
    removed = set(art_dups[art_dups.method != "url"].row_id)
    assert set(articles.article_id).isdisjoint(removed)
    assert set(articles.article_id) | removed == crawled_ids
    for a, b in (*cat.near_duplicate_pairs, *cat.exact_duplicate_pairs):
        pair = {url_id(ETL_SITE_URL + a), url_id(ETL_SITE_URL + b)}
        assert len(pair & set(articles.article_id)) == 1, (a, b)
    tracking = art_dups[art_dups.method == "url"]
    assert tracking.url.str.contains("utm_source").any()
    assert (art_dups.method == "near").sum() >= len(cat.near_duplicate_pairs)
    # DuckDB and pandas read the same consistent snapshot through the stable symlinks
    n = duckdb.sql(f"SELECT count(*) FROM '{clean / 'articles.parquet'}'").fetchall()[0][0]
    assert n == len(articles) == report["rows"]["articles"]


def test_related_items_merge_across_pages_and_link_articles(published):
    _, root, _ = published
    related = _read(root / "clean", "related_items")
    assert related.related_id.is_unique
    assert (related.shown_on_count > 1).any()
    assert (related.shown_on.map(len) == related.shown_on_count).all()
    articles = _read(root / "clean", "articles")
    linked = related.dropna(subset=["article_id"])
    assert len(linked) > len(related) / 2 and set(linked.article_id) <= set(articles.article_id)
    # the full article's structured record wins over the snippet's
    policies = _read(root / "clean", "policies")
    assert not (policies.source_type == "related").any() or \
        policies[policies.source_type == "related"].related_id.isin(related[related.article_id.isna()].related_id).all()


def test_hospitals_merge_aliases_and_rankings_are_typed(published):
    _, root, _ = published
    hospitals = _read(root / "clean", "hospitals")
    assert hospitals.hospital_id.is_unique
    merged = hospitals[hospitals.aliases.map(lambda a: "福建省南平市第一医院" in list(a))]
    assert len(merged) == 1 and "南平市第一医院" in list(merged.iloc[0].aliases)
    rankings = _read(root / "clean", "hospital_rankings")
    assert (rankings["rank"] >= 1).all() and set(rankings.hospital_id) <= set(hospitals.hospital_id)
    # seed 000: "南平市第一医院 综合评分 :60 特色 :拥有91个科室,752位医生"
    stated = rankings[(rankings.hospital_name_raw == "南平市第一医院") & rankings.department_count.notna()]
    assert len(stated) and set(stated.department_count) == {91} and set(stated.doctor_count) == {752}
    # every row of a merged hospital carries its one canonical name (the spelling stays in _raw)
    same = rankings[rankings.hospital_id == merged.iloc[0].hospital_id]
    assert set(same.hospital_name) == {merged.iloc[0]["name"]} and same.hospital_name_raw.nunique() > 1


def test_rerun_on_same_inputs_gives_same_rows(etl_raw_archive, tmp_path):
    raw_dir, _ = etl_raw_archive
    staged, shards = _stage(raw_dir, tmp_path / "staging")
    clean, state = tmp_path / "clean", tmp_path / "state"
    merge_and_publish(staged, clean, state, run_id="r1", inputs=shards)
    first = {n: pq.read_table(clean / f"{n}.parquet") for n in DATASETS}
    again = merge_and_publish(staged, clean, state, run_id="r2", inputs=shards)
    assert again["new_versions"] == 0
    for name in DATASETS:
        second = pq.read_table(clean / f"{name}.parquet")
        assert sorted(map(repr, second.to_pylist())) == sorted(map(repr, first[name].to_pylist())), name
    assert {d for d in processed_registry(state)} == {s["digest"] for s in shards}
    assert needs_processing(state, list_raw_files(raw_dir), EXTRACTOR_VERSION) == []
    assert len(needs_processing(state, list_raw_files(raw_dir), "another-version")) == 2
    assert run_etl(raw_dir, clean, state)["published"] is False


def test_recrawl_moves_last_seen_and_edit_makes_version_2(tmp_path):
    site = SampleSite()
    paths = list(site.catalog.article_paths[:12])
    raw = tmp_path / "raw"
    (raw / "a").mkdir(parents=True)
    t1, t2, t3 = (datetime(2026, 11, d, tzinfo=UTC) for d in (1, 2, 3))
    write_warc(raw / "a" / "s1.warc.gz", etl_site_responses(site, paths, t1))
    clean, state = tmp_path / "clean", tmp_path / "state"
    run_etl(raw, clean, state, run_id="run-1")
    before = _read(clean, "articles").set_index("article_id").sort_index()
    (raw / "b").mkdir()
    write_warc(raw / "b" / "s2.warc.gz", etl_site_responses(site, paths, t2))
    run_etl(raw, clean, state, run_id="run-2")
    after = _read(clean, "articles").set_index("article_id").sort_index()
    assert (after.last_seen == pd.Timestamp(t2)).all() and (after.first_seen == before.first_seen).all()
    pd.testing.assert_frame_equal(after.drop(columns=["last_seen"]), before.drop(columns=["last_seen"]))
    edited = paths[3]
    site.edit_article(edited, "这是修改后的回答内容,医保报销比例调整为百分之七十,请以当地最新政策为准。")
    (raw / "c").mkdir()
    write_warc(raw / "c" / "s3.warc.gz", etl_site_responses(site, paths, t3))
    report = run_etl(raw, clean, state, run_id="run-3")
    assert report["new_versions"] == 1
    final = _read(clean, "articles").set_index("article_id")
    aid = url_id(ETL_SITE_URL + edited)
    assert final.loc[aid, "version"] == 2 and "百分之七十" in final.loc[aid, "answer"]
    history = _read(clean, "article_history")
    assert list(history.article_id) == [aid] and history.iloc[0].version == 1
    assert history.iloc[0].content_hash == before.loc[aid, "content_hash"]
    assert history.iloc[0].superseded_at == pd.Timestamp(t3)


def test_bad_pages_are_quarantined_with_reasons(tmp_path):
    when = datetime(2026, 11, 1, tzinfo=UTC)
    html = {"Content-Type": "text/html; charset=utf-8"}
    responses = [
        (f"{ETL_SITE_URL}/empty.html", 200, html, b"", when),
        (f"{ETL_SITE_URL}/logo.png", 200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n\x00\x00", when),
        (f"{ETL_SITE_URL}/blob.html", 200, html, b"\x00\x01\x02binary\x00" * 20, when),
        (f"{ETL_SITE_URL}/blank.html", 200, html, b"<html><body><div> </div></body></html>", when),
        (f"{ETL_SITE_URL}/gone.html", 404, html, b"<html>not found</html>", when),
        # expected crawler files: counted, neither articles nor quarantine
        (f"{ETL_SITE_URL}/robots.txt", 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /x/\n", when),
        (f"{ETL_SITE_URL}/sitemap.xml", 200, {"Content-Type": "application/xml"},
         b'<?xml version="1.0"?><urlset><url><loc>/a.html</loc></url></urlset>', when),
    ]
    (tmp_path / "raw").mkdir()
    write_warc(tmp_path / "raw" / "bad.warc.gz", iter(responses))
    result = process_shard(tmp_path / "raw" / "bad.warc.gz", tmp_path / "staging", extractor_version="t")
    assert result["pages_read"] == 7 and result["parsed"] == 0 and result["quarantined"] == 4
    assert result["counters"]["raw/skipped/http_404"] == 1
    assert result["counters"]["raw/skipped/robots_txt"] == 1 and result["counters"]["raw/skipped/xml_document"] == 1
    quarantine = pq.read_table(Path(result["staged"]) / "quarantine.parquet").to_pandas()
    reasons = dict(zip(quarantine.url.str.rsplit("/", n=1).str[-1], quarantine.reason.astype(str), strict=True))
    assert reasons["empty.html"] == "raw/empty_body"
    assert reasons["logo.png"] == "raw/unsupported_content_type"
    assert reasons["blob.html"] == "raw/binary_payload"
    assert reasons["blank.html"].startswith("parse/")
    assert quarantine.raw_ref.str.contains("urn:uuid").all()


def test_truncated_warc_keeps_readable_pages_and_quarantines_the_rest(tmp_path):
    site = SampleSite()
    paths = list(site.catalog.article_paths[:6])
    (tmp_path / "raw").mkdir()
    full = tmp_path / "raw" / "full.warc.gz"
    write_warc(full, etl_site_responses(site, paths, datetime(2026, 11, 1, tzinfo=UTC)))
    data = full.read_bytes()
    cut = tmp_path / "raw" / "cut.warc.gz"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    result = process_shard(cut, tmp_path / "staging", extractor_version="t")
    assert 0 < result["parsed"] < len(paths)
    assert result["counters"]["raw/corrupt_warc"] == 1
    quarantine = pq.read_table(Path(result["staged"]) / "quarantine.parquet").to_pylist()
    assert [q["reason"] for q in quarantine] == ["raw/corrupt_warc"]


def test_parser_upgrade_reprocesses_raw_files_and_replaces_rows_in_place(tmp_path, monkeypatch):
    """A new EXTRACTOR_VERSION re-processes the same raw files; each re-extraction replaces its
    row in place: same `version`, same first/last_seen, no article_history row."""
    import pipelines.parse as parse_module

    site = SampleSite()
    paths = list(site.catalog.article_paths[:10])
    (tmp_path / "raw" / "a").mkdir(parents=True)
    write_warc(tmp_path / "raw" / "a" / "s1.warc.gz", etl_site_responses(site, paths, datetime(2026, 11, 1, tzinfo=UTC)))
    raw, clean, state = tmp_path / "raw", tmp_path / "clean", tmp_path / "state"
    run_etl(raw, clean, state, run_id="run-1")
    before = pq.read_table(clean / "articles.parquet").to_pandas().set_index("article_id").sort_index()
    multi = before[before.answer.str.contains("\n")]
    assert len(multi) >= 1 and (before.extractor_version == EXTRACTOR_VERSION).all()

    real_parse = parse_module.parse_page

    def upgraded_parse(content, **kwargs):  # the "new parser": keeps only the first answer paragraph
        record = real_parse(content, **kwargs)
        record["answer_paragraphs"] = (record.get("answer_paragraphs") or [])[:1]
        record["answer"] = "\n".join(record["answer_paragraphs"]) or record["answer"]
        record["extractor_version"] = "test-upgrade"
        return record

    monkeypatch.setattr(parse_module, "parse_page", upgraded_parse)
    monkeypatch.setattr(parse_module, "EXTRACTOR_VERSION", "test-upgrade")
    assert needs_processing(state, list_raw_files(raw), "test-upgrade") == list_raw_files(raw)
    report = run_etl(raw, clean, state, run_id="run-2")
    assert report["files_new"] == 1 and report["new_versions"] == 0
    assert report["counters"]["merge/articles/reextracted"] == len(before)
    after = pq.read_table(clean / "articles.parquet").to_pandas().set_index("article_id").sort_index()
    assert list(after.index) == list(before.index)
    assert (after.version == before.version).all() and (after.extractor_version == "test-upgrade").all()
    assert (after.first_seen == before.first_seen).all() and (after.last_seen == before.last_seen).all()
    for aid, row in multi.iterrows():
        assert after.loc[aid, "answer"] == row.answer.split("\n")[0]
        assert after.loc[aid, "content_hash"] != row.content_hash
    assert pq.read_table(clean / "article_history.parquet").num_rows == 0
    assert {e["extractor_version"] for e in processed_registry(state).values()} == {"test-upgrade"}
    assert run_etl(raw, clean, state, run_id="run-3")["published"] is False
