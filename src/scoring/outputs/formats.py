"""Public file formats, as bytes: one CSV dialect, JSON, OCDS and Frictionless packages.

Every public CSV is UTF-8 with a BOM (Excel in China opens it as Chinese), "\n" line ends, and
text cells made inert for spreadsheets (`inert`); `uninert` is its one inverse. The same inputs
always give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

import ocdsmerge
import pandas as pd
import xlsxwriter

from scoring.engine.money import yuan
from scoring.files import json_bytes, read_spreadsheet_csv, spreadsheet_csv
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.outputs.privacy import SECONDARY, suppressed_text
from scoring.outputs.public import (
    COMBINED_COLUMNS,
    HIDDEN,
    PUBLIC_TABLES,
    SMALL,
    SUPPRESSIBLE,
    TEXT_COLUMNS,
    column_meaning,
    column_title,
    column_unit,
)

def csv_bytes(table: pd.DataFrame) -> bytes:
    """A public table in the spreadsheet dialect; its text columns (names, ids) made inert."""
    return spreadsheet_csv(table, [c for c in table.columns if c in TEXT_COLUMNS])


def read_public_csv(path: Path) -> pd.DataFrame:
    """A public CSV as text cells, with the inert guard undone."""
    return read_spreadsheet_csv(path, TEXT_COLUMNS)


# Excel ---------------------------------------------------------------------------------------------
#
# Each public CSV is also offered as .xlsx for readers who open it in Excel: the same rows and cells,
# made from the CSV as published (so it can never hold what the CSV does not), with the Chinese
# column names (public.PUBLIC_TABLES) as headers and a second sheet explaining each column.
# Numbers are numbers, every other cell (a suppressed "<5", an id, a name) is text, never a formula.
# A fixed creation time keeps the bytes the same for the same CSV.
_XLSX_CREATED = datetime(2000, 1, 1)
_NUMERIC = {"number", "integer"}


def xlsx_bytes(table: pd.DataFrame, name: str) -> bytes:
    """A public table (text cells, as read from its CSV) as an .xlsx workbook. `name` is the public
    table's name; the `region` and `quarter` columns of the combined downloads are known too."""
    spec = PUBLIC_TABLES[name]
    kinds = {column: kind for column, (_, kind, _) in {**COMBINED_COLUMNS, **spec["columns"]}.items()}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": spec["title"], "author": "scoring", "created": _XLSX_CREATED})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"})
    decimals = {}

    def number_format(text: str):
        places = len(text.split(".", 1)[1]) if "." in text else 0
        if places not in decimals:
            decimals[places] = book.add_format({"num_format": "0" if not places else "0." + "0" * places})
        return decimals[places]

    sheet = book.add_worksheet(spec["title"][:31])
    columns = list(table.columns)
    for j, column in enumerate(columns):
        sheet.write_string(0, j, column_title(name, column), header)
        sheet.set_column(j, j, max(10, min(30, 2 * len(column_title(name, column)))))
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, (column, text) in enumerate(zip(columns, row)):
            text = str(text)
            if text == "":
                continue
            if kinds.get(column) in _NUMERIC and _is_number(text):
                sheet.write_number(i, j, float(Decimal(text)), number_format(text))
            else:
                sheet.write_string(i, j, text)
    sheet.freeze_panes(1, 0)
    fields = book.add_worksheet("字段说明")
    for j, title in enumerate(("字段", "中文名称", "单位", "含义")):
        fields.write_string(0, j, title, header)
    for i, column in enumerate(columns, start=1):
        for j, text in enumerate((column, column_title(name, column), column_unit(name, column),
                                  column_meaning(name, column))):
            fields.write_string(i, j, text)
    fields.set_column(0, 0, 24)
    fields.set_column(1, 1, 24)
    fields.set_column(3, 3, 60)
    book.close()
    return buffer.getvalue()


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


