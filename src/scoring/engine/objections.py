"""Objections to a published quarter (METHODOLOGY.md, "Objections"): the 公示期 and the public log.

The period is `objection_days` working days after the day of first publication. Working days
follow the State Council's holiday schedule (`chinese_calendar`, which knows each year once its
schedule is announced, 调休 included); for a year it does not know yet, Monday to Friday count,
and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import pandas as pd

from scoring.engine.tables import conform

OBJECTION_COLUMNS = ["objection_id", "received_on", "provider_id", "about", "summary", "decision",
                     "decided_on", "revision"]


@dataclass(frozen=True)
class ObjectionPeriod:
    opens: date  # the day of first publication
    last_day: date  # objections are received up to and including this day
    working_days: int
    official_calendar: bool  # False: some day fell in a year whose schedule is not yet known


def is_working_day(day: date) -> tuple[bool, bool]:
    """Whether `day` is a working day, and whether the official schedule said so."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:  # a year the package has no schedule for yet
        return day.weekday() < 5, False


def objection_period(published_on: date, working_days: int) -> ObjectionPeriod:
    """The 公示期: `working_days` working days counted from the day after publication."""
    day, counted, official = published_on, 0, True
    while counted < working_days:
        day += timedelta(days=1)
        working, known = is_working_day(day)
        official &= known
        counted += working
    return ObjectionPeriod(published_on, day, working_days, official)


def objection_table(objections: pd.DataFrame | None) -> pd.DataFrame:
    """The public objection log of the quarter: its public columns, in order of receipt (the
    objector's name and telephone stay in the input). No file: an empty log."""
    if objections is None or not len(objections):
        table = pd.DataFrame({c: pd.Series([], dtype=object) for c in OBJECTION_COLUMNS})
    else:
        table = objections.sort_values(["received_on", "objection_id"], kind="stable")
        table = pd.DataFrame({
            "objection_id": table["objection_id"].astype(str),
            "received_on": [d.date().isoformat() for d in table["received_on"]],
            "provider_id": table["provider_id"].astype(str),
            "about": table["about"].astype(str),
            "summary": table["summary"].astype(str),
            "decision": table["decision"].astype(str),
            "decided_on": ["" if pd.isna(d) else d.date().isoformat() for d in table["decided_on"]],
            "revision": pd.array(table["revision"], dtype="Int64"),
        }).reset_index(drop=True)
    return conform(table, "objections")
