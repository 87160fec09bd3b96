"""Classification of every seed title and policy extraction (figures, topic, region) on real snippets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthnews.sample_site.seed_reader import load_bundled_seeds
from pipelines.classify import classify
from pipelines.entities.policy import extract_figures
from pipelines.extract import enrich
from pipelines.text import normalize_text

LABELS = Path(__file__).parent / "fixtures" / "labels"


@pytest.fixture(scope="module")
def texts() -> dict[tuple[str, str], str]:
    """(seed prefix, normalized title) -> normalized body (page answer or related snippet)."""
    out = {}
    for seed in load_bundled_seeds():
        answer = " ".join(" ".join(line.strip() for line in block) for block in seed.answer_blocks)
        out[(seed.name[:3], normalize_text(seed.title))] = normalize_text(answer)
        for item in seed.related:
            out[(seed.name[:3], normalize_text(item.title))] = normalize_text(item.snippet)
    return out


def test_every_seed_title_is_classified_as_labelled(texts):
    labels = json.loads((LABELS / "kinds.json").read_text("utf-8"))["items"]
    assert len(labels) == len(texts)  # every page and related title is labelled
    wrong = [(i["title"], i["kind"], classify(i["title"], texts[(i["seed"], i["title"])]))
             for i in labels if classify(i["title"], texts[(i["seed"], i["title"])]) != i["kind"]]
    assert wrong == []


@pytest.mark.parametrize(
    ("title", "body", "kind"),
    [
        ("西安某某医院是几级医院", "", "other"),
        ("上海治疗白内障去哪家医院好", "", "hospital_ranking"),
        ("杭州灵活就业养老保险怎么交", "", "policy"),
        ("", "医保报销比例与起付线因地区而异,职工医保统筹基金按比例支付住院费用。", "policy"),
        ("感冒了吃什么药好得快", "多喝水,注意休息,必要时就医。", "other"),
    ],
)
def test_classification_rules_on_unseen_titles(title, body, kind):
    assert classify(title, body) == kind


def _find(figures: list[dict], want: dict) -> dict | None:
    for fig in figures:
        if fig["unit"] == want["unit"] and abs(fig["value"] - want["value"]) < 1e-9 and all(
            part in (fig["label"] or "") for part in want["label_has"]
        ):
            return fig
    return None


def test_labelled_policy_facts(texts):
    items = json.loads((LABELS / "policy_figures.json").read_text("utf-8"))["items"]
    total = found = 0
    problems = []
    for item in items:
        result = enrich(item["title"], texts[(item["seed"], item["title"])])
        assert result["kind"] == "policy", item["title"]
        policy = result["policy"]
        for field in ("region", "province", "city", "adcode", "year", "topic"):
            if field in item and policy[field] != item[field]:
                problems.append((item["title"], field, policy[field], item[field]))
        for scheme in item.get("insurance_has", []):
            if scheme not in policy["insurance"]:
                problems.append((item["title"], "insurance", policy["insurance"], scheme))
        for want in item["figures"]:
            total += 1
            if _find(policy["figures"], want):
                found += 1
            else:
                problems.append((item["title"], "figure", want, policy["figures"]))
    print(f"\nlabelled policy figures found: {found}/{total}")
    assert problems == []


def test_figures_units_and_numbers():
    figs = extract_figures("个人缴费1.2万元,单位补贴三千元,缴费满十五年,待遇等待期6个月,报销比例为70%,2025年起执行")
    got = [(f["value"], f["unit"]) for f in figs]
    assert got == [(12000.0, "元"), (3000.0, "元"), (15.0, "年"), (6.0, "个月"), (70.0, "%")]
    assert [f["label"] for f in figs][-1] == "报销比例"
    # A date and a one-off (一次性) are not quantities.
    assert extract_figures("2025年5月16日起一次性补缴") == []


def test_english_figures_units_and_labels():
    figs = extract_figures("Employees pay 2% of their salary and employers about 8%. Residents pay a flat "
                           "annual premium of 400 yuan in 2025; registration within 30 days, refunds in 3-5 working days.")
    assert [(f["label"], f["value"], f["unit"]) for f in figs] == [
        ("Employees pay", 2.0, "%"), ("employers", 8.0, "%"), ("flat annual premium", 400.0, "元"),
        ("registration", 30.0, "天"), ("refunds", 3.0, "工作日"), ("refunds", 5.0, "工作日")]
    # symbols between two figures are not an English label: the result borrows the previous label
    assert [f["label"] for f in extract_figures("基数8400元 × 16% = 1344元")][-1] != "="


def test_english_seed_is_policy(texts):
    title = next(t for (s, t) in texts if s == "003")
    result = enrich(title, texts[("003", title)])
    assert result["kind"] == "policy" and result["policy"]["insurance"][0] == "医疗保险"
    assert result["policy"]["region"] is None
