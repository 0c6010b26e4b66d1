"""Validating a quarter: a clean region passes; each planted defect is reported exactly where it is."""

from __future__ import annotations

from decimal import Decimal

import helpers
import openpyxl
import pandas as pd
import pytest
from helpers import QUARTER, found, sample_tables, write_region

from scoring.inputs.layer import inputs_fingerprint, write_validated
from scoring.inputs.months import Quarter
from scoring.inputs.problems import REPORT_COLUMNS
from scoring.inputs.schema import FILES
from scoring.inputs.validate import ACCOUNTING_COLUMNS, validate_quarter

SERVICES = f"{QUARTER}/services.csv"
SURVEYS = f"{QUARTER}/surveys.csv"
COMPLAINTS = f"{QUARTER}/complaints.csv"
INSPECTIONS = f"{QUARTER}/inspections.csv"


def validate(tmp_path, tables, **options):
    return validate_quarter(write_region(tmp_path / "region", tables, **options), QUARTER)


def accounted(validation) -> bool:
    a = validation.accounting
    return bool((a["rows_read"] == a["rows_used"] + a["rows_rejected"]).all())


# a clean region ---------------------------------------------------------------------------------


def test_clean_region_has_no_problems_and_every_row_is_used(region):
    validation = validate_quarter(region, QUARTER)
    assert validation.ok
    assert validation.problems.empty
    assert list(validation.problems.columns) == REPORT_COLUMNS
    assert validation.quarter == Quarter(2026, 2) and validation.config.name == "测试县"
    a = validation.accounting
    assert list(a.columns) == ACCOUNTING_COLUMNS
    assert a["file"].tolist() == ["providers.csv", "catalog.csv", "beneficiaries.csv", SERVICES,
                                  SURVEYS, COMPLAINTS, INSPECTIONS, f"{QUARTER}/paid.csv",
                                  f"{QUARTER}/objections.csv"]
    sizes = {name: len(t) for name, t in sample_tables().items()}
    assert a["rows_read"].tolist() == list(sizes.values())
    assert a["rows_used"].tolist() == list(sizes.values())
    assert a["rows_rejected"].sum() == 0


def test_typed_tables_follow_the_contract(region):
    tables = validate_quarter(region, QUARTER).tables
    assert set(tables) == set(FILES)
    for name, spec in FILES.items():
        table = tables[name]
        assert list(table.columns) == [*spec.column_names, "_row"]
        assert table["_row"].dtype == "int64"
        assert table["_row"].tolist() == list(range(2, len(table) + 2))
        for column in spec.columns:
            values = table[column.name]
            if column.kind in ("date", "datetime"):
                assert values.dtype == "datetime64[ns]", (name, column.name)
            elif column.kind == "money":
                assert values.dtype == object and all(isinstance(v, Decimal) for v in values)
            elif column.kind == "int":
                assert values.dtype == ("int64" if column.required else "Int64")
            elif column.kind == "number":
                assert values.dtype == "float64"
            else:
                assert values.dtype == object and all(isinstance(v, str) for v in values)
    services = tables["services"]
    assert services.loc[5, "hospital_level"] == "county" and services.loc[0, "hospital_level"] == ""
    assert str(services.loc[0, "started_at"]) == "2026-04-11 09:00:00"
    assert tables["inspections"]["deduction_yuan"].tolist() == [Decimal("0"), Decimal("50"), Decimal("0")]
    assert tables["complaints"]["verified_at"].isna().tolist() == [False, True, True]
    assert tables["beneficiaries"]["exited_on"].notna().sum() == 1


def test_coded_values_written_in_chinese_become_codes(tmp_path):
    tables = sample_tables()
    tables["services"].loc[0, "status"] = "已完成"
    tables["services"].loc[0, "channel"] = "微信"
    tables["services"].loc[5, "hospital_level"] = "县级"
    tables["complaints"].loc[0, "substantiated"] = "否"
    validation = validate(tmp_path, tables)
    assert validation.problems.empty
    services = validation.tables["services"]
    assert services.loc[0, ["status", "channel"]].tolist() == ["completed", "wechat"]
    assert services.loc[5, "hospital_level"] == "county"


# one planted defect, one problem exactly there --------------------------------------------------


def plant(tables, name, index, column, value):
    tables[name].loc[index, column] = value


