"""The disclosure pages (Markdown for MkDocs), rendered from the published files only.

Every page under `site/disclosures/` is a function of the published CSV files and manifests, so
rendering twice gives the same bytes. Page text lives in `templates/*.md.j2`; here are only the
data each page needs. The templates autoescape: any text from the inputs (a provider's name, a
category) is HTML-escaped and its Markdown punctuation turned into entities, so it always shows as
written and never as markup.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from scoring.engine.objections import ObjectionPeriod, objection_period
from scoring.engine.satisfaction import ALL
from scoring.inputs.methodology import rule_texts
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.inputs.schema import GRADES
from scoring.outputs import charts
from scoring.outputs.downloads import COMBINED, COMBINED_PACKAGE, INDEX, write_downloads
from scoring.outputs.formats import CONTACT_FILE, RECORD_FILE, read_public_csv
from scoring.outputs.public import (
    MEANINGS,
    PAID_STATUS,
    PUBLIC_TABLES,
    column_meaning,
    column_title,
    column_unit,
)
from scoring.outputs.store import LOCAL, MANIFEST, PROVINCES, WITHDRAWN, read_manifest, write_file

MARKDOWN_SPECIALS = re.compile(r"[\\`*_{}\[\]#+!|~<>]")
HOME_SNIPPET = "_home.md"


def md_escape(value: str) -> Markup:
    """HTML-escape, then write Markdown punctuation as numeric entities (shown, never parsed)."""
    html = str(escape(value))
    return Markup(MARKDOWN_SPECIALS.sub(lambda m: f"&#{ord(m.group(0))};", html))


def _finalize(value):
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return md_escape(value)


def environment() -> Environment:
    env = Environment(loader=PackageLoader("scoring.outputs", "templates"), autoescape=True,
                      finalize=_finalize, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    # every value a reader sees is formatted here, once: the templates only choose the filter
    env.filters["money"] = money
    env.filters["yuan"] = yuan
    env.filters["yuan_change"] = yuan_change
    env.filters["points_change"] = points_change
    env.filters["percent"] = percent
    env.filters["share"] = share
    env.filters["times"] = times
    env.filters["beijing_time"] = beijing_time
    env.filters["date_zh"] = beijing_date
    env.filters["yes_no"] = yes_no
    env.filters["status"] = status_label
    env.filters["quarter"] = quarter_label
    env.filters["count"] = count
    env.filters["codes"] = codes
    env.filters["amounts"] = amounts
    # front-matter titles: the theme writes page titles into <title> and the nav unescaped
    env.filters["title_yaml"] = lambda v: Markup(json.dumps(str(escape(str(v))), ensure_ascii=False))
    env.filters["num"] = lambda v: f"{v:g}" if isinstance(v, float) else str(v)
    env.filters["dash"] = lambda v: "—" if v in ("", None) else v
    env.globals["quarter_label"] = quarter_label
    env.globals["rule_value"] = rule_value
    env.globals["hospital_levels"] = HOSPITAL_LEVEL_LABELS
    return env


# formatting for readers: the public CSVs keep machine values; pages say them in plain Chinese ------

DASH = "—"
# status codes of the public files and of publishing, as the pages say them
STATUS_LABELS = {"published": "已公布", "revised": "已更正", "unchanged": "未改动", "withdrawn": "已撤回",
                 "held": "暂缓拨付", **PAID_STATUS}
HOSPITAL_LEVEL_LABELS = {"township": "乡镇卫生院", "county": "县级医院", "city": "市级及以上医院"}


def _empty(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _decimal(value) -> Decimal | None:
    """A number written in a public cell, or None for an empty or suppressed one ("<5", "x")."""
    if _empty(value):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def money(value) -> str:
    """12345.6 -> 12,345.60 (in a table whose header says 元); empty stays a dash."""
    number = _decimal(value)
    return DASH if number is None else f"{number:,.2f}"


def yuan(value) -> str:
    """16759.58 -> 16,759.58 元."""
    number = _decimal(value)
    return DASH if number is None else f"{number:,.2f} 元"


def yuan_change(value) -> str:
    """A signed difference of money in words: 多 16,759.58 元, 少 130.00 元, 持平."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number == 0:
        return "持平"
    return f"{'多' if number > 0 else '少'} {abs(number):,.2f} 元"


