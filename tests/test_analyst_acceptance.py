"""Analyst acceptance: the published Parquet files, loaded the way an analyst loads them (pandas,
DuckDB, the README recipes), on raw pages of shapes the sample site does not have.

One small real run (module fixture, ~3-5 s): the sample-site shards of the session fixture
`etl_raw_archive`, plus WARC shards written with the crawler's own writer (`crawlers.warc.
WarcRunWriter`: response + request records) holding
* every parser fixture of another layout (tests/fixtures/pages/other_layouts: Q&A pages, tables,
  English / Traditional Chinese, GBK, text dumps, card-style related lists without snippets), one of
  them served gzip-compressed (`Content-Encoding: gzip`, as real sites do);
* the second test site (tests/second_site.py, rendered without HTTP): articles under other URL
  schemes, its home / channel / tag / calendar pages, a PDF mislabelled text/html — crawled twice,
  so two shards carry quarantine rows.
Then every dataset is checked against docs/datasets.md and for value sanity, joins and re-crawls.
"""

from __future__ import annotations

import gzip
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ETL_SITE_URL
from second_site import SecondSite

from crawlers.warc import HttpExchange, WarcRunWriter
from pipelines.etl import run_etl
from pipelines.hospitals import canonical_hospital_name
from pipelines.patterns.entities import UNIT_CANON
from pipelines.regions import resolve_region
from pipelines.schemas import DATASETS, PRIMARY_KEYS
from pipelines.urls import canonical_url
from pipelines.validate import check_references, parquet_reader

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = Path(__file__).parent / "fixtures" / "pages" / "other_layouts"
LAYOUT_HOST = "http://layouts.example.org/"
SECOND_HOST = "http://portal.example.net"
SECOND_LISTINGS = ("/", "/channel/yibao/", "/channel/yibao/?page=2", "/channel/jiuyi/", "/tags.html",
                   "/tag/" + quote("医保"), "/calendar?month=2025-05", "/calendar?month=2025-04")
BOILERPLATE = ("本内容不能代替面诊", "本信息整理自互联网公开渠道", "大家都在搜", "首页 顶部", "相关推荐")
T1, T2 = datetime(2026, 11, 10, 3, 0, tzinfo=UTC), datetime(2026, 11, 11, 3, 0, tzinfo=UTC)


def _exchange(url: str, status: int, headers: list[tuple[str, str]], body: bytes, when: datetime) -> HttpExchange:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return HttpExchange(url=url, method="GET", request_headers=[("Host", url.split("/")[2])], request_body=b"",
                        status=status, protocol="HTTP/1.1", response_headers=headers, body=body,
                        extra={"WARC-Date": stamp})


def _layout_exchanges(when: datetime) -> list[HttpExchange]:
    out = []
    for i, page in enumerate(sorted(LAYOUTS.glob("*"))):
        body = page.read_bytes()
        headers = [("Content-Type", "text/plain; charset=utf-8" if page.suffix == ".txt" else "text/html")]
        if i == 0:  # one page compressed on the wire, archived as sent
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        out.append(_exchange(LAYOUT_HOST + page.name, 200, headers, body, when))
    return out


def _second_site_exchanges(site: SecondSite, when: datetime) -> list[HttpExchange]:
    targets = [*site.article_paths, *SECOND_LISTINGS, site.small_mislabelled_path, site.missing_path]
    out = []
    for target in targets:
        status, headers, body = site.respond(target, {"Host": SECOND_HOST.split("//")[1]})
        out.append(_exchange(SECOND_HOST + target, status, list(headers), body, when))
    return out


def _write_run(raw_root: Path, run_id: str, exchanges: list[HttpExchange]) -> None:
    writer = WarcRunWriter(raw_root / run_id, run_id)
    for exchange in exchanges:
        writer.write_exchange(exchange)
    writer.close()


