"""Properties of the scoring engine that must hold for any input (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import typed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine.grade import band
from scoring.engine.payments import amount_due
from scoring.engine.pipeline import score_quarter
from scoring.inputs.months import Quarter
from scoring.inputs.rules import RegionConfig, Rules
from scoring.inputs.schema import GRADES

Q2 = Quarter(2026, 2)
FAST = Rules(bootstrap_resamples=200)
CATEGORIES = ["特困", "低保", "重度残疾人", "经济困难老年人"]


@st.composite
def regions(draw):
    """A small random region of 1-3 providers with random visits, surveys, tickets, inspections."""
    n_providers = draw(st.integers(1, 3))
    providers = []
    for p in range(n_providers):
        start = draw(st.sampled_from(["2025-10-01", "2026-01-01", "2026-05-15", "2026-04-01"]))
        providers.append((f"P{p}", f"机构{p}", f"HT{p}", start, "2027-03-31",
                          f"{draw(st.integers(1000, 500000))}.{draw(st.integers(0, 99)):02d}", 5))
    beneficiaries, services, surveys = [], [], []
    for b in range(draw(st.integers(1, 8))):
        pid = f"P{draw(st.integers(0, n_providers - 1))}"
        enrolled = draw(st.sampled_from(["2025-01-01", "2026-04-10", "2026-05-01"]))
        exited = draw(st.sampled_from([None, "2026-05-20", "2026-06-30"]))
        beneficiaries.append((f"B{b}", draw(st.sampled_from(CATEGORIES)), pid, enrolled, exited))
        for v in range(draw(st.integers(0, 9))):
            month = draw(st.integers(4, 6))
            day = draw(st.integers(1, 28))
            hours = draw(st.sampled_from([0.25, 0.5, 1, 2, 5]))
            status = draw(st.sampled_from(["completed", "completed", "completed", "cancelled", "no_show"]))
            services.append((f"R{b}-{v}", f"B{b}", pid, "C01", f"2026-{month:02d}-{day:02d} 09:00", hours, status))
    for p in range(n_providers):
        answers = draw(st.lists(st.integers(1, 5), min_size=0, max_size=40))
        surveys.append(typed.surveys(f"P{p}", answers))
    tickets = [
        (f"T{i}", f"P{draw(st.integers(0, n_providers - 1))}", "2026-05-01 10:00",
         draw(st.one_of(st.none(), st.integers(1, 200))), draw(st.sampled_from(["yes", "no", "pending"])))
        for i in range(draw(st.integers(0, 6)))
    ]
    records = [s[0] for s in services]
    findings = [
        (f"I{i}", draw(st.sampled_from(records)), draw(st.sampled_from(["pass", "poor", "falsified"])),
         f"{draw(st.integers(0, 800))}.00")
        for i in range(draw(st.integers(0, 5)) if records else 0)
    ]
    return {
        "providers": typed.providers(*providers),
        "catalog": typed.catalog(),
        "beneficiaries": typed.beneficiaries(*beneficiaries),
        "services": typed.services(*services) if services else typed.services(),
        "surveys": typed.concat(*surveys) if any(len(s) for s in surveys) else typed.surveys("P0", []),
        "complaints": typed.complaints(*tickets),
        "inspections": typed.inspections(*findings),
    }


def score(tables, rules: Rules = FAST):
    return score_quarter(tables, RegionConfig(name="测试县", code="360823", rules=rules), Q2, "t")


PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(regions())
def test_release_plus_withheld_is_amount_due_and_scores_in_range(tables):
    results = score(tables)
    for row in results.payments.itertuples(index=False):
        assert Decimal(row.release) + Decimal(row.withheld) == Decimal(row.amount_due)
        assert Decimal(row.release) >= 0
    for row in results.scores.itertuples(index=False):
        if row.gradable:
            assert Decimal(0) <= Decimal(row.score) <= Decimal(100)
            assert row.grade in GRADES
        else:
            assert row.grade == "" and row.reason


@PROPERTY
@given(regions(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(tables, random):
    shuffled = {}
    for name, table in tables.items():
        order = list(range(len(table)))
        random.shuffle(order)
        shuffled[name] = table.iloc[order].reset_index(drop=True)
    first, second = score(tables), score(shuffled)
    for name in ("scores", "satisfaction", "payments", "spending"):
        pd.testing.assert_frame_equal(first.tables()[name], second.tables()[name])


@PROPERTY
@given(regions(), st.integers(4, 6), st.integers(1, 28))
def test_adding_a_completed_visit_never_lowers_volume(tables, month, day):
    before = score(tables).scores.set_index("provider_id")
    beneficiary = tables["beneficiaries"].iloc[0]
    extra = typed.services(("EXTRA", beneficiary["beneficiary_id"], beneficiary["provider_id"], "C01",
                            f"2026-{month:02d}-{day:02d} 20:00", 1))
    tables["services"] = typed.concat(tables["services"], extra) if len(tables["services"]) else extra
    after = score(tables).scores.set_index("provider_id")
    pid = beneficiary["provider_id"]
    if before.loc[pid, "volume_score"]:
        assert Decimal(after.loc[pid, "volume_score"]) >= Decimal(before.loc[pid, "volume_score"])
        assert Decimal(after.loc[pid, "hours_score"]) >= Decimal(before.loc[pid, "hours_score"])


@given(st.decimals(0, 100, places=2), st.decimals(0, 100, places=2))
def test_grade_never_improves_when_the_score_falls(a, b):
    rules = Rules()
    high, low = max(a, b), min(a, b)
    assert GRADES.index(band(low, rules)) >= GRADES.index(band(high, rules))


@given(st.decimals(0, 10_000_000, places=2), st.integers(1, 1000), st.integers(1, 1000))
def test_amount_due_is_pro_rata_and_never_exceeds_the_contract(amount, a, b):
    inside, total = min(a, b), max(a, b)
    due = amount_due(amount, inside, total)
    assert Decimal(0) <= due <= amount
    assert abs(due - amount * inside / total) <= Decimal("0.005")
