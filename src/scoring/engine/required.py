"""Who must be served, and how often: the required beneficiary-months of each provider.

METHODOLOGY.md: b is fully enrolled in month m when enrolled_on <= m's first day and exited_on is
empty or >= m's last day; (b, m) is required of p when b is fully enrolled, enrolled with p, and
p's contract covers all of m. Partial months carry no requirement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules

MONTH_COLUMNS = ["month", "month_first", "month_last"]


def quarter_months(quarter: Quarter) -> pd.DataFrame:
    """One row per month of the quarter: label and first/last day as timestamps."""
    return pd.DataFrame({
        "month": [str(m) for m in quarter.months()],
        "month_first": [pd.Timestamp(m.first_day) for m in quarter.months()],
        "month_last": [pd.Timestamp(m.last_day) for m in quarter.months()],
    })


def enrolment(beneficiaries: pd.DataFrame, months: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(beneficiary x month) grids: fully enrolled in the month, and enrolled on any day of it.

    numpy datetime comparisons, like pandas', are false against a missing date."""
    first = months["month_first"].to_numpy()[None, :]
    last = months["month_last"].to_numpy()[None, :]
    enrolled = beneficiaries["enrolled_on"].to_numpy()[:, None]
    exited = beneficiaries["exited_on"].to_numpy()[:, None]
    still_there = np.isnat(exited)
    fully = (enrolled <= first) & (still_there | (exited >= last))
    any_day = (enrolled <= last) & (still_there | (exited >= first))
    return fully, any_day


def beneficiary_months(beneficiaries: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Every (beneficiary, month) of the quarter with how the beneficiary was enrolled in it.

    Beneficiary-major, months in order (what a cross merge gives), built by repeating rows:
    a cross merge hashes a constant key and costs several times more."""
    columns = ["beneficiary_id", "provider_id", "category", "care_level", "enrolled_on", "exited_on"]
    months = quarter_months(quarter)
    n, k = len(beneficiaries), len(months)
    people = beneficiaries[columns].take(np.repeat(np.arange(n), k)).reset_index(drop=True)
    calendar = months.take(np.tile(np.arange(k), n)).reset_index(drop=True)
    fully, any_day = enrolment(beneficiaries, months)  # row-major: beneficiary-major, like the pairs
    return pd.concat([people, calendar], axis=1).assign(
        fully_enrolled=fully.ravel(), enrolled_any_day=any_day.ravel())


def required_months(
    beneficiaries: pd.DataFrame, providers: pd.DataFrame, quarter: Quarter, rules: Rules
) -> pd.DataFrame:
    """The required beneficiary-months, with the visits and hours each requires.

    Computed on a (beneficiary x month) grid of numpy arrays: a county has a few thousand
    beneficiaries, so pandas' per-operation cost, not the arithmetic, is what a merge costs."""
    months = quarter_months(quarter)
    first = months["month_first"].to_numpy()[None, :]
    last = months["month_last"].to_numpy()[None, :]
    fully_enrolled, _ = enrolment(beneficiaries, months)
    # The contract of each beneficiary's provider by index lookup: provider_id is the providers'
    # key (get_indexer refuses duplicates rather than multiplying rows as a merge would), and
    # beneficiaries of an unknown provider drop out, as in an inner merge.
    contract = pd.Index(providers["provider_id"]).get_indexer(beneficiaries["provider_id"])
    known = (contract >= 0)[:, None]
    starts = providers["contract_start"].to_numpy()[contract][:, None]
    ends = providers["contract_end"].to_numpy()[contract][:, None]
    covered = known & (starts <= first) & (ends >= last)
    person, month = np.nonzero(fully_enrolled & covered)  # beneficiary-major, months in order
    category = beneficiaries["category"].to_numpy()[person]
    visits = {c: rules.visits_required(c) for c in pd.unique(category)}
    required_visits = pd.Series(category).map(visits).astype("int64").to_numpy()
    keep = required_visits > 0
    person, month, category, required_visits = (
        person[keep], month[keep], category[keep], required_visits[keep])
    # Sorted by provider, beneficiary and month as sort_values(kind="stable") sorts them, from
    # each beneficiary's and month's rank: sorting every row's texts cost more than the rest.
    order = np.lexsort((_ranks(months["month"].to_numpy())[month],
                        _ranks(beneficiaries["beneficiary_id"].to_numpy())[person],
                        _ranks(beneficiaries["provider_id"].to_numpy())[person]))
    person, month, category, required_visits = (
        person[order], month[order], category[order], required_visits[order])
    return pd.DataFrame({
        "provider_id": beneficiaries["provider_id"].to_numpy()[person],
        "beneficiary_id": beneficiaries["beneficiary_id"].to_numpy()[person],
        "month": months["month"].to_numpy()[month],
        "category": category,
        "required_visits": required_visits,
        "hours_required": required_visits * rules.standard_visit_hours,
    })


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's place among the sorted distinct values (missing ones last), the key that
    sort_values orders a column by; np.lexsort, like it, is stable."""
    codes, distinct = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(distinct), codes)
