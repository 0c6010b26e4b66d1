"""Objections (METHODOLOGY.md, "Objections"): the 公示期 in working days, the public log, and the
objector who never reaches it."""

from __future__ import annotations

from datetime import date

import pandas as pd
from helpers import QUARTER, found, sample_tables, write_region

from scoring.engine.objections import OBJECTION_COLUMNS, objection_period, objection_table
from scoring.inputs.validate import validate_quarter

OBJECTIONS = f"{QUARTER}/objections.csv"


def test_the_objection_period_counts_the_official_working_days():
    # Published Tuesday 2026-09-29. Working days after it: 09-30 (1); 10-01..10-07 are the
    # National Day holiday; 10-08 (2), 10-09 (3), Saturday 10-10 is a make-up working day (4),
    # Sunday 10-11 is not; 10-12 (5), 10-13 (6), 10-14 (7).
    period = objection_period(date(2026, 9, 29), 7)
    assert period.last_day == date(2026, 10, 14) and period.official_calendar


def test_a_year_without_a_known_schedule_counts_monday_to_friday_and_says_so():
    # 2026-12-28 is a Monday: 12-29, 12-30, 12-31 (2026, official), then 2027 is not yet known:
    # 01-01 Fri (4), 01-04 Mon (5), 01-05 (6), 01-06 (7).
    period = objection_period(date(2026, 12, 28), 7)
    assert period.last_day == date(2027, 1, 6) and not period.official_calendar


def objections_file() -> pd.DataFrame:
    return pd.DataFrame([
        ("O001", "2026-07-03", "P001", "满意度得分", "认为回访样本未包含本村服务对象", "rejected", "2026-07-08", "",
         "张某某", "13912340001"),
        ("O002", "2026-07-04", "P002", "抽查扣款", "抽查扣款金额与通知不一致", "upheld", "2026-07-09", "2",
         "李某某", ""),
        ("O003", "2026-07-06", "", "人均支出", "询问人均支出为何高于标准", "pending", "", "", "", ""),
    ], columns=["objection_id", "received_on", "provider_id", "about", "summary", "decision",
                "decided_on", "revision", "objector", "objector_phone"])


def test_the_objection_log_is_public_without_the_objector(tmp_path):
    tables = {**sample_tables(), "objections": objections_file()}
    validation = validate_quarter(write_region(tmp_path / "region", tables), QUARTER)
    assert validation.ok and validation.problems.empty
    log = objection_table(validation.tables["objections"])
    assert list(log.columns) == OBJECTION_COLUMNS
    assert log["objection_id"].tolist() == ["O001", "O002", "O003"]
    assert log["decision"].tolist() == ["rejected", "upheld", "pending"]
    assert log["revision"].tolist()[1] == 2 and pd.isna(log["revision"][0])
    assert log["decided_on"].tolist() == ["2026-07-08", "2026-07-09", ""]
    assert not {"objector", "objector_phone"} & set(log.columns)


def test_no_objections_file_is_an_empty_log(tmp_path):
    tables = {name: t for name, t in sample_tables().items() if name != "objections"}
    validation = validate_quarter(write_region(tmp_path / "region", tables), QUARTER)
    assert "objections.csv" not in " ".join(validation.accounting["file"])
    assert objection_table(validation.tables["objections"]).empty


def test_decided_objections_need_their_date_and_a_real_revision(tmp_path):
    bad = objections_file()
    bad.loc[0, "decided_on"] = ""  # rejected, but when?
    bad.loc[1, "revision"] = "1"  # version 1 is the publication objected to
    bad.loc[2, "decided_on"] = "2026-07-01"  # pending, answered before it was received
    tables = {**sample_tables(), "objections": bad}
    validation = validate_quarter(write_region(tmp_path / "region", tables), QUARTER)
    assert found(validation) == {
        (OBJECTIONS, 2, "decided_on", "missing_value"), (OBJECTIONS, 3, "revision", "bad_integer"),
        (OBJECTIONS, 4, "decided_on", "date_order"),
    }
