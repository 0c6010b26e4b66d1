"""The results layer on disk: a quarter's result tables, the evidence behind them and its record.

`build/results/<region>/<quarter>/` holds SPEC.md's result tables (`scores.csv`,
`satisfaction.csv`, `payments.csv`, `spending.csv`: the stable interface outside users read),
`trace/` (the rows behind every number; personal data, so it never leaves build/), a hard link to
the validated layer's `validation.csv` and `accounting.csv`, `provider_pages/` (each provider's
profile, services and findings, summed up from the trace for publishing), and `run.json`: the rules actually
used (an evaluator's what-if overrides included), the validated layer it was made from, and the
sha256 of every file written. Nothing written here carries a timestamp, so the same inputs give
byte-identical results.

Later stages (the finance workbook, publishing) open it with `read_results`, which refuses when
the layer is missing or was made from another validated layer than the current one. The rules
they apply are the ones in `run.json`, so a what-if override reaches every output or none.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoring import __version__
from scoring.engine.pipeline import RESULT_FILES, QuarterResults
from scoring.engine.tables import SCHEMAS, Kind, arrow_schema, as_text, conform
from scoring.files import file_sha256, write_json, written_aside
from scoring.inputs.layer import REPORT_FILES, ValidatedLayer
from scoring.inputs.rules import Rules
from scoring.outputs.public import PROVIDER_TABLES, Evidence, provider_tables
from scoring.refusal import Code, Refusal

RESULT_NAMES = RESULT_FILES  # one list, the engine's
RUN_FILE = "run.json"
TYPED = "tables"  # the typed Parquet copy of each result table, which later stages read
# what each provider's page says besides its scores (public.provider_tables), summed up here from
# the trace when the quarter is scored, so publishing reads these few rows, never the trace: a
# province's counties are published without reading their traces, most of their bytes
PROVIDER_PAGES = "provider_pages"
TRACE_BEHIND_PAGES = ("inspections", "tickets", "required_months", "record_hours")


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """A result table as SPEC.md says: UTF-8, one header row, "\\n" line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_results(results: QuarterResults, out_dir: Path, validated: ValidatedLayer) -> dict:
    """Write the results layer of one quarter into `out_dir` (aside, then renamed into place);
    return its record (`run.json`)."""
    with written_aside(out_dir) as aside:
        written = []
        for name, table in results.tables().items():
            table = conform(table, name)  # the declared schema, checked where the layer is written
            write_csv(as_text(table, name), aside / f"{name}.csv")
            typed = aside / TYPED / f"{name}.parquet"
            typed.parent.mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(table, schema=arrow_schema(name), preserve_index=False), typed)
            written += [aside / f"{name}.csv", typed]
        for name, table in results.evidence.tables().items():
            write_csv(table, aside / "trace" / f"{name}.csv")
            written.append(aside / "trace" / f"{name}.csv")
        for name, table in _provider_pages(aside, validated, results.rules).items():
            write_csv(table, aside / PROVIDER_PAGES / f"{name}.csv")
            written.append(aside / PROVIDER_PAGES / f"{name}.csv")
        for name in REPORT_FILES:  # the validated layer's report, where SPEC.md lists it
            _link_or_copy(validated.path / name, aside / name)
        record = {
            "region": results.region, "region_name": results.region_name,
            "region_code": results.region_code, "quarter": str(results.quarter),
            "code_version": __version__,
            "rules_fingerprint": results.rules.fingerprint(),
            "rules": results.rules.model_dump(mode="json"),
            "validated_fingerprint": validated.fingerprint,
            "inputs": validated.record["inputs"],
            "inputs_fingerprint": validated.record["inputs_fingerprint"],
            "outputs": {p.relative_to(aside).as_posix(): file_sha256(p) for p in written},
        }
        write_json(aside / RUN_FILE, record)
    return record


