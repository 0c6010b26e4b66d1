"""The finance workbook: the payment-release schedule by grade, as .xlsx and .csv.

Finance staff release public money from this file, once, and print it for signatures, so:

- every figure comes from the results layer (`payments.csv`, `paid.csv`, `trace/`), in Decimal;
  every total, subtotal, subsidy and ledger figure that can be is a real formula (its value
  computed here and cached), so a spreadsheet recalculates it to the cent;
- the version (第 N 版) and status (初步 until exactly these results are published, then 已公布)
  are in the file name, on every sheet and in the print header; the version is the publication's
  (`site/disclosures/<region>/<quarter>/manifest.json`): a schedule of published results is that
  version, one of results not yet published is the next. A published version's files are never
  rewritten or deleted; a revision's workbook shows, per provider, what the paid version said, what
  is due now, and the 补拨 or 追回 to carry into the next payment;
- it prints: landscape A4, one page wide, header rows repeated, columns as wide as their content
  (a Chinese character counts double), page x of y and the time in Beijing time in the footer;
- the list of the people the subsidies are paid for (名单) is internal: it stays in build/payments;
- no cell text is ever written as a formula (spreadsheet formula injection).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from scoring import __version__
from scoring.engine.money import ZERO, yuan
from scoring.engine.payments import HELD, care_rows, escort_rows
from scoring.files import spreadsheet_csv, write_bytes, written_file
from scoring.inputs.layer import ValidatedLayer
from scoring.inputs.methodology import rule_texts
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.outputs.pages import HOSPITAL_LEVEL_LABELS, rule_value
from scoring.outputs.public import PUBLIC_TABLES
from scoring.outputs.results import RUN_FILE, ResultsLayer
from scoring.outputs.store import DISCLOSURES, LOCAL, MANIFEST
from scoring.refusal import Code, Refusal

UNPUBLISHED_LABEL = "初步"
PUBLISHED_LABEL = "已公布"
HELD_LABEL = "暂缓"
RESULT_LABELS = {"pass": "合格", "poor": "效果差", "falsified": "弄虚作假"}
TOP_UP, CLAW_BACK, NO_CHANGE = "补拨", "追回", "无差额"
INTERNAL_SHEET = "补贴对象名单(内部)"

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
_INDEX = {column: i for i, (column, _, _) in enumerate(SCHEDULE)}
MONEY_FORMAT = "#,##0.00"
PAYMENTS_PROPERTY = "payments_sha256"  # the workbook's record of the payments it shows
FIRST_ROW = 3  # 0-based: the banner, a blank line, the header row, then data


@dataclass(frozen=True)
class ScheduleInfo:
    region_name: str
    quarter: Quarter
    status: str  # 初步 or 已公布
    generated_at: datetime
    inputs_fingerprint: str
    rules_fingerprint: str

    region_code: str = ""  # the validated 6-digit code: the file name's fallback
    version: int = 1  # the publication's version these figures are (or will become, 初步)
    payments_sha256: str = ""  # of the results' payments.csv: recorded in the workbook's properties

    @property
    def version_label(self) -> str:
        return f"第 {self.version} 版"

    @property
    def stem(self) -> str:
        return (f"{file_name_part(self.region_name, self.region_code)}_{self.quarter.label}"
                f"_资金拨付计划_第{self.version}版_{self.status}")

    @property
    def banner(self) -> str:
        return (f"{self.region_name} {self.quarter.label} 资金拨付计划 {self.version_label} — 状态:{self.status}"
                + ("(未公布,仅供核对,不作拨付依据)" if self.status == UNPUBLISHED_LABEL else ""))

    @property
    def beijing_time(self) -> str:
        return f"{self.generated_at.astimezone(LOCAL):%Y-%m-%d %H:%M} 北京时间"


_PLAIN_NAME = re.compile(r"[\u3400-\u9fffA-Za-z0-9·()()\-]{1,40}")


def file_name_part(name: str, code: str) -> str:
    """A region's name as part of a file name: names are data, never paths. A name of Chinese
    characters, letters, digits, dots in names and brackets is kept (会宁县); any other (a slash,
    "..", "*", a newline, markup...) gives way to the validated 6-digit code."""
    return name if _PLAIN_NAME.fullmatch(name or "") else f"区县{code}"


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: a Chinese (wide) character counts double."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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


def _money(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


# what the workbook is made from -------------------------------------------------------------------


@dataclass
class Finance:
    """Everything a schedule shows beyond payments.csv, gathered from the layers."""

    deductions: pd.DataFrame
    paid: pd.DataFrame
    payees: pd.DataFrame  # per provider: credit_code, bank_name, bank_account
    escort: pd.DataFrame  # per escort record: provider, beneficiary, level, units, rate, subsidy
    care: pd.DataFrame  # per beneficiary-month: provider, beneficiary, care level, allowance
    roster: pd.DataFrame  # the beneficiaries (personal data: the internal list only)
    ledger: pd.DataFrame  # per contract and quarter to date: due, release, total, paid
    contracts: pd.DataFrame  # provider_id, name, contract_id, contract_amount, start, end
    previous: dict[str, Decimal] | None = None  # the paid version's 合计应付 per provider
    previous_version: int | None = None
    escort_rates: dict = field(default_factory=dict)
    care_rates: dict = field(default_factory=dict)


# the sheets ---------------------------------------------------------------------------------------


class Page:
    """One printable sheet: cells written through it, columns as wide as their content."""

    def __init__(self, book: "Book", name: str, columns: int) -> None:
        self.book, self.name, self.columns = book, name, columns
        self.sheet = book.workbook.add_worksheet(name)
        self.widths = [0] * columns
        self.notes: list[tuple[int, str, object]] = []
        self.sheet.write_string(0, 0, book.info.banner, book.f["banner"])

    def fit(self, col: int, text: str, wrap: bool = False) -> None:
        width = display_width(text)
        if wrap:  # a header wraps onto two lines at most, never narrower than a word of it
            width = max(max(map(display_width, re.split(r"[((]", text))) if text else 0, math.ceil(width / 2))
        self.widths[col] = max(self.widths[col], width)

    def header(self, row: int, labels: list[str]) -> None:
        for col, label in enumerate(labels):
            self.sheet.write_string(row, col, label, self.book.f["header"])
            self.fit(col, label, wrap=True)
        self.sheet.set_row(row, 32)

    def text(self, row: int, col: int, value, fmt: str = "cell") -> None:
        value = "" if value is None else str(value)
        self.sheet.write_string(row, col, value, self.book.f[fmt])
        self.fit(col, value)

    def number(self, row: int, col: int, value, fmt: str = "money") -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            self.sheet.write_blank(row, col, None, self.book.f[fmt])
            return
        self.sheet.write_number(row, col, float(value), self.book.f[fmt])
        self.fit(col, self._shown(value, fmt))

    def formula(self, row: int, col: int, formula: str, value, fmt: str = "money") -> None:
        self.sheet.write_formula(row, col, formula, self.book.f[fmt], float(value))
        self.fit(col, self._shown(value, fmt))

    @staticmethod
    def _shown(value, fmt: str) -> str:
        if fmt.startswith("money"):
            return f"{_money(value):,.2f}"
        return f"{value:.2f}" if fmt == "score" else str(value)

    def note(self, row: int, text: str, fmt: str = "note") -> None:
        """A sentence across the whole table, wrapped (written when the widths are known)."""
        self.notes.append((row, text, fmt))

    def finish(self, repeat: int = FIRST_ROW - 1) -> None:
        sheet, info = self.sheet, self.book.info
        # a wide character is a little over two units in LibreOffice's and Excel's default fonts
        widths = [min(math.ceil(max(w, 4) * 1.1) + 2, 60) for w in self.widths]
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        for row, text, fmt in self.notes:
            lines = math.ceil(display_width(text) / max(sum(widths) - 2, 1))
            if self.columns > 1:
                sheet.merge_range(row, 0, row, self.columns - 1, text, self.book.f[fmt])
            else:
                sheet.write_string(row, 0, text, self.book.f[fmt])
            sheet.set_row(row, 16 * max(lines, 1) + 2)
        sheet.set_default_row(18)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.75)
        sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        sheet.repeat_rows(repeat)
        region = info.region_name.replace("&", "&&")
        sheet.set_header(f"&L&\"-,Bold\"{region} {info.quarter.label}&C资金拨付计划 {info.version_label}"
                         f" · {self.name.replace('&', '&&')}&R状态:{info.status}")
        sheet.set_footer(f"&L生成时间 {info.beijing_time}&C第 &P 页,共 &N 页"
                         f"&R输入指纹 {info.inputs_fingerprint[:12]}")


class Book:
    def __init__(self, path: Path, info: ScheduleInfo) -> None:
        self.info = info
        # strings_to_formulas off: text is text, whatever it starts with.
        self.workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                                        "strings_to_numbers": False})
        self.workbook.set_properties({"title": info.stem, "subject": info.banner, "author": "scoring",
                                      "comments": f"code {__version__}; inputs {info.inputs_fingerprint}"})
        self.workbook.set_custom_property(PAYMENTS_PROPERTY, info.payments_sha256)
        add = self.workbook.add_format
        published = info.status != UNPUBLISHED_LABEL
        self.f = {
            "banner": add({"bold": True, "font_size": 12, "font_color": "#006100" if published else "#C00000"}),
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                           "valign": "vcenter", "align": "center"}),
            "cell": add({"border": 1, "valign": "vcenter"}),
            "money": add({"num_format": MONEY_FORMAT, "border": 1, "valign": "vcenter"}),
            "money_total": add({"num_format": MONEY_FORMAT, "border": 1, "bold": True, "top": 2, "valign": "vcenter"}),
            "score": add({"num_format": "0.00", "border": 1, "valign": "vcenter"}),
            "ratio": add({"num_format": "0%", "border": 1, "valign": "vcenter"}),
            "count": add({"num_format": "#,##0.0#", "border": 1, "valign": "vcenter"}),
            "count_total": add({"num_format": "#,##0.0#", "border": 1, "bold": True, "top": 2, "valign": "vcenter"}),
            "total": add({"bold": True, "border": 1, "top": 2, "valign": "vcenter"}),
            "subtotal": add({"bold": True, "border": 1, "bg_color": "#F2F2F2", "valign": "vcenter"}),
            "money_subtotal": add({"num_format": MONEY_FORMAT, "border": 1, "bold": True, "bg_color": "#F2F2F2",
                                   "valign": "vcenter"}),
            "item": add({"bold": True, "border": 1, "valign": "top"}),
            "wrapped": add({"text_wrap": True, "border": 1, "valign": "top"}),
            "note": add({"text_wrap": True, "valign": "top"}),
            "warning": add({"text_wrap": True, "valign": "top", "bold": True, "font_color": "#C00000"}),
            "sign": add({"bottom": 1}),
            "bold": add({"bold": True}),
        }

    def close(self, path: Path) -> None:
        try:
            self.workbook.close()
        except FileCreateError as error:  # xlsxwriter wraps the OSError of a failed write
            cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
            if cause is None:
                raise
            raise OSError(cause.errno, cause.strerror, cause.filename or str(path)) from error


def ref(sheet: str, row: int, col: int) -> str:
    """A cell of another sheet, as a formula names it."""
    return f"{quote_sheetname(sheet)}!{xl_rowcol_to_cell(row, col)}"


def write_xlsx(rows: pd.DataFrame, finance: Finance, rules: Rules, info: ScheduleInfo, path: Path) -> None:
    book = Book(path, info)
    main_page = Page(book, "付款计划", len(SCHEDULE))  # first: the sheets are in reading order
    escort_cells = _escort_sheet(book, rows, finance) if rules.escort_rates is not None else {}
    care_cells = _care_sheet(book, rows, finance) if rules.care_tier_rates is not None else {}
    _schedule_sheet(main_page, rows, escort_cells, care_cells, finance, info)
    if finance.previous is not None:
        _adjustment_sheet(book, rows, finance)
    _payee_sheet(book, rows, finance)
    _deductions_sheet(book, finance.deductions)
    _paid_sheet(book, finance.paid)
    _ledger_sheet(book, finance, info)
    if escort_cells or care_cells:
        _internal_sheet(book, finance)
    _notes_sheet(book, rules, info)
    book.close(path)


def _schedule_sheet(page: Page, rows: pd.DataFrame, escort_cells: dict, care_cells: dict,
                    finance: Finance, info: ScheduleInfo) -> None:
    """付款计划: one row per provider; subsidies from their detail sheets, 合计应付 and the totals
    as formulas."""
    page.header(FIRST_ROW - 1, [label for _, label, _ in SCHEDULE])
    page.sheet.freeze_panes(FIRST_ROW, 1)
    col_of = {c: xl_col_to_name(i) for c, i in _INDEX.items()}
    for offset, (_, row) in enumerate(rows.iterrows()):
        r = FIRST_ROW + offset
        for col, (column, _, kind) in enumerate(SCHEDULE):
            value = row[column]
            if kind == "text":
                page.text(r, col, value)
            elif column == "escort_subsidy" and row["provider_id"] in escort_cells:
                page.formula(r, col, f"={escort_cells[row['provider_id']]}", value)
            elif column == "care_allowance" and row["provider_id"] in care_cells:
                page.formula(r, col, f"={care_cells[row['provider_id']]}", value)
            elif column == "total_to_pay":
                parts = "+".join(f"N({col_of[c]}{r + 1})" for c in ("release", "escort_subsidy", "care_allowance"))
                page.formula(r, col, f"=ROUND({parts},2)", value)
            else:
                page.number(r, col, value, {"money": "money", "score": "score", "ratio": "ratio"}[kind])
    last = FIRST_ROW + len(rows) - 1
    total_row = last + 1
    sums = totals(rows)
    page.text(total_row, 0, "合计", "total")
    for col, (column, _, kind) in enumerate(SCHEDULE):
        if kind == "money":
            formula = f"=SUM({xl_rowcol_to_cell(FIRST_ROW, col)}:{xl_rowcol_to_cell(last, col)})"
            page.formula(total_row, col, formula, sums[column], "money_total")
        elif col:
            page.sheet.write_blank(total_row, col, None, page.book.f["total"])
    row = total_row + 2
    page.note(row, "拨付金额 = max(0, 应付金额 × 拨付比例 − 抽查扣款);暂扣及扣减 = 应付金额 − 拨付金额;"
                   "合计应付 = 拨付金额 + 陪护补贴 + 护理补贴(补贴明细见各自的表)。"
                   "暂缓:本季度不能评级,资金暂缓拨付,原因见状态栏。每个数字的规则见「说明」表。")
    if finance.previous is not None:
        change = sum((_money(v) for v in rows["total_to_pay"]), ZERO) - sum(finance.previous.values(), ZERO)
        row += 1
        page.note(row, f"本表为{info.version_label},更正第 {finance.previous_version} 版。财务已按第 "
                       f"{finance.previous_version} 版拨付的,不重新拨付全额:各机构的差额(补拨或追回)见"
                       f"「更正差额」表,在下次拨付时一并处理;合计:{adjustment_text(change)}。", "warning")
    row += 2
    page.sheet.write_string(row, 0, "审批", page.book.f["bold"])
    for i, role in enumerate(("经办人", "审核", "批准")):
        r = row + 1 + 2 * i
        page.sheet.write_string(r, 0, f"{role}(签字):", page.book.f["bold"])
        page.sheet.write_blank(r, 1, None, page.book.f["sign"])
        page.sheet.write_blank(r, 2, None, page.book.f["sign"])
        page.sheet.write_string(r, 3, "日期:", page.book.f["bold"])
        page.sheet.write_blank(r, 4, None, page.book.f["sign"])
        page.sheet.write_blank(r, 5, None, page.book.f["sign"])
        page.sheet.set_row(r, 26)
    page.finish()


def _detail_sheet(book: Book, name: str, labels: list[str], rows: pd.DataFrame, lines: pd.DataFrame,
                  key: str, amount: str, units: str, rates: dict, level_text, note: str) -> dict[str, str]:
    """A subsidy's detail: per provider and level (or tier), units × rate = amount, a subtotal per
    provider (which 付款计划 refers to) and the total. Returns provider_id -> its subtotal cell."""
    page = Page(book, name, len(labels))
    page.header(FIRST_ROW - 1, labels)
    page.sheet.freeze_panes(FIRST_ROW, 0)
    cells, subtotal_rows, r = {}, [], FIRST_ROW
    grand = ZERO
    for _, provider in rows.iterrows():
        pid = provider["provider_id"]
        mine = lines[lines["provider_id"] == pid]
        first, subtotal = r, ZERO
        for level, rate in rates.items():
            chosen = mine[mine[key] == level]
            if not len(chosen):
                continue
            count = sum((_money(u) for u in chosen[units]), ZERO)
            value = yuan(count * rate)
            page.text(r, 0, provider["provider_name"])
            page.text(r, 1, level_text(level))
            page.number(r, 2, count, "count")
            page.number(r, 3, rate)
            page.formula(r, 4, f"=ROUND(C{r + 1}*D{r + 1},2)", value)
            subtotal += value
            r += 1
        page.text(r, 0, f"{provider['provider_name']} 小计", "subtotal")
        page.text(r, 1, "", "subtotal")
        page.formula(r, 2, f"=SUM(C{first + 1}:C{r})" if r > first else "=0",
                     sum((_money(u) for u in mine[units]), ZERO), "count_total")
        page.text(r, 3, "", "subtotal")
        page.formula(r, 4, f"=SUM(E{first + 1}:E{r})" if r > first else "=0", subtotal, "money_subtotal")
        expected = provider[amount]
        if expected is not None and yuan(subtotal) != yuan(_money(expected)):  # an invariant, not user data
            raise ValueError(f"{name}: {pid} detail {subtotal} != payments.csv {expected}")
        cells[pid] = ref(name, r, 4)
        subtotal_rows.append(r + 1)
        grand += subtotal
        r += 1
    page.text(r, 0, "合计", "total")
    page.text(r, 1, "", "total")
    page.formula(r, 2, "=" + "+".join(f"C{x}" for x in subtotal_rows) if subtotal_rows else "=0",
                 sum((_money(u) for u in lines[units]), ZERO), "count_total")
    page.text(r, 3, "", "total")
    page.formula(r, 4, "=" + "+".join(f"E{x}" for x in subtotal_rows) if subtotal_rows else "=0", grand,
                 "money_total")
    page.note(r + 2, note)
    page.finish()
    return cells


def _escort_sheet(book: Book, rows: pd.DataFrame, finance: Finance) -> dict[str, str]:
    return _detail_sheet(
        book, "陪护补贴明细", ["服务机构", "医院级别", "陪护人天", "标准(元/人天)", "金额(元)"], rows,
        finance.escort, "hospital_level", "escort_subsidy", "units", finance.escort_rates,
        lambda level: HOSPITAL_LEVEL_LABELS.get(level, level),
        "陪护补贴 = 陪护人天 × 该级别医院的补贴标准(规则 escort_rates);人天取服务记录中已完成的住院陪护天数。"
        "各机构的小计即付款计划中的「陪护补贴」。领取人名单见「补贴对象名单(内部)」表。")


def _care_sheet(book: Book, rows: pd.DataFrame, finance: Finance) -> dict[str, str]:
    care = finance.care.assign(one=1)
    return _detail_sheet(
        book, "护理补贴明细", ["服务机构", "护理等级", "人月", "标准(元/人月)", "金额(元)"], rows,
        care, "care_level", "care_allowance", "one", finance.care_rates, str,
        "护理补贴 = 人月 × 该护理等级的月补贴标准(规则 care_tier_rates);只计整月在册的月份。"
        "各机构的小计即付款计划中的「护理补贴」。领取人名单见「补贴对象名单(内部)」表。")


def _adjustment_sheet(book: Book, rows: pd.DataFrame, finance: Finance) -> None:
    """更正差额: what the paid version said, what is due now, and the 补拨 or 追回."""
    page = Page(book, "更正差额", 6)
    before = f"第 {finance.previous_version} 版合计应付(已拨付)"
    page.header(FIRST_ROW - 1, ["服务机构", "合同编号", before, "本版合计应付", "差额(元)", "下次拨付时"])
    total_col = _INDEX["total_to_pay"]
    for offset, (_, row) in enumerate(rows.iterrows()):
        r = FIRST_ROW + offset
        old = finance.previous.get(row["provider_id"], ZERO)
        new = _money(row["total_to_pay"])
        page.text(r, 0, row["provider_name"])
        page.text(r, 1, row["contract_id"])
        page.number(r, 2, old)
        page.formula(r, 3, f"={ref('付款计划', r, total_col)}", new)
        page.formula(r, 4, f"=D{r + 1}-C{r + 1}", new - old)
        page.text(r, 5, adjustment_text(new - old))
    r = FIRST_ROW + len(rows)
    page.text(r, 0, "合计", "total")
    page.text(r, 1, "", "total")
    for col, letter, value in ((2, "C", sum(finance.previous.values(), ZERO)),
                               (3, "D", sum((_money(v) for v in rows["total_to_pay"]), ZERO))):
        page.formula(r, col, f"=SUM({letter}{FIRST_ROW + 1}:{letter}{r})", value, "money_total")
    page.formula(r, 4, f"=D{r + 1}-C{r + 1}",
                 sum((_money(v) for v in rows["total_to_pay"]), ZERO) - sum(finance.previous.values(), ZERO),
                 "money_total")
    page.text(r, 5, "", "total")
    page.note(r + 2, f"第 {finance.previous_version} 版已公布,财务据以拨付;本版更正后,差额为正的在下次拨付时补拨,"
                     "为负的在下次拨付时追回(从应付款中扣减),不另行退款或重新拨付全额。")
    page.finish()


def adjustment_text(change: Decimal) -> str:
    if change > 0:
        return f"{TOP_UP} {change:,.2f} 元"
    if change < 0:
        return f"{CLAW_BACK} {-change:,.2f} 元"
    return NO_CHANGE


def _payee_sheet(book: Book, rows: pd.DataFrame, finance: Finance) -> None:
    """收款信息: per payee, who is paid, where, and how much (from 付款计划)."""
    revised = finance.previous is not None
    labels = ["服务机构", "统一社会信用代码", "开户行", "账号", "合同编号", "本期合计应付(元)"]
    page = Page(book, "收款信息", len(labels) + (2 if revised else 0))
    page.header(FIRST_ROW - 1, labels + (["更正差额(元)", "下次拨付时"] if revised else []))
    payees = finance.payees.set_index("provider_id")
    for offset, (_, row) in enumerate(rows.iterrows()):
        r = FIRST_ROW + offset
        payee = payees.loc[row["provider_id"]] if row["provider_id"] in payees.index else {}
        page.text(r, 0, row["provider_name"])
        for col, column in ((1, "credit_code"), (2, "bank_name"), (3, "bank_account")):
            page.text(r, col, (payee.get(column) if len(payee) else "") or "未填报")
        page.text(r, 4, row["contract_id"])
        page.formula(r, 5, f"={ref('付款计划', r, _INDEX['total_to_pay'])}", row["total_to_pay"])
        if revised:
            change = _money(row["total_to_pay"]) - finance.previous.get(row["provider_id"], ZERO)
            page.formula(r, 6, f"={ref('更正差额', r, 4)}", change)
            page.text(r, 7, adjustment_text(change))
    page.note(FIRST_ROW + len(rows) + 1, "开户行、账号、统一社会信用代码取自 providers.csv(校验:账号为 8 到 30 位数字,"
                                         "信用代码按 GB 32100-2015 核对校验码);「未填报」的请向机构核实后再拨付。")
    page.finish()


def _deductions_sheet(book: Book, deductions: pd.DataFrame) -> None:
    """扣减明细: each inspection finding behind a deduction: which month's service, when inspected."""
    labels = ["抽查编号", "服务月份", "抽查日期", "乡镇", "服务机构", "抽查结果", "扣款(元)", "扣分", "说明"]
    page = Page(book, "扣减明细", len(labels))
    page.header(FIRST_ROW - 1, labels)
    page.sheet.freeze_panes(FIRST_ROW, 0)
    for offset, (_, row) in enumerate(deductions.iterrows()):
        r = FIRST_ROW + offset
        page.text(r, 0, row["inspection_id"])
        page.text(r, 1, row["service_month"])
        page.text(r, 2, str(row["inspected_on"])[:10])
        page.text(r, 3, row["township"])
        page.text(r, 4, row["provider_name"])
        page.text(r, 5, RESULT_LABELS.get(row["result"], str(row["result"])))
        page.number(r, 6, _money(row["deduction_yuan"]))
        page.number(r, 7, float(row["points"]), "score")
        page.text(r, 8, row["when"])
    r = FIRST_ROW + len(deductions)
    if len(deductions):
        page.text(r, 0, "合计", "total")
        page.formula(r, 6, f"=SUM(G{FIRST_ROW + 1}:G{r})",
                     sum((_money(v) for v in deductions["deduction_yuan"]), ZERO), "money_total")
    page.note(r + 2, "每月的服务在次月 10 日前抽查,所以一个季度最后一个月的服务,其抽查日期在下一季度的"
                     "头 10 天内(如第三季度 9 月的服务在 10 月 1 日至 10 日抽查);扣款计入所抽查服务所在的季度。")
    page.finish()


