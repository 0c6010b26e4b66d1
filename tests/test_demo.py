"""The newcomer's one command, `scoring demo`, run for real in a copy of the project."""

from __future__ import annotations

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
                        ignore=shutil.ignore_patterns("disclosures", ".disclosures*", "plotly.min.js"))
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    before = file_hashes(tmp_path / "data")
    result = subprocess.run([sys.executable, "-m", "scoring", "demo"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert file_hashes(tmp_path / "data") == before, "inputs are never modified"
    for region in ("xiajiang", "huining"):
        for quarter in ("2025Q4", "2026Q1", "2026Q2", "2026Q3"):
            assert (tmp_path / "build/results" / region / quarter / "scores.csv").is_file()
            assert len(list((tmp_path / "build/notebooks" / region / quarter).glob("*.ipynb"))) == 3
            assert list((tmp_path / "build/payments" / region / quarter).glob("*_已公布.xlsx"))
            assert (tmp_path / "site/disclosures" / region / quarter / "manifest.json").is_file()
    assert (tmp_path / "build/site/index.html").is_file()
    assert "隐私扫描未发现个人信息" in result.stdout
