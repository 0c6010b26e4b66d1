"""`scoring run` for real: papermill starts kernels, runs the notebook suite, and the tables the
notebooks write are the ones SPEC.md names, equal to the engine's own output."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import pandas as pd
import pytest

from scoring.engine.pipeline import score_quarter
from scoring.inputs.months import Quarter
from scoring.inputs.validate import validate_quarter
from scoring.orchestration.stages import band_edge_summary
from scoring.outputs.results import read_result

ROOT = Path(__file__).resolve().parents[1]
SPEC_COLUMNS = {
    "scores": ["provider_id", "provider_name", "required_months", "hours_delivered", "hours_required",
               "hours_score", "volume_score", "quality_score", "satisfaction_component",
               "inspection_component", "complaint_component", "point_deduction", "score", "grade",
               "gradable", "reason", "score_ci_low", "score_ci_high", "near_band_edge"],
    "satisfaction": ["provider_id", "surveys", "satisfied", "rate", "ci_low", "ci_high",
                     "small_sample", "n1", "n2", "n3", "n4", "n5"],
    "payments": ["provider_id", "contract_id", "amount_due", "grade", "payout_ratio",
                 "monetary_deduction", "release", "withheld", "escort_subsidy", "care_allowance", "status"],
    "spending": ["spend", "avg_beneficiaries", "per_capita_annual", "per_capita_standard",
                 "ratio_to_standard", "spend_per_service", "spend_per_hour"],
}

pytestmark = pytest.mark.slow


def scoring(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scoring", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    """A working directory holding copies of both sample regions."""
    work = tmp_path_factory.mktemp("work")
    shutil.copytree(ROOT / "data", work / "data")
    return work


@pytest.fixture(scope="session")
def huining_run(workdir) -> subprocess.CompletedProcess:
    return scoring("run", "data/huining", "--quarter", "2026Q2", cwd=workdir)


def test_run_executes_the_notebooks_and_keeps_them(workdir, huining_run):
    assert huining_run.returncode == 0, huining_run.stderr
    executed = sorted((workdir / "build/notebooks/huining/2026Q2").glob("*.ipynb"))
    assert [p.name for p in executed] == ["01_validate.ipynb", "02_scores.ipynb", "03_payments.ipynb"]
    for path in executed:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert notebook["metadata"]["papermill"]["parameters"]["quarter"] == "2026Q2"
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), f"{path.name} not fully executed"
        assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    charts = [o for c in json.loads((executed[1]).read_text(encoding="utf-8"))["cells"]
              for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert charts, "the scores notebook shows plotly charts"


def test_run_writes_the_spec_tables_equal_to_the_engine(workdir, huining_run):
    out = workdir / "build/results/huining/2026Q2"
    for name, columns in SPEC_COLUMNS.items():
        table = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(table.columns[: len(columns)]) == columns, name
    validation = validate_quarter(ROOT / "data/huining", Quarter(2026, 2))
    expected = score_quarter(validation.tables, validation.config, validation.quarter, "huining")
    for name in SPEC_COLUMNS:
        written = read_result(out, name)
        engine = expected.tables()[name]
        assert len(written) == len(engine)
        for column in SPEC_COLUMNS[name]:
            assert list(written[column].astype(str)) == list(engine[column].astype(str)), (name, column)
    payments = read_result(out, "payments")
    assert (payments["escort_subsidy"] != "").all(), "huining's rules define escort rates"
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["rules_fingerprint"] == validation.config.rules.fingerprint()
    assert "2026Q2/services.csv" in run["inputs"]
    assert (out / "trace" / "required_months.csv").is_file()


def test_run_refuses_a_quarter_with_errors(workdir):
    bad = workdir / "data" / "broken"
    shutil.copytree(workdir / "data" / "xiajiang", bad)
    services = bad / "2026Q1" / "services.csv"
    lines = services.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("completed", "done-ish", 1)
    services.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = scoring("run", "data/broken", "--quarter", "2026Q1", cwd=workdir)
    assert result.returncode == 1
    assert "validation.csv" in result.stderr and "(inputs_have_errors)" in result.stderr
    assert not (workdir / "build/results/broken/2026Q1/scores.csv").exists()
    # the validation notebook is kept with papermill's error banner; nothing after it ran
    kept = sorted(p.name for p in (workdir / "build/notebooks/broken/2026Q1").glob("*.ipynb"))
    assert kept == ["01_validate.ipynb"]
    banner = (workdir / "build/notebooks/broken/2026Q1/01_validate.ipynb").read_text(encoding="utf-8")
    assert "Refusal" in banner and "inputs_have_errors" in banner


def test_a_notebook_can_be_run_by_hand_with_other_rules(workdir, tmp_path):
    import openpyxl
    import papermill

    region = workdir / "data/xiajiang"
    validated, out = tmp_path / "validated", tmp_path / "what-if"
    helpers.stages.validate_stage(region, "2026Q2", validated)
    papermill.execute_notebook(
        str(ROOT / "notebooks/02_scores.ipynb"), str(tmp_path / "02.ipynb"),
        parameters={"data_dir": str(region), "quarter": "2026Q2", "validated_dir": str(validated),
                    "out_dir": str(out), "rules": {"min_surveys": 5, "weights": {"hours": 0.2, "volume": 0.4, "quality": 0.4}}},
        kernel_name="python3", progress_bar=False, cwd=str(ROOT / "notebooks"),
    )
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["rules"]["weights"] == {"hours": 0.2, "volume": 0.4, "quality": 0.4}
    assert run["rules"]["min_surveys"] == 5
    # the override reaches the finance workbook too: it applies the rules of the results it pays from
    xlsx, _ = helpers.stages.payments_stage(region, validated, out, tmp_path / "payments", tmp_path / "site")
    rules = {row[3]: row[1] for row in openpyxl.load_workbook(xlsx)["规则"].iter_rows(min_row=4, values_only=True)
             if row[3]}
    assert rules["min_surveys"] == "5 份" and "服务数量 40%" in rules["weights"]


def test_a_worker_kernel_starts_every_quarter_from_an_empty_namespace(tmp_path):
    """Province workers reuse one kernel across counties; nothing of one county reaches the next."""
    import nbformat

    from scoring.orchestration.run import WorkerKernel, run_quarter

    suite = tmp_path / "suite"
    suite.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('quarter: str = "2026Q1"  # the quarter')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(
        'assert "left_over" not in globals(), left_over\nleft_over = quarter\nimport os\npid = os.getpid()\nprint(pid)')]
    nbformat.write(notebook, suite / "01_check.ipynb")
    pids = []
    for quarter in ("2026Q1", "2026Q2"):
        out = tmp_path / quarter
        outcome = run_quarter(tmp_path, quarter, out / "v", out / "r", out / "nb", notebook_dir=suite,
                              kernel="worker")
        assert outcome.ok, outcome.error
        executed = json.loads((out / "nb/01_check.ipynb").read_text(encoding="utf-8"))
        pids.append("".join(executed["cells"][-1]["outputs"][0]["text"]).strip())
    assert pids[0] == pids[1], "the same kernel ran both quarters"
    assert WorkerKernel._manager is not None and WorkerKernel._manager.is_alive()


def test_the_notebooks_note_on_band_edges_shows_names_as_written():
    # the note is Markdown that Jupyter renders as HTML: a name is text, never markup
    scores = pd.DataFrame([
        {"provider_name": "阳光</script><script>alert(1)</script>**社**", "gradable": False,
         "reason": "回访少于 <5 份", "near_band_edge": False},
        {"provider_name": "暖心<b>社</b>", "gradable": True, "near_band_edge": True, "score": "79.50",
         "grade": "合格", "score_ci_low": "75.00", "score_ci_high": "83.00"},
    ])
    note = band_edge_summary(scores)
    assert "<" not in note and "**社**" not in note
    assert "&lt;/script&gt;" in note and "&lt;b&gt;" in note


def test_executed_notebooks_show_every_chart_and_the_input_hashes_in_html(workdir, huining_run):
    """`jupyter nbconvert --to html` of the executed notebooks: each plotly figure has its static
    SVG beside it (nbconvert's HTML cannot draw plotly), with its Chinese title as text, and the
    01 notebook lists the sha256 of every input from the validated layer's layer.json."""
    import nbformat
    from nbconvert import HTMLExporter

    from scoring.outputs.charts import PLOTLY_MIME, SVG_MIME

    assert huining_run.returncode == 0, huining_run.stderr
    folder = workdir / "build/notebooks/huining/2026Q2"
    figures_seen = 0
    for name in ("01_validate", "02_scores", "03_payments"):
        notebook = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        figures = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if PLOTLY_MIME in o.get("data", {})]
        html, _ = HTMLExporter().from_notebook_node(notebook)
        # nbconvert writes an SVG output as an <img> with a data: address
        images = [base64.b64decode(data).decode("utf-8") for data in
                  re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]
        assert len(images) == len(figures), name
        for output, image in zip(figures, images):
            title = output["data"][PLOTLY_MIME]["layout"]["title"]["text"]
            assert image == output["data"][SVG_MIME]
            assert image.count(f">{title}</text>") == 1  # the title as text, not outlines
        figures_seen += len(figures)
        if name == "01_validate":
            layer = json.loads((workdir / "build/validated/huining/2026Q2/layer.json").read_text(encoding="utf-8"))
            assert layer["inputs"] and all(f"<td>{digest}</td>" in html for digest in layer["inputs"].values())
    assert figures_seen == 5  # 02: scores, components, satisfaction; 03: payments, spending