def _paid_sheet(book: Book, paid: pd.DataFrame) -> None:
    """实际拨付: planned against what finance recorded in paid.csv, per contract."""
    labels = ["服务机构", "合同编号", "计划拨付(元)", "实际拨付(元)", "差额(元)", "凭证数", "最近支付日期", "说明"]
    page = Page(book, "实际拨付", len(labels))
    page.header(FIRST_ROW - 1, labels)
    page.sheet.freeze_panes(FIRST_ROW, 0)
    for offset, row in enumerate(paid.itertuples(index=False)):
        r = FIRST_ROW + offset
        page.text(r, 0, row.provider_name)
        page.text(r, 1, row.contract_id)
        page.number(r, 2, row.planned)
        page.number(r, 3, row.paid)
        page.formula(r, 4, f"=D{r + 1}-C{r + 1}", row.difference)
        page.number(r, 5, int(row.vouchers), "cell")
        page.text(r, 6, row.last_paid_on)
        page.text(r, 7, row.reason)
    r = FIRST_ROW + len(paid)
    page.text(r, 0, "合计", "total")
    for col, letter, column in ((2, "C", "planned"), (3, "D", "paid"), (4, "E", "difference")):
        page.formula(r, col, f"=SUM({letter}{FIRST_ROW + 1}:{letter}{r})", sum(paid[column], ZERO), "money_total")
    page.note(r + 2, "计划拨付 = 付款计划的合计应付;实际拨付 = 财务在 paid.csv 中登记的支付凭证之和。"
                     "差额为负的尚需补拨,为正的应在下次拨付中扣回。")
    page.finish()