DEFECTS = {
    # id: ([(file, index, column, new value)...], (file, Excel row, column, rule))
    "missing_value": ([("services", 3, "worker_id", "")], (SERVICES, 5, "worker_id", "missing_value")),
    "bad_date": ([("providers", 0, "contract_start", "2026-13-01")],
                 ("providers.csv", 2, "contract_start", "bad_date")),
    "bad_datetime": ([("services", 2, "ordered_at", "昨天下午")], (SERVICES, 4, "ordered_at", "bad_datetime")),
    "bad_money_decimals": ([("inspections", 1, "deduction_yuan", "12.345")],
                           (INSPECTIONS, 3, "deduction_yuan", "bad_money")),
    "bad_money_negative": ([("providers", 1, "contract_amount", "-5")],
                           ("providers.csv", 3, "contract_amount", "bad_money")),
    "bad_money_too_many_digits": ([("providers", 1, "contract_amount", "1,000,000,000,000,000,000")],
                                  ("providers.csv", 3, "contract_amount", "bad_money")),
    "bad_integer": ([("catalog", 2, "standard_minutes", "1.5")], ("catalog.csv", 4, "standard_minutes", "bad_integer")),
    "bad_integer_negative": ([("providers", 0, "contracted_beneficiaries", "-3")],
                             ("providers.csv", 2, "contracted_beneficiaries", "bad_integer")),
    "bad_number": ([("services", 0, "units", "-1")], (SERVICES, 2, "units", "bad_number")),
    "not_allowed": ([("services", 4, "status", "done")], (SERVICES, 6, "status", "not_allowed")),
    "not_allowed_unit": ([("catalog", 0, "unit", "公斤")], ("catalog.csv", 2, "unit", "not_allowed")),
    "duplicate_key": ([("services", 3, "record_id", "R0001")], (SERVICES, 5, "record_id", "duplicate_key")),
    "duplicate_id_number": ([("beneficiaries", 4, "id_number", None)],
                            ("beneficiaries.csv", 6, "id_number", "duplicate_key")),
    "broken_reference": ([("services", 1, "beneficiary_id", "B999")],
                         (SERVICES, 3, "beneficiary_id", "broken_reference")),
    "broken_reference_catalog": ([("services", 0, "item_code", "X99")], (SERVICES, 2, "item_code", "broken_reference")),
    "broken_reference_inspection": ([("inspections", 0, "record_id", "R9999")],
                                    (INSPECTIONS, 2, "record_id", "broken_reference")),
    "broken_reference_complaint": ([("complaints", 0, "beneficiary_id", "B404")],
                                   (COMPLAINTS, 2, "beneficiary_id", "broken_reference")),
    "broken_reference_roster": ([("beneficiaries", 0, "provider_id", "P404")],
                                ("beneficiaries.csv", 2, "provider_id", "broken_reference")),
    "started_before_ordered": ([("services", 0, "ordered_at", "2026-04-11 09:30:00")],
                               (SERVICES, 2, "started_at", "time_order")),
    "ended_before_started": ([("services", 1, "ended_at", "2026-05-12 08:30:00")],
                             (SERVICES, 3, "ended_at", "time_order")),
    "complaint_assigned_before_received": ([("complaints", 0, "assigned_at", "2026-04-20 09:00:00")],
                                           (COMPLAINTS, 2, "assigned_at", "time_order")),
    "complaint_responded_before_assigned": ([("complaints", 1, "responded_at", "2026-05-08 15:45:00")],
                                            (COMPLAINTS, 3, "responded_at", "time_order")),
    "contract_ends_before_start": ([("providers", 1, "contract_end", "2025-12-31")],
                                   ("providers.csv", 3, "contract_end", "date_order")),
    "service_outside_quarter": ([("services", 2, "ordered_at", "2026-07-01 08:00:00"),
                                 ("services", 2, "started_at", "2026-07-01 09:00:00"),
                                 ("services", 2, "ended_at", "2026-07-01 10:00:00")],
                                (SERVICES, 4, "started_at", "outside_quarter")),
    "survey_outside_quarter": ([("surveys", 0, "surveyed_on", "2026-03-31")], (SURVEYS, 2, "surveyed_on", "outside_quarter")),
    "complaint_outside_quarter": ([("complaints", 2, "received_at", "2026-07-01 09:00:00")],
                                  (COMPLAINTS, 4, "received_at", "outside_quarter")),
    "inspection_too_late": ([("inspections", 2, "inspected_on", "2026-07-11")],
                            (INSPECTIONS, 4, "inspected_on", "outside_quarter")),
    "inspection_before_service": ([("inspections", 2, "inspected_on", "2026-06-12")],
                                  (INSPECTIONS, 4, "inspected_on", "time_order")),
    "not_enrolled_with_provider": ([("services", 0, "provider_id", "P002")],
                                   (SERVICES, 2, "provider_id", "not_enrolled_with_provider")),
    "survey_not_enrolled_with_provider": ([("surveys", 0, "provider_id", "P002")],
                                          (SURVEYS, 2, "provider_id", "not_enrolled_with_provider")),
    "unknown_provider_is_only_a_broken_reference": ([("services", 0, "provider_id", "P404")],
                                                    (SERVICES, 2, "provider_id", "broken_reference")),
    "survey_out_of_range_high": ([("surveys", 1, "overall", "6")], (SURVEYS, 3, "overall", "survey_out_of_range")),
    "survey_out_of_range_low": ([("surveys", 1, "overall", "0")], (SURVEYS, 3, "overall", "survey_out_of_range")),
    "escort_without_hospital": ([("services", 5, "hospital_level", "")],
                                (SERVICES, 7, "hospital_level", "escort_without_hospital")),
    "bad_id_number": ([("beneficiaries", 2, "id_number", helpers.id_number("360823", "19430411", 13)[:17] + "Y")],
                      ("beneficiaries.csv", 4, "id_number", "bad_id_number")),
    "bad_birth_date": ([("beneficiaries", 2, "id_number", helpers.id_number("360823", "20990101", 1))],
                       ("beneficiaries.csv", 4, "id_number", "bad_birth_date")),
    "bad_birth_date_1800s": ([("beneficiaries", 2, "id_number", helpers.id_number("360823", "18990101", 1))],
                             ("beneficiaries.csv", 4, "id_number", "bad_birth_date")),
    "bad_phone": ([("beneficiaries", 0, "phone", "12345")], ("beneficiaries.csv", 2, "phone", "bad_phone")),
    # the GB 32100-2015 check character of 52360823MJ0000026D is D
    "bad_credit_code": ([("providers", 1, "credit_code", "52360823MJ0000026E")],
                        ("providers.csv", 3, "credit_code", "bad_credit_code")),
    "credit_code_with_a_letter_it_never_uses": ([("providers", 1, "credit_code", "52360823MJ00000O6D")],
                                                ("providers.csv", 3, "credit_code", "bad_credit_code")),
    "credit_code_too_short": ([("providers", 0, "credit_code", "52360823MJ000001")],
                              ("providers.csv", 2, "credit_code", "bad_credit_code")),
    # plausibility (METHODOLOGY.md): days paid as an escort subsidy, rows counted by their times
    "escort_days_beyond_its_dates": ([("services", 5, "units", "3")], (SERVICES, 7, "units", "escort_days")),
    "escort_days_over_the_cap": ([("services", 5, "units", "300"), ("services", 5, "ended_at", "2027-03-11 09:00:00")],
                                 (SERVICES, 7, "units", "escort_days")),
    "escort_days_absurd": ([("services", 5, "units", "999999999999999")], (SERVICES, 7, "units", "escort_days")),
    "timed_visit_longer_than_a_day": ([("services", 0, "ended_at", "2026-04-13 10:30:00")],
                                      (SERVICES, 2, "ended_at", "absurd_duration")),
    # warnings
    "over_midnight": ([("services", 0, "started_at", "2026-04-11 22:00:00"),
                       ("services", 0, "ended_at", "2026-04-12 01:00:00")], (SERVICES, 2, "ended_at", "over_midnight")),
    "worker_overlap": ([("services", 1, "worker_id", "W02"), ("services", 1, "ordered_at", "2026-04-11 08:00:00"),
                        ("services", 1, "started_at", "2026-04-11 10:00:00"),
                        ("services", 1, "ended_at", "2026-04-11 11:00:00")],
                       (SERVICES, 3, "started_at", "worker_overlap")),
    "long_visit": ([("services", 0, "ended_at", "2026-04-11 23:00:00")], (SERVICES, 2, "ended_at", "long_visit")),
    "long_escort": ([("services", 5, "ended_at", "2026-05-20 17:00:00")], (SERVICES, 7, "ended_at", "long_visit")),
    "outside_enrolment": ([("beneficiaries", 0, "enrolled_on", "2026-05-01")],
                          (SERVICES, 2, "started_at", "outside_enrolment")),
}


