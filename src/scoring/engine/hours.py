"""Hours: what each completed record counts for, and the hours score H per provider.

METHODOLOGY.md: for unit 天, units x hours_per_day; otherwise ended_at - started_at, capped at
max_hours_per_record. H = 100 x min(1, D / R). A completed row whose start date is before the
beneficiary's `enrolled_on` or after their `exited_on` is outside enrolment: it never counts
(`outside_enrolment` lists it for inspection).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from scoring.inputs.rules import Rules
from scoring.inputs.schema import DAY_UNIT


# The most one record can count: 92 days (validation's cap on escort days is at most a quarter) of
# 24 hours. Sums of int64 seconds stay exact below 2**63, i.e. for over 10**12 such records.
MAX_RECORD_SECONDS = 92 * 24 * 3600

# The services columns a visit's hours are counted from.
VISIT_COLUMNS = ["record_id", "provider_id", "beneficiary_id", "item_code", "units", "started_at", "ended_at"]


def visits(services: pd.DataFrame, catalog: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """Completed service rows (their `VISIT_COLUMNS`) with their catalog unit and the quarter
    month they started in.

    The rows are chosen first and only the columns the hours need are copied, one by one (the
    table is not consolidated: record_hours reads it a column at a time); the unit comes by
    index lookup on the catalog's key (get_indexer refuses a duplicated item_code rather than
    multiplying rows as a merge would; an unknown code gets a missing unit, as in a left merge)."""
    # Month through an integer key (months since 1970; NaT matches none): strftime on a million
    # rows costs seconds.
    started = services["started_at"].to_numpy().astype("datetime64[M]").astype("int64")
    firsts = [pd.Timestamp(f).to_period("M") for f in months["month_first"]]
    keys = np.array([(m.year - 1970) * 12 + m.month - 1 for m in firsts], dtype="int64")
    labels = np.array([str(m) for m in firsts], dtype=object)
    slot = pd.Index(keys).get_indexer(started)
    rows = np.flatnonzero((services["status"].to_numpy() == "completed") & (slot >= 0))
    done = {column: services[column].to_numpy()[rows] for column in VISIT_COLUMNS}
    code = pd.Index(catalog["item_code"]).get_indexer(done["item_code"])
    done["unit"] = take(catalog["unit"].to_numpy(), code, allow_fill=True)
    done["month"] = labels[slot[rows]]
    return pd.DataFrame(done, copy=False)  # arrays of its own


# The columns of the list of completed rows outside enrolment (trace/outside_enrolment.csv).
OUTSIDE_COLUMNS = ["record_id", "provider_id", "beneficiary_id", "month", "item_code", "started_at",
                   "enrolled_on", "exited_on", "side"]


def split_enrolment(visits: pd.DataFrame, beneficiaries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The visits inside their beneficiary's enrolment, and the list of those outside it.

    Outside means the start date is before `enrolled_on` ("before") or after `exited_on`
    ("after"); both ends are inclusive, so a visit on the day of enrolment or of exit counts. A
    beneficiary not on the roster has no enrolment to compare with (validation rejects such
    rows as broken references)."""
    roster = pd.Index(beneficiaries["beneficiary_id"]).get_indexer(visits["beneficiary_id"])
    known = roster >= 0
    enrolled = np.full(len(visits), np.datetime64("NaT"), dtype="datetime64[ns]")
    exited = enrolled.copy()
    enrolled[known] = beneficiaries["enrolled_on"].to_numpy(dtype="datetime64[ns]")[roster[known]]
    exited[known] = beneficiaries["exited_on"].to_numpy(dtype="datetime64[ns]")[roster[known]]
    day = visits["started_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype("datetime64[ns]")
    before, after = day < enrolled, day > exited  # NaT compares False: no bound on that side
    outside = before | after
    if not outside.any():
        return visits, pd.DataFrame({c: [] for c in OUTSIDE_COLUMNS}).astype(
            {"started_at": "datetime64[ns]", "enrolled_on": "datetime64[ns]", "exited_on": "datetime64[ns]"})
    listed = visits.loc[outside, ["record_id", "provider_id", "beneficiary_id", "month", "item_code",
                                  "started_at"]].assign(
        enrolled_on=enrolled[outside], exited_on=exited[outside],
        side=np.where(before[outside], "before", "after"))
    return visits.loc[~outside].reset_index(drop=True), listed.reset_index(drop=True)[OUTSIDE_COLUMNS]


def record_hours(visits: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per completed record: the raw duration, the hours counted, and whether the cap applied.

    Hours are kept as exact seconds (int64) so that sums are exact; day units count
    units x hours_per_day whatever the clock times say."""
    is_day = visits["unit"].isin([DAY_UNIT])  # equality by hash: pandas' object == costs 5x more
    elapsed = visits["ended_at"].to_numpy() - visits["started_at"].to_numpy()
    if np.isnat(elapsed).any():  # validation rejects such rows
        raise ValueError("a completed visit needs both its start and its end")
    # Whole seconds as dt.total_seconds().round() gives them (seconds in float64, rounded half
    # to even), on the NumPy array: the pandas Series operations cost 6x more.
    duration = np.round(elapsed / np.timedelta64(1, "s")).astype("int64")
    cap = int(round(rules.max_hours_per_record * 3600))
    day_seconds = np.round(visits["units"].to_numpy(dtype="float64") * rules.hours_per_day * 3600)
    if (day_seconds[is_day.to_numpy()] > MAX_RECORD_SECONDS).any():  # validation rejects such rows
        raise ValueError("a record counted in days counts more than a quarter's hours")
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
