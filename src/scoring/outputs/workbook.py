"""The finance workbook: the payment-release schedule by grade, as .xlsx and .csv.

Finance staff release public money from this file, so: every figure comes from `payments.csv`;
totals are real `SUM` formulas (with their computed values cached); the status (初步 until the
quarter is published, then 已公布) is on every sheet, in the print header and in the file name;
and no cell text is ever written as a formula (spreadsheet formula injection).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_rowcol_to_cell

from scoring import __version__
from scoring.engine.money import ZERO
from scoring.engine.payments import HELD
from scoring.files import spreadsheet_csv, write_bytes, written_file
from scoring.inputs.layer import ValidatedLayer
from scoring.inputs.methodology import rule_texts
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.outputs.public import PUBLIC_TABLES
from scoring.outputs.results import ResultsLayer
from scoring.outputs.store import DISCLOSURES, MANIFEST

UNPUBLISHED_LABEL = "初步"
PUBLISHED_LABEL = "已公布"
HELD_LABEL = "暂缓"
RESULT_LABELS = {"pass": "合格", "poor": "效果差", "falsified": "弄虚作假"}

# (payments.csv column, kind): the schedule's columns in order. Headers are the public payments
# table's Chinese labels (publish.PUBLIC_TABLES), so the workbook and the site say the same thing.
_COLUMNS = [
    ("provider_name", "text"), ("contract_id", "text"), ("amount_due", "money"), ("score", "score"),
    ("grade", "text"), ("payout_ratio", "ratio"), ("monetary_deduction", "money"),
    ("release", "money"), ("withheld", "money"), ("escort_subsidy", "money"),
    ("care_allowance", "money"), ("total_to_pay", "money"), ("status_text", "text"),
]
_LABELS = {column: label for column, (label, *_) in PUBLIC_TABLES["payments"]["columns"].items()}
SCHEDULE = [(column, _LABELS.get(column, _LABELS["status"]), kind) for column, kind in _COLUMNS]
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class ScheduleInfo:
    region_name: str
    quarter: Quarter
    status: str  # 初步 or 已公布
    generated_at: datetime
    inputs_fingerprint: str
    rules_fingerprint: str

    region_code: str = ""  # the validated 6-digit code: the file name's fallback

    @property
    def stem(self) -> str:
        return f"{file_name_part(self.region_name, self.region_code)}_{self.quarter.label}_资金拨付计划_{self.status}"

    @property
    def banner(self) -> str:
        return (f"{self.region_name} {self.quarter.label} 资金拨付计划 — 状态:{self.status}"
                + ("(未公布,仅供核对,不作拨付依据)" if self.status == UNPUBLISHED_LABEL else ""))


_PLAIN_NAME = re.compile(r"[\u3400-\u9fffA-Za-z0-9·()()\-]{1,40}")


def file_name_part(name: str, code: str) -> str:
    """A region's name as part of a file name: names are data, never paths. A name of Chinese
    characters, letters, digits, dots in names and brackets is kept (会宁县); any other (a slash,
    "..", "*", a newline, markup...) gives way to the validated 6-digit code."""
    return name if _PLAIN_NAME.fullmatch(name or "") else f"区县{code}"


def schedule_rows(payments: pd.DataFrame, info: ScheduleInfo) -> pd.DataFrame:
    """The schedule as a table: one row per provider, status text with the held reason."""
    table = payments.copy()
    table["status_text"] = [
        f"{HELD_LABEL}:{reason}" if status == HELD else info.status
        for status, reason in zip(table["status"], table["reason"])
    ]
    return table


def totals(rows: pd.DataFrame) -> dict[str, Decimal]:
    return {column: sum((v for v in rows[column] if v is not None), ZERO)
            for column, _, kind in SCHEDULE if kind == "money"}


def write_csv(rows: pd.DataFrame, path: Path) -> None:
    """The schedule in the spreadsheet dialect (files.spreadsheet_csv), with a totals row."""
    sums = totals(rows)
    table = pd.DataFrame(
        [{label: str(row[c]) if kind == "text" else row[c] for c, label, kind in SCHEDULE}
         for _, row in rows.iterrows()]
        + [{label: f"{sums[c]:.2f}" if kind == "money" else ("合计" if c == "provider_name" else "")
            for c, label, kind in SCHEDULE}],
        columns=[label for _, label, _ in SCHEDULE])
    write_bytes(Path(path), spreadsheet_csv(table, [label for _, label, kind in SCHEDULE if kind == "text"]))


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def write_xlsx(rows: pd.DataFrame, deductions: pd.DataFrame, rules: Rules, info: ScheduleInfo,
               path: Path, paid: pd.DataFrame | None = None) -> None:
    # strings_to_formulas off: text is text, whatever it starts with.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    book.set_properties({"title": info.stem, "subject": info.banner, "author": "scoring",
                         "comments": f"code {__version__}; inputs {info.inputs_fingerprint}"})
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "vcenter", "align": "center"})
    money = book.add_format({"num_format": MONEY_FORMAT, "border": 1})
    money_total = book.add_format({"num_format": MONEY_FORMAT, "border": 1, "bold": True, "top": 2})
    score = book.add_format({"num_format": "0.00", "border": 1})
    ratio = book.add_format({"num_format": "0%", "border": 1})
    cell = book.add_format({"border": 1})
    total_label = book.add_format({"bold": True, "border": 1, "top": 2})
    banner = book.add_format({"bold": True, "font_color": "#C00000" if info.status == UNPUBLISHED_LABEL else "#006100"})

    def page_setup(sheet, widths):
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(2)
        sheet.set_header(f"&L&\"-,Bold\"{info.region_name} {info.quarter.label}&C资金拨付计划&R状态:{info.status}")
        sheet.set_footer(f"&L生成时间 {info.generated_at:%Y-%m-%d %H:%M} · 程序版本 {__version__}"
                         f"&C第 &P 页,共 &N 页&R输入指纹 {info.inputs_fingerprint[:16]}")
        for i, width in enumerate(widths):
            sheet.set_column(i, i, width)
        sheet.write_string(0, 0, info.banner, banner)

    # Sheet 付款计划: one row per provider, then real SUM formulas.
    sheet = book.add_worksheet("付款计划")
    page_setup(sheet, [26, 14, 16, 10, 8, 10, 14, 16, 16, 16, 14, 16, 40])
    for col, (_, label, _) in enumerate(SCHEDULE):
        sheet.write_string(2, col, label, header)
    sheet.set_row(2, 34)
    sheet.freeze_panes(3, 1)
    first = 3
    for offset, (_, row) in enumerate(rows.iterrows()):
        r = first + offset
        for col, (column, _, kind) in enumerate(SCHEDULE):
            value = row[column]
            if kind == "text":
                sheet.write_string(r, col, str(value), cell)
            elif _number(value) is None:
                sheet.write_blank(r, col, None, cell)
            else:
                fmt = {"money": money, "score": score, "ratio": ratio}[kind]
                sheet.write_number(r, col, _number(value), fmt)
    last = first + len(rows) - 1
    total_row = last + 1
    sums = totals(rows)
    sheet.write_string(total_row, 0, "合计", total_label)
    for col, (column, _, kind) in enumerate(SCHEDULE):
        if kind == "money":
            formula = f"=SUM({xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)})"
            sheet.write_formula(total_row, col, formula, money_total, float(sums[column]))
        elif col:
            sheet.write_blank(total_row, col, None, total_label)
    sheet.write_string(total_row + 2, 0,
                       "拨付金额 = max(0, 应付金额 × 拨付比例 − 抽查扣款);暂扣及扣减 = 应付金额 − 拨付金额。"
                       "暂缓:本季度不能评级,资金暂缓拨付,原因见状态栏。")

    # Sheet 扣减明细: each inspection finding behind a deduction, no personal data.
    sheet = book.add_worksheet("扣减明细")
    page_setup(sheet, [16, 12, 14, 26, 12, 14, 14])
    labels = ["抽查编号", "抽查日期", "乡镇", "服务机构", "抽查结果", "扣款(元)", "扣分"]
    for col, label in enumerate(labels):
        sheet.write_string(2, col, label, header)
    sheet.freeze_panes(3, 0)
    for offset, (_, row) in enumerate(deductions.iterrows()):
        r = 3 + offset
        sheet.write_string(r, 0, str(row["inspection_id"]), cell)
        sheet.write_string(r, 1, str(row["inspected_on"])[:10], cell)
        sheet.write_string(r, 2, str(row["township"]), cell)
        sheet.write_string(r, 3, str(row["provider_name"]), cell)
        sheet.write_string(r, 4, RESULT_LABELS.get(row["result"], str(row["result"])), cell)
        sheet.write_number(r, 5, float(Decimal(str(row["deduction_yuan"]))), money)
        sheet.write_number(r, 6, float(row["points"]), score)
    if len(deductions):
        r = 3 + len(deductions)
        sheet.write_string(r, 0, "合计", total_label)
        sheet.write_formula(r, 5, f"=SUM(F4:F{r})", money_total,
                            float(sum((Decimal(str(v)) for v in deductions["deduction_yuan"]), ZERO)))

    # Sheet 实际拨付: planned against what finance recorded in paid.csv, per contract.
    if paid is not None:
        sheet = book.add_worksheet("实际拨付")
        page_setup(sheet, [26, 20, 16, 16, 16, 10, 14, 40])
        labels = ["服务机构", "合同编号", "计划拨付(元)", "实际拨付(元)", "差额(元)", "凭证数",
                  "最近支付日期", "说明"]
        for col, label in enumerate(labels):
            sheet.write_string(2, col, label, header)
        sheet.freeze_panes(3, 0)
        for offset, row in enumerate(paid.itertuples(index=False)):
            r = 3 + offset
            sheet.write_string(r, 0, str(row.provider_name), cell)
            sheet.write_string(r, 1, str(row.contract_id), cell)
            sheet.write_number(r, 2, _number(row.planned), money)
            sheet.write_number(r, 3, _number(row.paid), money)
            sheet.write_formula(r, 4, f"=D{r + 1}-C{r + 1}", money, _number(row.difference))
            sheet.write_number(r, 5, int(row.vouchers), cell)
            sheet.write_string(r, 6, str(row.last_paid_on), cell)
            sheet.write_string(r, 7, str(row.reason), cell)
        r = 3 + len(paid)
        sheet.write_string(r, 0, "合计", total_label)
        for col, letter, column in ((2, "C", "planned"), (3, "D", "paid"), (4, "E", "difference")):
            sheet.write_formula(r, col, f"=SUM({letter}4:{letter}{r})", money_total,
                                _number(sum(paid[column], ZERO)))
        sheet.write_string(r + 2, 0, "计划拨付 = 付款计划的合计应付;实际拨付 = 财务在 paid.csv 中登记的支付凭证之和。"
                           "差额为负的尚需补拨,为正的应在下次拨付中扣回。", bold)

    # Sheet 规则: the rules actually used.
    sheet = book.add_worksheet("规则")
    page_setup(sheet, [34, 40, 60])
    sheet.write_string(2, 0, "规则 rule", header)
    sheet.write_string(2, 1, "取值 value", header)
    sheet.write_string(2, 2, "说明(METHODOLOGY.md)", header)
    texts = rule_texts()
    for offset, (name, value) in enumerate(rules_rows(rules)):
        sheet.write_string(3 + offset, 0, name, cell)
        sheet.write_string(3 + offset, 1, value, cell)
        sheet.write_string(3 + offset, 2, f"{texts[name].title}:{texts[name].explanation}", cell)
    sheet.write_string(4 + len(rules_rows(rules)), 0, f"规则指纹 {info.rules_fingerprint}", bold)
    try:
        book.close()
    except FileCreateError as error:  # xlsxwriter wraps the OSError of a failed write
        cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
        if cause is None:
            raise
        raise OSError(cause.errno, cause.strerror, cause.filename or str(path)) from error


def rules_rows(rules: Rules) -> list[tuple[str, str]]:
    out = []
    for name, value in rules.model_dump(mode="json").items():
        if isinstance(value, dict):
            text = ";".join(f"{k} {v}" for k, v in value.items())
        else:
            text = "未设置" if value is None else str(value)
        out.append((name, text))
    return out


def deduction_rows(findings: pd.DataFrame, names: dict[str, str], rules: Rules) -> pd.DataFrame:
    """Inspection findings behind a monetary or point deduction, with the provider's name."""
    table = findings[(findings["result"] != "pass")
                     | (findings["deduction_yuan"].map(lambda v: Decimal(str(v))) > 0)].copy()
    table["provider_name"] = table["provider_id"].map(names)
    table["points"] = [rules.points_per_falsified if r == "falsified" else 0 for r in table["result"]]
    return table.sort_values(["inspected_on", "inspection_id"], kind="stable")


