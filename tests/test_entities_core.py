"""Gazetteer region resolution, hospital keys and number parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extract import enrich
from pipelines.hospitals import canonical_hospital_name, hospital_key
from pipelines.numbers import parse_chinese_numeral, parse_number
from pipelines.regions import resolve_region


@pytest.mark.parametrize(
    ("text", "province", "city", "district", "adcode", "surface"),
    [
        ("福建南平治疗结核性角膜病变的医院排名", "福建省", "南平市", None, "350700", "福建南平"),
        ("江西萍乡社保基数8400每月交多少", "江西省", "萍乡市", None, "360300", "江西萍乡"),
        ("大连医保停缴3个月以上有什么影响", "辽宁省", "大连市", None, "210200", "大连"),
        ("内蒙古社保卡网上激活流程", "内蒙古自治区", None, None, "150000", "内蒙古"),
        ("双鸭山治疗眼眶转移性肿瘤的医院排名", "黑龙江省", "双鸭山市", None, "230500", "双鸭山"),
        ("2025年河北邢台出现幻听去哪家医院好", "河北省", "邢台市", None, "130500", "河北邢台"),
        ("2025年江西赣州治疗耳鸣", "江西省", "赣州市", None, "360700", "江西赣州"),
        ("2025年贵州铜仁治疗眩晕什么医院好", "贵州省", "铜仁市", None, "520600", "贵州铜仁"),
        ("2025年云南丽江出现眼干去哪家医院好", "云南省", "丽江市", None, "530700", "云南丽江"),
        ("邵武市立医院", "福建省", "南平市", "邵武市", "350781", "邵武市"),
        ("武夷山市立医院", "福建省", "南平市", "武夷山市", "350782", "武夷山市"),
        ("延边朝鲜族自治州医保", "吉林省", "延边朝鲜族自治州", None, "222400", "延边朝鲜族自治州"),
        ("延边医保", "吉林省", "延边朝鲜族自治州", None, "222400", "延边"),
        ("北京医保官网查询系统", "北京市", "北京市", None, "110000", "北京"),
        ("石河子医保", "新疆维吾尔自治区", "石河子市", None, "659001", "石河子"),
    ],
)
def test_resolve_region_against_gazetteer(text, province, city, district, adcode, surface):
    region = resolve_region(text)
    assert (region.province, region.city, region.district, region.adcode, region.surface) == (
        province, city, district, adcode, surface)


@pytest.mark.parametrize("name", ["新星", "胡杨河", "昆玉"])
def test_xpcc_cities_missing_from_gazetteer_resolve_only_to_xinjiang(name):
    region = resolve_region(f"2025年新疆{name}异地就医备案失败怎么办")
    assert region.surface == f"新疆{name}"
    assert (region.province, region.city, region.district, region.adcode) == ("新疆维吾尔自治区", None, None, "650000")


def test_no_region_and_street_names():
    assert resolve_region("城乡医保退休每月多少钱") is None
    assert resolve_region("地址:中山路317号") is None  # 中山 (city short form) inside a street name
    assert resolve_region("合作医疗报销") is None  # 合作市's short form is an ordinary word


def test_hospital_key_merges_prefixed_and_unprefixed_names():
    full = hospital_key("福建省南平市第一医院", "福建省", "南平市")
    assert full == hospital_key("南平市第一医院", "福建省", "南平市")
    assert full == hospital_key("第一医院", "福建省", "南平市")  # scoped by the given region
    assert full == hospital_key("福建省南平市第一医院")  # scoped by its own prefix
    assert full != hospital_key("南平市人民医院", "福建省", "南平市")
    assert hospital_key("人民医院", "福建省", "南平市") != hospital_key("人民医院", "黑龙江省", "双鸭山市")
    assert hospital_key("中国人民解放军联勤保障部队第九〇七医院", "福建省", "南平市") == hospital_key(
        "联勤保障部队第九〇七医院", "福建省", "南平市")


def test_canonical_hospital_name():
    assert canonical_hospital_name(" 南平市第一医院 ：") == "南平市第一医院"
    assert canonical_hospital_name("ＸＸ市第１医院。") == "XX市第1医院"


@pytest.mark.parametrize(
    ("text", "value"),
    [("672", 672.0), ("1.2万", 12000.0), ("三千", 3000.0), ("十五", 15.0), ("一百二十", 120.0),
     ("两万五千", 25000.0), ("三千五", 3500.0), ("1,200", 1200.0), ("0.5", 0.5), ("二〇二五", 2025.0),
     ("万", None), ("abc", None), ("", None)],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_parse_number_with_multiplier_and_chinese_numeral():
    assert parse_number("3", "千") == 3000.0
    assert parse_number("1.5", "亿") == 150_000_000.0
    assert parse_chinese_numeral("三亿五千万") == 350_000_000
    assert parse_chinese_numeral("医保") is None


@settings(max_examples=300, deadline=None)
@given(title=st.text(alphabet="福建南平治疗医院排名社保基数8400元%年个月三千万哪家好几甲() :、,。", max_size=30),
       text=st.text(alphabet="省市县人民第一医院中心地址位于号路综合评分科室位医生主任医师擅长(三甲)0123456789.%元万千年个月 :,。、-", max_size=200))
def test_enrich_never_raises_and_keeps_the_contract(title, text):
    result = enrich(title, text)
    assert set(result) == {"kind", "policy", "ranking"}
    assert result["kind"] in ("policy", "hospital_ranking", "other")
    assert (result["policy"] is not None) == (result["kind"] == "policy")
    assert (result["ranking"] is not None) == (result["kind"] == "hospital_ranking")
    if result["ranking"]:
        assert [h["rank"] for h in result["ranking"]["hospitals"]] == list(range(1, len(result["ranking"]["hospitals"]) + 1))


def test_enrich_results_are_private_copies():
    title, text = "南平治疗白内障的医院排名", "推荐南平市第一医院、南平市人民医院。"
    for _ in range(3):  # first sight (memoized), then twice from the memo
        result = enrich(title, text)
        assert [h["name"] for h in result["ranking"]["hospitals"]] == ["南平市第一医院", "南平市人民医院"]
        result["ranking"]["hospitals"].clear()  # a caller mutating its result must not affect others


def test_municipality_districts_chain_after_their_city_only():
    region = resolve_region("2024年重庆万州治疗眩晕什么医院好")
    assert (region.province, region.city, region.district, region.adcode, region.surface) == (
        "重庆市", "重庆市", "万州区", "500101", "重庆万州")
    assert resolve_region("上海浦东医保").district == "浦东新区"
    assert resolve_region("万州医保") is None  # a bare district short form is not trusted
