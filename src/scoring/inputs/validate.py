"""Validate one quarter's inputs: every problem at once, as a table, and typed tables of the rows
that may be used.

`validate_quarter` reads `region.yaml`, the region files and the quarter's files (`load`), checks
each file on its own (required values, types, allowed values, unique keys, time order) and then
across files (references, rows outside the quarter, enrolment, escort days, inspections), and
accounts for every row read: used, or rejected because an error names it. Each check is one
vectorised pass over Arrow text and NumPy values that reports through `problems_frame`, and only
the flagged rows become Python values (for their messages); nothing stops at the first problem.

Decisions:

- A row with any error is rejected; rows with only warnings are used. An error about a whole file
  (row 0: missing or duplicate column, merged header...) rejects all of its rows, but its rows are
  still checked, so the report is complete.
- One defect, one problem. References are checked against every row *read* with a non-empty key,
  not only the rows used (a beneficiary rejected for a bad phone still exists for its services);
  a check that needs a value that could not be read, or a file that could not be read, is skipped
  for that row (an unknown provider_id is a broken reference, not also "not enrolled with").
- The seven files of the input contract are required; a quarter without complaints has a
  complaints file with only the header. `paid.csv` (what finance actually paid) may be left out:
  then nothing has been paid yet. It is left out of the accounting too (it has no rows). Optional columns (phone, exited_on, hospital_level, ...) may be left out of a file.
- Escort days without a hospital level, and the warnings (worker overlap, long visit, outside
  enrolment), concern completed visits only: cancelled and no-show rows are not visits.

Typed tables (what the scoring engine reads), keyed by `FileSpec.name`, canonical column names plus
`_row`: DATE/DATETIME -> datetime64[ns] (NaT when optional and empty); MONEY -> object column of
Decimal (cents); INT -> int64 ("Int64" when optional); NUMBER -> float64; CHOICE -> canonical code
("" when optional and empty); TEXT/CODE/PHONE -> stripped str ("" when empty); ID_NUMBER and
CREDIT_CODE -> stripped upper-case str; BANK_ACCOUNT -> its digits (separators taken out); `_row` -> int64, the Excel row number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.inputs.identity import (
    bank_account_digits,
    check_bank_accounts,
    check_credit_codes,
    check_id_numbers,
    check_phones,
)
from scoring.inputs.load import ROW, LoadedFile, cell_lengths, column_array, load_input
from scoring.inputs.months import Quarter
from scoring.inputs.parsers import (
    read_choices,
    read_dates,
    read_integers,
    read_money,
    read_numbers,
)
from scoring.inputs.problems import MAX_LISTED, Rule, Severity, problems_frame, report, severity_of
from scoring.inputs.rules import RegionConfig, Rules, load_region_config
from scoring.inputs.schema import DAY_UNIT, FILES, VALUE_LABELS, Column, Kind

ACCOUNTING_COLUMNS = ["file", "rows_read", "rows_used", "rows_rejected"]

INSPECTION_GRACE_DAYS = 10  # inspections of a quarter may happen up to 10 days after it ends
MAX_TIMED_VISIT = np.timedelta64(24, "h")  # a row counted by its times lasts at most a day
_SHOWN = 200  # characters of a value shown in the report
_SHORT = 1000  # rows of a text column not worth deduplicating (see _as_contract)

# Columns that must be unique besides each file's key.
_ALSO_UNIQUE = {"beneficiaries": ("id_number",)}
# Integer columns with an allowed range, and the rule that reports a value outside it.
_RANGES = {("surveys", "overall"): (1, 5, Rule.SURVEY_OUT_OF_RANGE)}
# Times that must not go backwards, in order; values that are absent are skipped.
_ORDERS = (
    ("providers", ("contract_start", "contract_end"), Rule.DATE_ORDER),
    ("beneficiaries", ("enrolled_on", "exited_on"), Rule.DATE_ORDER),
    ("services", ("ordered_at", "started_at", "ended_at"), Rule.TIME_ORDER),
    ("complaints", ("received_at", "assigned_at", "verified_at", "responded_at"), Rule.TIME_ORDER),
    ("objections", ("received_on", "decided_on"), Rule.DATE_ORDER),
)
# The rule that reports a value its column's parser could not read.
_UNREADABLE = {
    Kind.DATE: Rule.BAD_DATE, Kind.DATETIME: Rule.BAD_DATETIME, Kind.MONEY: Rule.BAD_MONEY,
    Kind.INT: Rule.BAD_INTEGER, Kind.NUMBER: Rule.BAD_NUMBER, Kind.CHOICE: Rule.NOT_ALLOWED,
}
# The date that places a row in a quarter.
_QUARTER_DATES = {"services": "started_at", "surveys": "surveyed_on", "complaints": "received_at"}

_NAT = np.datetime64("NaT", "ns")
_DAY = np.timedelta64(1, "D")


@dataclass
class Validation:
    region_dir: Path
    quarter: Quarter
    config: RegionConfig | None  # from rules.load_region_config; None when region.yaml is unusable
    problems: pd.DataFrame  # problems.REPORT_COLUMNS, sorted by file, row, column, rule
    accounting: pd.DataFrame  # ACCOUNTING_COLUMNS, one row per input file
    tables: dict[str, pd.DataFrame]  # typed tables of the used rows, keyed by FileSpec.name

    @property
    def ok(self) -> bool:
        """No error: the quarter can be scored."""
        return not (self.problems["severity"] == str(Severity.ERROR)).any()


def validate_quarter(region_dir: Path, quarter: str | Quarter) -> Validation:
    """Check every input of `quarter` in `region_dir`; never raises for bad data."""
    # load inputs
    region_dir = Path(region_dir)
    quarter = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    config, config_problems = load_region_config(region_dir)
    folder = _quarter_folder(region_dir, quarter)
    inputs = {
        spec.name: _Input(load_input(region_dir, spec, folder if spec.level == "quarter" else ""))
        for spec in FILES.values()
    }

    # process: each file on its own, then across files
    for item in inputs.values():
        item.check_values()
        for column in (item.spec.key, *_ALSO_UNIQUE.get(item.spec.name, ())):
            _check_unique(item, column)
    for name, chain, rule in _ORDERS:
        _check_order(inputs[name], chain, rule)
    _check_references(inputs)
    _check_quarter(inputs, quarter)
    _check_enrolled_with(inputs)
    _check_services(inputs, config.rules if config is not None else Rules())
    _check_inspections(inputs, quarter)
    _check_paid(inputs["paid"], quarter)
    _check_objections(inputs["objections"])

    # results
    problems = report(config_problems, [f for item in inputs.values() for f in item.frames])
    tables = {name: item.used_table() for name, item in inputs.items()}
    accounting = pd.DataFrame(
        [(item.loaded.name, item.loaded.rows_read, len(tables[name]),
          item.loaded.rows_read - len(tables[name])) for name, item in inputs.items()
         if item.loaded.path is not None or not item.spec.optional],
        columns=ACCOUNTING_COLUMNS,
    )
    return Validation(region_dir, quarter, config, problems, accounting, tables)


def _quarter_folder(region_dir: Path, quarter: Quarter) -> str:
    """The quarter's folder as named on disk (2026Q2, or 2026q2 as someone typed it)."""
    if region_dir.is_dir():
        for entry in sorted(region_dir.iterdir()):
            if entry.is_dir() and entry.name.upper() == str(quarter):
                return entry.name
    return str(quarter)


