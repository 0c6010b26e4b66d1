"""The spending report (METHODOLOGY.md): the quarter's spend against the per-capita standard."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from scoring.engine.money import ZERO, round_half_up
from scoring.engine.required import enrolment, quarter_months
from scoring.engine.tables import conform
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules

SPENDING_COLUMNS = [
    "spend", "avg_beneficiaries", "per_capita_annual", "per_capita_standard",
    "ratio_to_standard", "spend_per_service", "spend_per_hour",
    # extras
    "difference_to_standard", "release", "escort_subsidy", "care_allowance",
    "completed_services", "hours_delivered",
]


def _money(column: pd.Series) -> Decimal:
    return sum((v for v in column if v is not None), ZERO)


def average_beneficiaries(beneficiaries: pd.DataFrame, quarter: Quarter) -> Decimal:
    """E: the mean over the quarter's three months of the number enrolled on any day of the month."""
    _, enrolled_any_day = enrolment(beneficiaries, quarter_months(quarter))
    return Decimal(int(enrolled_any_day.sum())) / Decimal(len(quarter.months()))


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
    rounded = round_half_up
    row = {
        "spend": rounded(spend),
        "avg_beneficiaries": rounded(enrolled),
        "per_capita_annual": None if per_capita is None else rounded(per_capita),
        "per_capita_standard": rounded(standard),
        "ratio_to_standard": None if per_capita is None else rounded(per_capita / standard, 4),
        "spend_per_service": rounded(spend / completed_services) if completed_services else None,
        "spend_per_hour": rounded(spend / hours) if hours else None,
        "difference_to_standard": None if per_capita is None else rounded(rounded(per_capita) - standard),
        "release": rounded(release), "escort_subsidy": rounded(escort), "care_allowance": rounded(care),
        "completed_services": int(completed_services), "hours_delivered": rounded(hours),
    }
    return conform(pd.DataFrame([row], columns=SPENDING_COLUMNS), "spending")