@pytest.mark.parametrize("defect", list(DEFECTS), ids=list(DEFECTS))
def test_each_check_reports_exactly_the_planted_defect(tmp_path, defect):
    changes, expected = DEFECTS[defect]
    tables = sample_tables()
    for name, index, column, value in changes:
        if value is None:  # copy the value of the previous row (a duplicate)
            value = tables[name].loc[index - 1, column]
        plant(tables, name, index, column, value)
    validation = validate(tmp_path, tables)
    assert found(validation) == {expected}
    problem = validation.problems.iloc[0]
    assert problem["message"] and problem["message_en"] and problem["action"]
    is_warning = expected[3] in ("worker_overlap", "long_visit", "outside_enrolment", "over_midnight")
    assert validation.ok == is_warning
    assert accounted(validation)
    file_row = validation.accounting.set_index("file").loc[expected[0]]
    assert file_row["rows_rejected"] == (0 if is_warning else 1)


def test_duplicate_names_the_first_row(tmp_path):
    tables = sample_tables()
    plant(tables, "services", 3, "record_id", "R0001")
    problem = validate(tmp_path, tables).problems.iloc[0]
    assert "第 2 行" in problem["message"] and problem["value"] == "R0001"


def test_worker_overlap_names_the_earlier_visit(tmp_path):
    changes, _ = DEFECTS["worker_overlap"]
    tables = sample_tables()
    for name, index, column, value in changes:
        plant(tables, name, index, column, value)
    assert "第 2 行" in validate(tmp_path, tables).problems.iloc[0]["message"]