class _Input:
    """One input file during validation: its text cells (Arrow), typed values (NumPy) and
    problems so far; `rejected` marks the rows an error names."""

    def __init__(self, loaded: LoadedFile) -> None:
        self.loaded = loaded
        self.spec = loaded.spec
        self.readable = loaded.table is not None
        table = loaded.table
        if self.readable:
            self.text = {c: column_array(table.column(c)) for c in self.spec.column_names}
            self.rows = column_array(table.column(ROW)).to_numpy()
        else:
            self.text = {c: pa.array([], type=pa.string()) for c in self.spec.column_names}
            self.rows = np.zeros(0, dtype=np.int64)
        self.found = set(loaded.found)
        self.typed: dict[str, object] = {}
        self.frames: list[pd.DataFrame] = [loaded.problems]
        self.rejected = np.zeros(len(self.rows), dtype=bool)
        self.empty = {c: _empty(text) for c, text in self.text.items()}
        self._positions: dict[tuple[str, str, str], np.ndarray] = {}  # see `lookup`

    def has(self, *columns: str) -> bool:
        """Whether these columns can be looked up: the file was read and has them (an optional
        column left out of the file is simply empty)."""
        return self.readable and all(
            c in self.found or not self.spec.column(c).required for c in columns
        )

    def label(self, column: str) -> str:
        return self.spec.column(column).label

    def flag(self, rule: Rule, mask: np.ndarray, column: str, zh, en, action) -> None:
        """Report `rule` for the rows where `mask` holds, showing their `column` text. Row-specific
        texts are sequences with one text per flagged row, in file order."""
        n = int(np.count_nonzero(mask))
        if not n:
            return
        # only the rows the report lists become Python values (see problems.MAX_LISTED)
        first = np.flatnonzero(mask)[:MAX_LISTED]
        shown = [v[:_SHOWN] for v in self.text[column].take(pa.array(first)).to_pylist()]
        self.frames.append(problems_frame(
            self.loaded.name, self.rows[mask], self.loaded.header(column), shown,
            rule, zh, en, action,
        ))
        if severity_of(rule) is Severity.ERROR:
            self.rejected |= mask

    def flag_value(self, rule: Rule, mask: np.ndarray, column: Column) -> None:
        """`flag` with the usual messages of `rule` about `column`'s values; they are written only
        when a row is flagged (most checks of most columns flag none)."""
        if mask.any():
            self.flag(rule, mask, column.name, *_messages(rule, column))

    def lookup(self, key: str, other: "_Input", column: str) -> np.ndarray:
        """For each row of `other`, the position of the first row read here whose `key` is its
        `column` value (the lookup the cross-file checks use); -1 where none is, or the value is
        empty. Made once per pair of columns and shared (do not modify it): the reference check
        and the checks after it look up the same identifiers."""
        cache_key = (key, other.spec.name, column)
        if cache_key not in self._positions:
            found = pc.index_in(other.text[column], value_set=self.text[key])
            positions = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            positions[other.empty[column]] = -1
            self._positions[cache_key] = positions
        return self._positions[cache_key]

    # each file on its own -----------------------------------------------------------------------

    def check_values(self) -> None:
        """Required values present; every value readable as its column's kind and allowed."""
        for column in self.spec.columns:
            text = self.text[column.name]
            empty = self.empty[column.name]
            if column.required and column.name in self.found:
                self.flag_value(Rule.MISSING_VALUE, empty, column)
            self.typed[column.name] = self._parse(column, text, empty)

    def _parse(self, column: Column, text: pa.Array, empty: np.ndarray):
        kind, name = column.kind, column.name
        if kind in (Kind.TEXT, Kind.CODE):
            return text
        if kind is Kind.PHONE:
            self.flag_value(Rule.BAD_PHONE, ~empty & ~check_phones(text), column)
            return text
        if kind is Kind.CREDIT_CODE:
            valid = check_credit_codes(text)
            self.flag_value(Rule.BAD_CREDIT_CODE, ~empty & ~valid, column)
            return _upper(text)
        if kind is Kind.BANK_ACCOUNT:
            self.flag_value(Rule.BAD_BANK_ACCOUNT, ~empty & ~check_bank_accounts(text), column)
            return pa.array([bank_account_digits(v) for v in text.to_pylist()], type=pa.string())
        if kind is Kind.ID_NUMBER:
            valid, born = check_id_numbers(text)
            self.flag_value(Rule.BAD_ID_NUMBER, ~empty & ~valid, column)
            self.flag_value(Rule.BAD_BIRTH_DATE, valid & ~born, column)
            return _upper(text)
        if kind in (Kind.DATE, Kind.DATETIME):
            values = read_dates(text, with_time=kind is Kind.DATETIME)
            unread = np.isnat(values)
        elif kind is Kind.MONEY:
            values = read_money(text)
            unread = np.equal(values, None)
        elif kind is Kind.INT:
            values = read_integers(text)
            unread = values.isna()
        elif kind is Kind.NUMBER:
            values = read_numbers(text)
            unread = np.isnan(values)
        else:
            values = read_choices(text, column)
            unread = np.equal(values, None)
        rule = _UNREADABLE[kind]
        unreadable = ~empty & unread
        if kind is Kind.INT:  # counts are never negative; some columns have a narrower range
            low, high, range_rule = _RANGES.get((self.spec.name, name), (0, None, None))
            number = values.to_numpy(dtype=np.int64, na_value=0)
            outside = ~unread & ((number < low) | (number > high) if high is not None else number < low)
            if range_rule is None:
                unreadable |= outside
            else:
                self.flag_value(range_rule, outside, column)
        self.flag_value(rule, unreadable, column)
        return values

    def used_table(self) -> pd.DataFrame:
        """The typed rows no error names (none when the file as a whole has an error)."""
        if self.loaded.file_errors:
            used = np.zeros(len(self.rows), dtype=bool)
        else:
            used = ~self.rejected
            p = self.loaded.problems
            # Rows the loader rejects are taken out of `rows` (a header row is not in them
            # either): a report lists only the first rows of a check (problems.MAX_LISTED), so
            # it cannot say which rows are rejected. This only guards against a loader problem
            # that forgot to.
            if len(p):
                named = p.loc[(p["severity"] == str(Severity.ERROR)) & (p["row"] > 0), "row"].to_numpy()
                used &= ~np.isin(self.rows, named.astype(np.int64))
        kept = None if used.all() else used
        columns = {c.name: _as_contract(self.typed[c.name], kept, c, unique=c.name == self.spec.key)
                   for c in self.spec.columns}
        columns[ROW] = self.rows[used].astype("int64")
        # Not consolidated into one block per dtype: that copies every column two or three times
        # (a cache miss per text), and the engine reads these tables a column at a time. The
        # arrays are the table's own (this _Input is dropped after validation).
        return pd.DataFrame(columns, copy=False)


