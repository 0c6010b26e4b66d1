"""Suppression of small counts (with secondary suppression) and the scan of the built output."""

from __future__ import annotations

import itertools
import shutil

import helpers
import pandas as pd
import pytest
import sitebuild

from scoring.outputs.privacy import (
    HAN,
    Roster,
    apply_mask,
    roster_from_data,
    scan_text,
    scan_tree,
    suppression_mask,
    table_equations,
)
from scoring.outputs.site import build
from scoring.refusal import Code

# A made-up person: a valid check digit (worked by GB 11643), a mobile number.
PLANTED_ID = helpers.id_number("360823", "19450317", 27)
PLANTED_PHONE = "13907961234"


def test_primary_and_secondary_suppression_worked_by_hand():
    # Two providers and the total. A.n1 = 2 is small (primary). Column n1 then has one hidden
    # cell, so the smallest other provider cell, B.n1 = 6, is hidden too. Row A then has one
    # hidden answer cell under a visible total (surveys 12), so A.n2 = 10 goes; row B likewise
    # hides B.n2 = 30; column n2 now hides two cells: stable. Small cells read <5, the others x.
    counts = pd.DataFrame({"surveys": [12, 36, 48], "n1": [2, 6, 8], "n2": [10, 30, 40]},
                          index=["A", "B", "ALL"])
    equations = table_equations(["A", "B", "ALL"], "ALL", ["surveys", "n1", "n2"],
                                row_sums={"surveys": ["n1", "n2"]})
    hidden = suppression_mask(counts, equations, 5)
    shown = apply_mask(counts, hidden, 5)
    assert shown.loc["A"].tolist() == ["12", "<5", "x"]
    assert shown.loc["B"].tolist() == ["36", "x", "x"]
    assert shown.loc["ALL"].tolist() == ["48", "8", "40"]


def test_no_equation_is_left_with_a_single_hidden_cell():
    counts = pd.DataFrame({"surveys": [7, 40, 3, 50], "n1": [1, 0, 3, 4], "n2": [6, 40, 0, 46]},
                          index=["A", "B", "C", "ALL"])
    equations = table_equations(list(counts.index), "ALL", ["surveys", "n1", "n2"],
                                row_sums={"surveys": ["n1", "n2"]})
    hidden = suppression_mask(counts, equations, 5)
    for total, members in equations:
        assert sum(hidden.at[c] for c in [total, *members]) != 1
    # every cell from 1 to 4 is hidden
    assert all(hidden.at[r, c] for r, c in itertools.product(counts.index, counts.columns)
               if 0 < counts.at[r, c] < 5)


def test_a_derived_total_protects_what_it_could_reveal():
    # surveys 52, satisfied 50 are published, so unsatisfied = 2 is known: n3 = 2 alone under it
    # would be recovered; the derived column forces a second hidden cell among n1..n3.
    counts = pd.DataFrame({"surveys": [52], "satisfied": [50], "unsatisfied": [2],
                           "n1": [0], "n2": [0], "n3": [2], "n4": [20], "n5": [30]}, index=["A"])
    equations = table_equations(["A"], None, [], row_sums={
        "surveys": ["n1", "n2", "n3", "n4", "n5"], "satisfied": ["n4", "n5"],
        "unsatisfied": ["n1", "n2", "n3"]})
    hidden = suppression_mask(counts, equations, 5, derived=["unsatisfied"])
    assert hidden.at["A", "n3"] and (hidden.at["A", "n1"] or hidden.at["A", "n2"])
    assert not hidden.at["A", "unsatisfied"]


def test_scan_finds_a_name_an_id_number_and_a_phone_with_their_line():
    roster = Roster()
    roster.add_text(["吴霞春"], "姓名")
    roster.add_tokens(["B360823-00001"], "对象编号")
    text = "第一行\n<td>吴霞春</td>\n" + f"身份证 {PLANTED_ID}\n电话:{PLANTED_PHONE}。\n对象 B360823-00001\n"
    found = {(f.kind, f.line) for f in scan_text(text, roster, "page.html")}
    assert found == {("姓名", 2), ("身份证号", 3), ("电话号码", 4), ("对象编号", 5)}
    assert "page.html:2" in str(scan_text(text, roster, "page.html")[0])


def test_scan_ignores_hashes_decimals_and_bad_check_digits():
    wrong_check = PLANTED_ID[:17] + ("0" if PLANTED_ID[17] != "0" else "1")
    text = ("sha256 1390796123412345678abcdef 0.13907961234 85.13907961234 "
            f"{wrong_check} 2026-06-30 12,345.67 P360823-01")
    assert scan_text(text, Roster()) == []


