"""A small generated province, scored locally and on a Dask LocalCluster: the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scoring.inputs.months import Quarter
from scoring.orchestration.province import is_province, run_province
from scoring.refusal import Code
from scoring_synthetic.generate import generate

Q = Quarter(2026, 3)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    """Four counties; the third has a service row with an impossible status."""
    root = tmp_path_factory.mktemp("province") / "yunnan"
    generate("province", root, counties=4, records_per_quarter=20_000, quarters=[str(Q)])
    broken = sorted(p.parent for p in root.glob("*/region.yaml"))[2]
    services = broken / str(Q) / "services.csv"
    lines = services.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("completed", "finished", 1).replace("cancelled", "finished", 1)
    services.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_province_is_recognised(province):
    assert is_province(province)
    assert not is_province(next(province.iterdir()))


def test_local_and_dask_runs_are_byte_identical(province, tmp_path):
    from dask.distributed import LocalCluster

    local = run_province(province, Q, tmp_path / "local", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_province(province, Q, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert local.scored == remote.scored and len(local.scored) == 3
    a, b = tree(tmp_path / "local"), tree(tmp_path / "dask")
    assert any(k.startswith("validated/") for k in a) and any(k.startswith("results/") for k in a)
    assert a.keys() == b.keys()
    # the layers are byte-identical; executed notebooks record when they ran, so only their presence
    assert [k for k in a if a[k] != b[k] and not k.startswith("notebooks/")] == []


def test_a_province_keeps_every_countys_executed_notebooks(province, tmp_path):
    """The audit record does not depend on how the quarter was run."""
    run = run_province(province, Q, tmp_path / "build", workers=2)
    broken = sorted(p.parent.name for p in province.glob("*/region.yaml"))[2]
    for county in [*run.scored, broken]:
        kept = sorted(p.name for p in (tmp_path / "build/notebooks" / county / str(Q)).glob("*.ipynb"))
        assert kept == (["01_validate.ipynb"] if county == broken else
                        ["01_validate.ipynb", "02_scores.ipynb", "03_payments.ipynb"]), county
    notebook = json.loads((tmp_path / "build/notebooks" / run.scored[0] / str(Q) / "02_scores.ipynb").read_text(encoding="utf-8"))
    assert all(c["execution_count"] for c in notebook["cells"] if c["cell_type"] == "code")


def test_a_county_with_errors_is_reported_and_does_not_stop_the_others(province, tmp_path):
    run = run_province(province, Q, tmp_path / "out", workers=1)
    broken = sorted(p.parent.name for p in province.glob("*/region.yaml"))[2]
    assert list(run.skipped["county"]) == [broken]
    assert "finished" in run.skipped.loc[0, "first_problem"] or run.skipped.loc[0, "errors"] >= 1
    summary = pd.read_csv(tmp_path / "out/results/yunnan" / str(Q) / "province_summary.csv", dtype=str)
    assert broken not in set(summary["county"])
    assert set(summary["county"]) == set(run.scored)
    assert (tmp_path / "out/validated" / broken / str(Q) / "validation.csv").is_file()
    assert not (tmp_path / "out/results" / broken / str(Q) / "scores.csv").exists()


def test_the_same_county_scores_the_same_alone_or_in_a_province(province, tmp_path):
    import helpers

    county = sorted(p.parent for p in province.glob("*/region.yaml"))[0]
    run_province(province, Q, tmp_path / "province", workers=2)
    alone = helpers.score(county, tmp_path / "alone", str(Q))
    for name in ("scores", "satisfaction", "payments", "spending"):
        assert (tmp_path / "province/results" / county.name / str(Q) / f"{name}.csv").read_bytes() == \
            (alone / f"{name}.csv").read_bytes()


def test_cli_runs_a_province_with_a_progress_bar_and_a_record(province, tmp_path):
    result = subprocess.run([sys.executable, "-m", "scoring", "run", str(province), "--quarter", str(Q),
                             "--workers", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, "one county was skipped"
    assert "未评分的县" in result.stderr
    assert (tmp_path / "build/notebooks/yunnan" / str(Q) / "province.ipynb").is_file()
    assert (tmp_path / "build/results/yunnan" / str(Q) / "province_summary.csv").is_file()


def test_a_province_publishes_its_counties_and_an_overview_page(province, tmp_path):
    import helpers
    import sitebuild

    from scoring.outputs.publish import publish_province
    from scoring.outputs.site import build

    root = tmp_path / "build"
    run = run_province(province, Q, root, workers=2)
    ws = helpers.workspace(root)
    layers = [(c, ws.validated(c.name, Q), ws.results(c.name, Q), ws.public(c.name, Q)) for c in sorted(p.parent for p in province.glob("*/region.yaml"))]
    project = sitebuild.new_project(tmp_path)
    outcomes, skipped = publish_province(province, Q, layers, project / "site")
    assert sorted(o.region for o in outcomes) == run.scored
    assert len(skipped) == 1 and f"({Code.INPUTS_HAVE_ERRORS})" in skipped[0]
    results = root / "results"
    page = (project / "site/disclosures/provinces/yunnan" / f"{Q}.md").read_text(encoding="utf-8")
    summary = pd.read_csv(results / "yunnan" / str(Q) / "province_summary.csv", dtype=str)
    for county, name in summary[["county", "county_name"]].drop_duplicates().itertuples(index=False):
        assert f'<a href="../../{county}/{Q}/index.html">{name}</a>' in page
    assert "provinces/yunnan" in (project / "site/disclosures/index.md").read_text(encoding="utf-8")
    again, _ = publish_province(province, Q, layers, project / "site")
    assert {o.status for o in again} == {"unchanged"}
    report = build(project / "mkdocs.yml", [province])
    html = (report.site_dir / "disclosures/provinces/yunnan" / f"{Q}.html").read_text(encoding="utf-8")
    assert "各区县汇总" in html and html.count("/index.html\">") >= 3
