"""Hospital-ranking extraction on the real seed snippets, gated by hand-labelled hospital names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthnews.sample_site.seed_reader import load_bundled_seeds
from pipelines.entities.ranking import extract_doctors
from pipelines.extract import enrich
from pipelines.hospitals import find_hospital_mentions
from pipelines.text import normalize_text

LABELS = Path(__file__).parent / "fixtures" / "labels"


def related_items() -> dict[tuple[str, str], str]:
    """(seed prefix, normalized related title) -> normalized snippet, read from the seed files."""
    return {
        (seed.name[:3], normalize_text(item.title)): normalize_text(item.snippet)
        for seed in load_bundled_seeds()
        for item in seed.related
    }


@pytest.fixture(scope="module")
def snippets() -> dict[tuple[str, str], str]:
    return related_items()


@pytest.fixture(scope="module")
def ranking_labels() -> list[dict]:
    return json.loads((LABELS / "hospital_rankings.json").read_text("utf-8"))["items"]


def _ranking(snippets, seed: str, title: str) -> dict:
    result = enrich(title, snippets[(seed, title)])
    assert result["kind"] == "hospital_ranking", title
    return result["ranking"]


def test_hospital_name_precision_and_recall(snippets, ranking_labels):
    true_pos = predicted = expected = 0
    misses = []
    for item in ranking_labels:
        names = [h["name"] for h in _ranking(snippets, item["seed"], item["title"])["hospitals"]]
        gold = item["hospitals"]
        hits = len(set(names) & set(gold))
        true_pos, predicted, expected = true_pos + hits, predicted + len(names), expected + len(gold)
        if names != gold:
            misses.append((item["title"], names, gold))
    precision = true_pos / predicted
    recall = true_pos / expected
    print(f"\nhospital names over {len(ranking_labels)} snippets: precision={precision:.3f} "
          f"recall={recall:.3f} (tp={true_pos}, predicted={predicted}, labelled={expected})")
    for miss in misses:
        print("  mismatch:", miss)
    assert precision >= 0.95 and recall >= 0.95


def test_ranks_follow_first_mention_and_merge_repeats(snippets):
    # 福建省南平市第一医院 is mentioned again as 南平市第一医院: one entry, rank of the first mention.
    hospitals = _ranking(snippets, "000", "福建南平治疗脉络膜裂伤哪个医院比较好")["hospitals"]
    assert [h["rank"] for h in hospitals] == list(range(1, len(hospitals) + 1))
    assert sum("第一医院" in h["name"] for h in hospitals) == 1


def test_ranking_header_fields(snippets):
    r = _ranking(snippets, "001", "2025年江西赣州治疗耳鸣伴高血压的医院有哪些")
    assert (r["province"], r["city"], r["condition"], r["year"]) == ("江西省", "赣州市", "耳鸣伴高血压", 2025)
    r = _ranking(snippets, "000", "福建南平治疗脉络膜裂伤哪个医院比较好")
    assert (r["province"], r["city"], r["condition"], r["year"]) == ("福建省", "南平市", "脉络膜裂伤", None)
    assert _ranking(snippets, "002", "2025年河北邢台出现厌食去哪家医院好")["condition"] == "厌食"


def test_hospital_details_address_counts_score(snippets):
    first, second, _ = _ranking(snippets, "000", "福建南平治疗睫状体黑色素瘤的医院排名")["hospitals"]
    assert first["address"] == "福建南平市延平区中山路317号"
    assert (first["departments"], first["doctor_count"], first["score"]) == (91, 752, 60.0)
    assert (second["departments"], second["doctor_count"]) == (65, 209)
    assert second["address"] == "南平市解放路29号(紫云岗18号)"
    top = _ranking(snippets, "002", "2025年河北邢台出现幻听去哪家医院好")["hospitals"][0]
    # "耳聋专科可咨询1位医生" later in the same span must not override "2433位医生".
    assert (top["address"], top["departments"], top["doctor_count"], top["score"]) == ("红星街16号", 268, 2433, 149.0)


def test_grades_normalized(snippets):
    hospitals = _ranking(snippets, "001", "双鸭山治疗原发性共同性内斜视的医院排名")["hospitals"]
    assert [h["grade"] for h in hospitals] == ["三级", "二级甲等", "二级"]
    hospitals = _ranking(snippets, "000", "福建南平治疗获得性视网膜劈裂的医院排名")["hospitals"]
    assert [h["grade"] for h in hospitals] == ["三级甲等", "三级", "三级甲等"]


def test_doctors(snippets):
    doctors = _ranking(snippets, "000", "福建南平治疗珠蛋白生成障碍性贫血视网膜病变的医院排名")["hospitals"][0]["doctors"]
    assert doctors[0]["name"] == "陈水明" and doctors[0]["title"] == "副主任医师"
    assert doctors[0]["specialty"].startswith("白内障、青光眼")
    assert doctors[1]["name"] == "邱江建" and doctors[1]["title"] == "主治医师"
    doctors = _ranking(snippets, "000", "福建南平治疗获得性视网膜劈裂的医院排名")["hospitals"][0]["doctors"]
    assert [(d["name"], d["specialty"]) for d in doctors] == [("张友胜", "视网膜脱离、视神经疾病"), ("郑俊森", "白内障、青光眼")]
    doctors = _ranking(snippets, "001", "双鸭山治疗原发性共同性内斜视的医院排名")["hospitals"][0]["doctors"]
    assert [(d["name"], d["title"]) for d in doctors] == [("王霍乔", "主任医师"), ("石剑英", "主任医师")]
    # "拥有多名主任医师和副主任医师" names nobody.
    assert _ranking(snippets, "004", "2025年贵州铜仁治疗眩晕什么医院好")["hospitals"][0]["doctors"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("推荐选择三甲医院或公立综合医院,也可去该医院的眼科。", []),
        ("名医汇医院排行榜参考:南平市公立医院排名", []),
        ("推荐【邢台市人民医院心理科】或【河北省精神卫生中心邢台分院】", ["邢台市人民医院", "河北省精神卫生中心邢台分院"]),
        ("可选北京协和医院和于都县人民医院。", ["北京协和医院", "于都县人民医院"]),
        ("首选成都市第一人民医院,其次是华中科技大学同济医学院附属同济医院", ["成都市第一人民医院", "华中科技大学同济医学院附属同济医院"]),
        ("该院为二级专科脑病医院。", []),
    ],
)
def test_name_finder_boundaries(text, expected):
    assert [m.name for m in find_hospital_mentions(text)] == expected


def test_unseen_layout_numbered_list_with_cues():
    text = ("1. 浙江大学医学院附属第二医院 综合评分 :95 特色 :拥有120个科室,3000位医生。 "
            "2. 杭州市第一人民医院 地址 :杭州市上城区浣纱路261号。 3. 浙江省中医院(三甲) 4. 杭州市红十字会医院")
    result = enrich("浙江杭州治疗腰椎间盘突出的医院排名", text)
    r = result["ranking"]
    assert (r["province"], r["city"], r["condition"]) == ("浙江省", "杭州市", "腰椎间盘突出")
    names = [h["name"] for h in r["hospitals"]]
    assert names == ["浙江大学医学院附属第二医院", "杭州市第一人民医院", "浙江省中医院", "杭州市红十字会医院"]
    first, second, third, fourth = r["hospitals"]
    assert (first["score"], first["departments"], first["doctor_count"]) == (95.0, 120, 3000)
    assert second["address"] == "杭州市上城区浣纱路261号"
    assert third["grade"] == "三级甲等" and fourth["grade"] is None  # a grade belongs to its own item


def test_unseen_prose_ranking_with_doctor():
    text = ("广州治疗糖尿病比较好的医院有:中山大学附属第一医院、广东省人民医院、广州医科大学附属第二医院。"
            "其中中山大学附属第一医院是三级甲等综合医院,地址:广州市越秀区中山二路58号。内分泌科李延兵主任医师擅长糖尿病诊治。")
    r = enrich("2024年广东广州治疗糖尿病哪家医院好", text)["ranking"]
    assert r["year"] == 2024 and r["condition"] == "糖尿病"
    assert [h["name"] for h in r["hospitals"]] == ["中山大学附属第一医院", "广东省人民医院", "广州医科大学附属第二医院"]
    top = r["hospitals"][0]
    assert (top["grade"], top["address"]) == ("三级甲等", "广州市越秀区中山二路58号")
    assert top["doctors"] == [{"name": "李延兵", "title": "主任医师", "specialty": "糖尿病诊治"}]


def test_branch_and_medical_center_names_stay_whole():
    text = "推荐解放军总医院第一医学中心、北京大学第一医院(西城院区)和南方医科大学南方医院白云分院。"
    assert [m.name for m in find_hospital_mentions(text)] == [
        "解放军总医院第一医学中心", "北京大学第一医院", "南方医科大学南方医院白云分院"]


def test_doctors_written_title_first():
    doctors = extract_doctors("眼科主任医师张友胜擅长白内障手术,副主任医师李明、王芳等也很有经验。")
    assert doctors == [
        {"name": "张友胜", "title": "主任医师", "specialty": "白内障手术"},
        {"name": "李明", "title": "副主任医师", "specialty": None},
        {"name": "王芳", "title": "副主任医师", "specialty": None},
    ]