def _ledger_sheet(book: Book, finance: Finance, info: ScheduleInfo) -> None:
    """合同台账: each contract quarter by quarter to this one, then its balance, then the year's
    budget against actual spend; every sum a formula."""
    labels = ["合同编号", "服务机构", "季度", "应付服务费(元)", "计划拨付服务费(元)", "计划拨付合计(含补贴)",
              "实际拨付(含补贴)"]
    page = Page(book, "合同台账", 8)  # the year's table below has one column more
    page.header(FIRST_ROW - 1, labels)
    ledger = finance.ledger
    for offset, row in enumerate(ledger.itertuples(index=False)):
        r = FIRST_ROW + offset
        page.text(r, 0, row.contract_id)
        page.text(r, 1, row.provider_name)
        page.text(r, 2, Quarter.parse(row.quarter).label)
        page.number(r, 3, row.amount_due)
        page.number(r, 4, row.release)
        page.number(r, 5, row.total_to_pay)
        page.number(r, 6, row.paid)
    first, last = FIRST_ROW + 1, FIRST_ROW + len(ledger)
    # the balance of each contract
    r = FIRST_ROW + len(ledger) + 1
    page.header(r, ["合同编号", "服务机构", "合同金额(元)", "累计应付服务费(元)", "累计计划拨付服务费(元)",
                    "累计实际拨付(含补贴)", "合同余额(元)"])
    for offset, c in enumerate(finance.contracts.itertuples(index=False)):
        x = r + 1 + offset
        mine = ledger[ledger["contract_id"] == c.contract_id]
        due = sum(mine["amount_due"], ZERO)
        release = sum(mine["release"], ZERO)
        paid = sum((v for v in mine["paid"] if v is not None), ZERO)
        cond = f"$A${first}:$A${last},A{x + 1}"
        page.text(x, 0, c.contract_id)
        page.text(x, 1, c.name)
        page.number(x, 2, c.contract_amount)
        page.formula(x, 3, f"=SUMIF({cond},$D${first}:$D${last})", due)
        page.formula(x, 4, f"=SUMIF({cond},$E${first}:$E${last})", release)
        page.formula(x, 5, f"=SUMIF({cond},$G${first}:$G${last})", paid)
        page.formula(x, 6, f"=C{x + 1}-E{x + 1}", _money(c.contract_amount) - release)
    # the year: the service-fee budget against what was planned, and planned against paid
    year = info.quarter.year
    y = r + len(finance.contracts) + 2
    page.header(y, ["年度", "合同编号", "服务费预算(元)", "计划拨付服务费(元)", "预算执行率", "计划拨付合计(含补贴)",
                    "实际拨付(含补贴)", "尚待拨付(元)"])
    in_year = f'$C${first}:$C${last},"{year}年*"'
    sums = {col: ZERO for col in (2, 3, 5, 6, 7)}
    for offset, c in enumerate(finance.contracts.itertuples(index=False)):
        x = y + 1 + offset
        mine = ledger[(ledger["contract_id"] == c.contract_id) & ledger["quarter"].str.startswith(str(year))]
        values = {2: year_budget(_money(c.contract_amount), c.contract_start, c.contract_end, year),
                  3: sum(mine["release"], ZERO), 5: sum(mine["total_to_pay"], ZERO),
                  6: sum((v for v in mine["paid"] if v is not None), ZERO)}
        values[7] = values[5] - values[6]
        cond = f"$A${first}:$A${last},B{x + 1},{in_year}"
        page.text(x, 0, f"{year}年")
        page.text(x, 1, c.contract_id)
        page.number(x, 2, values[2])
        page.formula(x, 3, f"=SUMIFS($E${first}:$E${last},{cond})", values[3])
        page.formula(x, 4, f"=IF(C{x + 1}=0,0,D{x + 1}/C{x + 1})",
                     float(values[3] / values[2]) if values[2] else 0, "ratio")
        page.formula(x, 5, f"=SUMIFS($F${first}:$F${last},{cond})", values[5])
        page.formula(x, 6, f"=SUMIFS($G${first}:$G${last},{cond})", values[6])
        page.formula(x, 7, f"=F{x + 1}-G{x + 1}", values[7])
        for col in sums:
            sums[col] += values[col]
    x = y + 1 + len(finance.contracts)
    page.text(x, 0, "合计", "total")
    page.text(x, 1, "", "total")
    for col, value in sums.items():
        letter = xl_col_to_name(col)
        page.formula(x, col, f"=SUM({letter}{y + 2}:{letter}{x})", value, "money_total")
    page.text(x, 4, "", "total")
    page.note(x + 2, "台账由 build/results 中本季度及以前各季度的评分结果汇成(未评分的季度不在其中);"
                     "实际拨付取各季度 paid.csv 的支付凭证(含补贴),没有 paid.csv 的季度为空。合同余额 = 合同金额 − "
                     "累计计划拨付服务费(补贴不占合同金额)。服务费预算 = 合同金额按合同在该年的天数折算;"
                     "尚待拨付 = 计划拨付合计 − 实际拨付。")
    page.finish()


