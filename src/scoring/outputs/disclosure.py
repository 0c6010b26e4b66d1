"""The disclosure audit: what a reader can work out about each hidden small count from everything
published for a quarter, computed with integer programming.

Primary and secondary suppression (`privacy`) hide cells so that no single equation gives a small
count away. That is not enough: equations combine, the "<5" label itself says 1 to 4, a rate pins
satisfied / surveys, and the quality score in scores.csv lets a withheld satisfaction share be
solved. So, as statistical offices do, the release is audited as a whole. Every count of the
satisfaction table is an integer unknown, and everything published about them is a linear
constraint (all coefficients integers, so the answers are exact):

- a visible count is its value; "<T" is 1..T-1; "x" is any count (>= 0);
- each row's answers add up to its surveys, the answers from `satisfied_at_least` up to its
  satisfied count, and the providers' rows to the `ALL` row;
- a published rate or satisfaction component r (rounded to 2 decimals) puts 100 x satisfied /
  surveys within r +- 0.005, written without division;
- 样本不足 (small_sample) says whether surveys < `min_surveys`;
- a published quality score whose satisfaction component is withheld: the component is what the
  quality score and the other components leave (the complaints component exactly, from the
  published ticket counts; the others within their rounding), by the weights in the rules;
- the Wilson interval bounds are published only beside the rate, a function of the same two
  counts, so they add nothing; a release where they stand alone is refused (`AuditGap`);
- earlier versions of the same quarter that stay online add their own constraints on the same
  counts whenever they are consistent with the new version. When they are not, the counts changed
  and those versions describe other numbers (each was audited when it was published).

For every hidden small count, `audit` computes the smallest and largest value the constraints
allow (`scipy.optimize.milp`, HiGHS); a range of fewer than `MIN_VALUES` values is weak. The
counts of the other public tables enter no equation: contracts' 合同服务人数 and spending's 平均服务
对象人数 ("<T" is T-1 values), the latter only because the per-capita figures that would give it
away (per capita = 4 x spend / people) are withheld with it, which the audit checks. Complaint
tickets are events, not people, and are published as they are; the province overview publishes
money and counts of grades, no counts of people. What the audit does not model: the bootstrap
interval of the score (a resampling statistic; inverting it would need the survey rows themselves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from scoring.engine.satisfaction import ALL
from scoring.inputs.rules import Rules
from scoring.outputs.privacy import SECONDARY

MIN_VALUES = 3  # a hidden small count must stay any of at least this many values
ANSWERS = [f"n{i}" for i in range(1, 6)]
COUNTS = ["surveys", "satisfied", *ANSWERS]
HALF_CENT = Fraction(1, 200)  # half of the last published decimal (0.005)

Cell = tuple[str, str]  # (provider_id, column) of the satisfaction table
Row = tuple[dict[Cell, int], float, float]  # coefficients, lower and upper bound


class AuditGap(ValueError):
    """A release publishes something about hidden counts that the audit does not model."""


@dataclass(frozen=True)
class View:
    """One published version of a quarter: its public tables (text cells, as in the CSV files)
    and the rules they were made with. `label` names it in messages: 本次 or v1, v2..."""

    tables: dict[str, pd.DataFrame]
    rules: Rules
    label: str = "本次"
    small: frozenset = frozenset()  # cells shown as "x" that hold a small count (known to us only)


@dataclass(frozen=True)
class Finding:
    """What a reader can infer about one hidden small count: it lies in low..high."""

    file: str
    row: str
    column: str
    low: int
    high: float  # math.inf when nothing bounds it
    version: str = "本次"

    @property
    def values(self) -> float:
        return self.high - self.low + 1

    @property
    def weak(self) -> bool:
        return self.values < MIN_VALUES

    def describe(self) -> str:
        high = "∞" if math.isinf(self.high) else str(int(self.high))
        return (f"{self.file} 中 {self.row} 的 {self.column}({self.version}公布的小数值)"
                f"可推算到 {self.low}–{high},只有 {int(self.values)} 种可能")


@dataclass
class AuditReport:
    findings: list[Finding] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # the versions whose constraints were used

    @property
    def weak(self) -> list[Finding]:
        return [f for f in self.findings if f.weak]


# constraints of one view ------------------------------------------------------------------------


def _share_rows(sat: Cell, surveys: Cell, low: Fraction, high: Fraction) -> list[Row]:
    """low <= 100 x sat / surveys <= high, as two integer rows (true for 0 / 0 too)."""
    d = math.lcm(low.denominator, high.denominator)
    return [({sat: 100 * d, surveys: -int(low * d)}, 0, np.inf),
            ({sat: 100 * d, surveys: -int(high * d)}, -np.inf, 0)]


def _cell_rows(cell: Cell, text: str, threshold: int) -> list[Row]:
    text = str(text).strip()
    if text == SECONDARY:
        return []
    if text.startswith("<"):
        return [({cell: 1}, 1, int(text[1:]) - 1)]
    if text == "":
        raise AuditGap(f"satisfaction.csv 的 {cell[0]} {cell[1]} 为空")
    return [({cell: 1}, int(text), int(text))]


def _satisfaction_rows(view: View) -> tuple[list[Row], list[Cell]]:
    """The view's constraints on the satisfaction counts, and its hidden small cells."""
    rules, table = view.rules, view.tables["satisfaction"].set_index("provider_id")
    rows: list[Row] = []
    small: list[Cell] = []
    for pid in table.index:
        line = table.loc[pid]
        for column in COUNTS:
            rows += _cell_rows((pid, column), line[column], rules.suppress_below)
            if str(line[column]).startswith("<"):
                small.append((pid, column))
        rows.append(({(pid, "surveys"): 1, **{(pid, a): -1 for a in ANSWERS}}, 0, 0))
        rows.append(({(pid, "satisfied"): 1,
                      **{(pid, f"n{i}"): -1 for i in range(rules.satisfied_at_least, 6)}}, 0, 0))
        if str(line["rate"]) != "":
            rate = Fraction(Decimal(str(line["rate"])))
            rows += _share_rows((pid, "satisfied"), (pid, "surveys"), rate - HALF_CENT, rate + HALF_CENT)
        elif str(line["ci_low"]) != "" or str(line["ci_high"]) != "":
            raise AuditGap(f"satisfaction.csv 的 {pid} 公布了区间却未公布满意率")
        flag = str(line["small_sample"])
        if flag in ("True", "False"):  # surveys < min_surveys, or not
            rows.append(({(pid, "surveys"): 1}, *((0, rules.min_surveys - 1) if flag == "True"
                                                  else (rules.min_surveys, np.inf))))
    providers = [pid for pid in table.index if pid != ALL]
    if ALL in table.index and providers:
        for column in COUNTS:
            rows.append(({(ALL, column): 1, **{(pid, column): -1 for pid in providers}}, 0, 0))
    return rows, small