def _as_contract(values, used: np.ndarray | None, column: Column, unique: bool):
    """The used rows (None: every row) of a typed column as the scoring engine expects it (see
    the module docstring). Text is converted sharing one string among repeated texts, except
    for the file's key (`unique`: its used values all differ, a repeat is rejected) and short
    columns, which go straight to NumPy: the deduplicating conversion builds a pandas Series
    (~25 us a column) and hashes every text."""
    kind = column.kind
    if isinstance(values, pa.Array):  # text
        kept = values if used is None else values.filter(pa.array(used))
        if unique or len(kept) <= _SHORT:
            return kept.to_numpy(zero_copy_only=False)
        return kept.to_pandas(deduplicate_objects=True).to_numpy()
    if used is not None:
        values = values[used]
    elif kind is Kind.CHOICE:
        values = values.copy()  # changed in place below
    if kind is Kind.INT:
        whole = column.required and not values.isna().any()
        return values.to_numpy(dtype="int64") if whole else values
    if kind is Kind.CHOICE:  # None marks a value not allowed; its row is rejected anyway
        values[np.equal(values, None)] = ""
    return values


def _empty(text: pa.Array) -> np.ndarray:
    return cell_lengths(text) == 0


def _upper(text: pa.Array) -> pa.Array:
    """Upper case as Python writes it (Arrow's utf8_upper differs beyond ASCII, e.g. ß)."""
    if pc.all(pc.string_is_ascii(text)).as_py() is not False:
        return pc.ascii_upper(text)
    return pa.array([t.upper() for t in text.to_pylist()], type=pa.string())


