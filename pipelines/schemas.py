"""One pyarrow schema per published dataset — the single source of truth.

The Parquet writer casts to these schemas, the validator checks against them and the data
dictionary (docs/datasets.md) is generated from the field metadata (`description`, `example`),
so the three can never drift apart. Categories are dictionary-encoded strings, dates are date32,
instants are timezone-aware UTC microseconds, nested values are real list<struct>.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

CATEGORY = pa.dictionary(pa.int32(), pa.string())
TIMESTAMP = pa.timestamp("us", tz="UTC")

# Version of the dataset layout; bump on any breaking schema change (stored in the manifest).
SCHEMA_VERSION = "1"


def _f(name: str, type_: pa.DataType, description: str, example: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable,
                    metadata={"description": description, "example": example})


FIGURE = pa.struct([pa.field("label", pa.string()), pa.field("value", pa.float64()),
                    pa.field("unit", pa.string())])
DOCTOR = pa.struct([pa.field("name", pa.string()), pa.field("title", pa.string()),
                    pa.field("specialty", pa.string())])


def _article_fields() -> list[pa.Field]:
    return [
        _f("article_id", pa.string(), "Stable id: first 16 hex of sha1(canonical URL); raw file digest based when the page has no URL.", "3f1c0a9e5b7d2c41", False),
        _f("url", pa.string(), "Canonical URL (lower-cased host, sorted query, tracking parameters and fragment removed).", "http://127.0.0.1:8765/article/1.html"),
        _f("title", pa.string(), "Question title, text policy applied (pipelines.text.normalize_text).", "医保卡号指的是哪一个", False),
        _f("answer", pa.string(), "Main answer text without source preamble, disclaimer and navigation noise; paragraphs joined by newlines.", "医保卡号是医疗保险系统中用于标识参保人身份的唯一编号。"),
        _f("kind", CATEGORY, "Page classification from the parser: policy | hospital_ranking | other.", "policy"),
        _f("published", pa.date32(), "Publication date when the page shows one (ISO date).", "2025-04-28"),
        _f("content_hash", pa.string(), "sha256 (first 32 hex) of the normalized answer text; a change makes a new version.", "9b0e3c…"),
        _f("version", pa.int32(), "1 for the first content seen, +1 each time the answer text changes.", "2", False),
        _f("first_seen", TIMESTAMP, "WARC-Date of the first response that showed this article.", "2026-11-23T09:30:00Z", False),
        _f("last_seen", TIMESTAMP, "WARC-Date of the latest response that showed this article.", "2026-11-24T09:30:00Z", False),
        _f("related_count", pa.int32(), "Number of related items listed on the page.", "20"),
        _f("extractor_version", CATEGORY, "Parser version that produced the record.", "parse-1.0"),
        _f("source_run", pa.string(), "Crawl run id (directory of the WARC file).", "20261123T093000Z-a1b2c3"),
        _f("source_file", pa.string(), "Raw WARC file name the content version came from.", "healthnews-00000.warc.gz"),
        _f("source_record", pa.string(), "WARC-Record-ID of the response record.", "<urn:uuid:…>"),
        _f("parse_errors", pa.list_(pa.string()), "Non-fatal parser warnings (e.g. decode_guessed:gb18030).", "[]"),
    ]


ARTICLES = pa.schema(_article_fields(), metadata={"dataset": "articles",
                                                  "description": "One row per article (latest version)."})

ARTICLE_HISTORY = pa.schema(
    _article_fields() + [
        _f("superseded_at", TIMESTAMP, "WARC-Date of the response that replaced this version.", "2026-11-24T09:30:00Z", False),
        _f("superseded_by_hash", pa.string(), "content_hash of the version that replaced it.", "77aa…"),
    ],
    metadata={"dataset": "article_history", "description": "Previous versions of articles whose text changed."},
)

RELATED_ITEMS = pa.schema([
    _f("related_id", pa.string(), "Stable id: sha1 of the canonical link URL, else of the normalized title.", "c81e728d9d4c2f63", False),
    _f("title", pa.string(), "Related item title.", "江西萍乡社保基数8400每月交多少", False),
    _f("snippet", pa.string(), "Snippet text shown in the related list; null when the item shows none.", "根据2025年萍乡社保缴费标准…"),
    _f("published", pa.date32(), "Date shown next to the item (健康新闻 YYYY-MM-DD).", "2025-04-28"),
    _f("url", pa.string(), "Canonical link URL when the item links somewhere.", "http://127.0.0.1:8765/article/7.html"),
    _f("kind", CATEGORY, "Classification of the item: policy | hospital_ranking | other.", "policy"),
    _f("article_id", pa.string(), "articles.article_id when the linked article was crawled (its record wins).", "3f1c0a9e5b7d2c41"),
    _f("content_hash", pa.string(), "sha256 (first 32 hex) of the normalized snippet; null without a snippet.", "51d3…"),
    _f("shown_on", pa.list_(pa.string()), "article_id of every page that lists this item (sorted).", '["3f1c…", "a0b1…"]'),
    _f("shown_on_count", pa.int32(), "len(shown_on).", "3", False),
    _f("first_seen", TIMESTAMP, "Earliest WARC-Date of a page listing the item.", "2026-11-23T09:30:00Z", False),
    _f("last_seen", TIMESTAMP, "Latest WARC-Date of a page listing the item.", "2026-11-23T09:30:00Z", False),
], metadata={"dataset": "related_items", "description": "One row per distinct related item across all pages."})

POLICIES = pa.schema([
    _f("policy_id", pa.string(), "Stable id of the policy record (hash of source type + source id).", "e4da3b7fbbce2345", False),
    _f("source_type", CATEGORY, "Where the record comes from: article | related.", "related", False),
    _f("article_id", pa.string(), "Source article (page records) or linked article.", "3f1c0a9e5b7d2c41"),
    _f("related_id", pa.string(), "Source related item (snippet records).", "c81e728d9d4c2f63"),
    _f("title", pa.string(), "Title of the source page / item.", "江西萍乡社保基数8400每月交多少"),
    _f("region", pa.string(), "Region as written in the text.", "江西萍乡"),
    _f("province", CATEGORY, "Province (full official name) resolved from the region.", "江西省"),
    _f("city", pa.string(), "City (full official name) resolved from the region.", "萍乡市"),
    _f("adcode", pa.string(), "Administrative division code (6 digits) of the most specific level resolved.", "360300"),
    _f("year", pa.int16(), "Policy year mentioned (e.g. 2025年).", "2025"),
    _f("topic", CATEGORY, "Policy topic from the extractor (缴费, 报销, 退休待遇, 补缴 …).", "退休待遇"),
    _f("insurance", pa.list_(pa.string()), "Insurance schemes mentioned (职工医保, 城乡居民医保, 医疗保险 …).", '["职工医保", "医疗保险"]'),
    _f("figures", pa.list_(FIGURE), "Numeric figures: label, value (Chinese numerals / 万 / 千 converted), unit; percentages 0–100.", '[{"label": "缴费基数", "value": 8400.0, "unit": "元"}]'),
    _f("published", pa.date32(), "Publication date of the source.", "2025-04-28"),
], metadata={"dataset": "policies", "description": "One row per policy record (page or related item)."})

HOSPITAL_RANKINGS = pa.schema([
    _f("ranking_id", pa.string(), "Stable id of the ranking (hash of source type + source id).", "1679091c5a880faf", False),
    _f("source_type", CATEGORY, "article | related.", "related", False),
    _f("article_id", pa.string(), "Source article or linked article.", "3f1c0a9e5b7d2c41"),
    _f("related_id", pa.string(), "Source related item.", "c81e728d9d4c2f63"),
    _f("title", pa.string(), "Title of the ranking.", "福建南平治疗脉络膜裂伤的医院排名"),
    _f("province", CATEGORY, "Province of the ranking.", "福建省"),
    _f("city", pa.string(), "City of the ranking.", "南平市"),
    _f("condition", pa.string(), "Condition / disease ranked for.", "脉络膜裂伤"),
    _f("year", pa.int16(), "Year of the ranking when stated.", "2025"),
    _f("rank", pa.int16(), "1-based position of the hospital in the ranking.", "1", False),
    _f("hospital_name", pa.string(), "Canonical name of the hospital: hospitals.name of hospital_id (one name per hospital, aliases merged); the spelling on the page is hospital_name_raw.", "南平市第一医院", False),
    _f("hospital_name_raw", pa.string(), "Name as written.", "福建省南平市第一医院"),
    _f("hospital_id", pa.string(), "hospitals.hospital_id (`<adcode>|<core name>`, pipelines.hospitals.hospital_key).", "350700|第一医院", False),
    _f("grade", CATEGORY, "Hospital grade (三甲, 三级, 二甲 …).", "三甲"),
    _f("address", pa.string(), "Address when stated.", "福建南平市延平区中山路317号"),
    _f("doctors", pa.list_(DOCTOR), "Doctors mentioned: name, title, specialty.", '[{"name": "张友胜", "title": null, "specialty": "视网膜脱离"}]'),
    _f("departments", pa.list_(pa.string()), "Department names listed for the hospital (the current parser reports only their number: empty).", '["眼科"]'),
    _f("department_count", pa.int32(), "Number of departments of the hospital when stated (e.g. 91个科室).", "91"),
    _f("doctor_count", pa.int32(), "Number of doctors of the hospital when stated (e.g. 752位医生).", "752"),
    _f("score", pa.float64(), "Score when stated (综合评分).", "60"),
    _f("published", pa.date32(), "Publication date of the source.", "2025-05-16"),
], metadata={"dataset": "hospital_rankings", "description": "One row per ranking x hospital."})

HOSPITALS = pa.schema([
    _f("hospital_id", pa.string(), "Stable hospital key `<adcode>|<core name>` (pipelines.hospitals.hospital_key).", "350700|第一医院", False),
    _f("name", pa.string(), "Canonical name.", "南平市第一医院", False),
    _f("aliases", pa.list_(pa.string()), "Every spelling seen (sorted).", '["南平市第一医院", "福建省南平市第一医院"]'),
    _f("province", CATEGORY, "Province (most frequent among mentions).", "福建省"),
    _f("city", pa.string(), "City (most frequent among mentions).", "南平市"),
    _f("grade", CATEGORY, "Grade (most frequent stated).", "三甲"),
    _f("address", pa.string(), "First stated address.", "福建南平市延平区中山路317号"),
    _f("ranking_count", pa.int32(), "Number of hospital_rankings rows for this hospital.", "7", False),
], metadata={"dataset": "hospitals", "description": "One row per real hospital, aliases merged."})

DUPLICATES = pa.schema([
    _f("dataset", CATEGORY, "Dataset the removed row belonged to (article_history: an older version of an article removed as a duplicate).", "articles", False),
    _f("row_id", pa.string(), "Id of the removed row (article_id / related_id / policy_id / ranking_id; `<article_id>:v<version>` for article_history).", "a0b1c2d3e4f50617", False),
    _f("duplicate_of", pa.string(), "Id of the row that was kept.", "3f1c0a9e5b7d2c41", False),
    _f("method", CATEGORY, "exact (same normalized text hash; for texts under 30 5-grams also the same title) | near (MinHash Jaccard ≥ threshold) | url (same canonical URL / superseded by the crawled article).", "near", False),
    _f("similarity", pa.float64(), "Estimated Jaccard similarity of character 5-grams (1.0 for exact / url).", "0.93", False),
    _f("title", pa.string(), "Title of the removed row.", "江西萍乡社保基数8500医保卡每月多少"),
    _f("url", pa.string(), "URL of the removed row when it has one.", "http://127.0.0.1:8765/article/9.html"),
], metadata={"dataset": "duplicates", "description": "Rows removed by dedupe, with what they duplicate."})

QUARANTINE = pa.schema([
    _f("source", pa.string(), "Raw WARC file (or stage) the bad input came from.", "20261123T093000Z-a1b2c3/healthnews-00000.warc.gz", False),
    _f("url", pa.string(), "Target URI of the record.", "http://127.0.0.1:8765/broken.html"),
    _f("reason", CATEGORY, "Namespaced reason (parse/errors/empty_input, validate/rank_lt_1, validate/policies/parent_rejected: the article or related item it belongs to was rejected, raw/unsupported_content_type …).", "parse/errors/empty_input", False),
    _f("detail", pa.string(), "Human-readable detail.", "response body is empty"),
    _f("raw_ref", pa.string(), "WARC-Record-ID or file#offset of the raw record.", "<urn:uuid:…>"),
    _f("seen_at", TIMESTAMP, "WARC-Date of the record.", "2026-11-23T09:30:00Z"),
], metadata={"dataset": "quarantine", "description": "Inputs and rows rejected, with the reason."})

DATASETS: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "article_history": ARTICLE_HISTORY,
    "related_items": RELATED_ITEMS,
    "policies": POLICIES,
    "hospital_rankings": HOSPITAL_RANKINGS,
    "hospitals": HOSPITALS,
    "duplicates": DUPLICATES,
    "quarantine": QUARANTINE,
}

# Primary key of each dataset (validator checks uniqueness; dedupe reports use it).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "articles": ("article_id",),
    "article_history": ("article_id", "version"),
    "related_items": ("related_id",),
    "policies": ("policy_id",),
    "hospital_rankings": ("ranking_id", "rank"),
    "hospitals": ("hospital_id",),
    "duplicates": ("dataset", "row_id"),
    "quarantine": (),
}


# --- staging / state layouts (not published): published fields + what merging needs ----------
MINHASH = pa.binary(4 * 128)  # 128 uint32 MinHash bins, little endian (pipelines.dedupe)
_SEEN_AT = pa.field("seen_at", TIMESTAMP, nullable=False)
STATE_ARTICLES = ARTICLES.append(pa.field("raw_url", pa.string())).append(
    pa.field("minhash", MINHASH)).append(pa.field("shingles", pa.int32()))
STATE_RELATED = RELATED_ITEMS.append(pa.field("minhash", MINHASH)).append(pa.field("shingles", pa.int32()))
STATE_POLICIES = POLICIES.append(_SEEN_AT)
STATE_RANKINGS = HOSPITAL_RANKINGS.append(_SEEN_AT)
STATE_URL_ALIASES = pa.schema([pa.field("article_id", pa.string()), pa.field("raw_url", pa.string())])
STATE_REGISTRY = pa.schema([
    pa.field("digest", pa.string()), pa.field("path", pa.string()), pa.field("extractor_version", pa.string()),
    pa.field("run_id", pa.string()), pa.field("processed_at", TIMESTAMP),
])
STATE_DATASETS: dict[str, pa.Schema] = {
    "articles": STATE_ARTICLES, "article_history": ARTICLE_HISTORY, "related": STATE_RELATED,
    "policies": STATE_POLICIES, "hospital_rankings": STATE_RANKINGS, "quarantine": QUARANTINE,
    "url_aliases": STATE_URL_ALIASES, "registry": STATE_REGISTRY,
}


def schema_fingerprint(schema: pa.Schema) -> str:
    """Hash of names + types + nullability (not the docs) — changes only on a real layout change."""
    desc = ";".join(f"{f.name}:{f.type}:{f.nullable}" for f in schema)
    return hashlib.sha256(desc.encode()).hexdigest()[:16]


def empty_table(name: str) -> pa.Table:
    return DATASETS[name].empty_table()


# --- the parser's record (`healthnews parse`, `pipelines.parse.parse_page`): not a dataset, but a
# contract too; the data dictionary documents it from here and a test checks records against it.
_POLICY_OBJECT = pa.struct([
    _f("region", pa.string(), "Region as written in the title or text.", "江西萍乡"),
    _f("province", pa.string(), "Province (official name) from the gazetteer.", "江西省"),
    _f("city", pa.string(), "City (official name) from the gazetteer.", "萍乡市"),
    _f("adcode", pa.string(), "Administrative division code of the most specific level resolved.", "360300"),
    _f("year", pa.int32(), "Year the text states (2025年), not the publication year.", "2025"),
    _f("topic", pa.string(), "Controlled vocabulary, docs/notes/entities.md (缴费基数, 补缴, 断缴/停缴, 异地就医, 报销, 退休待遇, 医保卡, 医保码/电子凭证, 密码, 激活, … 其他).", "缴费基数", False),
    _f("insurance", pa.list_(pa.string()), "Insurance schemes named, in order of first mention.", '["养老保险", "医疗保险"]', False),
    _f("figures", pa.list_(FIGURE), "Every stated quantity: label, value (万/千/Chinese numerals converted), unit (% 元 年 个月 天 工作日 岁 位 个 次 …).", '[{"label": "养老保险 个人缴纳比例", "value": 8.0, "unit": "%"}]', False),
])
_HOSPITAL_OBJECT = pa.struct([
    _f("rank", pa.int32(), "Order of first mention (1-based); a hospital mentioned twice appears once.", "1", False),
    _f("name", pa.string(), "Hospital name as canonicalized (NFKC, no spaces/punctuation around).", "福建省南平市第一医院", False),
    _f("grade", pa.string(), "Grade normalized: 三级甲等, 二级乙等, 三级 ….", "三级甲等"),
    _f("address", pa.string(), "Address when stated (地址: / 位于).", "南平市延平区中山路317号"),
    _f("doctors", pa.list_(DOCTOR), "Doctors named near the hospital: name, title (主任医师 …), specialty.", '[{"name": "张友胜", "title": null, "specialty": "视网膜脱离"}]'),
    _f("departments", pa.int32(), "Number of departments when stated (91个科室).", "91"),
    _f("doctor_count", pa.int32(), "Number of doctors when stated (752位医生).", "752"),
    _f("score", pa.float64(), "Score when stated (综合评分).", "60"),
])
_RANKING_OBJECT = pa.struct([
    _f("province", pa.string(), "Province of the ranking.", "福建省"),
    _f("city", pa.string(), "City of the ranking.", "南平市"),
    _f("condition", pa.string(), "Disease or symptom asked about (title minus region, year and question words).", "脉络膜裂伤"),
    _f("year", pa.int32(), "Year stated in the title.", "2025"),
    _f("hospitals", pa.list_(_HOSPITAL_OBJECT), "Ranked hospitals in order.", "[{…}]", False),
])
_RELATED_OBJECT = pa.struct([
    _f("title", pa.string(), "Item title.", "江西萍乡社保基数8400每月交多少", False),
    _f("snippet", pa.string(), "Snippet text (may be empty).", "根据2025年萍乡社保缴费标准…", False),
    _f("category", pa.string(), "Label beside the date (健康新闻) or null.", "健康新闻"),
    _f("date", pa.date32(), "Date shown with the item (YYYY-MM-DD) or null.", "2025-05-16"),
    _f("url", pa.string(), "Absolute link of the item (made absolute against the page URL) or null.", "http://127.0.0.1:8765/article/7.html"),
    _f("kind", pa.string(), "policy | hospital_ranking | other, for the item.", "policy", False),
    _f("policy", _POLICY_OBJECT, "Policy object of the item (only when kind = policy).", "{…}"),
    _f("ranking", _RANKING_OBJECT, "Ranking object of the item (only when kind = hospital_ranking).", "{…}"),
])
PARSE_RECORD = pa.schema([
    _f("source", pa.string(), "What was parsed: the CLI's file path or URL; the raw file in the ETL; null in the crawl.", "seeds/000.txt"),
    _f("url", pa.string(), "Page URL or null.", "http://127.0.0.1:8765/article/1.html"),
    _f("title", pa.string(), "Question title (null when none was found: error no_title).", "江西萍乡社保基数8400每月交多少"),
    _f("answer", pa.string(), "Main answer, paragraphs joined by \\n; preamble, disclaimer, 大家都在搜 and nav/footer removed.", "养老保险…", False),
    _f("answer_paragraphs", pa.list_(pa.string()), "The answer's paragraphs.", '["养老保险 : 个人缴纳比例:8%", "…"]', False),
    _f("kind", pa.string(), "policy | hospital_ranking | other.", "policy", False),
    _f("published", pa.date32(), "The page's own date or null.", "2025-05-16"),
    _f("related", pa.list_(_RELATED_OBJECT), "相关推荐 items in page order.", "[{…}]", False),
    _f("ranking", _RANKING_OBJECT, "Ranking object (only when kind = hospital_ranking).", "{…}"),
    _f("policy", _POLICY_OBJECT, "Policy object (only when kind = policy).", "{…}"),
    _f("errors", pa.list_(pa.string()), "Error / warning codes (pipelines.parse docstring): no_title, listing_page, charset_guessed:gb18030 ….", '["charset_mismatch:gbk"]', False),
    _f("extractor_version", pa.string(), "Parser version; the ETL re-parses raw files when it changes.", "parse-1.5", False),
    _f("content_sha1", pa.string(), "sha1 of the answer text (null when empty).", "5f1d…"),
], metadata={"description": "One JSON object per parsed page."})
