"""The spending report (METHODOLOGY.md): the quarter's spend against the per-capita standard."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from scoring.engine.money import ZERO, round_half_up, text
from scoring.inputs.months import Quarter
from scoring.engine.required import beneficiary_months
from scoring.inputs.rules import Rules

SPENDING_COLUMNS = [
    "spend", "avg_beneficiaries", "per_capita_annual", "per_capita_standard",
    "ratio_to_standard", "spend_per_service", "spend_per_hour",
    # extras
    "difference_to_standard", "release", "escort_subsidy", "care_allowance",
    "completed_services", "hours_delivered",
]


def _money(column: pd.Series) -> Decimal:
    return sum((Decimal(v) for v in column if v != ""), ZERO)


def average_beneficiaries(beneficiaries: pd.DataFrame, quarter: Quarter) -> Decimal:
    """E: the mean over the quarter's three months of the number enrolled on any day of the month."""
    months = beneficiary_months(beneficiaries, quarter)
    per_month = months.groupby("month")["enrolled_any_day"].sum()
    return Decimal(int(per_month.sum())) / Decimal(len(quarter.months()))


def spending_table(
    payments: pd.DataFrame, beneficiaries: pd.DataFrame, completed_services: int,
    delivered_seconds: int, quarter: Quarter, rules: Rules,
) -> pd.DataFrame:
    release = _money(payments["release"])
    escort = _money(payments["escort_subsidy"])
    care = _money(payments["care_allowance"])
    spend = release + escort + care
    enrolled = average_beneficiaries(beneficiaries, quarter)
    per_capita = spend * 4 / enrolled if enrolled else None
    standard = rules.per_capita_standard
    hours = Decimal(int(delivered_seconds)) / Decimal(3600)
    row = {
        "spend": text(spend),
        "avg_beneficiaries": text(enrolled),
        "per_capita_annual": "" if per_capita is None else text(per_capita),
        "per_capita_standard": text(standard),
        "ratio_to_standard": "" if per_capita is None else text(per_capita / standard, 4),
        "spend_per_service": text(spend / completed_services) if completed_services else "",
        "spend_per_hour": text(spend / hours) if hours else "",
        "difference_to_standard": "" if per_capita is None else text(round_half_up(per_capita) - standard),
        "release": text(release), "escort_subsidy": text(escort), "care_allowance": text(care),
        "completed_services": int(completed_services), "hours_delivered": text(hours),
    }
    return pd.DataFrame([row], columns=SPENDING_COLUMNS)
