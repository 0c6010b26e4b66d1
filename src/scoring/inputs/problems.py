"""Problems found in the inputs, as values: one reason-code enum, one row per problem.

Reports and tests use the codes (`Rule`), never the message text. Each code carries its group
(input data / configuration / file), default severity, and what the user should do about it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class Severity(StrEnum):
    ERROR = "error"  # the quarter cannot be scored until it is fixed
    WARNING = "warning"  # scored as given; an inspector should look


class Rule(StrEnum):
    # files
    MISSING_FILE = "missing_file"
    EMPTY_FILE = "empty_file"
    BINARY_FILE = "binary_file"
    TRUNCATED_FILE = "truncated_file"
    UNREADABLE_ENCODING = "unreadable_encoding"
    CORRUPT_WORKBOOK = "corrupt_workbook"
    PROTECTED_WORKBOOK = "protected_workbook"
    MERGED_HEADER = "merged_header"
    AMBIGUOUS_FILE = "ambiguous_file"  # both services.csv and services.xlsx
    FILE_TOO_LARGE = "file_too_large"  # larger than any county's quarter: not read
    BIG5_ENCODING = "big5_encoding"  # Traditional-Chinese Big5 text: refused, never converted
    SUSPICIOUS_WORKBOOK = "suspicious_workbook"  # a zip bomb, a DTD, an endless tag or comment
    HIDDEN_SHEET = "hidden_sheet"  # hidden sheets were left unread (warning)
    OTHER_SHEETS = "other_sheets"  # other visible sheets with data were left unread (warning)
    AMBIGUOUS_SHEET = "ambiguous_sheet"  # several visible sheets hold data; none is clearly the one
    HIDDEN_DATA = "hidden_data"  # only hidden sheets hold data
    FORMULA_CELL = "formula_cell"  # a formula's saved result was used (warning)
    FORMULA_WITHOUT_VALUE = "formula_without_value"  # a formula with no saved result: row rejected
    BAD_ROW_SHAPE = "bad_row_shape"  # a CSV row with more or fewer fields than the header
    # columns
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    # values
    MISSING_VALUE = "missing_value"
    BAD_DATE = "bad_date"
    BAD_DATETIME = "bad_datetime"
    BAD_MONEY = "bad_money"
    BAD_INTEGER = "bad_integer"
    BAD_NUMBER = "bad_number"
    NOT_ALLOWED = "not_allowed"
    DUPLICATE_KEY = "duplicate_key"
    BROKEN_REFERENCE = "broken_reference"
    TIME_ORDER = "time_order"
    OUTSIDE_QUARTER = "outside_quarter"
    NOT_ENROLLED_WITH_PROVIDER = "not_enrolled_with_provider"
    SURVEY_OUT_OF_RANGE = "survey_out_of_range"
    ESCORT_WITHOUT_HOSPITAL = "escort_without_hospital"
    ESCORT_DAYS = "escort_days"  # more days than the row's dates cover, or than a row may claim
    ABSURD_DURATION = "absurd_duration"  # a row counted by its times lasting more than a day
    BAD_ID_NUMBER = "bad_id_number"
    BAD_BIRTH_DATE = "bad_birth_date"
    BAD_PHONE = "bad_phone"
    BAD_CREDIT_CODE = "bad_credit_code"  # 统一社会信用代码: shape or GB 32100-2015 check character
    BAD_BANK_ACCOUNT = "bad_bank_account"  # 账号: not 8 to 30 digits (or shown by Excel as 6.22E+18)
    ZERO_AMOUNT = "zero_amount"  # a payment voucher of 0 yuan
    PAID_BEFORE_QUARTER = "paid_before_quarter"  # a payment dated before the quarter began
    DATE_ORDER = "date_order"  # contract_start <= contract_end, enrolled_on <= exited_on
    # region.yaml
    MISSING_REGION = "missing_region"
    BAD_REGION = "bad_region"
    UNKNOWN_RULE = "unknown_rule"
    BAD_RULE_VALUE = "bad_rule_value"
    # warnings for inspectors
    WORKER_OVERLAP = "worker_overlap"
    LONG_VISIT = "long_visit"
    OUTSIDE_ENROLMENT = "outside_enrolment"
    OVER_MIDNIGHT = "over_midnight"  # a timed visit ending on the day after it started


class Group(StrEnum):
    FILE = "file"
    DATA = "data"
    CONFIGURATION = "configuration"


WARNINGS = {Rule.WORKER_OVERLAP, Rule.LONG_VISIT, Rule.OUTSIDE_ENROLMENT, Rule.UNKNOWN_COLUMN,
            Rule.PAID_BEFORE_QUARTER, Rule.OVER_MIDNIGHT, Rule.HIDDEN_SHEET, Rule.OTHER_SHEETS,
            Rule.FORMULA_CELL}
CONFIGURATION = {Rule.MISSING_REGION, Rule.BAD_REGION, Rule.UNKNOWN_RULE, Rule.BAD_RULE_VALUE}
FILE_LEVEL = {
    Rule.MISSING_FILE, Rule.EMPTY_FILE, Rule.BINARY_FILE, Rule.TRUNCATED_FILE,
    Rule.UNREADABLE_ENCODING, Rule.CORRUPT_WORKBOOK, Rule.PROTECTED_WORKBOOK,
    Rule.MERGED_HEADER, Rule.AMBIGUOUS_FILE, Rule.MISSING_COLUMN, Rule.DUPLICATE_COLUMN,
    Rule.FILE_TOO_LARGE, Rule.BIG5_ENCODING, Rule.SUSPICIOUS_WORKBOOK, Rule.HIDDEN_SHEET,
    Rule.OTHER_SHEETS, Rule.AMBIGUOUS_SHEET, Rule.HIDDEN_DATA,
}


def severity_of(rule: Rule) -> Severity:
    return Severity.WARNING if rule in WARNINGS else Severity.ERROR


def group_of(rule: Rule) -> Group:
    if rule in CONFIGURATION:
        return Group.CONFIGURATION
    if rule in FILE_LEVEL:
        return Group.FILE
    return Group.DATA


@dataclass(frozen=True)
class Problem:
    """One problem, located as the user sees it: `row` is the Excel row (header = 1), 0 for the
    whole file; `column` is the header as written in the file ("" for the whole row/file)."""

    file: str
    row: int
    column: str
    value: str
    rule: Rule
    message_zh: str
    message_en: str
    action: str  # what to do, in Chinese
    severity: Severity | None = None

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", severity_of(self.rule))


# `count`: how many rows the line stands for: 1, or on the line after a check's listed rows,
# how many more there are (see MAX_LISTED).
REPORT_COLUMNS = [
    "file", "row", "column", "value", "rule", "severity", "group",
    "message", "message_en", "action", "count",
]


# Rows listed one by one per check (one rule about one column of one file); the rest of a check's
# rows are one line saying how many more there are. A file of junk gets a report a clerk can
# read (and a program can write) in seconds, not a gigabyte naming every cell.
MAX_LISTED = 100


def problems_frame(
    file: str,
    rows,
    column: str,
    values,
    rule: Rule,
    message_zh: str | pd.Series,
    message_en: str | pd.Series,
    action: str | pd.Series,
) -> pd.DataFrame:
    """Many problems of one kind at once (vectorised: one call per check, not per row).

    `rows` are every row the check flags; `values` and row-specific messages (a sequence of
    texts, one per row, e.g. which earlier row a duplicate repeats) may stop after the first
    `MAX_LISTED`, since only those are listed: beyond them one more line gives the count."""
    rows = np.asarray(rows, dtype="int64").ravel()
    total = len(rows)
    n = min(total, MAX_LISTED)

    def listed(texts) -> list | pd.Series:
        if isinstance(texts, str):
            return [texts] * n
        head = texts.iloc[:n] if isinstance(texts, pd.Series) else list(texts[:n])
        return pd.Series(head, dtype="object").reset_index(drop=True).astype(str)

    frame = pd.DataFrame({
        "file": [file] * n, "row": rows[:n], "column": [column] * n, "value": listed(values),
        "rule": [str(rule)] * n, "severity": [str(severity_of(rule))] * n,
        "group": [str(group_of(rule))] * n,
        "message": listed(message_zh), "message_en": listed(message_en), "action": listed(action),
        "count": np.ones(n, dtype="int64"),
    }, columns=REPORT_COLUMNS)
    if total > n:
        more, first = total - n, int(rows[n])
        summary = pd.DataFrame([{
            "file": file, "row": first, "column": column, "value": str(more), "rule": str(rule),
            "severity": str(severity_of(rule)), "group": str(group_of(rule)),
            "message": f"从第 {first} 行起,另有 {more} 行有同样的问题,未逐行列出(本文件共 {total} 行)",
            "message_en": f"{more} more rows from row {first} have the same problem ({total} in this file)",
            "action": "按上面列出的行的做法改正其余各行;改正后重新校验,会再列出尚未改正的行",
            "count": more,
        }], columns=REPORT_COLUMNS)
        frame = pd.concat([frame, summary], ignore_index=True)
    return frame


def report(problems: list[Problem], frames: list[pd.DataFrame] = ()) -> pd.DataFrame:
    """Problems as the `validation.csv` table, sorted for reading: file, row, column.

    `problems` are single findings; `frames` are vectorised batches from `problems_frame`."""
    frames = [f for f in frames if len(f)]
    if not problems and not frames:  # the usual case, once per file: no need to build it again
        return _NO_PROBLEMS.copy()
    rows = []
    for p in problems:
        d = asdict(p)
        rows.append({
            "file": d["file"], "row": d["row"], "column": d["column"], "value": d["value"],
            "rule": str(p.rule), "severity": str(p.severity), "group": str(group_of(p.rule)),
            "message": d["message_zh"], "message_en": d["message_en"], "action": d["action"],
            "count": 1,
        })
    table = pd.concat(
        [pd.DataFrame(rows, columns=REPORT_COLUMNS), *frames],
        ignore_index=True,
    )
    if len(table):
        table = table.sort_values(["file", "row", "column", "rule"], kind="stable")
    return table.reset_index(drop=True)


_NO_PROBLEMS = pd.concat([pd.DataFrame([], columns=REPORT_COLUMNS)], ignore_index=True).reset_index(drop=True)


def rows_with(problems: pd.DataFrame, severity: Severity) -> int:
    """How many problems of this severity the report stands for (its `count`s, not its lines)."""
    if not len(problems):
        return 0
    return int(problems.loc[problems["severity"] == str(severity), "count"].astype("int64").sum())
