"""One quarter, end to end: validated tables in, the result tables of SPEC.md out.

`score_quarter` is pure (tables in, tables out); `write_results` is the edge that writes
`scores.csv`, `satisfaction.csv`, `payments.csv`, `spending.csv`, the evidence behind them
(`trace/`, personal data: stays in build/) and `run.json` (rules and inputs fingerprints).
Nothing written here carries a timestamp, so the same inputs give byte-identical results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import __version__
from .months import Quarter
from .payments import care_lines, escort_lines, payment_table
from .rules import RegionConfig, Rules
from .satisfaction import satisfaction_table
from .scores import Evidence, score_providers
from .spending import spending_table

RESULT_FILES = ("scores", "satisfaction", "payments", "spending")


@dataclass
class QuarterResults:
    region: str  # the region directory's name, e.g. xiajiang
    region_name: str  # e.g. 峡江县
    region_code: str
    quarter: Quarter
    rules: Rules
    scores: pd.DataFrame
    satisfaction: pd.DataFrame
    payments: pd.DataFrame
    spending: pd.DataFrame
    evidence: Evidence

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in RESULT_FILES}


def score_quarter(
    tables: dict[str, pd.DataFrame], config: RegionConfig, quarter: Quarter, region: str
) -> QuarterResults:
    """Every result table of one quarter from its validated input tables."""
    rules = config.rules
    scores, evidence = score_providers(tables, quarter, rules)
    escort = escort_lines(evidence.record_hours, tables["services"], rules)
    care = care_lines(tables["beneficiaries"], quarter, rules)
    payments = payment_table(
        tables["providers"], scores, evidence.inspections, escort, care, quarter, rules)
    spending = spending_table(
        payments, tables["beneficiaries"], completed_services=len(evidence.record_hours),
        delivered_seconds=int(evidence.record_hours["counted_seconds"].sum()),
        quarter=quarter, rules=rules,
    )
    return QuarterResults(
        region=region, region_name=config.name, region_code=config.code, quarter=quarter,
        rules=rules, scores=scores,
        satisfaction=satisfaction_table(tables["providers"], tables["surveys"], rules),
        payments=payments, spending=spending, evidence=evidence,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(region_dir: Path, quarter: Quarter) -> list[Path]:
    """Every input file of the quarter (region-level files and the quarter's folder)."""
    region_dir = Path(region_dir)
    files = [p for p in sorted(region_dir.iterdir()) if p.is_file()]
    quarter_dir = region_dir / str(quarter)
    if quarter_dir.is_dir():
        files += [p for p in sorted(quarter_dir.iterdir()) if p.is_file()]
    return files


def inputs_fingerprint(region_dir: Path, quarter: Quarter) -> dict[str, str]:
    region_dir = Path(region_dir)
    return {p.relative_to(region_dir).as_posix(): file_sha256(p)
            for p in input_files(region_dir, quarter)}


def write_csv(table: pd.DataFrame, path: Path, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n")


def write_results(results: QuarterResults, out_dir: Path, region_dir: Path) -> list[Path]:
    """Write the result tables, the evidence and run.json into `out_dir`; return the paths."""
    out_dir = Path(out_dir)
    written = []
    for name, table in results.tables().items():
        path = out_dir / f"{name}.csv"
        write_csv(table, path)
        written.append(path)
    for name, table in results.evidence.tables().items():
        path = out_dir / "trace" / f"{name}.csv"
        write_csv(table, path)
        written.append(path)
    inputs = inputs_fingerprint(region_dir, results.quarter)
    run = {
        "region": results.region, "region_name": results.region_name,
        "region_code": results.region_code, "quarter": str(results.quarter),
        "code_version": __version__,
        "rules_fingerprint": results.rules.fingerprint(),
        "rules": results.rules.model_dump(mode="json"),
        "inputs": inputs,
        "inputs_fingerprint": hashlib.sha256(
            json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest(),
        "outputs": {p.relative_to(out_dir).as_posix(): file_sha256(p) for p in written},
    }
    path = out_dir / "run.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return [*written, path]
