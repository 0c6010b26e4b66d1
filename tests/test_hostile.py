"""Hostile and absurd inputs, through the commands a clerk runs: one clear answer each, within
seconds and bounded memory, never a traceback, inputs untouched.

Each case is one an outside reviewer tried on a copy of a sample region (issue "Hostile and
absurd inputs"); the bounds asserted are generous ceilings (a junk file answered in well under
a minute and a gigabyte), not timings: benchmarks measure speed.
"""

from __future__ import annotations

import hashlib
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.inputs.load import MAX_CSV_BYTES
from scoring.inputs.problems import MAX_LISTED

ROOT = Path(__file__).resolve().parents[1]
Q = "2026Q2"


def scoring(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scoring", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def answered(result: subprocess.CompletedProcess) -> str:
    """The command's whole output, after checking it is an answer and not a crash."""
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out[-3000:]
    return out


@pytest.fixture
def county(tmp_path) -> Path:
    """A working directory with a copy of huining as data/county."""
    shutil.copytree(ROOT / "data" / "huining", tmp_path / "data" / "county")
    return tmp_path


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def report(workdir: Path) -> pd.DataFrame:
    return pd.read_csv(workdir / "build/validated/county" / Q / "validation.csv", dtype=str,
                       keep_default_na=False, encoding="utf-8-sig")


def junk_services(path: Path, megabytes: int) -> None:
    """The real header, then `megabytes` of random text with commas: rows of every shape."""
    header = path.read_text(encoding="utf-8").splitlines()[0]
    rng = np.random.default_rng(7)
    alphabet = np.frombuffer(b"abcXYZ0123456789,,,,,  -:./\n", dtype=np.uint8)
    body = alphabet[rng.integers(0, len(alphabet), megabytes << 20)].tobytes()
    path.write_bytes(header.encode() + b"\n" + body)


def test_a_junk_services_file_gets_a_short_complete_report(county):
    junk_services(county / "data/county" / Q / "services.csv", 50)
    before = digest(county / "data")
    result = scoring("validate", "data/county", "--quarter", Q, cwd=county)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    answered(result)
    assert result.returncode == 1
    written = county / "build/validated/county" / Q / "validation.csv"
    assert written.stat().st_size < 2 << 20  # was 1.16 GB
    assert peak_kb < 1_500_000  # was 2.9 GB
    problems = report(county)
    services = problems[problems["file"] == f"{Q}/services.csv"]
    # every check lists at most MAX_LISTED rows, then one line with the count of the rest
    per_check = services.groupby(["rule", "column"]).size()
    assert per_check.max() <= MAX_LISTED + 1 and (per_check == MAX_LISTED + 1).any()
    more = services[services["count"].astype(int) > 1]
    assert len(more) and (more["message"].str.contains("未逐行列出")).all()
    # nothing lost: the counts add up to every row, and every row is used or rejected
    accounting = pd.read_csv(county / "build/validated/county" / Q / "accounting.csv", encoding="utf-8-sig")
    row = accounting.set_index("file").loc[f"{Q}/services.csv"]
    assert row["rows_read"] == row["rows_used"] + row["rows_rejected"] and row["rows_read"] > 100_000
    shape = services[services["rule"] == "bad_row_shape"]["count"].astype(int).sum()
    assert shape > 100_000
    assert digest(county / "data") == before  # the input is never modified


def test_a_file_larger_than_any_quarter_is_not_read(county):
    services = county / "data/county" / Q / "services.csv"
    with services.open("r+b") as f:  # sparse: no disk is used
        f.truncate(MAX_CSV_BYTES + 1)
    result = scoring("validate", "data/county", "--quarter", Q, cwd=county)
    answered(result)
    assert result.returncode == 1
    problems = report(county)
    assert problems.loc[problems["file"] == f"{Q}/services.csv", "rule"].tolist() == ["file_too_large"]


@pytest.mark.parametrize("quarter", ["0000Q1", "9999Q4", "1999Q4", "2026Q0"])
@pytest.mark.parametrize("command", ["validate", "run", "payments", "publish"])
def test_quarters_out_of_range_are_refused_in_a_sentence(county, command, quarter):
    result = scoring(command, "data/county", "--quarter", quarter, cwd=county)
    out = answered(result)
    assert result.returncode != 0 and "2026Q2" in out  # says how to write one


def test_an_escort_row_claiming_a_billion_days_is_refused_before_any_money(county):
    services = county / "data/county" / Q / "services.csv"
    table = pd.read_csv(services, dtype=str, keep_default_na=False)
    escort = table.index[table["item_code"] == "JK05"][0]
    table.loc[escort, "units"] = "999999999999999"
    table.to_csv(services, index=False)
    result = scoring("validate", "data/county", "--quarter", Q, cwd=county)
    answered(result)
    assert result.returncode == 1
    problems = report(county)
    assert problems[["row", "column", "rule"]].values.tolist() == [[str(escort + 2), "units", "escort_days"]]
    payments = scoring("payments", "data/county", "--quarter", Q, cwd=county)
    answered(payments)
    assert payments.returncode != 0
    assert not list((county / "build").glob("payments/**/*.xlsx"))


def test_an_infinite_rule_is_a_bad_value_at_its_line(county):
    settings = county / "data/county/region.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "  complaint_response_hours: .inf\n",
                        encoding="utf-8")
    result = scoring("validate", "data/county", "--quarter", Q, cwd=county)
    answered(result)
    assert result.returncode == 1
    problems = report(county)
    assert problems[["file", "column", "rule"]].values.tolist() == [
        ["region.yaml", "rules.complaint_response_hours", "bad_rule_value"]]
