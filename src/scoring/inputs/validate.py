"""Validate one quarter's inputs: every problem at once, as a table, and typed tables of the rows
that may be used.

`validate_quarter` reads `region.yaml`, the region files and the quarter's files (`load`), checks
each file on its own (required values, types, allowed values, unique keys, time order) and then
across files (references, rows outside the quarter, enrolment, escort days, inspections), and
accounts for every row read: used, or rejected because an error names it. Each check is one
vectorised pass that reports through `problems_frame`; nothing stops at the first problem.

Decisions:

- A row with any error is rejected; rows with only warnings are used. An error about a whole file
  (row 0: missing or duplicate column, merged header...) rejects all of its rows, but its rows are
  still checked, so the report is complete.
- One defect, one problem. References are checked against every row *read* with a non-empty key,
  not only the rows used (a beneficiary rejected for a bad phone still exists for its services);
  a check that needs a value that could not be read, or a file that could not be read, is skipped
  for that row (an unknown provider_id is a broken reference, not also "not enrolled with").
- All seven files are required; a quarter without complaints has a complaints file with only the
  header. Optional columns (phone, exited_on, hospital_level, ...) may be left out of a file.
- Escort days without a hospital level, and the warnings (worker overlap, long visit, outside
  enrolment), concern completed visits only: cancelled and no-show rows are not visits.

Typed tables (what the scoring engine reads), keyed by `FileSpec.name`, canonical column names plus
`_row`: DATE/DATETIME -> datetime64[ns] (NaT when optional and empty); MONEY -> object column of
Decimal (cents); INT -> int64 ("Int64" when optional); NUMBER -> float64; CHOICE -> canonical code
("" when optional and empty); TEXT/CODE/PHONE -> stripped str ("" when empty); ID_NUMBER -> stripped
upper-case str; `_row` -> int64, the Excel row number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.inputs.identity import birth_dates, valid_id_numbers, valid_phones
from scoring.inputs.load import (
    ROW, LoadedFile, load_input, parse_choices, parse_dates, parse_integers, parse_money,
    parse_numbers,
)
from scoring.inputs.months import Quarter
from scoring.inputs.problems import Rule, Severity, problems_frame, report
from scoring.inputs.rules import RegionConfig, load_region_config
from scoring.inputs.schema import DAY_UNIT, FILES, VALUE_LABELS, Column, Kind

ACCOUNTING_COLUMNS = ["file", "rows_read", "rows_used", "rows_rejected"]

INSPECTION_GRACE_DAYS = 10  # inspections of a quarter may happen up to 10 days after it ends
LONG_VISIT_HOURS = 12  # a visit (not counted in days) longer than this is implausible
_SHOWN = 200  # characters of a value shown in the report

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
)
# The date that places a row in a quarter.
_QUARTER_DATES = {"services": "started_at", "surveys": "surveyed_on", "complaints": "received_at"}


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

    def write(self, out_dir: Path) -> None:
        """`validation.csv` and `accounting.csv`, UTF-8 with BOM so that Excel opens them."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.problems.to_csv(out_dir / "validation.csv", index=False, encoding="utf-8-sig")
        self.accounting.to_csv(out_dir / "accounting.csv", index=False, encoding="utf-8-sig")


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
    _check_services(inputs)
    _check_inspections(inputs, quarter)

    # results
    problems = report(config_problems, [f for item in inputs.values() for f in item.frames])
    tables = {name: item.used_table() for name, item in inputs.items()}
    accounting = pd.DataFrame(
        [(item.loaded.name, item.loaded.rows_read, len(tables[name]),
          item.loaded.rows_read - len(tables[name])) for name, item in inputs.items()],
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
    """One input file during validation: its text cells, typed values and problems so far."""

    def __init__(self, loaded: LoadedFile) -> None:
        self.loaded = loaded
        self.spec = loaded.spec
        self.readable = loaded.frame is not None
        if self.readable:
            self.raw = loaded.frame
        else:
            self.raw = pd.DataFrame({c: pd.Series(dtype=object) for c in self.spec.column_names})
            self.raw[ROW] = pd.Series(dtype="int64")
        self.found = set(loaded.found)
        self.typed: dict[str, pd.Series] = {}
        self.frames: list[pd.DataFrame] = [loaded.problems]

    def has(self, *columns: str) -> bool:
        """Whether these columns can be looked up: the file was read and has them (an optional
        column left out of the file is simply empty)."""
        return self.readable and all(
            c in self.found or not self.spec.column(c).required for c in columns
        )

    def label(self, column: str) -> str:
        return self.spec.column(column).label

    def flag(self, rule: Rule, mask, column: str, zh, en, action, values=None) -> None:
        """Report `rule` for the rows where `mask` holds. Row-specific texts (and `values`) may be
        Series aligned with the file or already restricted to the flagged rows."""
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if not n:
            return

        def chosen(texts):
            if isinstance(texts, str):
                return texts
            return texts[mask] if len(texts) == len(mask) and len(texts) != n else texts

        shown = chosen(self.raw[column] if values is None else values).astype(str).str.slice(0, _SHOWN)
        self.frames.append(problems_frame(
            self.loaded.name, self.raw[ROW].to_numpy()[mask], self.loaded.header(column), shown,
            rule, chosen(zh), chosen(en), chosen(action),
        ))

    def first_by(self, key: str, columns: list[str]) -> pd.DataFrame:
        """Typed `columns` of the first row read for each non-empty `key` (the lookup the
        cross-file checks use), indexed by the key."""
        table = pd.DataFrame({key: self.raw[key], **{c: self.typed[c] for c in columns}})
        return table[table[key] != ""].drop_duplicates(key).set_index(key)

    # each file on its own -----------------------------------------------------------------------

    def check_values(self) -> None:
        """Required values present; every value readable as its column's kind and allowed."""
        for column in self.spec.columns:
            text = self.raw[column.name]
            empty = (text == "").to_numpy()
            if column.required and column.name in self.found:
                self.flag(Rule.MISSING_VALUE, empty, column.name, *_messages(Rule.MISSING_VALUE, column))
            self.typed[column.name] = self._parse(column, text, empty)

    def _parse(self, column: Column, text: pd.Series, empty: np.ndarray) -> pd.Series:
        kind, name = column.kind, column.name
        if kind in (Kind.TEXT, Kind.CODE):
            return text
        if kind is Kind.PHONE:
            self.flag(Rule.BAD_PHONE, ~empty & ~valid_phones(text).to_numpy(), name,
                      *_messages(Rule.BAD_PHONE, column))
            return text
        if kind is Kind.ID_NUMBER:
            valid = valid_id_numbers(text).to_numpy()
            self.flag(Rule.BAD_ID_NUMBER, ~empty & ~valid, name, *_messages(Rule.BAD_ID_NUMBER, column))
            unborn = valid & birth_dates(text).isna().to_numpy()
            self.flag(Rule.BAD_BIRTH_DATE, unborn, name, *_messages(Rule.BAD_BIRTH_DATE, column))
            return text.str.upper()
        parsers = {
            Kind.DATE: (lambda t: parse_dates(t, with_time=False), Rule.BAD_DATE),
            Kind.DATETIME: (lambda t: parse_dates(t, with_time=True), Rule.BAD_DATETIME),
            Kind.MONEY: (parse_money, Rule.BAD_MONEY),
            Kind.INT: (parse_integers, Rule.BAD_INTEGER),
            Kind.NUMBER: (parse_numbers, Rule.BAD_NUMBER),
            Kind.CHOICE: (lambda t: parse_choices(t, column), Rule.NOT_ALLOWED),
        }
        parse, rule = parsers[kind]
        values = parse(text)
        unreadable = ~empty & values.isna().to_numpy()
        if kind is Kind.INT:  # counts are never negative; some columns have a narrower range
            low, high, range_rule = _RANGES.get((self.spec.name, name), (0, None, None))
            outside = (values < low) | (values > high) if high is not None else values < low
            outside = outside.fillna(False).to_numpy(dtype=bool)
            if range_rule is None:
                unreadable |= outside
            else:
                self.flag(range_rule, outside, name, *_messages(range_rule, column))
        self.flag(rule, unreadable, name, *_messages(rule, column))
        return values

    def used_table(self) -> pd.DataFrame:
        """The typed rows no error names (none when the file as a whole has an error)."""
        rows = self.raw[ROW]
        if self.loaded.file_errors:
            used = np.zeros(len(rows), dtype=bool)
        else:
            found = pd.concat([f[["row", "severity"]] for f in self.frames])
            rejected = found.loc[(found["severity"] == str(Severity.ERROR)) & (found["row"] > 0), "row"]
            used = ~rows.isin(rejected).to_numpy()
        table = pd.DataFrame(
            {c.name: _as_contract(self.typed[c.name][used], c) for c in self.spec.columns},
        )
        table[ROW] = rows[used].astype("int64")
        return table.reset_index(drop=True)


def _as_contract(values: pd.Series, column: Column) -> pd.Series:
    """A typed column as the scoring engine expects it (see the module docstring)."""
    kind = column.kind
    if kind in (Kind.DATE, Kind.DATETIME):
        return values.astype("datetime64[ns]")
    if kind is Kind.INT:
        whole = column.required and not values.isna().any()
        return values.astype("int64" if whole else "Int64")
    if kind is Kind.NUMBER:
        return values.astype("float64")
    if kind is Kind.CHOICE:  # None marks a value not allowed; its row is rejected anyway
        return values.fillna("")
    return values


def _check_unique(item: _Input, column: str) -> None:
    """Every non-empty value at most once: each repeat after the first is reported."""
    if column not in item.found:
        return
    values = item.typed.get(column, item.raw[column])
    repeated = (values != "") & values.duplicated(keep=False)
    if not repeated.any():
        return
    first_row = item.raw.loc[repeated, ROW].groupby(values[repeated]).transform("first")
    later = (repeated & values.duplicated(keep="first")).to_numpy()
    first_row = first_row[later[repeated.to_numpy()]].astype(str)
    label = item.label(column)
    item.flag(
        Rule.DUPLICATE_KEY, later, column,
        f"「{label}」与第 " + first_row + " 行重复",
        f"{column} repeats row " + first_row,
        f"删除重复的行;如果是不同的记录,给它一个不同的「{label}」",
    )


def _check_order(item: _Input, chain: tuple[str, ...], rule: Rule) -> None:
    """Each present time in `chain` not earlier than the nearest earlier present one."""
    previous = pd.Series(pd.NaT, index=item.raw.index, dtype="datetime64[ns]")
    previous_label = pd.Series("", index=item.raw.index, dtype=object)
    for column in chain:
        current = item.typed[column]
        label = item.label(column)
        early = (current < previous).to_numpy()  # NaT on either side compares False
        before = previous_label[early]
        item.flag(
            rule, early, column,
            f"「{label}」早于「" + before + "」",
            f"{column} is earlier than " + before.map(_english_of(item)),
            f"核对并更正时间:「{label}」应不早于「" + before + "」",
        )
        present = current.notna()
        previous = current.where(present, previous)
        previous_label = previous_label.mask(present, label)


def _english_of(item: _Input) -> dict[str, str]:
    return {c.label: c.name for c in item.spec.columns}


def _check_references(inputs: dict[str, _Input]) -> None:
    """Every non-empty identifier that points into another file is found there (among all the
    rows read from it, used or not)."""
    for item in inputs.values():
        for column, target_name, target_column in item.spec.references:
            target = inputs[target_name]
            if column not in item.found or not target.has(target_column):
                continue  # the target's own problem says why it cannot be looked in
            values = item.raw[column]
            known = target.raw[target_column]
            broken = ((values != "") & ~values.isin(known[known != ""])).to_numpy()
            label, target_label = item.label(column), target.label(target_column)
            item.flag(
                Rule.BROKEN_REFERENCE, broken, column,
                f"「{label}」在{target.spec.label}文件 {target.loaded.name} 中找不到",
                f"{column} not found in {target.loaded.name}",
                f"核对「{label}」是否写错;如果无误,在 {target.loaded.name} 中补上该{target_label}",
            )


def _check_quarter(inputs: dict[str, _Input], quarter: Quarter) -> None:
    """Services, surveys and complaints belong to the quarter by their date."""
    first, end = pd.Timestamp(quarter.first_day), pd.Timestamp(quarter.next().first_day)
    period = f"{quarter}({quarter.first_day:%Y-%m-%d} 至 {quarter.last_day:%Y-%m-%d})"
    for name, column in _QUARTER_DATES.items():
        item = inputs[name]
        when = item.typed[column]
        outside = (when.notna() & ((when < first) | (when >= end))).to_numpy()
        label = item.label(column)
        item.flag(
            Rule.OUTSIDE_QUARTER, outside, column,
            f"「{label}」不在 {period} 内", f"{column} is outside {quarter}",
            f"把该行移到所属季度的文件中;如果日期写错了,更正「{label}」",
        )


def _check_enrolled_with(inputs: dict[str, _Input]) -> None:
    """Services and surveys name the provider the beneficiary is enrolled with. Identifiers that
    are not found are broken references, reported once where they are, not again here."""
    beneficiaries, providers = inputs["beneficiaries"], inputs["providers"]
    if not beneficiaries.has("beneficiary_id", "provider_id"):
        return
    roster = beneficiaries.first_by("beneficiary_id", ["provider_id"])["provider_id"]
    known = providers.raw["provider_id"] if providers.has("provider_id") else None
    for name in ("services", "surveys"):
        item = inputs[name]
        provider = item.raw["provider_id"]
        enrolled_with = item.raw["beneficiary_id"].map(roster)
        comparable = enrolled_with.notna() & (enrolled_with != "") & (provider != "")
        if known is not None:
            comparable &= enrolled_with.isin(known) & provider.isin(known)
        elsewhere = (comparable & (provider != enrolled_with)).to_numpy()
        what = "服务" if name == "services" else "回访"
        item.flag(
            Rule.NOT_ENROLLED_WITH_PROVIDER, elsewhere, "provider_id",
            "该服务对象登记的服务机构是 " + enrolled_with[elsewhere].astype(str) + f",不是本行{what}的机构",
            "the beneficiary is enrolled with provider " + enrolled_with[elsewhere].astype(str),
            "核对「机构编号」;如果对象已转由本机构服务,先在 beneficiaries 中更新其服务机构",
        )


def _check_services(inputs: dict[str, _Input]) -> None:
    """Service rows against the beneficiary roster and the catalog: escort days with a hospital
    level, and (warnings) overlapping, long and out-of-enrolment visits."""
    services, beneficiaries, catalog = inputs["services"], inputs["beneficiaries"], inputs["catalog"]
    raw, typed = services.raw, services.typed
    started, ended = typed["started_at"], typed["ended_at"]
    completed = typed["status"] == "completed"
    timed = completed & started.notna() & ended.notna() & (ended >= started)

    if beneficiaries.has("beneficiary_id", "enrolled_on", "exited_on"):
        roster = beneficiaries.first_by("beneficiary_id", ["enrolled_on", "exited_on"])
        day = started.dt.normalize()
        enrolled_on = raw["beneficiary_id"].map(roster["enrolled_on"])
        exited_on = raw["beneficiary_id"].map(roster["exited_on"])
        early = (completed & (day < enrolled_on)).to_numpy()
        late = (completed & (day > exited_on)).to_numpy()
        services.flag(
            Rule.OUTSIDE_ENROLMENT, early, "started_at",
            "服务开始时该对象尚未纳入(纳入日期 " + enrolled_on[early].dt.strftime("%Y-%m-%d") + ")",
            "visit before the beneficiary was enrolled (" + enrolled_on[early].dt.strftime("%Y-%m-%d") + ")",
            "核对服务日期和该对象的纳入日期",
        )
        services.flag(
            Rule.OUTSIDE_ENROLMENT, late, "started_at",
            "服务开始时该对象已退出(退出日期 " + exited_on[late].dt.strftime("%Y-%m-%d") + ")",
            "visit after the beneficiary exited (" + exited_on[late].dt.strftime("%Y-%m-%d") + ")",
            "核对服务日期和该对象的退出日期",
        )

    if catalog.has("item_code", "unit"):
        unit = raw["item_code"].map(catalog.first_by("item_code", ["unit"])["unit"])
        by_day = (unit == DAY_UNIT).to_numpy()
        no_level = completed.to_numpy() & by_day & (raw["hospital_level"] == "").to_numpy()
        services.flag(
            Rule.ESCORT_WITHOUT_HOSPITAL, no_level, "hospital_level", "按天计量的陪护服务没有填写医院级别",
            "a service counted in days (hospital escort) has no hospital level",
            "填写「医院级别」:township(乡镇)、county(县级)或 city(市级及以上)",
        )
        duration = ended - started
        too_long = timed.to_numpy() & ~by_day & (duration > pd.Timedelta(hours=LONG_VISIT_HOURS)).to_numpy()
        hours = (duration[too_long].dt.total_seconds() / 3600).round(1).astype(str)
        services.flag(
            Rule.LONG_VISIT, too_long, "ended_at",
            "单次服务时长 " + hours + f" 小时,超过 {LONG_VISIT_HOURS} 小时",
            "visit lasts " + hours + f" hours, more than {LONG_VISIT_HOURS}",
            "核实开始和结束时间是否录错",
        )
        allowed = pd.to_timedelta(typed["units"].clip(upper=36500) + 1, unit="D")
        too_many_days = timed.to_numpy() & by_day & (duration > allowed).to_numpy()
        days = (duration[too_many_days].dt.total_seconds() / 86400).round(1).astype(str)
        services.flag(
            Rule.LONG_VISIT, too_many_days, "ended_at",
            "陪护起止时间跨 " + days + " 天,超过登记的天数加 1 天",
            "the escort lasts " + days + " days, more than its units + 1",
            "核实起止时间和「数量」(天数)",
        )

    _check_worker_overlap(services, timed & (raw["worker_id"] != ""))


def _check_worker_overlap(services: _Input, timed: pd.Series) -> None:
    """Warn when a worker's completed visit starts before an earlier-starting one has ended; the
    later-starting row is reported, naming the row it overlaps."""
    visits = pd.DataFrame({
        "worker": services.raw["worker_id"], "start": services.typed["started_at"],
        "end": services.typed["ended_at"], "row": services.raw[ROW],
    })[timed.to_numpy()].sort_values(["worker", "start", "row"], kind="stable")
    if visits.empty:
        return
    by_worker = visits.groupby("worker", sort=False)
    reach = by_worker["end"].cummax()  # the latest end so far of this worker's visits
    reach_row = visits["row"].where(visits["end"] == reach).groupby(visits["worker"]).ffill()
    previous_reach = reach.groupby(visits["worker"]).shift(1)
    previous_row = reach_row.groupby(visits["worker"]).shift(1)
    overlapping = visits["start"] < previous_reach
    other = previous_row[overlapping].sort_index().astype("int64").astype(str)
    mask = np.zeros(len(services.raw), dtype=bool)
    mask[other.index.to_numpy()] = True
    services.flag(
        Rule.WORKER_OVERLAP, mask, "started_at",
        "同一服务人员的服务时间与第 " + other + " 行重叠",
        "the same worker's visit overlaps row " + other,
        "核实该服务人员当时实际在哪里服务,更正时间或「服务人员编号」",
    )


def _check_inspections(inputs: dict[str, _Input], quarter: Quarter) -> None:
    """Inspections happen in the quarter or within 10 days after it, and not before the service
    they inspect started."""
    inspections, services = inputs["inspections"], inputs["services"]
    inspected = inspections.typed["inspected_on"]
    first = pd.Timestamp(quarter.first_day)
    last = pd.Timestamp(quarter.last_day) + pd.Timedelta(days=INSPECTION_GRACE_DAYS)
    outside = (inspected.notna() & ((inspected < first) | (inspected > last))).to_numpy()
    inspections.flag(
        Rule.OUTSIDE_QUARTER, outside, "inspected_on",
        f"抽查日期应在 {quarter} 内或季度结束后 {INSPECTION_GRACE_DAYS} 天内"
        f"({quarter.first_day:%Y-%m-%d} 至 {last:%Y-%m-%d})",
        f"inspected_on must fall in {quarter} or within {INSPECTION_GRACE_DAYS} days after it",
        "把该行移到所属季度的文件中;如果日期写错了,更正「抽查日期」",
    )
    if not services.has("record_id", "started_at"):
        return
    started = inspections.raw["record_id"].map(services.first_by("record_id", ["started_at"])["started_at"])
    early = (inspected < started.dt.normalize()).to_numpy()
    inspections.flag(
        Rule.TIME_ORDER, early, "inspected_on",
        "抽查日期早于被抽查的服务开始日期(" + started[early].dt.strftime("%Y-%m-%d") + ")",
        "inspected before the inspected service started (" + started[early].dt.strftime("%Y-%m-%d") + ")",
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
        Rule.BAD_PHONE: (
            f"「{label}」格式不正确", f"{name} is not a mainland mobile or landline number",
            "填写 11 位手机号,或带区号的固定电话(如 0796-1234567);没有电话可以留空",
        ),
    }
    return texts[rule]
