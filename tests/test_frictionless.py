"""The Frictionless data packages: the real validator (frictionless-py, v2 profiles) passes every
`datapackage.json` the sample regions publish; encoding is IANA's `utf-8` (the files' byte-order
mark is skipped); the suppression markers are missing values only on the counts that can hold
them, each explained in its field's description."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from frictionless import Package

from scoring.outputs.formats import marker_meanings
from scoring.outputs.public import PUBLIC_TABLES, SUPPRESSIBLE


def datapackages(site: Path) -> list[Path]:
    return sorted((site / "disclosures").glob("*/*/datapackage.json")) + sorted(
        (site / "disclosures").glob("*/*/v*/datapackage.json"))


def test_frictionless_validate_passes_every_published_datapackage(sample_site):
    paths = datapackages(sample_site)
    assert len(paths) == 9
    for path in paths:
        report = Package(str(path)).validate()
        assert report.valid, (path, report.flatten(["rowNumber", "fieldName", "type", "note"]))


def test_the_frictionless_command_line_agrees(sample_site):
    path = datapackages(sample_site)[0]
    done = subprocess.run([sys.executable, "-m", "frictionless", "validate", "--json", path.name],
                          cwd=path.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["valid"] is True


def test_markers_are_declared_only_where_they_can_occur(sample_site):
    meanings = marker_meanings(5)
    for path in datapackages(sample_site):
        package = json.loads(path.read_text(encoding="utf-8"))
        for resource in package["resources"]:
            assert resource["encoding"] == "utf-8"
            assert resource["schema"]["missingValues"] == [""]
            declared = SUPPRESSIBLE.get(resource["name"], {})
            for field in resource["schema"]["fields"]:
                markers = declared.get(field["name"], ())
                if not markers:
                    assert "missingValues" not in field, (resource["name"], field["name"])
                    continue
                assert field["missingValues"] == ["", *(meanings[m][0] for m in markers)]
                for marker in markers:
                    assert meanings[marker][1] in field["description"]
    assert set(SUPPRESSIBLE) <= set(PUBLIC_TABLES)


def test_a_marker_where_none_is_declared_fails_validation(sample_site, tmp_path):
    """The validator is not blind: "<5" in a column that cannot hold it is a type error."""
    source = sample_site / "disclosures" / "xiajiang" / "2026Q2"
    copy = tmp_path / "quarter"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.md", "v*"))
    text = (copy / "scores.csv").read_text(encoding="utf-8-sig").splitlines()
    header, row = text[0].split(","), text[1].split(",")
    row[header.index("hours_score")] = "<5"
    data = ("\ufeff" + "\n".join([text[0], ",".join(row), *text[2:]]) + "\n").encode("utf-8")
    (copy / "scores.csv").write_bytes(data)
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        resource.pop("hash"), resource.pop("bytes")
    (copy / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    report = Package(str(copy / "datapackage.json")).validate()
    assert not report.valid
    assert [e[1:] for e in report.flatten(["rowNumber", "fieldName", "type"])] == [["hours_score", "type-error"]]


@pytest.mark.parametrize("threshold", [3, 10])
def test_marker_meanings_follow_the_threshold(threshold):
    small, hidden = marker_meanings(threshold).values()
    assert small[0] == f"<{threshold}" and f"1 至 {threshold - 1} 人" in small[1]
    assert hidden[0] == "x"


def test_the_combined_downloads_have_a_valid_datapackage_of_their_own(sample_site):
    """disclosures/all/: every table across regions and quarters, described and validated like a
    quarter's, with region and quarter first and in the primary key."""
    path = sample_site / "disclosures" / "all" / "datapackage.json"
    report = Package(str(path)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads(path.read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == list(PUBLIC_TABLES)
    for resource in package["resources"]:
        fields = [f["name"] for f in resource["schema"]["fields"]]
        assert fields == ["region", "quarter", *PUBLIC_TABLES[resource["name"]]["columns"]]
        if "provider_id" in fields:  # one row per provider, or per what the table declares
            key = PUBLIC_TABLES[resource["name"]].get("key", ["provider_id"])
            assert resource["schema"]["primaryKey"] == ["region", "quarter", *key]
