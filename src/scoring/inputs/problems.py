"""Problems found in the inputs, as values: one reason-code enum, one row per problem.

Reports and tests use the codes (`Rule`), never the message text. Each code carries its group
(input data / configuration / file), default severity, and what the user should do about it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

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
    BAD_ID_NUMBER = "bad_id_number"
    BAD_BIRTH_DATE = "bad_birth_date"
    BAD_PHONE = "bad_phone"
    BAD_CREDIT_CODE = "bad_credit_code"  # 统一社会信用代码: shape or GB 32100-2015 check character
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


class Group(StrEnum):
    FILE = "file"
    DATA = "data"
    CONFIGURATION = "configuration"


WARNINGS = {Rule.WORKER_OVERLAP, Rule.LONG_VISIT, Rule.OUTSIDE_ENROLMENT, Rule.UNKNOWN_COLUMN,
            Rule.PAID_BEFORE_QUARTER}
CONFIGURATION = {Rule.MISSING_REGION, Rule.BAD_REGION, Rule.UNKNOWN_RULE, Rule.BAD_RULE_VALUE}
FILE_LEVEL = {
    Rule.MISSING_FILE, Rule.EMPTY_FILE, Rule.BINARY_FILE, Rule.TRUNCATED_FILE,
    Rule.UNREADABLE_ENCODING, Rule.CORRUPT_WORKBOOK, Rule.PROTECTED_WORKBOOK,
    Rule.MERGED_HEADER, Rule.AMBIGUOUS_FILE, Rule.MISSING_COLUMN, Rule.DUPLICATE_COLUMN,
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


REPORT_COLUMNS = [
    "file", "row", "column", "value", "rule", "severity", "group",
    "message", "message_en", "action",
]


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

    The messages and the action are usually one text for the whole batch; a sequence of texts
    (one per row) says something row-specific, e.g. which earlier row a duplicate repeats."""
    rows = pd.Series(rows, dtype="int64").reset_index(drop=True)
    values = pd.Series(values, dtype="object").reset_index(drop=True).astype(str)
    n = len(rows)

    def per_row(text) -> list | pd.Series:
        if isinstance(text, str):
            return [text] * n
        return pd.Series(text, dtype="object").reset_index(drop=True).astype(str)

    return pd.DataFrame({
        "file": [file] * n, "row": rows, "column": [column] * n, "value": values,
        "rule": [str(rule)] * n, "severity": [str(severity_of(rule))] * n,
        "group": [str(group_of(rule))] * n,
        "message": per_row(message_zh), "message_en": per_row(message_en), "action": per_row(action),
    }, columns=REPORT_COLUMNS)


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
        })
    table = pd.concat(
        [pd.DataFrame(rows, columns=REPORT_COLUMNS), *frames],
        ignore_index=True,
    )
    if len(table):
        table = table.sort_values(["file", "row", "column", "rule"], kind="stable")
    return table.reset_index(drop=True)


_NO_PROBLEMS = pd.concat([pd.DataFrame([], columns=REPORT_COLUMNS)], ignore_index=True).reset_index(drop=True)
