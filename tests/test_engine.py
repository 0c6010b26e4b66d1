"""Hand-worked cases for every METHODOLOGY.md rule. The expected numbers are worked out in the
comments and written here; nothing is recomputed by a second implementation.

The quarter is 2026Q2: April (30 days), May (31), June (30); 91 days.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import Decimal as D

import pandas as pd
import pytest
import typed

from scoring.engine.pipeline import score_quarter
from scoring.inputs.months import Quarter
from scoring.inputs.rules import RegionConfig, Rules

Q2 = Quarter(2026, 2)


def worked_tables() -> dict[str, pd.DataFrame]:
    """P1: a full-year contract; P2: a contract starting mid-quarter (2026-05-15), no surveys."""
    return {
        "providers": typed.providers(
            # 36,500 yuan over 365 days: 91 days in Q2 -> amount due 9,100.00
            ("P1", "甲社工中心", "HT-1", "2026-01-01", "2026-12-31", D("36500.00"), 3),
            # 73,000 yuan over 2026-05-15..2027-05-14 (365 days): 47 days in Q2 -> 9,400.00
            ("P2", "乙养老服务社", "HT-2", "2026-05-15", "2027-05-14", D("73000.00"), 1),
        ),
        "catalog": typed.catalog(),
        "beneficiaries": typed.beneficiaries(
            # B1 特困 (3 visits a month), enrolled all quarter: April, May, June required
            ("B1", "特困", "P1", "2025-01-01", None),
            # B2 低保 (any other category: 1 visit), enrolled 2026-04-15: April is partial,
            # so May and June are required
            ("B2", "低保", "P1", "2026-04-15", None),
            # B3 重度残疾人 (2 visits), exits 2026-05-20: April required, May partial
            ("B3", "重度残疾人", "P1", "2025-06-01", "2026-05-20"),
            # B4 特困 with P2: P2's contract covers June only -> June required
            ("B4", "特困", "P2", "2025-01-01", None, "半护理"),
        ),
        "services": typed.services(
            # B1 April: 3 visits of 0.5 h -> met, 1.5 h
            ("R01", "B1", "P1", "C01", "2026-04-03 09:00", 0.5),
            ("R02", "B1", "P1", "C01", "2026-04-13 09:00", 0.5),
            ("R03", "B1", "P1", "C01", "2026-04-23 09:00", 0.5),
            # B1 May: 2 visits of 1 h and a cancelled one -> not met (2 < 3), 2 h
            ("R04", "B1", "P1", "C01", "2026-05-04 09:00", 1),
            ("R05", "B1", "P1", "C01", "2026-05-14 09:00", 1),
            ("R06", "B1", "P1", "C01", "2026-05-24 09:00", 1, "cancelled"),
            # B1 June: a 6 h visit capped at 4 h, and two of 0.5 h -> met, 5 h
            ("R07", "B1", "P1", "C01", "2026-06-02 08:00", 6),
            ("R08", "B1", "P1", "C01", "2026-06-12 09:00", 0.5),
            ("R09", "B1", "P1", "C01", "2026-06-22 09:00", 0.5),
            # B2 April (partial month: no requirement, the hour still counts), May met, June none
            ("R10", "B2", "P1", "C01", "2026-04-20 09:00", 1),
            ("R11", "B2", "P1", "C01", "2026-05-20 09:00", 1),
            # B3 April: 2 visits of 1 h -> met
            ("R12", "B3", "P1", "C01", "2026-04-08 09:00", 1),
            ("R13", "B3", "P1", "C01", "2026-04-18 09:00", 1),
            # B4 June: 3 visits of 1 h -> met; and 2 escort days at a county hospital (16 h)
            ("R14", "B4", "P2", "C01", "2026-06-03 09:00", 1),
            ("R15", "B4", "P2", "C01", "2026-06-13 09:00", 1),
            ("R16", "B4", "P2", "C01", "2026-06-23 09:00", 1),
            ("R17", "B4", "P2", "E01", "2026-06-25 08:00", 48, "completed", 2, "county"),
        ),
        # P1: 10 surveys, 7 answer >= 4 -> satisfaction 70
        "surveys": typed.surveys("P1", [5, 5, 4, 4, 4, 3, 2, 5, 4, 1]),
        "complaints": typed.complaints(
            # answered in exactly 72 h (in time) and substantiated; answered in 80 h, not
            ("T1", "P1", "2026-04-10 10:00", 72, "yes"),
            ("T2", "P1", "2026-05-10 10:00", 80, "no"),
        ),
        "inspections": typed.inspections(
            # P1: 2 pass of 4 -> 50; one falsified; money deductions 100.00 + 200.50
            ("I1", "R01", "pass", D("0.00")),
            ("I2", "R04", "pass", D("0.00")),
            ("I3", "R05", "poor", D("100.00")),
            ("I4", "R08", "falsified", D("200.50")),
        ),
    }


def run(tables, rules: Rules | None = None):
    config = RegionConfig(name="测试县", code="360823", rules=rules or Rules())
    return score_quarter(tables, config, Q2, "test")


def row(table: pd.DataFrame, provider_id: str) -> dict:
    return table.set_index("provider_id").loc[provider_id].to_dict()


def test_required_months_hours_and_volume():
    p1 = row(run(worked_tables()).scores, "P1")
    # required months: B1 x3, B2 x2 (May, June), B3 x1 (April) = 6
    assert p1["required_months"] == 6
    # required hours R = 3x3 + 2x1 + 1x2 = 13; delivered D = 1.5 + 2 + 5 + (1 + 1) + 2 = 12.5
    assert p1["hours_required"] == D("13.00")
    assert p1["hours_delivered"] == D("12.50")
    assert p1["records_capped"] == 1
    # H = 100 x 12.5 / 13 = 96.1538...
    assert p1["hours_score"] == D("96.15")
    # met: B1 April, B1 June, B2 May, B3 April = 4 of 6
    assert p1["months_met"] == 4
    assert p1["volume_score"] == D("66.67")


def test_quality_components_and_composite():
    p1 = row(run(worked_tables()).scores, "P1")
    assert p1["satisfaction_component"] == D("70.00")
    assert p1["inspection_component"] == D("50.00")
    assert p1["complaint_component"] == D("50.00")  # 72 h exactly is in time, 80 h is not
    # Q = 0.6 x 70 + 0.25 x 50 + 0.15 x 50 = 62
    assert p1["quality_score"] == D("62.00")
    # deductions: 5 per falsified finding + 1 per substantiated complaint = 6
    assert p1["point_deduction"] == D("6.00")
    # S = 0.3 x 1250/13 + 0.3 x 200/3 + 0.4 x 62 - 6 = 67.6461... -> 67.65
    assert p1["score"] == D("67.65")
    assert p1["grade"] == "合格"
    assert p1["gradable"]


def test_payment_release_and_withheld():
    payments = run(worked_tables()).payments
    p1 = row(payments, "P1")
    assert p1["amount_due"] == D("9100.00")
    assert p1["payout_ratio"] == D("0.85")
    assert p1["monetary_deduction"] == D("300.50")
    # 9,100.00 x 0.85 - 300.50 = 7,434.50
    assert p1["release"] == D("7434.50")
    assert p1["withheld"] == D("1665.50")
    assert p1["status"] == "preliminary"


def test_contract_starting_mid_quarter_without_surveys_is_held():
    results = run(worked_tables())
    p2 = row(results.scores, "P2")
    assert p2["required_months"] == 1  # June only: May is not wholly inside the contract
    assert not p2["gradable"]
    assert p2["grade"] == "" and p2["score"] is None
    assert "回访" in p2["reason"]
    pay = row(results.payments, "P2")
    assert pay["amount_due"] == D("9400.00")
    assert pay["release"] == D("0.00") and pay["withheld"] == D("9400.00")
    assert pay["status"] == "held"


def test_escort_days_and_care_tiers_when_rules_define_them():
    rules = Rules(
        escort_rates={"township": 100, "county": 150, "city": 200},
        care_tier_rates={"全自理": 70, "半护理": 150, "全护理": 230},
    )
    results = run(worked_tables(), rules)
    p2 = row(results.scores, "P2")
    # escort days count units x 8 h: D = 3 + 16 = 19 h against R = 3 h
    assert p2["hours_delivered"] == D("19.00")
    pay = row(results.payments, "P2")
    assert pay["escort_subsidy"] == D("300.00")  # 2 person-days x 150 (county)
    assert pay["care_allowance"] == D("450.00")  # B4 半护理, 3 fully enrolled months x 150
    assert row(results.payments, "P1")["escort_subsidy"] == D("0.00")
    # spending = releases + optional lines = 7,434.50 + 0 + 300 + 450
    assert results.spending.loc[0, "spend"] == D("8184.50")


def test_rows_outside_enrolment_never_count_and_are_listed():
    """METHODOLOGY.md: a completed row dated before enrolled_on or after exited_on counts for
    nothing (hours, visits, escort subsidy) and is listed for inspection; both ends inclusive."""
    rules = Rules(escort_rates={"township": 100, "county": 150, "city": 200})
    tables = worked_tables()
    tables["services"] = typed.concat(tables["services"], typed.services(
        # B2 is enrolled on 2026-04-15: a 3 h visit on 04-14 is before, one on 04-15 counts (1 h)
        ("X1", "B2", "P1", "C01", "2026-04-14 09:00", 3),
        ("X2", "B2", "P1", "C01", "2026-04-15 09:00", 1),
        # B3 exits on 2026-05-20: a visit that day counts (1 h); an escort day on 05-25 is after
        ("X3", "B3", "P1", "C01", "2026-05-20 09:00", 1),
        ("X4", "B3", "P1", "E01", "2026-05-25 08:00", 24, "completed", 3, "city"),
    ))
    results = run(tables, rules)
    p1 = row(results.scores, "P1")
    # the worked case's 12.5 h + X2 and X3 (1 h each); X1 (3 h) and X4 (3 days, 24 h) never count
    assert p1["hours_delivered"] == D("14.50")
    assert p1["visits_completed"] == 12 + 2  # R01..R13 less the cancelled R06, X2, X3
    assert p1["records_outside_enrolment"] == 2
    assert p1["months_met"] == 4  # X3 is in May, when B3 is partly enrolled: no requirement
    assert row(results.payments, "P1")["escort_subsidy"] == D("0.00")  # not 3 x 200
    listed = results.evidence.outside_enrolment
    assert listed["record_id"].tolist() == ["X1", "X4"]
    assert listed["side"].tolist() == ["before", "after"]
    assert str(listed["enrolled_on"][0].date()) == "2026-04-15"
    assert str(listed["exited_on"][1].date()) == "2026-05-20"
    assert row(run(worked_tables(), rules).scores, "P2")["records_outside_enrolment"] == 0


def test_optional_lines_are_empty_without_rules():
    pay = row(run(worked_tables()).payments, "P2")
    assert pay["escort_subsidy"] is None and pay["care_allowance"] is None


def test_spending_against_the_standard():
    spending = run(worked_tables()).spending.iloc[0]
    # enrolled on any day: April B1 B2 B3 B4, May B1 B2 B3 B4, June B1 B2 B4 -> E = 11/3
    assert spending["avg_beneficiaries"] == D("3.67")
    assert spending["spend"] == D("7434.50")
    # 7,434.50 x 4 / (11/3) = 8,110.36...
    assert spending["per_capita_annual"] == D("8110.36")
    assert spending["per_capita_standard"] == D("2000.00")
    assert spending["ratio_to_standard"] == D("4.0552")
    # 16 completed services; 12.5 + 19 = 31.5 hours
    assert spending["completed_services"] == 16
    assert spending["spend_per_service"] == D("464.66")
    assert spending["spend_per_hour"] == D("236.02")


def test_satisfaction_with_wilson_interval_and_small_sample():
    satisfaction = run(worked_tables()).satisfaction.set_index("provider_id")
    p1 = satisfaction.loc["P1"]
    assert (p1["surveys"], p1["satisfied"], p1["rate"]) == (10, 7, D("70.00"))
    # Wilson 95% for 7/10: 39.68% .. 89.22%
    assert (p1["ci_low"], p1["ci_high"]) == (D("39.68"), D("89.22"))
    assert p1["small_sample"]
    assert [p1[f"n{i}"] for i in range(1, 6)] == [1, 1, 1, 4, 3]
    assert satisfaction.loc["P2", "surveys"] == 0 and satisfaction.loc["P2", "rate"] is None
    assert satisfaction.loc["ALL", "surveys"] == 10


def simple_tables(answers: list[int], inspections=None, complaints=None) -> dict:
    """One provider, one 特困 beneficiary met every month with 1 h visits: H = V = 100."""
    visits = [(f"R{m}{i}", "B1", "P1", "C01", f"2026-{m:02d}-{3 + 9 * i:02d} 09:00", 1)
              for m in (4, 5, 6) for i in range(3)]
    return {
        "providers": typed.providers(("P1", "甲", "HT-1", "2026-01-01", "2026-12-31", D("36500.00"), 1)),
        "catalog": typed.catalog(),
        "beneficiaries": typed.beneficiaries(("B1", "特困", "P1", "2025-01-01", None)),
        "services": typed.services(*visits),
        "surveys": typed.surveys("P1", answers),
        "complaints": complaints if complaints is not None else typed.complaints(),
        "inspections": inspections if inspections is not None else typed.inspections(),
    }


def test_half_up_rounding_at_005():
    # Q = satisfaction only = 100 x 193/320 = 60.3125; S = 30 + 30 + 0.4 x 60.3125 = 84.125
    # exactly, which rounds half-up to 84.13 (binary floats would give 84.12)
    scores = run(simple_tables([5] * 193 + [1] * 127)).scores
    assert scores.loc[0, "score_raw"] == D("84.1250")
    assert scores.loc[0, "score"] == D("84.13")


def test_score_exactly_on_a_band_edge():
    # satisfaction 50 -> S = 60 + 20 = 80.00 exactly: 良好 (bands are "at least")
    scores = run(simple_tables([5, 1])).scores
    assert (scores.loc[0, "score"], scores.loc[0, "grade"]) == (D("80.00"), "良好")


def test_grade_comes_from_the_rounded_score():
    # satisfaction 100 x 3999/8000 = 49.9875 -> S = 60 + 19.995 = 79.995 -> 80.00 -> 良好
    scores = run(simple_tables([5] * 3999 + [1] * 4001)).scores
    assert (scores.loc[0, "score"], scores.loc[0, "grade"]) == (D("80.00"), "良好")


def test_falsified_finding_caps_the_grade():
    inspections = typed.inspections(("I1", "R40", "falsified", D("0.00")))
    scores = run(simple_tables([5] * 40, inspections=inspections)).scores
    # Q = (0.6 x 100 + 0.25 x 0) / 0.85 = 70.588...; S = 60 + 28.235... - 5 = 83.24 -> 良好,
    # capped at 合格
    assert scores.loc[0, "score"] == D("83.24")
    assert scores.loc[0, "grade_before_cap"] == "良好"
    assert scores.loc[0, "grade"] == "合格"


def test_point_deduction_is_capped_at_20():
    inspections = typed.inspections(*[(f"I{i}", "R40", "falsified", D("10.00")) for i in range(5)])
    complaints = typed.complaints(*[(f"T{i}", "P1", "2026-04-10 10:00", 1, "yes") for i in range(3)])
    scores = run(simple_tables([5] * 40, inspections, complaints)).scores
    # 5 x 5 + 3 x 1 = 28 points, capped at 20
    assert scores.loc[0, "point_deduction"] == D("20.00")
    # Q = (0.6 x 100 + 0.25 x 0 + 0.15 x 100) = 75; S = 60 + 30 - 20 = 70.00
    assert scores.loc[0, "score"] == D("70.00")
    pay = run(simple_tables([5] * 40, inspections, complaints)).payments.iloc[0]
    assert pay["monetary_deduction"] == D("50.00")


def test_provider_with_no_required_months_is_not_gradable():
    tables = simple_tables([5] * 40)
    tables["beneficiaries"] = typed.beneficiaries(("B1", "特困", "P1", "2026-04-02", "2026-05-30"))
    scores = run(tables).scores
    assert not scores.loc[0, "gradable"]
    assert "应服务人月" in scores.loc[0, "reason"]


def test_bootstrap_interval_is_reproducible_and_brackets_the_score():
    first = run(worked_tables()).scores.set_index("provider_id").loc["P1"]
    again = run(worked_tables()).scores.set_index("provider_id").loc["P1"]
    assert (first["score_ci_low"], first["score_ci_high"]) == (again["score_ci_low"], again["score_ci_high"])
    assert Decimal(first["score_ci_low"]) < Decimal(first["score"]) < Decimal(first["score_ci_high"])
    # 67.65 with a wide interval (6 months, 10 surveys) crosses the 60 edge
    assert first["near_band_edge"]


def test_a_sure_score_is_not_near_a_band_edge():
    scores = run(simple_tables([5] * 200 + [1] * 10)).scores
    # S = 60 + 0.4 x 95.24 = 98.10, the interval stays above 90
    assert scores.loc[0, "grade"] == "优秀"
    assert not scores.loc[0, "near_band_edge"]


@pytest.mark.parametrize("visits,expected", [(2, D("66.67")), (3, D("100.00")), (4, D("100.00"))])
def test_volume_counts_months_with_enough_visits(visits, expected):
    tables = simple_tables([5] * 40)
    april = tables["services"][tables["services"]["started_at"].dt.month == 4]
    rest = tables["services"][tables["services"]["started_at"].dt.month != 4]
    extra = typed.services(*[(f"X{i}", "B1", "P1", "C01", f"2026-04-{20 + i} 09:00", 1)
                             for i in range(max(0, visits - 3))])
    tables["services"] = typed.concat(april.head(min(visits, 3)), extra, rest)
    # June and May met; April met only with >= 3 visits
    assert run(tables).scores.loc[0, "volume_score"] == expected


def test_planned_against_paid_worked_by_hand():
    # Four contracts: planned 1000.00 paid in two vouchers (600 + 400); planned 500.00 paid 370.00
    # (130.00 short); held with nothing paid; planned 200.00 paid 250.00 (50.00 to recover).
    from decimal import Decimal as D

    from scoring.engine.paid import paid_table

    payments = pd.DataFrame({
        "provider_id": ["A", "B", "C", "E"], "provider_name": ["甲", "乙", "丙", "戊"],
        "contract_id": ["H1", "H2", "H3", "H5"],
        "total_to_pay": [D("1000.00"), D("500.00"), D("0.00"), D("200.00")],
        "status": ["", "", "held", ""], "reason": ["", "", "本季度没有回访", ""]})
    vouchers = pd.DataFrame({
        "contract_id": ["H1", "H2", "H1", "H5"],
        "paid_on": pd.to_datetime(["2026-10-20", "2026-10-21", "2026-11-02", "2026-10-20"]),
        "amount": [D("600.00"), D("370.00"), D("400.00"), D("250.00")], "voucher_no": ["1", "2", "3", "4"]})
    table = paid_table(payments, vouchers).set_index("contract_id")
    assert table.loc["H1", ["paid", "difference", "vouchers", "last_paid_on", "status"]].tolist() == [
        D("1000.00"), D("0.00"), 2, "2026-11-02", "paid"]
    assert table.loc["H2", ["paid", "difference", "status"]].tolist() == [D("370.00"), D("-130.00"), "part_paid"]
    assert "尚差 130.00 元" in table.at["H2", "reason"]
    assert table.loc["H3", ["paid", "vouchers", "last_paid_on", "status"]].tolist() == [D("0.00"), 0, "", "held"]
    assert table.at["H3", "reason"] == "暂缓拨付:本季度没有回访"
    assert table.loc["H5", ["difference", "status"]].tolist() == [D("50.00"), "overpaid"]
    nothing = paid_table(payments, None)
    assert set(nothing["status"]) == {"planned", "held"} and all(nothing["paid"] == D("0.00"))
