"""Composite score, point deductions and grade (METHODOLOGY.md, "Composite, deductions, grade")."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from scoring.engine.money import round_half_up, to_decimal
from scoring.inputs.rules import Rules
from scoring.inputs.schema import GRADES


def exact(value: float | int | Decimal) -> Fraction:
    """A rule value as an exact fraction of what was written (0.3 -> 3/10)."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def raw_score(hours: Fraction, volume: Fraction, quality: Fraction, rules: Rules) -> Fraction:
    w = rules.weights
    return exact(w.hours) * hours + exact(w.volume) * volume + exact(w.quality) * quality


def point_deduction(falsified: int, substantiated: int, rules: Rules) -> Fraction:
    points = exact(rules.points_per_falsified) * falsified + exact(
        rules.points_per_substantiated_complaint
    ) * substantiated
    return min(points, exact(rules.max_point_deduction))


def final_score(raw: Fraction, deduction: Fraction) -> Decimal:
    """S = raw - deductions, clamped to [0, 100], rounded half-up to 2 decimals."""
    clamped = min(max(raw - deduction, Fraction(0)), Fraction(100))
    return round_half_up(to_decimal(clamped), 2)


def band(score: Decimal, rules: Rules) -> str:
    """The grade of a rounded score: the best band whose lower edge it reaches."""
    for grade, edge in rules.grade_bands.items():
        if score >= to_decimal(edge):
            return grade
    return GRADES[-1]


def capped(grade: str, falsified: int, rules: Rules) -> str:
    """Any falsified finding caps the grade at falsified_grade_cap."""
    if falsified and GRADES.index(grade) < GRADES.index(rules.falsified_grade_cap):
        return rules.falsified_grade_cap
    return grade


def near_band_edge(low: float, high: float, rules: Rules) -> bool:
    """True when the interval [low, high] crosses a band edge: the grade could be another."""
    return any(low < edge <= high for edge in rules.grade_bands.values())