def points_change(value) -> str:
    """A difference of percentages: 上升 1.2 个百分点, 下降 0.5 个百分点, 持平."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number.quantize(Decimal("0.1")) == 0:
        return "持平"
    return f"{'上升' if number > 0 else '下降'} {_one_place(abs(number))} 个百分点"


def _one_place(number: Decimal) -> str:
    """At most one decimal place, as people write a percentage: 86.5, 100, 0.3."""
    text = f"{number.quantize(Decimal('0.1'), rounding='ROUND_HALF_UP'):f}"
    return text[:-2] if text.endswith(".0") else text


def percent(value) -> str:
    """A rate already in percent (86.50) -> 86.5%, always one decimal place (85.0%, so that a
    column or a range reads evenly); a withheld or empty one is a dash."""
    number = _decimal(value)
    return DASH if number is None else f"{number.quantize(Decimal('0.1'), rounding='ROUND_HALF_UP'):f}%"


def share(value) -> str:
    """A fraction (0.6, a weight or a payout ratio) -> 60%."""
    number = _decimal(value)
    return DASH if number is None else f"{_one_place(number * 100)}%"


def times(value) -> str:
    """A ratio (1.7294) -> 1.73 倍."""
    number = _decimal(value)
    return DASH if number is None else f"{number.quantize(Decimal('0.01'), rounding='ROUND_HALF_UP'):f} 倍"


def count(value) -> str:
    """A count, with thousands separators (12,345); a suppressed one ("<5", "x") as written."""
    number = _decimal(value)
    if number is None:
        return DASH if _empty(value) else str(value)
    return f"{int(number):,}" if number == number.to_integral_value() else f"{number:,f}"


def beijing_time(value) -> str:
    """2026-11-24T00:13:34+08:00 -> 2026年11月24日 00:13 (Beijing time, whatever the offset)."""
    if _empty(value):
        return DASH
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def beijing_date(value) -> str:
    """2026-05-31 -> 2026年5月31日."""
    if _empty(value):
        return DASH
    day = date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def yes_no(value) -> str:
    """True/False (as a public cell writes them) -> 是/否; empty (withheld) is a dash."""
    text = str(value).strip().lower() if not _empty(value) else ""
    return {"true": "是", "false": "否"}.get(text, DASH)


def status_label(value) -> str:
    return DASH if _empty(value) else STATUS_LABELS.get(str(value), str(value))


# what a public file writes as a machine value (a status, True/False, a rule's name, a quarter's
# code): where a page must name one (the 数据字典), it is shown as code, never as a word
_MACHINE_VALUE = re.compile(r"\b(?:published|held|True|False|ALL|\d{4}Q[1-4]|"
                            + "|".join(sorted(Rules.model_fields, key=len, reverse=True)) + r")\b")


def codes(value) -> Markup:
    """Text with its machine values shown as code: escaped like every value, then <code>."""
    text, out, at = str(value), [], 0
    for match in _MACHINE_VALUE.finditer(text):
        out += [md_escape(text[at:match.start()]), f"<code>{md_escape(match.group(0))}</code>"]
        at = match.end()
    out.append(md_escape(text[at:]))
    return Markup("".join(str(piece) for piece in out))


_AMOUNT = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}(?![\d.])")


def amounts(value) -> str:
    """A sentence the program wrote with amounts in it (已拨付 190970.96 元…, a revision's
    changes): every amount with thousands separators."""
    return _AMOUNT.sub(lambda m: f"{Decimal(m.group(0)):,.2f}", str(value))


def quarter_label(quarter) -> str:
    """2026Q2 -> 2026年第二季度: the one way a quarter is named on the site (Quarter.label)."""
    return Quarter.parse(str(quarter)).label


def slug(provider_id: str) -> str:
    """A file name for a provider's page: its id when that is safe, else a stable hash."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}", provider_id):
        return provider_id
    return "p-" + hashlib.sha256(provider_id.encode("utf-8")).hexdigest()[:12]


