"""The newcomer's one command, `scoring demo`, run for real in a copy of the project, from a plain
(not editable) install of the package: the notebooks and templates ship inside it.

The sample regions' result tables and public tables are byte-identical to the ones recorded in
tests/expected/sample_outputs.json (made before the saved layers were introduced): a change to
any published number must be deliberate, and show here: record it with
`SCORING_RECORD_OUTPUTS=1 python -m pytest tests/test_demo.py` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import file_hashes

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_demo_scores_pays_publishes_and_builds_every_sample_quarter(tmp_path):
    for name in ("data", "site", "overrides"):
        shutil.copytree(ROOT / name, tmp_path / name, symlinks=True,
                        ignore=shutil.ignore_patterns("disclosures", ".disclosures*", "plotly*.min.js", "plotly-basic-LICENSE.txt"))
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    before = file_hashes(tmp_path / "data")
    installed = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(installed), str(ROOT)], check=True, capture_output=True, timeout=600)
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run([sys.executable, "-c", "import scoring, scoring.orchestration.run as r; "
                            "print(scoring.__file__); print(r.NOTEBOOKS)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    assert where.count(str(installed)) == 2, where
    result = subprocess.run([sys.executable, "-m", "scoring", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert file_hashes(tmp_path / "data") == before, "inputs are never modified"
    for region in ("xiajiang", "huining"):
        for quarter in ("2025Q4", "2026Q1", "2026Q2", "2026Q3"):
            assert (tmp_path / "build/results" / region / quarter / "scores.csv").is_file()
            assert len(list((tmp_path / "build/notebooks" / region / quarter).glob("*.ipynb"))) == 3
            assert list((tmp_path / "build/payments" / region / quarter).glob("*_第1版_已公布.xlsx"))
            assert (tmp_path / "site/disclosures" / region / quarter / "manifest.json").is_file()
    assert (tmp_path / "build/site/index.html").is_file()
    assert "隐私扫描未发现个人信息" in result.stdout

    recorded = ROOT / "tests/expected/sample_outputs.json"
    if os.environ.get("SCORING_RECORD_OUTPUTS"):  # a deliberate change: record it, then review the diff
        recorded.write_text(json.dumps(sample_outputs(tmp_path), indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
    assert sample_outputs(tmp_path) == json.loads(recorded.read_text(encoding="utf-8"))


def sample_outputs(project: Path) -> dict[str, str]:
    """sha256 of the sample regions' result tables and public tables (not the manifests, OCDS
    packages or pages, which carry the publication time)."""
    files = sorted((project / "build/results").glob("*/*/[a-z]*.csv")) + sorted(
        (project / "site/disclosures").glob("*/*/*.csv"))
    return {p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