def _take(values: np.ndarray, positions: np.ndarray, missing):
    """`values` at `positions` (-1: `missing`)."""
    if not len(values):
        return np.full(len(positions), missing, dtype=values.dtype)
    taken = values[np.maximum(positions, 0)]
    taken[positions < 0] = missing
    return taken


def _dates_text(values: np.ndarray) -> list[str]:
    return list(np.datetime_as_string(values, unit="D"))


def _check_unique(item: _Input, column: str) -> None:
    """Every non-empty value at most once: each repeat after the first is reported."""
    if column not in item.found:
        return
    encoded = pc.dictionary_encode(item.typed[column])
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if len(encoded.dictionary) == len(codes):
        return
    distinct, first = np.unique(codes, return_index=True)
    first_of = np.empty(len(encoded.dictionary), dtype=np.int64)  # each value's first row
    first_of[distinct] = first
    empty = pc.equal(encoded.dictionary, "").to_numpy(zero_copy_only=False)
    first_position = first_of[codes]
    later = (first_position != np.arange(len(codes))) & ~empty[codes]
    if not later.any():
        return
    first_row = item.rows[first_position[later]].astype(str)
    label = item.label(column)
    item.flag(
        Rule.DUPLICATE_KEY, later, column,
        [f"「{label}」与第 {r} 行重复" for r in first_row],
        [f"{column} repeats row {r}" for r in first_row],
        f"删除重复的行;如果是不同的记录,给它一个不同的「{label}」",
    )


def _check_order(item: _Input, chain: tuple[str, ...], rule: Rule) -> None:
    """Each present time in `chain` not earlier than the nearest earlier present one."""
    n = len(item.rows)
    previous = np.full(n, _NAT)
    previous_column = np.full(n, -1)  # position in `chain` of the time in `previous`
    for position, column in enumerate(chain):
        current = item.typed[column]
        label = item.label(column)
        early = current < previous  # NaT on either side compares False
        if early.any():
            before = [chain[i] for i in previous_column[early]]
            item.flag(
                rule, early, column,
                [f"「{label}」早于「{item.label(b)}」" for b in before],
                [f"{column} is earlier than {b}" for b in before],
                [f"核对并更正时间:「{label}」应不早于「{item.label(b)}」" for b in before],
            )
        present = ~np.isnat(current)
        previous = np.where(present, current, previous)
        previous_column = np.where(present, position, previous_column)


def _check_references(inputs: dict[str, _Input]) -> None:
    """Every non-empty identifier that points into another file is found there (among all the
    rows read from it, used or not)."""
    for item in inputs.values():
        for column, target_name, target_column in item.spec.references:
            target = inputs[target_name]
            if column not in item.found or not target.has(target_column):
                continue  # the target's own problem says why it cannot be looked in
            broken = ~item.empty[column] & (target.lookup(target_column, item, column) < 0)
            label, target_label = item.label(column), target.label(target_column)
            item.flag(
                Rule.BROKEN_REFERENCE, broken, column,
                f"「{label}」在{target.spec.label}文件 {target.loaded.name} 中找不到",
                f"{column} not found in {target.loaded.name}",
                f"核对「{label}」是否写错;如果无误,在 {target.loaded.name} 中补上该{target_label}",
            )


