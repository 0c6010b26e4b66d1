"""Money and scores as decimals, rounded in one place (METHODOLOGY.md: half-up)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_decimal(value) -> Decimal:
    """Exact decimal of a number: floats go through their shortest repr (0.3 -> 0.3, not 0.2999…)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Fraction):
        with localcontext() as ctx:
            ctx.prec = 40
            return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):  # numpy floats too
        return Decimal(repr(float(value)))
    if hasattr(value, "item"):  # numpy integers
        return Decimal(value.item())
    return Decimal(value)


def round_half_up(value, places: int = 2) -> Decimal:
    """Round half-up to `places` decimals: 84.125 -> 84.13, 0.005 -> 0.01."""
    return to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def yuan(value) -> Decimal:
    """Money rounded half-up to the cent."""
    return round_half_up(value, 2)


def text(value, places: int = 2) -> str:
    """A decimal string with exactly `places` decimals, as the result tables write them."""
    return f"{round_half_up(value, places):.{places}f}"
