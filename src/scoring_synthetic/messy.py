"""Known defects planted in a clean synthetic region (`scoring generate PROFILE --messy`).

Every defect is listed in `defects.csv` in the region directory, one row per defect:

- `quarter`: the quarter directory, empty for region-level files;
- `file`: the path relative to the region directory as written (`2026Q1/services.csv`,
  `beneficiaries.csv`, `region.yaml`);
- `row`: the Excel row (header = 1, first data row = 2); 0 for a whole-file problem; for
  `region.yaml` the 1-based line of the offending key;
- `column`: the header exactly as written in that file (Chinese label or English name), "" for a
  whole-file problem; for `region.yaml` the dotted path (`rules.bogus_rule`);
- `rule`: a `scoring.problems.Rule` value.

Where they go: region.yaml and the region files; in the first quarter, visit times and values
and complaints; in the second, what visits refer to and surveys; in the third, inspections and a
missing complaints.csv; in the fourth, a required column missing from surveys.csv. With fewer
quarters the plan wraps around, and a file chosen for a whole-file defect gets no cell defects.

Conventions, so a validator's report can be compared row by row:

- Each defect sits in a row of its own: no row carries two planted defects, and rows a defect
  needs as a partner (the other half of a duplicate key or a worker overlap) carry none.
- A defect is listed once, on the row and column that are wrong:
  `duplicate_key` on the later of the two rows (the earlier one is the original);
  `worker_overlap` on the later-starting of the two visits, column started_at;
  `time_order` on the later step that is too early (`ended_at` before `started_at`,
  `assigned_at` before `received_at`); `date_order` on the end (`exited_on`, `contract_end`);
  `long_visit` on `ended_at`; `outside_enrolment` on `started_at`; `outside_quarter` on the
  date that leaves the quarter; `not_enrolled_with_provider` on `provider_id`.
- No cascades, assuming the validator skips checks that need a value it could not read or a
  row it could not find: a service whose provider_id is unknown is reported as
  broken_reference only (not also as not_enrolled_with_provider), a service with an unreadable
  time is not also checked for time order, and so on. Planted rows are never inspected, so no
  inspection reference is disturbed; moved visits get a worker of their own, so no overlap
  appears that is not listed.
- Whole-file defects (a missing file, a missing required column) go to a quarter file that has
  no cell defects, and never to services.csv (inspections refer to it).
- Appended rows: `beneficiaries.csv` gets a duplicate of an existing beneficiary_id (the
  duplicate row, with its own valid ID number, is listed) and a person who exited before
  enrolling; `providers.csv` gets a provider whose contract ends before it starts. Both new
  rows have no services, surveys or complaints.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np
import pandas as pd

from scoring.inputs import schema
from scoring.inputs.identity import ID_CHECK_CHARS, id_check_digit, make_id_numbers
from scoring.inputs.months import Quarter
from scoring.inputs.problems import Rule
from scoring_synthetic.people import RegionData, mobile_numbers, person_names

DEFECT_COLUMNS = ["quarter", "file", "row", "column", "rule"]
DATE, DATETIME = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"
MOVE_DAYS = 92  # moves a date into the neighbouring quarter
# a required column to drop, in order of preference (never from services: inspections refer to it)
MISSING_COLUMN_CANDIDATES = (("surveys", "method"), ("inspections", "result"), ("complaints", "category"))


class Planter:
    """Changes cells of a region's text tables and remembers what it planted, one defect a row."""

    def __init__(self, region: RegionData, rng: np.random.Generator) -> None:
        self.region = region
        self.rng = rng
        self.defects: list[dict] = []
        self.used: dict[tuple[str, str], set[int]] = defaultdict(set)

    def table(self, quarter: str, name: str) -> pd.DataFrame:
        return self.region.quarters[quarter][name] if quarter else self.region.files[name]

    def pick(self, quarter: str, name: str, allowed: np.ndarray | pd.Series | None = None) -> int | None:
        """A random row, allowed and without a defect yet (marked as used); None if there is none."""
        table = self.table(quarter, name)
        ok = np.ones(len(table), bool) if allowed is None else np.asarray(allowed, bool).copy()
        ok[list(self.used[(quarter, name)])] = False
        rows = np.flatnonzero(ok)
        if not len(rows):
            return None
        row = int(rows[self.rng.integers(len(rows))])
        self.used[(quarter, name)].add(row)
        return row

    def reserve(self, quarter: str, name: str, row: int) -> None:
        self.used[(quarter, name)].add(row)

    def set(self, quarter: str, name: str, row: int, column: str, value: str) -> None:
        self.table(quarter, name).iat[row, self.table(quarter, name).columns.get_loc(column)] = value

    def plant(self, quarter: str, name: str, row: int | None, column: str, value: str, rule: Rule) -> None:
        """Write `value` into the cell and list the defect (nothing when no row was found)."""
        if row is None:
            return
        self.set(quarter, name, row, column, value)
        self.note(quarter, name, row, column, rule)

    def plant_somewhere(self, quarter: str, name: str, allowed, column: str, value, rule: Rule) -> int | None:
        """Plant in a random allowed row; `value` is the text or a function of the row."""
        row = self.pick(quarter, name, allowed)
        if row is not None:
            self.plant(quarter, name, row, column, value(row) if callable(value) else value, rule)
        return row

    def note(self, quarter: str, name: str, row: int, column: str, rule: Rule) -> None:
        spec = schema.FILES[name]
        self.defects.append({
            "quarter": quarter,
            "file": f"{quarter}/{name}.csv" if quarter else f"{name}.csv",
            "row": row + 2,
            "column": self.region.header(spec, column) if column else "",
            "rule": str(rule),
        })

    def append(self, name: str, row: dict) -> int:
        table = self.region.files[name]
        self.region.files[name] = pd.concat([table, pd.DataFrame([row], columns=table.columns)], ignore_index=True)
        position = len(self.region.files[name]) - 1
        self.reserve("", name, position)
        return position

    def has_defects(self, quarter: str, name: str) -> bool:
        return any(d["file"] == f"{quarter}/{name}.csv" for d in self.defects)

    def listing(self) -> pd.DataFrame:
        table = pd.DataFrame(self.defects, columns=DEFECT_COLUMNS)
        return table.sort_values(["quarter", "file", "row", "column", "rule"], kind="stable").reset_index(drop=True)