def figure_json(fig) -> Markup:
    """A figure as compact JSON that is safe inside <script type="application/json">: numbers
    rounded, no template, `<`, `>` and `&` written as \\u escapes."""
    document = fig.to_plotly_json()
    document["layout"].pop("template", None)
    text = json.dumps(_plain(document), ensure_ascii=False, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    return value


@dataclass
class Published:
    """One published version of a quarter, as read from its directory."""

    region: str
    quarter: str
    path: Path

    @cached_property
    def manifest(self) -> dict:
        return read_manifest(self.path)

    @cached_property
    def rules(self) -> Rules:
        return Rules.model_validate(self.manifest["rules"])

    @cached_property
    def _tables(self) -> dict[str, pd.DataFrame]:
        return {}

    def table(self, name: str) -> pd.DataFrame:
        """A published table, read once per rendering (a provider's page reads its quarter's
        tables again for each provider); a copy, so a caller's changes stay its own."""
        if name not in self._tables:
            self._tables[name] = read_public_csv(self.path / f"{name}.csv")
        return self._tables[name].copy()

    def paid(self) -> pd.DataFrame | None:
        """Planned against paid, or None for a version published before it was recorded."""
        return self.table("paid") if (self.path / "paid.csv").is_file() else None

    def objections(self) -> list[dict]:
        """The objection log published with this version (none before objections were)."""
        if not (self.path / "objections.csv").is_file():
            return []
        rows = _records(self.table("objections"))
        for row in rows:
            row["decision_label"] = DECISION_LABELS.get(row["decision"], row["decision"])
        return rows

    @property
    def first_published(self) -> date:
        """The day the quarter was first published (Beijing time): its 公示期 opens then."""
        history = self.manifest.get("history") or [{"published_at": self.manifest["published_at"]}]
        return datetime.fromisoformat(history[0]["published_at"]).date()

    @property
    def objection_period(self) -> ObjectionPeriod:
        return objection_period(self.first_published, self.rules.objection_days)

    @property
    def label(self) -> str:
        return Quarter.parse(self.quarter).label

    @property
    def versions(self) -> list[int]:
        return sorted(int(p.name[1:]) for p in self.path.glob("v[0-9]*") if p.is_dir())

    @property
    def withdrawals(self) -> list[dict]:
        """Earlier withdrawals of this quarter (it was withdrawn, then published again)."""
        path = self.path / WITHDRAWN
        return json.loads(path.read_text(encoding="utf-8"))["withdrawals"] if path.is_file() else []


@dataclass
class Withdrawn:
    """A quarter taken off the site (`scoring withdraw`): what is left in its place is the record
    of each withdrawal (time, reason, the versions withdrawn), never the withdrawn data."""

    region: str
    quarter: str
    path: Path

    @cached_property
    def record(self) -> dict:
        return json.loads((self.path / WITHDRAWN).read_text(encoding="utf-8"))

    @property
    def label(self) -> str:
        return Quarter.parse(self.quarter).label

    @property
    def published_again(self) -> bool:
        return (self.path / MANIFEST).is_file()


@dataclass
class Region:
    name: str  # directory name
    quarters: list[Published] = field(default_factory=list)  # current versions, oldest first
    withdrawn: list[Withdrawn] = field(default_factory=list)  # quarters withdrawn (some published again)

    @property
    def latest(self) -> Published:
        return self.quarters[-1]

    @property
    def title(self) -> str:
        if self.quarters:
            return self.latest.manifest["region_name"]
        return self.withdrawn[-1].record["region_name"]

    @cached_property
    def contact(self) -> dict | None:
        """Where the public complains and objects (region.yaml `contact:`, as published)."""
        for path in [p.path.parent / CONTACT_FILE for p in self.quarters] + \
                [w.path.parent / CONTACT_FILE for w in self.withdrawn]:
            if path.is_file():
                return json.loads(path.read_text(encoding="utf-8"))
        return None

    @property
    def record(self) -> dict | None:
        """The region's OCDS record package (name and size), when one is published."""
        path = self.latest.path.parent / RECORD_FILE
        return {"name": RECORD_FILE, "bytes": path.stat().st_size} if path.is_file() else None


def published_regions(root: Path) -> list[Region]:
    """Every region with a quarter published or withdrawn."""
    regions = []
    for region_dir in sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        quarters, withdrawn = [], []
        for quarter_dir in sorted(region_dir.iterdir()):
            try:
                Quarter.parse(quarter_dir.name)
            except ValueError:
                continue
            if (quarter_dir / MANIFEST).is_file():
                quarters.append(Published(region_dir.name, quarter_dir.name, quarter_dir))
            if (quarter_dir / WITHDRAWN).is_file():
                withdrawn.append(Withdrawn(region_dir.name, quarter_dir.name, quarter_dir))
        if quarters or withdrawn:
            quarters.sort(key=lambda p: Quarter.parse(p.quarter))
            withdrawn.sort(key=lambda w: Quarter.parse(w.quarter))
            regions.append(Region(region_dir.name, quarters, withdrawn))
    return regions


def withdrawal_notices(region: Region) -> list[dict]:
    """Every withdrawal of the region's quarters, newest first: when, which quarter, why, and
    which versions (their numbers and publication times; nothing of their content)."""
    notices = [{"region": region, "quarter": w.quarter, "label": w.label, "published_again": w.published_again,
                **entry}
               for w in region.withdrawn for entry in w.record["withdrawals"]]
    return sorted(notices, key=lambda n: n["withdrawn_at"], reverse=True)


# page contexts -----------------------------------------------------------------------------------

DECISION_LABELS = {"upheld": "成立", "partly_upheld": "部分成立", "rejected": "不成立", "pending": "处理中"}


def objections_for(published: Published, version: int) -> list[dict]:
    """The objections that led to `version` of the quarter (their `revision`)."""
    return [o for o in published.objections() if str(o["revision"]) == str(version)]


def _version_link(live: Published, version, archived: bool) -> str | None:
    """The address of `version` of the quarter from one of its pages (the live one, or an
    archived v<N>/ page); None while that version is not published."""
    if version in ("", None) or pd.isna(version):
        return None
    version, up = int(version), "../" if archived else ""
    if version == live.manifest["version"]:
        return f"{up}index.md"
    if version in live.versions:
        return f"{up}v{version}/index.md"
    return None


def _records(table: pd.DataFrame) -> list[dict]:
    return table.to_dict("records")


def grade_counts(scores: pd.DataFrame) -> dict[str, int]:
    counts = {g: int((scores["grade"] == g).sum()) for g in GRADES}
    counts["暂不评级"] = int((scores["grade"] == "").sum())
    return counts


def _sum_money(column: pd.Series) -> Decimal:
    return sum((Decimal(v) for v in column if v not in ("", None)), Decimal(0))


def glance(published: Published) -> dict:
    """The numbers of the home page and the region page for one quarter."""
    scores, payments = published.table("scores"), published.table("payments")
    satisfaction = published.table("satisfaction").set_index("provider_id")
    spending = published.table("spending").iloc[0].to_dict()
    region_row = satisfaction.loc[ALL].to_dict() if ALL in satisfaction.index else {}
    return {
        "quarter": published.quarter, "label": published.label, "providers": len(scores),
        "grades": grade_counts(scores), "release": _sum_money(payments["release"]),
        "withheld": _sum_money(payments["withheld"]),
        "total_to_pay": _sum_money(payments["total_to_pay"]),
        **{column: _sum_money(payments[column])
           for column in ("amount_due", "monetary_deduction", "escort_subsidy", "care_allowance")},
        # the payment table's 合计 row: every money column summed, none left blank
        "payment_totals": {column: _sum_money(payments[column]) for column in (
            "amount_due", "monetary_deduction", "release", "withheld", "escort_subsidy", "care_allowance")},
        "paid": _sum_money(paid["paid"]) if (paid := published.paid()) is not None else Decimal(0),
        "vouchers": int(pd.to_numeric(paid["vouchers"]).sum()) if paid is not None else 0,
        "satisfaction": region_row, "spending": spending,
        "scores": scores, "payments": payments,
    }


def changes_since(now: dict, before: dict | None) -> list[str]:
    """What changed since the previous published quarter, in short Chinese sentences."""
    if before is None:
        return []
    order = {g: i for i, g in enumerate(GRADES)}
    old = before["scores"].set_index("provider_id")
    lines = []
    for row in now["scores"].itertuples(index=False):
        if row.provider_id not in old.index:
            lines.append(("new", row.provider_name, "", row.grade))
            continue
        previous = old.at[row.provider_id, "grade"]
        if previous != row.grade:
            if previous and row.grade:
                direction = "up" if order[row.grade] < order[previous] else "down"
            else:
                direction = "changed"
            lines.append((direction, row.provider_name, previous, row.grade))
    return lines


def _delta(now: str, before: str) -> Decimal | str:
    """now - before, or "" when either is missing (formatted where the page is written)."""
    if _decimal(now) is None or _decimal(before) is None:
        return ""
    return Decimal(str(now)) - Decimal(str(before))


class Renderer:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)  # the generation: what site/disclosures points at
        self.env = environment()

    def write(self, relative: str, template: str, **context) -> None:
        text = self.env.get_template(template).render(**context)
        write_file(self.root / relative, text.encode("utf-8"))

    # region-level ---------------------------------------------------------------------------

    def region(self, region: Region) -> None:
        for withdrawn in region.withdrawn:
            if not withdrawn.published_again:  # else its quarter page carries the notice
                self.write(f"{region.name}/{withdrawn.quarter}/index.md", "withdrawn.md.j2",
                           region=region, withdrawn=withdrawn,
                           notices=list(reversed(withdrawn.record["withdrawals"])))
        if not region.quarters:
            self.write(f"{region.name}/index.md", "region.md.j2", region=region, latest=None,
                       quarters=[], providers=[], withdrawals=withdrawal_notices(region))
            return
        for published in region.quarters:
            self.quarter(region, published)
            for version in published.versions:
                archived = Published(region.name, published.quarter, published.path / f"v{version}")
                self.quarter(region, archived, current=published)
        self.region_index(region)
        self.providers(region)
        self.methods(region)
        services = region.latest.table("catalog")
        self.write(f"{region.name}/services.md", "services.md.j2", region=region,
                   published=region.latest, categories=_by_category(services))

    def method_name(self, region: Region, published: Published) -> str:
        latest = region.latest.manifest["rules_fingerprint"]
        fingerprint = published.manifest["rules_fingerprint"]
        return "method.md" if fingerprint == latest else f"method-{fingerprint[:8]}.md"

    def methods(self, region: Region) -> None:
        seen = {}
        for published in region.quarters:
            versions = [Published(region.name, published.quarter, published.path / f"v{v}")
                        for v in published.versions]
            for version in [*versions, published]:
                seen.setdefault(self.method_name(region, version), []).append(version)
        for name, used_by in seen.items():
            rules = used_by[-1].rules
            self.write(f"{region.name}/{name}", "method.md.j2", region=region, rules=rules,
                       rows=rule_rows(rules), used_by=used_by,
                       fingerprint=used_by[-1].manifest["rules_fingerprint"])

    def quarter(self, region: Region, published: Published, current: Published | None = None) -> None:
        depth = 3 if current is None else 4
        up = "../" * (depth - 1)  # to the disclosures root
        data = glance(published)
        rules = published.rules
        scores = published.table("scores")
        satisfaction = published.table("satisfaction")
        complaints = published.table("complaints")
        payments = published.table("payments")
        spending = published.table("spending")
        names = dict(zip(scores["provider_id"], scores["provider_name"]))
        figures = {
            "scores": figure_json(charts.score_chart(scores, rules)),
            "components": figure_json(charts.component_chart(scores)),
            "satisfaction": figure_json(charts.satisfaction_rate_chart(
                satisfaction[satisfaction["provider_id"] != ALL])),
            "spending": figure_json(charts.spending_chart(spending)),
            "payments": figure_json(charts.payment_chart(payments)),
        }
        manifest = published.manifest
        relative = published.path.relative_to(self.root).as_posix()
        live = current or published  # the quarter's current version, whose folder holds v<N>/
        objections = published.objections()
        for row in objections:
            row["revision_link"] = _version_link(live, row["revision"], archived=current is not None)
        revisions = [{**h, "objections": [o for o in objections if str(o["revision"]) == str(h["version"])]}
                     for h in manifest["history"] if h["version"] > 1]
        self.write(f"{relative}/index.md", "quarter.md.j2",
                   region=region, published=published, manifest=manifest, rules=rules,
                   data=data, scores=_records(scores), satisfaction=_records(satisfaction),
                   complaints=_records(complaints), payments=_records(payments),
                   paid=_records(published.paid()) if published.paid() is not None else [],
                   spending=spending.iloc[0].to_dict(), figures=figures, names=names,
                   slugs={pid: slug(pid) for pid in names}, root="../" * depth, up=up,
                   current=current, method=self.method_name(region, published),
                   revisions=revisions, objections=objections, period=live.objection_period,
                   withdrawals=list(reversed(published.withdrawals)) if current is None else [],
                   files=download_files(published.path))

    def region_index(self, region: Region) -> None:
        latest = glance(region.latest)
        rows = []
        for published in reversed(region.quarters):
            manifest = published.manifest
            rows.append({"quarter": published.quarter, "label": published.label,
                         "version": manifest["version"], "published_at": manifest["published_at"],
                         "glance": glance(published)})
        self.write(f"{region.name}/index.md", "region.md.j2", region=region, latest=latest,
                   quarters=rows, providers=provider_list(region), withdrawals=withdrawal_notices(region))

    def providers(self, region: Region) -> None:
        rules = region.latest.rules
        for provider in provider_list(region):
            history = provider_history(region, provider["provider_id"])
            self.write(f"{region.name}/providers/{provider['slug']}.md", "provider.md.j2",
                       region=region, provider=provider, history=_records(history),
                       profile=provider_profile(region, provider),
                       figure=figure_json(charts.score_history_chart(history, rules)),
                       root="../../../")

    # site-level -----------------------------------------------------------------------------

    def site(self, regions: list[Region]) -> None:
        withdrawn_only = [region for region in regions if not region.quarters]
        regions = [region for region in regions if region.quarters]
        summaries = []
        for region in regions:
            now = glance(region.latest)
            before = glance(region.quarters[-2]) if len(region.quarters) > 1 else None
            summaries.append({"region": region, "now": now, "before": before,
                              "changes": changes_since(now, before),
                              "total_delta": _delta(str(now["total_to_pay"]), str(before["total_to_pay"])) if before else "",
                              "rate_delta": _delta(now["satisfaction"].get("rate", ""),
                                                   before["satisfaction"].get("rate", "")) if before else ""})
        provinces = self.provinces(regions)
        self.write(HOME_SNIPPET, "home.md.j2", summaries=summaries)
        self.write("index.md", "disclosures.md.j2", summaries=summaries, provinces=provinces)
        corrections = []
        for region in regions:
            for published in region.quarters:
                for entry in published.manifest["history"]:
                    if entry["version"] > 1:
                        corrections.append({"kind": "revision", "at": entry["published_at"],
                                            "region": region, "published": published, **entry,
                                            "objections": objections_for(published, entry["version"])})
        for region in [*regions, *withdrawn_only]:
            corrections += [{"kind": "withdrawal", "at": n["withdrawn_at"], **n}
                            for n in withdrawal_notices(region)]
        corrections.sort(key=lambda c: c["at"], reverse=True)
        self.write("corrections.md", "corrections.md.j2", corrections=corrections)
        self.write("downloads.md", "downloads.md.j2", regions=regions, tables=PUBLIC_TABLES,
                   files=download_files, combined=combined_files(self.root), index=INDEX)
        self.write("dictionary.md", "dictionary.md.j2", tables=dictionary())
        self.write("supervision.md", "supervision.md.j2", regions=[
            {"region": region, "quarters": [
                {"published": published, "period": published.objection_period,
                 "objections": published.objections()} for published in reversed(region.quarters)]}
            for region in regions])


    def provinces(self, regions: list[Region]) -> list[dict]:
        """One overview page per published province quarter: every county's headline figures."""
        by_name = {region.name: region for region in regions}
        pages = []
        for record_file in sorted((self.root / PROVINCES).glob("*/*.json")):
            record = json.loads(record_file.read_text(encoding="utf-8"))
            rows = []
            for county in record["counties"]:
                region = by_name.get(county)
                published = next((q for q in region.quarters if q.quarter == record["quarter"]), None) if region else None
                if published is not None:
                    rows.append({"region": region, "published": published, "glance": glance(published)})
            page = f"provinces/{record['slug']}/{record['quarter']}.md"
            totals = {key: sum((r["glance"][key] for r in rows), Decimal(0))
                      for key in ("release", "withheld", "total_to_pay")}
            grades = {g: sum(r["glance"]["grades"].get(g, 0) for r in rows) for g in (*GRADES, "暂不评级")}
            self.write(page, "province.md.j2", record=record, rows=rows, totals=totals, grades=grades,
                       label=Quarter.parse(record["quarter"]).label)
            pages.append({"page": page, "name": record["name"], "label": Quarter.parse(record["quarter"]).label,
                          "counties": len(rows)})
        return pages


