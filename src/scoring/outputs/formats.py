"""Public file formats, as bytes: one CSV dialect, JSON, OCDS and Frictionless packages.

Every public CSV is UTF-8 with a BOM (Excel in China opens it as Chinese), "\n" line ends, and
text cells made inert for spreadsheets (`inert`); `uninert` is its one inverse. The same inputs
always give the same bytes.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pandas as pd

from scoring.files import json_bytes, read_spreadsheet_csv, spreadsheet_csv
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.outputs.privacy import SECONDARY
from scoring.outputs.public import PUBLIC_TABLES, TEXT_COLUMNS

OCID_PREFIX = "ocds-scoring"  # placeholder prefix: a county registers its own with OCP
def csv_bytes(table: pd.DataFrame) -> bytes:
    """A public table in the spreadsheet dialect; its text columns (names, ids) made inert."""
    return spreadsheet_csv(table, [c for c in table.columns if c in TEXT_COLUMNS])


def read_public_csv(path: Path) -> pd.DataFrame:
    """A public CSV as text cells, with the inert guard undone."""
    return read_spreadsheet_csv(path, TEXT_COLUMNS)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _amount(text: str) -> float | None:
    return float(Decimal(text)) if text not in ("", None) else None


def ocds_package(tables: dict[str, pd.DataFrame], run: dict, published_at: str) -> dict:
    """An OCDS 1.1 release package: one release per contract, with the quarter's payment to the
    provider as an implementation transaction."""
    region_code, region_name, quarter = run["region_code"], run["region_name"], run["quarter"]
    buyer = {"id": f"CN-{region_code}", "name": f"{region_name}民政局"}
    payments = tables["payments"].set_index("provider_id")
    last_day = Quarter.parse(quarter).last_day.isoformat()
    releases = []
    for contract in tables["contracts"].itertuples(index=False):
        pay = payments.loc[contract.provider_id] if contract.provider_id in payments.index else None
        supplier = {"id": f"{region_code}-{contract.provider_id}", "name": contract.provider_name}
        ocid = f"{OCID_PREFIX}-{region_code}-{contract.contract_id}"
        implementation = {}
        if pay is not None and _amount(pay["total_to_pay"]):
            implementation = {"transactions": [{
                "id": f"{contract.contract_id}-{quarter}", "date": f"{last_day}T00:00:00+08:00",
                "value": {"amount": _amount(pay["total_to_pay"]), "currency": "CNY"},
                "payer": buyer, "payee": supplier,
            }]}
        releases.append({
            "ocid": ocid, "id": f"{ocid}-{quarter}", "date": published_at,
            "tag": ["contract", "implementation"] if implementation else ["contract"],
            "initiationType": "tender", "language": "zh",
            "buyer": buyer,
            "parties": [{**buyer, "roles": ["buyer", "payer"]},
                        {**supplier, "roles": ["supplier", "payee"]}],
            "awards": [{"id": contract.contract_id, "status": "active", "suppliers": [supplier]}],
            "contracts": [{
                "id": contract.contract_id, "awardID": contract.contract_id, "status": "active",
                "title": f"{region_name}服务类社会救助购买服务合同",
                "period": {"startDate": f"{contract.contract_start}T00:00:00+08:00",
                           "endDate": f"{contract.contract_end}T23:59:59+08:00"},
                "value": {"amount": _amount(contract.contract_amount), "currency": "CNY"},
                **({"implementation": implementation} if implementation else {}),
            }],
        })
    return {
        "uri": "ocds.json", "version": "1.1", "publishedDate": published_at,
        "publisher": {"name": f"{region_name}民政局", "scheme": "CN-ADMIN-DIVISION", "uid": region_code},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "releases": releases,
    }


def datapackage(files: dict[str, bytes], run: dict, threshold: int) -> dict:
    """A Frictionless data package describing the quarter's CSV files."""
    resources = []
    for name, spec in PUBLIC_TABLES.items():
        path = f"{name}.csv"
        resources.append({
            "name": name, "title": spec["title"], "path": path, "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8-sig",
            "hash": f"sha256:{sha256(files[path])}", "bytes": len(files[path]),
            "schema": {
                "missingValues": ["", f"<{threshold}", SECONDARY],
                "fields": [{"name": column, "title": title, "type": kind,
                            **({"description": text} if text else {})}
                           for column, (title, kind, text) in spec["columns"].items()],
                **({"primaryKey": ["provider_id"]} if "provider_id" in spec["columns"] else {}),
            },
        })
    return {
        "name": f"{run['region']}-{run['quarter']}".lower(),
        "title": f"{run['region_name']} {Quarter.parse(run['quarter']).label} 服务类社会救助绩效评价公示数据",
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": resources,
    }


def public_files(tables: dict[str, pd.DataFrame], run: dict, rules: Rules,
                 published_at: str) -> dict[str, bytes]:
    files = {f"{name}.csv": csv_bytes(table) for name, table in tables.items()}
    files["ocds.json"] = json_bytes(ocds_package(tables, run, published_at))
    files["datapackage.json"] = json_bytes(datapackage(files, run, rules.suppress_below))
    return files

