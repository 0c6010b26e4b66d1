"""A real disclosure site for tests: regions scored, published and built with mkdocs in a temporary
project (a copy of mkdocs.yml and the hand-written pages), never in the repository's own site/.

`sample_site()` builds it once per test process: both sample regions of data/ (every quarter), and
`escaping`, a one-quarter copy of Xiajiang whose first provider is called EVIL_NAME and whose
2026Q2 was revised (a region override of the payout ratios) so the site has a correction notice.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import helpers

from scoring.inputs.months import Quarter
from scoring.outputs.site import BuildReport, build

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EVIL_NAME = "<script>alert(1)</script>*强调*"
REVISION_REASON = "拨付比例按县财政局通知调整"
EVIL_QUARTER = "2026Q2"


def sample_data() -> Path:
    """data/ with both sample regions; generated into a temporary folder if it is missing."""
    if (DATA / "xiajiang" / "region.yaml").is_file() and (DATA / "huining" / "region.yaml").is_file():
        return DATA
    from scoring_synthetic.generate import generate

    out = Path(tempfile.mkdtemp(prefix="scoring-data-"))
    for profile in ("xiajiang", "huining"):
        generate(profile, out / profile)
    return out


def new_project(parent: Path) -> Path:
    """mkdocs.yml and the hand-written pages of site/, nothing published."""
    project = Path(parent) / "project"
    project.mkdir(parents=True)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(ROOT / "overrides", project / "overrides")
    shutil.copytree(ROOT / "site", project / "site", ignore=shutil.ignore_patterns(
        "disclosures", ".disclosures*", "plotly*.min.js", "plotly-basic-LICENSE.txt"))
    return project


def score_and_publish(region_dir: Path, quarter: str, project: Path, build: Path,
                      **publish) -> object:
    helpers.score(region_dir, build, quarter)
    return helpers.publish(region_dir, build, project / "site", quarter, **publish)


def quarters_of(region_dir: Path) -> list[str]:
    found = []
    for child in sorted(region_dir.iterdir()):
        try:
            found.append(str(Quarter.parse(child.name)))
        except ValueError:
            continue
    return found


def escaping_region(data: Path, parent: Path) -> Path:
    """Xiajiang's region files and one quarter, with a provider name that is markup."""
    region = parent / "escaping"
    region.mkdir(parents=True)
    for item in (data / "xiajiang").iterdir():
        if item.is_file():
            shutil.copy(item, region / item.name)
    shutil.copytree(data / "xiajiang" / EVIL_QUARTER, region / EVIL_QUARTER)
    providers = (region / "providers.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = providers[1].split(",")
    cells[1] = EVIL_NAME
    providers[1] = ",".join(cells)
    (region / "providers.csv").write_text("\n".join(providers) + "\n", encoding="utf-8")
    (region / "region.yaml").write_text(helpers.REGION_YAML, encoding="utf-8")
    return region


REVISED_RULES = """rules:
  payout_ratios:
    优秀: 1.00
    良好: 0.90
    合格: 0.80
    不合格: 0.50
"""


@dataclass
class SampleSite:
    project: Path
    data: Path
    extra_data: Path  # holds the escaping region
    report: BuildReport

    @property
    def built(self) -> Path:
        return self.project / "build" / "site"

    @property
    def disclosures(self) -> Path:
        return self.project / "site" / "disclosures"


@functools.cache
def sample_site() -> SampleSite:
    work = Path(tempfile.mkdtemp(prefix="scoring-site-"))
    data = sample_data()
    project = new_project(work)
    results = work / "results"
    for region in ("xiajiang", "huining"):
        for quarter in quarters_of(data / region):
            score_and_publish(data / region, quarter, project, results)
    extra = work / "extra"
    evil = escaping_region(data, extra)
    score_and_publish(evil, EVIL_QUARTER, project, results)
    with open(evil / "region.yaml", "a", encoding="utf-8") as handle:
        handle.write(REVISED_RULES)
    score_and_publish(evil, EVIL_QUARTER, project, results, revise=True, reason=REVISION_REASON)
    report = build(project / "mkdocs.yml", [data, extra])
    return SampleSite(project, data, extra, report)