FILE_TITLES = {"ocds": "合同与拨付(OCDS 发布包)", "datapackage": "数据包说明(Frictionless)",
               "manifest": "公布清单(哈希、规则指纹、版本)"}


def download_files(quarter_dir: Path) -> list[dict]:
    """The downloadable files of a published version, with size and sha256: each table's CSV
    (its sha256 from the manifest) and, beside it, its .xlsx; then the packages and manifest."""
    manifest = read_manifest(quarter_dir)
    out = []
    names = [*(f"{n}.{suffix}" for n in PUBLIC_TABLES for suffix in ("csv", "xlsx")),
             "ocds.json", "datapackage.json", MANIFEST]
    for name in names:
        path = Path(quarter_dir) / name
        if path.is_file():
            stem, suffix = name.rsplit(".", 1)
            title = PUBLIC_TABLES[stem]["title"] if stem in PUBLIC_TABLES else FILE_TITLES[stem]
            if suffix == "xlsx":
                title += "(Excel,中文表头)"
            digest = (manifest or {}).get("outputs", {}).get(name) or hashlib.sha256(path.read_bytes()).hexdigest()
            out.append({"name": name, "title": title, "bytes": path.stat().st_size, "sha256": digest})
    return out


def combined_files(root: Path) -> list[dict]:
    """The combined downloads (`all/`) and the index, with size and sha256."""
    root = Path(root)
    out = []
    for name in [*(f"{n}.{suffix}" for n in PUBLIC_TABLES for suffix in ("csv", "xlsx")), COMBINED_PACKAGE]:
        path = root / COMBINED / name
        if path.is_file():
            stem, suffix = name.rsplit(".", 1)
            title = (PUBLIC_TABLES[stem]["title"] if stem in PUBLIC_TABLES else "合并数据包说明(Frictionless)")
            out.append({"name": f"{COMBINED}/{name}", "table": stem, "suffix": suffix, "title": title,
                        "bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return out


def provider_list(region: Region) -> list[dict]:
    """Every provider ever published in the region, latest name first seen, by id."""
    providers: dict[str, dict] = {}
    for published in region.quarters:
        for row in published.table("scores").itertuples(index=False):
            providers[row.provider_id] = {"provider_id": row.provider_id, "name": row.provider_name,
                                          "slug": slug(row.provider_id), "latest": published.quarter,
                                          "grade": row.grade, "score": row.score}
    return [providers[k] for k in sorted(providers)]


def _row_of(published: Published, table: str, provider_id: str) -> dict | None:
    """A provider's row of a published table, or None (not in it, or a version published
    before the table was)."""
    if not (published.path / f"{table}.csv").is_file():
        return None
    rows = published.table(table)
    rows = rows[rows["provider_id"] == provider_id]
    return rows.iloc[0].to_dict() if len(rows) else None


def _int(value) -> int:
    return int(value) if str(value).strip() else 0


FINDING_COUNTS = ("inspections", "inspections_pass", "inspections_poor", "inspections_falsified",
                  "complaints", "complaints_substantiated", "complaints_in_time",
                  "complaints_unanswered", "required_visits", "visits_counted", "missed_visits")


def provider_profile(region: Region, provider: dict) -> dict:
    """What the provider page says about the provider in its latest published quarter, all from
    that quarter's public files: profile (address, telephone, townships), contract, the services
    it delivered with their guide prices by category, and the findings as numbers (the template
    says them in words). A part is None when that version did not publish it."""
    published = next(q for q in region.quarters if q.quarter == provider["latest"])
    pid = provider["provider_id"]
    findings = _row_of(published, "findings", pid)
    if findings is not None:
        findings.update({key: _int(findings[key]) for key in FINDING_COUNTS})
        # answered after the limit: neither in time nor still open
        findings["complaints_late"] = (findings["complaints"] - findings["complaints_in_time"]
                                       - findings["complaints_unanswered"])
        # what falsified findings and substantiated complaints cost the score (scores.csv)
        findings["point_deduction"] = (_row_of(published, "scores", pid) or {}).get("point_deduction", "")
    offered = None
    if (published.path / "offered.csv").is_file():
        items = published.table("offered")
        items = items[items["provider_id"] == pid]
        category = dict(zip(*published.table("catalog")[["item_code", "category"]].T.to_numpy()))
        offered = [(name, _records(group)) for name, group in
                   items.assign(category=items["item_code"].map(category).fillna("其他"))
                   .groupby("category", sort=False)]
    return {"published": published, "profile": _row_of(published, "profiles", pid),
            "contract": _row_of(published, "contracts", pid), "offered": offered,
            "findings": findings}


def provider_history(region: Region, provider_id: str) -> pd.DataFrame:
    rows = []
    for published in region.quarters:
        scores = published.table("scores").set_index("provider_id")
        if provider_id not in scores.index:
            continue
        score = scores.loc[provider_id]
        payments = published.table("payments").set_index("provider_id")
        satisfaction = published.table("satisfaction").set_index("provider_id")
        rows.append({
            "quarter": published.quarter, "label": published.label,
            # a revised quarter: its current version and the earlier ones still online (v<N>/)
            "version": published.manifest["version"], "earlier": published.versions,
            "score": score["score"], "score_ci_low": score["score_ci_low"],
            "score_ci_high": score["score_ci_high"], "grade": score["grade"],
            "near_band_edge": score["near_band_edge"], "reason": score["reason"],
            "release": payments.at[provider_id, "release"] if provider_id in payments.index else "",
            "withheld": payments.at[provider_id, "withheld"] if provider_id in payments.index else "",
            "rate": satisfaction.at[provider_id, "rate"] if provider_id in satisfaction.index else "",
            "small_sample": satisfaction.at[provider_id, "small_sample"] if provider_id in satisfaction.index else "",
        })
    return pd.DataFrame(rows, columns=["quarter", "label", "version", "earlier", "score", "score_ci_low", "score_ci_high",
                                       "grade", "near_band_edge", "reason", "release", "withheld",
                                       "rate", "small_sample"])


def _by_category(catalog: pd.DataFrame) -> list[tuple[str, list[dict]]]:
    return [(category, _records(items)) for category, items in catalog.groupby("category", sort=False)]


def dictionary() -> list[dict]:
    """Every public table and column, for the 数据字典 page: the Chinese name, unit and meaning
    (public.PUBLIC_TABLES and its glossary, the same the .xlsx headers use)."""
    return [{"name": name, "title": spec["title"], "summary": spec["summary"],
             "columns": [{"name": column, "title": column_title(name, column), "kind": kind,
                          "unit": column_unit(name, column), "meaning": column_meaning(name, column),
                          # a meaning declared for this table's column replaces the package's note
                          "note": "" if (name, column) in MEANINGS else text}
                         for column, (title, kind, text) in spec["columns"].items()]}
            for name, spec in PUBLIC_TABLES.items()]


def rule_rows(rules: Rules) -> list[dict]:
    """Every rule with its Chinese name, its value and default in words, its one-line
    explanation (METHODOLOGY.md's table, as the method page's text) and whether the region set it
    (differs from the default)."""
    used = rules.model_dump(mode="json")
    default = Rules().model_dump(mode="json")
    texts = rule_texts()
    return [{"name": name, "title": texts[name].title, "explanation": texts[name].explanation,
             "value": rule_value(name, value), "default": rule_value(name, default.get(name)),
             "overridden": value != default.get(name)} for name, value in used.items()]


def _number(value) -> str:
    """A rule's number as people write it: 8, 1.5, 2,000 (no trailing zeros)."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{number.to_integral_value():,f}"
    return f"{number.normalize():,f}"


def _listed(items) -> str:
    return "、".join(items)


# each rule's value in words, by its name in METHODOLOGY.md (a rule missing here fails the tests)
_RULE_WORDS = {
    "visits_per_month": lambda v: _listed(f"{category} 每月 {visits} 次" for category, visits in v.items()),
    "hours_per_day": lambda v: f"每天 {_number(v)} 小时",
    "max_hours_per_record": lambda v: f"{_number(v)} 小时",
    "standard_visit_hours": lambda v: f"{_number(v)} 小时",
    "long_visit_hours": lambda v: f"{_number(v)} 小时",
    "max_escort_days_per_record": lambda v: f"{_number(v)} 天",
    "quality_weights": lambda v: _listed(f"{label} {share(v[key])}" for key, label in
                                         (("satisfaction", "满意度"), ("inspections", "抽查"),
                                          ("complaints", "投诉办结"))),
    "satisfied_at_least": lambda v: f"{_number(v)} 分及以上",
    "complaint_response_hours": lambda v: f"{_number(v)} 小时",
    "weights": lambda v: _listed(f"{label} {share(v[key])}" for key, label in
                                 (("hours", "服务时长"), ("volume", "服务数量"), ("quality", "服务质量"))),
    "points_per_falsified": lambda v: f"{_number(v)} 分",
    "points_per_substantiated_complaint": lambda v: f"{_number(v)} 分",
    "max_point_deduction": lambda v: f"{_number(v)} 分",
    "grade_bands": lambda v: _listed(f"{grade} ≥ {_number(edge)} 分" for grade, edge in v.items()),
    "falsified_grade_cap": lambda v: str(v),
    "bootstrap_resamples": lambda v: f"{_number(v)} 次",
    "bootstrap_seed": lambda v: str(v),  # an identifier, not an amount: no separators
    "payout_ratios": lambda v: _listed(f"{grade} {share(ratio)}" for grade, ratio in v.items()),
    "escort_rates": lambda v: _listed(f"{HOSPITAL_LEVEL_LABELS.get(level, level)} {_number(rate)} 元/人·天"
                                      for level, rate in v.items()),
    "care_tier_rates": lambda v: _listed(f"{level} {_number(rate)} 元/人·月" for level, rate in v.items()),
    "min_surveys": lambda v: f"{_number(v)} 份",
    "per_capita_standard": lambda v: f"{_number(v)} 元/人·年",
    "objection_days": lambda v: f"{_number(v)} 个工作日",
    "suppress_below": lambda v: f"{_number(v)} 人",
}


def rule_value(name: str, value) -> str:
    """A rule's value in words (特困 每月 3 次、…; 满意度 60%、…; 72 小时; 2,000 元/人·年)."""
    if value is None:
        return "未设定(不发放)" if name in ("escort_rates", "care_tier_rates") else "未设定"
    return _RULE_WORDS[name](value)


def render_pages(root: Path, regions: set[str] | None = None) -> None:
    """Render the pages of the given regions (all when None) and the site-level pages. A region's
    pages are removed first: a page of a provider or quarter no longer published (withdrawn)
    must not stay behind."""
    root = Path(root)
    renderer = Renderer(root)
    everything = published_regions(root)
    names = {region.name for region in everything} if regions is None else set(regions)
    for name in sorted(names):
        _remove_pages(root / name)
    _remove_pages(root / "provinces")
    for region in everything:
        if region.name in names:
            renderer.region(region)
    write_downloads(root, names)  # before the site's pages: the downloads page lists them
    renderer.site(everything)


def _remove_pages(directory: Path) -> None:
    """Unlink the rendered pages under `directory` (a generation shares files with the previous
    one by hard links: unlinking never touches the previous generation's pages)."""
    if directory.is_dir():
        for page in directory.rglob("*.md"):
            page.unlink()
        for folder in sorted(directory.rglob("*"), key=lambda p: -len(p.parts)):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a provider's folder of pages, emptied