def test_exit_before_enrolment_is_a_date_order_error(tmp_path):
    tables = sample_tables()
    plant(tables, "beneficiaries", 9, "exited_on", "2025-01-10")
    validation = validate(tmp_path, tables)
    assert found(validation, "error") == {("beneficiaries.csv", 11, "exited_on", "date_order")}
    # and B010's one service (2026-04-20) came after that exit: a warning for the inspector
    assert found(validation, "warning") == {(SERVICES, 11, "started_at", "outside_enrolment")}


def test_missing_file_and_missing_column(tmp_path):
    tables = sample_tables()
    del tables["surveys"]
    tables["providers"] = tables["providers"].drop(columns="contract_amount")
    validation = validate(tmp_path, tables)
    assert found(validation) == {
        (SURVEYS, 0, "", "missing_file"),
        ("providers.csv", 0, "contract_amount", "missing_column"),
    }
    a = validation.accounting.set_index("file")
    assert a.loc["providers.csv"].tolist() == [2, 0, 2]  # a file-level error rejects every row
    assert a.loc[SURVEYS].tolist() == [0, 0, 0]
    assert validation.tables["surveys"].empty and validation.tables["providers"].empty
    assert list(validation.tables["providers"].columns) == [*FILES["providers"].column_names, "_row"]


def test_every_problem_at_once(tmp_path):
    tables = sample_tables()
    plant(tables, "services", 0, "units", "x")
    plant(tables, "services", 0, "status", "done")
    plant(tables, "services", 1, "units", "")
    plant(tables, "surveys", 0, "overall", "9")
    validation = validate(tmp_path, tables)
    assert found(validation) == {
        (SERVICES, 2, "units", "bad_number"), (SERVICES, 2, "status", "not_allowed"),
        (SERVICES, 3, "units", "missing_value"), (SURVEYS, 2, "overall", "survey_out_of_range"),
    }
    a = validation.accounting.set_index("file")
    assert a.loc[SERVICES, "rows_rejected"] == 2 and a.loc[SURVEYS, "rows_rejected"] == 1
    assert validation.tables["services"]["_row"].tolist() == list(range(4, 14))


def test_references_check_rows_read_not_rows_used(tmp_path):
    tables = sample_tables()
    plant(tables, "beneficiaries", 0, "phone", "not a phone")  # B001 is rejected...
    validation = validate(tmp_path, tables)
    # ...but its services still find it: one problem, not one per service
    assert found(validation) == {("beneficiaries.csv", 2, "phone", "bad_phone")}


