"""Publishing a quarter: the public record under `site/disclosures/<region>/<quarter>/`.

A published quarter is its public tables (CSV without personal data, small counts suppressed), an
OCDS release package of its contracts and payments, a Frictionless `datapackage.json`, and a
`manifest.json` (sha256 of every input, result and output, the rules and their fingerprint, the
code version, the publication time and the revision history). Pages are rendered from these files
only (`pages`), so they are deterministic.

The public record never changes silently:

- Publishing results whose public files are identical to the published ones changes no byte
  (nothing is written, the publication time is kept).
- Changed results need `revise=True` and a reason: the previous version moves to `v<N>/` inside
  the quarter (its own address, still readable) and the new version carries a revision notice.
- Publishing is atomic. `site/disclosures` is a symbolic link to a complete generation under
  `site/.disclosures/`; a publish builds the next generation beside it (hard links to unchanged
  files, new files written fresh) and then swaps the link with one `rename`. A publish killed at
  any point leaves the link on the previous, intact generation; the leftovers are removed by the
  next publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pandas as pd

from . import __version__
from .months import Quarter
from .privacy import SECONDARY, apply_mask, suppression_mask, table_equations
from .rules import Rules
from .satisfaction import ALL

LOCAL = ZoneInfo("Asia/Shanghai")
DISCLOSURES = "disclosures"
STORE = ".disclosures"
MANIFEST = "manifest.json"
PROVINCES = "_provinces"  # which counties make up each published province quarter
ALL_LABEL = "全部机构合计"
OCID_PREFIX = "ocds-scoring"  # placeholder prefix: a county registers its own with OCP
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class PublishRefused(Exception):
    """The quarter cannot be published as asked: the message says why and what to do."""


# The public tables, declared once: column -> (Chinese title, Frictionless type, description).
PUBLIC_TABLES: dict[str, dict] = {
    "scores": {
        "title": "综合得分与等级",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "hours_delivered": ("实际服务时长(小时)", "number", ""),
            "hours_required": ("应服务时长(小时)", "number", ""),
            "hours_score": ("服务时长得分", "number", "0-100"),
            "volume_score": ("服务数量得分", "number", "0-100"),
            "quality_score": ("服务质量得分", "number", "0-100"),
            "satisfaction_component": ("满意度分项", "number", "回访少于公开阈值时不公布"),
            "inspection_component": ("抽查分项", "number", ""),
            "complaint_component": ("投诉办结分项", "number", ""),
            "point_deduction": ("扣分", "number", ""),
            "score_raw": ("扣分前得分", "number", ""),
            "score": ("综合得分", "number", "扣分后,四舍五入到两位小数"),
            "grade": ("等级", "string", "优秀、良好、合格、不合格;空白为暂不评级"),
            "gradable": ("可评级", "boolean", ""),
            "reason": ("暂不评级原因", "string", ""),
            "score_ci_low": ("95%置信区间下限", "number", "自助法"),
            "score_ci_high": ("95%置信区间上限", "number", "自助法"),
            "near_band_edge": ("接近等级分界线", "boolean", "置信区间跨越等级分界线"),
        },
    },
    "satisfaction": {
        "title": "满意度测评",
        "columns": {
            "provider_id": ("机构编号", "string", "ALL 为全部机构合计"),
            "provider_name": ("服务机构", "string", ""),
            "surveys": ("回访数", "integer", "少于公开阈值显示为 <5;为防推算而隐藏的显示为 x"),
            "satisfied": ("满意数", "integer", "少于公开阈值显示为 <5;为防推算而隐藏的显示为 x"),
            "rate": ("满意率(%)", "number", "回访数或满意数被隐藏时不公布"),
            "ci_low": ("Wilson 95%区间下限(%)", "number", ""),
            "ci_high": ("Wilson 95%区间上限(%)", "number", ""),
            "small_sample": ("样本不足", "boolean", "回访数少于规则 min_surveys"),
            **{f"n{i}": (f"{i}分人数", "integer", "5 = 非常满意;少于公开阈值显示为 <5;为防推算而隐藏的显示为 x")
               for i in range(1, 6)},
        },
    },
    "complaints": {
        "title": "投诉受理与办结",
        "columns": {
            "provider_id": ("机构编号", "string", "ALL 为全部机构合计"),
            "provider_name": ("服务机构", "string", ""),
            "received": ("受理投诉", "integer", "热线工单数"),
            "responded_in_time": ("按时办结", "integer", "在规定时限内反馈的工单数"),
            "substantiated": ("经核实属实", "integer", ""),
            "share_in_time": ("按时办结率(%)", "number", ""),
        },
    },
    "payments": {
        "title": "资金拨付",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "contract_id": ("合同编号", "string", ""),
            "amount_due": ("本季度应付(元)", "number", "合同金额按合同天数折算"),
            "score": ("综合得分", "number", ""),
            "grade": ("等级", "string", ""),
            "payout_ratio": ("拨付比例", "number", ""),
            "monetary_deduction": ("抽查扣款(元)", "number", ""),
            "release": ("拨付(元)", "number", ""),
            "withheld": ("暂扣及扣减(元)", "number", ""),
            "escort_subsidy": ("住院陪护补贴(元)", "number", "本县规则未设定时为空"),
            "care_allowance": ("护理补贴(元)", "number", "本县规则未设定时为空"),
            "total_to_pay": ("合计应付(元)", "number", ""),
            "status": ("状态", "string", "published 已公布;held 暂缓拨付"),
            "reason": ("暂缓原因", "string", ""),
        },
    },
    "spending": {
        "title": "人均支出",
        "columns": {
            "spend": ("本季度支出(元)", "number", "拨付与补贴之和"),
            "avg_beneficiaries": ("平均服务对象人数", "number", ""),
            "per_capita_annual": ("人均年化支出(元)", "number", ""),
            "per_capita_standard": ("人均标准(元/人·年)", "number", ""),
            "ratio_to_standard": ("与标准之比", "number", ""),
            "difference_to_standard": ("与标准之差(元)", "number", ""),
            "spend_per_service": ("每次服务支出(元)", "number", ""),
            "spend_per_hour": ("每小时服务支出(元)", "number", ""),
            "completed_services": ("完成服务次数", "integer", ""),
            "hours_delivered": ("服务时长(小时)", "number", ""),
        },
    },
    "contracts": {
        "title": "服务合同",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "contract_id": ("合同编号", "string", ""),
            "contract_start": ("合同开始日期", "date", ""),
            "contract_end": ("合同结束日期", "date", ""),
            "contract_amount": ("合同金额(元)", "number", ""),
            "contracted_beneficiaries": ("合同服务人数", "integer", "少于公开阈值显示为 <5;为防推算而隐藏的显示为 x"),
        },
    },
    "catalog": {
        "title": "服务项目清单",
        "columns": {
            "item_code": ("项目编码", "string", ""),
            "category": ("服务类别", "string", ""),
            "name": ("项目名称", "string", ""),
            "unit": ("计量单位", "string", ""),
            "guide_price": ("指导价(元)", "number", ""),
            "standard_minutes": ("标准时长(分钟)", "integer", ""),
        },
    },
}
TEXT_COLUMNS = {"provider_id", "provider_name", "contract_id", "reason", "item_code", "category",
                "name", "unit"}
RESULT_NAMES = ("scores", "satisfaction", "payments", "spending")


# public tables (pure: results in, public tables out) ------------------------------------------


def public_tables(results: dict[str, pd.DataFrame], providers: pd.DataFrame,
                  catalog: pd.DataFrame, rules: Rules) -> dict[str, pd.DataFrame]:
    """The quarter's public tables from its result tables (as read by `stages.read_result`) and
    the region's typed providers and catalog. No personal column survives; small counts are
    suppressed with secondary suppression."""
    threshold = rules.suppress_below
    names = dict(zip(results["scores"]["provider_id"], results["scores"]["provider_name"]))
    satisfaction = _public_satisfaction(results["satisfaction"], names, rules)
    complaints = _public_complaints(results["scores"])
    scores = _public_scores(results["scores"], satisfaction)
    tables = {
        "scores": scores,
        "satisfaction": satisfaction,
        "complaints": complaints,
        "payments": _public_payments(results["payments"]),
        "spending": _public_spending(results["spending"], threshold),
        "contracts": _public_contracts(providers, threshold),
        "catalog": _public_catalog(catalog),
    }
    for name, table in tables.items():
        columns = list(PUBLIC_TABLES[name]["columns"])
        tables[name] = table[columns].reset_index(drop=True)
    return tables


def _public_satisfaction(table: pd.DataFrame, names: dict[str, str], rules: Rules) -> pd.DataFrame:
    threshold = rules.suppress_below
    answers = [f"n{i}" for i in range(1, 6)]
    published = ["surveys", "satisfied", *answers]
    counts = table.set_index("provider_id")[published].astype("int64")
    # not published, but anyone can compute it from surveys and satisfied
    counts["unsatisfied"] = counts["surveys"] - counts["satisfied"]
    satisfied_answers = [f"n{i}" for i in range(rules.satisfied_at_least, 6)]
    unsatisfied_answers = [f"n{i}" for i in range(1, rules.satisfied_at_least)]
    equations = table_equations(
        list(counts.index), ALL, [*published, "unsatisfied"],
        row_sums={"surveys": answers, "satisfied": satisfied_answers,
                  "unsatisfied": unsatisfied_answers})
    hidden = suppression_mask(counts, equations, threshold, derived=["unsatisfied"])
    shown = apply_mask(counts[published], hidden[published], threshold)
    out = table.set_index("provider_id").copy()
    out[published] = shown
    withheld = hidden["surveys"] | hidden["satisfied"]
    for column in ("rate", "ci_low", "ci_high"):
        out[column] = out[column].mask(withheld, "")
    out["small_sample"] = out["small_sample"].map(str)
    out["provider_name"] = [ALL_LABEL if pid == ALL else names.get(pid, pid) for pid in out.index]
    return out.reset_index()


def _public_complaints(scores: pd.DataFrame) -> pd.DataFrame:
    """Hotline tickets per provider and in all. Tickets are events about a provider, not counts
    of people, and the published point deduction and quality score determine them anyway: they
    are published as they are."""
    counts = scores.set_index("provider_id")[["tickets", "tickets_in_time", "substantiated_complaints"]]
    counts.columns = ["received", "responded_in_time", "substantiated"]
    counts = counts.astype("int64")
    counts.loc[ALL] = counts.sum()
    out = counts.astype(str)
    out["share_in_time"] = [f"{Decimal(100 * i) / Decimal(n):.2f}" if n else "" for i, n in
                            zip(counts["responded_in_time"], counts["received"])]
    names = dict(zip(scores["provider_id"], scores["provider_name"]))
    out["provider_name"] = [ALL_LABEL if pid == ALL else names[pid] for pid in out.index]
    return out.rename_axis("provider_id").reset_index()


def _public_scores(scores: pd.DataFrame, satisfaction: pd.DataFrame) -> pd.DataFrame:
    out = scores.copy()
    # the satisfaction component is the satisfaction rate: withheld with it
    no_rate = set(satisfaction.loc[satisfaction["rate"] == "", "provider_id"])
    out.loc[out["provider_id"].isin(no_rate), "satisfaction_component"] = ""
    out["gradable"] = out["gradable"].map(str)
    return out


def _public_payments(payments: pd.DataFrame) -> pd.DataFrame:
    out = payments.copy()
    out["status"] = ["held" if s == "held" else "published" for s in out["status"]]
    return out


def _public_spending(spending: pd.DataFrame, threshold: int) -> pd.DataFrame:
    out = spending.copy()
    people = pd.to_numeric(out["avg_beneficiaries"])
    out["avg_beneficiaries"] = out["avg_beneficiaries"].mask((people > 0) & (people < threshold),
                                                             f"<{threshold}")
    return out


def _text_of(values: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        return values.map(lambda v: "" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d"))
    if kind == "money":
        return values.map(lambda v: "" if v is None or v == "" else f"{Decimal(str(v)):.2f}")
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))


def _public_contracts(providers: pd.DataFrame, threshold: int) -> pd.DataFrame:
    table = providers.sort_values("provider_id", kind="stable")
    counts = table[["contracted_beneficiaries"]].astype("int64").reset_index(drop=True)
    hidden = suppression_mask(counts, [], threshold)
    return pd.DataFrame({
        "provider_id": _text_of(table["provider_id"], "text").to_numpy(),
        "provider_name": _text_of(table["name"], "text").to_numpy(),
        "contract_id": _text_of(table["contract_id"], "text").to_numpy(),
        "contract_start": _text_of(table["contract_start"], "date").to_numpy(),
        "contract_end": _text_of(table["contract_end"], "date").to_numpy(),
        "contract_amount": _text_of(table["contract_amount"], "money").to_numpy(),
        "contracted_beneficiaries": apply_mask(counts, hidden, threshold)["contracted_beneficiaries"].to_numpy(),
    })


def _public_catalog(catalog: pd.DataFrame) -> pd.DataFrame:
    table = catalog.sort_values("item_code", kind="stable")
    return pd.DataFrame({
        "item_code": _text_of(table["item_code"], "text").to_numpy(),
        "category": _text_of(table["category"], "text").to_numpy(),
        "name": _text_of(table["name"], "text").to_numpy(),
        "unit": _text_of(table["unit"], "text").to_numpy(),
        "guide_price": _text_of(table["guide_price"], "money").to_numpy(),
        "standard_minutes": _text_of(table["standard_minutes"], "text").to_numpy(),
    })


# files: bytes, deterministic --------------------------------------------------------------------


def inert(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_bytes(table: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel in China opens it as Chinese), \\n line ends, text cells inert."""
    out = table.copy()
    for column in out.columns:
        if column in TEXT_COLUMNS:
            out[column] = out[column].map(lambda v: inert(str(v)))
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def json_bytes(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


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


def now_text() -> str:
    return datetime.now(LOCAL).replace(microsecond=0).isoformat()


# the store: generations and the atomic swap --------------------------------------------------


def read_manifest(quarter_dir: Path) -> dict | None:
    path = Path(quarter_dir) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_file(path: Path, data: bytes) -> None:
    """Write fresh: a hard-linked file shared with the previous generation is replaced, never
    modified in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    with open(path, "wb") as handle:
        handle.write(data)


class Store:
    """`site/disclosures` -> `site/.disclosures/gen-NNNNNN`, swapped atomically."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = Path(site_dir)
        self.link = self.site_dir / DISCLOSURES
        self.store = self.site_dir / STORE

    def current(self) -> Path | None:
        if self.link.is_symlink():
            target = self.link.resolve()
            return target if target.is_dir() else None
        if self.link.is_dir():  # an older layout: adopt it as the first generation
            self.store.mkdir(parents=True, exist_ok=True)
            adopted = self.store / "gen-000000"
            os.rename(self.link, adopted)
            self._point_at(adopted)
            return adopted
        return None

    def _point_at(self, generation: Path) -> None:
        temporary = self.site_dir / f".disclosures-link-{os.getpid()}"
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
        os.symlink(os.path.relpath(generation, self.site_dir), temporary)
        os.replace(temporary, self.link)  # the one atomic step

    def _next_name(self, current: Path | None) -> Path:
        numbers = [int(m.group(1)) for p in self.store.glob("gen-*")
                   if (m := re.fullmatch(r"gen-(\d+)", p.name))]
        return self.store / f"gen-{max(numbers, default=0) + 1:06d}"

    def clean(self) -> None:
        """Remove every generation but the current one (a killed publish leaves one behind)."""
        current = self.current()
        for path in self.store.glob("*") if self.store.is_dir() else []:
            if current is None or path.resolve() != current:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
        for stray in self.site_dir.glob(".disclosures-link-*"):
            stray.unlink()

    @contextmanager
    def transaction(self) -> Iterator[Path]:
        """A new generation to write into, a copy of the current one; swapped in on success."""
        self.site_dir.mkdir(parents=True, exist_ok=True)
        self.store.mkdir(parents=True, exist_ok=True)
        self.clean()
        current = self.current()
        generation = self._next_name(current)
        if current is not None:
            shutil.copytree(current, generation, copy_function=os.link, symlinks=True)
        else:
            generation.mkdir(parents=True)
        try:
            yield generation
            _swap(self, generation)
        except BaseException:
            if self.current() != generation.resolve():
                shutil.rmtree(generation, ignore_errors=True)
            raise
        if current is not None:
            shutil.rmtree(current, ignore_errors=True)


def _swap(store: Store, generation: Path) -> None:
    store._point_at(generation)


# publishing --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    region: str
    quarter: str
    status: str  # published, unchanged, revised
    version: int
    path: Path
    changes: list[str] = field(default_factory=list)


@dataclass
class Candidate:
    """One quarter ready to publish: its run record and public tables."""

    run: dict
    rules: Rules
    tables: dict[str, pd.DataFrame]
    results: dict[str, str]  # sha256 of the result files it was made from


def candidate_from_results(results_dir: Path, providers: pd.DataFrame,
                           catalog: pd.DataFrame) -> Candidate:
    from .stages import read_result

    results_dir = Path(results_dir)
    run = json.loads((results_dir / "run.json").read_text(encoding="utf-8"))
    rules = Rules.model_validate(run["rules"])
    results = {name: read_result(results_dir, name) for name in RESULT_NAMES}
    hashes = {f"{name}.csv": sha256((results_dir / f"{name}.csv").read_bytes()) for name in RESULT_NAMES}
    return Candidate(run, rules, public_tables(results, providers, catalog, rules), hashes)


def publish_quarter(region_dir: Path, quarter: Quarter, results_dir: Path, site_dir: Path,
                    revise: bool = False, reason: str | None = None) -> Outcome:
    """Publish a validated, scored quarter (refuse otherwise, with what to do)."""
    from .stages import NotReady, require_scored

    try:
        validation, _ = require_scored(Path(region_dir), quarter, Path(results_dir))
    except NotReady as exc:
        raise PublishRefused(f"不能公布:{exc}") from exc
    candidate = candidate_from_results(results_dir, validation.tables["providers"],
                                       validation.tables["catalog"])
    outcomes = publish_many(site_dir, [candidate], revise=revise, reason=reason)
    return outcomes[0]


def publish_many(site_dir: Path, candidates: list[Candidate], revise: bool = False,
                 reason: str | None = None, now: str | None = None,
                 province: dict | None = None) -> list[Outcome]:
    """Publish several quarters in one atomic step (all or none). Quarters whose public files are
    unchanged are left alone; if all are (and the province record, if any, is too), nothing is
    written at all. `province` ({"slug", "name", "quarter", "counties"}) records which counties
    make up a province's quarter, for its overview page."""
    from .pages import render_pages

    store = Store(site_dir)
    current = store.current()
    province_file = province_bytes = None
    if province is not None:
        province_file = f"{PROVINCES}/{province['slug']}/{province['quarter']}.json"
        province_bytes = json_bytes(province)
    plans = []
    for candidate in candidates:
        run = candidate.run
        quarter_dir = (current / run["region"] / run["quarter"]) if current else None
        previous = read_manifest(quarter_dir) if quarter_dir else None
        published_at = previous["published_at"] if previous else (now or now_text())
        files = public_files(candidate.tables, run, candidate.rules, published_at)
        outputs = {name: sha256(data) for name, data in files.items()}
        if previous and previous["outputs"] == outputs:
            plans.append((candidate, None, previous, Outcome(
                run["region"], run["quarter"], "unchanged", previous["version"],
                store.link / run["region"] / run["quarter"])))
            continue
        if previous and not revise:
            changed = "、".join(sorted(n for n in outputs if previous["outputs"].get(n) != outputs[n]))
            raise PublishRefused(
                f"{run['region_name']} {run['quarter']} 已于 {previous['published_at']} 公布,"
                f"新的结果与已公布的不同({changed})。公布的结果只能以更正的方式改动:请核实后运行 "
                f"scoring publish <区域目录> --quarter {run['quarter']} --revise --reason \"更正原因\"。"
                " (Already published; changed results need --revise --reason.)")
        if previous and not (reason or "").strip():
            raise PublishRefused("更正必须说明原因:请加 --reason \"更正原因\"。 (--revise needs --reason.)")
        plans.append((candidate, files, previous, None))
    province_same = province is None or (
        current is not None and (current / province_file).is_file()
        and (current / province_file).read_bytes() == province_bytes)
    if all(outcome is not None for *_, outcome in plans) and province_same:
        return [outcome for *_, outcome in plans]

    moment = now or now_text()
    outcomes = []
    with store.transaction() as generation:
        for candidate, files, previous, outcome in plans:
            if outcome is not None:
                outcomes.append(outcome)
                continue
            outcomes.append(_write_quarter(generation, candidate, files, previous, moment,
                                           (reason or "").strip()))
        if province is not None:
            write_file(generation / province_file, province_bytes)
        render_pages(generation, regions={o.region for o in outcomes if o.status != "unchanged"})
    for outcome in outcomes:
        outcome.path = store.link / outcome.region / outcome.quarter
    return outcomes


def _write_quarter(generation: Path, candidate: Candidate, files: dict[str, bytes],
                   previous: dict | None, moment: str, reason: str) -> Outcome:
    run = candidate.run
    quarter_dir = generation / run["region"] / run["quarter"]
    version, history, changes = 1, [], []
    if previous:
        version = previous["version"] + 1
        archive = quarter_dir / f"v{previous['version']}"
        archive.mkdir(parents=True)
        for entry in sorted(quarter_dir.iterdir()):
            if not re.fullmatch(r"v\d+", entry.name):
                os.rename(entry, archive / entry.name)
        history = previous.get("history", [])
        changes = describe_changes(archive, candidate.tables)
        files = public_files(candidate.tables, run, candidate.rules, moment)
    history = [*history, {"version": version, "published_at": moment,
                          "reason": reason if previous else "", "changes": changes}]
    for name, data in files.items():
        write_file(quarter_dir / name, data)
    manifest = {
        "region": run["region"], "region_name": run["region_name"],
        "region_code": run["region_code"], "quarter": run["quarter"],
        "version": version, "published_at": moment, "code_version": __version__,
        "rules_fingerprint": candidate.rules.fingerprint(),
        "rules": candidate.rules.model_dump(mode="json"),
        "inputs": run["inputs"], "inputs_fingerprint": run["inputs_fingerprint"],
        "results": candidate.results,
        "outputs": {name: sha256(data) for name, data in files.items()},
        "history": history,
    }
    write_file(quarter_dir / MANIFEST, json_bytes(manifest))
    status = "revised" if previous else "published"
    return Outcome(run["region"], run["quarter"], status, version, quarter_dir, changes)


def describe_changes(old_dir: Path, new: dict[str, pd.DataFrame]) -> list[str]:
    """What a revision changes, per provider and per file, in plain Chinese (no personal data)."""
    from .pages import read_table

    lines = []
    old_scores = read_table(old_dir / "scores.csv").set_index("provider_id")
    old_pay = read_table(old_dir / "payments.csv").set_index("provider_id")
    new_scores = new["scores"].set_index("provider_id")
    new_pay = new["payments"].set_index("provider_id")
    for pid in new_scores.index:
        name = new_scores.at[pid, "provider_name"]
        if pid not in old_scores.index:
            lines.append(f"新增机构 {name}")
            continue
        parts = []
        for column, label in (("score", "综合得分"), ("grade", "等级")):
            before, after = old_scores.at[pid, column], new_scores.at[pid, column]
            if before != after:
                parts.append(f"{label} {before or '—'} → {after or '—'}")
        for column, label in (("release", "拨付"), ("withheld", "暂扣")):
            before = old_pay.at[pid, column] if pid in old_pay.index else ""
            after = new_pay.at[pid, column]
            if before != after:
                parts.append(f"{label} {before or '—'} → {after or '—'} 元")
        if parts:
            lines.append(f"{name}:" + ";".join(parts))
    for name, table in new.items():
        path = old_dir / f"{name}.csv"
        if path.is_file() and path.read_bytes() != csv_bytes(table):
            lines.append(f"数据文件 {name}.csv 有改动")
    return lines


def province_name(province_dir: Path) -> str:
    """The province's display name: `name` in its province.yaml, else the directory's name."""
    import yaml

    path = Path(province_dir) / "province.yaml"
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("name"):
            return str(data["name"])
    return Path(province_dir).name


def publish_province(province_dir: Path, quarter: Quarter, results_root: Path, site_dir: Path,
                     revise: bool = False, reason: str | None = None) -> tuple[list[Outcome], list[str]]:
    """Publish every scored county of a province and its overview page in one atomic step.
    Counties that cannot be published (errors, not scored, stale) are returned with the reason."""
    from .province import counties
    from .stages import NotReady, require_scored

    candidates, skipped = [], []
    for region in counties(province_dir):
        results_dir = Path(results_root) / region.name / str(quarter)
        try:
            validation, _ = require_scored(region, quarter, results_dir)
        except NotReady as exc:
            skipped.append(f"{region.name}:{exc}")
            continue
        candidates.append(candidate_from_results(results_dir, validation.tables["providers"],
                                                 validation.tables["catalog"]))
    if not candidates:
        raise PublishRefused(f"{Path(province_dir).name} {quarter} 没有可以公布的县:" + ";".join(skipped))
    province = {"slug": Path(province_dir).name, "name": province_name(province_dir),
                "quarter": str(quarter), "counties": sorted(c.run["region"] for c in candidates)}
    return publish_many(site_dir, candidates, revise=revise, reason=reason, province=province), skipped