def _check_quarter(inputs: dict[str, _Input], quarter: Quarter) -> None:
    """Services, surveys and complaints belong to the quarter by their date."""
    first = np.datetime64(quarter.first_day, "ns")
    end = np.datetime64(quarter.next().first_day, "ns")
    period = f"{quarter}({quarter.first_day:%Y-%m-%d} 至 {quarter.last_day:%Y-%m-%d})"
    for name, column in _QUARTER_DATES.items():
        item = inputs[name]
        when = item.typed[column]
        outside = ~np.isnat(when) & ((when < first) | (when >= end))
        label = item.label(column)
        item.flag(
            Rule.OUTSIDE_QUARTER, outside, column,
            f"「{label}」不在 {period} 内", f"{column} is outside {quarter}",
            f"把该行移到所属季度的文件中;如果日期写错了,更正「{label}」",
        )


def _check_paid(item: _Input, quarter: Quarter) -> None:
    """A payment voucher pays something, and not before the quarter it pays for began."""
    if not item.readable:
        return
    amounts = item.typed["amount"]
    zero = np.array([a is not None and a == 0 for a in amounts], dtype=bool)
    item.flag(Rule.ZERO_AMOUNT, zero, "amount", "「支付金额」为 0", "amount is 0",
              "删除该行,或填写实际支付的金额")
    when = item.typed["paid_on"]
    early = ~np.isnat(when) & (when < np.datetime64(quarter.first_day, "ns"))
    item.flag(Rule.PAID_BEFORE_QUARTER, early, "paid_on",
              f"「支付日期」早于 {quarter} 开始({quarter.first_day:%Y-%m-%d})",
              f"paid_on is before {quarter} began",
              "如果是预拨款,请核实后保留;如果日期写错了,更正「支付日期」")


def _check_objections(item: "_Input") -> None:
    """A decided objection says when it was answered; a revision it led to is version 2 or later
    (version 1 is the publication objected to)."""
    if not item.has("decision", "decided_on", "revision"):
        return
    decided = np.isin(item.typed["decision"], ["upheld", "partly_upheld", "rejected"])
    item.flag(Rule.MISSING_VALUE, decided & item.empty["decided_on"], "decided_on",
              "已作出处理结果的异议没有填写「答复日期」", "a decided objection has no decided_on date",
              "填写答复异议人的日期;尚未答复的,「处理结果」填 处理中(pending)")
    revision = item.typed["revision"].to_numpy(dtype=np.int64, na_value=0)
    item.flag(Rule.BAD_INTEGER, ~item.empty["revision"] & (revision < 2), "revision",
              "「更正版本」应为异议导致的更正后版本号(2 或更大)",
              "revision must be the version the objection led to (2 or later)",
              "填写更正后公布的版本号(第 2 版填 2);没有导致更正的留空")


def _check_enrolled_with(inputs: dict[str, _Input]) -> None:
    """Services and surveys name the provider the beneficiary is enrolled with. Identifiers that
    are not found are broken references, reported once where they are, not again here."""
    beneficiaries, providers = inputs["beneficiaries"], inputs["providers"]
    if not beneficiaries.has("beneficiary_id", "provider_id"):
        return
    providers_known = providers.has("provider_id")
    for name in ("services", "surveys"):
        item = inputs[name]
        provider = item.text["provider_id"]
        roster = beneficiaries.lookup("beneficiary_id", item, "beneficiary_id")
        enrolled_with = beneficiaries.text["provider_id"].take(pa.array(np.maximum(roster, 0))) \
            if len(beneficiaries.rows) else pa.repeat("", len(roster))
        comparable = (roster >= 0) & ~_empty(enrolled_with) & ~item.empty["provider_id"]
        if providers_known:  # both providers are in the providers file
            enrolled_known = providers.lookup("provider_id", beneficiaries, "provider_id") >= 0
            comparable &= _take(enrolled_known, roster, False)
            comparable &= providers.lookup("provider_id", item, "provider_id") >= 0
        elsewhere = comparable & pc.not_equal(provider, enrolled_with).to_numpy(zero_copy_only=False)
        if not elsewhere.any():
            continue
        what = "服务" if name == "services" else "回访"
        other = enrolled_with.filter(pa.array(elsewhere)).to_pylist()
        item.flag(
            Rule.NOT_ENROLLED_WITH_PROVIDER, elsewhere, "provider_id",
            [f"该服务对象登记的服务机构是 {p},不是本行{what}的机构" for p in other],
            [f"the beneficiary is enrolled with provider {p}" for p in other],
            "核对「机构编号」;如果对象已转由本机构服务,先在 beneficiaries 中更新其服务机构",
        )


