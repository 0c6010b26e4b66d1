"""The notebooks stay thin, parameterised runners of library code (STYLE.md)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


SUITE = [n for n in NOTEBOOKS if n.name[:2].isdigit()]


def test_there_is_a_suite_and_a_province_record():
    assert [n.name[:2] for n in SUITE] == ["01", "02", "03"]
    assert {"province_dir", "quarter", "build_dir"} <= set(
        papermill.inspect_notebook(str(NOTEBOOKS[0].parent / "province.ipynb")))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_tagged_and_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "strip outputs"
        tree = ast.parse("".join(cell["source"]))
        defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
        assert not defined, "logic belongs in src/scoring, not in notebooks"


@pytest.mark.parametrize("notebook", SUITE, ids=lambda p: p.name)
def test_notebook_parameters(notebook):
    parameters = papermill.inspect_notebook(str(notebook))
    assert {"data_dir", "quarter", "validated_dir"} <= set(parameters)
    assert notebook.name.startswith("01") or "out_dir" in parameters
    # every parameter has a type and a comment, so papermill --help-notebook explains it
    for name, parameter in parameters.items():
        assert parameter["inferred_type_name"] != "None", name
        assert parameter["help"], name
