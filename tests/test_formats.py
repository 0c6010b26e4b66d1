"""The same region written as GB18030 CSV or as .xlsx workbooks scores to the same bytes as the
committed UTF-8 CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

import helpers
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
QUARTER = "2026Q3"


def rewrite(region: Path, how: str) -> None:
    """Every CSV of the region (and of QUARTER) rewritten as GB18030 CSV or as .xlsx."""
    for path in [*region.glob("*.csv"), *(region / QUARTER).glob("*.csv")]:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if how == "gb18030":
            table.to_csv(path, index=False, encoding="gb18030", lineterminator="\r\n")
        else:
            table.to_excel(path.with_suffix(".xlsx"), index=False, engine="openpyxl")
            path.unlink()


@pytest.mark.parametrize("how", ["gb18030", "xlsx"])
def test_results_are_identical_whatever_the_file_format(how, tmp_path):
    source = ROOT / "data" / "xiajiang"
    region = tmp_path / "xiajiang"
    shutil.copytree(source, region, ignore=shutil.ignore_patterns("2025Q4", "2026Q1", "2026Q2"))
    rewrite(region, how)
    utf8 = helpers.score(source, tmp_path / "utf8", QUARTER)
    other = helpers.score(region, tmp_path / how, QUARTER)
    for name in ("scores", "satisfaction", "payments", "spending"):
        assert (other / f"{name}.csv").read_bytes() == (utf8 / f"{name}.csv").read_bytes(), name
