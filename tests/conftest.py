"""Shared test setup: hypothesis profiles and a small valid region on disk.

HYPOTHESIS_PROFILE chooses the profile: "ci" (default, small and quick) or "dev" (more examples,
for local runs), as pandera's conftest does.
"""

from __future__ import annotations

import os

import helpers
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def region(tmp_path):
    """A clean sample region (tests/helpers.py) written as UTF-8 CSV with English headers."""
    return helpers.write_region(tmp_path / "region")