@pytest.fixture(scope="module")
def analyst_run(etl_raw_archive, tmp_path_factory):
    """(clean_dir, state_dir, raw_root, run_etl result) of one real run over all three inputs."""
    sample_raw, _ = etl_raw_archive
    root = tmp_path_factory.mktemp("analyst")
    raw = root / "raw"
    shutil.copytree(sample_raw, raw)
    site = SecondSite.build()
    site.flaky_pending.clear()
    empty = _exchange(SECOND_HOST + "/news/2025/07/01/a1009.shtml", 200, [("Content-Type", "text/html")], b"", T1)
    # the first shard has a reason the second lacks: the shards' `reason` dictionaries differ
    _write_run(raw, "20261110T030000Z-a00001", [empty, *_layout_exchanges(T1), *_second_site_exchanges(site, T1)])
    _write_run(raw, "20261110T040000Z-a00002", _second_site_exchanges(site, T1))
    report = run_etl(raw, root / "clean", root / "state", run_id="20261110T050000Z-a00003")
    return root / "clean", root / "state", raw, report


def _con(clean: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in DATASETS:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{clean / (name + '.parquet')}')")
    return con


def _documented_columns() -> dict[str, dict[str, tuple[str, str]]]:
    """{dataset: {column: (type, null)}} from the tables of docs/datasets.md."""
    docs, current = {}, None
    for line in (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = re.match(r"## `(\w+)`", line)
            current = heading.group(1) if heading and heading.group(1) in DATASETS else None
            docs.setdefault(current, {})
        row = re.match(r"\| `(\w+)` \| `([^`]+)` \| (yes|no) \|", line)
        if current and row:
            docs[current][row.group(1)] = (row.group(2), row.group(3))
    return docs


def test_every_dataset_loads_in_pandas_and_duckdb_as_documented(analyst_run):
    clean, _, _, report = analyst_run
    documented = _documented_columns()
    con = _con(clean)
    assert report["published"] and report["rows"]["articles"] > 100
    for name, schema in DATASETS.items():
        table = pq.read_table(clean / f"{name}.parquet")
        assert table.schema.remove_metadata().equals(schema.remove_metadata()), name
        assert list(documented[name]) == schema.names, name
        for field in schema:
            assert documented[name][field.name][1] == ("yes" if field.nullable else "no"), (name, field.name)
            if not field.nullable:
                assert table[field.name].null_count == 0, (name, field.name)
        frame = pd.read_parquet(clean / f"{name}.parquet")
        rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        # the run summary, the manifest, pandas and DuckDB agree on every count
        assert len(frame) == rows == table.num_rows == report["rows"][name], name
        if PRIMARY_KEYS.get(name):
            keys = ", ".join(PRIMARY_KEYS[name])
            assert con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM {name} GROUP BY ALL HAVING count(*) > 1)"
                               ).fetchone()[0] == 0, name
    assert report["quarantined"] == report["rows"]["quarantine"]
    # the page archived gzip-compressed (Content-Encoding) is read like the others
    gzipped = LAYOUT_HOST + sorted(LAYOUTS.glob("*"))[0].name
    assert con.execute("SELECT count(*) FROM articles WHERE url = ? AND length(answer) > 20", [gzipped]).fetchone()[0] == 1
    assert report["duplicates_removed"] == report["rows"]["duplicates"]


