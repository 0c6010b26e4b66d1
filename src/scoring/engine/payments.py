"""Payment release (METHODOLOGY.md): amount due pro rata by contract days, payout ratio by grade,
monetary deductions, release and withheld, and the optional escort and care-tier lines.

All money is Decimal and rounded half-up to the cent by `money.yuan`, once per figure.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from scoring.engine.money import ZERO, round_half_up, to_decimal, yuan
from scoring.engine.required import beneficiary_months
from scoring.engine.tables import conform
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules

HELD = "held"
PRELIMINARY = "preliminary"
PAYMENT_COLUMNS = [
    "provider_id", "contract_id", "amount_due", "grade", "payout_ratio", "monetary_deduction",
    "release", "withheld", "escort_subsidy", "care_allowance", "status",
    # extras
    "provider_name", "contract_days", "contract_days_in_quarter", "score", "reason",
    "escort_days", "care_months", "total_to_pay",
]


def contract_days(provider: pd.Series, quarter: Quarter) -> tuple[int, int]:
    """Days of the contract in all, and inside the quarter (both ends inclusive)."""
    start, end = provider["contract_start"].date(), provider["contract_end"].date()
    total = (end - start).days + 1
    inside = (min(end, quarter.last_day) - max(start, quarter.first_day)).days + 1
    return total, max(0, inside)


def amount_due(contract_amount: Decimal, days_inside: int, days_total: int) -> Decimal:
    return yuan(contract_amount * days_inside / Decimal(days_total))


def escort_rows(record_hours: pd.DataFrame, services: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each escort record that is paid: provider, beneficiary, hospital level, days, rate and
    subsidy = days x escort_rates[hospital level] (the workbook's detail and payee list)."""
    columns = ["provider_id", "beneficiary_id", "record_id", "hospital_level", "units", "rate", "subsidy"]
    if rules.escort_rates is None:
        return pd.DataFrame(columns=columns)
    days = record_hours[record_hours["unit"] == "天"].merge(
        services[["record_id", "hospital_level"]], on="record_id", how="left")
    days = days[days["hospital_level"].isin(list(rules.escort_rates))]
    rate = days["hospital_level"].map(rules.escort_rates)
    days = days.assign(rate=rate, subsidy=[to_decimal(u) * r for u, r in zip(days["units"], rate)])
    return days[columns].reset_index(drop=True)


def escort_lines(record_hours: pd.DataFrame, services: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per provider: escort person-days and subsidy = units x escort_rates[hospital level]."""
    if rules.escort_rates is None:
        return pd.DataFrame(columns=["provider_id", "escort_days", "escort_subsidy"])
    return (escort_rows(record_hours, services, rules).groupby("provider_id")
            .agg(escort_days=("units", "sum"), escort_subsidy=("subsidy", lambda s: sum(s, ZERO)))
            .reset_index())


def care_rows(beneficiaries: pd.DataFrame, quarter: Quarter, rules: Rules) -> pd.DataFrame:
    """Each beneficiary-month with a care allowance: fully enrolled, at a care level with a rate."""
    columns = ["provider_id", "beneficiary_id", "month", "care_level", "allowance"]
    if rules.care_tier_rates is None:
        return pd.DataFrame(columns=columns)
    months = beneficiary_months(beneficiaries, quarter)
    months = months[months["fully_enrolled"] & months["care_level"].isin(list(rules.care_tier_rates))]
    return months.assign(allowance=months["care_level"].map(rules.care_tier_rates))[columns].reset_index(drop=True)


def care_lines(beneficiaries: pd.DataFrame, quarter: Quarter, rules: Rules) -> pd.DataFrame:
    """Per provider: fully enrolled months x care_tier_rates[care level] of its beneficiaries."""
    if rules.care_tier_rates is None:
        return pd.DataFrame(columns=["provider_id", "care_months", "care_allowance"])
    return (care_rows(beneficiaries, quarter, rules).groupby("provider_id")
            .agg(care_months=("month", "size"), care_allowance=("allowance", lambda s: sum(s, ZERO)))
            .reset_index())


def payment_table(
    providers: pd.DataFrame, scores: pd.DataFrame, inspections: pd.DataFrame,
    escort: pd.DataFrame, care: pd.DataFrame, quarter: Quarter, rules: Rules,
) -> pd.DataFrame:
    """payments.csv: one row per provider. `inspections` carry provider_id (quality.inspection_findings)."""
    graded = scores.set_index("provider_id")
    deductions = inspections.groupby("provider_id")["deduction_yuan"].agg(lambda s: sum(s, ZERO))
    escort = escort.set_index("provider_id")
    care = care.set_index("provider_id")
    rows = []
    for _, p in providers.sort_values("provider_id", kind="stable").iterrows():
        pid = p["provider_id"]
        total_days, inside = contract_days(p, quarter)
        due = amount_due(p["contract_amount"], inside, total_days)
        deduction = yuan(deductions.get(pid, ZERO))
        score = graded.loc[pid]
        grade = score["grade"]
        if score["gradable"]:
            ratio = rules.payout_ratios[grade]
            release = max(ZERO, yuan(due * ratio - deduction))
            status, payout_ratio = PRELIMINARY, round_half_up(ratio, 2)
        else:
            release, status, payout_ratio = ZERO, HELD, None
        escort_subsidy = yuan(escort["escort_subsidy"].get(pid, ZERO)) if rules.escort_rates else None
        care_allowance = yuan(care["care_allowance"].get(pid, ZERO)) if rules.care_tier_rates else None
        rows.append({
            "provider_id": pid, "contract_id": p["contract_id"], "amount_due": due,
            "grade": grade, "payout_ratio": payout_ratio, "monetary_deduction": deduction,
            "release": release, "withheld": yuan(due - release),
            "escort_subsidy": escort_subsidy, "care_allowance": care_allowance,
            "status": status, "provider_name": p["name"], "contract_days": total_days,
            "contract_days_in_quarter": inside, "score": score["score"], "reason": score["reason"],
            "escort_days": float(escort["escort_days"].get(pid, 0)) if rules.escort_rates else None,
            "care_months": int(care["care_months"].get(pid, 0)) if rules.care_tier_rates else None,
            "total_to_pay": yuan(release + (escort_subsidy or ZERO) + (care_allowance or ZERO)),
        })
    return conform(pd.DataFrame(rows, columns=PAYMENT_COLUMNS), "payments")
