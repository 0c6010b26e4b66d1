"""One province quarter end to end (validate, score, write every county's results, the province
summary and the province record notebook) at 1, 2 and all cores; and the cost per 100,000
records as the record count grows, as a curve and a plot in build/benchmarks/.

    python benchmarks/bench_province.py [--counties 73] [--records 1000000] [--sizes 250000,500000,1000000,2000000]

Generation is excluded. Targets on 2 cores: 1,000,000 records in under 2 minutes and 4 GiB,
cost growing linearly with records.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import QUARTER, ROOT, machine, province, services_count

OUT = ROOT / "build" / "benchmarks"


def end_to_end(province_dir: Path, workers: int) -> dict:
    """`scoring run PROVINCE --quarter Q --workers N` in a fresh process, timed from outside."""
    work = OUT / f"work-{province_dir.name}-{workers}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "scoring", "run", str(province_dir), "--quarter", QUARTER,
                             "--workers", str(workers)], cwd=work, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"run failed:\n{result.stderr[-2000:]}")
    # ru_maxrss of children is the largest single child: the parent or one pool worker.
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024 / 1024
    shutil.rmtree(work, ignore_errors=True)
    return {"workers": workers, "seconds": round(elapsed, 1), "largest_process_gib": round(peak, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=73)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="250000,500000,1000000,2000000")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    print(f"machine: {machine()}")

    regions = province(args.counties, args.records)
    records = services_count(regions)
    scaling = [end_to_end(regions[0].parent, w) for w in sorted({1, 2, cores})]
    for row in scaling:
        print(f"{records:,} records, {len(regions)} counties, {row['workers']} worker(s): {row['seconds']} s end to end, "
              f"largest process {row['largest_process_gib']} GiB")

    curve = []
    for size in (int(s) for s in args.sizes.split(",")):
        size_regions = province(args.counties, size, out=ROOT / "build" / "bench" / f"province-{size}")
        n = services_count(size_regions)
        run = end_to_end(size_regions[0].parent, cores)
        curve.append({"records": n, "seconds": run["seconds"],
                      "seconds_per_100k": round(run["seconds"] / n * 1e5, 2)})
        print(f"{n:,} records: {run['seconds']} s on {cores} workers = {curve[-1]['seconds_per_100k']} s per 100,000")
    import numpy as np

    slope, intercept = np.polyfit([c["records"] for c in curve], [c["seconds"] for c in curve], 1)
    fit = {"fixed_seconds": round(float(intercept), 1), "seconds_per_100k": round(float(slope) * 1e5, 2)}
    print(f"least-squares line: {fit['fixed_seconds']} s fixed (interpreter, pool, province notebook) "
          f"+ {fit['seconds_per_100k']} s per 100,000 records")
    (OUT / "province.json").write_text(json.dumps({"machine": machine(), "scaling": scaling, "curve": curve,
                                                   "fit": fit},
                                                  indent=2), encoding="utf-8")
    plot(curve)
    print(f"curve and plot: {OUT / 'province.json'}, {OUT / 'province_cost.html'}")


def plot(curve: list[dict]) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=[c["records"] for c in curve], y=[c["seconds"] for c in curve], mode="lines+markers",
                    name="seconds end to end")
    fig.add_scatter(x=[c["records"] for c in curve], y=[c["seconds_per_100k"] for c in curve],
                    mode="lines+markers", name="seconds per 100,000 records", yaxis="y2")
    fig.update_layout(title="Province quarter: cost against service records",
                      xaxis_title="service records in the quarter", yaxis_title="seconds",
                      yaxis2=dict(title="seconds per 100,000", overlaying="y", side="right"))
    fig.write_html(OUT / "province_cost.html", include_plotlyjs=True)  # self-contained, offline


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