def test_values_are_sane(analyst_run):
    clean, _, _, _ = analyst_run
    con = _con(clean)
    today = date.today()
    for name in ("articles", "related_items", "policies", "hospital_rankings"):
        low, high = con.execute(f"SELECT min(published), max(published) FROM {name}").fetchone()
        assert date(1990, 1, 1) <= low <= high <= today, name
    for name in ("articles", "related_items"):
        assert con.execute(f"SELECT count(*) FROM {name} WHERE first_seen > last_seen").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM related_items WHERE shown_on_count <> len(shown_on)").fetchone()[0] == 0
    for name in ("articles", "related_items"):
        kinds = {k for (k,) in con.execute(f"SELECT DISTINCT kind FROM {name}").fetchall()}
        assert kinds <= {"policy", "hospital_ranking", "other"}, (name, kinds)
    for name in ("policies", "hospital_rankings"):
        kinds = {k for (k,) in con.execute(f"SELECT DISTINCT source_type FROM {name}").fetchall()}
        assert kinds <= {"article", "related"}, kinds
    # adcodes: 6 digits, and the province / city an analyst filters on is the one the code names
    regions = con.execute("SELECT DISTINCT province, city, adcode FROM policies WHERE adcode IS NOT NULL").fetchall()
    assert regions
    for province, city, adcode in regions:
        assert re.fullmatch(r"\d{6}", adcode), adcode
        if province:
            assert resolve_region(province).adcode[:2] == adcode[:2], (province, adcode)
        if city:
            assert province and resolve_region(province + city).adcode[:4] == adcode[:4], (province, city, adcode)
    # ranks 1..n without gaps per ranking
    assert con.execute("SELECT count(*) FROM (SELECT ranking_id FROM hospital_rankings GROUP BY 1 "
                       "HAVING min(rank) <> 1 OR max(rank) <> count(*) OR count(DISTINCT rank) <> count(*))"
                       ).fetchone()[0] == 0
    # figure units are canonical (块 → 元, 周岁 → 岁, English words mapped), rates within 0-100
    units = {u for (u,) in con.execute("SELECT DISTINCT f.unit FROM policies, UNNEST(figures) AS t(f)").fetchall()}
    assert {"%", "元"} <= units
    assert not units & {k for k, v in UNIT_CANON.items() if k != v}, units
    assert not any(re.search(r"[A-Za-z]", u or "") for u in units), units
    assert con.execute("SELECT count(*) FROM policies, UNNEST(figures) AS t(f) WHERE f.unit = '%' "
                       "AND f.label LIKE '%比例%' AND (f.value < 0 OR f.value > 100)").fetchone()[0] == 0


def test_urls_are_canonical_and_texts_free_of_boilerplate(analyst_run):
    clean, _, _, _ = analyst_run
    con = _con(clean)
    urls = [u for (u,) in con.execute("SELECT url FROM articles UNION ALL SELECT url FROM related_items "
                                      "UNION ALL SELECT url FROM article_history").fetchall() if u]
    assert urls and all(canonical_url(u) == u for u in urls)
    # the second site's navigation pages are left out here: they should not be articles at all
    # (test_navigation_pages_are_not_published_as_articles, a parser defect)
    navigation = [canonical_url(SECOND_HOST + p) for p in SECOND_LISTINGS]
    for phrase in BOILERPLATE:
        for name, column in (("articles", "answer"), ("articles", "title"), ("article_history", "answer")):
            hits = con.execute(f"SELECT url FROM {name} WHERE contains({column}, ?) "
                               "AND NOT list_contains(?, url)", [phrase, navigation]).fetchall()
            assert not hits, (phrase, name, column, hits)


def test_related_snippets_free_of_boilerplate(analyst_run):
    clean, _, _, _ = analyst_run
    con = _con(clean)
    for phrase in BOILERPLATE:
        hits = con.execute("SELECT title FROM related_items WHERE contains(snippet, ?)", [phrase]).fetchall()
        assert not hits, (phrase, hits)


def test_snippetless_related_items_stay_distinct(analyst_run):
    """Card-style related lists (title + link, no snippet) are common on unseen layouts. Each item is
    its own row with a null snippet; before, all of them were `exact` duplicates of one another (the
    hash of an empty text) and their policy records were dropped with them."""
    clean, _, _, _ = analyst_run
    con = _con(clean)
    assert con.execute("SELECT count(*) FROM related_items WHERE snippet = '' OR content_hash = ?",
                       ["e3b0c44298fc1c149afbf4c8996fb924"]).fetchone()[0] == 0
    snippetless = con.execute("SELECT count(*), count(DISTINCT title) FROM related_items "
                              "WHERE snippet IS NULL AND content_hash IS NULL").fetchone()
    assert snippetless[0] >= 10 and snippetless[1] >= 10
    # an exact duplicate always shares a real snippet with the row it duplicates
    assert con.execute("""SELECT count(*) FROM duplicates d JOIN related_items k ON k.related_id = d.duplicate_of
                          WHERE d.dataset = 'related_items' AND d.method = 'exact' AND k.snippet IS NULL""").fetchone()[0] == 0


