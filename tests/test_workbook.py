"""The finance workbook, read back with openpyxl and recalculated by a real spreadsheet program."""

from __future__ import annotations

import csv
import json
import re
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
                               "合同台账", "补贴对象名单(内部)", "说明", "规则"]
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

    book = openpyxl.load_workbook(scheduled["xlsx"])
    rows = list(book["说明"].iter_rows(min_row=4, values_only=True))
    rules = {r[3]: r for r in book["规则"].iter_rows(min_row=4, values_only=True) if r[3]}
    assert rules["escort_rates"][1] == "乡镇卫生院 100 元/人·天、县级医院 150 元/人·天、市级及以上医院 200 元/人·天"
    assert rules["min_surveys"][1] == "30 份"
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


def soffice(files: list[Path], target: str, out_dir: Path) -> None:
    """Convert `files` with LibreOffice in one run, every formula recalculated on load (a fresh
    profile saying so), into `out_dir`."""
    profile = out_dir / "profile"
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
        'oor:op="fuse"><value>0</value></prop></item>\n</oor:items>\n', encoding="utf-8")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
                    "--outdir", str(out_dir), *map(str, files)], check=True, capture_output=True, timeout=300)


needs_office = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                  reason="LibreOffice (soffice) and poppler-utils (pdftotext) are not installed")


@pytest.fixture(scope="module")
def revision(tmp_path_factory):
    """huining 2026Q2 published (第 1 版), then one deduction raised by 130 yuan, re-scored,
    scheduled before and after `publish --revise`."""
    work = tmp_path_factory.mktemp("revision")
    region, build, site, out = work / "data" / "huining", work / "build", work / "site", work / "payments"
    shutil.copytree(ROOT / "data" / "huining", region)
    helpers.score(region, build, str(Q))
    helpers.publish(region, build, site, str(Q))
    first = helpers.schedule(region, build, out, site, str(Q))
    before = {p.name: p.read_bytes() for p in first}
    # the second provider's first deduction grows by 130 yuan: its release falls by 130
    path = region / str(Q) / "inspections.csv"
    inspections = pd.read_csv(path, dtype=str, keep_default_na=False)
    payments = read_result(helpers.workspace(build).results("huining", str(Q)), "payments")
    provider = payments.iloc[1]["provider_id"]
    findings = pd.read_csv(helpers.workspace(build).results("huining", str(Q)) / "trace" / "inspections.csv", dtype=str)
    inspection = findings[(findings["provider_id"] == provider) & (findings["result"] != "pass")].iloc[0]["inspection_id"]
    row = inspections.index[inspections["inspection_id"] == inspection][0]
    inspections.loc[row, "deduction_yuan"] = f"{Decimal(inspections.loc[row, 'deduction_yuan']) + 130:.2f}"
    inspections.to_csv(path, index=False, lineterminator="\n")
    helpers.score(region, build, str(Q))
    draft = helpers.schedule(region, build, out, site, str(Q))
    draft_names = sorted(p.name for p in out.iterdir())
    helpers.publish(region, build, site, str(Q), revise=True, reason="抽查扣款更正")
    second = helpers.schedule(region, build, out, site, str(Q))
    return {"work": work, "region": region, "site": site, "out": out, "first": first, "before": before,
            "draft": draft, "draft_names": draft_names, "second": second, "provider": provider,
            "results": helpers.workspace(build).results("huining", str(Q))}


