"""The bundled sample site: determinism, real HTTP semantics and every planted awkward case."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest

from healthnews.sample_site import SampleSite, SampleSiteServer, SiteCatalog
from healthnews.sample_site.articles import jaccard, shingles
from healthnews.sample_site.seed_reader import load_bundled_seeds

REPO = Path(__file__).resolve().parents[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def doc(body: bytes, encoding: str = "utf-8") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(body.decode(encoding))


def site_paths(site: SampleSite) -> list[str]:
    catalog = site.catalog
    return ["/", "/robots.txt", "/sitemap.xml", catalog.disallowed_path, catalog.mirror_path,
            catalog.tracking_duplicate_url, *catalog.listing_paths, *catalog.article_paths]


@pytest.fixture(scope="module")
def site() -> SampleSite:
    return SampleSite()


def test_seed_reader_splits_every_bundled_dump() -> None:
    seeds = load_bundled_seeds()
    assert len(seeds) == 5
    by_title = {seed.title: seed for seed in seeds}
    english = [seed for seed in seeds if not seed.has_related_section]
    assert len(english) == 1 and english[0].disclaimer is None and english[0].title.startswith("The medical")
    for seed in seeds:
        assert seed.answer_blocks
        if seed.has_related_section:
            assert seed.disclaimer and seed.disclaimer.startswith("提示:")
            assert len(seed.related) >= 19
            assert all(item.title and len(item.snippet) > 40 for item in seed.related)
    assert by_title["医保卡号指的是哪一个"].has_hot_search_section
    assert by_title["医保卡号指的是哪一个"].related[-1].title == "2025年江西赣州治疗耳鸣伴心动过速的医院有哪些"


def test_two_instances_are_byte_identical() -> None:
    first, second = SampleSite(extra_articles=40), SampleSite(extra_articles=40)
    paths = site_paths(first)
    assert paths == site_paths(second)
    for path in paths:
        assert first.respond(path) == second.respond(path), path


def test_catalog_shape(site: SampleSite) -> None:
    catalog = site.catalog
    assert isinstance(catalog, SiteCatalog)
    assert len(catalog.article_paths) == catalog.base_article_count == len(set(catalog.article_paths))
    assert len(catalog.listing_paths) == -(-len(catalog.article_paths) // 10)
    assert catalog.titles[catalog.gbk_path] == catalog.gbk_title
    assert len(catalog.near_duplicate_pairs) >= 3 and len(catalog.exact_duplicate_pairs) >= 2
    assert catalog.broken_path not in catalog.article_paths
    assert catalog.mirror_path not in catalog.article_paths
    assert catalog.br_style_paths and catalog.list_style_paths


def test_http_round_trip_listing_pagination_covers_every_article(sample_site_server: SampleSiteServer) -> None:
    catalog = sample_site_server.site.catalog
    base = sample_site_server.url.rstrip("/")
    status, _, home = fetch(base + "/")
    assert status == 200 and b'href="/list/1.html"' in home
    seen: set[str] = set()
    raw_links: set[str] = set()
    next_path: str | None = "/list/1.html"
    pages = 0
    while next_path:
        status, headers, body = fetch(base + next_path)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(headers["Content-Length"]) == len(body)
        page = doc(body)
        links = page.xpath('//ul[@class="news-list"]/li/a[@class="news-title"]/@href')
        assert 1 <= len(links) <= 10
        raw_links.update(links)
        seen.update(link.split("?")[0] for link in links)
        nxt = page.xpath('//div[@class="pagination"]/a[@class="next"]/@href')
        next_path = nxt[0] if nxt else None
        pages += 1
    assert pages == len(catalog.listing_paths)
    assert seen == set(catalog.article_paths)
    assert catalog.tracking_duplicate_url in raw_links

    status, headers, body = fetch(base + catalog.article_paths[0])
    page = doc(body)
    assert status == 200 and headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")
    assert page.xpath("string(//h1)") == catalog.titles[catalog.article_paths[0]]
    assert re.fullmatch(r"\d{4}年\d{2}月\d{2}日", page.xpath('string(//span[@class="pub-date"])'))
    assert page.xpath('//div[@class="footer"]//a[text()="首页"]') and page.xpath('//a[text()="顶部"]')


def test_robots_and_sitemap_over_http(sample_site_server: SampleSiteServer) -> None:
    catalog = sample_site_server.site.catalog
    base = sample_site_server.url.rstrip("/")
    status, headers, robots = fetch(base + catalog.robots_path)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    disallows = re.findall(r"^Disallow:\s*(\S+)", robots.decode(), flags=re.M)
    assert len(disallows) == 1 and catalog.disallowed_path.startswith(disallows[0])
    assert f"Sitemap: {base}/sitemap.xml" in robots.decode()
    _, _, home = fetch(base + "/")
    assert catalog.disallowed_path in doc(home).xpath("//a/@href")
    assert fetch(base + catalog.disallowed_path)[0] == 200

    status, headers, sitemap = fetch(base + catalog.sitemap_path)
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [el.text for el in ET.fromstring(sitemap).findall("s:url/s:loc", ns)]
    assert locs == [base + path for path in catalog.article_paths]


def test_gbk_page_header_meta_and_title(sample_site_server: SampleSiteServer) -> None:
    catalog = sample_site_server.site.catalog
    status, headers, body = fetch(sample_site_server.url.rstrip("/") + catalog.gbk_path)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert '<meta charset="gbk">' in text
    assert doc(body, "gbk").xpath("string(//h1)") == catalog.gbk_title


def test_flaky_url_fails_once_then_succeeds(fresh_site_server: SampleSiteServer) -> None:
    catalog = fresh_site_server.site.catalog
    url = fresh_site_server.url.rstrip("/") + catalog.flaky_path
    assert fetch(url)[0] == 500
    assert fetch(url)[0] == 200
    assert fetch(url)[0] == 200
    assert fresh_site_server.requests == [("GET", catalog.flaky_path)] * 3
    assert fresh_site_server.request_count == 3


def test_broken_link_is_linked_and_404(site: SampleSite) -> None:
    catalog = site.catalog
    _, _, body = site.respond(catalog.broken_link_source_path)
    assert catalog.broken_path in doc(body).xpath('//ul[@class="related-list"]//a/@href')
    assert site.respond(catalog.broken_path)[0] == 404
    assert site.respond("/no/such/page.html")[0] == 404
    assert site.respond("/list/0.html")[0] == 404


def test_conditional_requests_over_http(sample_site_server: SampleSiteServer) -> None:
    catalog = sample_site_server.site.catalog
    url = sample_site_server.url.rstrip("/") + catalog.article_paths[1]
    _, headers, body = fetch(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    status, headers304, body304 = fetch(url, {"If-None-Match": etag})
    assert (status, body304, headers304["ETag"]) == (304, b"", etag)
    assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
    assert fetch(url, {"If-Modified-Since": modified})[0] == 304
    older = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    assert fetch(url, {"If-Modified-Since": older})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110).
    assert fetch(url, {"If-None-Match": '"stale"', "If-Modified-Since": modified})[0] == 200


def test_add_and_edit_change_etags_and_listing(fresh_site_server: SampleSiteServer) -> None:
    site = fresh_site_server.site
    base = fresh_site_server.url.rstrip("/")
    article = site.catalog.article_paths[2]
    _, listing_before, _ = fetch(base + "/list/1.html")
    _, last_before, _ = fetch(base + site.catalog.listing_paths[-1])
    _, article_before, _ = fetch(base + article)

    new_path = site.add_article("新增医保问答:门诊共济怎么用", "门诊共济可以用个人账户支付家属费用。\n需要先绑定家庭成员。")
    assert new_path in site.catalog.article_paths and new_path in site.catalog.added_paths
    status, listing_after, body = fetch(base + "/list/1.html", {"If-None-Match": listing_before["ETag"]})
    assert status == 200 and listing_after["ETag"] != listing_before["ETag"]
    first = doc(body).xpath('//ul[@class="news-list"]/li[1]/a/@href')[0]
    assert first == new_path
    assert fetch(base + site.catalog.listing_paths[-1])[1]["ETag"] != last_before["ETag"]
    assert fetch(base + new_path)[0] == 200
    assert fetch(base + article, {"If-None-Match": article_before["ETag"]})[0] == 304

    site.edit_article(article, "医保政策已更新,以当地医保局公告为准。")
    status, article_after, body = fetch(base + article, {"If-None-Match": article_before["ETag"]})
    assert status == 200 and article_after["ETag"] != article_before["ETag"]
    assert parsedate_to_datetime(article_after["Last-Modified"]) > parsedate_to_datetime(
        article_before["Last-Modified"])
    assert "医保政策已更新" in doc(body).xpath('string(//div[@class="article-content"])')
    assert site.catalog.answers[article] == ("医保政策已更新,以当地医保局公告为准。",)
    with pytest.raises(KeyError):
        site.edit_article("/article/999999.html", "x")


def test_every_related_link_resolves_except_the_broken_one() -> None:
    site = SampleSite(extra_articles=30)
    catalog = site.catalog
    assert site.respond(catalog.flaky_path)[0] == 500  # consume the planted failure first
    targets: set[str] = set()
    for path in [*catalog.article_paths, catalog.mirror_path]:
        status, headers, body = site.respond(path)
        assert status == 200, path
        encoding = headers["Content-Type"].split("charset=")[1]
        targets.update(doc(body, encoding).xpath('//ul[@class="related-list"]//a[@class="related-title"]/@href'))
    assert catalog.broken_path in targets
    for target in targets:
        expected = 404 if target == catalog.broken_path else 200
        assert site.respond(target)[0] == expected, target
    # Search-tag links (大家都在搜) resolve too.
    _, _, body = site.respond("/article/2.html")
    tags = doc(body).xpath('//div[@class="hot-search"]//a/@href')
    assert tags and all(site.respond(tag)[0] == 200 for tag in tags)


def test_duplicates_tracking_url_mirror_and_ssrf_page(site: SampleSite) -> None:
    catalog = site.catalog
    for left, right in catalog.near_duplicate_pairs:
        a, b = (" ".join(catalog.answers[p]) for p in (left, right))
        assert a != b and jaccard(shingles(a), shingles(b)) >= 0.8, (left, right)
    near_titles = {catalog.titles[p] for pair in catalog.near_duplicate_pairs for p in pair}
    assert {"江西萍乡社保基数8400医保卡每月多少", "江西萍乡社保基数8500医保卡每月多少"} <= near_titles
    for original, copy in catalog.exact_duplicate_pairs:
        if copy == catalog.mirror_path:
            assert site.respond(copy) == site.respond(original)
        else:
            assert catalog.answers[original] == catalog.answers[copy]
            assert catalog.titles[original] == catalog.titles[copy]
    assert "utm_source=" in catalog.tracking_duplicate_url
    assert site.respond(catalog.tracking_duplicate_url)[2] == site.respond(catalog.tracking_canonical_path)[2]
    _, _, home = site.respond("/")
    assert catalog.mirror_path in doc(home).xpath("//a/@href")

    _, _, body = site.respond(catalog.ssrf_page_path)
    friend_links = doc(body).xpath('//div[@class="footer"]//p[@class="friend-links"]/a/@href')
    assert {"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/admin"} <= set(friend_links)

    _, _, body = site.respond(catalog.no_related_path)
    page = doc(body)
    assert not page.xpath('//div[@class="related"]') and "相关推荐" not in body.decode()


def test_answer_markup_shapes(site: SampleSite) -> None:
    catalog = site.catalog
    for path in catalog.br_style_paths:
        content = doc(site.respond(path)[2], "gbk" if path == catalog.gbk_path else "utf-8")
        block = content.xpath('//div[@class="article-content"]')[0]
        assert not block.xpath(".//p") and block.xpath(".//br"), path
    for path in catalog.list_style_paths:
        block = doc(site.respond(path)[2]).xpath('//div[@class="article-content"]')[0]
        assert block.xpath(".//ol/li | .//ul/li"), path
    page = doc(site.respond(catalog.article_paths[0])[2])
    assert page.xpath('//div[@class="disclaimer"]') and page.xpath("//head/style") and page.xpath("//script")
    related_meta = page.xpath('//span[@class="related-meta"]/text()')
    assert related_meta and all(re.fullmatch(r"健康新闻 \d{4}-\d{2}-\d{2}", m) for m in related_meta)


def test_synthetic_articles_are_lazy_linked_and_planted_duplicates() -> None:
    site = SampleSite(extra_articles=100_000)
    catalog = site.catalog
    assert len(catalog.article_paths) == catalog.base_article_count + 100_000
    assert len(catalog.listing_paths) == -(-len(catalog.article_paths) // 10)
    assert len(catalog.synthetic_exact_duplicate_of) == 5_000
    assert len(catalog.synthetic_near_duplicate_of) == 5_000
    last_listing = doc(site.respond(catalog.listing_paths[-1])[2])
    assert catalog.synthetic_paths[-1] in last_listing.xpath('//a[@class="news-title"]/@href')
    dup, original = next(iter(catalog.synthetic_exact_duplicate_of.items()))
    assert catalog.answers[dup] == catalog.answers[original] and dup != original
    near, source = next(iter(catalog.synthetic_near_duplicate_of.items()))
    a, b = " ".join(catalog.answers[near]), " ".join(catalog.answers[source])
    assert a != b and jaccard(shingles(a), shingles(b)) > 0.9
    # Originals are not near-duplicates of each other.
    originals = [p for p in catalog.synthetic_paths[:200] if p not in catalog.synthetic_duplicate_of]
    sets = [shingles(" ".join(catalog.answers[p])) for p in originals[:60]]
    assert max(jaccard(x, y) for i, x in enumerate(sets) for y in sets[i + 1:]) < 0.7
    status, headers, body = site.respond(catalog.synthetic_paths[99_999])
    assert status == 200 and doc(body).xpath("string(//h1)") == catalog.titles[catalog.synthetic_paths[99_999]]
    status, _, sitemap_index = site.respond("/sitemap.xml")
    assert status == 200 and b"<sitemapindex" in sitemap_index


def test_serve_sample_cli_serves_until_interrupted() -> None:
    process = subprocess.Popen([sys.executable, "-m", "healthnews", "serve-sample", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, line
        status, _, body = fetch(match.group(0) + "robots.txt")
        assert status == 200 and b"Disallow: /private/" in body
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
