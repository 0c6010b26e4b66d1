"""Grade confidence: a bootstrap 95% interval for each provider's score.

Resampling units (METHODOLOGY.md): required beneficiary-months (carrying their visits and the
hours delivered in them), surveys, inspections and tickets, each within the provider. Binary
shares are drawn as binomials and categorical ones as multinomials, which is exactly what
resampling those rows with replacement gives; beneficiary-months are resampled by index. All of
it is vectorised over the resamples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from scoring.inputs.rules import Rules

CHUNK_CELLS = 20_000_000  # resample-by-month draws held at once (bounds memory)


@dataclass(frozen=True)
class ResamplingUnits:
    """What one provider's score was made from, as arrays."""

    month_delivered_seconds: np.ndarray  # per required month
    month_required_hours: np.ndarray
    month_met: np.ndarray  # bool
    other_delivered_seconds: int  # hours delivered outside required months (kept fixed)
    surveys: int
    satisfied: int
    inspections: int
    passed: int
    falsified: int
    tickets: int
    in_time_substantiated: int
    in_time_not_substantiated: int
    late_substantiated: int
    late_not_substantiated: int


def provider_rng(rules: Rules, provider_id: str) -> np.random.Generator:
    """A generator fixed by the rules' seed and the provider, so row order never matters."""
    digest = int.from_bytes(hashlib.sha256(provider_id.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([rules.bootstrap_seed, digest]))


GATHER_CELLS = 1 << 16  # draws gathered at once: a block that stays in cache
DOUBLE_EXACT = 1 << 53  # integers up to here are exact in float64, summed in any order
DYADIC_PLACES = 10  # required hours are packed as multiples of 2**-j, j <= this


def _packed_months(ev: ResamplingUnits) -> tuple[np.ndarray, tuple[int, int], int] | None:
    """The three per-month values packed into one int64 (delivered, required units, met), or None.

    One gather and one integer sum then replace three gathers and three sums. Only when every
    sum is exact either way: delivered seconds and required hours are non-negative integer
    multiples of 1 and 2**-j whose totals stay below 2**53, so float64 sums (in numpy's pairwise
    order) are exact and equal to the integer sums; each field is wide enough for n of its maximum."""
    n = len(ev.month_met)
    delivered = np.asarray(ev.month_delivered_seconds)
    required = np.asarray(ev.month_required_hours, dtype="float64")
    if n == 0 or not (np.all(delivered >= 0) and np.all(delivered == np.floor(delivered))):
        return None
    places = next((j for j in range(DYADIC_PLACES + 1)
                   if np.all(np.ldexp(required, j) == np.floor(np.ldexp(required, j)))), None)
    if places is None or not np.all(required >= 0):
        return None
    fields = [delivered.astype(np.int64), np.ldexp(required, places).astype(np.int64),
              np.asarray(ev.month_met, dtype=np.int64)]
    totals = [int(f.max()) * n for f in fields]
    if totals[0] >= DOUBLE_EXACT or totals[1] >= DOUBLE_EXACT:
        return None
    widths = [t.bit_length() for t in totals]
    if sum(widths) > 63:
        return None
    shifts = (widths[2] + widths[1], widths[2])
    packed = (fields[0] << shifts[0]) | (fields[1] << shifts[1]) | fields[2]
    return packed, shifts, places


def _months(ev: ResamplingUnits, rng: np.random.Generator, draws: int, rules: Rules):
    n = len(ev.month_met)
    hours, volume = np.empty(draws), np.empty(draws)
    packing = _packed_months(ev)
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, draws, step):
        size = min(step, draws - start)
        idx = rng.integers(0, n, size=(size, n), dtype=np.int32)  # int32: ~3x faster to draw
        if packing is None:
            delivered = ev.month_delivered_seconds[idx].sum(axis=1) + ev.other_delivered_seconds
            required = ev.month_required_hours[idx].sum(axis=1)
            met = ev.month_met[idx].sum(axis=1)
        else:
            delivered, required, met = _packed_sums(packing, idx)
            delivered += ev.other_delivered_seconds
        hours[start:start + size] = 100 * np.minimum(1.0, delivered / 3600 / required)
        volume[start:start + size] = 100 * met / n
    return hours, volume


def _packed_sums(packing, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resample (row of idx): delivered seconds, required hours and months met, exactly."""
    packed, (delivered_shift, required_shift), places = packing
    size, n = idx.shape
    rows = max(1, GATHER_CELLS // n)
    sums = np.empty(size, dtype=np.int64)
    block = np.empty((min(rows, size), n), dtype=np.int64)
    for start in range(0, size, rows):
        stop = min(start + rows, size)
        gathered = block[:stop - start]
        np.take(packed, idx[start:stop], out=gathered)
        gathered.sum(axis=1, out=sums[start:stop])
    required_mask = (1 << (delivered_shift - required_shift)) - 1
    met_mask = (1 << required_shift) - 1
    required_units = (sums >> required_shift) & required_mask
    return sums >> delivered_shift, np.ldexp(required_units.astype("float64"), -places), sums & met_mask


def bootstrap_scores(ev: ResamplingUnits, rules: Rules, rng: np.random.Generator) -> np.ndarray:
    """`bootstrap_resamples` resampled scores S* (before rounding)."""
    draws = rules.bootstrap_resamples
    hours, volume = _months(ev, rng, draws, rules)
    qw = rules.quality_weights
    weighted, weight = np.zeros(draws), 0.0
    if ev.surveys:
        weighted += qw.satisfaction * 100 * rng.binomial(ev.surveys, ev.satisfied / ev.surveys, draws) / ev.surveys
        weight += qw.satisfaction
    falsified = np.zeros(draws)
    if ev.inspections:
        p = np.array([ev.passed, ev.falsified, ev.inspections - ev.passed - ev.falsified]) / ev.inspections
        counts = rng.multinomial(ev.inspections, p, size=draws)
        weighted += qw.inspections * 100 * counts[:, 0] / ev.inspections
        weight += qw.inspections
        falsified = counts[:, 1]
    substantiated = np.zeros(draws)
    if ev.tickets:
        cells = np.array([ev.in_time_substantiated, ev.in_time_not_substantiated,
                          ev.late_substantiated, ev.late_not_substantiated]) / ev.tickets
        counts = rng.multinomial(ev.tickets, cells, size=draws)
        weighted += qw.complaints * 100 * (counts[:, 0] + counts[:, 1]) / ev.tickets
        weight += qw.complaints
        substantiated = counts[:, 0] + counts[:, 2]
    quality = weighted / weight if weight else np.zeros(draws)
    w = rules.weights
    raw = w.hours * hours + w.volume * volume + w.quality * quality
    deduction = np.minimum(
        rules.points_per_falsified * falsified + rules.points_per_substantiated_complaint * substantiated,
        rules.max_point_deduction,
    )
    return np.clip(raw - deduction, 0, 100)


def interval(ev: ResamplingUnits, rules: Rules, provider_id: str) -> tuple[float, float]:
    """The 95% percentile interval of the resampled scores."""
    scores = bootstrap_scores(ev, rules, provider_rng(rules, provider_id))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)