def test_credit_codes_are_optional_read_in_capitals_and_reported_as_written(tmp_path):
    tables = sample_tables()
    plant(tables, "providers", 0, "credit_code", "52360823mj0000018j")  # typed in lower case: fine
    plant(tables, "providers", 1, "credit_code", "")  # not known: fine
    validation = validate(tmp_path, tables)
    assert validation.ok and found(validation) == set()
    assert validation.tables["providers"]["credit_code"].tolist() == ["52360823MJ0000018J", ""]
    # with Chinese headers the report names the column as the clerk wrote it, at its Excel row
    plant(tables, "providers", 1, "credit_code", "91350100M000100Y44")
    write_region(tmp_path / "zh", tables, chinese_headers=True)
    validation = validate_quarter(tmp_path / "zh", QUARTER)
    problem = validation.problems.iloc[0]
    assert (problem["file"], problem["row"], problem["column"], problem["rule"], problem["severity"]) == (
        "providers.csv", 3, "统一社会信用代码", "bad_credit_code", "error")
    assert "GB 32100" in problem["message"] and "check character" in problem["message_en"] and problem["action"]
    assert len(validation.problems) == 1 and not validation.ok


def test_bank_columns_are_optional_read_as_digits_and_reported_as_written(tmp_path):
    tables = sample_tables()
    tables["providers"]["bank_name"] = ["中国农业银行峡江县支行", ""]
    tables["providers"]["bank_account"] = ["6228 4801 2345 6789 012", ""]  # grouped as printed: fine
    validation = validate(tmp_path, tables)
    assert validation.ok and found(validation) == set()
    assert validation.tables["providers"]["bank_account"].tolist() == ["6228480123456789012", ""]
    # Excel's scientific notation, letters, too short: each a bad_bank_account at its cell
    for index, value in ((0, "6.22848E+18"), (1, "6228-48O1-2345"), (1, "1234567")):
        tables = sample_tables()
        plant(tables, "providers", index, "bank_account", value)
        assert found(validate(tmp_path / value, tables)) == {
            ("providers.csv", helpers.excel_row(index), "bank_account", "bad_bank_account")}, value
    # with Chinese headers (开户行, 账号) the report names the column as the clerk wrote it
    write_region(tmp_path / "zh", tables, chinese_headers=True)
    problem = validate_quarter(tmp_path / "zh", QUARTER).problems.iloc[0]
    assert (problem["file"], problem["row"], problem["column"], problem["rule"], problem["severity"]) == (
        "providers.csv", 3, "账号", "bad_bank_account", "error")


def test_region_yaml_problems_are_reported(tmp_path):
    region_yaml = helpers.REGION_YAML + "rules:\n  no_such_rule: 3\n  min_surveys: -1\n"
    validation = validate(tmp_path, sample_tables(), region_yaml=region_yaml)
    rules = {(f, r) for f, _, _, r in found(validation)}
    assert rules == {("region.yaml", "unknown_rule"), ("region.yaml", "bad_rule_value")}
    assert not validation.ok and validation.config is None
    assert accounted(validation) and validation.accounting["rows_rejected"].sum() == 0


def test_problems_name_the_column_as_written(tmp_path):
    tables = sample_tables()
    plant(tables, "services", 0, "units", "-1")
    validation = validate(tmp_path, tables, chinese_headers=True)
    assert found(validation) == {(SERVICES, 2, "数量", "bad_number")}


# other encodings, workbooks, Chinese headers: the same result -----------------------------------


def spoiled_tables():
    tables = sample_tables()
    plant(tables, "services", 0, "units", "-1")
    plant(tables, "services", 2, "status", "已取消")
    plant(tables, "services", 4, "started_at", "2026/5/15 9:00")
    plant(tables, "beneficiaries", 1, "phone", "12345")
    plant(tables, "surveys", 1, "overall", "7")
    plant(tables, "providers", 0, "contract_start", "2026年1月1日")
    plant(tables, "inspections", 1, "inspected_on", "20260531")
    return tables


def comparable(validation):
    problems = validation.problems.copy()
    problems["file"] = problems["file"].str.replace(".xlsx", ".csv", regex=False)
    problems["column"] = problems["column"].map(lambda c: _canonical.get(c, c))
    return problems.sort_values(["file", "row", "column", "rule"]).reset_index(drop=True)


_canonical = {c.label: c.name for spec in FILES.values() for c in spec.columns}


