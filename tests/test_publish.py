"""Publishing a quarter: the public record, byte-identical republishing, revisions, atomicity,
and refusals. The small region of tests/helpers.py, scored for real (validate + engine)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import helpers
import pandas as pd
import pytest
from typer.testing import CliRunner

from scoring.inputs.months import Quarter
from scoring.inputs.schema import personal_columns
from scoring.orchestration.cli import app
from scoring.outputs import store as store_module
from scoring.outputs.privacy import roster_from_data
from scoring.outputs.public import PUBLIC_TABLES
from scoring.outputs.publish import published_views, withdraw
from scoring.outputs.store import Store
from scoring.outputs.workbook import (
    PUBLISHED_LABEL,
    UNPUBLISHED_LABEL,
    published_status,
)
from scoring.refusal import Code, Refusal

Q = helpers.QUARTER


def score(region: Path, build: Path) -> Path:
    return helpers.score(region, build)


def snapshot(site: Path, store: bool = False) -> dict[str, str]:
    """sha256 of every file a reader of site/ sees (through the disclosures link) and the link;
    with `store`, also every file kept behind the link."""
    files = {}
    for directory, _, names in os.walk(site, followlinks=True):
        relative = Path(directory).relative_to(site)
        if not store and relative.parts[:1] == (".disclosures",):
            continue
        for name in names:
            path = Path(directory) / name
            files[(relative / name).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    files["@link"] = os.readlink(site / "disclosures") if (site / "disclosures").is_symlink() else ""
    return files


def files_under(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def published(tmp_path):
    region = helpers.write_region(tmp_path / "data" / "county")
    results = score(region, tmp_path / "build")
    site = tmp_path / "site"
    outcome = helpers.publish(region, results.parents[2], site)
    return region, results, site, outcome


def test_publish_writes_public_tables_and_a_manifest(published):
    region, results, site, outcome = published
    assert outcome.status == "published" and outcome.version == 1
    quarter_dir = site / "disclosures" / "county" / Q
    manifest = json.loads((quarter_dir / "manifest.json").read_text(encoding="utf-8"))
    run = json.loads((results / "run.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] == run["inputs"] and len(manifest["inputs"]) == 10  # region.yaml + 9 files
    assert manifest["rules_fingerprint"] == run["rules_fingerprint"]
    assert manifest["code_version"] and manifest["published_at"]
    # workbook.published_status reads "results": the hashes of build/results' tables
    assert manifest["results"]["payments.csv"] == hashlib.sha256(
        (results / "payments.csv").read_bytes()).hexdigest()
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((quarter_dir / name).read_bytes()).hexdigest() == digest
    assert set(manifest["outputs"]) == {*(f"{n}.csv" for n in PUBLIC_TABLES), "ocds.json",
                                        "datapackage.json"}
    assert published_status(site, "county", Quarter.parse(Q), helpers.sha256_of(results / "payments.csv")) == PUBLISHED_LABEL
    assert not list(quarter_dir.glob("trace*"))


def test_public_tables_carry_no_personal_column_and_suppress_small_counts(published):
    _, _, site, _ = published
    quarter_dir = site / "disclosures" / "county" / Q
    personal = {c for columns in personal_columns().values() for c in columns}
    for name in PUBLIC_TABLES:
        table = pd.read_csv(quarter_dir / f"{name}.csv", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
        assert not personal & set(table.columns) - {"name", "category", "township"}, name
        assert list(table.columns) == list(PUBLIC_TABLES[name]["columns"])
    satisfaction = pd.read_csv(quarter_dir / "satisfaction.csv", dtype=str, keep_default_na=False,
                               encoding="utf-8-sig").set_index("provider_id")
    # 6 surveys in all (helpers.py): every provider has fewer than 5, so its counts are hidden and
    # its rate withheld; the region's total of 6 stays, but its answer cells are small.
    for pid in ("P001", "P002"):
        assert satisfaction.at[pid, "surveys"] in ("<5", "x")
        assert satisfaction.at[pid, "rate"] == ""
    answers = satisfaction.loc[:, "n1":"n5"]
    assert not answers.isin(["1", "2", "3", "4"]).any().any()
    scores = pd.read_csv(quarter_dir / "scores.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert (scores["satisfaction_component"] == "").all()


def test_ocds_package_and_datapackage_describe_the_files(published):
    _, _, site, _ = published
    quarter_dir = site / "disclosures" / "county" / Q
    package = json.loads((quarter_dir / "ocds.json").read_text(encoding="utf-8"))
    assert package["version"] == "1.1" and len(package["releases"]) == 2
    release = package["releases"][0]
    assert release["ocid"].startswith("ocds-") and release["contracts"][0]["value"]["currency"] == "CNY"
    datapackage = json.loads((quarter_dir / "datapackage.json").read_text(encoding="utf-8"))
    for resource in datapackage["resources"]:
        data = (quarter_dir / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        header = pd.read_csv(quarter_dir / resource["path"], nrows=0, encoding="utf-8-sig").columns
        assert [f["name"] for f in resource["schema"]["fields"]] == list(header)


def test_republishing_identical_results_changes_no_byte(published):
    region, results, site, _ = published
    before = snapshot(site, store=True)
    time.sleep(1.1)  # a new publication time would show
    score(region, results.parents[2])  # score again: same inputs, same results
    outcome = helpers.publish(region, results.parents[2], site)
    assert outcome.status == "unchanged" and outcome.version == 1
    assert snapshot(site, store=True) == before


def change_the_results(region: Path, results_root: Path) -> Path:
    """A region override of the payout ratios: same inputs otherwise, different payments."""
    with open(region / "region.yaml", "a", encoding="utf-8") as handle:
        handle.write("rules:\n  payout_ratios: {优秀: 1.0, 良好: 0.9, 合格: 0.8, 不合格: 0.5}\n")
    return score(region, results_root)


def test_changed_results_need_revise_and_a_reason(published):
    region, results, site, _ = published
    before = snapshot(site)
    change_the_results(region, results.parents[2])
    with helpers.refused(Code.NEEDS_REVISION):
        helpers.publish(region, results.parents[2], site)
    with helpers.refused(Code.REVISION_WITHOUT_REASON):
        helpers.publish(region, results.parents[2], site, revise=True, reason="  ")
    assert snapshot(site) == before


def test_a_revision_keeps_the_old_version_and_shows_the_notice(published):
    region, results, site, _ = published
    quarter_dir = site / "disclosures" / "county" / Q
    old = files_under(quarter_dir)
    change_the_results(region, results.parents[2])
    outcome = helpers.publish(region, results.parents[2], site, revise=True,
                              reason="拨付比例按财政局通知调整")
    assert outcome.status == "revised" and outcome.version == 2
    archived = files_under(quarter_dir / "v1")
    # the data files and the manifest of version 1 are kept byte for byte at their own address
    for name in (*(f"{n}.csv" for n in PUBLIC_TABLES), "ocds.json", "datapackage.json", "manifest.json"):
        assert archived[name] == old[name]
    manifest = json.loads((quarter_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 2 and [h["version"] for h in manifest["history"]] == [1, 2]
    revision = manifest["history"][-1]
    assert revision["reason"] == "拨付比例按财政局通知调整" and revision["changes"]
    page = (quarter_dir / "index.md").read_text(encoding="utf-8")
    assert "更正公告" in page and "拨付比例按财政局通知调整" in page and "(v1/index.md)" in page
    assert "旧版本" in (quarter_dir / "v1" / "index.md").read_text(encoding="utf-8")
    corrections = (site / "disclosures" / "corrections.md").read_text(encoding="utf-8")
    assert "拨付比例按财政局通知调整" in corrections and "county/2026Q2/v1/index.md" in corrections
    # the finance workbook sees the new payments as the published ones
    assert published_status(site, "county", Quarter.parse(Q), helpers.sha256_of(results / "payments.csv")) == PUBLISHED_LABEL


def test_a_publish_that_fails_halfway_leaves_the_previous_state(published, monkeypatch):
    region, results, site, _ = published
    before = snapshot(site, store=True)
    change_the_results(region, results.parents[2])

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process died just before the swap

    monkeypatch.setattr(store_module, "_swap", killed)
    with pytest.raises(KeyboardInterrupt):
        helpers.publish(region, results.parents[2], site, revise=True, reason="测试")
    assert snapshot(site, store=True) == before  # and nothing left behind


@pytest.mark.slow
def test_a_publish_killed_with_sigkill_leaves_the_previous_state_readable(published):
    region, results, site, _ = published
    before = snapshot(site)
    change_the_results(region, results.parents[2])
    # The child publishes with a swap that never comes (a stalled disk), and is killed while
    # its new generation is half written or complete but not yet in place.
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import helpers
        from scoring.outputs import store
        store._swap = lambda *a, **k: time.sleep(600)
        helpers.publish(Path({str(region)!r}), Path({str(results.parents[2])!r}), Path({str(site)!r}),
                        revise=True, reason="测试")
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    store = site / ".disclosures"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(store.glob("gen-*"))) < 2:
        time.sleep(0.05)
    time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert len(list(store.glob("gen-*"))) == 2, "the child got as far as a second generation"
    assert snapshot(site) == before  # the link still points at the intact previous generation
    # the next publish cleans up and succeeds
    outcome = helpers.publish(region, results.parents[2], site, revise=True, reason="测试")
    assert outcome.version == 2 and len(list(store.glob("gen-*"))) == 1


def test_the_store_swaps_a_link(published):
    _, _, site, _ = published
    link = site / "disclosures"
    assert link.is_symlink() and Store(site).current() == link.resolve()


def test_publish_refuses_a_quarter_that_was_not_scored(tmp_path):
    region = helpers.write_region(tmp_path / "county")
    helpers.stages.validate_stage(region, Q, helpers.workspace(tmp_path / "build").validated("county", Q))
    with helpers.refused(Code.NOT_SCORED):
        helpers.publish(region, tmp_path / "build", tmp_path / "site")
    assert not (tmp_path / "site" / "disclosures").exists()


def test_cli_publish_refuses_a_quarter_with_errors_in_a_sentence(tmp_path, monkeypatch):
    tables = helpers.sample_tables()
    tables["services"].loc[0, "provider_id"] = "NOPE"  # a broken reference: an error
    helpers.write_region(tmp_path / "data" / "county", tables)
    monkeypatch.chdir(tmp_path)
    unvalidated = CliRunner().invoke(app, ["publish", "data/county", "--quarter", Q])
    assert unvalidated.exit_code == 1 and f"({Code.NOT_VALIDATED})" in unvalidated.output
    assert CliRunner().invoke(app, ["validate", "data/county", "--quarter", Q]).exit_code == 1
    result = CliRunner().invoke(app, ["publish", "data/county", "--quarter", Q])
    assert result.exit_code == 1
    assert f"({Code.INPUTS_HAVE_ERRORS})" in result.output and "Traceback" not in result.output
    assert "validation.csv" in result.output
    assert not (tmp_path / "site" / "disclosures").exists()


def test_cli_publish_then_republish(tmp_path, monkeypatch):
    region = helpers.write_region(tmp_path / "data" / "county")
    monkeypatch.chdir(tmp_path)
    helpers.score(region, tmp_path / "build")
    first = CliRunner().invoke(app, ["publish", "data/county", "--quarter", Q])
    assert first.exit_code == 0, first.output
    assert "已公布" in first.output
    again = CliRunner().invoke(app, ["publish", "data/county", "--quarter", Q])
    assert again.exit_code == 0 and "未作改动" in again.output
    status = published_status(Path("site"), "county", Quarter.parse(Q),
                              helpers.sha256_of(Path("build/results/county") / Q / "payments.csv"))
    assert status == PUBLISHED_LABEL != UNPUBLISHED_LABEL


def test_four_publishes_at_once_are_all_published_and_nothing_is_lost(tmp_path):
    # Four counties scored, then published into one fresh store by four processes at once; the
    # first holds the store for a while (an injected pause before its swap). They take turns.
    build, site = tmp_path / "build", tmp_path / "site"
    regions = []
    for i in range(4):
        yaml = helpers.REGION_YAML.replace("测试县", f"测试{i}县")
        region = helpers.write_region(tmp_path / "data" / f"county{i}", region_yaml=yaml)
        helpers.score(region, build)
        regions.append(region)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import helpers
        from scoring.outputs import store
        if sys.argv[2] == "pause":
            swap = store._swap
            def slow(*args):
                time.sleep(2)
                swap(*args)
            store._swap = slow
        outcome = helpers.publish(Path(sys.argv[1]), Path({str(build)!r}), Path({str(site)!r}))
        print(outcome.status)
    """)
    children = [subprocess.Popen([sys.executable, "-c", script, str(region), "pause" if i == 0 else ""],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i, region in enumerate(regions)]
    done = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, done):
        assert child.returncode == 0 and out.strip() == "published", err[-2000:]
    live = site / "disclosures"
    for i in range(4):
        assert (live / f"county{i}" / Q / "manifest.json").is_file()
    assert len(list((site / ".disclosures").glob("gen-*"))) == 1  # the others were cleaned up