def _quality_rows(view: View) -> list[Row]:
    """What a published quality score says about a withheld satisfaction component."""
    scores = view.tables.get("scores")
    if scores is None:
        return []
    complaints = view.tables.get("complaints")
    tickets = complaints.set_index("provider_id") if complaints is not None else None
    weights = {k: Fraction(repr(v)) for k, v in view.rules.quality_weights.model_dump().items()}
    if weights["satisfaction"] == 0:
        return []
    rows: list[Row] = []
    for line in scores.itertuples(index=False):
        pid = line.provider_id
        sat, surveys = (pid, "satisfied"), (pid, "surveys")
        if str(line.satisfaction_component) != "":
            component = Fraction(Decimal(str(line.satisfaction_component)))
            rows += _share_rows(sat, surveys, component - HALF_CENT, component + HALF_CENT)
            continue
        if str(line.quality_score) == "":
            continue
        quality = Fraction(Decimal(str(line.quality_score)))
        total, low, high = weights["satisfaction"], Fraction(0), Fraction(0)
        for name, column in (("inspections", "inspection_component"), ("complaints", "complaint_component")):
            text = str(getattr(line, column))
            if text == "":
                continue
            value, slack = Fraction(Decimal(text)), HALF_CENT
            if name == "complaints" and tickets is not None and pid in tickets.index:
                received = int(tickets.at[pid, "received"])
                if received:  # the published ticket counts give the component exactly
                    value, slack = Fraction(100 * int(tickets.at[pid, "responded_in_time"]), received), 0
            total += weights[name]
            low += weights[name] * (value + slack)
            high += weights[name] * (value - slack)
        # quality = (w_s S + sum w_j X_j) / total, so S = (total x quality - sum w_j X_j) / w_s
        rows += _share_rows(sat, surveys,
                            (total * (quality - HALF_CENT) - low) / weights["satisfaction"],
                            (total * (quality + HALF_CENT) - high) / weights["satisfaction"])
    return rows