def _check_services(inputs: dict[str, _Input], rules: Rules) -> None:
    """Service rows against the beneficiary roster and the catalog (METHODOLOGY.md, "Plausibility
    of service rows"): escort days with a hospital level and no more days than their dates
    span, no timed row longer than a day, and (warnings) overlapping, long, over-midnight and
    out-of-enrolment visits."""
    services, beneficiaries, catalog = inputs["services"], inputs["beneficiaries"], inputs["catalog"]
    text, typed = services.text, services.typed
    started, ended = typed["started_at"], typed["ended_at"]
    completed = typed["status"] == "completed"
    timed = completed & ~np.isnat(started) & ~np.isnat(ended) & (ended >= started)

    if beneficiaries.has("beneficiary_id", "enrolled_on", "exited_on"):
        roster = beneficiaries.lookup("beneficiary_id", services, "beneficiary_id")
        day = started.astype("datetime64[D]").astype("datetime64[ns]")
        enrolled_on = _take(beneficiaries.typed["enrolled_on"], roster, _NAT)
        exited_on = _take(beneficiaries.typed["exited_on"], roster, _NAT)
        early = completed & (day < enrolled_on)
        late = completed & (day > exited_on)
        services.flag(
            Rule.OUTSIDE_ENROLMENT, early, "started_at",
            [f"服务开始时该对象尚未纳入(纳入日期 {d}),本条不计入服务时长和走访次数"
             for d in _dates_text(enrolled_on[early])],
            [f"visit before the beneficiary was enrolled ({d}); it does not count"
             for d in _dates_text(enrolled_on[early])],
            "核查是否为虚报;如果纳入日期登记错了,更正 beneficiaries 中的「纳入日期」",
        )
        services.flag(
            Rule.OUTSIDE_ENROLMENT, late, "started_at",
            [f"服务开始时该对象已退出(退出日期 {d}),本条不计入服务时长和走访次数"
             for d in _dates_text(exited_on[late])],
            [f"visit after the beneficiary exited ({d}); it does not count"
             for d in _dates_text(exited_on[late])],
            "核查是否为虚报(为已退出或已去世的人员登记服务);如果退出日期登记错了,更正 beneficiaries 中的「退出日期」",
        )

    if catalog.has("item_code", "unit"):
        item = catalog.lookup("item_code", services, "item_code")
        by_day = _take(catalog.typed["unit"] == DAY_UNIT, item, False)  # compared once per item
        no_level = completed & by_day & services.empty["hospital_level"]
        services.flag(
            Rule.ESCORT_WITHOUT_HOSPITAL, no_level, "hospital_level", "按天计量的陪护服务没有填写医院级别",
            "a service counted in days (hospital escort) has no hospital level",
            "填写「医院级别」:township(乡镇)、county(县级)或 city(市级及以上)",
        )
        duration = ended - started
        _check_timed_rows(services, timed & ~by_day, duration, rules)
        _check_escort_days(services, timed & by_day, duration, rules)

    _check_worker_overlap(services, timed & ~services.empty["worker_id"])


def _hours_text(duration: np.ndarray) -> pd.Series:
    return (pd.Series(duration).dt.total_seconds() / 3600).round(1).astype(str)


def _check_timed_rows(services: _Input, timed: np.ndarray, duration: np.ndarray, rules: Rules) -> None:
    """Rows counted by their times: longer than a day is an error (not one visit), longer than
    `long_visit_hours` or ending on a later date a warning (one problem per row, the worst)."""
    absurd = timed & (duration > MAX_TIMED_VISIT)
    if absurd.any():
        hours = _hours_text(duration[absurd])
        services.flag(
            Rule.ABSURD_DURATION, absurd, "ended_at",
            "按起止时间计时的一条服务长达 " + hours + " 小时,超过一天",
            "a service counted by its times lasts " + hours + " hours, more than a day",
            "更正开始或结束时间;连续多天的服务(如住院陪护)应使用按「天」计量的服务项目并填写天数",
        )
    long_limit = np.timedelta64(int(round(rules.long_visit_hours * 3600)), "s")
    too_long = timed & ~absurd & (duration > long_limit)
    if too_long.any():
        hours = _hours_text(duration[too_long])
        limit = f"{rules.long_visit_hours:g}"
        services.flag(
            Rule.LONG_VISIT, too_long, "ended_at",
            "单次服务时长 " + hours + f" 小时,超过 {limit} 小时",
            "visit lasts " + hours + f" hours, more than {limit}",
            "核实开始和结束时间是否录错",
        )
    started = services.typed["started_at"]
    over_midnight = timed & ~absurd & ~too_long & (
        services.typed["ended_at"].astype("datetime64[D]") > started.astype("datetime64[D]"))
    services.flag(
        Rule.OVER_MIDNIGHT, over_midnight, "ended_at",
        "服务从当天持续到次日(跨过午夜)", "the visit ends on the day after it started (spans midnight)",
        "核实结束时间:是夜间照料就保留,录错了日期就更正",
    )