def test_hospitals_are_canonical_and_merged(analyst_run):
    clean, _, _, _ = analyst_run
    con = _con(clean)
    names = con.execute("SELECT hospital_name, hospital_id FROM hospital_rankings").fetchall()
    assert names and all(canonical_hospital_name(n) == n for n, _ in names)
    # one name per hospital, the one `hospitals` shows: GROUP BY hospital_name = GROUP BY hospital_id
    assert con.execute("SELECT count(*) FROM (SELECT hospital_id FROM hospital_rankings GROUP BY 1 "
                       "HAVING count(DISTINCT hospital_name) > 1)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM hospital_rankings r JOIN hospitals h USING (hospital_id) "
                       "WHERE r.hospital_name <> h.name OR NOT list_contains(h.aliases, r.hospital_name_raw)"
                       ).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM hospitals h WHERE ranking_count <> "
                       "(SELECT count(*) FROM hospital_rankings r WHERE r.hospital_id = h.hospital_id)").fetchone()[0] == 0
    # a hospital seen under two spellings (with / without its province) is one row
    merged = con.execute("SELECT name, aliases FROM hospitals WHERE len(aliases) > 1").fetchall()
    assert merged and all(name in aliases for name, aliases in merged)
    for hospital_id, city in con.execute("SELECT hospital_id, city FROM hospitals WHERE city IS NOT NULL "
                                         "AND hospital_id NOT LIKE '-|%'").fetchall():
        # the key is scoped by the place in the name (河北省眼科医院: the province) or the ranking's city
        # (or a county of the city: 宝清县人民医院 → 230523 in 双鸭山市 230500): one code contains the other
        scope, city_code = hospital_id.split("|")[0].rstrip("0"), resolve_region(city).adcode.rstrip("0")
        assert scope.startswith(city_code) or city_code.startswith(scope), (hospital_id, city)


def test_joins_by_documented_keys_have_no_orphans(analyst_run):
    clean, _, _, _ = analyst_run
    con = _con(clean)
    assert check_references(parquet_reader(clean)) == {}
    for sql in ("SELECT count(*) FROM hospital_rankings ANTI JOIN hospitals USING (hospital_id)",
                "SELECT count(*) FROM policies c ANTI JOIN related_items p USING (related_id) WHERE c.related_id IS NOT NULL",
                "SELECT count(*) FROM article_history ANTI JOIN articles USING (article_id)",
                "SELECT count(*) FROM (SELECT unnest(shown_on) AS article_id FROM related_items) ANTI JOIN articles "
                "USING (article_id)"):
        assert con.execute(sql).fetchone()[0] == 0, sql


def test_quarantine_of_several_shards_is_published(analyst_run):
    """The mislabelled PDF is in both second-site shards: their quarantine rows (dictionary-encoded
    `reason`, one dictionary per shard, here different) merge; before, the merge crashed with Arrow's
    'Unifying differing dictionaries' whenever two inputs had quarantine rows."""
    clean, _, _, _ = analyst_run
    rows = pd.read_parquet(clean / "quarantine.parquet")
    pdf = rows[rows["url"] == SECOND_HOST + SecondSite.small_mislabelled_path]
    assert set(pdf["reason"]) == {"raw/binary_payload"} and pdf["source"].nunique() == 2
    assert set(rows.loc[rows["url"].str.endswith("/a1009.shtml"), "reason"]) == {"raw/empty_body"}
    assert str(rows["seen_at"].dtype) == "datetime64[us, UTC]"


