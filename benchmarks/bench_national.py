"""A national rehearsal on this machine: 2,800 small counties (a few hundred service records each)
through `scoring run PROVINCE --scheduler tcp://…` on a real Dask cluster started here (`dask
scheduler` and `dask worker` programs), then a fitted line extrapolated to the national scale.

    python benchmarks/bench_national.py [--counties 2800] [--workers 2] [--notebooks-counties 100]

What it prints, for each run:
- per county: worker-seconds per county (wall x workers / counties), the task's own time (its
  record's `seconds`) and the difference, the overhead (scheduling, transfer, the client);
- scheduler time per task: the scheduler process's CPU seconds during the run / tasks;
- client peak memory: ru_maxrss of the `scoring run` process itself (RUSAGE_SELF at its exit),
  not its workers' nor its province notebook's kernel;
- the output root's file count.
Client peak memory is compared at 100 and at all counties (flat: within 20%). Then a least-squares
fit (scipy) of worker-seconds against counties and records, over runs of small counties and of
larger ones, is extrapolated to 2,800 counties x 14,000 records on N workers.

The large runs use `--no-notebooks` (the stages the notebooks call, the same layers): with
notebooks a small county costs about 3 worker-seconds here, 2,800 of them over two hours on 2
cores. The notebooks' cost per county is measured on `--notebooks-counties` counties and added to
the estimate as its own term. Generation is excluded from every timing; the data sets are cached
under build/benchmarks/national/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import QUARTER, ROOT, machine, services_count

OUT = ROOT / "build" / "benchmarks" / "national"
NATIONAL_RECORDS = 14_000  # service records per county per quarter at national scale (40M / 2,800)


def generated(name: str, counties: int, records: int, beneficiaries: int) -> Path:
    """A generated province under build/benchmarks/national/ (made once, then reused)."""
    from scoring_synthetic.generate import generate

    out = OUT / "data" / name
    marker = out / f".complete-{counties}-{records}-{beneficiaries}"
    if not marker.exists():
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        generate("province", out, counties=counties, records_per_quarter=records, quarters=[QUARTER],
                 beneficiaries=beneficiaries)
        marker.write_text("")
        print(f"generated {name}: {counties} counties in {time.perf_counter() - started:.0f} s (not timed below)")
    return out


def first(province: Path, n: int, name: str) -> Path:
    """A province of the first n counties of `province` (symbolic links to its county folders)."""
    out = OUT / "data" / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for county in sorted(p.parent for p in province.glob("*/region.yaml"))[:n]:
        (out / county.name).symlink_to(county, target_is_directory=True)
    return out


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def run(province: Path, cluster, workers: int, notebooks: bool) -> dict:
    """`scoring run PROVINCE --scheduler …` in a fresh client process, every county forced."""
    root = OUT / "work" / f"{province.name}-{'nb' if notebooks else 'stages'}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rss = root / "client_maxrss_kib"
    # the client's own peak (RUSAGE_SELF, at its exit): not its workers', nor its notebook kernel's
    wrapper = ("import atexit, resource, sys\n"
               "atexit.register(lambda path=sys.argv[1]: open(path, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
               "sys.argv = ['scoring', *sys.argv[2:]]\n"
               "from scoring.orchestration.cli import app\n"
               "app(prog_name='scoring')\n")
    command = [sys.executable, "-c", wrapper, str(rss), "run", str(province), "--quarter", QUARTER,
               "--scheduler", cluster.address, "--out", str(root / "build"), "--force",
               "--notebooks" if notebooks else "--no-notebooks"]
    scheduler_before = cpu_seconds(cluster.scheduler.pid)
    started = time.perf_counter()
    with open(root / "client.log", "wb") as log:
        client = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "COLUMNS": "200"})
        client.wait()
    wall = time.perf_counter() - started
    scheduler_cpu = cpu_seconds(cluster.scheduler.pid) - scheduler_before
    if client.returncode != 0:
        raise SystemExit(f"run failed ({client.returncode}): see {root / 'client.log'}")
    records = [json.loads(p.read_text(encoding="utf-8"))
               for p in (root / "build" / "runs" / province.name / QUARTER).glob("*[0-9].json")]
    counties = len(records)
    task = sum(r["seconds"] for r in records) / counties
    files = sum(len(f) for _, _, f in os.walk(root / "build"))
    result = {
        "counties": counties, "records": services_count(sorted(p.parent for p in province.glob("*/region.yaml"))),
        "notebooks": notebooks, "workers": workers, "wall_seconds": round(wall, 1),
        "worker_seconds_per_county": round(wall * workers / counties, 3),
        "task_seconds_per_county": round(task, 3),
        "overhead_seconds_per_county": round(wall * workers / counties - task, 3),
        "scheduler_ms_per_task": round(scheduler_cpu / counties * 1000, 2),
        "client_peak_mib": round(int(rss.read_text()) / 1024, 1), "files": files,
        # each county's service records and its task's seconds: the points of the fitted line
        "points": [[r["rows"].get(f"{QUARTER}/services.csv", {}).get("rows_read", 0), r["seconds"]]
                   for r in records],
    }
    shutil.rmtree(root / "build", ignore_errors=True)
    print(f"{counties:>5} counties, {result['records']:>9,} records, {'notebooks' if notebooks else 'stages   '}: "
          f"{result['wall_seconds']:>7} s wall; per county {result['worker_seconds_per_county']} worker-s "
          f"(task {result['task_seconds_per_county']} s + overhead {result['overhead_seconds_per_county']} s); "
          f"scheduler {result['scheduler_ms_per_task']} ms CPU per task; client peak {result['client_peak_mib']} MiB; "
          f"{files:,} files written", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=2800)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--notebooks-counties", type=int, default=100)
    parser.add_argument("--report-only", action="store_true", help="the figures again from the last runs")
    args = parser.parse_args()
    if args.report_only:
        report(*json.loads((OUT / "runs.json").read_text(encoding="utf-8")), args.workers)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    import psutil

    print(f"machine: {machine()}; load average before: {os.getloadavg()}; "
          f"memory {psutil.virtual_memory().total / 2**30:.0f} GiB")
    # ~60 beneficiaries and ~350 service records a county; and two sets of larger counties
    small = generated(f"small-{args.counties}", args.counties, args.counties * 350, 60)
    medium = generated("medium-40", 40, 40 * 4_500, 822)
    large = generated("large-12", 12, 12 * 14_000, 2_500)
    runs = []
    sys.path.insert(0, str(ROOT / "tests"))
    from daskcluster import dask_cluster

    with dask_cluster(args.workers, OUT / "cluster") as cluster:
        hundred = first(small, 100, "small-100")
        runs.append(run(hundred, cluster, args.workers, notebooks=False))
        runs.append(run(first(small, 400, "small-400"), cluster, args.workers, notebooks=False))
        runs.append(run(medium, cluster, args.workers, notebooks=False))
        runs.append(run(large, cluster, args.workers, notebooks=False))
        some = first(small, args.notebooks_counties, f"small-{args.notebooks_counties}")
        if args.notebooks_counties not in (100, 400):  # the same counties without notebooks too
            runs.append(run(some, cluster, args.workers, notebooks=False))
        with_notebooks = run(some, cluster, args.workers, notebooks=True)
        runs.append(run(small, cluster, args.workers, notebooks=False))
    (OUT / "runs.json").write_text(json.dumps([runs, with_notebooks]), encoding="utf-8")
    report(runs, with_notebooks, args.workers)


def report(runs: list[dict], with_notebooks: dict, workers: int) -> None:
    import numpy as np
    from scipy.stats import linregress

    low, high = runs[0], runs[-1]
    change = high["client_peak_mib"] / low["client_peak_mib"] - 1
    print(f"client peak memory: {low['client_peak_mib']} MiB at {low['counties']} counties, "
          f"{high['client_peak_mib']} MiB at {high['counties']} counties ({change:+.1%}; flat means within 20%: "
          f"{'yes' if abs(change) <= 0.20 else 'NO'})")
    # a county task's seconds = a + b x its service records: a line (scipy) through every county of
    # the runs without notebooks, small and large
    points = np.array([p for r in runs if not r["notebooks"] for p in r["points"]], dtype=float)
    line = linregress(points[:, 0], points[:, 1])
    per_county, per_record = line.intercept, line.slope
    # overhead beyond the tasks' own time: the marginal cost of a county between the two small runs
    marginal = (high["wall_seconds"] - low["wall_seconds"]) * workers / (high["counties"] - low["counties"])
    overhead = marginal - high["task_seconds_per_county"]
    # fixed: what a run costs whatever its size (client start, connecting, the province notebook)
    fixed = float(np.median([r["wall_seconds"] - r["task_seconds_per_county"] * r["counties"] / r["workers"]
                             for r in runs if not r["notebooks"]]))
    stages_pc = [r for r in runs if r["counties"] == with_notebooks["counties"] and not r["notebooks"]][0]
    notebooks_pc = with_notebooks["task_seconds_per_county"] - stages_pc["task_seconds_per_county"]
    scheduler_s = high["scheduler_ms_per_task"] / 1000  # the longest run: idle heartbeats amortised
    print(f"per-county cost between {low['counties']} and {high['counties']} small counties: {marginal:.3f} worker-s "
          f"a county, of which the task itself {high['task_seconds_per_county']:.3f} s: overhead {overhead:.3f} s a county")
    print(f"fitted line over {len(points):,} county tasks (scipy linregress, r = {line.rvalue:.3f}): "
          f"task seconds = {per_county:.3f} + {per_record * 1e5:.2f} per 100,000 service records; "
          f"notebooks add {notebooks_pc:.2f} s a county; fixed {fixed:.1f} s a run; "
          f"scheduler {scheduler_s * 1000:.1f} ms CPU per task (one process)")
    counties, records = 2800, 2800 * NATIONAL_RECORDS
    base = (per_county + max(overhead, 0)) * counties + per_record * records
    print(f"national estimate, {counties:,} counties x {NATIONAL_RECORDS:,} records = {records / 1e6:.1f}M records:")
    for n in sorted({workers, 16, 64, 256}):
        stages_h = (fixed + max(base / n, scheduler_s * counties)) / 60
        nb_h = (fixed + max((base + notebooks_pc * counties) / n, scheduler_s * counties)) / 60
        print(f"  {n:>4} workers: {stages_h:6.1f} min without notebooks, {nb_h:6.1f} min with every county's notebooks")
    print("assumptions: workers like these cores (one thread each), cost linear in counties and records as fitted, "
          "the overhead per county as measured between the small runs, workers scale without contention (the shared output directory keeps up, about "
          f"{high['files'] / high['counties']:.0f} files a county), the scheduler's time per task as measured, "
          "client memory flat as measured; generation and publishing excluded")
    (OUT / "national.json").write_text(json.dumps({
        "machine": machine(), "runs": runs, "with_notebooks": with_notebooks,
        "fit": {"fixed_seconds": fixed, "task_seconds_per_county": per_county, "task_seconds_per_record": per_record,
                "overhead_seconds_per_county": overhead, "notebooks_seconds_per_county": notebooks_pc, "scheduler_seconds_per_task": scheduler_s},
    }, indent=2), encoding="utf-8")
    print(f"figures: {OUT / 'national.json'}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