def plant_defects(region: RegionData, rng: np.random.Generator) -> pd.DataFrame:
    """Plant one or more defects of every kind the validator checks; return the defects table."""
    planter = Planter(region, rng)
    quarters = list(region.quarters)
    at = lambda i: quarters[i % len(quarters)]  # noqa: E731 — spread the kinds over the quarters
    cells = [  # which quarter's file gets which cell defects
        (at(0), "services", plant_service_times), (at(0), "complaints", plant_complaints),
        (at(1), "services", plant_service_references), (at(1), "surveys", plant_surveys),
        (at(2), "inspections", plant_inspections),
    ]
    with_cells = {(quarter, name) for quarter, name, _ in cells}
    # whole-file defects take files that would otherwise get no cell defects (with fewer than
    # four quarters, a file's cell defects give way)
    missing_file = (at(2), "complaints")
    missing_column = next(
        ((at(3), name, column) for name, column in MISSING_COLUMN_CANDIDATES
         if (at(3), name) not in with_cells and (at(3), name) != missing_file),
        (at(3), "inspections", "result"),
    )
    whole_files = {missing_file, missing_column[:2]}

    plant_region_yaml(planter)
    plant_providers(planter, Quarter.parse(quarters[0]))
    plant_catalog(planter)
    plant_beneficiaries(planter, Quarter.parse(quarters[0]))
    for quarter, name, plant in cells:
        if (quarter, name) not in whole_files:
            plant(planter, quarter)
    plant_missing_file(planter, *missing_file)
    plant_missing_column(planter, *missing_column)
    return planter.listing()


# region-level files -----------------------------------------------------------------------------


