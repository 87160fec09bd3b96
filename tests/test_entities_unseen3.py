"""Round-3 held-out gate: entity extraction on phrasings written after rounds 1-2 landed.

`tests/fixtures/labels/unseen3_rankings.json` and `unseen3_policies.json` hold 61 snippets in families the
earlier sets (`test_entities_unseen.py`, `test_entities_unseen2.py`) do not cover: chatty Q&A answers
(您好,根据您的描述…建议您…, 楼主好…个人觉得…), two places compared in one sentence, pipe tables with header
rows (项目|单位|个人), 长护险/大病保险/医疗救助, 退休 ages (男60周岁、女干部55周岁), 视同缴费年限, months (180个月),
amounts in 元角分, decreases (下调0.5个百分点, 减少到), (以下简称X)/(简称X) aliases, English abbreviations and
names in parentheses (PUMCH, West China Hospital), 不建议去 clauses, doctors with 主任医师/教授 before and after
names, names in 「」“”『』, (简称“X”) quoted aliases, 不建议去/别去 warnings, 问:…答:…, traditional characters (醫院, 醫保; read as simplified). Labelled by hand before
the code was scored on them (held-out scores in docs/notes/entities.md, "Session 3 round 3"). Batch 1 (36)
was scored before any fix; batches 2 (12), 3 (7) and 4 (6) were each written after the earlier fixes and
scored before their own.

Same scoring as the first set (shared helpers). The floors are the measured values after the round-3
fixes: raise a floor when extraction improves, never lower it to make a change pass. The one known
miss is a policy year: `1992年底前参加工作的` is a cut-off date, not the policy's year (left alone).
`pytest -s` prints the scores and every miss.
"""

from __future__ import annotations

import pytest
from test_entities_unseen import FLOORS as ALL_ONES
from test_entities_unseen import assert_floors, load_labels, measure_labelled

from pipelines.entities.policy import extract_figures, extract_policy
from pipelines.extract import enrich

FLOORS = {**ALL_ONES, "policy_year": 0.96}  # 33/34: u08's 1992年底前 cut-off is read as the year


def measure() -> tuple[dict[str, float], list[tuple], int]:
    return measure_labelled("unseen3_rankings.json", "unseen3_policies.json")


@pytest.fixture(scope="module")
def measured():
    return measure()


def test_round3_label_set_is_varied_and_new():
    rankings, policies = load_labels("unseen3_rankings.json"), load_labels("unseen3_policies.json")
    items = rankings + policies
    assert len(items) >= 40
    assert len({i["style"] for i in items}) == len(items)
    assert len({i["id"] for i in items}) == len(items)
    earlier = [i for name in ("unseen_rankings.json", "unseen_policies.json", "unseen2_rankings.json",
                              "unseen2_policies.json") for i in load_labels(name)]
    assert not {i["text"] for i in items} & {i["text"] for i in earlier}
    assert not {i["style"] for i in items} & {i["style"] for i in earlier}


def test_round3_unseen_phrasing_quality_gate(measured):
    assert_floors(measured, FLOORS, "round-3 unseen labelled snippets")


# --------------------------------------------------------------------------- the round-3 fixes, one by one
@pytest.mark.parametrize(
    ("title", "kind"),
    [("女干部多少岁退休", "policy"), ("延迟退休后男性多少岁退休", "policy"), ("住院伙食补助标准是多少", "policy"),
     ("醫保報銷比例是多少", "policy"), ("大连职工大额医疗补助每年交多少", "policy"), ("廣州看腸胃病哪家醫院好", "hospital_ranking"), ("退休后去哪家医院体检好", "hospital_ranking"),
     ("女儿多少岁可以打疫苗", "other")],
)
def test_round3_title_kinds(title, kind):
    assert enrich(title, "", memo=False)["kind"] == kind  # enrich: a traditional title is read as simplified first


