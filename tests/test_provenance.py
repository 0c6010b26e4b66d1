"""Provenance that holds: the version comes from the repository, and the published bootstrap
intervals cannot change silently under a dependency upgrade.

NumPy does not promise the same random stream across versions (NEP 19). The grade-confidence
intervals are published, so the draws for a known seed are fixed here: if an upgrade (numpy,
or the lock file's versions) changes them, these tests fail and the upgrade must be a decision,
recorded as a revision, not an accident.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import helpers
import numpy as np

import scoring
from scoring.engine.confidence import (
    ResamplingUnits,
    bootstrap_scores,
    interval,
    provider_rng,
)
from scoring.inputs.rules import Rules

ROOT = Path(__file__).resolve().parents[1]

EVIDENCE = ResamplingUnits(
    month_delivered_seconds=np.array([3600, 7200, 0, 5400, 10800, 3600, 1800, 7200], dtype=np.int64),
    month_required_hours=np.array([3.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0]),
    month_met=np.array([True, True, False, True, True, True, False, True]),
    other_delivered_seconds=1800, surveys=12, satisfied=9, inspections=5, passed=3, falsified=1,
    tickets=4, in_time_substantiated=1, in_time_not_substantiated=2, late_substantiated=0,
    late_not_substantiated=1,
)


def test_the_random_stream_for_a_seed_is_the_one_published():
    assert provider_rng(Rules(), "P001").integers(0, 1000, 5, dtype=np.int32).tolist() == \
        [841, 996, 391, 880, 251]


def test_the_bootstrap_draws_for_a_known_seed_are_fixed():
    scores = bootstrap_scores(EVIDENCE, Rules(), provider_rng(Rules(), "P001"))
    assert scores[:3].tolist() == [66.75, 56.0, 54.916666666666664]
    assert hashlib.sha256(np.round(scores, 9).tobytes()).hexdigest() == \
        "cf4eea884395c473a2b1400f2175ef566e4f6140ea86717b24b065eb1dce927c"
    assert interval(EVIDENCE, Rules(), "P001") == (44.25, 82.08392857142856)


def test_the_sample_regions_published_intervals_are_fixed(tmp_path):
    results = helpers.score(ROOT / "data" / "huining", tmp_path / "build", "2026Q2")
    scores = helpers.pd.read_csv(results / "scores.csv", dtype=str).set_index("provider_id")
    assert scores.loc["P620422-01", ["score_ci_low", "score_ci_high"]].tolist() == ["92.65", "97.72"]
    assert scores.loc["P620422-02", ["score_ci_low", "score_ci_high"]].tolist() == ["56.26", "77.74"]


def test_the_version_comes_from_the_repository(tmp_path):
    assert scoring.__version__ == importlib.metadata.version("scoring")
    assert scoring.__version__ not in ("0.1.0", "0.0.0+unknown"), "setuptools-scm sets it from git"
    results = helpers.score(helpers.write_region(tmp_path / "county"), tmp_path / "build")
    assert json.loads((results / "run.json").read_text(encoding="utf-8"))["code_version"] == scoring.__version__


def test_the_lock_files_pin_every_dependency():
    for lock in ("main.txt", "test.txt"):
        pins = [line for line in (ROOT / "requirements" / lock).read_text(encoding="utf-8").splitlines()
                if line and not line.startswith((" ", "#"))]
        assert pins and all("==" in line for line in pins), lock
    test_lock = (ROOT / "requirements" / "test.txt").read_text(encoding="utf-8")
    for needed in ("numpy==", "pandas==", "pyarrow==", "mkdocs-material==", "jieba==", "playwright=="):
        assert needed in test_lock