def plant_region_yaml(planter: Planter) -> None:
    region = planter.region
    if region.rules_yaml.strip():
        region.rules_yaml = region.rules_yaml.rstrip("\n") + "\n  bogus_rule: 1\n  min_surveys: -3\n"
    else:
        region.rules_yaml = "rules:\n  bogus_rule: 1\n  min_surveys: -3\n"
    lines = region.region_yaml().split("\n")
    for key, rule in (("bogus_rule", Rule.UNKNOWN_RULE), ("min_surveys", Rule.BAD_RULE_VALUE)):
        line = next(i for i, text in enumerate(lines, start=1) if text.strip().startswith(f"{key}:"))
        planter.defects.append({"quarter": "", "file": "region.yaml", "row": line,
                                "column": f"rules.{key}", "rule": str(rule)})


def plant_providers(planter: Planter, first: Quarter) -> None:
    providers = planter.region.files["providers"]
    number = len(providers) + 1
    code = planter.region.code
    row = planter.append("providers", {
        "provider_id": f"P{code}-{number:02d}", "name": "合同待签机构(示例)",
        "contract_id": f"HT{code}-{first.year}-{number:02d}",
        "contract_start": str(first.first_day + timedelta(days=30)),
        "contract_end": str(first.first_day - timedelta(days=1)),
        "contract_amount": "100000.00", "contracted_beneficiaries": "50",
    })
    planter.note("", "providers", row, "contract_end", Rule.DATE_ORDER)


def plant_catalog(planter: Planter) -> None:
    catalog = planter.region.files["catalog"]
    ordinary = catalog["unit"] != "天"
    planter.plant("", "catalog", planter.pick("", "catalog", ordinary), "guide_price", "面议", Rule.BAD_MONEY)
    planter.plant("", "catalog", planter.pick("", "catalog", ordinary), "standard_minutes", "约30", Rule.BAD_INTEGER)


def plant_beneficiaries(planter: Planter, first: Quarter) -> None:
    people = planter.region.files["beneficiaries"]
    code = planter.region.code
    rng = planter.rng
    pick = lambda: planter.pick("", "beneficiaries")  # noqa: E731

    planter.plant("", "beneficiaries", pick(), "name", "", Rule.MISSING_VALUE)
    row = pick()
    valid = people.at[row, "id_number"]
    wrong = ID_CHECK_CHARS[(ID_CHECK_CHARS.index(valid[17]) + 1 + int(rng.integers(10))) % 11]
    planter.plant("", "beneficiaries", row, "id_number", valid[:17] + wrong, Rule.BAD_ID_NUMBER)
    row = pick()
    impossible = code + "19991332" + people.at[row, "id_number"][14:17]  # 32 December 1999
    planter.plant("", "beneficiaries", row, "id_number", impossible + id_check_digit(impossible), Rule.BAD_BIRTH_DATE)
    planter.plant("", "beneficiaries", pick(), "phone", "138123456", Rule.BAD_PHONE)
    planter.plant("", "beneficiaries", pick(), "care_level", "部分护理", Rule.NOT_ALLOWED)

    # a second row with an existing beneficiary_id: same person record, another name and ID
    original = pick()
    twin = people.iloc[original].to_dict()
    twin.update(name=str(person_names(1, rng)[0]), id_number=fresh_id_number(people, code, "1951-03-08"),
                phone=str(mobile_numbers(1, rng)[0]))
    row = planter.append("beneficiaries", twin)
    planter.note("", "beneficiaries", row, "beneficiary_id", Rule.DUPLICATE_KEY)

    # someone who exited before enrolling (and so was never served)
    people = planter.region.files["beneficiaries"]
    enrolled = first.first_day - timedelta(days=200)
    numbers = people["beneficiary_id"].str.rsplit("-", n=1).str[1].astype(int)
    late = people.iloc[int(rng.integers(len(people)))].to_dict()
    late.update(
        beneficiary_id=f"B{code}-{numbers.max() + 1:05d}", name=str(person_names(1, rng)[0]),
        id_number=fresh_id_number(people, code, "1948-11-20"), phone=str(mobile_numbers(1, rng)[0]),
        category="低保", care_level="", enrolled_on=str(enrolled),
        exited_on=str(enrolled - timedelta(days=100)),
    )
    row = planter.append("beneficiaries", late)
    planter.note("", "beneficiaries", row, "exited_on", Rule.DATE_ORDER)