@pytest.mark.parametrize("options", [
    {"encoding": "gb18030"}, {"encoding": "utf-8-sig"}, {"suffix": ".xlsx"},
    {"chinese_headers": True}, {"chinese_headers": True, "encoding": "gbk"},
    {"suffix": ".xlsx", "chinese_headers": True},
], ids=["gb18030", "utf-8-bom", "xlsx", "chinese-headers", "gbk-chinese", "xlsx-chinese"])
def test_same_problems_and_tables_whatever_the_format(tmp_path, options):
    reference = validate(tmp_path / "utf8", spoiled_tables())
    assert len(reference.problems) == 3
    other = validate(tmp_path / "other", spoiled_tables(), **options)
    pd.testing.assert_frame_equal(comparable(other).drop(columns="message"),
                                  comparable(reference).drop(columns="message"))
    for name in FILES:
        pd.testing.assert_frame_equal(other.tables[name], reference.tables[name], check_dtype=True)
    pd.testing.assert_frame_equal(
        other.accounting.assign(file=other.accounting["file"].str.replace(".xlsx", ".csv")),
        reference.accounting,
    )


def test_xlsx_with_real_dates_and_numbers(tmp_path):
    region = write_region(tmp_path / "region")
    path = region / QUARTER / "surveys.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    path.unlink()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        values = list(row)
        values[3] = pd.Timestamp(values[3]).to_pydatetime()
        values[5] = int(values[5])
        sheet.append(values)
    workbook.save(region / QUARTER / "surveys.xlsx")
    validation = validate_quarter(region, QUARTER)
    assert validation.problems.empty
    surveys = validation.tables["surveys"]
    assert str(surveys.loc[0, "surveyed_on"]) == "2026-06-11 00:00:00"
    assert surveys["overall"].tolist() == [4, 3, 5, 4, 3, 5]


# bad files --------------------------------------------------------------------------------------


def spoil(region, name, content: bytes, suffix=".csv"):
    for old in (region / QUARTER).glob(f"{name}.*"):
        old.unlink()
    for old in region.glob(f"{name}.*"):
        old.unlink()
    helpers.file_path(region, name, suffix).write_bytes(content)


@pytest.mark.parametrize("name, content, suffix, rule", [
    ("services", b"", ".csv", "empty_file"),
    ("services", b"\x00\x00\x00\x01\x02" * 100, ".csv", "binary_file"),
    ("catalog", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ".xlsx", "protected_workbook"),
    ("catalog", b"PK\x03\x04 broken", ".xlsx", "corrupt_workbook"),
])
def test_bad_files_give_a_clear_problem(region, name, content, suffix, rule):
    spoil(region, name, content, suffix)
    validation = validate_quarter(region, QUARTER)
    file_name = helpers.file_path(region, name, suffix).relative_to(region).as_posix()
    assert found(validation) == {(file_name, 0, "", rule)}
    assert not validation.ok and accounted(validation)


def test_truncated_file(region):
    path = helpers.file_path(region, "services")
    content = path.read_bytes()
    path.write_bytes(content[: content.rindex(b"\n", 0, len(content) - 1) + 20])
    validation = validate_quarter(region, QUARTER)
    assert found(validation) == {(SERVICES, 13, "", "truncated_file")}
    a = validation.accounting.set_index("file").loc[SERVICES]
    assert a.tolist() == [12, 11, 1]


def test_bad_row_shape_keeps_later_row_numbers_right(region):
    path = helpers.file_path(region, "services")
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4] + b",extra"  # Excel row 5
    lines[7] = lines[7] + b"0"  # Excel row 8 keeps its shape, but its hospital level is now "0"
    path.write_bytes(b"\n".join(lines))
    validation = validate_quarter(region, QUARTER)
    assert found(validation) == {(SERVICES, 5, "", "bad_row_shape"), (SERVICES, 8, "hospital_level", "not_allowed")}
    assert validation.tables["services"]["_row"].tolist() == [2, 3, 4, 6, 7, *range(9, 14)]
    assert validation.accounting.set_index("file").loc[SERVICES].tolist() == [12, 10, 2]


def test_merged_header_in_a_workbook(region):
    (region / "catalog.csv").unlink()
    table = sample_tables()["catalog"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(table.columns))
    sheet.merge_cells("B1:C1")  # 服务类别 and 项目名称 under one heading
    for row in table.itertuples(index=False):
        sheet.append(list(row))
    workbook.save(region / "catalog.xlsx")
    validation = validate_quarter(region, QUARTER)
    assert ("catalog.xlsx", 1, "", "merged_header") in found(validation)
    assert validation.accounting.set_index("file").loc["catalog.xlsx"].tolist() == [4, 0, 4]
    # the catalog could still be read, so services are not flagged for its sake
    assert not any(f == SERVICES for f, *_ in found(validation))