def _check_escort_days(services: _Input, escorts: np.ndarray, duration: np.ndarray, rules: Rules) -> None:
    """Rows counted in days are paid by the day (escort subsidy): their days may not exceed the
    calendar days their dates cover, nor `max_escort_days_per_record` (errors); times spanning
    more than the days + 1 are a warning."""
    if not escorts.any():
        return
    units = np.nan_to_num(services.typed["units"], nan=0.0)
    first = services.typed["started_at"].astype("datetime64[D]")
    last = services.typed["ended_at"].astype("datetime64[D]")
    covered = np.zeros(len(units), dtype=np.int64)
    covered[escorts] = (last[escorts] - first[escorts]).astype(np.int64) + 1
    over_cap = escorts & (units > rules.max_escort_days_per_record)
    cap = f"{rules.max_escort_days_per_record:g}"
    services.flag(
        Rule.ESCORT_DAYS, over_cap, "units", f"一条陪护记录登记的天数超过上限 {cap} 天",
        f"an escort row claims more than the {cap} days a row may claim",
        "核实「数量」(天数);更长的住院陪护请按月分成多条记录",
    )
    over_span = escorts & ~over_cap & (units > covered)
    if over_span.any():
        spans = pd.Series(covered[over_span]).astype(str)
        services.flag(
            Rule.ESCORT_DAYS, over_span, "units",
            "登记的陪护天数多于起止日期覆盖的 " + spans + " 天",
            "the row claims more days than the " + spans + " calendar days its dates cover",
            "核实「数量」(天数)和起止时间",
        )
    allowed = pd.to_timedelta(np.minimum(units[escorts], 36500) + 1, unit="D").to_numpy()
    too_many_days = np.zeros(len(escorts), dtype=bool)
    too_many_days[escorts] = duration[escorts] > allowed
    too_many_days &= ~over_cap & ~over_span
    if too_many_days.any():
        days = (pd.Series(duration[too_many_days]).dt.total_seconds() / 86400).round(1).astype(str)
        services.flag(
            Rule.LONG_VISIT, too_many_days, "ended_at",
            "陪护起止时间跨 " + days + " 天,超过登记的天数加 1 天",
            "the escort lasts " + days + " days, more than its units + 1",
            "核实起止时间和「数量」(天数)",
        )


def _check_worker_overlap(services: _Input, timed: np.ndarray) -> None:
    """Warn when a worker's completed visit starts before an earlier-starting one has ended; the
    later-starting row is reported, naming the row it overlaps."""
    positions = np.flatnonzero(timed)
    if not len(positions):
        return
    workers = pc.dictionary_encode(services.text["worker_id"].take(pa.array(positions)))
    rank = np.empty(len(workers.dictionary), dtype=np.int64)  # workers in text order
    rank[pc.sort_indices(workers.dictionary).to_numpy()] = np.arange(len(workers.dictionary))
    worker = rank[workers.indices.to_numpy(zero_copy_only=False)]
    start = services.typed["started_at"][positions]
    end = services.typed["ended_at"][positions]
    row = services.rows[positions]
    order = np.lexsort((start, worker))  # stable: ties keep file order, the order of the rows
    worker, start, end, row, positions = worker[order], start[order], end[order], row[order], positions[order]
    # the latest end so far of this worker's visits, and the row that ends then
    reach = pd.Series(end.view(np.int64)).groupby(worker, sort=False).cummax().to_numpy()
    reached = np.where(end.view(np.int64) == reach, np.arange(len(end)), 0)
    reach_row = row[np.maximum.accumulate(reached)]  # a worker's first visit always reaches
    same_worker = np.zeros(len(worker), dtype=bool)
    same_worker[1:] = worker[1:] == worker[:-1]
    overlapping = np.zeros(len(worker), dtype=bool)
    overlapping[1:] = same_worker[1:] & (start[1:].view(np.int64) < reach[:-1])
    flagged = positions[overlapping]
    other = reach_row[np.flatnonzero(overlapping) - 1]
    in_file_order = np.argsort(flagged)
    mask = np.zeros(len(services.rows), dtype=bool)
    mask[flagged] = True
    other = [str(r) for r in other[in_file_order]]
    services.flag(
        Rule.WORKER_OVERLAP, mask, "started_at",
        [f"同一服务人员的服务时间与第 {r} 行重叠" for r in other],
        [f"the same worker's visit overlaps row {r}" for r in other],
        "核实该服务人员当时实际在哪里服务,更正时间或「服务人员编号」",
    )


def _check_inspections(inputs: dict[str, _Input], quarter: Quarter) -> None:
    """Inspections happen in the quarter or within 10 days after it, and not before the service
    they inspect started."""
    inspections, services = inputs["inspections"], inputs["services"]
    inspected = inspections.typed["inspected_on"]
    first = pd.Timestamp(quarter.first_day)
    last = pd.Timestamp(quarter.last_day) + pd.Timedelta(days=INSPECTION_GRACE_DAYS)
    outside = ~np.isnat(inspected) & ((inspected < first.to_datetime64()) | (inspected > last.to_datetime64()))
    inspections.flag(
        Rule.OUTSIDE_QUARTER, outside, "inspected_on",
        f"抽查日期应在 {quarter} 内或季度结束后 {INSPECTION_GRACE_DAYS} 天内"
        f"({quarter.first_day:%Y-%m-%d} 至 {last:%Y-%m-%d})",
        f"inspected_on must fall in {quarter} or within {INSPECTION_GRACE_DAYS} days after it",
        "把该行移到所属季度的文件中;如果日期写错了,更正「抽查日期」",
    )
    if not services.has("record_id", "started_at"):
        return
    record = services.lookup("record_id", inspections, "record_id")
    started = _take(services.typed["started_at"], record, _NAT)
    early = inspected < started.astype("datetime64[D]").astype("datetime64[ns]")
    inspections.flag(
        Rule.TIME_ORDER, early, "inspected_on",
        [f"抽查日期早于被抽查的服务开始日期({d})" for d in _dates_text(started[early])],
        [f"inspected before the inspected service started ({d})" for d in _dates_text(started[early])],
        "核对「抽查日期」和「服务记录编号」",
    )


