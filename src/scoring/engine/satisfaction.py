"""The satisfaction report: rate of satisfied answers with a Wilson 95% interval, per provider
and for the region (`ALL`), the 样本不足 flag, and the distribution of answers 1-5.

Rates and interval bounds are percentages (Decimal, 2 decimals), like the scores; None without
surveys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from scoring.engine.money import round_half_up
from scoring.engine.tables import conform
from scoring.inputs.rules import Rules

ALL = "ALL"
SMALL_SAMPLE = "样本不足"
SATISFACTION_COLUMNS = [
    "provider_id", "surveys", "satisfied", "rate", "ci_low", "ci_high", "small_sample",
    "n1", "n2", "n3", "n4", "n5",
]


def wilson(satisfied: int, surveys: int) -> tuple[float, float]:
    ci = binomtest(satisfied, surveys).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def _row(provider_id: str, answers: np.ndarray, rules: Rules) -> dict:
    n = int(len(answers))
    k = int((answers >= rules.satisfied_at_least).sum())
    row = {"provider_id": provider_id, "surveys": n, "satisfied": k,
           "rate": None, "ci_low": None, "ci_high": None, "small_sample": n < rules.min_surveys,
           **{f"n{i}": int((answers == i).sum()) for i in range(1, 6)}}
    if n:
        low, high = wilson(k, n)
        row.update(rate=round_half_up(100 * k / n), ci_low=round_half_up(100 * low),
                   ci_high=round_half_up(100 * high))
    return row


def satisfaction_table(providers: pd.DataFrame, surveys: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per provider (those without surveys included), then the region's `ALL` row."""
    # A mask per provider over a few hundred answers: cheaper than iterating a groupby, and
    # every figure is a count, whatever the order.
    answers = surveys["overall"].to_numpy()
    owners = surveys["provider_id"].to_numpy(dtype=object)
    rows = [_row(pid, answers[owners == pid], rules) for pid in sorted(providers["provider_id"])]
    rows.append(_row(ALL, answers, rules))
    return conform(pd.DataFrame(rows, columns=SATISFACTION_COLUMNS), "satisfaction")
