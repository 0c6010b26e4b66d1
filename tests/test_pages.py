"""The pages' formatting for readers (pages.environment's filters), worked by hand: the public
CSVs keep machine values, the pages say them in plain Chinese."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.inputs.methodology import rule_texts
from scoring.inputs.rules import Rules
from scoring.outputs import pages
from scoring.outputs.pages import (
    amounts,
    beijing_time,
    codes,
    count,
    environment,
    percent,
    points_change,
    rule_rows,
    rule_value,
    share,
    times,
    yes_no,
    yuan,
    yuan_change,
)


@pytest.mark.parametrize("value, shown", [
    ("16759.58", "16,759.58 元"), ("0", "0.00 元"), (Decimal("1234567.5"), "1,234,567.50 元"),
    ("", "—"), (None, "—"),
])
def test_yuan(value, shown):
    assert yuan(value) == shown


@pytest.mark.parametrize("value, shown", [
    ("16759.58", "多 16,759.58 元"), ("-130.00", "少 130.00 元"), ("0.00", "持平"), ("", "—"),
])
def test_yuan_change(value, shown):
    assert yuan_change(value) == shown


def test_percentages_ratios_and_counts():
    assert percent("86.50") == "86.5%" and percent("85.00") == "85.0%" and percent("") == "—"
    assert percent("<5") == "—"  # a suppressed rate is never shown as a number
    assert share("0.6") == "60%" and share(Decimal("0.95")) == "95%" and share(0.25) == "25%"
    assert times("1.7294") == "1.73 倍" and times("") == "—"
    assert points_change("-0.94") == "下降 0.9 个百分点" and points_change("0.01") == "持平"
    assert count("471.00") == "471" and count("12345") == "12,345" and count("<5") == "<5"


def test_beijing_time():
    assert beijing_time("2026-11-24T00:13:34+08:00") == "2026年11月24日 00:13"
    assert beijing_time("2026-11-23T16:13:34+00:00") == "2026年11月24日 00:13"  # always Beijing time
    assert beijing_time("") == "—"


def test_yes_no_and_statuses():
    assert [yes_no(v) for v in ("True", "False", "", True)] == ["是", "否", "—", "是"]
    env = environment()
    assert env.from_string("{{ 'published'|status }} {{ 'revised'|status }} {{ 'held'|status }}").render() \
        == "已公布 已更正 暂缓拨付"
    assert env.from_string("{{ '2025Q4'|quarter }}").render() == "2025年第四季度"


def test_amounts_in_sentences_get_separators():
    assert amounts("已拨付 190970.96 元,尚差 130.00 元") == "已拨付 190,970.96 元,尚差 130.00 元"
    assert amounts("拨付 16759.58 元 → 15,000.00 元") == "拨付 16,759.58 元 → 15,000.00 元"


def test_machine_values_on_a_page_are_code():
    assert str(codes("回访数少于规则 min_surveys")) == "回访数少于规则 <code>min&#95;surveys</code>"
    assert "<code>published</code>" in str(codes("published 已公布")) and "&lt;b&gt;" in str(codes("<b>"))


def test_every_rule_has_its_value_in_words():
    rules = Rules.model_validate({"escort_rates": {"township": 100, "county": 150, "city": 200},
                                  "care_tier_rates": {"全自理": 70, "半护理": 150, "全护理": 230}})
    rows = {row["name"]: row for row in rule_rows(rules)}
    assert list(rows) == list(Rules.model_fields) == list(rule_texts())
    assert set(pages._RULE_WORDS) == set(Rules.model_fields)
    for name, row in rows.items():
        assert row["title"] == rule_texts()[name].title and row["explanation"] == rule_texts()[name].explanation
        for text in (row["value"], row["default"]):
            assert text and not any(c in text for c in "{}[]'_") and "None" not in text, (name, text)
    assert rows["visits_per_month"]["value"] == "特困 每月 3 次、经济困难老年人 每月 3 次、重度残疾人 每月 2 次、其他 每月 1 次"
    assert rows["quality_weights"]["value"] == "满意度 60%、抽查 25%、投诉办结 15%"
    assert rows["complaint_response_hours"]["value"] == "72 小时"
    assert rows["per_capita_standard"]["value"] == "2,000 元/人·年"
    assert rows["payout_ratios"]["value"] == "优秀 100%、良好 95%、合格 85%、不合格 60%"
    assert rows["escort_rates"]["value"] == "乡镇卫生院 100 元/人·天、县级医院 150 元/人·天、市级及以上医院 200 元/人·天"
    assert rows["escort_rates"]["default"] == "未设定(不发放)" and rows["escort_rates"]["overridden"]
    assert rows["bootstrap_seed"]["value"] == "20250101"  # an identifier: no separators
    assert rule_value("grade_bands", {"优秀": 90.0, "良好": 80.0, "合格": 60.0}) == "优秀 ≥ 90 分、良好 ≥ 80 分、合格 ≥ 60 分"