def fresh_id_number(people: pd.DataFrame, code: str, born: str) -> str:
    """A valid ID number nobody in the roster has."""
    for sequence in range(999, 0, -2):
        number = str(make_id_numbers(np.array([code]), np.array([born], dtype="datetime64[D]"),
                                     np.array([sequence]))[0])
        if not (people["id_number"] == number).any():
            return number
    raise RuntimeError("no free ID number")  # cannot happen with < 500 people born that day


# quarter files -----------------------------------------------------------------------------------


class Visits:
    """A quarter's services read back for choosing rows: times, units, enrolment, inspection."""

    def __init__(self, planter: Planter, quarter: str) -> None:
        region = planter.region
        table = planter.table(quarter, "services")
        self.table = table
        self.quarter = Quarter.parse(quarter)
        self.started = pd.to_datetime(table["started_at"], format=DATETIME, errors="coerce")
        self.ended = pd.to_datetime(table["ended_at"], format=DATETIME, errors="coerce")
        units = region.files["catalog"].set_index("item_code")["unit"]
        self.is_day = table["item_code"].map(units).eq("天").to_numpy()
        inspected = set()
        if "inspections" in region.quarters[quarter]:
            inspected = set(region.quarters[quarter]["inspections"]["record_id"])
        self.inspected = table["record_id"].isin(inspected).to_numpy()
        self.plain = (table["status"] == "completed").to_numpy() & ~self.is_day & ~self.inspected
        people = region.files["beneficiaries"].drop_duplicates("beneficiary_id").set_index("beneficiary_id")
        person = table["beneficiary_id"]
        self.enrolled = pd.to_datetime(person.map(people["enrolled_on"]), format=DATE, errors="coerce")
        self.exited = pd.to_datetime(person.map(people["exited_on"]), format=DATE, errors="coerce")
        self.contracts = contracts(region)


def fresh_worker(code: str, number: int) -> str:
    return f"W{code}-99-{number:03d}"  # a worker with no other visit: moved visits overlap nobody


def plant_service_times(planter: Planter, quarter: str) -> None:
    """Defects in the times and values of visits (and the two warnings about workers)."""
    visits = Visits(planter, quarter)
    table, code, plain = visits.table, planter.region.code, visits.plain

    def plant(allowed, column: str, value, rule: Rule) -> int | None:
        return planter.plant_somewhere(quarter, "services", allowed, column, value, rule)

    plant(plain, "worker_id", "", Rule.MISSING_VALUE)
    plant(plain, "ordered_at", lambda row: table.at[row, "started_at"][:10] + " 25:10:00", Rule.BAD_DATETIME)
    half_hour = pd.Timedelta(minutes=30)
    plant(plain, "ended_at", lambda row: stamp(visits.started[row] - half_hour), Rule.TIME_ORDER)
    plant(plain, "beneficiary_id", f"B{code}-99999", Rule.BROKEN_REFERENCE)
    plant(plain, "provider_id", f"P{code}-99", Rule.BROKEN_REFERENCE)
    escorts = (table["status"] == "completed").to_numpy() & visits.is_day & ~visits.inspected
    plant(escorts, "hospital_level", "", Rule.ESCORT_WITHOUT_HOSPITAL)

    # 15 hours from one morning (starting before 09:00, so it ends the same day), by a worker of
    # its own so that it overlaps nobody
    early = plain & (visits.started.dt.hour < 9).to_numpy()
    row = plant(early, "ended_at", lambda row: stamp(visits.started[row] + pd.Timedelta(hours=15)), Rule.LONG_VISIT)
    if row is not None:
        planter.set(quarter, "services", row, "worker_id", fresh_worker(code, 1))

    plant_worker_overlap(planter, visits, quarter)