def test_readme_recipes_run_as_written(analyst_run, tmp_path, monkeypatch):
    clean, _, _, _ = analyst_run
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "clean").symlink_to(clean)
    monkeypatch.chdir(tmp_path)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipes = readme.split("### Analyst recipes", 1)[1].split("\n## ", 1)[0]
    python = re.findall(r"```python\n(.*?)```", recipes, re.S)
    sql = re.findall(r"```sql\n(.*?)```", recipes, re.S)
    assert python and len(sql) >= 3
    scope: dict = {}
    for block in python:
        exec(block, scope)  # noqa: S102 - the README's own code, run as an analyst would
    assert len(scope["policies"]) and len(scope["rankings"])
    for query in sql:
        result = duckdb.sql(query).fetchall()
        assert result, query
    top = duckdb.sql(sql[-1]).df()
    assert top["mentions"].is_monotonic_decreasing and (top["best_rank"] >= 1).all()


def test_recrawl_of_same_pages_moves_only_last_seen(analyst_run, tmp_path):
    clean, state, raw, _ = analyst_run
    copy = tmp_path / "copy"
    shutil.copytree(clean.parent, copy, symlinks=True)
    site = SecondSite.build()
    site.flaky_pending.clear()
    _write_run(copy / "raw", "20261111T030000Z-a00004", _layout_exchanges(T2) + _second_site_exchanges(site, T2))
    report = run_etl(copy / "raw", copy / "clean", copy / "state", run_id="20261111T050000Z-a00005")
    assert report["new_versions"] == 0
    for name in DATASETS:
        if name == "quarantine":  # one row per bad input file: the new file's rows are new
            continue
        before, after = (pq.read_table(c / f"{name}.parquet") for c in (clean, copy / "clean"))
        keep = [c for c in before.column_names if c != "last_seen"]
        assert _sorted(before.select(keep)) == _sorted(after.select(keep)), name
    moved = pd.read_parquet(copy / "clean" / "articles.parquet")
    recrawled = moved["url"].str.startswith(SECOND_HOST) | moved["url"].str.startswith(LAYOUT_HOST)
    assert (moved.loc[recrawled, "last_seen"] == pd.Timestamp(T2)).all()
    assert (moved.loc[~recrawled, "last_seen"] < pd.Timestamp(T2)).all()


def _sorted(table: pa.Table) -> list[tuple]:
    return sorted(tuple(map(repr, row.values())) for row in table.to_pylist())


def test_navigation_pages_are_not_published_as_articles(analyst_run):
    clean, _, _, _ = analyst_run
    urls = set(pd.read_parquet(clean / "articles.parquet", columns=["url"])["url"])
    listings = sorted(canonical_url(SECOND_HOST + p) for p in SECOND_LISTINGS)
    assert [u for u in listings if u in urls] == []


def test_sample_site_listing_pages_are_not_published(analyst_run, etl_raw_archive):
    clean, _, _, _ = analyst_run
    _, site = etl_raw_archive
    urls = set(pd.read_parquet(clean / "articles.parquet", columns=["url"])["url"])
    listings = [canonical_url(ETL_SITE_URL + p) for p in site.catalog.listing_paths]
    assert listings and not [u for u in listings if u in urls]


def test_primary_key_gate_accepts_chunks_with_different_dictionaries():
    """A `duplicates` bucket gathers rows of several tables, each chunk with its own `dataset` /
    `method` dictionary; the duplicate-key gate grouped on them and Arrow refused to unify."""
    from pipelines.schemas import DUPLICATES
    from pipelines.validate import PublishAborted, check_dataset

    def chunk(datasets: list[str], row_ids: list[str]) -> pa.Table:
        n = len(row_ids)
        return pa.table({"dataset": pa.array(datasets).dictionary_encode(), "row_id": row_ids,
                         "duplicate_of": ["k"] * n, "method": pa.array(["url"] * n).dictionary_encode(),
                         "similarity": [1.0] * n, "title": ["t"] * n, "url": [None] * n}).cast(DUPLICATES)

    table = pa.concat_tables([chunk(["articles"], ["a"]), chunk(["policies", "articles"], ["p", "b"])])
    check_dataset("duplicates", table, pages_parsed=0)
    with pytest.raises(PublishAborted, match="duplicate primary keys"):
        check_dataset("duplicates", pa.concat_tables([table, chunk(["policies"], ["p"])]), pages_parsed=0)


