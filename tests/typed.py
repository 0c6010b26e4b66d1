"""Typed input tables built by hand, as `validate` hands them to the engine (no files).

Each helper takes compact rows and returns a DataFrame with the typed-table contract:
dates as datetime64, money as Decimal, codes as strings, `_row` as the Excel row.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from scoring.inputs.schema import FILES


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    spec = FILES[name]
    table = pd.DataFrame(rows, columns=spec.column_names)
    for column in spec.columns:
        values = table[column.name]
        if column.kind in ("date", "datetime"):
            table[column.name] = pd.to_datetime(values)
        elif column.kind == "money":
            table[column.name] = [Decimal(str(v)) for v in values]
        elif column.kind == "int":
            table[column.name] = values.astype("int64")
        elif column.kind == "number":
            table[column.name] = values.astype("float64")
        else:
            table[column.name] = values.fillna("").astype(str)
    table["_row"] = range(2, len(table) + 2)
    return table


def providers(*rows: tuple) -> pd.DataFrame:
    keys = ["provider_id", "name", "contract_id", "contract_start", "contract_end",
            "contract_amount", "contracted_beneficiaries"]
    return _frame("providers", [dict(zip(keys, r)) for r in rows])


def catalog() -> pd.DataFrame:
    return _frame("catalog", [
        {"item_code": "C01", "category": "生活照料", "name": "居家清洁", "unit": "次",
         "guide_price": "50.00", "standard_minutes": 60},
        {"item_code": "E01", "category": "助农助急", "name": "住院陪护", "unit": "天",
         "guide_price": "150.00", "standard_minutes": 480},
    ])


def beneficiaries(*rows: tuple) -> pd.DataFrame:
    """rows: (beneficiary_id, category, provider_id, enrolled_on, exited_on or None[, care_level])"""
    out = []
    for r in rows:
        bid, category, pid, enrolled, exited = r[:5]
        out.append({"beneficiary_id": bid, "name": "某某", "id_number": "11010519491231002X",
                    "phone": "", "township": "水边镇", "village": "某村", "category": category,
                    "care_level": r[5] if len(r) > 5 else "", "provider_id": pid,
                    "enrolled_on": enrolled, "exited_on": exited})
    return _frame("beneficiaries", out)


def services(*rows: tuple) -> pd.DataFrame:
    """rows: (record_id, beneficiary_id, provider_id, item_code, started_at, hours[, status, units, hospital_level])"""
    out = []
    for r in rows:
        rid, bid, pid, item, started, hours = r[:6]
        status = r[6] if len(r) > 6 else "completed"
        units = r[7] if len(r) > 7 else 1
        level = r[8] if len(r) > 8 else ""
        start = pd.Timestamp(started)
        out.append({"record_id": rid, "beneficiary_id": bid, "provider_id": pid, "worker_id": "W1",
                    "item_code": item, "ordered_at": start - pd.Timedelta(days=1),
                    "started_at": start, "ended_at": start + pd.Timedelta(hours=hours),
                    "status": status, "channel": "phone", "units": units, "hospital_level": level})
    return _frame("services", out)


def surveys(provider_id: str, answers: list[int], first_id: int = 1) -> pd.DataFrame:
    return _frame("surveys", [
        {"survey_id": f"S{provider_id}{first_id + i:05d}", "beneficiary_id": "B1",
         "provider_id": provider_id, "surveyed_on": "2026-05-10", "method": "home", "overall": a}
        for i, a in enumerate(answers)
    ])


def complaints(*rows: tuple) -> pd.DataFrame:
    """rows: (ticket_id, provider_id, received_at, response hours or None, substantiated)"""
    out = []
    for tid, pid, received, hours, substantiated in rows:
        at = pd.Timestamp(received)
        responded = at + pd.Timedelta(hours=hours) if hours is not None else pd.NaT
        out.append({"ticket_id": tid, "received_at": at, "provider_id": pid, "beneficiary_id": "",
                    "category": "服务态度", "substantiated": substantiated, "assigned_at": at,
                    "verified_at": at, "responded_at": responded, "text": ""})
    return _frame("complaints", out)


def inspections(*rows: tuple) -> pd.DataFrame:
    """rows: (inspection_id, record_id, result, deduction_yuan)"""
    return _frame("inspections", [
        {"inspection_id": iid, "inspected_on": "2026-06-08", "township": "水边镇",
         "record_id": rid, "result": result, "deduction_yuan": yuan}
        for iid, rid, result, yuan in rows
    ])


def concat(*tables: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat(tables, ignore_index=True)
    out["_row"] = range(2, len(out) + 2)
    return out
