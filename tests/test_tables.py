"""The result tables are typed inside and declared once (`scoring.engine.tables`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import helpers
import pandas as pd
import pytest

from scoring.engine.pipeline import score_quarter
from scoring.engine.tables import SCHEMAS, Kind, SchemaMismatch, as_text, conform
from scoring.inputs.layer import read_validated
from scoring.outputs.results import read_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def huining(tmp_path_factory):
    build = tmp_path_factory.mktemp("tables")
    region = ROOT / "data" / "huining"
    results = helpers.score(region, build, "2026Q2")
    validated = read_validated(helpers.workspace(build).validated("huining", "2026Q2"), region)
    return validated, read_results(results, validated), results


def test_the_engine_makes_typed_tables(huining):
    validated, _, _ = huining
    made = score_quarter(validated.tables, validated.config, validated.quarter, "huining")
    for name, table in made.tables().items():
        for column, spec in SCHEMAS[name].items():
            values = [v for v in table[column] if v is not None and v is not pd.NA]
            if spec.kind is Kind.DECIMAL:
                assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -spec.places for v in values), (name, column)
            elif spec.kind is Kind.COUNT:
                assert table[column].dtype == "int64", (name, column)
            elif spec.kind is Kind.BOOL:
                assert table[column].dtype == bool, (name, column)
    assert made.scores["near_band_edge"].dtype == "boolean"


def test_later_stages_read_the_same_types_the_engine_made(huining):
    validated, results, _ = huining
    made = score_quarter(validated.tables, validated.config, validated.quarter, "huining")
    for name, table in made.tables().items():
        pd.testing.assert_frame_equal(results.table(name), table, check_exact=True, obj=name)


def test_the_csv_is_the_typed_table_as_text(huining):
    _, results, directory = huining
    for name in SCHEMAS:
        written = pd.read_csv(directory / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(written, as_text(results.table(name), name), check_dtype=False, obj=name)


def test_a_table_that_does_not_match_its_declaration_is_a_bug(huining):
    _, results, _ = huining
    payments = results.table("payments")
    with pytest.raises(SchemaMismatch, match="2 places"):
        conform(payments.assign(release=[Decimal("1.5")] * len(payments)), "payments")
    with pytest.raises(SchemaMismatch, match="columns"):
        conform(payments.drop(columns=["release"]), "payments")
    with pytest.raises(SchemaMismatch, match="not text"):
        conform(payments.assign(grade=[None] * len(payments)), "payments")