def test_a_publish_waits_for_the_lock_then_refuses_clearly(tmp_path, monkeypatch):
    region = helpers.write_region(tmp_path / "data" / "county")
    helpers.score(region, tmp_path / "build")
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.3)
    monkeypatch.setattr("scoring.outputs.publish.LOCK_TIMEOUT", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, time
        from pathlib import Path
        Path({str(tmp_path / "site")!r}).mkdir(parents=True, exist_ok=True)
        with open({str(tmp_path / "site" / store_module.LOCK)!r}, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            print("held", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with helpers.refused(Code.STORE_BUSY):
            helpers.publish(region, tmp_path / "build", tmp_path / "site")
    finally:
        holder.kill()
        holder.wait()
    assert helpers.publish(region, tmp_path / "build", tmp_path / "site").status == "published"


def test_personal_data_is_refused_before_anything_is_published(tmp_path):
    # A clerk typed a person's ID number and phone into a provider's name: the scan inside
    # scoring publish finds them in the files it is about to write, and nothing reaches site/.
    tables = helpers.sample_tables()
    person_id, phone = helpers.id_number("360823", "19450317", 27), "13907961234"
    tables["providers"].loc[0, "name"] = f"峡江县阳光社工服务中心 联系人 {person_id} {phone}"
    region = helpers.write_region(tmp_path / "data" / "county", tables)
    helpers.score(region, tmp_path / "build")
    with helpers.refused(Code.PERSONAL_DATA) as refusal:
        helpers.publish(region, tmp_path / "build", tmp_path / "site")
    assert not (tmp_path / "site" / "disclosures").exists()
    assert not list((tmp_path / "site").glob(".disclosures/gen-*"))


# withdrawing a quarter ---------------------------------------------------------------------------

WITHDRAWAL_REASON = "机构名称中误含个人信息,整季撤回"


def revised(published) -> tuple[Path, Path, Path]:
    """The published quarter revised once: version 2 live, version 1 kept in v1/."""
    region, results, site, _ = published
    change_the_results(region, results.parents[2])
    assert helpers.publish(region, results.parents[2], site, revise=True, reason="测试").version == 2
    return region, results, site


def test_withdraw_takes_every_version_off_and_leaves_a_dated_notice(published):
    region, results, site = revised(published)
    live = site / "disclosures"
    assert (live / "county" / Q / "v1" / "scores.csv").is_file() and (live / "county" / "ocds-record.json").is_file()
    done = withdraw(site, "county", Q, WITHDRAWAL_REASON, now="2026-12-01T09:30:00+08:00")
    assert done.versions == [1, 2] and done.path == live / "county" / Q
    # nothing of the quarter is left but the notice: no version, archive, manifest, OCDS file
    assert sorted(p.name for p in (live / "county" / Q).iterdir()) == ["index.md", "withdrawn.json"]
    assert not (live / "county" / "ocds-record.json").exists()  # its only quarter is gone
    assert not (live / "county" / "providers").exists() and not (live / "county" / "method.md").exists()
    notice = json.loads((live / "county" / Q / "withdrawn.json").read_text(encoding="utf-8"))
    assert notice["region"] == "county" and notice["quarter"] == Q and notice["region_name"] == "测试县"
    [entry] = notice["withdrawals"]
    assert entry["withdrawn_at"] == "2026-12-01T09:30:00+08:00" and entry["reason"] == WITHDRAWAL_REASON
    assert [v["version"] for v in entry["versions"]] == [1, 2]
    # the notice is on the quarter's address, the region's page and the corrections page
    for page in (live / "county" / Q / "index.md", live / "county" / "index.md", live / "corrections.md"):
        text = page.read_text(encoding="utf-8")
        assert "撤回" in text and WITHDRAWAL_REASON in text and "2026年12月1日 09:30" in text, page
    # and no withdrawn data anywhere: no provider's name, no contract
    names = helpers.sample_tables()["providers"]["name"]
    for path in live.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not any(name in text for name in names) and "HT-2026-001" not in text, path
    assert published_views(site, "county", Q) == []
    # the finance workbook no longer calls the payments published
    assert published_status(site, "county", Quarter.parse(Q), helpers.sha256_of(results / "payments.csv")) == UNPUBLISHED_LABEL


def test_withdraw_keeps_the_other_quarters_and_their_record(sample_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(sample_site, site, symlinks=True)
    live = site / "disclosures"
    withdrawn = helpers.SAMPLE_QUARTERS[1]
    withdraw(site, "xiajiang", withdrawn, WITHDRAWAL_REASON)
    record = json.loads((live / "xiajiang" / "ocds-record.json").read_text(encoding="utf-8"))
    assert not any(f"/{withdrawn}/" in uri for uri in record["packages"])
    assert len(record["packages"]) == len(helpers.SAMPLE_QUARTERS) - 1
    assert not any(f"-{withdrawn}-" in r["url"] for rec in record["records"] for r in rec["releases"])
    for quarter in helpers.SAMPLE_QUARTERS:
        assert (live / "xiajiang" / quarter / "manifest.json").is_file() == (quarter != withdrawn)
    region_page = (live / "xiajiang" / "index.md").read_text(encoding="utf-8")
    assert WITHDRAWAL_REASON in region_page and "各季度公示" in region_page
    assert f"({withdrawn}/index.html)" not in region_page  # no longer listed among the published
    assert (live / "huining" / withdrawn / "manifest.json").is_file()  # another region: untouched


def test_a_withdrawn_quarter_can_be_published_again_and_the_notice_stays(published):
    region, results, site, _ = published
    withdraw(site, "county", Q, WITHDRAWAL_REASON)
    again = helpers.publish(region, results.parents[2], site)
    assert again.status == "published" and again.version == 1
    quarter = site / "disclosures" / "county" / Q
    assert (quarter / "withdrawn.json").is_file() and (quarter / "manifest.json").is_file()
    page = (quarter / "index.md").read_text(encoding="utf-8")
    assert "撤回公告" in page and WITHDRAWAL_REASON in page and "综合得分与等级" in page
    assert "已重新公布" in (site / "disclosures" / "county" / "index.md").read_text(encoding="utf-8")
    # withdrawn again: both withdrawals are on record
    withdraw(site, "county", Q, "再次撤回")
    notice = json.loads((quarter / "withdrawn.json").read_text(encoding="utf-8"))
    assert [w["reason"] for w in notice["withdrawals"]] == [WITHDRAWAL_REASON, "再次撤回"]


def test_withdraw_refuses_without_a_reason_a_reason_with_personal_data_and_what_is_not_online(published):
    region, _, site, _ = published
    before = snapshot(site, store=True)
    with helpers.refused(Code.WITHDRAWAL_WITHOUT_REASON):
        withdraw(site, "county", Q, "  \n ")
    with helpers.refused(Code.PERSONAL_DATA):
        withdraw(site, "county", Q, "联系电话 13907961234 的人要求撤回")
    roster = roster_from_data([region])
    person = helpers.sample_tables()["beneficiaries"].loc[0, "id_number"]
    with helpers.refused(Code.PERSONAL_DATA):
        withdraw(site, "county", Q, f"对象 {person} 的信息被公布", roster)
    with helpers.refused(Code.NOT_PUBLISHED):
        withdraw(site, "county", "2026Q1", WITHDRAWAL_REASON)
    with helpers.refused(Code.NOT_PUBLISHED):
        withdraw(site, "elsewhere", Q, WITHDRAWAL_REASON)
    assert snapshot(site, store=True) == before
    withdraw(site, "county", Q, WITHDRAWAL_REASON)
    with helpers.refused(Code.NOT_PUBLISHED):  # already withdrawn
        withdraw(site, "county", Q, WITHDRAWAL_REASON)


def test_withdraw_waits_for_the_store_lock(published, monkeypatch):
    _, _, site, _ = published
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.2)
    monkeypatch.setattr("scoring.outputs.publish.LOCK_TIMEOUT", 0.2)
    with Store(site).locked():
        with helpers.refused(Code.STORE_BUSY):
            withdraw(site, "county", Q, WITHDRAWAL_REASON)
    assert (site / "disclosures" / "county" / Q / "manifest.json").is_file()


def test_cli_withdraw(tmp_path, monkeypatch):
    region = helpers.write_region(tmp_path / "data" / "county")
    monkeypatch.chdir(tmp_path)
    helpers.score(region, tmp_path / "build")
    assert CliRunner().invoke(app, ["publish", "data/county", "--quarter", Q]).exit_code == 0
    empty = CliRunner().invoke(app, ["withdraw", "data/county", "--quarter", Q, "--reason", " "])
    assert empty.exit_code == 1 and f"({Code.WITHDRAWAL_WITHOUT_REASON})" in empty.output
    leaky = CliRunner().invoke(app, ["withdraw", "data/county", "--quarter", Q, "--reason",
                                     f"误公布了 {helpers.sample_tables()['beneficiaries'].loc[1, 'phone']}"])
    assert leaky.exit_code == 1 and f"({Code.PERSONAL_DATA})" in leaky.output
    done = CliRunner().invoke(app, ["withdraw", "data/county", "--quarter", Q, "--reason", WITHDRAWAL_REASON])
    assert done.exit_code == 0, done.output
    assert "已撤回" in done.output and "scoring site" in done.output
    assert not (tmp_path / "site" / "disclosures" / "county" / Q / "manifest.json").exists()
    again = CliRunner().invoke(app, ["withdraw", "data/county", "--quarter", Q, "--reason", WITHDRAWAL_REASON])
    assert again.exit_code == 1 and f"({Code.NOT_PUBLISHED})" in again.output and "Traceback" not in again.output


def test_a_region_without_contact_settings_is_not_published(tmp_path):
    region = helpers.write_region(tmp_path / "data" / "county", region_yaml="name: 测试县\ncode: '360823'\n")
    build, site = tmp_path / "build", tmp_path / "site"
    helpers.score(region, build)
    with pytest.raises(Refusal) as refused:
        helpers.publish(region, build, site)
    assert refused.value.code is Code.MISSING_CONTACT
    assert not (site / "disclosures").exists() or not any((site / "disclosures").iterdir())


def test_an_upheld_objection_leads_to_a_revision_that_links_back_to_it(published):
    region, results, site, _ = published
    quarter_dir = site / "disclosures" / "county" / Q
    page = (quarter_dir / "index.md").read_text(encoding="utf-8")
    # version 1: the 公示期 (7 working days from the day of publication) and the objection log
    assert "公示期与异议" in page and "7 个工作日" in page and "YY001" in page and "不成立" in page
    assert "0796-5550123" in page  # the bureau's number, where to object
    objections = helpers.sample_tables()["objections"]
    objections.loc[1] = ["YY002", "2026-07-12", "P002", "抽查扣款", "扣款金额与通知不一致", "upheld",
                         "2026-07-16", "2", "异议人戊己", "13912340002"]
    helpers.write_table(helpers.file_path(region, "objections"), objections)
    score(region, results.parents[2])
    outcome = helpers.publish(region, results.parents[2], site, revise=True, reason="异议 YY002 成立,更正抽查扣款")
    assert outcome.version == 2
    page = (quarter_dir / "index.md").read_text(encoding="utf-8")
    assert "**起因**:异议 [YY002](#objections)(抽查扣款,成立)" in page
    assert "[第 2 版](index.md)" in page  # the log links the revision it led to
    corrections = (site / "disclosures" / "corrections.md").read_text(encoding="utf-8")
    assert "异议 [YY002](county/2026Q2/index.md#objections)" in corrections
    supervision = (site / "disclosures" / "supervision.md").read_text(encoding="utf-8")
    assert "测试县民政局" in supervision and "公示期截止" in supervision
    # the objectors' names and telephone never reach the store
    for path in (site / "disclosures").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "异议人丙丁" not in text and "异议人戊己" not in text, path
            assert "13912340002" not in text, path
