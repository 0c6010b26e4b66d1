"""Hostile and absurd inputs through the real command line: what each is answered with, how long
it takes and how much memory the command uses at its peak.

    python benchmarks/bench_hostile.py [--keep DIR]

Each case is made on a fresh copy of the huining sample region; the command is `scoring validate`
(the first thing a clerk runs), measured with GNU time (wall seconds, maximum resident set size).
The table it prints is the one in the closing note of the hostile-inputs issue.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
Q = "2026Q2"


def junk_services(region: Path) -> str:
    path = region / Q / "services.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    alphabet = np.frombuffer(b"abcXYZ0123456789,,,,,  -:./\n", dtype=np.uint8)
    body = alphabet[np.random.default_rng(7).integers(0, len(alphabet), 50 << 20)].tobytes()
    path.write_bytes(header.encode() + b"\n" + body)
    return "50 MB of junk in services.csv"


def oversized_csv(region: Path) -> str:
    with (region / Q / "services.csv").open("r+b") as f:
        f.truncate(300 << 20)  # sparse
    return "a 300 MB services.csv"


def _surveys_workbook(region: Path, hidden_first: bool) -> Path:
    surveys = pd.read_csv(region / Q / "surveys.csv", dtype=str, keep_default_na=False)
    (region / Q / "surveys.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    if hidden_first:
        sheet.title = "旧数据"
        fives = surveys.assign(overall="5")
        for row in [list(fives.columns), *fives.values.tolist()]:
            sheet.append(row)
        sheet.sheet_state = "hidden"
        sheet = book.create_sheet("surveys")
    for row in [list(surveys.columns), *surveys.values.tolist()]:
        sheet.append(row)
    path = region / Q / "surveys.xlsx"
    book.save(path)
    return path


def hidden_sheet(region: Path) -> str:
    _surveys_workbook(region, hidden_first=True)
    return "surveys.xlsx whose hidden first sheet says 5 everywhere"


def xml_comment_bomb(region: Path) -> str:
    path = _surveys_workbook(region, hidden_first=False)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<sheetData>", b"<!--" + b"a" * (300 << 20) + b"--><sheetData>", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return f"a {path.stat().st_size // 1024} KB surveys.xlsx holding a 300 MB XML comment"


def yaml_bomb(region: Path) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = (region / "region.yaml").read_text(encoding="utf-8")
    (region / "region.yaml").write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    return "a 10-level YAML alias bomb in region.yaml"


def _first_escort_claims(region: Path, days: str) -> None:
    path = region / Q / "services.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table.index[table["item_code"] == "JK05"][0], "units"] = days
    table.to_csv(path, index=False)


def escort_units(region: Path) -> str:
    _first_escort_claims(region, "999999999999999")
    return "an escort row of 999,999,999,999,999 days"


def escort_days_beyond_dates(region: Path) -> str:
    _first_escort_claims(region, "300")
    return "300 escort days on a 24-hour row"


def visit_over_a_day(region: Path) -> str:
    path = region / Q / "services.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    index = table.index[table["item_code"] == "SH02"][0]
    table.loc[index, "ended_at"] = str(pd.Timestamp(table.loc[index, "started_at"]) + pd.Timedelta(days=2))
    table.to_csv(path, index=False)
    return "a timed visit ending two days later"


def infinite_rule(region: Path) -> str:
    text = (region / "region.yaml").read_text(encoding="utf-8")
    (region / "region.yaml").write_text(text + "  complaint_response_hours: .inf\n", encoding="utf-8")
    return "complaint_response_hours: .inf"


def big5(region: Path) -> str:
    path = region / "providers.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = table.rename(columns={"provider_id": "機構編號", "name": "機構名稱"})
    path.write_bytes(table.to_csv(index=False).encode("big5", errors="replace"))
    return "providers.csv saved in Big5"


def bom_inside(region: Path) -> str:
    path = region / Q / "surveys.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = "\ufeff" + lines[5]
    path.write_text("".join(lines), encoding="utf-8")
    return "a byte-order mark at the start of row 6 (two exports pasted together)"


def after_exit(region: Path) -> str:
    people = pd.read_csv(region / "beneficiaries.csv", dtype=str, keep_default_na=False)
    services = pd.read_csv(region / Q / "services.csv", dtype=str, keep_default_na=False)
    person = services.loc[services["status"] == "completed", "beneficiary_id"].iloc[0]
    people.loc[people["beneficiary_id"] == person, "exited_on"] = "2026-03-31"
    people.to_csv(region / "beneficiaries.csv", index=False)
    return "visits after the beneficiary exited"


CASES = [junk_services, oversized_csv, hidden_sheet, xml_comment_bomb, yaml_bomb, escort_units,
         escort_days_beyond_dates, visit_over_a_day, infinite_rule, big5, bom_inside, after_exit]


def measure(workdir: Path, quarter: str = Q) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "scoring", "validate", "data/county",
         "--quarter", quarter], cwd=workdir, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    peak_mb = int(result.stderr.strip().splitlines()[-1]) / 1024
    report = workdir / "build/validated/county" / quarter / "validation.csv"
    rules = "" if report.is_file() else "(refused before validating)"
    if report.is_file():
        problems = pd.read_csv(report, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        counts = problems.astype({"count": int}).groupby("rule")["count"].sum()
        rules = ", ".join(f"{rule} {n:,}" for rule, n in counts.sort_values(ascending=False).items()) \
            or "no problem"
    return {"exit": result.returncode, "seconds": seconds, "peak_mb": peak_mb, "answer": rules,
            "report_kb": report.stat().st_size / 1024 if report.is_file() else 0,
            "traceback": "Traceback" in result.stdout + result.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the hostile copies here")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    rows = []
    for case in [None, *CASES]:
        workdir = base / (case.__name__ if case else "clean")
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.copytree(ROOT / "data" / "huining", workdir / "data" / "county")
        what = case(workdir / "data" / "county") if case else "the clean sample (reference)"
        rows.append({"input": what, **measure(workdir)})
    rows.append({"input": "quarter 9999Q4", **measure(base / "clean", "9999Q4")})
    print(f"{'input':<62} {'exit':>4} {'s':>6} {'MB':>6} {'report KB':>9}  answer")
    for row in rows:
        flag = "  TRACEBACK" if row["traceback"] else ""
        print(f"{row['input']:<62} {row['exit']:>4} {row['seconds']:>6.2f} {row['peak_mb']:>6.0f} "
              f"{row['report_kb']:>9.1f}  {row['answer']}{flag}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