def _provider_pages(aside: Path, validated: ValidatedLayer, rules: Rules) -> dict[str, pd.DataFrame]:
    """profiles, offered and findings from the trace as just written (its text cells, the form the
    public tables are made from) and the validated providers, catalog and beneficiaries' township."""
    trace = {name: pd.read_csv(aside / "trace" / f"{name}.csv", dtype=str, keep_default_na=False)
             for name in TRACE_BEHIND_PAGES}
    people = validated.table("beneficiaries")
    scores = pd.read_csv(aside / "scores.csv", dtype=str, keep_default_na=False)
    evidence = Evidence(**trace, beneficiaries=people[["beneficiary_id", "township"]])  # the township only
    return provider_tables(scores, validated.table("providers"), validated.table("catalog"), rules, evidence)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, target)


def read_result(out_dir: str | Path, name: str) -> pd.DataFrame:
    """A result table as its CSV is written, for reading a file outside the product: decimals stay
    strings, counts become integers. The product reads `ResultsLayer.table` (typed)."""
    table = pd.read_csv(Path(out_dir) / f"{name}.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8")
    for column, spec in SCHEMAS[name].items():  # the declared schema says which cells are what
        if column in table and spec.kind is Kind.BOOL:
            table[column] = table[column] == "True"
        elif column in table and spec.kind is Kind.COUNT:
            table[column] = table[column].astype("int64")
    return table


@dataclass
class ResultsLayer:
    path: Path
    record: dict

    @cached_property
    def rules(self) -> Rules:
        return Rules.model_validate(self.record["rules"])

    def table(self, name: str) -> pd.DataFrame:
        """A result table, typed as declared (`engine.tables`): Decimal, integers, booleans."""
        return conform(pq.read_table(self.path / TYPED / f"{name}.parquet").to_pandas(), name)

    def text_table(self, name: str) -> pd.DataFrame:
        """A result table as its CSV cells (for the edges that write text)."""
        return as_text(self.table(name), name)

    def trace(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.path / "trace" / f"{name}.csv", dtype=str, keep_default_na=False)

    def provider_pages(self) -> dict[str, pd.DataFrame]:
        """The providers' profiles, services offered and findings, as text cells."""
        return {name: pd.read_csv(self.path / PROVIDER_PAGES / f"{name}.csv", dtype=str, keep_default_na=False)
                for name in PROVIDER_TABLES}

    def hashes(self) -> dict[str, str]:
        """sha256 of the result tables, as run.json recorded them."""
        return {f"{name}.csv": self.record["outputs"][f"{name}.csv"] for name in RESULT_NAMES}


def read_results(out_dir: Path, validated: ValidatedLayer) -> ResultsLayer:
    """Open the results layer at `out_dir`; refuse when it is missing or was made from another
    validated layer than `validated`."""
    out_dir = Path(out_dir)
    region, quarter = validated.record["region"], validated.record["quarter"]
    where = validated.record.get("region_dir") or "<区域目录>"
    run_file = out_dir / RUN_FILE
    expected = [f"{n}.csv" for n in RESULT_NAMES] + [f"{PROVIDER_PAGES}/{n}.csv" for n in PROVIDER_TABLES]
    if not run_file.is_file() or not all((out_dir / name).is_file() for name in expected):  # a layer
        # made before the provider pages were summed up at scoring is scored again, as a missing one
        raise Refusal(Code.NOT_SCORED, f"{region} {quarter} 尚未评分(找不到 {out_dir / RUN_FILE})。",
                      f"请先运行:scoring run {where} --quarter {quarter}")
    try:
        record = json.loads(run_file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise Refusal(Code.LAYER_UNREADABLE, f"{run_file} 无法读取({exc})。",
                      f"请重新运行:scoring run {where} --quarter {quarter}") from exc
    if record.get("validated_fingerprint") != validated.fingerprint:
        raise Refusal(Code.RESULTS_STALE,
                      f"{region} {quarter} 的评分结果不是由当前的校验结果算出的(输入或程序在评分之后有改动),"
                      "现有结果已过时。",
                      f"请重新运行:scoring run {where} --quarter {quarter}")
    return ResultsLayer(out_dir, record)
