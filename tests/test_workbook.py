"""The finance workbook, read back with openpyxl and recalculated by a real spreadsheet program."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import helpers
import openpyxl
import pandas as pd
import pytest

from scoring.inputs.months import Quarter
from scoring.outputs.results import read_result
from scoring.outputs.workbook import SCHEDULE
from scoring.refusal import Code

ROOT = Path(__file__).resolve().parents[1]
Q = Quarter(2026, 2)
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    """huining 2026Q2 with a provider renamed to a formula, scored, and its schedule written."""
    work = tmp_path_factory.mktemp("finance")
    region = work / "data" / "huining"
    shutil.copytree(ROOT / "data" / "huining", region)
    providers = pd.read_csv(region / "providers.csv", dtype=str, keep_default_na=False)
    providers.loc[0, "name"] = EVIL
    providers.to_csv(region / "providers.csv", index=False, lineterminator="\n")
    build = work / "build"
    results = helpers.score(region, build, str(Q))
    paths = helpers.schedule(region, build, build / "payments", work / "site", str(Q),
                             generated_at=datetime(2026, 7, 5, 9, 30))
    return {"work": work, "region": region, "results": results, "xlsx": paths[0], "csv": paths[1]}


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_file_names_carry_region_quarter_and_status(scheduled):
    assert scheduled["xlsx"].name == "会宁县_2026年第二季度_资金拨付计划_第1版_初步.xlsx"
    assert scheduled["csv"].name == "会宁县_2026年第二季度_资金拨付计划_第1版_初步.csv"


def test_every_figure_matches_payments_csv(scheduled):
    payments = read_result(scheduled["results"], "payments")
    book = openpyxl.load_workbook(scheduled["xlsx"])
    sheet = openpyxl.load_workbook(scheduled["xlsx"], data_only=True)["付款计划"]  # cached values
    header = [c.value for c in sheet[3]]
    assert header == [label for _, label, _ in SCHEDULE]
    for offset, expected in enumerate(payments.itertuples(index=False)):
        cells = {label: c.value for label, c in zip(header, sheet[4 + offset])}
        assert cells["合同编号"] == expected.contract_id
        for column, label, kind in SCHEDULE:
            if kind == "money":
                value = getattr(expected, column)
                assert (money(cells[label]) if cells[label] is not None else "") == (money(value) if value else ""), label
        assert cells["等级"] == expected.grade
    totals_row = 4 + len(payments)
    assert sheet.cell(totals_row, 1).value == "合计"
    sheet = book["付款计划"]
    assert sheet.cell(totals_row, 8).value == f"=SUM(H4:H{totals_row - 1})"
    # the subsidies come from their detail sheets, 合计应付 adds them up
    assert sheet.cell(4, 10).value.startswith("=陪护补贴明细!E")
    assert sheet.cell(4, 11).value.startswith("=护理补贴明细!E")
    assert sheet.cell(4, 12).value == "=ROUND(N(H4)+N(J4)+N(K4),2)"
    assert sheet.freeze_panes == "B4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "初步" in sheet.oddHeader.right.text and "第 1 版" in sheet.oddHeader.center.text
    assert "会宁县" in sheet.oddHeader.left.text
    assert "北京时间" in sheet.oddFooter.left.text and "&P" in sheet.oddFooter.center.text
    assert "&N" in sheet.oddFooter.center.text and "输入指纹" in sheet.oddFooter.right.text
    # columns as wide as their content: a contract number (16 narrow characters) and a name of
    # 12 Chinese characters (24 units) fit whole
    assert sheet.column_dimensions["B"].width >= 16 and sheet.column_dimensions["A"].width >= 24
    assert sheet.cell(4, 3).number_format == "#,##0.00"


def test_status_is_on_every_sheet_and_held_providers_say_why(scheduled):
    book = openpyxl.load_workbook(scheduled["xlsx"])
    assert book.sheetnames == ["付款计划", "陪护补贴明细", "护理补贴明细", "收款信息", "扣减明细", "实际拨付",
                               "合同台账", "补贴对象名单(内部)", "说明"]
    for sheet in book.worksheets:
        assert "状态:初步" in sheet["A1"].value
    payments = read_result(scheduled["results"], "payments")
    statuses = [book["付款计划"].cell(4 + i, len(SCHEDULE)).value for i in range(len(payments))]
    for status, (held, reason) in zip(statuses, zip(payments["status"] == "held", payments["reason"])):
        assert status == (f"暂缓:{reason}" if held else "初步")


def test_deductions_sheet_lists_findings_without_personal_data(scheduled):
    sheet = openpyxl.load_workbook(scheduled["xlsx"])["扣减明细"]
    findings = pd.read_csv(scheduled["results"] / "trace" / "inspections.csv", dtype=str)
    flagged = findings[(findings["result"] != "pass") | (findings["deduction_yuan"].astype(float) > 0)]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] and r[0] != "合计" and r[1]]
    assert sorted(r[0] for r in rows) == sorted(flagged["inspection_id"])
    assert money(sum(Decimal(str(r[6])) for r in rows)) == money(sum(Decimal(v) for v in flagged["deduction_yuan"]))
    # each row says which month's service it concerns and when it was inspected
    hours = pd.read_csv(scheduled["results"] / "trace" / "record_hours.csv", dtype=str)
    month_of = dict(zip(hours["record_id"], hours["month"]))
    for row in rows:
        record = flagged.set_index("inspection_id").loc[row[0], "record_id"]
        month = month_of[record]
        assert row[1] == f"{int(month[:4])}年{int(month[5:])}月"
        assert row[8].startswith(f"{int(month[5:])}月的服务,") and f"{int(row[2][8:])}日抽查" in row[8]
    text = json.dumps([list(map(str, r)) for r in sheet.iter_rows(values_only=True)], ensure_ascii=False)
    beneficiaries = pd.read_csv(scheduled["region"] / "beneficiaries.csv", dtype=str)
    assert not any(name in text for name in beneficiaries["name"])


def test_notes_sheet_explains_each_number_and_shows_the_rules_used(scheduled):
    from scoring.inputs.methodology import rule_texts

    rows = list(openpyxl.load_workbook(scheduled["xlsx"])["说明"].iter_rows(min_row=4, values_only=True))
    rules = {r[3]: r for r in rows if r[3]}
    assert rules["escort_rates"][1] == "township 100;county 150;city 200"
    assert rules["min_surveys"][1] == "30"
    assert rules["min_surveys"][0] == rule_texts()["min_surveys"].title  # its Chinese name
    items = {r[0] for r in rows}
    assert {"应付金额", "拨付金额", "陪护补贴", "护理补贴", "合计应付", "版本与状态"} <= items


def test_formula_text_stays_inert(scheduled):
    cell = openpyxl.load_workbook(scheduled["xlsx"])["付款计划"]["A4"]
    assert cell.value == EVIL and cell.data_type == "s"
    with open(scheduled["csv"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "'" + EVIL


def test_csv_has_bom_and_totals(scheduled):
    raw = scheduled["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    payments = read_result(scheduled["results"], "payments")
    with open(scheduled["csv"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[-1][0] == "合计"
    release = [column for column, _, _ in SCHEDULE].index("release")
    assert Decimal(rows[-1][release]) == sum(Decimal(v) for v in payments["release"])


def libreoffice_csv(xlsx: Path, out_dir: Path) -> list[list[str]]:
    """Open the workbook in LibreOffice with recalculation forced, and export the first sheet."""
    profile = out_dir / "profile"
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
        'oor:op="fuse"><value>0</value></prop></item>\n</oor:items>\n', encoding="utf-8")
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false", "--outdir", str(out_dir), str(xlsx)],
        check=True, capture_output=True, timeout=300)
    with open(out_dir / (xlsx.stem + ".csv"), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_the_totals_to_the_cent(scheduled, tmp_path):
    # Spoil the cached totals first, so the figures below can only come from recalculation.
    spoiled = tmp_path / "spoiled.xlsx"
    book = openpyxl.load_workbook(scheduled["xlsx"])
    book.save(spoiled)  # openpyxl drops cached formula values: LibreOffice must compute them
    rows = libreoffice_csv(spoiled, tmp_path)
    payments = read_result(scheduled["results"], "payments")
    total = next(r for r in rows if r and r[0] == "合计")
    labels = [label for _, label, _ in SCHEDULE]
    for column, label, kind in SCHEDULE:
        if kind == "money":
            expected = sum((Decimal(v) for v in payments[column] if v), Decimal("0.00"))
            shown = total[labels.index(label)].replace(",", "")
            assert money(shown) == money(expected), label


def test_schedule_refuses_an_unscored_quarter(scheduled):
    build = scheduled["work"] / "build"
    with helpers.refused(Code.NOT_VALIDATED):
        helpers.schedule(scheduled["region"], build, scheduled["work"] / "out", scheduled["work"] / "site", "2026Q1")
    helpers.stages.validate_stage(scheduled["region"], "2026Q1", helpers.workspace(build).validated("huining", "2026Q1"))
    with helpers.refused(Code.NOT_SCORED):
        helpers.schedule(scheduled["region"], build, scheduled["work"] / "out", scheduled["work"] / "site", "2026Q1")


def test_cli_refuses_a_quarter_with_errors(tmp_path):
    region = tmp_path / "data" / "xiajiang"
    shutil.copytree(ROOT / "data" / "xiajiang", region)
    path = region / "providers.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(".00", ".0x", 1), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "scoring", "validate", "data/xiajiang", "--quarter", "2026Q2"],
                   cwd=tmp_path, capture_output=True, text=True, timeout=300)
    result = subprocess.run([sys.executable, "-m", "scoring", "payments", "data/xiajiang", "--quarter", "2026Q2"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"({Code.INPUTS_HAVE_ERRORS})" in result.stderr and "validation.csv" in result.stderr
    assert not (tmp_path / "build" / "payments").exists()


def test_status_becomes_published_once_the_quarter_is_published(scheduled, tmp_path):
    site, build = tmp_path / "site", scheduled["work"] / "build"
    helpers.publish(scheduled["region"], build, site, str(Q))
    out = tmp_path / "payments"
    preliminary = helpers.schedule(scheduled["region"], build, out, tmp_path / "elsewhere", str(Q))
    assert preliminary[0].name.endswith("_第1版_初步.xlsx")
    paths = helpers.schedule(scheduled["region"], build, out, site, str(Q))
    assert paths[0].name == "会宁县_2026年第二季度_资金拨付计划_第1版_已公布.xlsx"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths), "no preliminary copy lingers"
    book = openpyxl.load_workbook(paths[0])
    assert all("状态:已公布" in sheet["A1"].value for sheet in book.worksheets)
    assert "已公布" in book["付款计划"].oddHeader.right.text


def test_paid_sheet_sets_what_finance_paid_against_the_plan(tmp_path):
    # huining 2026Q1: finance recorded the first contract 130 yuan short of its plan.
    build = tmp_path / "build"
    region = ROOT / "data" / "huining"
    results = helpers.score(region, build, "2026Q1")
    xlsx, _ = helpers.schedule(region, build, build / "payments", tmp_path / "site", "2026Q1")
    book = openpyxl.load_workbook(xlsx)
    sheet = book["实际拨付"]
    paid = read_result(results, "paid")
    vouchers = pd.read_csv(region / "2026Q1" / "paid.csv", dtype=str)
    for offset, expected in enumerate(paid.itertuples(index=False)):
        row = [c.value for c in sheet[4 + offset]]
        assert row[1] == expected.contract_id
        assert money(row[2]) == money(expected.planned)
        recorded = sum(Decimal(a) for a, c in zip(vouchers["amount"], vouchers["contract_id"])
                       if c == expected.contract_id)
        assert money(row[3]) == money(recorded) == money(expected.paid)
        assert row[4] == f"=D{4 + offset}-C{4 + offset}"
    short = paid[paid["status"] == "part_paid"]
    assert len(short) == 1 and money(short.iloc[0]["difference"]) == Decimal("-130.00")
    assert "尚差 130.00 元" in short.iloc[0]["reason"]


def test_a_region_name_is_never_a_path(tmp_path):
    # region.yaml's name is data: a name that would walk out of build/ (or glob) gives the file
    # name the region's code instead, nothing is written or deleted outside the payments folder.
    region = tmp_path / "data" / "huining"
    shutil.copytree(ROOT / "data" / "huining", region)
    text = (region / "region.yaml").read_text(encoding="utf-8")
    (region / "region.yaml").write_text(text.replace("name: 会宁县", 'name: "../../../../somewhere/*"'),
                                        encoding="utf-8")
    outside = tmp_path / "somewhere"
    outside.mkdir()
    (outside / "_2026年第二季度_资金拨付计划_keep.txt").write_text("not ours", encoding="utf-8")
    build = tmp_path / "build"
    helpers.score(region, build, str(Q))
    paths = helpers.schedule(region, build, build / "payments", tmp_path / "site", str(Q))
    assert [p.name for p in paths] == ["区县620422_2026年第二季度_资金拨付计划_第1版_初步.xlsx",
                                       "区县620422_2026年第二季度_资金拨付计划_第1版_初步.csv"]
    assert all(p.parent == build / "payments" for p in paths)
    assert [p.name for p in outside.iterdir()] == ["_2026年第二季度_资金拨付计划_keep.txt"]
    book = openpyxl.load_workbook(paths[0])
    assert "../../../../somewhere/*" in book["付款计划"]["A1"].value  # shown as written, as data