def year_budget(amount: Decimal, start, end, year: int) -> Decimal:
    """A contract's amount pro rata to its days in `year` (both ends inclusive)."""
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    inside = (min(end, date(year, 12, 31)) - max(start, date(year, 1, 1))).days + 1
    return yuan(amount * max(inside, 0) / ((end - start).days + 1))


def _internal_sheet(book: Book, finance: Finance) -> None:
    """补贴对象名单(内部): who each subsidy is paid for, with the roster's name and ID number.
    Personal data: it stays in this workbook, in build/payments, and is never published."""
    labels = ["服务机构", "对象编号", "姓名(领取人)", "身份证号", "联系电话", "乡镇", "村",
              "陪护人天", "陪护补贴(元)", "护理人月", "护理补贴(元)", "合计(元)"]
    page = Page(book, INTERNAL_SHEET, len(labels))
    page.header(FIRST_ROW - 1, labels)
    page.sheet.freeze_panes(FIRST_ROW, 3)
    escort = finance.escort.groupby("beneficiary_id").agg(
        days=("units", lambda s: sum((_money(u) for u in s), ZERO)),
        subsidy=("subsidy", lambda s: sum((_money(u) for u in s), ZERO)))
    care = finance.care.groupby("beneficiary_id").agg(
        months=("month", "size"), allowance=("allowance", lambda s: sum((_money(u) for u in s), ZERO)))
    people = sorted(set(escort.index) | set(care.index))
    roster = finance.roster.set_index("beneficiary_id")
    names = dict(zip(finance.contracts["provider_id"], finance.contracts["name"]))
    for offset, bid in enumerate(people):
        r = FIRST_ROW + offset
        person = roster.loc[bid]
        e_days = escort["days"].get(bid, ZERO)
        e_yuan = yuan(escort["subsidy"].get(bid, ZERO))
        c_months = int(care["months"].get(bid, 0))
        c_yuan = yuan(care["allowance"].get(bid, ZERO))
        page.text(r, 0, names.get(person["provider_id"], person["provider_id"]))
        page.text(r, 1, bid)
        page.text(r, 2, person["name"])
        page.text(r, 3, person["id_number"])
        page.text(r, 4, person["phone"])
        page.text(r, 5, person["township"])
        page.text(r, 6, person["village"])
        page.number(r, 7, e_days, "count")
        page.number(r, 8, e_yuan)
        page.number(r, 9, c_months, "count")
        page.number(r, 10, c_yuan)
        page.formula(r, 11, f"=I{r + 1}+K{r + 1}", e_yuan + c_yuan)
    r = FIRST_ROW + len(people)
    page.text(r, 0, "合计", "total")
    for col in (7, 8, 9, 10, 11):
        letter = xl_col_to_name(col)
        value = {7: sum(escort["days"], ZERO), 8: yuan(sum(escort["subsidy"], ZERO)),
                 9: Decimal(int(care["months"].sum())), 10: yuan(sum(care["allowance"], ZERO))}.get(col)
        value = value if value is not None else yuan(sum(escort["subsidy"], ZERO)) + yuan(sum(care["allowance"], ZERO))
        page.formula(r, col, f"=SUM({letter}{FIRST_ROW + 1}:{letter}{r})", value,
                     "count_total" if col in (7, 9) else "money_total")
    page.note(1, "内部资料:含个人信息(姓名、身份证号、电话),仅供财务核发补贴,不得公开、不得上传网站、不得外传。"
                 "名册中没有监护人信息,领取人为服务对象本人;由监护人代领的,凭监护关系证明办理。", "warning")
    page.finish()


