"""A province: one region directory per county, validated and scored county by county in parallel.

Each county is one task (`county_task`): the same notebook suite as a single region (validate,
score, payments), executed with papermill in the worker, writing the county's own layers and
executed notebooks under the build root. So the audit record is the same however the quarter was
run, and a local process pool and a Dask cluster produce the same layers, byte for byte. A
worker keeps one kernel for all the counties it runs (`run.WorkerKernel`), its namespace emptied
before each county: a kernel start and its imports cost more than a small county's whole work. The task returns only a small summary. Counties whose inputs
fail validation are reported and skipped, never silently, and never stop the others.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from scoring.inputs.layer import read_validated
from scoring.inputs.months import Quarter
from scoring.orchestration.run import run_quarter
from scoring.orchestration.stages import Workspace
from scoring.outputs.results import ResultsLayer, read_results, write_csv
from scoring.refusal import Refusal

SUMMARY_COLUMNS = [
    "county", "county_name", "county_code", "provider_id", "provider_name", "score", "grade",
    "gradable", "reason", "near_band_edge", "amount_due", "release", "withheld",
    "per_capita_annual", "per_capita_standard", "ratio_to_standard",
]
SKIPPED_COLUMNS = ["county", "errors", "warnings", "first_problem", "validation_csv"]


@dataclass
class CountyOutcome:
    """What a county task sends back: small, whatever the county's size."""

    county: str
    errors: int
    warnings: int
    first_problem: str  # the first error, "" when the county was scored
    summary: pd.DataFrame | None  # its rows of the province summary; None when not scored

    @property
    def ok(self) -> bool:
        return self.summary is not None


def is_province(path: Path) -> bool:
    """A directory of region directories (and no region.yaml of its own)."""
    path = Path(path)
    return not (path / "region.yaml").exists() and any(path.glob("*/region.yaml"))


def counties(province_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(province_dir).glob("*/region.yaml"))


def county_task(region_dir: str, quarter: str, build: str) -> CountyOutcome:
    """Run one county's notebook suite, writing its layers and notebooks under `build`. Runs in a
    worker: takes and returns plain, picklable values."""
    region_dir, workspace = Path(region_dir), Workspace(Path(build))
    county = region_dir.name
    validated_dir = workspace.validated(county, quarter)
    run = run_quarter(region_dir, quarter, validated_dir, workspace.results(county, quarter),
                      workspace.notebooks(county, quarter), kernel="worker")
    try:
        layer = read_validated(validated_dir, region_dir, scorable=False)
    except Refusal as refusal:  # the validation notebook itself failed
        return CountyOutcome(county, 0, 0, f"{refusal.code}:{run.error or refusal.message}", None)
    record = layer.record
    if not layer.ok:
        problems = layer.problems
        first = problems[problems["severity"] == "error"].iloc[0]
        return CountyOutcome(county, record["errors"], record["warnings"],
                             f"{first['file']} 第{first['row']}行 {first['column']}:{first['message']}",
                             None)
    if not run.ok:
        return CountyOutcome(county, 0, record["warnings"],
                             f"笔记本 {run.failed.name} 运行失败:{run.error}", None)
    results = read_results(workspace.results(county, quarter), layer)
    return CountyOutcome(county, 0, record["warnings"], "", summary_rows(results))


def local_outcomes(regions: list[Path], quarter: str, build: Path,
                   workers: int | None) -> Iterator[CountyOutcome]:
    """Counties on this machine's cores, as they finish."""
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for region in regions:
            yield county_task(str(region), quarter, str(build))
        return
    # spawned, not forked: each worker starts notebook kernels, and a forked copy of a process that
    # already talks ZeroMQ can deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(county_task, str(region), quarter, str(build)) for region in regions]
        for future in as_completed(futures):
            yield future.result()


