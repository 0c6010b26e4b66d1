"""Hours: what each completed record counts for, and the hours score H per provider.

METHODOLOGY.md: for unit 天, units x hours_per_day; otherwise ended_at - started_at, capped at
max_hours_per_record. H = 100 x min(1, D / R).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from scoring.inputs.rules import Rules
from scoring.inputs.schema import DAY_UNIT


def visits(services: pd.DataFrame, catalog: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """Completed service rows with their catalog unit and the quarter month they started in."""
    done = services[services["status"] == "completed"]
    done = done.merge(catalog[["item_code", "unit"]], on="item_code", how="left")
    # Month labels through an integer key: strftime on a million rows costs seconds.
    started = done["started_at"]
    key = started.dt.year.to_numpy() * 100 + started.dt.month.to_numpy()
    labels = {m.year * 100 + m.month: str(m) for m in (
        pd.Timestamp(f).to_period("M") for f in months["month_first"])}
    done = done.assign(month=pd.Series(key, index=done.index).map(labels))
    return done[done["month"].notna()].reset_index(drop=True)


def record_hours(visits: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per completed record: the raw duration, the hours counted, and whether the cap applied.

    Hours are kept as exact seconds (int64) so that sums are exact; day units count
    units x hours_per_day whatever the clock times say."""
    is_day = visits["unit"] == DAY_UNIT
    duration = (visits["ended_at"] - visits["started_at"]).dt.total_seconds().round().astype("int64")
    cap = int(round(rules.max_hours_per_record * 3600))
    day_seconds = np.round(visits["units"].to_numpy(dtype="float64") * rules.hours_per_day * 3600)
    counted = np.where(is_day, day_seconds, np.minimum(duration, cap)).astype("int64")
    return pd.DataFrame({
        "record_id": visits["record_id"],
        "provider_id": visits["provider_id"],
        "beneficiary_id": visits["beneficiary_id"],
        "month": visits["month"],
        "item_code": visits["item_code"],
        "unit": visits["unit"],
        "units": visits["units"],
        "raw_seconds": duration,
        "counted_seconds": counted,
        "capped": (~is_day) & (duration > cap),
    })


def hours_score(delivered_seconds: int, hours_required: Fraction) -> Fraction:
    """H = 100 x min(1, D / R) as an exact fraction (R > 0)."""
    delivered = Fraction(int(delivered_seconds), 3600)
    return 100 * min(Fraction(1), delivered / hours_required)