def test_a_revision_keeps_version_1_and_shows_the_claw_back(revision):
    first, second = revision["first"], revision["second"]
    assert first[0].name == "会宁县_2026年第二季度_资金拨付计划_第1版_已公布.xlsx"
    # before the revision is published: a 第 2 版 draft beside the untouched 第 1 版
    assert revision["draft"][0].name == "会宁县_2026年第二季度_资金拨付计划_第2版_初步.xlsx"
    assert revision["draft_names"] == sorted([*revision["before"], *(p.name for p in revision["draft"])])
    assert second[0].name == "会宁县_2026年第二季度_资金拨付计划_第2版_已公布.xlsx"
    # version 1 byte for byte as it was; the draft gave way to the published 第 2 版
    assert {p.name: p.read_bytes() for p in first} == revision["before"]
    assert sorted(p.name for p in revision["out"].iterdir()) == sorted([*revision["before"], *(p.name for p in second)])
    book = openpyxl.load_workbook(second[0], data_only=True)
    assert "第 2 版" in book["付款计划"]["A1"].value
    rows = [r for r in book["更正差额"].iter_rows(min_row=4, values_only=True) if r[1]]
    changed = {r[1]: r for r in rows if r[5] != "无差额"}
    payments = read_result(revision["results"], "payments").set_index("provider_id")
    contract = payments.loc[revision["provider"], "contract_id"]
    assert list(changed) == [contract]
    assert money(changed[contract][4]) == Decimal("-130.00") and changed[contract][5] == "追回 130.00 元"
    assert money(changed[contract][3]) == money(payments.loc[revision["provider"], "total_to_pay"])
    old = pd.read_csv(revision["site"] / "disclosures" / "huining" / str(Q) / "v1" / "payments.csv", dtype=str)
    assert money(changed[contract][2]) == money(old.set_index("provider_id").loc[revision["provider"], "total_to_pay"])
    payee = {r[4]: r for r in book["收款信息"].iter_rows(min_row=4, values_only=True) if r[4]}
    assert payee[contract][7] == "追回 130.00 元"
    # publishing again changes nothing: the published 第 2 版 is not rewritten
    again = helpers.schedule(revision["region"], revision["results"].parents[2], revision["out"], revision["site"], str(Q))
    assert again[0].stat().st_mtime_ns == second[0].stat().st_mtime_ns


def test_a_published_schedule_with_other_figures_is_never_replaced(revision, tmp_path):
    # the name of the published 第 2 版 holding other figures (the quarter withdrawn and published
    # again, say): the file finance may have paid from stays, and the clerk is told why
    for path, second in zip(revision["first"], revision["second"]):
        shutil.copy(path, tmp_path / second.name)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with helpers.refused(Code.PUBLISHED_SCHEDULE_DIFFERS):
        helpers.schedule(revision["region"], revision["results"].parents[2], tmp_path, revision["site"], str(Q))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_payees_show_credit_code_bank_and_account(scheduled):
    sheet = openpyxl.load_workbook(scheduled["xlsx"], data_only=True)["收款信息"]
    providers = pd.read_csv(scheduled["region"] / "providers.csv", dtype=str).set_index("contract_id")
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[4]]
    payments = read_result(scheduled["results"], "payments").set_index("contract_id")
    assert [r[4] for r in rows] == list(payments.index)
    for row in rows:
        provider = providers.loc[row[4]]
        assert row[1:4] == (provider["credit_code"], provider["bank_name"], provider["bank_account"].replace(" ", ""))
        assert money(row[5]) == money(payments.loc[row[4], "total_to_pay"])


def test_subsidy_details_add_up_to_the_schedule(scheduled):
    book = openpyxl.load_workbook(scheduled["xlsx"], data_only=True)
    payments = read_result(scheduled["results"], "payments")
    for sheet, column, units in (("陪护补贴明细", "escort_subsidy", "escort_days"), ("护理补贴明细", "care_allowance", "care_months")):
        rows = list(book[sheet].iter_rows(min_row=4, values_only=True))
        for line in (r for r in rows if r[1] and r[0] and not str(r[0]).endswith("小计")):
            assert money(line[4]) == money(Decimal(str(line[2])) * Decimal(str(line[3])))  # units × rate
        subtotals = [r for r in rows if r[0] and str(r[0]).endswith("小计")]
        assert [money(r[4]) for r in subtotals] == [money(v) for v in payments[column]]
        assert [Decimal(str(r[2])) for r in subtotals] == [Decimal(v) for v in payments[units]]
    names = {r[2] for r in book["补贴对象名单(内部)"].iter_rows(min_row=4, values_only=True) if r[2]}
    roster = pd.read_csv(scheduled["region"] / "beneficiaries.csv", dtype=str)
    assert names - {"姓名(领取人)"} <= set(roster["name"]) and len(names) > 100


