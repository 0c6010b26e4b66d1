"""The rules model: METHODOLOGY.md's defaults, region.yaml overrides, errors as problems, fingerprint."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scoring.inputs.rules import Rules, load_region_config
from scoring.orchestration.stages import with_overrides

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_methodology_md():
    rules = Rules()
    assert rules.visits_required("特困") == 3 and rules.visits_required("经济困难老年人") == 3
    assert rules.visits_required("重度残疾人") == 2 and rules.visits_required("孤儿") == 1
    assert (rules.hours_per_day, rules.max_hours_per_record, rules.standard_visit_hours) == (8, 4, 1.0)
    assert rules.quality_weights.model_dump() == {"satisfaction": 0.60, "inspections": 0.25, "complaints": 0.15}
    assert (rules.satisfied_at_least, rules.complaint_response_hours) == (4, 72)
    assert rules.weights.model_dump() == {"hours": 0.30, "volume": 0.30, "quality": 0.40}
    assert (rules.points_per_falsified, rules.points_per_substantiated_complaint, rules.max_point_deduction) == (5, 1, 20)
    assert rules.grade_bands == {"优秀": 90, "良好": 80, "合格": 60}
    assert rules.falsified_grade_cap == "合格" and rules.bootstrap_resamples == 2000
    assert rules.payout_ratios == {"优秀": Decimal("1.00"), "良好": Decimal("0.95"),
                                   "合格": Decimal("0.85"), "不合格": Decimal("0.60")}
    assert rules.escort_rates is None and rules.care_tier_rates is None
    assert (rules.min_surveys, rules.per_capita_standard, rules.suppress_below) == (30, Decimal(2000), 5)


def test_huining_overrides_its_rules():
    config, problems = load_region_config(ROOT / "data" / "huining")
    assert problems == []
    assert config.rules.escort_rates == {"township": 100, "county": 150, "city": 200}
    assert config.rules.care_tier_rates == {"全自理": 70, "半护理": 150, "全护理": 230}
    xiajiang, _ = load_region_config(ROOT / "data" / "xiajiang")
    assert xiajiang.rules == Rules()


def test_unknown_rules_and_bad_values_are_problems_with_their_line(tmp_path):
    (tmp_path / "region.yaml").write_text(
        "name: 测试县\ncode: '360823'\nrules:\n  min_surveys: -3\n  bogus_rule: 1\n"
        "  grade_bands: {优秀: 80, 良好: 90, 合格: 60}\n  weights: {hours: 0.5}\n", encoding="utf-8")
    config, problems = load_region_config(tmp_path)
    assert config is None
    found = {(p.row, p.column, str(p.rule)) for p in problems}
    assert found == {
        (4, "rules.min_surveys", "bad_rule_value"), (5, "rules.bogus_rule", "unknown_rule"),
        (6, "rules.grade_bands", "bad_rule_value"), (7, "rules.weights", "bad_rule_value"),
    }
    assert all(p.message_zh and p.action for p in problems)


@pytest.mark.parametrize("text,rule", [
    ("", "bad_region"), ("name: x\ncode: 12\n", "bad_region"), ("name: [\n", "bad_region"),
])
def test_a_broken_region_yaml_is_a_problem_not_a_traceback(tmp_path, text, rule):
    (tmp_path / "region.yaml").write_text(text, encoding="utf-8")
    config, problems = load_region_config(tmp_path)
    assert config is None and {str(p.rule) for p in problems} == {rule}


def test_fingerprint_is_stable_and_follows_the_rules():
    assert Rules().fingerprint() == Rules().fingerprint()
    assert Rules(min_surveys=20).fingerprint() != Rules().fingerprint()
    config, _ = load_region_config(ROOT / "data" / "xiajiang")
    changed = with_overrides(config, {"min_surveys": 20})
    assert changed.rules.min_surveys == 20 and changed.rules.fingerprint() != config.rules.fingerprint()


def test_yaml_bombs_and_duplicate_keys_are_refused_at_once(tmp_path):
    import time

    from scoring.inputs.rules import load_region_config

    # a 10-level alias bomb: 10**10 strings if expanded (it raised MemoryError after 3 GB)
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    cases = {
        "bomb": "name: 测试县\ncode: '360823'\n" + "\n".join(lines) + "\n",
        "duplicate": "name: 测试县\ncode: '360823'\ncode: '620422'\n",
    }
    for name, text in cases.items():
        region = tmp_path / name
        region.mkdir()
        (region / "region.yaml").write_text(text, encoding="utf-8")
        started = time.perf_counter()
        config, problems = load_region_config(region)
        assert time.perf_counter() - started < 1, name
        assert config is None and [p.rule for p in problems] == ["bad_region"], name
    _, (bomb,) = load_region_config(tmp_path / "bomb")
    assert "别名" in bomb.message_zh and bomb.row == 4
    _, (duplicate,) = load_region_config(tmp_path / "duplicate")
    assert "重复" in duplicate.message_zh and duplicate.row == 3


@pytest.mark.parametrize("rule,value", [
    ("complaint_response_hours", ".inf"), ("complaint_response_hours", ".nan"),
    ("hours_per_day", "-.inf"), ("per_capita_standard", ".inf"), ("per_capita_standard", "1e30"),
    ("escort_rates", "{township: .inf}"), ("care_tier_rates", "{全自理: .nan}"),
    ("weights", "{hours: .nan, volume: 0.3, quality: 0.4}"), ("max_escort_days_per_record", "0"),
    ("long_visit_hours", "1e9"), ("min_surveys", "1000000000000"), ("suppress_below", "2"),
])
def test_every_numeric_rule_is_finite_and_in_its_range(tmp_path, rule, value):
    (tmp_path / "region.yaml").write_text(
        f"name: 测试县\ncode: '360823'\nrules:\n  {rule}: {value}\n", encoding="utf-8")
    config, problems = load_region_config(tmp_path)
    assert config is None
    assert [(p.row, str(p.rule)) for p in problems] == [(4, "bad_rule_value")]
    assert problems[0].column.startswith(f"rules.{rule}")  # or the key inside it: rules.escort_rates.township
