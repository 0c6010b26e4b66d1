"""The layers on disk: raw inputs -> validated -> results -> payments / publication.

Each stage reads the layer below it, refuses with a reason code when that layer is missing or
stale, and never validates again: a quarter is validated once, however many commands follow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import helpers
import pandas as pd
import pytest
from typer.testing import CliRunner

from scoring.inputs import validate as validate_module
from scoring.inputs.layer import read_validated
from scoring.inputs.months import Quarter
from scoring.orchestration import stages
from scoring.orchestration.cli import app
from scoring.orchestration.run import run_quarter
from scoring.refusal import Code

ROOT = Path(__file__).resolve().parents[1]
Q = helpers.QUARTER


@pytest.fixture
def counted(monkeypatch):
    """Every validation of raw inputs made in this process, as (region, quarter)."""
    calls = []
    real = validate_module.validate_quarter

    def counting(region_dir, quarter):
        calls.append((Path(region_dir).name, str(quarter)))
        return real(region_dir, quarter)

    monkeypatch.setattr(stages, "validate_quarter", counting)
    return calls


def stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


@pytest.mark.slow
def test_a_quarter_is_validated_once_whatever_follows(tmp_path, monkeypatch, counted):
    region = helpers.write_region(tmp_path / "data" / "county")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["validate", "data/county", "--quarter", Q]).exit_code == 0
    layer_file = tmp_path / "build/validated/county" / Q / "layer.json"
    before = stat(layer_file)
    # the notebooks (another process: a real kernel) reuse the layer instead of validating
    ws = helpers.workspace(tmp_path / "build")
    outcome = run_quarter(region, Q, ws.validated("county", Q), ws.results("county", Q),
                          ws.notebooks("county", Q))
    assert outcome.ok, outcome.error
    assert stat(layer_file) == before, "the first notebook validated again"
    for command in (["payments", "data/county", "--quarter", Q], ["publish", "data/county", "--quarter", Q]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    assert counted == [("county", Q)]
    assert stat(layer_file) == before


def test_later_stages_reuse_a_fresh_layer_and_redo_a_stale_one(tmp_path, counted):
    region = helpers.write_region(tmp_path / "county")
    where = tmp_path / "validated"
    first = stages.validate_stage(region, Q, where)
    again = stages.validate_stage(region, Q, where)
    assert counted == [("county", Q)] and again.fingerprint == first.fingerprint
    (region / Q / "surveys.csv").write_text(
        (region / Q / "surveys.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = stages.validate_stage(region, Q, where)
    assert len(counted) == 2 and changed.fingerprint != first.fingerprint


def test_stale_and_missing_layers_are_refused_with_their_code(tmp_path):
    region = helpers.write_region(tmp_path / "data" / "county")
    build = tmp_path / "build"
    ws = helpers.workspace(build)
    validated, results = ws.validated("county", Q), ws.results("county", Q)
    with helpers.refused(Code.NOT_VALIDATED):
        stages.score_stage(region, Q, validated, results)
    helpers.score(region, build)
    assert helpers.schedule(region, build, tmp_path / "pay", tmp_path / "site")
    # a raw input changes after validation: the validated layer is stale
    providers = region / "providers.csv"
    providers.write_text(providers.read_text(encoding="utf-8").replace("120000.00", "120001.00"),
                         encoding="utf-8")
    with helpers.refused(Code.VALIDATED_STALE):
        helpers.schedule(region, build, tmp_path / "pay", tmp_path / "site")
    with helpers.refused(Code.VALIDATED_STALE):
        stages.score_stage(region, Q, validated, results)
    # validated again: now the results were made from another validated layer
    stages.validate_stage(region, Q, validated)
    with helpers.refused(Code.RESULTS_STALE):
        helpers.publish(region, build, tmp_path / "site")
    helpers.score(region, build)
    assert helpers.publish(region, build, tmp_path / "site").status == "published"


def test_inputs_with_errors_are_refused_by_every_later_stage(tmp_path):
    tables = helpers.sample_tables()
    tables["services"].loc[0, "provider_id"] = "NOPE"
    region = helpers.write_region(tmp_path / "county", tables)
    where = tmp_path / "validated"
    layer = stages.validate_stage(region, Q, where)
    assert not layer.ok and layer.record["errors"] == 1
    with helpers.refused(Code.INPUTS_HAVE_ERRORS):
        stages.require_scorable(layer)
    with helpers.refused(Code.INPUTS_HAVE_ERRORS):
        stages.score_stage(region, Q, where, tmp_path / "results")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("region", ["huining", "xiajiang"])
def test_the_validated_layer_keeps_every_type(region, tmp_path):
    """What later stages read from Parquet is exactly what the validator produced."""
    source = ROOT / "data" / region
    validation = validate_module.validate_quarter(source, Quarter(2026, 2))
    layer = read_validated(stages.validate_stage(source, "2026Q2", tmp_path / "v").path, source)
    for name, table in validation.tables.items():
        pd.testing.assert_frame_equal(layer.tables[name], table, check_exact=True, obj=name)
    assert layer.config == validation.config
    pd.testing.assert_frame_equal(layer.problems, validation.problems.astype(str), check_dtype=False)


def test_a_results_layer_records_the_layer_it_was_made_from(tmp_path):
    region = helpers.write_region(tmp_path / "county")
    build = tmp_path / "build"
    results = helpers.score(region, build, rules={"min_surveys": 3})
    run = json.loads((results / "run.json").read_text(encoding="utf-8"))
    layer = json.loads((build / "validated/county" / Q / "layer.json").read_text(encoding="utf-8"))
    assert run["validated_fingerprint"] == layer["fingerprint"]
    assert run["rules"]["min_surveys"] == 3  # the what-if override is the record's rule
    assert run["inputs"] == layer["inputs"] and "2026Q2/services.csv" in run["inputs"]
    # the report sits where SPEC.md lists it, written once (a link to the validated layer's file)
    assert (results / "validation.csv").read_bytes() == (build / "validated/county" / Q / "validation.csv").read_bytes()


def test_a_layer_written_again_replaces_the_old_one_whole(tmp_path):
    region = helpers.write_region(tmp_path / "county")
    where = tmp_path / "validated"
    stages.validate_stage(region, Q, where)
    (where / "stray.txt").write_text("left from an older layer", encoding="utf-8")
    stages.validate_stage(region, Q, where, reuse=False)
    assert not (where / "stray.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".validated")], "nothing left aside"
    shutil.rmtree(where)


def test_a_publication_comes_from_the_public_layer(tmp_path):
    from scoring.outputs.public_layer import read_public
    from scoring.outputs.results import read_results

    region = helpers.write_region(tmp_path / "county")
    build = tmp_path / "build"
    helpers.score(region, build)
    outcome = helpers.publish(region, build, tmp_path / "site")
    public = build / "public/county" / Q
    for name in ("scores.csv", "satisfaction.csv", "payments.csv", "public.json"):
        assert (public / name).is_file()
    # what reached the site is, byte for byte, the public layer's files
    for path in public.glob("*.csv"):
        assert (outcome.path / path.name).read_bytes() == path.read_bytes()
    ws = helpers.workspace(build)
    validated = read_validated(ws.validated("county", Q), region)
    # results made again with another rule: the public layer no longer matches them
    helpers.score(region, build, rules={"min_surveys": 3})
    with helpers.refused(Code.PUBLIC_STALE):
        read_public(public, read_results(ws.results("county", Q), validated))
    with helpers.refused(Code.NOT_PUBLIC):
        read_public(tmp_path / "nowhere", read_results(ws.results("county", Q), validated))


def test_the_validation_report_keeps_a_formula_from_the_inputs_inert(tmp_path):
    """The report copies bad values from the inputs, and a clerk opens it in a spreadsheet."""
    tables = helpers.sample_tables()
    formula = '=HYPERLINK("http://example.invalid","点我")'
    tables["services"].loc[0, "provider_id"] = formula
    layer = stages.validate_stage(helpers.write_region(tmp_path / "county", tables), Q, tmp_path / "v")
    raw = pd.read_csv(tmp_path / "v/validation.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'" + formula in set(raw["value"]) and formula not in set(raw["value"])
    assert formula in set(layer.problems["value"]), "read back as it was written in the input"