def test_roster_reads_every_region(tmp_path):
    region = helpers.write_region(tmp_path / "data" / "county")
    roster = roster_from_data([tmp_path / "data"])
    people = pd.read_csv(region / "beneficiaries.csv", dtype=str)
    assert {run for name in people["name"] for run in HAN.findall(name)} <= roster.names | roster.allowed
    assert set(people["id_number"]) <= roster.tokens


@pytest.mark.slow
def test_site_build_fails_on_a_planted_name_id_number_and_phone(tmp_path):
    site = sitebuild.sample_site()
    project = sitebuild.new_project(tmp_path)
    # the published disclosures of the sample site, plus a page with a leak planted in it
    shutil.copytree(site.disclosures.resolve(), project / "site" / "disclosures")
    name = pd.read_csv(site.data / "xiajiang" / "beneficiaries.csv", dtype=str).iloc[0, 1]
    (project / "site" / "leak.md").write_text(
        f"# 泄露\n\n服务对象 {name}\n\n身份证号 {PLANTED_ID}\n\n联系电话 {PLANTED_PHONE}\n",
        encoding="utf-8")
    with helpers.refused(Code.SITE_BUILD_FAILED) as failure:
        build(project / "mkdocs.yml", [site.data, site.extra_data])
    message = str(failure.value)
    assert "leak.html:" in message
    for kind in ("姓名", "身份证号", "电话号码"):
        assert kind in message
    assert name not in message and PLANTED_ID not in message  # masked in the report


@pytest.mark.slow
def test_the_built_sample_site_holds_no_personal_data():
    site = sitebuild.sample_site()
    roster = roster_from_data([site.data, site.extra_data])
    assert len(roster.names) > 100 and len(roster.tokens) > 100
    assert scan_tree(site.built, roster) == []
    assert scan_tree(site.disclosures, roster) == []
    personal = {"beneficiary_id", "worker_id", "id_number", "phone", "village", "text"}
    for csv in site.disclosures.rglob("*.csv"):
        assert not personal & set(pd.read_csv(csv, nrows=0, encoding="utf-8-sig").columns), csv


def test_a_name_that_is_also_a_public_place_name_is_not_a_leak():
    roster = Roster()
    roster.add_text(["石林", "吴霞春"], "姓名")
    roster.allow(["石林彝族自治县民政局"])
    assert scan_text("石林彝族自治县 2026年第二季度", roster) == []
    assert [f.kind for f in scan_text("服务对象 吴霞春", roster)] == ["姓名"]


def test_a_providers_credit_code_that_looks_like_an_id_number_is_not_a_leak():
    # 523608194503170092 is a valid 统一社会信用代码 (GB 32100) and, all digits, passes the
    # 居民身份证号 check too (born 1945-03-17). A provider's code is public by law.
    code = "523608194503170092"
    line = f'{{"identifier": {{"scheme": "CN-USCI", "id": "{code}"}}}}'
    assert [f.kind for f in scan_text(line, Roster())] == ["身份证号"]
    assert scan_text(line, Roster(public_codes={code})) == []


def test_the_scan_reads_the_cells_of_a_workbook(tmp_path):
    """An .xlsx is a zip: read as text it would hide everything. The scan reads its cells."""
    from scoring.outputs.formats import xlsx_bytes

    table = pd.DataFrame({"item_code": ["S01"], "category": ["生活照料"], "name": [f"助餐 {PLANTED_PHONE}"],
                          "unit": ["次"], "guide_price": ["30.00"], "standard_minutes": ["60"]})
    (tmp_path / "catalog.xlsx").write_bytes(xlsx_bytes(table, "catalog"))
    assert PLANTED_PHONE.encode() not in (tmp_path / "catalog.xlsx").read_bytes()  # compressed
    findings = scan_tree(tmp_path, Roster())
    assert [(f.path, f.line, f.kind) for f in findings] == [("catalog.xlsx", 2, "电话号码")]


def test_a_providers_own_telephone_is_allowed_but_a_beneficiarys_written_there_is_found(tmp_path):
    """providers.csv's telephone is the organisation's public number (its profile page shows
    it); a beneficiary's number put in that column is still a finding."""
    tables = helpers.sample_tables()
    beneficiary_phone = next(p for p in tables["beneficiaries"]["phone"] if p)
    tables["providers"].loc[1, "telephone"] = beneficiary_phone
    region = helpers.write_region(tmp_path / "region", tables=tables)
    roster = roster_from_data([region])
    own = tables["providers"].loc[0, "telephone"]
    assert own and not scan_text(f"电话:{own}", roster)
    found = scan_text(f"电话:{beneficiary_phone}", roster)
    assert found and {f.kind for f in found} <= {"电话", "电话号码"}