@pytest.fixture(scope="module")
def office(scheduled, revision, tmp_path_factory):
    """Each kind of workbook (a first version with subsidies, a revision, one without subsidies:
    xiajiang's default rules) through LibreOffice in one run each way: with the cached values
    dropped and recalculated, and printed to PDF."""
    out = tmp_path_factory.mktemp("office")
    build = out / "build"
    helpers.score(ROOT / "data" / "xiajiang", build, "2026Q3")
    plain = helpers.schedule(ROOT / "data" / "xiajiang", build, out / "payments", out / "site", "2026Q3")
    books = {"first": scheduled["xlsx"], "revision": revision["second"][0], "plain": plain[0]}
    spoiled = []
    for kind, path in books.items():
        spoiled.append(out / "spoiled" / f"{kind}.xlsx")
        spoiled[-1].parent.mkdir(exist_ok=True)
        openpyxl.load_workbook(path).save(spoiled[-1])  # openpyxl drops cached formula values
        shutil.copy(path, out / f"{kind}.xlsx")
    soffice(spoiled, "xlsx", out / "recalculated")
    soffice([out / f"{kind}.xlsx" for kind in books], "pdf", out / "pdf")
    text = {kind: subprocess.run(["pdftotext", "-layout", str(out / "pdf" / f"{kind}.pdf"), "-"], check=True,
                                 capture_output=True, text=True).stdout for kind in books}
    return {"books": books, "recalculated": {k: out / "recalculated" / f"{k}.xlsx" for k in books}, "text": text}


