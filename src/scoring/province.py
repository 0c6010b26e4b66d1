"""A province: one region directory per county, validated and scored county by county in parallel.

Each county is one task (`county_task`): validate, and if valid, score. The task returns its
tables; the caller writes every file, so a local process pool and a Dask cluster produce the same
bytes. Counties whose inputs fail validation are reported and skipped, never silently, and never
stop the others.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pandas as pd

from .months import Quarter
from .pipeline import QuarterResults, score_quarter, write_csv, write_results

if TYPE_CHECKING:
    from .validate import Validation

SUMMARY_COLUMNS = [
    "county", "county_name", "county_code", "provider_id", "provider_name", "score", "grade",
    "gradable", "reason", "near_band_edge", "amount_due", "release", "withheld",
    "per_capita_annual", "per_capita_standard", "ratio_to_standard",
]
SKIPPED_COLUMNS = ["county", "errors", "warnings", "first_problem", "validation_csv"]


@dataclass
class CountyOutcome:
    county: str
    region_dir: Path
    validation: "Validation"  # without its tables (they stay in the worker)
    results: QuarterResults | None  # None when the inputs have errors

    @property
    def ok(self) -> bool:
        return self.results is not None


def is_province(path: Path) -> bool:
    """A directory of region directories (and no region.yaml of its own)."""
    path = Path(path)
    return not (path / "region.yaml").exists() and any(path.glob("*/region.yaml"))


def counties(province_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(province_dir).glob("*/region.yaml"))


def county_task(region_dir: str, quarter: str) -> CountyOutcome:
    """Validate and score one county. Runs in a worker: takes and returns plain, picklable values."""
    from .validate import validate_quarter

    region_dir = Path(region_dir)
    validation = validate_quarter(region_dir, Quarter.parse(quarter))
    results = None
    if validation.ok:
        results = score_quarter(validation.tables, validation.config, validation.quarter, region_dir.name)
    return CountyOutcome(region_dir.name, region_dir, replace(validation, tables={}), results)


def local_outcomes(regions: list[Path], quarter: str, workers: int | None) -> Iterator[CountyOutcome]:
    """Counties on this machine's cores, as they finish."""
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for region in regions:
            yield county_task(str(region), quarter)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(county_task, str(region), quarter) for region in regions]
        for future in as_completed(futures):
            yield future.result()


def dask_outcomes(regions: list[Path], quarter: str, scheduler: str) -> Iterator[CountyOutcome]:
    """Counties as tasks on an existing Dask cluster, one task per county."""
    from dask.distributed import Client, as_completed as dask_completed

    with Client(scheduler) as client:
        futures = [client.submit(county_task, str(region), quarter, key=f"county-{region.name}-{quarter}",
                                 pure=False) for region in regions]
        for future in dask_completed(futures):
            yield future.result()


@dataclass
class ProvinceRun:
    quarter: Quarter
    scored: list[str] = field(default_factory=list)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUMMARY_COLUMNS))


def summary_rows(results: QuarterResults) -> pd.DataFrame:
    """The province summary's rows for one county: its providers, grades, money and spending."""
    table = results.scores[["provider_id", "provider_name", "score", "grade", "gradable", "reason",
                            "near_band_edge"]].merge(
        results.payments[["provider_id", "amount_due", "release", "withheld"]], on="provider_id")
    spending = results.spending.iloc[0]
    table.insert(0, "county_code", results.region_code)
    table.insert(0, "county_name", results.region_name)
    table.insert(0, "county", results.region)
    for column in ("per_capita_annual", "per_capita_standard", "ratio_to_standard"):
        table[column] = spending[column]
    return table[SUMMARY_COLUMNS]


def run_province(
    province_dir: Path, quarter: Quarter, results_root: Path, *, workers: int | None = None,
    scheduler: str | None = None, on_county: Callable[[CountyOutcome], None] | None = None,
) -> ProvinceRun:
    """Validate and score every county; write each county's results and the province summary."""
    regions = counties(province_dir)
    outcomes = (dask_outcomes(regions, str(quarter), scheduler) if scheduler
                else local_outcomes(regions, str(quarter), workers))
    run = ProvinceRun(quarter)
    summaries, skipped = [], []
    for outcome in outcomes:
        out_dir = Path(results_root) / outcome.county / str(quarter)
        outcome.validation.write(out_dir)
        if outcome.ok:
            write_results(outcome.results, out_dir, outcome.region_dir)
            summaries.append(summary_rows(outcome.results))
            run.scored.append(outcome.county)
        else:
            problems = outcome.validation.problems
            severity = problems["severity"]
            errors = problems[severity == "error"]
            first = errors.iloc[0]
            skipped.append({
                "county": outcome.county, "errors": len(errors),
                "warnings": int((severity == "warning").sum()),
                "first_problem": f"{first['file']} 第{first['row']}行 {first['column']}:{first['message']}",
                "validation_csv": f"{outcome.county}/{quarter}/validation.csv",  # under results_root
            })
        if on_county:
            on_county(outcome)
    run.scored.sort()
    if summaries:
        run.summary = pd.concat(summaries, ignore_index=True).sort_values(
            ["county", "provider_id"], kind="stable").reset_index(drop=True)
    if skipped:
        run.skipped = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS).sort_values("county").reset_index(drop=True)
    province_out = Path(results_root) / Path(province_dir).name / str(quarter)
    write_csv(run.summary, province_out / "province_summary.csv")
    write_csv(run.skipped, province_out / "counties_skipped.csv")
    return run


@dataclass
class RunRecord:
    """What the province notebook shows: each county's run, the summary, the skipped counties."""

    counties: pd.DataFrame
    summary: pd.DataFrame
    skipped: pd.DataFrame


def run_record(province_dir: str | Path, quarter: str, results_root: str | Path) -> RunRecord:
    """Read back a province run: per county whether it was scored and its fingerprints."""
    import json

    province_out = Path(results_root) / Path(province_dir).name / quarter
    rows = []
    for region in counties(Path(province_dir)):
        run_file = Path(results_root) / region.name / quarter / "run.json"
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
