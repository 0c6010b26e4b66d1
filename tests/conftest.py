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


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory):
    """Every quarter of the committed sample regions validated, scored and published into one
    site, as `scoring demo` does (without the notebooks), then one real revision: xiajiang's last
    quarter re-scored with other payout ratios and published with --revise. Returns the site."""
    root = tmp_path_factory.mktemp("samples")
    build, site = root / "build", root / "site"
    for name in helpers.SAMPLE_REGIONS:
        region = helpers.REPO / "data" / name
        for quarter in helpers.SAMPLE_QUARTERS:
            helpers.score(region, build, quarter)
            helpers.publish(region, build, site, quarter)
    region = helpers.REPO / "data" / "xiajiang"
    helpers.score(region, build, helpers.SAMPLE_QUARTERS[-1], rules=helpers.OTHER_PAYOUT_RATIOS)
    outcome = helpers.publish(region, build, site, helpers.SAMPLE_QUARTERS[-1], revise=True,
                              reason="拨付比例按财政局通知调整")
    assert outcome.status == "revised" and outcome.version == 2
    return site