def _view_rows(view: View) -> tuple[list[Row], list[Cell]]:
    rows, small = _satisfaction_rows(view)
    return rows + _quality_rows(view), small


# the integer programs ---------------------------------------------------------------------------


class _Program:
    """Integer unknowns (one per cell named in the rows) under the rows' constraints."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.index: dict[Cell, int] = {}
        for coefficients, _, _ in rows:
            for cell in coefficients:
                self.index.setdefault(cell, len(self.index))
        n = len(self.index)
        self.matrix = np.zeros((len(rows), n))
        for i, (coefficients, _, _) in enumerate(rows):
            for cell, value in coefficients.items():
                self.matrix[i, self.index[cell]] += value
        self.lower = np.array([low for _, low, _ in rows], dtype=float)
        self.upper = np.array([high for _, _, high in rows], dtype=float)

    def _solve(self, objective: np.ndarray):
        n = len(self.index)
        return milp(objective, integrality=np.ones(n), bounds=Bounds(np.zeros(n), np.full(n, np.inf)),
                    constraints=LinearConstraint(self.matrix, self.lower, self.upper))

    def feasible(self) -> bool:
        return self._solve(np.zeros(len(self.index))).status == 0

    def extent(self, cell: Cell) -> tuple[int, float]:
        """The smallest and largest integer value of `cell` (inf when unbounded)."""
        objective = np.zeros(len(self.index))
        objective[self.index[cell]] = 1
        low = self._solve(objective)
        high = self._solve(-objective)
        if low.status != 0:
            raise AuditGap("公布的数字相互矛盾,无法审计")
        top = round(-high.fun) if high.status == 0 else math.inf  # 3 or 4: nothing bounds it
        return round(low.fun), top


def _programs(views: list[View]) -> tuple[_Program, list[tuple[Cell, str]], list[str]]:
    """The program of the new view and every earlier view consistent with it; the hidden small
    cells to audit (with the version that hides them) and the versions used."""
    current, *earlier = views
    rows, small = _view_rows(current)
    targets = [(cell, current.label) for cell in [*small, *sorted(current.small)]]
    used = [current.label]
    for view in earlier:
        more, hidden = _view_rows(view)
        if _Program(rows + more).feasible():
            rows += more
            targets += [(cell, view.label) for cell in hidden]
            used.append(view.label)
    return _Program(rows), targets, used


def audit(views: list[View]) -> AuditReport:
    """Every hidden small count of the new view (`views[0]`) and of the earlier versions consistent
    with it, with the range a reader can narrow it to from everything published."""
    program, targets, used = _programs(views)
    report = AuditReport(versions=used)
    seen = set()
    for cell, label in targets:
        if cell in seen:
            continue
        seen.add(cell)
        low, high = program.extent(cell)
        report.findings.append(Finding("satisfaction.csv", cell[0], cell[1], low, high, label))
    report.findings += _other_tables(views[0])
    return report


def cell_extent(views: list[View], cell: Cell) -> tuple[int, float]:
    """The range of one satisfaction cell given everything published in `views`."""
    program, _, _ = _programs(views)
    return program.extent(cell)


def _other_tables(view: View) -> list[Finding]:
    """Small counts outside the satisfaction table: each may be any of 1..T-1, unless a published
    figure gives it away (the per-capita spending gives the average number of people)."""
    out = []
    contracts = view.tables.get("contracts")
    for line in ([] if contracts is None else contracts.itertuples(index=False)):
        text = str(line.contracted_beneficiaries)
        if text.startswith("<"):
            out.append(Finding("contracts.csv", line.provider_id, "contracted_beneficiaries",
                               1, int(text[1:]) - 1, view.label))
    spending = view.tables.get("spending")
    for line in ([] if spending is None else spending.itertuples(index=False)):
        text = str(line.avg_beneficiaries)
        if text.startswith("<"):
            revealing = [c for c in ("per_capita_annual", "ratio_to_standard", "difference_to_standard")
                         if str(getattr(line, c)) != ""]
            high = 1 if revealing else int(text[1:]) - 1  # one value: the per-capita figure gives it
            out.append(Finding("spending.csv", "本县", "avg_beneficiaries", 1, high, view.label))
    return out