def dask_outcomes(regions: list[Path], quarter: str, build: Path,
                  scheduler: str) -> Iterator[CountyOutcome]:
    """Counties as tasks on an existing Dask cluster, one task per county. The workers write to
    `build`, which they must reach at the same path (a shared directory)."""
    # distributed is the `scale` extra and takes a second to import: only a Dask run pays for it
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = [client.submit(county_task, str(region), quarter, str(build),
                                 key=f"county-{region.name}-{quarter}", pure=False)
                   for region in regions]
        for future in dask_completed(futures):
            yield future.result()


@dataclass
class ProvinceRun:
    quarter: Quarter
    scored: list[str] = field(default_factory=list)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUMMARY_COLUMNS))


def summary_rows(results: ResultsLayer) -> pd.DataFrame:
    """The province summary's rows for one county: its providers, grades, money and spending."""
    table = results.table("scores")[["provider_id", "provider_name", "score", "grade", "gradable",
                                     "reason", "near_band_edge"]].merge(
        results.table("payments")[["provider_id", "amount_due", "release", "withheld"]], on="provider_id")
    spending = results.table("spending").iloc[0]
    run = results.record
    table.insert(0, "county_code", run["region_code"])
    table.insert(0, "county_name", run["region_name"])
    table.insert(0, "county", run["region"])
    for column in ("per_capita_annual", "per_capita_standard", "ratio_to_standard"):
        table[column] = spending[column]
    return table[SUMMARY_COLUMNS]


def run_province(
    province_dir: Path, quarter: Quarter, build: Path, *, workers: int | None = None,
    scheduler: str | None = None, on_county: Callable[[CountyOutcome], None] | None = None,
) -> ProvinceRun:
    """Validate and score every county into its layers under `build`; write the province summary
    and the skipped counties into `build/results/<province>/<quarter>/`."""
    regions = counties(province_dir)
    build = Path(build).resolve()
    outcomes = (dask_outcomes(regions, str(quarter), build, scheduler) if scheduler
                else local_outcomes(regions, str(quarter), build, workers))
    run = ProvinceRun(quarter)
    summaries, skipped = [], []
    workspace = Workspace(build)
    for outcome in outcomes:
        if outcome.ok:
            summaries.append(outcome.summary)
            run.scored.append(outcome.county)
        else:
            skipped.append({
                "county": outcome.county, "errors": outcome.errors, "warnings": outcome.warnings,
                "first_problem": outcome.first_problem,
                "validation_csv": str(workspace.validated(outcome.county, quarter) / "validation.csv"),
            })
        if on_county:
            on_county(outcome)
    run.scored.sort()
    if summaries:
        run.summary = pd.concat(summaries, ignore_index=True).sort_values(
            ["county", "provider_id"], kind="stable").reset_index(drop=True)
    if skipped:
        run.skipped = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS).sort_values("county").reset_index(drop=True)
    province_out = workspace.results(Path(province_dir).name, quarter)
    write_csv(run.summary, province_out / "province_summary.csv")
    write_csv(run.skipped.assign(validation_csv=[
        Path(p).relative_to(build).as_posix() for p in run.skipped["validation_csv"]]),
        province_out / "counties_skipped.csv")
    return run


@dataclass
class RunRecord:
    """What the province notebook shows: each county's run, the summary, the skipped counties."""

    counties: pd.DataFrame
    summary: pd.DataFrame
    skipped: pd.DataFrame


def run_record(province_dir: str | Path, quarter: str, build: str | Path) -> RunRecord:
    """Read back a province run: per county whether it was scored and its fingerprints."""
    workspace = Workspace(Path(build))
    province_out = workspace.results(Path(province_dir).name, quarter)
    rows = []
    for region in counties(Path(province_dir)):
        run_file = workspace.results(region.name, quarter) / "run.json"
        run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {}
        rows.append({
            "county": region.name, "county_name": run.get("region_name", ""),
            "scored": bool(run), "rules_fingerprint": run.get("rules_fingerprint", "")[:16],
            "inputs_fingerprint": run.get("inputs_fingerprint", "")[:16],
        })
    return RunRecord(pd.DataFrame(rows), _read(province_out / "province_summary.csv"),
                     _read(province_out / "counties_skipped.csv"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