# messages ---------------------------------------------------------------------------------------


def _choices_text(column: Column) -> str:
    """Allowed values as a clerk can type them: 'completed(已完成)、cancelled(已取消)…'."""
    shown = []
    for code in column.choices:
        labels = [label for label, c in VALUE_LABELS.items() if c == code]
        shown.append(f"{code}({labels[0]})" if labels else code)
    return "、".join(shown)


def _messages(rule: Rule, column: Column) -> tuple[str, str, str]:
    """(Chinese message, English message, what to do) for a problem with one column's values."""
    label, name = column.label, column.name
    texts = {
        Rule.MISSING_VALUE: (f"「{label}」不能为空", f"{name} must not be empty", f"填写「{label}」"),
        Rule.BAD_DATE: (
            f"「{label}」不是有效日期", f"{name} is not a valid date",
            f"把「{label}」写成 2026-04-01 这样的日期,并确认该日期真实存在",
        ),
        Rule.BAD_DATETIME: (
            f"「{label}」不是有效的日期时间", f"{name} is not a valid date and time",
            f"把「{label}」写成 2026-04-01 08:30 这样的日期和时间",
        ),
        Rule.BAD_MONEY: (
            f"「{label}」不是有效金额(应为不小于 0、最多两位小数的数字)",
            f"{name} is not an amount in yuan (non-negative, at most 2 decimals)",
            f"「{label}」只填数字(单位:元),最多两位小数,如 1200.50",
        ),
        Rule.BAD_INTEGER: (
            f"「{label}」应为不小于 0 的整数", f"{name} must be a whole number, 0 or more",
            f"「{label}」填写整数,如 3",
        ),
        Rule.BAD_NUMBER: (
            f"「{label}」应为不小于 0 的数字", f"{name} must be a number, 0 or more",
            f"「{label}」填写数字,如 1 或 1.5",
        ),
        Rule.NOT_ALLOWED: (
            f"「{label}」的值不是允许的取值", f"{name} is not one of {', '.join(column.choices)}",
            f"「{label}」改为以下之一:{_choices_text(column)}",
        ),
        Rule.SURVEY_OUT_OF_RANGE: (
            f"「{label}」应为 1 到 5 的整数", f"{name} must be a whole number from 1 to 5",
            f"「{label}」填写 1(很不满意)到 5(很满意)之间的整数",
        ),
        Rule.BAD_ID_NUMBER: (
            "身份证号不正确:应为 18 位,最后一位校验码要与前 17 位相符",
            "not a valid 18-character ID number (GB 11643 check digit)",
            "对照身份证核对号码;在 Excel 中把该列设为“文本”,以免号码变成 1.23E+17",
        ),
        Rule.BAD_BIRTH_DATE: (
            "身份证号中的出生日期不成立(不存在、晚于今天或早于 1900 年)",
            "the birth date in the ID number is impossible (not a date, in the future, or before 1900)",
            "对照身份证核对号码的第 7–14 位(出生日期)",
        ),
        Rule.BAD_CREDIT_CODE: (
            "统一社会信用代码不正确:应为 18 位数字或大写字母(不含 I、O、S、V、Z),"
            "最后一位校验码要与前 17 位相符(GB 32100-2015)",
            "not a valid 18-character unified social credit code (GB 32100-2015 check character)",
            "对照该机构的登记证书或营业执照核对代码;不知道时可以留空",
        ),
        Rule.BAD_BANK_ACCOUNT: (
            "账号不正确:应为 8 到 30 位数字(数字之间可以有空格或短横线)",
            "not a bank account number (8 to 30 digits, spaces or hyphens between groups allowed)",
            "对照开户许可证或银行回单核对账号;在 Excel 中把该列设为“文本”,以免账号变成 6.22E+18;不知道时可以留空",
        ),
        Rule.BAD_PHONE: (
            f"「{label}」格式不正确", f"{name} is not a mainland mobile or landline number",
            "填写 11 位手机号,或带区号的固定电话(如 0796-1234567);没有电话可以留空",
        ),
    }
    return texts[rule]
