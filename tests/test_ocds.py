"""The OCDS packages: valid against the official 1.1.5 schemas with format checking, and true.

Every release package and record package the sample regions publish (with one real revision) is
validated with the vendored schemas (tests/schemas/ocds-1.1.5/). A planned payment is a contract
milestone, never a transaction; escort and care money has its own aggregate payee; each version
of a quarter's release has its own id and the package keeps the earlier ones.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import helpers
import pytest
from jsonschema import Draft4Validator

from scoring.inputs.rules import load_region_config
from scoring.outputs.formats import (
    DEFAULT_SITE_URL,
    RECORD_FILE,
    UNREGISTERED_OCID_PREFIX,
    OcdsSettings,
    PaidAmount,
    ocds_package,
    read_public_csv,
    release_schema,
)

Q = helpers.QUARTER
ROOT = Path(__file__).resolve().parents[1]
SHA256 = {  # tests/schemas/ocds-1.1.5/README.md
    "release-schema.json": "fac192e1ccfb061f5164bdb2d64c29e517c0f81661996b97de40cebc55a2c1bc",
    "release-package-schema.json": "06577cec73cc16eca0cac331a7ea9ee9cd684b21c55f5f0711f7442623153698",
    "record-package-schema.json": "ba7bc9acfc307b6f311a54a62f686f1d9e199e61712314f995a090b660168da1",
    "versioned-release-validation-schema.json": "7b0271756c954eba16fdd1b364811aaf5381d23d057400b906a2aa978dc5cf84",
}
AGGREGATE_PAYEES = {"住院陪护人员(汇总)", "护理补贴领取人(汇总)"}


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def packages_under(site: Path) -> list[Path]:
    """Every release package published, current versions and archived ones."""
    return sorted((site / "disclosures").glob("*/*/ocds.json")) + sorted(
        (site / "disclosures").glob("*/*/v*/ocds.json"))


@pytest.fixture(scope="module")
def release_package_validator():
    return helpers.ocds_validator("release-package-schema")


@pytest.fixture(scope="module")
def record_package_validator():
    return helpers.ocds_validator("record-package-schema")


# the schemas and the checker -------------------------------------------------------------------


def test_the_vendored_schemas_are_the_official_files():
    for name, digest in SHA256.items():
        assert hashlib.sha256((helpers.OCDS_SCHEMAS / name).read_bytes()).hexdigest() == digest, name
    shipped = ROOT / "src/scoring/outputs/schemas/ocds-1.1.5-release-schema.json"
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == SHA256["release-schema.json"]
    assert release_schema()["id"] == "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def test_the_format_checker_really_checks_uris_and_times():
    """Without rfc3987 and rfc3339-validator, jsonschema silently skips these formats."""
    checker = Draft4Validator.FORMAT_CHECKER
    assert {"uri", "date-time"} <= set(checker.checkers)
    assert not checker.conforms("ocds.json", "uri")
    assert not checker.conforms("2026-06-30", "date-time")
    validator = helpers.ocds_validator("release-package-schema")
    assert any("uri" in e for e in helpers.schema_errors(validator, {
        "uri": "ocds.json", "version": "1.1", "publishedDate": "2026-06-30T00:00:00+08:00",
        "publisher": {"name": "x"}, "releases": []}))


# every package the sample regions publish ------------------------------------------------------


def test_every_sample_release_package_passes_the_official_schema(sample_site, release_package_validator):
    paths = packages_under(sample_site)
    assert len(paths) == 2 * 4 + 1  # 8 quarters, and version 1 of the revised one
    for path in paths:
        assert helpers.schema_errors(release_package_validator, load(path)) == [], path


def test_every_sample_record_package_passes_the_official_schema(sample_site, record_package_validator):
    for region in helpers.SAMPLE_REGIONS:
        record = load(sample_site / "disclosures" / region / RECORD_FILE)
        assert helpers.schema_errors(record_package_validator, record) == [], region
        assert record["uri"] == f"{DEFAULT_SITE_URL}disclosures/{region}/{RECORD_FILE}"
        contracts = read_public_csv(sample_site / "disclosures" / region / "2026Q3" / "contracts.csv")
        assert len(record["packages"]) == 4 and len(record["records"]) == len(contracts) >= 2


def test_the_record_package_compiles_every_quarter_and_version(sample_site):
    record = load(sample_site / "disclosures" / "xiajiang" / RECORD_FILE)
    package = load(sample_site / "disclosures" / "xiajiang" / "2026Q3" / "ocds.json")
    for entry in record["records"]:
        urls = [r["url"] for r in entry["releases"]]
        assert len(urls) == len(set(urls)) == 5  # 4 quarters, the last in 2 versions
        assert all(u.startswith(DEFAULT_SITE_URL) for u in urls)
        compiled = entry["compiledRelease"]
        assert compiled["tag"] == ["compiled"] and compiled["ocid"] == entry["ocid"]
        milestones = compiled["contracts"][0]["milestones"]
        assert [m["id"] for m in milestones if m["code"] == "serviceFee"] == [
            f"{q}-service-fee" for q in helpers.SAMPLE_QUARTERS]
        # the compiled release holds the revised amount, not version 1's
        latest = next(r for r in package["releases"]
                      if r["ocid"] == entry["ocid"] and r["id"].endswith("-v2"))
        fee = next(m for m in latest["contracts"][0]["milestones"] if m["code"] == "serviceFee")
        assert fee in milestones


# truth ------------------------------------------------------------------------------------------


def test_planned_payments_are_milestones_and_only_recorded_payments_are_transactions(sample_site):
    checked = set()
    for path in packages_under(sample_site):
        quarter_dir = path.parent
        paid = (read_public_csv(quarter_dir / "paid.csv").set_index("contract_id")
                if (quarter_dir / "paid.csv").is_file() else None)
        quarter = quarter_dir.name if quarter_dir.name[:1] != "v" else quarter_dir.parent.name
        for release in load(path)["releases"]:
            if not release["id"].startswith(f"{release['ocid']}-{quarter}-"):
                continue  # an earlier version's release, checked in its own directory
            contract = release["contracts"][0]
            milestones = contract["milestones"]
            assert milestones and all(m["type"] == "payment" and m["dueDate"]
                                      and m["value"]["currency"] == "CNY" for m in milestones)
            row = paid.loc[contract["id"]] if paid is not None else None
            if row is None or row["vouchers"] == "0":  # nothing paid: a plan, and said to be one
                assert "implementation" not in contract and "implementation" not in release["tag"]
                assert all(m["status"] == "scheduled" and "尚未支付" in m["description"] for m in milestones)
                checked.add("planned")
            else:  # what finance recorded, to the fen, on the date it recorded
                (transaction,) = contract["implementation"]["transactions"]
                assert transaction["value"]["amount"] == float(row["paid"])
                assert transaction["date"].startswith(row["last_paid_on"])
                assert "implementation" in release["tag"]
                expected = {"已拨付": "met", "部分拨付": "partiallyMet", "多拨付": "met"}[row["status"]]
                assert all(m["status"] == expected for m in milestones)
                checked.add(row["status"])
    assert checked >= {"planned", "已拨付", "部分拨付"}


def test_escort_and_care_money_goes_to_aggregate_payees_not_the_provider(sample_site):
    package = load(sample_site / "disclosures" / "huining" / "2026Q2" / "ocds.json")
    payments = read_public_csv(sample_site / "disclosures" / "huining" / "2026Q2" / "payments.csv")
    for release in package["releases"]:
        parties = {p["id"]: p for p in release["parties"]}
        supplier = next(p for p in parties.values() if "supplier" in p["roles"])
        payees = {p["name"] for p in parties.values() if p["roles"] == ["payee"]}
        assert payees == AGGREGATE_PAYEES
        milestones = {m["code"]: m for m in release["contracts"][0]["milestones"]}
        assert set(milestones) == {"serviceFee", "escortSubsidy", "careAllowance"}
        row = payments[payments["contract_id"] == release["contracts"][0]["id"]].iloc[0]
        assert Decimal(str(milestones["serviceFee"]["value"]["amount"])) == Decimal(row["release"])
        assert Decimal(str(milestones["escortSubsidy"]["value"]["amount"])) == Decimal(row["escort_subsidy"])
        assert Decimal(str(milestones["careAllowance"]["value"]["amount"])) == Decimal(row["care_allowance"])
        for code in ("escortSubsidy", "careAllowance"):
            assert supplier["name"] not in milestones[code]["description"]
            assert any(name in milestones[code]["description"] for name in AGGREGATE_PAYEES)
    # xiajiang's rules pay neither: no aggregate payee, no such milestone
    for release in load(sample_site / "disclosures" / "xiajiang" / "2026Q2" / "ocds.json")["releases"]:
        assert [m["code"] for m in release["contracts"][0]["milestones"]] == ["serviceFee"]
        assert len(release["parties"]) == 2


def test_parties_carry_identifiers(sample_site):
    providers = {row["provider_id"]: row["credit_code"]
                 for row in read_public_csv(sample_site / "disclosures/huining/2026Q2/contracts.csv").to_dict("records")}
    profiles = {row["provider_id"]: row for row in
                read_public_csv(sample_site / "disclosures/huining/2026Q2/profiles.csv").to_dict("records")}
    for release in load(sample_site / "disclosures" / "huining" / "2026Q2" / "ocds.json")["releases"]:
        parties = {tuple(p["roles"]): p for p in release["parties"]}
        assert parties[("buyer", "payer")]["identifier"] == {
            "scheme": "CN-ADMIN-DIVISION", "id": "620422", "legalName": "会宁县民政局"}
        supplier = parties[("supplier", "payee")]
        assert supplier["identifier"]["scheme"] == "CN-USCI"  # org-id.guide's code for 统一社会信用代码
        assert supplier["identifier"]["id"] == providers[supplier["id"].removeprefix("620422-")]
        # the provider's public office and number, as its profile page gives them
        profile = profiles[supplier["id"].removeprefix("620422-")]
        assert supplier["address"] == {"streetAddress": profile["address"]}
        assert supplier["contactPoint"] == {"telephone": profile["telephone"]}
        assert release["ocid"].startswith(f"{UNREGISTERED_OCID_PREFIX}-620422-")


# versions ---------------------------------------------------------------------------------------


def test_a_revision_has_its_own_release_ids_and_keeps_the_history(sample_site):
    quarter_dir = sample_site / "disclosures" / "xiajiang" / "2026Q3"
    first, current = load(quarter_dir / "v1" / "ocds.json"), load(quarter_dir / "ocds.json")
    ids = [r["id"] for r in current["releases"]]
    n = len(first["releases"])
    assert n >= 2 and len(ids) == len(set(ids)) == 2 * n  # every contract, in 2 versions
    assert [i.rsplit("-", 1)[1] for i in ids] == ["v1"] * n + ["v2"] * n
    # version 1's releases are in the new package exactly as they were published
    assert current["releases"][:n] == first["releases"]
    assert all(r["tag"] == ["contractUpdate"] for r in current["releases"][n:])
    assert current["releases"][n]["date"] > first["releases"][0]["date"]
    amounts = [next(m["value"]["amount"] for m in r["contracts"][0]["milestones"]) for r in current["releases"]]
    assert amounts[:n] != amounts[n:]  # the revision changed the planned payments


def test_release_ids_are_unique_within_each_ocid_across_all_publications(sample_site):
    for region in helpers.SAMPLE_REGIONS:
        record = load(sample_site / "disclosures" / region / RECORD_FILE)
        for entry in record["records"]:
            ids = [r["url"].rsplit("#", 1)[1] for r in entry["releases"]]
            assert not [i for i, n in Counter(ids).items() if n > 1], entry["ocid"]
    # and no release id ever names two different releases in any published file
    seen: dict[str, dict] = {}
    for path in packages_under(sample_site):
        for release in load(path)["releases"]:
            assert seen.setdefault(release["id"], release) == release, release["id"]


def published_then_revised(tmp_path):
    """The test region published, then revised with other payout ratios (version 2)."""
    region = helpers.write_region(tmp_path / "data" / "county")
    build, site = tmp_path / "build", tmp_path / "site"
    helpers.score(region, build)
    helpers.publish(region, build, site)
    helpers.score(region, build, rules=helpers.OTHER_PAYOUT_RATIOS)
    helpers.publish(region, build, site, revise=True, reason="拨付比例调整")
    return region, build, site


def test_republishing_a_revised_quarter_unchanged_keeps_its_version(tmp_path):
    """The history is rebuilt the same way when nothing changed: version 2 stays version 2."""
    region, build, site = published_then_revised(tmp_path)
    before = (site / "disclosures" / "county" / Q / "ocds.json").read_bytes()
    again = helpers.publish(region, build, site)
    assert again.status == "unchanged" and again.version == 2
    assert (site / "disclosures" / "county" / Q / "ocds.json").read_bytes() == before


def test_a_revision_through_publish_passes_the_schemas(tmp_path, release_package_validator,
                                                        record_package_validator):
    region, build, site = published_then_revised(tmp_path)
    helpers.score(region, build)
    outcome = helpers.publish(region, build, site, revise=True, reason="恢复原拨付比例")
    assert outcome.version == 3
    package = load(site / "disclosures" / "county" / Q / "ocds.json")
    assert [r["id"].rsplit("-", 1)[1] for r in package["releases"]] == ["v1", "v1", "v2", "v2", "v3", "v3"]
    assert helpers.schema_errors(release_package_validator, package) == []
    record = load(site / "disclosures" / "county" / RECORD_FILE)
    assert helpers.schema_errors(record_package_validator, record) == []
    assert [len(r["releases"]) for r in record["records"]] == [3, 3]


# configuration ----------------------------------------------------------------------------------


def test_the_ocid_prefix_and_site_address_come_from_the_region(tmp_path, release_package_validator):
    yaml = (helpers.REGION_YAML + "publisher:\n  site_url: https://mzj.xiajiang.gov.cn/xxgk\n"
            "  ocid_prefix: ocds-a1b2c3\n")
    region = helpers.write_region(tmp_path / "data" / "county", region_yaml=yaml)
    build, site = tmp_path / "build", tmp_path / "site"
    helpers.score(region, build)
    helpers.publish(region, build, site, site_url="https://site.example.com/")
    package = load(site / "disclosures" / "county" / Q / "ocds.json")
    assert package["uri"] == f"https://mzj.xiajiang.gov.cn/xxgk/disclosures/county/{Q}/ocds.json"
    assert all(r["ocid"].startswith("ocds-a1b2c3-360823-") for r in package["releases"])
    assert helpers.schema_errors(release_package_validator, package) == []


def test_the_site_address_comes_from_mkdocs_yml_when_the_region_names_none(tmp_path):
    region = helpers.write_region(tmp_path / "data" / "county")
    build, site = tmp_path / "build", tmp_path / "site"
    helpers.score(region, build)
    helpers.publish(region, build, site, site_url="https://site.example.com/gongkai")
    package = load(site / "disclosures" / "county" / Q / "ocds.json")
    assert package["uri"] == f"https://site.example.com/gongkai/disclosures/county/{Q}/ocds.json"


def test_the_default_prefix_says_it_is_unregistered():
    assert UNREGISTERED_OCID_PREFIX == "ocds-unregistered"
    # registered prefixes are "ocds-" and 6 characters: this one can never be one of them
    assert len(UNREGISTERED_OCID_PREFIX.removeprefix("ocds-")) != 6
    assert OcdsSettings.resolve(None).ocid_prefix == UNREGISTERED_OCID_PREFIX
    assert OcdsSettings.resolve({}, "https://a.example.com/x").site_url == "https://a.example.com/x/"
    site_url = [line for line in (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
                if line.startswith("site_url:")]
    assert site_url == [f"site_url: {DEFAULT_SITE_URL}"]


@pytest.mark.parametrize("publisher, setting", [
    ("  ocid_prefix: ocds-12345\n", "publisher.ocid_prefix"),  # 5 characters: not an OCP prefix
    ("  ocid_prefix: OCDS-ABCDEF\n", "publisher.ocid_prefix"),
    ("  site_url: mzj.example.gov.cn\n", "publisher.site_url"),  # not an absolute address
    ("  website: https://x.example.com/\n", "publisher.website"),
])
def test_bad_publisher_settings_are_reported(tmp_path, publisher, setting):
    (tmp_path / "region.yaml").write_text(helpers.REGION_YAML + "publisher:\n" + publisher, encoding="utf-8")
    config, problems = load_region_config(tmp_path)
    assert config is None
    line = len(helpers.REGION_YAML.splitlines()) + 2  # the setting, below "publisher:"
    assert [(p.rule, p.column, p.row) for p in problems] == [("bad_region", setting, line)]


# paid amounts: the place where actual payments become transactions ------------------------------


def test_paid_amounts_become_transactions_and_still_validate(tmp_path, release_package_validator):
    region = helpers.write_region(tmp_path / "data" / "county")
    build, site = tmp_path / "build", tmp_path / "site"
    helpers.score(region, build)
    helpers.publish(region, build, site)
    quarter_dir = site / "disclosures" / "county" / Q
    tables = {name: read_public_csv(quarter_dir / f"{name}.csv") for name in ("payments", "contracts")}
    run = {"region": "county", "region_name": "测试县", "region_code": "360823", "quarter": Q}
    paid = [PaidAmount("HT-2026-001", "PZ-2026-0711", date(2026, 7, 11), Decimal("17950.69"))]
    package = ocds_package(tables, run, "2026-07-01T09:00:00+08:00", paid=paid)
    assert helpers.schema_errors(release_package_validator, package) == []
    first, second = package["releases"]
    assert first["tag"] == ["contract", "implementation"] and "implementation" not in second["contracts"][0]
    transaction = first["contracts"][0]["implementation"]["transactions"][0]
    assert transaction == {
        "id": "PZ-2026-0711", "date": "2026-07-11T00:00:00+08:00",
        "value": {"amount": 17950.69, "currency": "CNY"},
        "payer": {"id": "CN-360823", "name": "测试县民政局"},
        "payee": {"id": "360823-P001", "name": "峡江县阳光社工服务中心"},
    }
    # without paid amounts (today) nothing is a transaction
    assert "implementation" not in json.dumps(ocds_package(tables, run, "2026-07-01T09:00:00+08:00"))
