"""Shared helpers for the benchmark scripts: the province data set, timing and peak memory."""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROVINCE = ROOT / "build" / "bench" / "province"
QUARTER = "2026Q3"


def province_arguments(description: str) -> argparse.ArgumentParser:
    """The options every province benchmark takes: --counties, --records."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--counties", type=int, default=73)
    parser.add_argument("--records", type=int, default=1_000_000)
    return parser


def province(counties: int = 73, records: int = 1_000_000, out: Path = PROVINCE) -> list[Path]:
    """The generated province (made once, then reused): one region directory per county."""
    from scoring_synthetic.generate import generate

    marker = out / f".complete-{counties}-{records}"
    if not marker.exists():
        started = time.perf_counter()
        generate("province", out, counties=counties, records_per_quarter=records, quarters=[QUARTER])
        marker.write_text("")
        print(f"generated {counties} counties, {records:,} records in {time.perf_counter() - started:.1f} s")
    return sorted(p.parent for p in out.glob("*/region.yaml"))


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


@contextmanager
def timed(label: str, results: dict):
    started = time.perf_counter()
    yield
    results[label] = time.perf_counter() - started


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def services_count(regions: list[Path], quarter: str = QUARTER) -> int:
    total = 0
    for region in regions:
        with open(region / quarter / "services.csv", "rb") as handle:
            total += sum(1 for _ in handle) - 1
    return total