def test_inputs_are_never_modified(tmp_path):
    region = write_region(tmp_path / "csv", spoiled_tables(), encoding="gb18030")
    workbook_region = write_region(tmp_path / "xlsx", spoiled_tables(), suffix=".xlsx")
    for r in (region, workbook_region):
        before = helpers.file_hashes(r)
        validate_quarter(r, QUARTER)
        assert helpers.file_hashes(r) == before


def test_write_reports_for_excel(region, tmp_path):
    tables = sample_tables()
    plant(tables, "services", 0, "units", "-1")
    validation = validate(tmp_path, tables)
    out = tmp_path / "out" / "region" / QUARTER
    write_validated(validation, out, inputs_fingerprint(tmp_path / "region", Quarter.parse(QUARTER)))
    raw = (out / "validation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    written = pd.read_csv(out / "validation.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(written.columns) == REPORT_COLUMNS
    assert written.loc[0, "rule"] == "bad_number" and written.loc[0, "row"] == "2"
    assert written.loc[0, "value"] == "'-1", "a value a spreadsheet would run as a formula stays inert"
    accounting = pd.read_csv(out / "accounting.csv", encoding="utf-8-sig")
    assert list(accounting.columns) == ACCOUNTING_COLUMNS and len(accounting) == 9


def test_quarter_given_as_text_or_quarter(region):
    assert validate_quarter(region, "2026q2").quarter == validate_quarter(region, Quarter(2026, 2)).quarter


def test_missing_quarter_folder(region):
    for path in (region / QUARTER).iterdir():
        path.unlink()
    (region / QUARTER).rmdir()
    validation = validate_quarter(region, QUARTER)
    assert {r for _, _, _, r in found(validation)} == {"missing_file"}
    assert len(validation.problems) == 4


def test_quarter_folder_name_in_any_case(region):
    (region / QUARTER).rename(region / QUARTER.lower())
    validation = validate_quarter(region, QUARTER)
    assert validation.ok
    assert f"{QUARTER.lower()}/services.csv" in validation.accounting["file"].tolist()


def test_enrolment_is_checked_when_the_optional_exit_column_is_left_out(tmp_path):
    tables = sample_tables()
    tables["beneficiaries"] = tables["beneficiaries"].drop(columns="exited_on")
    plant(tables, "beneficiaries", 0, "enrolled_on", "2026-05-01")
    validation = validate(tmp_path, tables)
    assert found(validation) == {(SERVICES, 2, "started_at", "outside_enrolment")}
    assert validation.tables["beneficiaries"]["exited_on"].isna().all()


def test_paid_is_optional_and_validated_like_every_input(tmp_path):
    # Left out: nothing paid yet; no problem, and no accounting row for a file that is not there.
    tables = sample_tables()
    del tables["paid"]
    validation = validate(tmp_path / "none", tables)
    assert validation.ok and len(validation.tables["paid"]) == 0
    assert not validation.accounting["file"].str.endswith("paid.csv").any()
    # Present: each voucher is read; an unknown contract and a 0-yuan voucher are errors at their
    # row; a payment dated before the quarter began is a warning (an advance may be real).
    tables = sample_tables()
    tables["paid"] = pd.DataFrame([
        ("HT-2026-001", "2026-07-20", "30000.00", "PZ-001"),
        ("HT-2026-999", "2026-07-20", "100.00", "PZ-002"),
        ("HT-2026-002", "2026-07-20", "0", "PZ-003"),
        ("HT-2026-002", "2026-01-05", "24000.00", "PZ-004"),
    ], columns=["contract_id", "paid_on", "amount", "voucher_no"])
    validation = validate(tmp_path / "some", tables)
    paid = f"{QUARTER}/paid.csv"
    assert found(validation) == {(paid, 3, "contract_id", "broken_reference"),
                                 (paid, 4, "amount", "zero_amount"),
                                 (paid, 5, "paid_on", "paid_before_quarter")}
    assert found(validation, "warning") == {(paid, 5, "paid_on", "paid_before_quarter")}
    assert validation.tables["paid"]["voucher_no"].tolist() == ["PZ-001", "PZ-004"]
    assert accounted(validation)
