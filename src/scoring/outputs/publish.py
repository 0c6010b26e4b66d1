"""Publishing a quarter: the public record under `site/disclosures/<region>/<quarter>/`.

A published quarter is its public tables (CSV without personal data, small counts suppressed), an
OCDS release package of its contracts and planned payments (with the releases of its earlier
versions), a Frictionless `datapackage.json`, and a
`manifest.json` (sha256 of every input, result and output, the rules and their fingerprint, the
code version, the publication time and the revision history). Each region also has an OCDS record package,
`<region>/ocds-record.json`: every contract's releases in every quarter and its compiled release,
rebuilt whenever one of the region's quarters changes. Pages are rendered from these files only
(`pages`), so they are deterministic.

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
- A quarter that must not be public (it holds personal data, say) is withdrawn whole
  (`withdraw`): every version of it leaves the store, with its OCDS releases, and a dated notice
  with the reason (`withdrawn.json`, and its page) takes its place. The quarter may be published
  again afterwards; the notice stays.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import yaml

from scoring import __version__
from scoring.files import json_bytes
from scoring.inputs.layer import read_validated
from scoring.inputs.rules import Rules
from scoring.outputs.disclosure import AuditGap, View, audit
from scoring.outputs.formats import (
    CONTACT_FILE,
    PACKAGE_FILE,
    RECORD_FILE,
    OcdsSettings,
    csv_bytes,
    earlier_releases,
    public_files,
    read_public_csv,
    record_package,
    sha256,
)
from scoring.outputs.pages import render_pages
from scoring.outputs.privacy import Roster, public_phones, roster_from_data, scan_text
from scoring.outputs.public_layer import PublicLayer, read_public, write_public
from scoring.outputs.results import read_results
from scoring.outputs.store import (
    LOCK_TIMEOUT,
    MANIFEST,
    PROVINCES,
    WITHDRAWN,
    Store,
    StoreBusy,
    now_text,
    read_manifest,
    write_file,
)
from scoring.refusal import Code, Refusal

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
    small_hidden: frozenset = frozenset()  # small counts shown as "x" (the audit checks them)
    publisher: dict = field(default_factory=dict)  # region.yaml `publisher:` (site_url, ocid_prefix)
    region_dir: Path | None = None  # the raw inputs: whose personal values must not be published
    contact: dict | None = None  # region.yaml `contact:`, shown on every page of the region


def candidate_from_public(public: PublicLayer, region_dir: Path | None = None) -> Candidate:
    """A quarter ready to publish: its public layer (tables, rules and the run they came from)."""
    return Candidate(public.run, public.rules, public.tables, public.record["results"],
                     public.small_hidden, public.record.get("publisher") or {}, region_dir,
                     public.record.get("contact"))


def contact_bytes(candidate: Candidate) -> bytes:
    """The region's contact file (`contact.json`); refuses a region without one: a published
    result must say where to complain and object."""
    if not candidate.contact:
        run = candidate.run
        raise Refusal(Code.MISSING_CONTACT,
                      f"{run['region_name']} 的 region.yaml 没有填写 contact(监督与投诉的联系方式),不能公布:"
                      "公示的结果必须告诉公众向谁投诉、向谁提出异议。",
                      "在 region.yaml 中加上 contact:bureau(民政局名称)、address(地址)、telephone(受理异议的电话),"
                      "可选 hotline(投诉热线)、email、office_hours;然后重新运行 scoring validate 和 scoring publish。")
    return json_bytes(candidate.contact)


def scan_candidate(candidate: Candidate, files: dict[str, bytes]) -> None:
    """Refuse to publish files that hold a personal value of the region's inputs (a name, ID
    number, phone, village, beneficiary id, complaint text...), or any valid ID number or phone
    number at all: nothing is written to site/ before this scan passes."""
    roster = roster_from_data([candidate.region_dir]) if candidate.region_dir else Roster()
    roster.allow_phones(public_phones(candidate.contact))
    findings = [f for name, data in files.items()
                for f in scan_text(data.decode("utf-8", errors="replace"), roster, name)]
    if findings:
        run = candidate.run
        shown = ";".join(f"{f.path} 第 {f.line} 行有{f.kind}" for f in findings[:5])
        raise Refusal(Code.PERSONAL_DATA, f"{run['region_name']} {run['quarter']} 不能公布:要公布的文件含有个人信息({shown}"
                      + (f" 等 {len(findings)} 处" if len(findings) > 5 else "") + ")。",
                      "请改正输入(例如机构名称中不能写入个人姓名或电话)后重新运行;已公布的内容没有改动。")


def published_views(site_dir: Path, region: str, quarter: str) -> list[View]:
    """The versions of a quarter online now (the live one, then v<N>/ archives, newest first), as
    the disclosure audit reads them."""
    current = Store(site_dir).current()
    quarter_dir = current / region / quarter if current else None
    if quarter_dir is None or not (quarter_dir / MANIFEST).is_file():
        return []
    dirs = [quarter_dir, *sorted((d for d in quarter_dir.iterdir() if re.fullmatch(r"v\d+", d.name)),
                                 key=lambda d: -int(d.name[1:]))]
    views = []
    for directory in dirs:
        manifest = read_manifest(directory)
        if manifest is None:
            continue
        tables = {name: read_public_csv(directory / f"{name}.csv")
                  for name in ("satisfaction", "scores", "complaints", "contracts", "spending")
                  if (directory / f"{name}.csv").is_file()}
        views.append(View(tables, Rules.model_validate(manifest["rules"]), f"v{manifest['version']}"))
    return views


def audit_candidate(candidate: Candidate, earlier: list[View]) -> None:
    """Refuse to publish a quarter whose hidden small counts a reader could narrow to fewer than
    `MIN_VALUES` values, from it and the versions of it already online."""
    run = candidate.run
    try:
        report = audit([View(candidate.tables, candidate.rules, small=candidate.small_hidden), *earlier])
    except AuditGap as gap:
        raise Refusal(Code.DISCLOSURE_RISK, f"{run['region_name']} {run['quarter']} 的公开数据无法审计:{gap}。",
                      "请重新运行 scoring publish,由程序重新生成公开数据。") from gap
    if report.weak:
        raise Refusal(Code.DISCLOSURE_RISK,
                      f"{run['region_name']} {run['quarter']} 不能公布:" + ";".join(f.describe() for f in report.weak) + "。",
                      "请重新运行 scoring publish(公开数据层会按已公布的版本重新加强保护)。")


def publish_many(site_dir: Path, candidates: list[Candidate], revise: bool = False,
                 reason: str | None = None, now: str | None = None,
                 province: dict | None = None, site_url: str | None = None) -> list[Outcome]:
    """Publish several quarters in one atomic step (all or none). Quarters whose public files are
    unchanged are left alone; if all are (and the province record, if any, is too), nothing is
    written at all. `province` ({"slug", "name", "quarter", "counties"}) records which counties
    make up a province's quarter, for its overview page. `site_url` is the site's address
    (mkdocs.yml); a region's own publisher.site_url comes first. Holds the store's lock from
    reading what is published to the swap: concurrent publishes take turns."""
    store = Store(site_dir)
    try:
        with store.locked():
            return _publish_locked(store, candidates, revise, reason, now, province, site_url)
    except StoreBusy:
        raise _busy(store) from None


def _busy(store: Store) -> Refusal:
    return Refusal(Code.STORE_BUSY, f"另一个公布正在进行({store.site_dir}),等待 {LOCK_TIMEOUT:g} 秒后仍未结束。",
                   "请等它完成后再运行;如果确认没有其他公布在运行,请检查是否有卡住的 scoring 进程。")


def _publish_locked(store: Store, candidates: list[Candidate], revise: bool, reason: str | None,
                    now: str | None, province: dict | None, site_url: str | None) -> list[Outcome]:
    site_dir = store.site_dir
    current = store.current()
    # one moment for the whole publication: the files of a new quarter carry it, and so does its
    # manifest (a second clock reading could differ, and the next publish would see a change)
    moment = now or now_text()
    province_file = province_bytes = None
    if province is not None:
        province_file = f"{PROVINCES}/{province['slug']}/{province['quarter']}.json"
        province_bytes = json_bytes(province)
    plans = []
    contacts = {candidate.run["region"]: contact_bytes(candidate) for candidate in candidates}
    contacts_changed = {region for region, data in contacts.items()
                        if current is None or not (current / region / CONTACT_FILE).is_file()
                        or (current / region / CONTACT_FILE).read_bytes() != data}
    for candidate in candidates:
        run = candidate.run
        quarter_dir = (current / run["region"] / run["quarter"]) if current else None
        previous = read_manifest(quarter_dir) if quarter_dir else None
        settings = OcdsSettings.resolve(candidate.publisher, site_url)
        package = _read_json(quarter_dir / PACKAGE_FILE) if previous else None
        published_at = previous["published_at"] if previous else moment
        version = previous["version"] if previous else 1
        # the files as this version would be if the results had not changed: same version, same time
        files = public_files(candidate.tables, run, candidate.rules, published_at, version=version,
                             settings=settings, earlier=earlier_releases(package, version))
        outputs = {name: sha256(data) for name, data in files.items()}
        if previous and previous["outputs"] == outputs:
            plans.append((candidate, None, previous, None, Outcome(
                run["region"], run["quarter"], "unchanged", previous["version"],
                store.link / run["region"] / run["quarter"])))
            continue
        if previous and not revise:
            changed = "、".join(sorted(n for n in outputs if previous["outputs"].get(n) != outputs[n]))
            raise Refusal(
                Code.NEEDS_REVISION,
                f"{run['region_name']} {run['quarter']} 已于 {previous['published_at']} 公布,"
                f"新的结果与已公布的不同({changed})。公布的结果只能以更正的方式改动。",
                f"请核实后运行 scoring publish <区域目录> --quarter {run['quarter']} --revise "
                "--reason \"更正原因\"。 (Already published; changed results need --revise --reason.)")
        if previous and not (reason or "").strip():
            raise Refusal(Code.REVISION_WITHOUT_REASON, "更正必须说明原因。",
                          "请加 --reason \"更正原因\"。 (--revise needs --reason.)")
        audit_candidate(candidate, published_views(site_dir, run["region"], run["quarter"]))
        scan_candidate(candidate, files)
        plans.append((candidate, files, previous, (settings, package), None))
    province_same = province is None or (
        current is not None and (current / province_file).is_file()
        and (current / province_file).read_bytes() == province_bytes)
    if all(outcome is not None for *_, outcome in plans) and province_same and not contacts_changed:
        return [outcome for *_, outcome in plans]

    outcomes, records = [], {}
    with store.transaction() as generation:
        for candidate, files, previous, published, outcome in plans:
            if outcome is not None:
                outcomes.append(outcome)
                continue
            outcomes.append(_write_quarter(generation, candidate, files, previous, moment,
                                           (reason or "").strip(), *published))
            records[candidate.run["region"]] = (candidate.run, published[0])
        for region, (run, settings) in sorted(records.items()):
            write_file(generation / region / RECORD_FILE,
                       json_bytes(region_record(generation / region, run, settings)))
        for region in sorted(contacts_changed):
            write_file(generation / region / CONTACT_FILE, contacts[region])
        if province is not None:
            write_file(generation / province_file, province_bytes)
        render_pages(generation, regions={o.region for o in outcomes if o.status != "unchanged"}
                     | contacts_changed)
    for outcome in outcomes:
        outcome.path = store.link / outcome.region / outcome.quarter
    return outcomes


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def region_record(region_dir: Path, run: dict, settings: OcdsSettings) -> dict:
    """The region's OCDS record package, from the release package of every published quarter.
    Packages written before releases had their own ids per version (their `uri` is not an
    address) are left out: republish those quarters with --revise to include them."""
    packages = []
    for quarter_dir in sorted(p for p in region_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        package = _read_json(quarter_dir / PACKAGE_FILE)
        if package and str(package.get("uri", "")).startswith(("https://", "http://")):
            packages.append(package)
    return record_package(packages, run, settings)


def _write_quarter(generation: Path, candidate: Candidate, files: dict[str, bytes],
                   previous: dict | None, moment: str, reason: str, settings: OcdsSettings,
                   package: dict | None) -> Outcome:
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
        # the new version's own releases, after the releases of every earlier version
        files = public_files(candidate.tables, run, candidate.rules, moment, version=version,
                             settings=settings, earlier=earlier_releases(package, version))
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


# withdrawing ------------------------------------------------------------------------------------

REASON_LIMIT = 500  # characters: a reason is a sentence or two, shown on the notice


@dataclass
class Withdrawal:
    region: str
    quarter: str
    versions: list[int]  # the versions taken off the site
    withdrawn_at: str
    path: Path  # where the notice is (through the disclosures link)


def withdrawal_reason(reason: str | None, roster: Roster | None = None) -> str:
    """The reason as it will be published: plain words on one line, required, at most
    `REASON_LIMIT` characters, and no personal value (the roster's, or any valid ID number or
    phone number): a withdrawal must not publish what it takes back."""
    text = " ".join((reason or "").split())
    if not text:
        raise Refusal(Code.WITHDRAWAL_WITHOUT_REASON, "撤回必须说明原因,原因将公示在撤回公告中。",
                      "请加 --reason \"撤回原因\"(例如:机构名称中误含个人信息)。")
    if len(text) > REASON_LIMIT:
        raise Refusal(Code.BAD_ARGUMENTS, f"撤回原因有 {len(text)} 个字,太长了(最多 {REASON_LIMIT} 个字)。",
                      "请用一两句话写明撤回的原因。")
    findings = scan_text(text, roster or Roster(), "--reason")
    if findings:
        kinds = "、".join(sorted({f.kind for f in findings}))
        raise Refusal(Code.PERSONAL_DATA, f"撤回原因含有个人信息({kinds}),不能公示。",
                      "请只写明撤回的原因,不要写入姓名、身份证号、电话等个人信息;什么也没有撤回。")
    return text


def withdraw(site_dir: Path, region: str, quarter: str, reason: str | None,
             roster: Roster | None = None, now: str | None = None,
             site_url: str | None = None) -> Withdrawal:
    """Take a published quarter of a region off the site, whole: every version (the `v<N>/`
    archives too), its releases in the region's OCDS record package, its place in a province's
    overview, and every page made from it; leave in its place the notice `withdrawn.json` (the
    time, Beijing time; the reason; the versions withdrawn and when each was published) and its
    page. One atomic step under the store's lock, like a publish. `roster` holds the personal
    values the reason must not contain."""
    text = withdrawal_reason(reason, roster)
    store = Store(site_dir)
    try:
        with store.locked():
            return _withdraw_locked(store, region, str(quarter), text, now or now_text(), site_url)
    except StoreBusy:
        raise _busy(store) from None


def _withdraw_locked(store: Store, region: str, quarter: str, reason: str, moment: str,
                     site_url: str | None) -> Withdrawal:
    current = store.current()
    quarter_dir = current / region / quarter if current else None
    manifest = read_manifest(quarter_dir) if quarter_dir else None
    earlier = _read_json(quarter_dir / WITHDRAWN) if quarter_dir else None
    if manifest is None:
        when = f"(已于 {earlier['withdrawals'][-1]['withdrawn_at']} 撤回)" if earlier else ""
        raise Refusal(Code.NOT_PUBLISHED, f"{region} {quarter} 没有公布在 {store.link} 中{when},没有可以撤回的内容。",
                      "请检查区域目录(其文件夹名即公布的区域名)和季度;已公布的区域见 site/disclosures/。")
    versions = [{"version": entry["version"], "published_at": entry["published_at"]}
                for entry in manifest.get("history", [])]
    notice = {
        "region": region, "region_name": manifest["region_name"],
        "region_code": manifest["region_code"], "quarter": quarter,
        "withdrawals": [*(earlier or {}).get("withdrawals", []),
                        {"withdrawn_at": moment, "reason": reason, "versions": versions}],
    }
    with store.transaction() as generation:
        region_dir, place = generation / region, generation / region / quarter
        shutil.rmtree(place)  # unlinks: the live generation keeps its files until the swap
        write_file(place / WITHDRAWN, json_bytes(notice))
        record = _read_json(region_dir / RECORD_FILE)
        if any((q / PACKAGE_FILE).is_file() for q in region_dir.iterdir() if q.is_dir()):
            run = {"region": region, "region_name": manifest["region_name"],
                   "region_code": manifest["region_code"]}
            write_file(region_dir / RECORD_FILE, json_bytes(
                region_record(region_dir, run, OcdsSettings.of_record(record, region, site_url))))
        elif (region_dir / RECORD_FILE).is_file():
            (region_dir / RECORD_FILE).unlink()
        _leave_provinces(generation, region, quarter)
        render_pages(generation, regions={region})
    return Withdrawal(region, quarter, [v["version"] for v in versions], moment,
                      store.link / region / quarter)


def _leave_provinces(generation: Path, region: str, quarter: str) -> None:
    """Take a withdrawn county quarter out of its province's overview of that quarter."""
    for path in sorted((generation / PROVINCES).glob(f"*/{quarter}.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if region not in record.get("counties", []):
            continue
        counties = [c for c in record["counties"] if c != region]
        if counties:
            write_file(path, json_bytes({**record, "counties": counties}))
        else:
            path.unlink()


def describe_changes(old_dir: Path, new: dict[str, pd.DataFrame]) -> list[str]:
    """What a revision changes, per provider and per file, in plain Chinese (no personal data)."""
    lines = []
    old_scores = read_public_csv(old_dir / "scores.csv").set_index("provider_id")
    old_pay = read_public_csv(old_dir / "payments.csv").set_index("provider_id")
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
                parts.append(f"{label} {_yuan(before)} → {_yuan(after)}")
        if parts:
            lines.append(f"{name}:" + ";".join(parts))
    for name, table in new.items():
        path = old_dir / f"{name}.csv"
        if path.is_file() and path.read_bytes() != csv_bytes(table):
            lines.append(f"数据文件 {name}.csv 有改动")
    return lines


def _yuan(amount: str) -> str:
    """An amount as the revision notice says it: 16,759.58 元 (a dash when there is none)."""
    return f"{Decimal(amount):,.2f} 元" if amount not in ("", None) else "—"


def province_name(province_dir: Path) -> str:
    """The province's display name: `name` in its province.yaml, else the directory's name."""
    path = Path(province_dir) / "province.yaml"
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("name"):
            return str(data["name"])
    return Path(province_dir).name


def publish_province(province_dir: Path, quarter, layers: list[tuple[Path, Path, Path, Path]],
                     site_dir: Path, revise: bool = False, reason: str | None = None,
                     site_url: str | None = None) -> tuple[list[Outcome], list[str]]:
    """Publish every scored county of a province and its overview page in one atomic step.
    `layers` holds (county directory, validated, results and public layer) for each county; the
    public layers are written first. Counties that cannot be published (errors, not scored,
    stale) are returned with the reason."""
    candidates, skipped = [], []
    for region, validated_dir, results_dir, public_dir in layers:
        try:
            validated = read_validated(validated_dir, region)
            results = read_results(results_dir, validated)
            write_public(validated, results, public_dir,
                         published_views(site_dir, Path(region).name, str(quarter)))
            candidates.append(candidate_from_public(read_public(public_dir, results), Path(region)))
        except Refusal as refusal:
            skipped.append(f"{Path(region).name}({refusal.code}):{refusal}")
    if not candidates:
        raise Refusal(Code.NOTHING_TO_PUBLISH,
                      f"{Path(province_dir).name} {quarter} 没有可以公布的县:" + ";".join(skipped))
    province = {"slug": Path(province_dir).name, "name": province_name(province_dir),
                "quarter": str(quarter), "counties": sorted(c.run["region"] for c in candidates)}
    return publish_many(site_dir, candidates, revise=revise, reason=reason, province=province,
                        site_url=site_url), skipped
