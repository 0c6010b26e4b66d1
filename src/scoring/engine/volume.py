"""Volume: which required beneficiary-months got their visits, and V per provider.

METHODOLOGY.md: a visit is a completed services row started in m, for b, by p;
V = 100 x (required months whose visits >= required visits) / (required months).
"""

from __future__ import annotations

import pandas as pd


def months_met(required: pd.DataFrame, record_hours: pd.DataFrame) -> pd.DataFrame:
    """Each required beneficiary-month with its visits, delivered seconds, and whether it was met."""
    keys = ["provider_id", "beneficiary_id", "month"]
    delivered = (
        record_hours.groupby(keys, sort=False)
        .agg(visits=("record_id", "size"), delivered_seconds=("counted_seconds", "sum"))
        .reset_index()
    )
    out = required.merge(delivered, on=keys, how="left")
    out["visits"] = out["visits"].fillna(0).astype("int64")
    out["delivered_seconds"] = out["delivered_seconds"].fillna(0).astype("int64")
    out["met"] = out["visits"] >= out["required_visits"]
    return out
