"""The disclosure audit on a province quarter: tables audited, cells hidden, cells the audit added,
and the time it takes.

    python benchmarks/bench_disclosure.py [--counties 73] [--records 1000000]

Each county is validated and scored in memory (not timed), then its public tables are made
(primary and secondary suppression, then hardening until the audit finds no weak cell) and the
release is audited once more as `scoring publish` does. "Added by the audit" counts the cells of
satisfaction.csv hidden (or shown as x instead of <5) beyond what equation-by-equation secondary
suppression hid.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from common import QUARTER, ROOT, machine, province, province_arguments

from scoring.engine.pipeline import score_quarter
from scoring.engine.tables import as_text
from scoring.inputs.months import Quarter
from scoring.inputs.validate import validate_quarter
from scoring.outputs.disclosure import View, audit
from scoring.outputs.privacy import suppression_mask
from scoring.outputs.public import _satisfaction_counts, public_tables

COUNTS = ["surveys", "satisfied", "n1", "n2", "n3", "n4", "n5"]


def county(region: Path, quarter: Quarter) -> dict:
    validation = validate_quarter(region, quarter)
    results = score_quarter(validation.tables, validation.config, quarter, region.name)
    text = {name: as_text(table, name) for name, table in results.tables().items()}
    rules = results.rules
    started = time.perf_counter()
    tables, coarse = public_tables(text, validation.tables["providers"], validation.tables["catalog"], rules)
    protect = time.perf_counter() - started
    started = time.perf_counter()
    report = audit([View(tables, rules, small=frozenset(map(tuple, coarse)))])
    check = time.perf_counter() - started
    counts, equations = _satisfaction_counts(text["satisfaction"], rules)
    before = suppression_mask(counts, equations, rules.suppress_below, derived=["unsatisfied"])[COUNTS]
    shown = tables["satisfaction"].set_index("provider_id")[COUNTS]
    hidden = shown.isin(["x", f"<{rules.suppress_below}"])
    small = int(((counts[COUNTS] > 0) & (counts[COUNTS] < rules.suppress_below)).sum().sum())
    return {"county": region.name, "cells": int(shown.size), "small": small,
            "hidden_by_equations": int(before.sum().sum()), "hidden": int(hidden.sum().sum()),
            "shown_as_x_though_small": len(coarse), "withheld_rates": int((tables["satisfaction"]["rate"] == "").sum()),
            "audited": len(report.findings), "weak": len(report.weak), "protect_s": protect, "audit_s": check}


def main() -> None:
    args = province_arguments(__doc__.splitlines()[0]).parse_args()
    regions = province(args.counties, args.records)
    quarter = Quarter.parse(QUARTER)
    rows = pd.DataFrame([county(region, quarter) for region in regions])
    total = rows.sum(numeric_only=True)
    print(f"machine: {machine()}; {len(regions)} counties, {QUARTER}")
    print(f"  public tables audited                 {len(rows) * 5:8d}  (satisfaction, scores, complaints, "
          f"contracts, spending per county)")
    print(f"  satisfaction cells                    {int(total['cells']):8d}")
    print(f"  small counts (1..T-1)                 {int(total['small']):8d}")
    print(f"  hidden by equation-by-equation rule   {int(total['hidden_by_equations']):8d}")
    print(f"  hidden after the audit                {int(total['hidden']):8d}  "
          f"(+{int(total['hidden'] - total['hidden_by_equations'])} added by the audit; "
          f"{int(total['shown_as_x_though_small'])} small counts shown as x)")
    print(f"  rates withheld (incl. ALL rows)       {int(total['withheld_rates']):8d} of {len(rows) * 0 + int(total['cells'] // 7)} rows")
    print(f"  hidden small counts audited           {int(total['audited']):8d}; weak after protection: {int(total['weak'])}")
    print(f"  time: protection {total['protect_s']:.1f} s, final audit {total['audit_s']:.1f} s "
          f"(one core; slowest county {rows['protect_s'].max():.2f} s)")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