def _qa_page(title: str, answer: str, related: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<li><a href="/q/{i}.html">{t}</a><p>{s}</p><span>健康新闻 2025-05-0{i}</span></li>'
                    for i, (t, s) in enumerate(related, 1))
    return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1><div class='answer'><p>{answer}</p>"
            f"</div><h3>相关推荐</h3><ul>{items}</ul></body></html>").encode()


def test_short_equal_texts_under_different_titles_are_not_duplicates(tmp_path):
    """Q&A sites: different questions share short answers (不可以。), related lists share placeholder
    snippets (点击查看详情). Before, exact dedupe kept one of each and removed the other questions /
    items with their policy records; a mirror (same title, same text) is still a duplicate."""
    related = [("医保卡丢了怎么办", "点击查看详情"), ("医保卡密码忘了怎么办", "点击查看详情"), ("异地就医怎么备案", "点击查看详情")]
    long_answer = "可以。职工医保断缴后三个月内仍可正常使用,超过三个月需补缴后才能恢复医保待遇,具体以当地规定为准。"
    pages = [("/q/11.html", _qa_page("医保卡可以借给别人用吗", "不可以。", related)),
             ("/q/12.html", _qa_page("医保卡可以给家人刷吗", "不可以。", related)),
             ("/q/13.html", _qa_page("职工医保断缴后还能用吗", long_answer, [])),
             ("/mirror/q/13.html", _qa_page("职工医保断缴后还能用吗", long_answer, [])),
             ("/q/14.html", _qa_page("医保断缴三个月还能用吗", long_answer, [])),
             ("/mirror/q/11.html", _qa_page("医保卡可以借给别人用吗", "不可以。", related))]
    raw = tmp_path / "raw" / "20261101T000000Z-eeeeee"
    _write_run(raw.parent, raw.name, [_exchange("http://qa.example.org" + path, 200, [("Content-Type", "text/html")],
                                                body, T1) for path, body in pages])
    report = run_etl(raw.parent, tmp_path / "clean", tmp_path / "state")
    con = _con(tmp_path / "clean")
    titles = sorted(t for (t,) in con.execute("SELECT title FROM articles").fetchall())
    # both short-answer questions stay; the long answer is one article whatever its headline
    assert titles[:2] == ["医保卡可以借给别人用吗", "医保卡可以给家人刷吗"] and len(titles) == 3, report["rows"]
    assert titles[2] in ("职工医保断缴后还能用吗", "医保断缴三个月还能用吗")
    removed = sorted(con.execute("SELECT row_id, method FROM duplicates WHERE dataset = 'articles'").fetchall())
    assert sorted(m for _, m in removed) == ["exact", "exact", "exact"]
    assert con.execute("SELECT count(*) FROM related_items WHERE snippet = '点击查看详情'").fetchone()[0] == 3


def test_uncompressed_warc_of_another_archiver_is_read(tmp_path):
    """`*.warc` (no per-record gzip, as `wget --no-warc-compression` writes) used to be skipped
    without a word ("no new raw files"); a crawler's unfinished `.warc.gz.open` is still ignored."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    run = tmp_path / "raw" / "other-tool"
    run.mkdir(parents=True)
    body = _qa_page("医保卡怎么激活", "携带身份证到银行网点或在当地人社APP上即可激活医保卡,激活后可正常使用。", [])
    with open(run / "crawl.warc", "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        writer.write_record(writer.create_warc_record(
            "http://x.example.org/a.html", "response", payload=BytesIO(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    (run / "next.warc.gz.open").write_bytes(b"being written")
    report = run_etl(tmp_path / "raw", tmp_path / "clean", tmp_path / "state")
    assert report["files_total"] == 1 and report["rows"]["articles"] == 1
    assert pd.read_parquet(tmp_path / "clean" / "articles.parquet")["title"].tolist() == ["医保卡怎么激活"]