def test_round3_traditional_characters_read_as_simplified():
    r = enrich("深圳看心律失常哪家醫院好", "深圳市人民醫院心內科:李明主任醫師,擅長心律失常;北京大學深圳醫院也可以。",
               memo=False)["ranking"]
    assert (r["province"], r["city"]) == ("广东省", "深圳市")
    assert [h["name"] for h in r["hospitals"]] == ["深圳市人民医院", "北京大学深圳医院"]
    assert [(d["name"], d["title"]) for d in r["hospitals"][0]["doctors"]] == [("李明", "主任医师")]
    # a simplified page is never translated (醫 never occurs in simplified text)
    assert enrich("北京看心脏病哪家医院好", "北京安贞医院。", memo=False)["ranking"]["hospitals"][0]["name"] == "北京安贞医院"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 或者 / 的话 / 个人觉得 end the leftward scan (they used to leave 者/话/个人觉得 glued to the name)
        ("推荐广东省妇幼保健院,不建议去莆田系医院或者路边小诊所", ["广东省妇幼保健院"]),
        ("离得远的话重庆市妇幼保健院也可以", ["重庆市妇幼保健院"]),
        ("个人觉得厦门大学附属中山医院不错", ["厦门大学附属中山医院"]),
        # a comparison: 比 / 没有 end the scan too (内分泌科比福建省立医院强)
        ("协和医院的内分泌科比福建省立医院强,福州市第一医院没有前两家好", ["协和医院", "福建省立医院", "福州市第一医院"]),
    ],
)
def test_round3_hospital_names(text, expected):
    assert [h["name"] for h in enrich("哪家医院好", text, memo=False)["ranking"]["hospitals"]] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an introduced, quoted alias in parentheses is the same hospital
        ("中国医学科学院肿瘤医院(简称“医科院肿瘤医院”)很强,北京大学肿瘤医院也好", ["中国医学科学院肿瘤医院", "北京大学肿瘤医院"]),
        ("甲市第一人民医院(以下简称「市一医院」)", ["甲市第一人民医院"]),
        # a name in the same clause after a warning is not recommended; 而 turns the clause round
        ("建议去吉林大学第一医院。不建议去长春某某皮肤病医院和某某门诊部", ["吉林大学第一医院"]),
        ("不建议去甲县中医院(乙县中医院)和丙县人民医院,推荐长春市中心医院", ["长春市中心医院"]),
        ("不要去小诊所而要去吉林省人民医院,别去某某男科医院,长春市中心医院也行",
         ["吉林省人民医院", "长春市中心医院"]),
    ],
)
def test_round3_aliases_and_warnings(text, expected):
    assert [h["name"] for h in enrich("长春看皮肤病哪家医院好", text, memo=False)["ranking"]["hospitals"]] == expected


def test_round3_doctor_specialty_inside_parentheses_stops_at_the_closing_one():
    r = enrich("昆明看痛风哪家医院好", "昆明医科大学第一附属医院专家有:王华(主任医师,擅长痛风性关节炎)、李强(副主任医师)。",
               memo=False)["ranking"]
    assert [(d["name"], d["title"], d["specialty"]) for d in r["hospitals"][0]["doctors"]][0] == (
        "王华", "主任医师", "痛风性关节炎")


def test_round3_address_inside_parentheses_stops_at_the_closing_one():
    r = enrich("苏州看妇科哪家医院好", "苏州市立医院(地址:姑苏区道前街26号)和苏州大学附属第一医院(地址:平江路(近干将路)1号)。",
               memo=False)["ranking"]
    assert [h["address"] for h in r["hospitals"]] == ["姑苏区道前街26号", "平江路(近干将路)1号"]


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("折合每天约18元7角2分", [(18.72, "元")]),
        ("每月划入83元5角,另补9分", [(83.5, "元")]),  # 9分 alone, not after 元: no figure
        ("每月补助100元,5分钟内到账", [(100.0, "元"), (5.0, "分钟")]),  # 分钟 is not 分
    ],
)
def test_round3_yuan_jiao_fen(text, figures):
    assert [(f["value"], f["unit"]) for f in extract_figures(text)] == figures


def test_round3_item_prefix_does_not_repeat_a_cut_label():
    # the label is cut to its last 14 characters (工医保在…): the item is prefixed once, not glued to its own tail
    got = extract_figures("广州职工医保在三级医院住院报销比例为85%")
    assert [(f["label"], f["value"]) for f in got] == [("职工医保 在三级医院住院报销比例", 85.0)]


def test_round3_policy_region_from_the_answer_opening_and_long_term_care_topic():
    p = extract_policy("长护险每年交多少钱", "成都长期护理保险个人缴费按每人每年100元标准筹集。")
    assert (p["region"], p["adcode"]) == ("成都", "510100")
    # a place later in the answer is an example, not the policy's region; a hospital name is not a place
    assert extract_policy("长护险每年交多少钱", "个人缴费每年100元,成都为例。")["region"] is None
    assert extract_policy("医保报销比例", "瑞金医院住院报销比例为85%。")["region"] is None
    assert extract_policy("青岛长期护理保险待遇标准", "")["topic"] == "报销"
    assert extract_policy("养老保险待遇标准", "")["topic"] == "退休待遇"
    assert extract_policy("Is the medical insurance rate in Beijing higher than in Shanghai", "")["topic"] == "缴费比例"