def plant_worker_overlap(planter: Planter, visits: Visits, quarter: str) -> None:
    """Visit B is moved to start halfway through visit A, same worker, same day: B is listed."""
    table = visits.table
    first = planter.pick(quarter, "services", visits.plain)
    if first is None:
        return
    same_day = (
        visits.plain & (table["provider_id"] == table.at[first, "provider_id"]).to_numpy()
        & (visits.started.dt.date == visits.started[first].date()).to_numpy()
        & (table["worker_id"] != table.at[first, "worker_id"]).to_numpy()
    )
    second = planter.pick(quarter, "services", same_day)
    if second is None:
        return
    halfway = (visits.ended[first] - visits.started[first]) / 2  # visits last 10 minutes or more
    start = (visits.started[first] + halfway).floor("s")
    length = min(visits.ended[second] - visits.started[second], pd.Timedelta(hours=1))
    ordered = pd.to_datetime(table.at[second, "ordered_at"])
    planter.set(quarter, "services", second, "ordered_at", stamp(min(ordered, start - pd.Timedelta(minutes=30))))
    planter.set(quarter, "services", second, "started_at", stamp(start))
    planter.set(quarter, "services", second, "ended_at", stamp(start + length))
    planter.set(quarter, "services", second, "worker_id", table.at[first, "worker_id"])
    planter.note(quarter, "services", second, "started_at", Rule.WORKER_OVERLAP)


def plant_service_references(planter: Planter, quarter: str) -> None:
    """Defects in what a visit refers to: keys, items, units, channel, quarter, enrolment."""
    visits = Visits(planter, quarter)
    table, name = visits.table, "services"

    original = planter.pick(quarter, name, visits.plain)
    later = np.zeros(len(table), bool)
    if original is not None:
        later[original + 1:] = visits.plain[original + 1:]
    row = planter.pick(quarter, name, later)
    if row is not None:
        planter.plant(quarter, name, row, "record_id", table.at[original, "record_id"], Rule.DUPLICATE_KEY)
    planter.plant_somewhere(quarter, name, visits.plain, "item_code", "XX99", Rule.BROKEN_REFERENCE)
    planter.plant_somewhere(quarter, name, visits.plain, "units", "一", Rule.BAD_NUMBER)
    planter.plant_somewhere(quarter, name, visits.plain, "channel", "短信", Rule.NOT_ALLOWED)
    plant_visit_outside_quarter(planter, visits, quarter)
    plant_visit_by_other_provider(planter, visits, quarter)
    plant_visit_before_enrolment(planter, visits, quarter)


def plant_visit_outside_quarter(planter: Planter, visits: Visits, quarter: str) -> None:
    """A visit moved 92 days back (or forward) — still enrolled and under contract then."""
    table = visits.table
    start_of = visits.contracts["contract_start"].reindex(table["provider_id"]).to_numpy()
    end_of = visits.contracts["contract_end"].reindex(table["provider_id"]).to_numpy()
    for days in (-MOVE_DAYS, MOVE_DAYS):
        moved_start = visits.started + pd.Timedelta(days=days)
        moved_end = visits.ended + pd.Timedelta(days=days)
        leaves_quarter = (moved_start.dt.date < visits.quarter.first_day) | (moved_end.dt.date > visits.quarter.last_day)
        still_valid = (
            visits.plain & leaves_quarter.to_numpy()
            & (moved_start.dt.normalize() >= visits.enrolled).to_numpy()
            & (visits.exited.isna() | (moved_end.dt.normalize() < visits.exited)).to_numpy()
            & (moved_start.dt.normalize().to_numpy() >= start_of)
            & (moved_end.dt.normalize().to_numpy() <= end_of)
        )
        row = planter.pick(quarter, "services", still_valid)
        if row is None:
            continue
        ordered = pd.to_datetime(table.at[row, "ordered_at"]) + pd.Timedelta(days=days)
        planter.set(quarter, "services", row, "ordered_at", stamp(ordered))
        planter.set(quarter, "services", row, "ended_at", stamp(moved_end[row]))
        planter.set(quarter, "services", row, "worker_id", fresh_worker(planter.region.code, 2))
        planter.plant(quarter, "services", row, "started_at", stamp(moved_start[row]), Rule.OUTSIDE_QUARTER)
        return