def _notes_sheet(book: Book, rules: Rules, info: ScheduleInfo) -> None:
    """说明: how each number was made, in plain Chinese; 规则: every rule used with its value."""
    page = Page(book, "说明", 4)
    page.sheet.write_string(FIRST_ROW - 1, 0, "项目", book.f["header"])
    page.sheet.merge_range(FIRST_ROW - 1, 1, FIRST_ROW - 1, 3, "怎么算出来的", book.f["header"])
    lines = [
        ("应付金额", "合同金额按合同天数折算到本季度:合同金额 × 本季度内的合同天数 ÷ 合同总天数,四舍五入到分。"),
        ("得分与等级", "按评分规则(服务量、服务质量、满意度、抽查、投诉)算出 0–100 分,再按等级分界线定为优秀、良好、合格或不合格;"
                      "回访样本太少等原因不能评级的,本季度暂缓拨付。"),
        ("拨付比例", "由等级决定(见下方规则「拨付比例」)。"),
        ("抽查扣款", "本季度服务被抽查为效果差或弄虚作假时,按抽查记录扣除的金额之和(明细见「扣减明细」)。"),
        ("拨付金额", "应付金额 × 拨付比例 − 抽查扣款,不小于 0,四舍五入到分。"),
        ("暂扣及扣减", "应付金额 − 拨付金额。"),
        ("陪护补贴", "陪护人天 × 医院级别的日补贴标准(明细见「陪护补贴明细」);未设置该规则的地区为空。"),
        ("护理补贴", "整月在册的人月 × 护理等级的月补贴标准(明细见「护理补贴明细」);未设置该规则的地区为空。"),
        ("合计应付", "拨付金额 + 陪护补贴 + 护理补贴。"),
        ("版本与状态", f"本表为{info.version_label}({info.status})。版本号与公示网站上该季度的版本一致:结果公布后为「已公布」;"
                      "公布前或更正尚未公布时为「初步」,不作拨付依据。已公布的版本文件不再改写或删除。"),
        ("更正", "更正后的版本在「更正差额」表列出与上一版的差额:补拨(本版多)或追回(本版少),在下次拨付时处理。"),
        ("时间与程序", f"本表生成于 {info.beijing_time}(UTC+8);程序版本 {__version__};输入指纹 {info.inputs_fingerprint}。"),
    ]
    r = FIRST_ROW
    for item, text in lines:
        page.text(r, 0, item, "item")
        page.sheet.merge_range(r, 1, r, 3, text, book.f["wrapped"])
        page.sheet.set_row(r, 16 * math.ceil(display_width(text) / 112) + 4)
        r += 1
    page.widths[1:4] = [36, 36, 36]  # the explanation, merged over three columns, about 120 units wide
    page.finish()
    # 规则: every rule used, its own sheet so its header repeats on each printed page
    page = Page(book, "规则", 4)
    r = FIRST_ROW - 1
    page.header(r, ["规则", "取值", "说明", "规则名"])
    texts = rule_texts()
    for name, value in rules.model_dump(mode="json").items():
        r += 1
        page.text(r, 0, texts[name].title, "item")
        page.sheet.write_string(r, 1, rule_value(name, value), book.f["wrapped"])
        page.sheet.write_string(r, 2, texts[name].explanation, book.f["wrapped"])
        lines = max(display_width(rule_value(name, value)) / 36, display_width(texts[name].explanation) / 56)
        page.sheet.set_row(r, 16 * math.ceil(lines) + 4)
        page.text(r, 3, name, "wrapped")
    page.sheet.write_string(r + 2, 0, f"规则指纹 {info.rules_fingerprint}", book.f["bold"])
    page.widths[1] = 34  # the values and explanations wrap in their columns (39 and 60 units)
    page.widths[2] = 60
    page.finish()


