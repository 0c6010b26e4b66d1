"""Loading + validation of one province quarter (~1,000,000 service records), time and peak memory.

    python benchmarks/bench_validate.py [--counties 73] [--records 1000000]

Generation is excluded (made once into build/bench/province, then reused). Target on 2 cores:
under 30 s and 3 GiB.
"""

from __future__ import annotations

import time

from common import QUARTER, machine, peak_rss_gib, province, province_arguments, services_count

from scoring.inputs.months import Quarter
from scoring.inputs.validate import validate_quarter


def main() -> None:
    args = province_arguments(__doc__.splitlines()[0]).parse_args()

    regions = province(args.counties, args.records)
    records = services_count(regions)
    quarter = Quarter.parse(QUARTER)
    started = time.perf_counter()
    errors = rows = 0
    for region in regions:
        validation = validate_quarter(region, quarter)
        errors += int((validation.problems["severity"] == "error").sum())
        rows += int(validation.accounting["rows_read"].sum())
    elapsed = time.perf_counter() - started
    print(f"machine: {machine()}")
    print(f"load + validate {len(regions)} counties, {records:,} service records, {rows:,} rows in all: "
          f"{elapsed:.1f} s ({elapsed / records * 1e5:.2f} s per 100,000 records), "
          f"peak RSS {peak_rss_gib():.2f} GiB, {errors} errors")


if __name__ == "__main__":
    main()
