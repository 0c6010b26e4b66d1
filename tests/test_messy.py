"""Every defect that `scoring generate --messy` plants is reported where it was planted, by the
validator and through the command line, and nothing else is reported as an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import file_hashes

from scoring.inputs.validate import validate_quarter
from scoring_synthetic.generate import generate

QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]


@pytest.fixture(scope="module", params=["xiajiang", "huining"])
def messy(request, tmp_path_factory) -> Path:
    region = tmp_path_factory.mktemp("messy") / request.param
    generate(request.param, region, messy=True)
    return region


def located(problems: pd.DataFrame) -> set[tuple[str, int, str, str]]:
    return {(p.file, int(p.row), p.column, p.rule) for p in problems.itertuples(index=False)}


def test_every_planted_defect_is_found_at_its_file_row_and_column(messy):
    defects = pd.read_csv(messy / "defects.csv", dtype=str, keep_default_na=False)
    assert defects["rule"].nunique() >= 20, "a defect of every kind the validator checks"
    for quarter in QUARTERS:
        problems = validate_quarter(messy, quarter).problems
        found = located(problems)
        planted = defects[defects["quarter"].isin(["", quarter])]
        expected = {(d.file, int(d.row), d.column, d.rule) for d in planted.itertuples(index=False)}
        assert expected - found == set(), f"{quarter}: planted but not reported"
        errors = located(problems[problems["severity"] == "error"])
        assert errors - expected == set(), f"{quarter}: reported but not planted"


def test_the_command_line_reports_and_refuses(messy, tmp_path):
    before = file_hashes(messy)
    result = subprocess.run([sys.executable, "-m", "scoring", "validate", str(messy), "--quarter", "2026Q2"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "暂不能评分" in result.stdout
    report = pd.read_csv(tmp_path / "build/validated" / messy.name / "2026Q2/validation.csv",
                         dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {"file", "row", "column", "value", "rule", "severity", "message", "message_en", "action"} <= set(report.columns)
    assert (report["action"] != "").all() and (report["message"] != "").all()
    accounting = pd.read_csv(tmp_path / "build/validated" / messy.name / "2026Q2/accounting.csv", encoding="utf-8-sig")
    assert (accounting["rows_read"] == accounting["rows_used"] + accounting["rows_rejected"]).all()
    assert accounting["rows_rejected"].sum() > 0
    assert file_hashes(messy) == before, "inputs are never modified"
