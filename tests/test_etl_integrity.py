"""Referential integrity of the published datasets and stable dedupe survivors, on real WARC shards
from the sample site, merged, published as Parquet and read back (pyarrow, DuckDB).

* validation cascades: the children of a rejected article (its policy / ranking records, its older
  versions, the tracking-URL aliases, its place in related items' `shown_on` and links) are
  quarantined with `validate/<dataset>/parent_rejected` or unlinked, never published as orphans;
* every foreign key of every published child joins to a published parent (DuckDB anti joins, the
  way an analyst would write them, and `pipelines.validate.check_references`);
* the published survivor of a duplicate pair stays the survivor when a late shard brings an
  earlier fetch of its twin, whatever the shard order, unless it is itself rejected.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ETL_SITE_URL, etl_site_responses

from healthnews.sample_site import SampleSite
from pipelines.etl import merge_and_publish, process_shard
from pipelines.rawio import write_warc
from pipelines.schemas import DATASETS
from pipelines.urls import stable_id, url_id
from pipelines.validate import check_references, parquet_reader

T0, T1, T2 = (datetime(2026, 11, d, 3, 0, tzinfo=UTC) for d in (1, 2, 3))

# Every foreign key as an analyst joins it: (name, SQL counting child keys without a published parent).
ORPHAN_JOINS = {
    "article_history.article_id": "SELECT count(*) FROM article_history c ANTI JOIN articles p USING (article_id)",
    "related_items.article_id": "SELECT count(*) FROM related_items c ANTI JOIN articles p USING (article_id) "
                                "WHERE c.article_id IS NOT NULL",
    "related_items.shown_on": "SELECT count(*) FROM (SELECT unnest(shown_on) AS article_id FROM related_items) c "
                              "ANTI JOIN articles p USING (article_id)",
    "policies.article_id": "SELECT count(*) FROM policies c ANTI JOIN articles p USING (article_id) "
                           "WHERE c.article_id IS NOT NULL",
    "policies.related_id": "SELECT count(*) FROM policies c ANTI JOIN related_items p USING (related_id) "
                           "WHERE c.related_id IS NOT NULL",
    "hospital_rankings.article_id": "SELECT count(*) FROM hospital_rankings c ANTI JOIN articles p "
                                    "USING (article_id) WHERE c.article_id IS NOT NULL",
    "hospital_rankings.related_id": "SELECT count(*) FROM hospital_rankings c ANTI JOIN related_items p "
                                    "USING (related_id) WHERE c.related_id IS NOT NULL",
    "hospital_rankings.hospital_id": "SELECT count(*) FROM hospital_rankings c ANTI JOIN hospitals p "
                                     "USING (hospital_id)",
    # a removed article/related item names the kept row, or another removed row (a tracking URL of an
    # article that was itself removed as a near duplicate): both are published or listed
    "duplicates.duplicate_of": "SELECT count(*) FROM duplicates c WHERE c.dataset IN ('articles', 'related_items') "
                               "AND c.duplicate_of NOT IN (SELECT article_id FROM articles UNION ALL "
                               "SELECT related_id FROM related_items UNION ALL SELECT row_id FROM duplicates)",
}


def _orphans(clean: Path) -> dict[str, int]:
    con = duckdb.connect()
    for name in DATASETS:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{clean / (name + '.parquet')}')")
    return {fk: n for fk, sql in ORPHAN_JOINS.items() if (n := con.execute(sql).fetchone()[0])}


def _future_dated(responses):
    """The same pages with their publication date moved to 2099: a row validation must reject."""
    for url, status, headers, body, when in responses:
        dated = re.sub(rb'(class="pub-date">)\d{4}', rb"\g<1>2099", body, count=1)
        assert dated != body, url
        yield url, status, headers, dated, when


def _shard(tmp: Path, name: str, responses) -> tuple[Path, dict]:
    raw = tmp / "raw" / f"20261101T000000Z-{name}"
    raw.mkdir(parents=True)
    write_warc(raw / f"{name}.warc.gz", responses)
    result = process_shard(raw / f"{name}.warc.gz", tmp / "staging", extractor_version="t")
    return Path(result["staged"]), result


def _read(clean: Path, name: str) -> list[dict]:
    return pq.read_table(clean / f"{name}.parquet").to_pylist()


def _aid(path: str) -> str:
    return url_id(ETL_SITE_URL + path)


@pytest.fixture(scope="module")
def cascade_runs(tmp_path_factory):
    """Run 1: 24 pages; future-dated: the policy page /article/1.html (survivor-to-be of its
    near-duplicate twin /article/85.html), /article/5.html (the only page listing 19 related items)
    and the ranking page /article/6.html. Run 2: /article/10.html edited and future-dated, so its new
    version is rejected and its older version would be orphaned history."""
    tmp = tmp_path_factory.mktemp("etl_integrity")
    site = SampleSite()
    cat = site.catalog
    bad = ["/article/1.html", "/article/5.html", "/article/6.html"]
    paths = [p for p in cat.article_paths[:24] if p != cat.flaky_path and p not in bad] + ["/article/85.html"]
    s1, r1 = _shard(tmp, "s1", etl_site_responses(site, paths, T1))
    s2, r2 = _shard(tmp, "s2", _future_dated(etl_site_responses(site, bad, T1)))
    clean, state = tmp / "clean", tmp / "state"
    first = merge_and_publish([s1, s2], clean, state, run_id="run-1", inputs=[r1, r2])
    snapshot1 = {n: _read(clean, n) for n in DATASETS}
    orphans1 = _orphans(clean)
    refs1 = check_references(parquet_reader(clean))
    site.edit_article("/article/10.html", "这是修改后的排名说明,医院排名以当地卫健委最新公布为准,请咨询医院。")
    s3, r3 = _shard(tmp, "s3", _future_dated(etl_site_responses(site, ["/article/10.html"], T2)))
    second = merge_and_publish([s3], clean, state, run_id="run-2", inputs=[r3])
    return {"first": first, "snapshot1": snapshot1, "orphans1": orphans1, "refs1": refs1, "second": second,
            "clean": clean, "paths": paths, "bad": bad}


def test_rejected_article_takes_its_children_to_quarantine(cascade_runs):
    pub = cascade_runs["snapshot1"]
    x, rank_page = _aid("/article/1.html"), _aid("/article/6.html")
    assert {x, rank_page}.isdisjoint(a["article_id"] for a in pub["articles"])
    reasons = {(q["raw_ref"], q["reason"]): q["detail"] for q in pub["quarantine"]}
    assert ("articles:" + x, "validate/articles/future_date") in reasons
    # the page records of the rejected articles follow them (the policy would also fail future_date
    # on its own: the reported reason is the root cause, the parent's)
    policy_x = stable_id(f"policy:article:{x}")
    ranking_r = stable_id(f"ranking:article:{rank_page}")
    detail = reasons[("policies:" + policy_x, "validate/policies/parent_rejected")]
    assert detail.startswith(f"parent articles {x} rejected: validate/articles/future_date")
    ranking_rows = [k for k in reasons if k[0].startswith(f"hospital_rankings:{ranking_r}/")]
    assert ranking_rows and {k[1] for k in ranking_rows} == {"validate/hospital_rankings/parent_rejected"}
    assert all(p["article_id"] not in (x, rank_page) for p in pub["policies"] + pub["hospital_rankings"])
    cascaded = sum(1 for q in pub["quarantine"] if q["reason"].endswith("/parent_rejected"))
    assert cascade_runs["first"]["counters"]["validate/dropped/parent_rejected"] == cascaded >= 1 + len(ranking_rows)
    # related items pointing at the rejected pages are unlinked (and their snippet records stay),
    # and the rejected pages are not listed in shown_on
    related = pub["related_items"]
    to_bad = [r for r in related if r["url"] in (ETL_SITE_URL + "/article/1.html", ETL_SITE_URL + "/article/6.html")]
    assert to_bad and all(r["article_id"] is None for r in to_bad)
    snippet_records = {p["related_id"] for p in pub["policies"] + pub["hospital_rankings"]}
    assert {r["related_id"] for r in to_bad} <= snippet_records
    assert all(not {x, rank_page} & set(r["shown_on"]) and r["shown_on_count"] == len(r["shown_on"])
               for r in related)


def test_items_listed_only_on_rejected_pages_follow_them_with_their_records(cascade_runs):
    pub = cascade_runs["snapshot1"]
    only_page5 = [q for q in pub["quarantine"] if q["reason"] == "validate/related_items/parent_rejected"]
    assert len(only_page5) == 19 and all("every page listing it was rejected" in q["detail"] for q in only_page5)
    gone = {q["raw_ref"].split(":", 1)[1] for q in only_page5}
    assert gone.isdisjoint(r["related_id"] for r in pub["related_items"])
    records = [q for q in pub["quarantine"] if q["detail"].startswith("parent related_items ")]
    assert records and {q["detail"].split()[2] for q in records} <= gone
    assert all(q["reason"] in ("validate/policies/parent_rejected", "validate/hospital_rankings/parent_rejected")
               and "rejected: validate/related_items/parent_rejected" in q["detail"] for q in records)
    assert gone.isdisjoint(p["related_id"] for p in pub["policies"] + pub["hospital_rankings"])


def test_rejected_survivor_lets_its_twin_be_published_and_nothing_vanishes(cascade_runs):
    pub = cascade_runs["snapshot1"]
    published = {a["article_id"] for a in pub["articles"]}
    assert _aid("/article/85.html") in published  # twin of the rejected /article/1.html
    removed = {d["row_id"] for d in pub["duplicates"] if d["dataset"] == "articles"}
    quarantined = {q["raw_ref"].split(":", 1)[1] for q in pub["quarantine"] if q["raw_ref"].startswith("articles:")}
    crawled = {_aid(p) for p in [*cascade_runs["paths"], *cascade_runs["bad"]]}
    assert crawled == published | (removed & crawled) | quarantined and published.isdisjoint(quarantined)


def test_every_foreign_key_resolves_in_the_published_parquet(cascade_runs):
    assert cascade_runs["orphans1"] == {} and cascade_runs["refs1"] == {}
    clean = cascade_runs["clean"]
    assert _orphans(clean) == {} and check_references(parquet_reader(clean)) == {}
    # run 2: the edited article's new version is rejected; its older version (article_history)
    # would be an orphan, so it is quarantined with its parent's reason
    h = _aid("/article/10.html")
    quarantine = _read(clean, "quarantine")
    assert {q["reason"] for q in quarantine if q["raw_ref"] == f"article_history:{h}/1"} == \
        {"validate/article_history/parent_rejected"}
    assert h not in {a["article_id"] for a in _read(clean, "articles")}
    assert _read(clean, "article_history") == [] and cascade_runs["second"]["new_versions"] == 1


def test_check_references_reports_an_orphan(cascade_runs, tmp_path):
    clean = cascade_runs["clean"]
    for name in DATASETS:
        shutil.copyfile(clean / f"{name}.parquet", tmp_path / f"{name}.parquet")
    policies = pq.read_table(tmp_path / "policies.parquet")
    orphan = policies.slice(0, 1).set_column(policies.schema.get_field_index("article_id"), "article_id",
                                             pa.array(["0000000000000000"], pa.string()))
    pq.write_table(pa.concat_tables([policies, orphan]), tmp_path / "policies.parquet")
    problems = check_references(parquet_reader(tmp_path))
    assert problems == {"policies.article_id -> articles.article_id": {"orphans": 1,
                                                                       "examples": ["0000000000000000"]}}
    assert _orphans(tmp_path) == {"policies.article_id": 1}


def test_published_survivor_stays_when_a_late_shard_brings_its_twin_earlier(tmp_path):
    site = SampleSite()
    a, b = site.catalog.near_duplicate_pairs[0]
    others = [p for p in site.catalog.article_paths[20:26] if p != site.catalog.flaky_path]
    s1, r1 = _shard(tmp_path, "s1", etl_site_responses(site, [a, b, *others], T1))
    base = tmp_path / "base"
    merge_and_publish([s1], base / "clean", base / "state", run_id="run-1", inputs=[r1])
    published = {r["article_id"] for r in _read(base / "clean", "articles")}
    survivor, twin = (a, b) if _aid(a) in published else (b, a)
    assert _aid(twin) not in published
    # a late shard: an EARLIER fetch of the twin (its first_seen moves before the survivor's)
    s2, r2 = _shard(tmp_path, "s2", etl_site_responses(site, [twin], T0))
    outputs = []
    for order, staged in (("late-first", [s2, s1]), ("late-last", [s1, s2])):
        env = tmp_path / order
        shutil.copytree(base, env, symlinks=True)
        merge_and_publish(staged, env / "clean", env / "state", run_id="run-2",
                          inputs=[r2, r1] if staged[0] == s2 else [r1, r2])
        merge_and_publish([s2], env / "clean", env / "state", run_id="run-3", inputs=[r2])  # replayed
        articles = {r["article_id"]: r for r in _read(env / "clean", "articles")}
        assert _aid(survivor) in articles and _aid(twin) not in articles, order
        assert articles[_aid(survivor)]["first_seen"] == T1  # the survivor's own observation
        dup = [d for d in _read(env / "clean", "duplicates") if d["row_id"] == _aid(twin)]
        assert [(d["duplicate_of"], d["method"]) for d in dup] == [(_aid(survivor), "near")]
        outputs.append({n: sorted(map(repr, _read(env / "clean", n))) for n in ("articles", "duplicates")})
    assert outputs[0] == outputs[1]
    # without a published survivor (fresh state), the earliest seen twin wins: the late shard
    # really would have switched the survivor
    fresh = tmp_path / "fresh"
    merge_and_publish([s1, s2], fresh / "clean", fresh / "state", run_id="run-1", inputs=[r1, r2])
    assert _aid(twin) in {r["article_id"] for r in _read(fresh / "clean", "articles")}
    assert _aid(survivor) not in {r["article_id"] for r in _read(fresh / "clean", "articles")}


def test_older_versions_of_a_removed_duplicate_are_listed_not_orphaned(tmp_path):
    from pipelines.parse import parse_page

    site = SampleSite()
    a, b = site.catalog.near_duplicate_pairs[0]
    s1, r1 = _shard(tmp_path, "s1", etl_site_responses(site, [a, b], T1))
    clean, state = tmp_path / "clean", tmp_path / "state"
    merge_and_publish([s1], clean, state, run_id="run-1", inputs=[r1])
    kept = {r["article_id"] for r in _read(clean, "articles")}
    survivor, twin = (a, b) if _aid(a) in kept else (b, a)
    # the twin gets a second version that is still a near duplicate: its first version becomes history
    answer = parse_page(site.respond(twin)[2], url=ETL_SITE_URL + twin)["answer"]
    site.edit_article(twin, answer + "\n本文内容已于近日更新。")
    s2, r2 = _shard(tmp_path, "s2", etl_site_responses(site, [twin], T2))
    report = merge_and_publish([s2], clean, state, run_id="run-2", inputs=[r2])
    assert report["new_versions"] == 1 and report["counters"]["merge/articles/new_version"] == 1
    assert {r["article_id"] for r in _read(clean, "articles")} == {_aid(survivor)}
    assert _read(clean, "article_history") == []
    listed = [(d["row_id"], d["duplicate_of"], d["method"]) for d in _read(clean, "duplicates")
              if d["dataset"] == "article_history"]
    assert listed == [(f"{_aid(twin)}:v1", _aid(survivor), "near")]
    assert _orphans(clean) == {} and check_references(parquet_reader(clean)) == {}