@pytest.mark.slow
@needs_office
@pytest.mark.parametrize("kind", ["first", "revision", "plain"])
def test_libreoffice_recalculates_every_formula_to_the_cent(office, kind):
    written = openpyxl.load_workbook(office["books"][kind])
    cached = openpyxl.load_workbook(office["books"][kind], data_only=True)
    computed = openpyxl.load_workbook(office["recalculated"][kind], data_only=True)
    formulas = 0
    for sheet in written.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas += 1
                    mine = cached[sheet.title][cell.coordinate].value
                    theirs = computed[sheet.title][cell.coordinate].value
                    assert theirs is not None, (sheet.title, cell.coordinate)
                    assert money(theirs) == money(mine), (sheet.title, cell.coordinate, cell.value)
    sheets = {s.title for s in written.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"}
    subsidies = {"陪护补贴明细", "护理补贴明细"} if kind != "plain" else set()
    assert {"付款计划", "收款信息", "合同台账", *subsidies} <= sheets and formulas > 40
    if kind == "revision":
        assert "更正差额" in sheets


@pytest.mark.slow
@needs_office
@pytest.mark.parametrize("kind", ["first", "revision", "plain"])
def test_the_printed_workbook_shows_every_contract_and_amount_whole(office, kind):
    text = office["text"][kind]
    book = openpyxl.load_workbook(office["books"][kind], data_only=True)
    words = set(text.split())
    main = [r for r in book["付款计划"].iter_rows(min_row=4, values_only=True) if r[1]]
    for row in main:
        assert row[1] in words, row[1]  # the contract number whole, never HT620422-2025-0…
        for value in row[2:12]:
            if isinstance(value, float) and value >= 1:
                assert f"{value:,.2f}" in words or f"{value:.2f}" in words, value
    for row in book["扣减明细"].iter_rows(min_row=4, values_only=True):
        if row[1]:
            assert row[0] in words, row[0]  # inspection ids never run into the dates
    assert "北京时间" in text and "第 1 页,共" in text and ("第 2 版" in text) == (kind == "revision")
    assert "经办人" in text and "审核" in text and "批准" in text


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
    # 2026Q2 scored in the same build: its ledger runs over both quarters
    results_q2 = helpers.score(region, build, "2026Q2")
    xlsx, _ = helpers.schedule(region, build, build / "payments", tmp_path / "site", "2026Q2")
    sheet = openpyxl.load_workbook(xlsx, data_only=True)["合同台账"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    quarters = [r for r in rows if r[2] in ("2026年第一季度", "2026年第二季度")]
    providers = pd.read_csv(region / "providers.csv", dtype=str).set_index("contract_id")
    paid_q2 = pd.read_csv(region / "2026Q2" / "paid.csv", dtype=str) if (region / "2026Q2" / "paid.csv").is_file() else None
    releases = {}
    for quarter, results_dir, voucher_table in (("2026年第一季度", results, vouchers), ("2026年第二季度", results_q2, paid_q2)):
        payments = read_result(results_dir, "payments").set_index("contract_id")
        for contract, expected in payments.iterrows():
            row = next(r for r in quarters if r[0] == contract and r[2] == quarter)
            assert money(row[4]) == money(expected["release"]) and money(row[5]) == money(expected["total_to_pay"])
            recorded = voucher_table[voucher_table["contract_id"] == contract] if voucher_table is not None else []
            assert (money(row[6]) if row[6] is not None else None) == (
                money(sum(Decimal(a) for a in recorded["amount"])) if len(recorded) else None)
            releases[contract] = releases.get(contract, Decimal(0)) + Decimal(expected["release"])
    balances = {r[0]: r for r in rows if r[0] in releases and isinstance(r[2], (int, float))}
    for contract, released in releases.items():
        amount = Decimal(providers.loc[contract, "contract_amount"])
        assert money(balances[contract][2]) == money(amount)
        assert money(balances[contract][6]) == money(amount - released)  # 合同余额
        # the year's service-fee budget: the contract (2025-10-01 to 2026-09-30) has 273 of its 365 days in 2026
        year = next(r for r in rows if r[0] == "2026年" and r[1] == contract)
        assert money(year[2]) == money(amount * 273 / 365) and money(year[3]) == money(released)


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


@pytest.mark.slow
def test_the_internal_list_never_reaches_the_site(tmp_path):
    # the sample site (every sample quarter published and built, shared with the site tests), and
    # the schedule of its latest huining quarter written from the same layers
    import sitebuild

    from scoring.outputs.privacy import roster_from_data, scan_tree

    built = sitebuild.sample_site()
    paths = helpers.schedule(built.data / "huining", built.project.parent / "results", tmp_path / "payments",
                             built.project / "site", "2026Q3")
    assert paths[0].name.endswith("_第1版_已公布.xlsx")
    sheet = openpyxl.load_workbook(paths[0], read_only=True)["补贴对象名单(内部)"]
    people = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[1] and r[3]]
    assert len(people) > 100
    secrets = {value for r in people for value in (r[1], r[2], r[3], r[4]) if value}
    pattern = re.compile("|".join(map(re.escape, sorted(secrets, key=len, reverse=True))))
    files = [p for root in (built.project / "site", built.built) for p in root.rglob("*") if p.is_file()]
    assert len(files) > 100
    for path in files:
        leaked = pattern.search(path.read_bytes().decode("utf-8", errors="ignore"))
        assert leaked is None, (path, leaked and leaked.group())
    # and the privacy scan would stop the site if the workbook were ever put there
    copy = tmp_path / "site"
    copy.mkdir()
    shutil.copy(paths[0], copy / "payments.xlsx")
    findings = scan_tree(copy, roster_from_data([built.data]))
    assert {f.path for f in findings} == {"payments.xlsx"} and len(findings) >= len(people)