def published_status(site_dir: Path, region: str, quarter: Quarter, payments_sha256: str) -> str:
    """已公布 when the quarter's public manifest records exactly these payments, else 初步."""
    manifest = Path(site_dir) / DISCLOSURES / region / str(quarter) / MANIFEST
    if not manifest.is_file():
        return UNPUBLISHED_LABEL
    recorded = json.loads(manifest.read_text(encoding="utf-8")).get("results", {})
    return PUBLISHED_LABEL if recorded.get("payments.csv") == payments_sha256 else UNPUBLISHED_LABEL


def build_schedule(validated: ValidatedLayer, results: ResultsLayer, out_dir: Path,
                   site_dir: Path, generated_at: datetime | None = None) -> list[Path]:
    """Write the .xlsx and .csv schedule of a scored quarter from its results layer, with the
    rules its results were made with."""
    run = results.record
    quarter = Quarter.parse(run["quarter"])
    payments = results.table("payments")
    findings = results.trace("inspections")
    names = dict(zip(payments["provider_id"], payments["provider_name"]))
    rules = results.rules
    info = ScheduleInfo(
        region_name=run["region_name"], region_code=run["region_code"], quarter=quarter,
        status=published_status(site_dir, run["region"], quarter, results.hashes()["payments.csv"]),
        generated_at=generated_at or datetime.now().astimezone(),
        inputs_fingerprint=run["inputs_fingerprint"], rules_fingerprint=run["rules_fingerprint"],
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"{file_name_part(run['region_name'], run['region_code'])}_{quarter.label}_资金拨付计划_"
    rows = schedule_rows(payments, info)
    xlsx, csv_path = out_dir / f"{info.stem}.xlsx", out_dir / f"{info.stem}.csv"
    # each file is written beside its place and renamed in: a failed write (a full disk) leaves
    # the previous schedule as it was
    with written_file(xlsx) as aside:
        write_xlsx(rows, deduction_rows(findings, names, rules), rules, info, aside, results.table("paid"))
    with written_file(csv_path) as aside:
        write_csv(rows, aside)
    for stale in (p for p in out_dir.iterdir() if p.is_file() and p.name.startswith(prefix)
                  and p not in (xlsx, csv_path)):
        stale.unlink()  # one schedule per quarter: a preliminary one never lingers beside the published
    return [xlsx, csv_path]