def plant_visit_by_other_provider(planter: Planter, visits: Visits, quarter: str) -> None:
    """A visit credited to another provider whose contract covers the day."""
    table = visits.table
    real = visits.contracts.drop(index=[p for p in visits.contracts.index if p not in set(table["provider_id"])])
    if len(real) < 2:
        return
    row = planter.pick(quarter, "services", visits.plain)
    if row is None:
        return
    day = visits.started[row].normalize()
    others = real[(real.index != table.at[row, "provider_id"])
                  & (real["contract_start"] <= day) & (real["contract_end"] >= visits.ended[row].normalize())]
    if not len(others):
        return
    planter.plant(quarter, "services", row, "provider_id", others.index[0], Rule.NOT_ENROLLED_WITH_PROVIDER)


def plant_visit_before_enrolment(planter: Planter, visits: Visits, quarter: str) -> None:
    """A visit credited to a beneficiary of the same provider who enrolled only later."""
    table = visits.table
    people = planter.region.files["beneficiaries"]
    clean_people = np.ones(len(people), bool)
    clean_people[list(planter.used[("", "beneficiaries")])] = False
    people = people[clean_people & ~people["beneficiary_id"].duplicated(keep=False).to_numpy()]
    enrolled = pd.to_datetime(people["enrolled_on"], format=DATE, errors="coerce")
    for _ in range(20):  # a few tries: a newcomer of the same provider is not always there
        row = planter.pick(quarter, "services", visits.plain)
        if row is None:
            return
        later = people[(people["provider_id"] == table.at[row, "provider_id"])
                       & (enrolled > visits.ended[row].normalize())]
        if len(later):
            newcomer = later["beneficiary_id"].iloc[int(planter.rng.integers(len(later)))]
            planter.set(quarter, "services", row, "beneficiary_id", newcomer)
            planter.note(quarter, "services", row, "started_at", Rule.OUTSIDE_ENROLMENT)
            return
        planter.used[(quarter, "services")].discard(row)


def plant_surveys(planter: Planter, quarter: str) -> None:
    table = planter.table(quarter, "surveys")
    code, name = planter.region.code, "surveys"
    pick = lambda allowed=None: planter.pick(quarter, name, allowed)  # noqa: E731
    q = Quarter.parse(quarter)

    short_month = {1: "02-30", 2: "06-31", 3: "09-31", 4: "11-31"}[q.number]  # days that do not exist
    planter.plant(quarter, name, pick(), "surveyed_on", f"{q.year}-{short_month}", Rule.BAD_DATE)
    planter.plant(quarter, name, pick(), "overall", "4.5", Rule.BAD_INTEGER)
    planter.plant(quarter, name, pick(), "overall", "0", Rule.SURVEY_OUT_OF_RANGE)
    planter.plant(quarter, name, pick(), "overall", "7", Rule.SURVEY_OUT_OF_RANGE)
    planter.plant(quarter, name, pick(), "beneficiary_id", f"B{code}-99999", Rule.BROKEN_REFERENCE)
    planter.plant(quarter, name, pick(), "method", "", Rule.MISSING_VALUE)
    original = pick()
    if original is not None:
        later = np.arange(len(table)) > original
        planter.plant(quarter, name, pick(later), "survey_id", table.at[original, "survey_id"], Rule.DUPLICATE_KEY)

    contract = contracts(planter.region)
    surveyed = pd.to_datetime(table["surveyed_on"], format=DATE, errors="coerce")
    row = pick()
    if row is not None:
        day = surveyed[row]
        others = contract[(contract.index != table.at[row, "provider_id"])
                          & contract.index.isin(table["provider_id"])
                          & (contract["contract_start"] <= day) & (contract["contract_end"] >= day)]
        if len(others):
            planter.plant(quarter, name, row, "provider_id", others.index[0], Rule.NOT_ENROLLED_WITH_PROVIDER)
        else:
            planter.used[(quarter, name)].discard(row)

    # a survey dated in the next quarter, while the person is still enrolled and under contract
    people = planter.region.files["beneficiaries"].drop_duplicates("beneficiary_id").set_index("beneficiary_id")
    moved = surveyed + pd.Timedelta(days=MOVE_DAYS)
    still_valid = (
        table["beneficiary_id"].map(people["exited_on"]).eq("").to_numpy()
        & (moved.to_numpy() <= contract["contract_end"].reindex(table["provider_id"]).to_numpy())
    )
    row = pick(still_valid)
    if row is not None:
        planter.plant(quarter, name, row, "surveyed_on", str(moved[row].date()), Rule.OUTSIDE_QUARTER)


