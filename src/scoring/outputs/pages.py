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
from scoring.outputs.formats import CONTACT_FILE, RECORD_FILE, read_public_csv
from scoring.outputs.public import PUBLIC_TABLES
from scoring.outputs.store import MANIFEST, PROVINCES, WITHDRAWN, read_manifest, write_file

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
    env.filters["money"] = money
    # front-matter titles: the theme writes page titles into <title> and the nav unescaped
    env.filters["title_yaml"] = lambda v: Markup(json.dumps(str(escape(str(v))), ensure_ascii=False))
    env.filters["pct"] = lambda v: "—" if v in ("", None) else f"{v}%"
    env.filters["num"] = lambda v: f"{v:g}" if isinstance(v, float) else str(v)
    env.filters["dash"] = lambda v: "—" if v in ("", None) else v
    env.globals["quarter_label"] = lambda q: Quarter.parse(q).label
    return env


def money(value) -> str:
    """12345.6 -> 12,345.60; empty stays a dash."""
    if value in ("", None):
        return "—"
    return f"{Decimal(str(value)):,.2f}"


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

    def table(self, name: str) -> pd.DataFrame:
        return read_public_csv(self.path / f"{name}.csv")

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


def _delta(now: str, before: str) -> str:
    if now in ("", None) or before in ("", None):
        return ""
    difference = Decimal(now) - Decimal(before)
    return f"{difference:+.2f}"


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
                              "release_delta": _delta(str(now["release"]), str(before["release"])) if before else "",
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
                   files=download_files)
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


def download_files(quarter_dir: Path) -> list[dict]:
    """The downloadable files of a published version, with size and sha256."""
    manifest = read_manifest(quarter_dir)
    out = []
    for name in [*(f"{n}.csv" for n in PUBLIC_TABLES), "ocds.json", "datapackage.json", MANIFEST]:
        path = Path(quarter_dir) / name
        if path.is_file():
            stem = name.rsplit(".", 1)[0]
            title = (PUBLIC_TABLES[stem]["title"] if stem in PUBLIC_TABLES else
                     {"ocds": "合同与拨付(OCDS 发布包)", "datapackage": "数据包说明(Frictionless)",
                      "manifest": "公布清单(哈希、规则指纹、版本)"}[stem])
            out.append({"name": name, "title": title, "bytes": path.stat().st_size,
                        "sha256": manifest["outputs"].get(name, "") if manifest else ""})
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
            "score": score["score"], "score_ci_low": score["score_ci_low"],
            "score_ci_high": score["score_ci_high"], "grade": score["grade"],
            "near_band_edge": score["near_band_edge"], "reason": score["reason"],
            "release": payments.at[provider_id, "release"] if provider_id in payments.index else "",
            "withheld": payments.at[provider_id, "withheld"] if provider_id in payments.index else "",
            "rate": satisfaction.at[provider_id, "rate"] if provider_id in satisfaction.index else "",
            "small_sample": satisfaction.at[provider_id, "small_sample"] if provider_id in satisfaction.index else "",
        })
    return pd.DataFrame(rows, columns=["quarter", "label", "score", "score_ci_low", "score_ci_high",
                                       "grade", "near_band_edge", "reason", "release", "withheld",
                                       "rate", "small_sample"])


def _by_category(catalog: pd.DataFrame) -> list[tuple[str, list[dict]]]:
    return [(category, _records(items)) for category, items in catalog.groupby("category", sort=False)]


def rule_rows(rules: Rules) -> list[dict]:
    """Every rule with its value and whether the region set it (differs from the default)."""
    used = rules.model_dump(mode="json")
    default = Rules().model_dump(mode="json")
    texts = rule_texts()
    return [{"name": name, "title": texts[name].title, "explanation": texts[name].explanation,
             "value": _rule_text(value), "default": _rule_text(default.get(name)),
             "overridden": value != default.get(name)} for name, value in used.items()]


def _rule_text(value) -> str:
    if value is None:
        return "未设定"
    if isinstance(value, dict):
        return ";".join(f"{k} {_rule_text(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


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