# gathering ----------------------------------------------------------------------------------------


def deduction_rows(findings: pd.DataFrame, names: dict[str, str], rules: Rules,
                   service_months: dict[str, str] | None = None) -> pd.DataFrame:
    """Inspection findings behind a monetary or point deduction, with the provider's name, the
    month of the service inspected and when it was inspected."""
    table = findings[(findings["result"] != "pass")
                     | (findings["deduction_yuan"].map(lambda v: Decimal(str(v))) > 0)].copy()
    table["provider_name"] = table["provider_id"].map(names)
    table["points"] = [rules.points_per_falsified if r == "falsified" else 0 for r in table["result"]]
    months = service_months or {}
    table["service_month"] = [_month_label(months.get(rid, "")) for rid in table["record_id"]]
    table["when"] = [_inspected_when(months.get(rid, ""), str(on)[:10])
                     for rid, on in zip(table["record_id"], table["inspected_on"])]
    return table.sort_values(["inspected_on", "inspection_id"], kind="stable")


def _month_label(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月" if re.fullmatch(r"\d{4}-\d{2}", month or "") else "—"


def _inspected_when(month: str, inspected_on: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}", month or "") or len(inspected_on) < 10:
        return ""
    if inspected_on[:7] == month:
        return f"{int(month[5:7])}月的服务,当月{int(inspected_on[8:10])}日抽查"
    return (f"{int(month[5:7])}月的服务,{int(inspected_on[5:7])}月{int(inspected_on[8:10])}日抽查"
            "(次月 10 日前抽查)")


def published_version(site_dir: Path, region: str, quarter: Quarter,
                      payments_sha256: str) -> tuple[int, str, Path | None]:
    """(version, status, the paid version's payments.csv or None). A schedule of exactly the
    published payments is that version, 已公布; otherwise it is the next version, 初步. The paid
    version is the one published before this one (its public payments table)."""
    quarter_dir = Path(site_dir) / DISCLOSURES / region / str(quarter)
    manifest_path = quarter_dir / MANIFEST
    if not manifest_path.is_file():
        return 1, UNPUBLISHED_LABEL, None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = int(manifest.get("version", 1))
    if manifest.get("results", {}).get("payments.csv") == payments_sha256:
        earlier = quarter_dir / f"v{version - 1}" / "payments.csv"
        return version, PUBLISHED_LABEL, earlier if version > 1 and earlier.is_file() else None
    return version + 1, UNPUBLISHED_LABEL, quarter_dir / "payments.csv"


def published_status(site_dir: Path, region: str, quarter: Quarter, payments_sha256: str) -> str:
    """已公布 when the quarter's public manifest records exactly these payments, else 初步."""
    return published_version(site_dir, region, quarter, payments_sha256)[1]


def _previous_totals(path: Path | None) -> dict[str, Decimal] | None:
    if path is None or not path.is_file():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return {pid: Decimal(v or "0") for pid, v in zip(table["provider_id"], table["total_to_pay"])}


def ledger_rows(results: ResultsLayer, contracts: pd.DataFrame) -> pd.DataFrame:
    """Per contract and quarter, this quarter and the earlier ones scored in the same build:
    amount due, release, total to pay, and what paid.csv recorded (None without vouchers)."""
    current = Quarter.parse(results.record["quarter"])
    rows = []
    for folder in sorted(results.path.parent.iterdir()):
        try:
            quarter = Quarter.parse(folder.name)
        except ValueError:
            continue
        if (quarter.year, quarter.number) > (current.year, current.number) or not (folder / RUN_FILE).is_file():
            continue
        try:
            layer = results if folder == results.path else ResultsLayer(
                folder, json.loads((folder / RUN_FILE).read_text(encoding="utf-8")))
            payments = layer.table("payments")
            paid = layer.table("paid").set_index("contract_id")
        except (OSError, ValueError, KeyError):  # a layer left half-written or by an older version
            continue  # is not in the ledger, which says that unscored quarters are missing
        for pay in payments.itertuples(index=False):
            if pay.contract_id not in set(contracts["contract_id"]):
                continue
            vouchers = int(paid["vouchers"].get(pay.contract_id, 0))
            rows.append({"contract_id": pay.contract_id, "provider_name": pay.provider_name,
                         "quarter": str(quarter), "amount_due": pay.amount_due, "release": pay.release,
                         "total_to_pay": pay.total_to_pay,
                         "paid": paid["paid"].get(pay.contract_id) if vouchers else None})
    columns = ["contract_id", "provider_name", "quarter", "amount_due", "release", "total_to_pay", "paid"]
    return pd.DataFrame(rows, columns=columns).sort_values(["contract_id", "quarter"], kind="stable",
                                                           ignore_index=True)


def gather(validated: ValidatedLayer, results: ResultsLayer, payments: pd.DataFrame,
           previous: Path | None, previous_version: int | None) -> Finance:
    rules = results.rules
    names = dict(zip(payments["provider_id"], payments["provider_name"]))
    providers = validated.table("providers")
    services = validated.table("services")
    record_hours = results.trace("record_hours")
    service_months = dict(zip(record_hours["record_id"], record_hours["month"]))
    for rid, started in zip(services["record_id"], services["started_at"]):
        if rid not in service_months and not pd.isna(started):
            service_months[rid] = pd.Timestamp(started).strftime("%Y-%m")
    payees = pd.DataFrame({"provider_id": providers["provider_id"]})
    for column in ("credit_code", "bank_name", "bank_account"):
        payees[column] = providers[column] if column in providers else ""
    contracts = providers[["provider_id", "name", "contract_id", "contract_amount", "contract_start",
                           "contract_end"]].sort_values("provider_id", kind="stable", ignore_index=True)
    quarter = Quarter.parse(results.record["quarter"])
    return Finance(
        deductions=deduction_rows(results.trace("inspections"), names, rules, service_months),
        paid=results.table("paid"), payees=payees,
        escort=escort_rows(record_hours, services, rules),
        care=care_rows(validated.table("beneficiaries"), quarter, rules),
        roster=validated.table("beneficiaries"),
        ledger=ledger_rows(results, contracts), contracts=contracts,
        previous=_previous_totals(previous), previous_version=previous_version,
        escort_rates=dict(rules.escort_rates or {}), care_rates=dict(rules.care_tier_rates or {}),
    )


def recorded_payments(xlsx: Path) -> str | None:
    """The payments.csv sha256 a schedule recorded in its properties (None if it has none)."""
    try:
        with zipfile.ZipFile(xlsx) as book:
            custom = book.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    found = re.search(rf'name="{PAYMENTS_PROPERTY}"[^>]*>\s*<vt:lpwstr>([0-9a-f]*)</vt:lpwstr>', custom)
    return found.group(1) if found else None


def build_schedule(validated: ValidatedLayer, results: ResultsLayer, out_dir: Path,
                   site_dir: Path, generated_at: datetime | None = None) -> list[Path]:
    """Write the .xlsx and .csv schedule of a scored quarter from its results layer, with the
    rules its results were made with. A published version already written is kept as it is."""
    # load
    run = results.record
    quarter = Quarter.parse(run["quarter"])
    payments = results.table("payments")
    version, status, previous = published_version(site_dir, run["region"], quarter, results.hashes()["payments.csv"])
    info = ScheduleInfo(
        region_name=run["region_name"], region_code=run["region_code"], quarter=quarter, status=status,
        generated_at=generated_at or datetime.now(LOCAL),
        inputs_fingerprint=run["inputs_fingerprint"], rules_fingerprint=run["rules_fingerprint"],
        version=version, payments_sha256=results.hashes()["payments.csv"],
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = out_dir / f"{info.stem}.xlsx", out_dir / f"{info.stem}.csv"
    prefix = f"{file_name_part(run['region_name'], run['region_code'])}_{quarter.label}_资金拨付计划_"
    # process + save: each file written beside its place and renamed in (a failed write leaves the
    # previous one as it was); a published version's files are never rewritten
    kept = status == PUBLISHED_LABEL and xlsx.is_file() and csv_path.is_file()
    if kept and recorded_payments(xlsx) != info.payments_sha256:
        raise Refusal(Code.PUBLISHED_SCHEDULE_DIFFERS,
                      f"{xlsx} 已存在,但它的数字不是现在公布的{info.version_label}(该季度可能撤回后重新公布过)。"
                      "已公布版本的拨付计划不会被改写,财务可能已据以拨付。",
                      f"请先把 {xlsx.name} 和同名 .csv 移到别处存档(并核对是否已据以拨付),再运行 scoring payments。")
    if not kept:
        rows = schedule_rows(payments, info)
        finance = gather(validated, results, payments, previous, version - 1 if previous else None)
        with written_file(xlsx) as aside:
            write_xlsx(rows, finance, results.rules, info, aside)
        with written_file(csv_path) as aside:
            write_csv(rows, aside)
    for stale in (p for p in out_dir.iterdir() if p.is_file() and p.name.startswith(prefix)
                  and p.stem.endswith(f"_{UNPUBLISHED_LABEL}") and p not in (xlsx, csv_path)):
        stale.unlink()  # a preliminary schedule never lingers beside a newer one; a published one stays
    return [xlsx, csv_path]
