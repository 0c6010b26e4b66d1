"""Scoring one province quarter (~1,000,000 records, bootstrap included): time and peak memory,
against DuckDB computing the same hours and volume aggregates from the same files.

    python benchmarks/bench_score.py [--counties 73] [--records 1000000]

Also measures papermill's overhead per notebook (a kernel start and a trivial cell).
Targets on 2 cores: under 60 s, under 4 GiB; load + validate + hours + volume within 1.5x of
DuckDB, full scoring within 3x.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import QUARTER, ROOT, machine, peak_rss_gib, province, services_count

from scoring.engine import hours as hours_of
from scoring.engine import volume
from scoring.engine.pipeline import score_quarter
from scoring.engine.required import quarter_months, required_months
from scoring.inputs.months import Quarter
from scoring.inputs.validate import validate_quarter

DUCKDB_SQL = """
with services as (
    select regexp_extract(filename, '([^/]+)/{quarter}/services.csv$', 1) as region, *
    from read_csv('{root}/*/{quarter}/services.csv', all_varchar = true, filename = true)
), catalog as (
    select regexp_extract(filename, '([^/]+)/catalog.csv$', 1) as region, item_code, unit
    from read_csv('{root}/*/catalog.csv', all_varchar = true, filename = true)
), done as (
    select s.region, s.provider_id, s.beneficiary_id, strftime(s.started_at::timestamp, '%Y-%m') as month,
        case when c.unit = '天' then round(s.units::double * 8 * 3600)
             else least(epoch(s.ended_at::timestamp - s.started_at::timestamp), 4 * 3600) end as seconds
    from services s join catalog c using (region, item_code)
    where s.status = 'completed'
), hours as (
    select region, provider_id, sum(seconds) as delivered_seconds, count(*) as visits
    from done group by all
), beneficiaries as (
    select regexp_extract(filename, '([^/]+)/beneficiaries.csv$', 1) as region, beneficiary_id,
        provider_id, category, enrolled_on::date as enrolled_on, nullif(exited_on, '')::date as exited_on
    from read_csv('{root}/*/beneficiaries.csv', all_varchar = true, filename = true)
), providers as (
    select regexp_extract(filename, '([^/]+)/providers.csv$', 1) as region, provider_id,
        contract_start::date as contract_start, contract_end::date as contract_end
    from read_csv('{root}/*/providers.csv', all_varchar = true, filename = true)
), months as (
    select strftime(m, '%Y-%m') as month, m::date as first_day, (m + interval 1 month - interval 1 day)::date as last_day
    from range(date '{first}', date '{next}', interval 1 month) t(m)
), required as (
    select b.region, b.provider_id, b.beneficiary_id, m.month,
        case b.category when '特困' then 3 when '经济困难老年人' then 3 when '重度残疾人' then 2 else 1 end as needed
    from beneficiaries b cross join months m join providers p using (region, provider_id)
    where b.enrolled_on <= m.first_day and (b.exited_on is null or b.exited_on >= m.last_day)
      and p.contract_start <= m.first_day and p.contract_end >= m.last_day
), met as (
    select r.region, r.provider_id, count(*) as required_months,
        sum(case when coalesce(v.n, 0) >= r.needed then 1 else 0 end) as months_met
    from required r left join (
        select region, provider_id, beneficiary_id, month, count(*) as n from done group by all
    ) v using (region, provider_id, beneficiary_id, month)
    group by all
)
select * from hours full join met using (region, provider_id) order by region, provider_id
"""


def county(region: Path, quarter: Quarter, full: bool) -> tuple[list[dict], dict]:
    """One county: validate, the hours and volume aggregates, and (if `full`) the whole scoring."""
    timings = {"validate": 0.0, "hours_volume": 0.0, "score": 0.0}
    started = time.perf_counter()
    validation = validate_quarter(region, quarter)
    timings["validate"] = time.perf_counter() - started
    started = time.perf_counter()
    if full:  # the whole quarter, hours and volume included (not computed a second time)
        results = score_quarter(validation.tables, validation.config, quarter, region.name)
        evidence = results.evidence
        timings["score"] = time.perf_counter() - started
        record_hours, months = evidence.record_hours, evidence.required_months
    else:  # exactly what the DuckDB query computes: hours delivered and months met (no quality)
        tables, rules = validation.tables, validation.config.rules
        required = required_months(tables["beneficiaries"], tables["providers"], quarter, rules)
        record_hours = hours_of.record_hours(
            hours_of.visits(tables["services"], tables["catalog"], quarter_months(quarter)), rules)
        months = volume.months_met(required, record_hours)
    hours = record_hours.groupby("provider_id")["counted_seconds"].sum()
    met = months.groupby("provider_id")["met"].agg(["size", "sum"])
    if not full:
        timings["hours_volume"] = time.perf_counter() - started
    rows = [{"region": region.name, "provider_id": pid, "delivered_seconds": int(hours.get(pid, 0)),
             "required_months": int(met["size"].get(pid, 0)), "months_met": int(met["sum"].get(pid, 0))}
            for pid in validation.tables["providers"]["provider_id"]]
    return rows, timings


def ours(regions: list[Path], quarter: Quarter, workers: int, full: bool) -> tuple[pd.DataFrame, dict, float]:
    """Every county on `workers` processes; the aggregates, summed per-stage CPU timings, wall time."""
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(county, regions, [quarter] * len(regions), [full] * len(regions)))
    wall = time.perf_counter() - started
    timings = {k: sum(t[k] for _, t in done) for k in ("validate", "hours_volume", "score")}
    return pd.DataFrame([row for rows, _ in done for row in rows]), timings, wall


def children_peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024


def duckdb_aggregates(root: Path, quarter: Quarter, threads: int) -> tuple[pd.DataFrame, float]:
    import duckdb

    sql = DUCKDB_SQL.format(root=root, quarter=quarter, first=quarter.first_day,
                            next=quarter.next().first_day)
    started = time.perf_counter()
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    table = connection.sql(sql).df()
    return table, time.perf_counter() - started


def papermill_overhead(repeats: int = 3) -> float:
    """Seconds per papermill run of a one-cell parameterised notebook (kernel start included)."""
    import nbformat
    import papermill

    from scoring.orchestration.run import kernel_manager_class

    with tempfile.TemporaryDirectory() as tmp:
        notebook = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = ["parameters"]
        notebook.cells = [cell, nbformat.v4.new_code_cell("x + 1")]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        source = Path(tmp) / "trivial.ipynb"
        nbformat.write(notebook, source)
        started = time.perf_counter()
        for i in range(repeats):
            papermill.execute_notebook(str(source), str(Path(tmp) / f"out{i}.ipynb"),
                                       parameters={"x": i}, progress_bar=False, kernel_name="python3",
                                       kernel_manager_class=kernel_manager_class())
        return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=73)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = parser.parse_args()

    regions = province(args.counties, args.records)
    root = regions[0].parent
    quarter = Quarter.parse(QUARTER)
    records = services_count(regions)
    print(f"machine: {machine()}; {len(regions)} counties, {records:,} service records in {QUARTER}")

    workers = args.workers or os.cpu_count() or 1
    aggregates, stage, hv_wall = ours(regions, quarter, workers, full=False)
    _, timings, full_wall = ours(regions, quarter, workers, full=True)
    print(f"ours on {workers} worker process(es): load + validate + hours + volume {hv_wall:.1f} s wall "
          f"(CPU summed over counties: validate {stage['validate']:.1f} s, hours + volume "
          f"{stage['hours_volume']:.1f} s); full scoring incl. bootstrap {full_wall:.1f} s wall "
          f"(validate {timings['validate']:.1f} s, the whole engine {timings['score']:.1f} s); "
          f"peak RSS of one process {max(peak_rss_gib(), children_peak_gib()):.2f} GiB")

    if not args.skip_duckdb:
        duck, duck_seconds = duckdb_aggregates(root, quarter, workers)
        merged = aggregates.merge(duck, on=["region", "provider_id"], suffixes=("", "_duckdb"))
        same = (
            (merged["delivered_seconds"] == merged["delivered_seconds_duckdb"].fillna(0).astype("int64"))
            & (merged["months_met"] == merged["months_met_duckdb"].fillna(0).astype("int64"))
            & (merged["required_months"] == merged["required_months_duckdb"].fillna(0).astype("int64"))
        )
        print(f"duckdb ({workers} threads): hours + volume from the same CSVs {duck_seconds:.1f} s; "
              f"aggregates agree for {int(same.sum())} of {len(aggregates)} providers")
        print(f"summary, measured in this run on {workers} cores:\n"
              f"  ours, load + validate + hours + volume  {hv_wall:6.1f} s\n"
              f"  duckdb, bare hours + volume aggregates  {duck_seconds:6.1f} s\n"
              f"  ratio                                   {hv_wall / duck_seconds:6.1f}x  (target 1.5x; "
              f"ours validates every rule on the way)\n"
              f"  ours, full scoring incl. bootstrap      {full_wall:6.1f} s\n"
              f"  full scoring / duckdb                   {full_wall / duck_seconds:6.1f}x  (target 3x)")
    print(f"papermill overhead per notebook: {papermill_overhead():.2f} s")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
