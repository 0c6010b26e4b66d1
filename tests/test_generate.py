"""The synthetic regions: deterministic, the right size, realistic identifiers, clean when asked to
be clean, and with exactly the listed defects when messy.

`find_problems` below is a small independent reading of the input contract (SPEC.md and the
generator's conventions), used as an oracle: on clean data it must find nothing, on messy data
exactly the rows listed in defects.csv.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.inputs import schema
from scoring.inputs.identity import (
    birth_dates,
    is_valid_bank_account,
    is_valid_credit_code,
    valid_id_numbers,
    valid_phones,
)
from scoring.inputs.months import Quarter
from scoring.inputs.problems import Rule
from scoring.inputs.rules import load_region_config
from scoring_synthetic.generate import PROFILES, generate

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("xiajiang", "huining")
QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("regenerated")
    return {name: generate(name, root / name)[0] for name in SAMPLES}


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("messy")
    return {name: generate(name, root / name, messy=True)[0] for name in SAMPLES}


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def read(path: Path, spec: schema.FileSpec) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return table.rename(columns=lambda h: schema.canonical_column(spec, h) or h)


# determinism ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_committed_samples_regenerate_byte_for_byte(name, regenerated):
    committed = REPO / "data" / name
    fresh = regenerated[name]
    assert files_under(committed) == files_under(fresh)
    for relative in files_under(fresh):
        assert filecmp.cmp(committed / relative, fresh / relative, shallow=False), relative


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    first = generate("huining", tmp_path / "a", seed=7, quarters=["2026Q1"])[0]
    again = generate("huining", tmp_path / "b", seed=7, quarters=["2026Q1"])[0]
    other = generate("huining", tmp_path / "c", seed=8, quarters=["2026Q1"])[0]
    for relative in files_under(first):
        assert (first / relative).read_bytes() == (again / relative).read_bytes(), relative
    assert (first / "beneficiaries.csv").read_bytes() != (other / "beneficiaries.csv").read_bytes()
    assert (first / "2026Q1/services.csv").read_bytes() != (other / "2026Q1/services.csv").read_bytes()


def test_files_are_plain_utf8_with_newlines(regenerated):
    for path in regenerated["xiajiang"].rglob("*.csv"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw, path
        raw.decode("utf-8")


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown profile"):
        generate("atlantis", tmp_path)


# the shape of the sample regions -----------------------------------------------------------------


def test_xiajiang_matches_the_seed_document(regenerated):
    region = regenerated["xiajiang"]
    people = read(region / "beneficiaries.csv", schema.BENEFICIARIES)
    catalog = read(region / "catalog.csv", schema.CATALOG)
    providers = read(region / "providers.csv", schema.PROVIDERS)
    assert len(people) == 421
    assert people["township"].nunique() == 11
    assert people["village"].nunique() == 96
    assert len(catalog) == 27
    assert set(catalog["category"]) == {"生活照料", "健康护理", "心理疏导", "资源链接", "助农助急"}
    assert set(catalog["unit"]) == {"次", "小时", "天"}
    assert catalog.loc[catalog["name"] == "住院陪护", "unit"].tolist() == ["天"]
    assert len(providers) == 3
    # 2,000 yuan per person per year on one-year contracts
    amount = providers["contract_amount"].astype(float).sum()
    assert amount == 2000 * providers["contracted_beneficiaries"].astype(int).sum() == 2000 * 421
    assert "2025-11-15" in set(providers["contract_start"])  # a contract starting mid-quarter
    # Chinese headers
    header = (region / "beneficiaries.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == [c.label for c in schema.BENEFICIARIES.columns]
    config, problems = load_region_config(region)
    assert not problems and config.code == "360823" and config.rules.visits_per_month["特困"] == 3


def test_huining_has_its_rules_and_english_headers(regenerated):
    region = regenerated["huining"]
    config, problems = load_region_config(region)
    assert not problems and config.name == "会宁县" and config.code == "620422"
    assert config.rules.visits_per_month == {"特困": 3, "经济困难老年人": 3, "重度残疾人": 2, "其他": 1}
    assert {k: int(v) for k, v in config.rules.escort_rates.items()} == {"township": 100, "county": 150, "city": 200}
    assert {k: int(v) for k, v in config.rules.care_tier_rates.items()} == {"全自理": 70, "半护理": 150, "全护理": 230}
    people = pd.read_csv(region / "beneficiaries.csv", dtype=str, keep_default_na=False)
    assert list(people.columns) == schema.BENEFICIARIES.column_names
    assert 450 <= len(people) <= 550
    assert (people.loc[people["category"] == "特困", "care_level"] != "").all()
    providers = pd.read_csv(region / "providers.csv", dtype=str)
    assert 2 <= len(providers) <= 3
    services = pd.read_csv(region / "2026Q1/services.csv", dtype=str, keep_default_na=False)
    escorts = services[services["item_code"] == "JK05"]
    assert len(escorts) > 20 and set(escorts["hospital_level"]) == {"township", "county", "city"}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_id_number_and_phone_is_well_formed(name, regenerated):
    people = read(regenerated[name] / "beneficiaries.csv", schema.BENEFICIARIES)
    code = PROFILES[name].code
    assert valid_id_numbers(people["id_number"]).all()
    assert people["id_number"].str.startswith(code).all()
    assert people["id_number"].is_unique
    born = birth_dates(people["id_number"])
    assert born.notna().all()
    children = people["category"].isin(["孤儿", "事实无人抚养儿童"])
    assert (born[children] > pd.Timestamp("2007-01-01")).all()
    assert (born[people["category"] == "经济困难老年人"] < pd.Timestamp("1966-01-01")).all()
    phones = people["phone"][people["phone"] != ""]
    assert valid_phones(phones).all() and phones.str.fullmatch(r"1[3-9]\d{9}").all()


@pytest.mark.parametrize("name", SAMPLES)
def test_quarters_have_the_expected_volume(name, regenerated):
    target = PROFILES[name].records_per_quarter
    for quarter in QUARTERS:
        services = read(regenerated[name] / quarter / "services.csv", schema.SERVICES)
        assert abs(len(services) - target) <= 0.15 * target, (quarter, len(services))
        assert (services["status"] == "completed").mean() > 0.85
        assert set(services["status"]) == set(schema.STATUSES)
        assert set(services["channel"]) == set(schema.CHANNELS)
        surveys = read(regenerated[name] / quarter / "surveys.csv", schema.SURVEYS)
        per_provider = surveys.groupby("provider_id").size()
        providers = read(regenerated[name] / "providers.csv", schema.PROVIDERS)
        assert set(per_provider.index) == set(providers["provider_id"])  # everyone surveyed
        assert (per_provider >= 1).all() and per_provider.median() >= 30
        complaints = read(regenerated[name] / quarter / "complaints.csv", schema.COMPLAINTS)
        assert len(complaints) >= 5
        inspections = read(regenerated[name] / quarter / "inspections.csv", schema.INSPECTIONS)
        assert len(inspections) >= 10


def test_complaints_read_like_real_tickets(regenerated):
    region = regenerated["xiajiang"]
    people = read(region / "beneficiaries.csv", schema.BENEFICIARIES).set_index("beneficiary_id")
    tickets = pd.concat([read(region / q / "complaints.csv", schema.COMPLAINTS) for q in QUARTERS])
    named = tickets[tickets["beneficiary_id"] != ""]
    names = named["beneficiary_id"].map(people["name"])
    assert all(name in text for name, text in zip(names, named["text"]))
    assert tickets["text"].str.contains(r"1[3-9]\d{9}").all()
    hours = (pd.to_datetime(tickets["responded_at"].replace("", None))
             - pd.to_datetime(tickets["received_at"])).dt.total_seconds() / 3600
    assert (hours > 72).any() and hours.isna().any()  # some late, some unanswered
    assert set(tickets["substantiated"]) == set(schema.SUBSTANTIATED)


def test_inspections_find_every_result(regenerated):
    region = regenerated["xiajiang"]
    found = pd.concat([read(region / q / "inspections.csv", schema.INSPECTIONS) for q in QUARTERS])
    assert set(found["result"]) == set(schema.INSPECTION_RESULTS)
    money = found["deduction_yuan"].astype(float)
    assert (money[found["result"] == "pass"] == 0).all()
    assert money[found["result"] != "pass"].between(50, 500).all()


# clean data is clean; messy data has exactly its listed defects -----------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_clean_samples_have_no_problems(name, regenerated):
    assert find_problems(regenerated[name]) == set()


@pytest.mark.parametrize("name", SAMPLES)
def test_messy_region_lists_exactly_its_defects(name, messy):
    region = messy[name]
    defects = pd.read_csv(region / "defects.csv", dtype=str, keep_default_na=False)
    assert list(defects.columns) == ["quarter", "file", "row", "column", "rule"]
    listed = {(f, int(r), c, rule) for f, r, c, rule in
              defects[["file", "row", "column", "rule"]].itertuples(index=False)}
    _, yaml_problems = load_region_config(region)
    found = find_problems(region) | {("region.yaml", p.row, p.column, str(p.rule)) for p in yaml_problems}
    assert found == listed
    # one defect per row
    assert not defects[defects["row"] != "0"].duplicated(["file", "row"]).any()


def test_messy_region_plants_every_kind(messy):
    planted = set(pd.read_csv(messy["xiajiang"] / "defects.csv", dtype=str)["rule"])
    expected = {
        Rule.MISSING_FILE, Rule.MISSING_COLUMN, Rule.MISSING_VALUE, Rule.BAD_DATE, Rule.BAD_DATETIME,
        Rule.BAD_MONEY, Rule.BAD_INTEGER, Rule.BAD_NUMBER, Rule.NOT_ALLOWED, Rule.DUPLICATE_KEY,
        Rule.BROKEN_REFERENCE, Rule.TIME_ORDER, Rule.OUTSIDE_QUARTER, Rule.NOT_ENROLLED_WITH_PROVIDER,
        Rule.SURVEY_OUT_OF_RANGE, Rule.ESCORT_WITHOUT_HOSPITAL, Rule.BAD_ID_NUMBER, Rule.BAD_BIRTH_DATE,
        Rule.BAD_PHONE, Rule.DATE_ORDER, Rule.UNKNOWN_RULE, Rule.BAD_RULE_VALUE, Rule.WORKER_OVERLAP,
        Rule.LONG_VISIT, Rule.OUTSIDE_ENROLMENT,
    }
    assert {str(r) for r in expected} <= planted
    defects = pd.read_csv(messy["xiajiang"] / "defects.csv", dtype=str, keep_default_na=False)
    references = defects[defects["rule"] == "broken_reference"]
    assert {"2025Q4/services.csv", "2026Q1/services.csv", "2026Q1/surveys.csv",
            "2026Q2/inspections.csv"} <= set(references["file"])


def test_messy_leaves_the_clean_part_alone(regenerated, messy):
    clean = read(regenerated["xiajiang"] / "2026Q3/services.csv", schema.SERVICES)
    dirty = read(messy["xiajiang"] / "2026Q3/services.csv", schema.SERVICES)
    assert clean.equals(dirty)  # 2026Q3 services carry no planted defect


# province ---------------------------------------------------------------------------------------


def test_province_writes_one_region_per_county(tmp_path):
    written = generate("province", tmp_path, counties=3, records_per_quarter=30_000)
    assert [p.name for p in written] == ["530102", "530103", "530111"]
    total = 0
    for region in written:
        config, problems = load_region_config(region)
        assert not problems and config.code == region.name
        assert (region / "2026Q3" / "services.csv").is_file()
        total += len(read(region / "2026Q3" / "services.csv", schema.SERVICES))
    assert abs(total - 30_000) <= 0.15 * 30_000
    people = sum(len(read(r / "beneficiaries.csv", schema.BENEFICIARIES)) for r in written)
    assert abs(people - 60_000 * 3 / 73) <= 0.2 * 60_000 * 3 / 73
    assert find_problems(written[0]) == set()


# the oracle -------------------------------------------------------------------------------------

LONG_VISIT_HOURS = 8  # the generator's visits last at most 3 h 50 min; planted long ones 15 h
Finding = tuple[str, int, str, str]  # file, Excel row, header as written, rule


def find_problems(region: Path) -> set[Finding]:
    """Every problem of the input contract in a region directory (not region.yaml)."""
    found: set[Finding] = set()
    tables: dict[str, pd.DataFrame] = {}
    headers: dict[str, dict[str, str]] = {}

    def add(file: str, rows, column: str, rule: Rule) -> None:
        label = headers.get(file, {}).get(column, column)
        found.update((file, int(r) + 2, label, str(rule)) for r in rows)

    def load(file: str, spec: schema.FileSpec) -> pd.DataFrame | None:
        path = region / file
        if not path.is_file():
            found.add((file, 0, "", str(Rule.MISSING_FILE)))
            return None
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        headers[file] = {schema.canonical_column(spec, h): h for h in raw.columns}
        table = raw.rename(columns=lambda h: schema.canonical_column(spec, h))
        for column in spec.columns:
            if column.name not in table:
                label = column.label if any(h == c.label for c in spec.columns for h in raw.columns) else column.name
                found.add((file, 0, label, str(Rule.MISSING_COLUMN)))
        check_values(file, table, spec, add)
        tables[file] = table
        return table

    providers = load("providers.csv", schema.PROVIDERS)
    catalog = load("catalog.csv", schema.CATALOG)
    people = load("beneficiaries.csv", schema.BENEFICIARIES)
    for start, end, file in (("contract_start", "contract_end", "providers.csv"),
                             ("enrolled_on", "exited_on", "beneficiaries.csv")):
        table = tables[file]
        wrong = dates(table[start]) > dates(table[end])
        add(file, np.flatnonzero(wrong), end, Rule.DATE_ORDER)
    provider_ids = set(providers["provider_id"])
    person = people.drop_duplicates("beneficiary_id").set_index("beneficiary_id")
    units = catalog.set_index("item_code")["unit"]
    contract = providers.drop_duplicates("provider_id").set_index("provider_id")

    for quarter_dir in sorted(p for p in region.iterdir() if p.is_dir()):
        quarter = Quarter.parse(quarter_dir.name)
        first, last = pd.Timestamp(quarter.first_day), pd.Timestamp(quarter.last_day)
        prefix = quarter_dir.name + "/"
        services = load(prefix + "services.csv", schema.SERVICES)
        surveys = load(prefix + "surveys.csv", schema.SURVEYS)
        complaints = load(prefix + "complaints.csv", schema.COMPLAINTS)
        inspections = load(prefix + "inspections.csv", schema.INSPECTIONS)

        for file, table in ((prefix + "services.csv", services), (prefix + "surveys.csv", surveys),
                            (prefix + "complaints.csv", complaints)):
            if table is None:
                continue
            known_person = table["beneficiary_id"].isin(person.index)
            known_provider = table["provider_id"].isin(provider_ids)
            add(file, np.flatnonzero(~known_person & (table["beneficiary_id"] != "")), "beneficiary_id", Rule.BROKEN_REFERENCE)
            add(file, np.flatnonzero(~known_provider & (table["provider_id"] != "")), "provider_id", Rule.BROKEN_REFERENCE)
            other = known_person & known_provider & (table["beneficiary_id"].map(person["provider_id"]) != table["provider_id"])
            add(file, np.flatnonzero(other), "provider_id", Rule.NOT_ENROLLED_WITH_PROVIDER)

        if services is not None:
            file = prefix + "services.csv"
            ordered, started, ended = (times(services[c]) for c in ("ordered_at", "started_at", "ended_at"))
            add(file, np.flatnonzero(ordered > started), "started_at", Rule.TIME_ORDER)
            add(file, np.flatnonzero(started > ended), "ended_at", Rule.TIME_ORDER)
            day = started.dt.normalize()
            add(file, np.flatnonzero((day < first) | (day > last)), "started_at", Rule.OUTSIDE_QUARTER)
            unit = services["item_code"].map(units)
            add(file, np.flatnonzero(services["item_code"].ne("") & unit.isna()), "item_code", Rule.BROKEN_REFERENCE)
            is_day = unit == "天"
            add(file, np.flatnonzero(is_day & (services["hospital_level"] == "")), "hospital_level", Rule.ESCORT_WITHOUT_HOSPITAL)
            # the generator's own promises: hospitals only on escort days, escort days whole days
            assert (services.loc[~is_day & unit.notna(), "hospital_level"] == "").all()
            whole = (ended - started) == pd.to_timedelta(pd.to_numeric(services["units"], errors="coerce"), unit="D")
            assert whole[is_day & ended.notna() & started.notna()].all()
            hours = (ended - started).dt.total_seconds() / 3600
            add(file, np.flatnonzero(~is_day & unit.notna() & (hours > LONG_VISIT_HOURS)), "ended_at", Rule.LONG_VISIT)
            enrolled = dates(services["beneficiary_id"].map(person["enrolled_on"]))
            exited = dates(services["beneficiary_id"].map(person["exited_on"]))
            outside = (day < enrolled) | (day >= exited)
            add(file, np.flatnonzero(outside & (day >= first) & (day <= last)), "started_at", Rule.OUTSIDE_ENROLMENT)
            start_of = dates(services["provider_id"].map(contract["contract_start"]))
            end_of = dates(services["provider_id"].map(contract["contract_end"]))
            assert not ((day < start_of) | (ended.dt.normalize() > end_of)).any(), "visit outside its contract"
            add(file, overlapping_visits(services, started, ended), "started_at", Rule.WORKER_OVERLAP)

        if surveys is not None:
            file = prefix + "surveys.csv"
            on = dates(surveys["surveyed_on"])
            add(file, np.flatnonzero((on < first) | (on > last)), "surveyed_on", Rule.OUTSIDE_QUARTER)
            overall = pd.to_numeric(surveys["overall"].where(surveys["overall"].str.fullmatch(r"-?\d+")), errors="coerce")
            add(file, np.flatnonzero((overall < 1) | (overall > 5)), "overall", Rule.SURVEY_OUT_OF_RANGE)
            enrolled = dates(surveys["beneficiary_id"].map(person["enrolled_on"]))
            assert not (on < enrolled).any()

        if complaints is not None:
            file = prefix + "complaints.csv"
            steps = ["received_at", "assigned_at", "verified_at", "responded_at"]
            stamps = [times(complaints[c]) for c in steps]
            for before, after, column in zip(stamps, stamps[1:], steps[1:]):
                add(file, np.flatnonzero(before > after), column, Rule.TIME_ORDER)
            received = stamps[0].dt.normalize()
            add(file, np.flatnonzero((received < first) | (received > last)), "received_at", Rule.OUTSIDE_QUARTER)

        if inspections is not None:
            file = prefix + "inspections.csv"
            record_ids = set(services["record_id"]) if services is not None else set()
            add(file, np.flatnonzero(~inspections["record_id"].isin(record_ids)), "record_id", Rule.BROKEN_REFERENCE)
            on = dates(inspections["inspected_on"])
            late = last + pd.Timedelta(days=10)
            add(file, np.flatnonzero((on < first) | (on > late)), "inspected_on", Rule.OUTSIDE_QUARTER)
            if services is not None:
                started = times(services.drop_duplicates("record_id").set_index("record_id")["started_at"])
                visit_day = inspections["record_id"].map(started).dt.normalize()
                assert not (on < visit_day).any(), "inspected before the visit"
    return found


def check_values(file: str, table: pd.DataFrame, spec: schema.FileSpec, add) -> None:
    """Per-cell checks by column kind, plus duplicate keys."""
    patterns = {
        schema.Kind.MONEY: r"\d+(\.\d{1,2})?", schema.Kind.INT: r"-?\d+", schema.Kind.NUMBER: r"\d+(\.\d+)?",
    }
    rules = {schema.Kind.MONEY: Rule.BAD_MONEY, schema.Kind.INT: Rule.BAD_INTEGER, schema.Kind.NUMBER: Rule.BAD_NUMBER}
    for column in spec.columns:
        if column.name not in table:
            continue
        values = table[column.name]
        empty = values == ""
        if column.required:
            add(file, np.flatnonzero(empty), column.name, Rule.MISSING_VALUE)
        present = ~empty
        if column.kind is schema.Kind.DATE:
            bad = present & dates(values).isna()
            add(file, np.flatnonzero(bad), column.name, Rule.BAD_DATE)
        elif column.kind is schema.Kind.DATETIME:
            add(file, np.flatnonzero(present & times(values).isna()), column.name, Rule.BAD_DATETIME)
        elif column.kind in patterns:
            add(file, np.flatnonzero(present & ~values.str.fullmatch(patterns[column.kind])), column.name, rules[column.kind])
        elif column.kind is schema.Kind.CHOICE:
            add(file, np.flatnonzero(present & ~values.isin(column.choices)), column.name, Rule.NOT_ALLOWED)
        elif column.kind is schema.Kind.ID_NUMBER:
            valid = valid_id_numbers(values)
            add(file, np.flatnonzero(present & ~valid), column.name, Rule.BAD_ID_NUMBER)
            add(file, np.flatnonzero(present & valid & birth_dates(values).isna()), column.name, Rule.BAD_BIRTH_DATE)
        elif column.kind is schema.Kind.PHONE:
            add(file, np.flatnonzero(present & ~valid_phones(values)), column.name, Rule.BAD_PHONE)
        elif column.kind is schema.Kind.CREDIT_CODE:
            valid = values.map(is_valid_credit_code).astype(bool)
            add(file, np.flatnonzero(present & ~valid), column.name, Rule.BAD_CREDIT_CODE)
        elif column.kind is schema.Kind.BANK_ACCOUNT:
            valid = values.map(is_valid_bank_account).astype(bool)
            add(file, np.flatnonzero(present & ~valid), column.name, Rule.BAD_BANK_ACCOUNT)
    key = table[spec.key]
    add(file, np.flatnonzero(key.duplicated() & (key != "")), spec.key, Rule.DUPLICATE_KEY)


def dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), format="%Y-%m-%d", errors="coerce")


def times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), format="%Y-%m-%d %H:%M:%S", errors="coerce")


def overlapping_visits(services: pd.DataFrame, started: pd.Series, ended: pd.Series) -> np.ndarray:
    """Positions of completed visits that start before an earlier visit of the same worker ends."""
    visits = pd.DataFrame({"worker": services["worker_id"], "start": started, "end": ended})
    visits = visits[(services["status"] == "completed") & (visits["worker"] != "")
                    & visits["start"].notna() & visits["end"].notna() & (visits["end"] >= visits["start"])]
    visits = visits.sort_values(["worker", "start"], kind="stable")
    busy_until = visits.groupby("worker")["end"].transform(lambda e: e.cummax().shift())
    return visits.index[visits["start"] < busy_until].to_numpy()


def test_a_national_rehearsal_gets_a_6_digit_code_for_every_county():
    """Counties beyond the Yunnan list keep their codes (5399NN) up to the 99th, then 54NNNN…"""
    from scoring_synthetic.generate import pilot_code

    codes = [pilot_code(i) for i in range(1, 3000)]
    assert codes[0] == "539901" and codes[98] == "539999" and codes[99] == "540000"
    assert len(set(codes)) == len(codes) and all(len(c) == 6 and c.isdigit() for c in codes)