def plant_complaints(planter: Planter, quarter: str) -> None:
    table = planter.table(quarter, "complaints")
    code, name = planter.region.code, "complaints"
    assigned = table["assigned_at"] != ""
    row = planter.pick(quarter, name, assigned)
    if row is not None:
        received = pd.to_datetime(table.at[row, "received_at"])
        planter.plant(quarter, name, row, "assigned_at", stamp(received - pd.Timedelta(hours=2)), Rule.TIME_ORDER)
    planter.plant(quarter, name, planter.pick(quarter, name), "substantiated", "不清楚", Rule.NOT_ALLOWED)
    row = planter.pick(quarter, name)
    if row is not None:
        received = table.at[row, "received_at"]
        planter.plant(quarter, name, row, "received_at", received[:5] + "13" + received[7:], Rule.BAD_DATETIME)
    planter.plant(quarter, name, planter.pick(quarter, name, table["beneficiary_id"] != ""),
                  "beneficiary_id", f"B{code}-99999", Rule.BROKEN_REFERENCE)


def plant_inspections(planter: Planter, quarter: str) -> None:
    table = planter.table(quarter, "inspections")
    code, name = planter.region.code, "inspections"
    q = Quarter.parse(quarter)
    pick = lambda: planter.pick(quarter, name)  # noqa: E731
    planter.plant(quarter, name, pick(), "deduction_yuan", "五十", Rule.BAD_MONEY)
    planter.plant(quarter, name, pick(), "record_id", f"S{code}-{quarter}-999999", Rule.BROKEN_REFERENCE)
    planter.plant(quarter, name, pick(), "inspected_on", str(q.last_day + timedelta(days=25)), Rule.OUTSIDE_QUARTER)
    planter.plant(quarter, name, pick(), "result", "待定", Rule.NOT_ALLOWED)
    row = pick()
    if row is not None:
        planter.plant(quarter, name, row, "inspected_on", table.at[row, "inspected_on"][:8] + "32", Rule.BAD_DATE)


# whole files -------------------------------------------------------------------------------------



def plant_missing_file(planter: Planter, quarter: str, name: str) -> None:
    files = planter.region.quarters[quarter]
    if name in files and not planter.has_defects(quarter, name):
        del files[name]
        planter.defects.append({"quarter": quarter, "file": f"{quarter}/{name}.csv", "row": 0,
                                "column": "", "rule": str(Rule.MISSING_FILE)})


def plant_missing_column(planter: Planter, quarter: str, name: str, column: str) -> None:
    files = planter.region.quarters[quarter]
    if name in files and not planter.has_defects(quarter, name):
        files[name] = files[name].drop(columns=[column])
        planter.defects.append({
            "quarter": quarter, "file": f"{quarter}/{name}.csv", "row": 0,
            "column": planter.region.header(schema.FILES[name], column),
            "rule": str(Rule.MISSING_COLUMN),
        })


def contracts(region: RegionData) -> pd.DataFrame:
    providers = region.files["providers"].drop_duplicates("provider_id").set_index("provider_id")
    return providers[["contract_start", "contract_end"]].apply(pd.to_datetime, format=DATE, errors="coerce")


def stamp(moment: pd.Timestamp) -> str:
    return moment.strftime(DATETIME)