def read_xlsx_table(data: bytes) -> tuple[list[str], list[list[str]]]:
    """An .xlsx made by `xlsx_bytes`, read back: its header row and its data rows as text (the
    numbers as the CSV writes them), for tests and the privacy scan."""
    import openpyxl  # only when an xlsx is read back (the scan, tests)

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = [["" if cell.value is None else _cell_text(cell.value, getattr(cell, "number_format", ""))
                 for cell in row] for row in sheet.iter_rows()]
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]  # a read-only sheet leaves out trailing blanks
    return (rows[0] if rows else []), rows[1:]


def _cell_text(value, number_format: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        places = len(number_format.split(".", 1)[1]) if "." in number_format else 0
        return f"{Decimal(repr(float(value))):.{places}f}"
    return str(value)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# OCDS -------------------------------------------------------------------------------------------
#
# The quarter's computed payments are a plan, published as contract milestones of type `payment`
# (status `scheduled`); a `transactions` entry is written only for money actually paid (`paid`,
# empty until finance records payments). Escort subsidies and care allowances go to escorts and
# guardians, named as aggregate parties, never as persons. Each version of a quarter's release has
# its own id, and a quarter's package keeps the releases of its earlier versions.
#
# Milestone `value` is not in OCDS 1.1.5's Milestone object; it is the field OCDS 1.2 adds for a
# planned payment (open-contracting/standard#438). 1.1 allows additional fields, so the package
# still validates against the 1.1.5 schema.

OCDS_VERSION = "1.1"
# OCP assigns prefixes of "ocds-" and 6 characters; this one is longer, so it can never be an
# assigned one, and says what it is. A bureau registers its own and sets publisher.ocid_prefix.
UNREGISTERED_OCID_PREFIX = "ocds-unregistered"
# The site address when neither region.yaml (publisher.site_url) nor mkdocs.yml (site_url) gives
# one: a name under example.com, which IANA reserves (RFC 2606), so no real site ever receives
# the links; shaped like a bureau's disclosure address so that it is obvious what to put there.
DEFAULT_SITE_URL = "https://mzj.example.com/gongkai/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
PACKAGE_FILE = "ocds.json"
RECORD_FILE = "ocds-record.json"  # per region: every contract's releases and compiled release
CONTACT_FILE = "contact.json"  # per region: where the public complains and objects (region.yaml)
# The aggregate payees of the money that does not go to the provider: (payments column, party id
# suffix, party name, milestone code, milestone title).
_SUBSIDIES = (
    ("escort_subsidy", "aggregate-escorts", "住院陪护人员(汇总)", "escortSubsidy", "住院陪护补贴"),
    ("care_allowance", "aggregate-guardians", "护理补贴领取人(汇总)", "careAllowance", "护理补贴"),
)
_VERSIONED_ID = re.compile(r"-v(\d+)$")


@dataclass(frozen=True)
class OcdsSettings:
    """Where a region's disclosure is served and the prefix of its ocids."""

    site_url: str = DEFAULT_SITE_URL  # absolute, ending in "/"
    ocid_prefix: str = UNREGISTERED_OCID_PREFIX

    @classmethod
    def resolve(cls, publisher: dict | None, site_url: str | None = None) -> "OcdsSettings":
        """The region's own settings (region.yaml `publisher:`), else the site's address
        (mkdocs.yml `site_url`), else the defaults."""
        publisher = publisher or {}
        address = publisher.get("site_url") or site_url or DEFAULT_SITE_URL
        return cls(address if address.endswith("/") else address + "/",
                   publisher.get("ocid_prefix") or UNREGISTERED_OCID_PREFIX)

    # a region's folder name is its address; one in Chinese or with a space is percent-encoded
    def package_uri(self, region: str, quarter: str) -> str:
        return f"{self.site_url}disclosures/{quote(region)}/{quarter}/{PACKAGE_FILE}"

    def record_uri(self, region: str) -> str:
        return f"{self.site_url}disclosures/{quote(region)}/{RECORD_FILE}"

    @classmethod
    def of_record(cls, record: dict | None, region: str, site_url: str | None = None) -> "OcdsSettings":
        """The settings a region's record package was published with (its address), else the
        site's (`site_url`)."""
        uri = str((record or {}).get("uri", ""))
        suffix = f"disclosures/{quote(region)}/{RECORD_FILE}"
        return cls.resolve({"site_url": uri.removesuffix(suffix)} if uri.endswith(suffix) else None, site_url)


@dataclass(frozen=True)
class PaidAmount:
    """Money finance actually paid against a contract (one OCDS transaction). `payee` is
    "supplier" or the payments column of an aggregate payee (escort_subsidy, care_allowance)."""

    contract_id: str
    transaction_id: str
    paid_on: date
    amount: Decimal
    payee: str = "supplier"


def paid_amounts(table: pd.DataFrame, quarter: str) -> list[PaidAmount]:
    """The quarter's recorded payments per contract (public paid table, text cells), as OCDS
    transactions: finance books each voucher against the contract, so the payee is the supplier."""
    return [PaidAmount(row.contract_id, f"{row.contract_id}-{quarter}-paid",
                       date.fromisoformat(row.last_paid_on), Decimal(row.paid))
            for row in table.itertuples(index=False) if row.last_paid_on and Decimal(row.paid) != 0]


def ocds_amount(value: Decimal | str) -> float:
    """An amount in yuan as OCDS writes it: a JSON number, rounded to the fen."""
    return float(yuan(Decimal(value)))


def _value(text: str) -> dict:
    return {"amount": ocds_amount(text), "currency": "CNY"}


def release_version(release: dict) -> int | None:
    """The version a release belongs to (its id ends in -v<N>), None for an id without one."""
    match = _VERSIONED_ID.search(str(release.get("id", "")))
    return int(match.group(1)) if match else None


# the public paid table's status -> (milestone status, what replaces 尚未支付 in its description)
_MILESTONE_STATES = {"已拨付": ("met", "已按计划支付"), "多拨付": ("met", "已支付(多付部分应在下次扣回)"),
                     "部分拨付": ("partiallyMet", "已部分支付")}


def ocds_releases(tables: dict[str, pd.DataFrame], run: dict, published_at: str, version: int,
                  settings: OcdsSettings, paid: Sequence[PaidAmount] = ()) -> list[dict]:
    """Version `version` of the quarter's releases: one per contract, its planned payments as
    milestones, and transactions only for `paid`."""
    region_code, region_name, quarter = run["region_code"], run["region_name"], run["quarter"]
    q = Quarter.parse(quarter)
    buyer = {"id": f"CN-{region_code}", "name": f"{region_name}民政局"}
    buyer_party = {**buyer, "roles": ["buyer", "payer"], "identifier": {
        "scheme": "CN-ADMIN-DIVISION", "id": region_code, "legalName": buyer["name"]}}
    payments = tables["payments"].set_index("provider_id")
    # a milestone is met once the contract's vouchers cover the plan (paid.csv is per contract)
    recorded = tables["paid"].set_index("contract_id")["status"] if "paid" in tables else pd.Series(dtype=str)
    due = f"{q.last_day.isoformat()}T23:59:59+08:00"
    releases = []
    # the provider's public office and number (profiles.csv), on its party as OCDS places them
    profiles = tables["profiles"].set_index("provider_id") if "profiles" in tables else pd.DataFrame()
    for contract in tables["contracts"].itertuples(index=False):
        ocid = f"{settings.ocid_prefix}-{region_code}-{contract.contract_id}"
        supplier = {"id": f"{region_code}-{contract.provider_id}", "name": contract.provider_name}
        supplier_party = {**supplier, "roles": ["supplier", "payee"]}
        credit_code = getattr(contract, "credit_code", "")
        if credit_code:
            supplier_party["identifier"] = {"scheme": "CN-USCI", "id": credit_code,
                                            "legalName": contract.provider_name}
        if contract.provider_id in profiles.index:
            profile = profiles.loc[contract.provider_id]
            if profile["address"]:
                supplier_party["address"] = {"streetAddress": profile["address"]}
            if profile["telephone"]:
                supplier_party["contactPoint"] = {"telephone": profile["telephone"]}
        parties, milestones = [buyer_party, supplier_party], []
        payees = {"supplier": supplier}
        if contract.provider_id in payments.index:
            pay = payments.loc[contract.provider_id]
            held = pay["status"] == "held"
            milestones.append({
                "id": f"{quarter}-service-fee", "type": "payment", "code": "serviceFee",
                "title": f"{q.label}服务费", "status": "scheduled", "dueDate": due,
                "value": _value(pay["release"]),
                "description": (f"按{q.label}考核结果计划拨付给服务机构,尚未支付"
                                + (f";暂缓拨付:{pay['reason']}" if held else "")
                                + (f";暂扣及扣减 {pay['withheld']} 元" if Decimal(pay["withheld"] or 0) else "")
                                + "。"),
            })
            for column, suffix, name, code, title in _SUBSIDIES:
                if pay[column] == "":
                    continue  # the region's rules do not pay it
                payee = {"id": f"{region_code}-{suffix}", "name": name}
                payees[column] = payee
                parties.append({**payee, "roles": ["payee"]})
                milestones.append({
                    "id": f"{quarter}-{suffix.removeprefix('aggregate-')}", "type": "payment",
                    "code": code, "title": f"{q.label}{title}", "status": "scheduled",
                    "dueDate": due, "value": _value(pay[column]),
                    "description": f"计划发放给「{name}」(参与方 {payee['id']}),不付给服务机构;尚未支付。",
                })
        transactions = [{
            "id": p.transaction_id, "date": f"{p.paid_on.isoformat()}T00:00:00+08:00",
            "value": _value(p.amount), "payer": buyer, "payee": payees[p.payee],
        } for p in paid if p.contract_id == contract.contract_id]
        state = _MILESTONE_STATES.get(recorded.get(contract.contract_id, ""))
        if state:
            for milestone in milestones:
                milestone["status"], not_yet = state
                milestone["description"] = milestone["description"].replace("尚未支付", not_yet)
        releases.append({
            "ocid": ocid, "id": f"{ocid}-{quarter}-v{version}", "date": published_at,
            "tag": (["contract"] if version == 1 else ["contractUpdate"])
                   + (["implementation"] if transactions else []),
            "initiationType": "tender", "language": "zh",
            "buyer": buyer,
            "parties": parties,
            "awards": [{"id": contract.contract_id, "status": "active", "suppliers": [supplier]}],
            "contracts": [{
                "id": contract.contract_id, "awardID": contract.contract_id, "status": "active",
                "title": f"{region_name}服务类社会救助购买服务合同",
                "period": {"startDate": f"{contract.contract_start}T00:00:00+08:00",
                           "endDate": f"{contract.contract_end}T23:59:59+08:00"},
                "value": _value(contract.contract_amount),
                **({"milestones": milestones} if milestones else {}),
                **({"implementation": {"transactions": transactions}} if transactions else {}),
            }],
        })
    return releases


def _publisher(run: dict) -> dict:
    return {"name": f"{run['region_name']}民政局", "scheme": "CN-ADMIN-DIVISION", "uid": run["region_code"]}


def ocds_package(tables: dict[str, pd.DataFrame], run: dict, published_at: str, *,
                 version: int = 1, settings: OcdsSettings = OcdsSettings(),
                 earlier: Sequence[dict] = (), paid: Sequence[PaidAmount] = ()) -> dict:
    """The quarter's OCDS 1.1 release package as published with version `version`: the releases
    of the earlier versions (`earlier`, as they were published) and this version's."""
    return {
        "uri": settings.package_uri(run["region"], run["quarter"]), "version": OCDS_VERSION,
        "publishedDate": published_at, "publisher": _publisher(run), "license": LICENSE,
        "releases": [*earlier, *ocds_releases(tables, run, published_at, version, settings, paid)],
    }


def earlier_releases(package: dict | None, version: int) -> list[dict]:
    """The releases of a published package that belong to versions before `version`. Releases of
    a package written before versions had their own ids (no -v<N>) are not carried over: they stay
    readable in the archived version."""
    releases = (package or {}).get("releases", [])
    return [r for r in releases if (v := release_version(r)) is not None and v < version]


def record_package(packages: Sequence[dict], run: dict, settings: OcdsSettings) -> dict:
    """The region's OCDS record package: for every ocid, its releases in every published quarter
    package (linked by URL) and the compiled release (ocdsmerge, with the OCDS 1.1.5 schema
    shipped with the product: it never fetches one)."""
    releases: dict[str, list[tuple[str, dict]]] = {}
    for package in packages:
        for release in package["releases"]:
            releases.setdefault(release["ocid"], []).append((package["uri"], release))
    records = []
    for ocid in sorted(releases):
        ordered = sorted(releases[ocid], key=lambda pair: (pair[1]["date"], pair[1]["id"]))
        records.append({
            "ocid": ocid,
            "releases": [{"url": f"{uri}#{r['id']}", "date": r["date"], "tag": r["tag"]}
                         for uri, r in ordered],
            "compiledRelease": _merger().create_compiled_release([r for _, r in ordered]),
        })
    return {
        "uri": settings.record_uri(run["region"]), "version": OCDS_VERSION,
        "publishedDate": max((p["publishedDate"] for p in packages), default=""),
        "publisher": _publisher(run), "license": LICENSE,
        "packages": sorted({p["uri"] for p in packages}),
        "records": records,
    }


@cache
def release_schema() -> dict:
    """The OCDS 1.1.5 release schema shipped with the product (schemas/README.md)."""
    return json.loads(resources.files("scoring.outputs").joinpath("schemas/ocds-1.1.5-release-schema.json")
                      .read_text(encoding="utf-8"))


@cache
def _merger() -> ocdsmerge.Merger:
    return ocdsmerge.Merger(schema=release_schema())


# Frictionless ------------------------------------------------------------------------------------
#
# Data Package v2 (datapackage.org): its Table Schema lets each field declare its own missing
# values, so "<5" and "x" are declared only on the counts that can hold them (SUPPRESSIBLE), and
# every other column accepts only the empty cell. frictionless-py 5 reads these profiles and
# field-level missingValues (tests/test_frictionless.py runs it on every published package).
_PROFILES = "https://datapackage.org/profiles/2.0/"


def marker_meanings(threshold: int) -> dict[str, tuple[str, str]]:
    """Each suppression marker: (the text in the cell, what it means, in Chinese)."""
    return {
        SMALL: (suppressed_text(threshold),
                f"「{suppressed_text(threshold)}」表示 1 至 {threshold - 1} 人:少于公开阈值 {threshold},"
                "为保护个人信息不公布确切人数"),
        HIDDEN: (SECONDARY, f"「{SECONDARY}」表示为防止由合计或其他已公布的数推算出小于 {threshold} 的人数而隐藏"
                            "(二次隐藏),实际可能是任何人数"),
    }


def _primary_key(spec: dict) -> list[str]:
    """A table's key: as declared (`key`), else provider_id, one row per provider."""
    return spec.get("key", ["provider_id"] if "provider_id" in spec["columns"] else [])


def _field(table: str, column: str, title: str, kind: str, text: str, threshold: int) -> dict:
    markers = SUPPRESSIBLE.get(table, {}).get(column, ()) if threshold > 1 else ()
    meanings = marker_meanings(threshold)
    description = ";".join([*([text] if text else []), *(meanings[m][1] for m in markers)])
    return {"name": column, "title": title, "type": kind,
            **({"description": description} if description else {}),
            **({"missingValues": ["", *(meanings[m][0] for m in markers)]} if markers else {})}


def datapackage(files: dict[str, bytes], run: dict, threshold: int) -> dict:
    """A Frictionless data package (v2) describing the quarter's CSV files."""
    resources = []
    for name, spec in PUBLIC_TABLES.items():
        path = f"{name}.csv"
        resources.append({
            "$schema": f"{_PROFILES}dataresource.json",
            "name": name, "title": spec["title"], "path": path, "format": "csv",
            # IANA's name; the files start with a byte-order mark, which UTF-8 readers skip
            "mediatype": "text/csv", "encoding": "utf-8",
            "hash": f"sha256:{sha256(files[path])}", "bytes": len(files[path]),
            "schema": {
                "$schema": f"{_PROFILES}tableschema.json",
                "missingValues": [""],
                "fields": [_field(name, column, title, kind, text, threshold)
                           for column, (title, kind, text) in spec["columns"].items()],
                **({"primaryKey": key} if (key := _primary_key(spec)) else {}),
            },
        })
    return {
        "$schema": f"{_PROFILES}datapackage.json",
        "name": f"{run['region']}-{run['quarter']}".lower(),
        "title": f"{run['region_name']} {Quarter.parse(run['quarter']).label} 服务类社会救助绩效评价公示数据",
        "licenses": [{"name": "CC-BY-4.0", "path": LICENSE}],
        "resources": resources,
    }


def combined_datapackage(files: dict[str, bytes], thresholds: Sequence[int]) -> dict:
    """A Frictionless data package (v2) of the combined downloads (`all/<table>.csv`: every
    region's current version of every quarter, `region` and `quarter` first). The suppression
    markers of every threshold in use are declared where they can occur."""
    thresholds = sorted(set(thresholds)) or [5]
    resources = []
    for name, spec in PUBLIC_TABLES.items():
        path = f"{name}.csv"
        if path not in files:
            continue
        fields = [{"name": column, "title": title, "type": kind, "description": text}
                  for column, (title, kind, text) in COMBINED_COLUMNS.items()]
        for column, (title, kind, text) in spec["columns"].items():
            field = _field(name, column, title, kind, text, thresholds[0])
            for other in thresholds[1:]:
                extra = _field(name, column, title, kind, text, other)
                for value in extra.get("missingValues", []):
                    if value not in field["missingValues"]:
                        field["missingValues"].append(value)
                if extra.get("description") and extra["description"] != field.get("description"):
                    field["description"] = ";".join(filter(None, [field.get("description"),
                                                                   extra["description"]]))
            fields.append(field)
        # a declared key (objections, offered) or one row per provider, within a region's quarter
        key = (["region", "quarter", *spec["key"]] if "key" in spec else
               ["region", "quarter", "provider_id"] if "provider_id" in spec["columns"] else
               ["region", "quarter"] if name == "spending" else [])
        resources.append({
            "$schema": f"{_PROFILES}dataresource.json",
            "name": name, "title": f"{spec['title']}(各区县各季度)", "path": path, "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8",
            "hash": f"sha256:{sha256(files[path])}", "bytes": len(files[path]),
            "schema": {"$schema": f"{_PROFILES}tableschema.json", "missingValues": [""],
                       "fields": fields, **({"primaryKey": key} if key else {})},
        })
    return {
        "$schema": f"{_PROFILES}datapackage.json",
        "name": "all-regions-all-quarters",
        "title": "服务类社会救助绩效评价公示数据(各区县各季度合并)",
        "licenses": [{"name": "CC-BY-4.0", "path": LICENSE}],
        "resources": resources,
    }


def public_files(tables: dict[str, pd.DataFrame], run: dict, rules: Rules, published_at: str, *,
                 version: int = 1, settings: OcdsSettings = OcdsSettings(),
                 earlier: Sequence[dict] = (), paid: Sequence[PaidAmount] = ()) -> dict[str, bytes]:
    """Every public file of version `version` of a quarter, as bytes. Money actually paid comes
    from the public `paid` table unless `paid` is given."""
    if not paid and "paid" in tables:
        paid = paid_amounts(tables["paid"], run["quarter"])
    files = {f"{name}.csv": csv_bytes(table) for name, table in tables.items()}
    files[PACKAGE_FILE] = json_bytes(ocds_package(tables, run, published_at, version=version,
                                                  settings=settings, earlier=earlier, paid=paid))
    files["datapackage.json"] = json_bytes(datapackage(files, run, rules.suppress_below))
    return files
