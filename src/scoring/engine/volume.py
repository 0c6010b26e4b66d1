"""Volume: which required beneficiary-months got their visits, and V per provider.

METHODOLOGY.md: a visit is a completed services row started in m, for b, by p;
V = 100 x (required months whose visits >= required visits) / (required months).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["provider_id", "beneficiary_id", "month"]


def month_keys(required: pd.DataFrame, record_hours: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per (provider, beneficiary, month), shared by both tables; -1 where a part is missing.

    Grouping and merging on three string columns hashes every string several times; the codes
    are made once, and a missing part matches nothing (as groupby's dropna drops it)."""
    split = len(required)
    combined = np.zeros(split + len(record_hours), dtype=np.int64)
    missing = np.zeros(len(combined), dtype=bool)
    for key in KEYS:
        codes, uniques = pd.factorize(np.concatenate([required[key].to_numpy(dtype=object),
                                                      record_hours[key].to_numpy(dtype=object)]))
        combined = combined * max(len(uniques), 1) + codes
        missing |= codes < 0
    combined[missing] = -1
    return combined[:split], combined[split:]


def months_met(required: pd.DataFrame, record_hours: pd.DataFrame) -> pd.DataFrame:
    """Each required beneficiary-month with its visits, delivered seconds, and whether it was met."""
    wanted, done = month_keys(required, record_hours)
    counted = record_hours["counted_seconds"].to_numpy(dtype=np.int64)
    present = done >= 0
    keys, group = np.unique(done[present], return_inverse=True)
    visits_per_key = np.bincount(group, minlength=len(keys)).astype(np.int64)
    seconds_per_key = np.zeros(len(keys), dtype=np.int64)
    np.add.at(seconds_per_key, group, counted[present])  # exact integer seconds
    # A sentinel key above every code, holding nothing, so that every lookup lands somewhere.
    keys = np.append(keys, np.iinfo(np.int64).max)
    at = np.searchsorted(keys, wanted)
    found = keys[at] == wanted  # never for -1: the keys are codes >= 0
    visits = np.where(found, np.append(visits_per_key, 0)[at], 0)
    delivered = np.where(found, np.append(seconds_per_key, 0)[at], 0)
    met = required.assign(  # assign copies `required` once; reset_index would copy it again
        visits=visits, delivered_seconds=delivered, met=visits >= required["required_visits"].to_numpy())
    met.reset_index(drop=True, inplace=True)
    return met
