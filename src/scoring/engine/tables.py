"""The result tables' schemas, declared once: every column's type, and how it is written as text.

Inside the product the result tables are typed: money, scores and rates are `Decimal` already
rounded to their places (or None where there is no value), counts are integers, flags are
booleans (nullable where a value may be missing: `near_band_edge` of a provider that is not
gradable). Text exists only at the edges that write files: `as_text` gives SPEC.md's CSV cells
(decimal strings with their places, "" for missing values, True/False), and `arrow_schema` the
typed Parquet of the results layer. `conform` checks a table against its declaration where the
results layer is written; a mismatch is a bug in the engine, not a user error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow as pa


class Kind(StrEnum):
    TEXT = "text"  # str; "" when there is nothing to say
    COUNT = "count"  # int64, never missing
    OPTIONAL_COUNT = "optional_count"  # Int64: <NA> where the rule that makes it is not set
    DECIMAL = "decimal"  # Decimal with exactly `places` decimals, or None
    NUMBER = "number"  # float64 (NaN where missing); written in its shortest form
    BOOL = "bool"  # bool, never missing
    FLAG = "flag"  # nullable boolean: <NA> where it does not apply


@dataclass(frozen=True)
class Column:
    kind: Kind
    places: int = 2  # DECIMAL only


TEXT, COUNT, OPTIONAL_COUNT = Column(Kind.TEXT), Column(Kind.COUNT), Column(Kind.OPTIONAL_COUNT)
MONEY = SCORE = PERCENT = Column(Kind.DECIMAL, 2)
RATIO4, FOUR = Column(Kind.DECIMAL, 4), Column(Kind.DECIMAL, 4)
BOOL, FLAG, NUMBER = Column(Kind.BOOL), Column(Kind.FLAG), Column(Kind.NUMBER)

SCHEMAS: dict[str, dict[str, Column]] = {
    "scores": {
        "provider_id": TEXT, "provider_name": TEXT, "required_months": COUNT,
        "hours_delivered": Column(Kind.DECIMAL), "hours_required": Column(Kind.DECIMAL),
        "hours_score": SCORE, "volume_score": SCORE, "quality_score": SCORE,
        "satisfaction_component": SCORE, "inspection_component": SCORE,
        "complaint_component": SCORE, "point_deduction": SCORE, "score": SCORE, "grade": TEXT,
        "gradable": BOOL, "reason": TEXT, "score_ci_low": SCORE, "score_ci_high": SCORE,
        "near_band_edge": FLAG,
        "months_met": COUNT, "visits_completed": COUNT, "records_capped": COUNT, "surveys": COUNT,
        "satisfied": COUNT, "inspections": COUNT, "inspections_passed": COUNT,
        "falsified_findings": COUNT, "tickets": COUNT, "tickets_in_time": COUNT,
        "substantiated_complaints": COUNT, "score_raw": FOUR, "grade_before_cap": TEXT,
        "records_outside_enrolment": COUNT,
    },
    "satisfaction": {
        "provider_id": TEXT, "surveys": COUNT, "satisfied": COUNT, "rate": PERCENT,
        "ci_low": PERCENT, "ci_high": PERCENT, "small_sample": BOOL,
        **{f"n{i}": COUNT for i in range(1, 6)},
    },
    "payments": {
        "provider_id": TEXT, "contract_id": TEXT, "amount_due": MONEY, "grade": TEXT,
        "payout_ratio": Column(Kind.DECIMAL, 2), "monetary_deduction": MONEY, "release": MONEY,
        "withheld": MONEY, "escort_subsidy": MONEY, "care_allowance": MONEY, "status": TEXT,
        "provider_name": TEXT, "contract_days": COUNT, "contract_days_in_quarter": COUNT,
        "score": SCORE, "reason": TEXT, "escort_days": NUMBER, "care_months": OPTIONAL_COUNT,
        "total_to_pay": MONEY,
    },
    "paid": {
        "provider_id": TEXT, "provider_name": TEXT, "contract_id": TEXT, "planned": MONEY,
        "paid": MONEY, "difference": MONEY, "vouchers": COUNT, "last_paid_on": TEXT,
        "status": TEXT, "reason": TEXT,
    },
    "objections": {
        "objection_id": TEXT, "received_on": TEXT, "provider_id": TEXT, "about": TEXT,
        "summary": TEXT, "decision": TEXT, "decided_on": TEXT, "revision": OPTIONAL_COUNT,
    },
    "spending": {
        "spend": MONEY, "avg_beneficiaries": Column(Kind.DECIMAL), "per_capita_annual": MONEY,
        "per_capita_standard": MONEY, "ratio_to_standard": RATIO4, "spend_per_service": MONEY,
        "spend_per_hour": MONEY, "difference_to_standard": MONEY, "release": MONEY,
        "escort_subsidy": MONEY, "care_allowance": MONEY, "completed_services": COUNT,
        "hours_delivered": Column(Kind.DECIMAL),
    },
}

_DTYPES = {Kind.TEXT: object, Kind.COUNT: "int64", Kind.OPTIONAL_COUNT: "Int64",
           Kind.DECIMAL: object, Kind.NUMBER: "float64", Kind.BOOL: "bool", Kind.FLAG: "boolean"}


_NUMPY_KINDS = {Kind.COUNT, Kind.NUMBER, Kind.BOOL}  # declared dtypes that are plain numpy ones


class SchemaMismatch(AssertionError):
    """A result table does not match its declaration: a bug in the engine."""


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def conform(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table with its declared dtypes, in declared order; SchemaMismatch if a column is
    missing, unknown, or holds a value of the wrong kind (a decimal with other places...)."""
    schema = SCHEMAS[name]
    if list(table.columns) != list(schema):
        raise SchemaMismatch(f"{name}: columns {list(table.columns)} != declared {list(schema)}")
    out = {}
    for column, spec in schema.items():
        values = table[column]
        if spec.kind is Kind.DECIMAL:
            exponent = -spec.places
            cells = [None if _missing(v) else v for v in values]
            wrong = [v for v in cells if v is not None
                     and not (isinstance(v, Decimal) and v.as_tuple().exponent == exponent)]
            if wrong:
                raise SchemaMismatch(f"{name}.{column}: {wrong[:3]} are not decimals with {spec.places} places")
            out[column] = pd.Series(cells, index=table.index, dtype=object)
        elif spec.kind is Kind.TEXT:
            cells = values.to_numpy(dtype=object)
            wrong = [v for v in cells if not isinstance(v, str)]
            if wrong:
                raise SchemaMismatch(f"{name}.{column}: {wrong[:3]} are not text")
            out[column] = pd.Series(cells, index=table.index, dtype=object)
        elif spec.kind in _NUMPY_KINDS and values.dtype == np.dtype(_DTYPES[spec.kind]):
            out[column] = values  # already of the declared numpy dtype: astype would only copy
        else:
            out[column] = values.astype(_DTYPES[spec.kind])
    return pd.DataFrame(out, index=table.index)


def _cell(value, spec: Column) -> str:
    if _missing(value):
        return ""
    if spec.kind is Kind.DECIMAL:
        return f"{value:.{spec.places}f}"
    if spec.kind is Kind.NUMBER:
        return f"{value:g}"
    return str(value)


def as_text(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table as SPEC.md's CSV writes it: every cell text."""
    schema = SCHEMAS[name]
    return pd.DataFrame({column: [_cell(v, spec) for v in table[column]] for column, spec in schema.items()},
                        index=table.index, dtype=object)


_ARROW = {Kind.TEXT: pa.string(), Kind.COUNT: pa.int64(), Kind.OPTIONAL_COUNT: pa.int64(),
          Kind.NUMBER: pa.float64(), Kind.BOOL: pa.bool_(), Kind.FLAG: pa.bool_()}


def arrow_schema(name: str) -> pa.Schema:
    return pa.schema([pa.field(column, pa.decimal128(20, spec.places) if spec.kind is Kind.DECIMAL
                               else _ARROW[spec.kind]) for column, spec in SCHEMAS[name].items()])
