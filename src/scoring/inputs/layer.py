"""The validated layer on disk: a quarter's inputs validated once, typed, with their report.

`build/validated/<region>/<quarter>/` holds

- one Parquet file per input file: the typed rows kept (`validate` decides which), with an Arrow
  schema declared from the input contract (`schema.FILES`), so every later stage reads the same
  types the validator produced and never parses text again;
- `config.json`: the region's configuration (`region.yaml`) with every rule resolved;
- `validation.csv` and `accounting.csv`: the problem report and the row accounting;
- `layer.json`: what the layer was made from (the sha256 of every raw input file), the code
  version, whether the quarter may be scored, and its fingerprint.

The layer is written aside and renamed into place, so a killed validation never leaves half a
layer. A later stage opens it with `read_validated`, which refuses (with a reason code) when the
layer is missing, damaged, or stale because a raw input changed since; it never validates again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoring import __version__
from scoring.files import (
    digest,
    file_sha256,
    read_spreadsheet_csv,
    spreadsheet_csv,
    write_json,
    written_aside,
)
from scoring.inputs.load import ROW
from scoring.inputs.months import Quarter
from scoring.inputs.problems import Severity, rows_with
from scoring.inputs.rules import RegionConfig
from scoring.inputs.schema import FILES, FileSpec, Kind
from scoring.refusal import Code, Refusal

LAYER_FORMAT = 1
LAYER_FILE = "layer.json"
CONFIG_FILE = "config.json"
REPORT_FILES = ("validation.csv", "accounting.csv")

# How each kind of input column is stored (validate.py's typed tables, as the engine reads them).
_ARROW_TYPES = {
    Kind.DATE: pa.timestamp("ns"), Kind.DATETIME: pa.timestamp("ns"),
    Kind.MONEY: pa.decimal128(18, 2), Kind.INT: pa.int64(), Kind.NUMBER: pa.float64(),
}


def arrow_schema(spec: FileSpec) -> pa.Schema:
    """The declared Arrow schema of one validated input table (columns in contract order)."""
    fields = [pa.field(c.name, _ARROW_TYPES.get(c.kind, pa.string())) for c in spec.columns]
    return pa.schema([*fields, pa.field(ROW, pa.int64())])


# fingerprints of the raw inputs ----------------------------------------------------------------


def input_files(region_dir: Path, quarter: Quarter) -> list[Path]:
    """Every input file of the quarter (region-level files and the quarter's folder)."""
    region_dir = Path(region_dir)
    files = [p for p in sorted(region_dir.iterdir()) if p.is_file()]
    for quarter_dir in sorted(region_dir.iterdir()):
        if quarter_dir.is_dir() and quarter_dir.name.upper() == str(quarter):
            files += [p for p in sorted(quarter_dir.iterdir()) if p.is_file()]
    return files


def inputs_fingerprint(region_dir: Path, quarter: Quarter) -> dict[str, str]:
    """sha256 of every raw input file of the quarter, by its path inside the region."""
    region_dir = Path(region_dir)
    return {p.relative_to(region_dir).as_posix(): file_sha256(p)
            for p in input_files(region_dir, quarter)}


# writing -----------------------------------------------------------------------------------------


def write_validated(validation, layer_dir: Path, inputs: dict[str, str]) -> dict:
    """Write `validation` (a `validate.Validation`) as the quarter's validated layer; return its
    record (`layer.json`). `inputs` are the raw inputs' sha256, taken before they were read, so a
    file changed while it was validated leaves the layer stale, never wrongly fresh."""
    with written_aside(layer_dir) as aside:
        for name, table in validation.tables.items():
            arrow = pa.Table.from_pandas(table, schema=arrow_schema(FILES[name]), preserve_index=False)
            pq.write_table(arrow, aside / f"{name}.parquet")
        config = validation.config.model_dump(mode="json") if validation.config else None
        write_json(aside / CONFIG_FILE, config)
        # clerks open the report in a spreadsheet: values copied from the inputs must stay inert
        (aside / "validation.csv").write_bytes(spreadsheet_csv(validation.problems))
        (aside / "accounting.csv").write_bytes(spreadsheet_csv(validation.accounting))
        record = {
            "layer": "validated", "format": LAYER_FORMAT, "code_version": __version__,
            "region": Path(validation.region_dir).name, "quarter": str(validation.quarter),
            "region_dir": str(Path(validation.region_dir).resolve()),
            "ok": bool(validation.ok),
            "errors": rows_with(validation.problems, Severity.ERROR),
            "warnings": rows_with(validation.problems, Severity.WARNING),
            "rows_used": {name: len(table) for name, table in validation.tables.items()},
            "inputs": inputs,
            "inputs_fingerprint": digest(inputs),
            "config_fingerprint": digest(config),
        }
        record["fingerprint"] = digest({k: record[k] for k in
                                        ("format", "code_version", "inputs", "config_fingerprint")})
        write_json(aside / LAYER_FILE, record)
    return record


# reading -----------------------------------------------------------------------------------------


@dataclass
class ValidatedLayer:
    """A quarter's validated layer as read from disk; tables are read when first asked for."""

    path: Path
    record: dict

    @property
    def ok(self) -> bool:
        return bool(self.record["ok"])

    @property
    def quarter(self) -> Quarter:
        return Quarter.parse(self.record["quarter"])

    @property
    def region_dir(self) -> Path:
        return Path(self.record["region_dir"])

    @property
    def fingerprint(self) -> str:
        return self.record["fingerprint"]

    @cached_property
    def config(self) -> RegionConfig | None:
        data = json.loads((self.path / CONFIG_FILE).read_text(encoding="utf-8"))
        return None if data is None else RegionConfig.model_validate(data)

    @cached_property
    def problems(self) -> pd.DataFrame:
        return read_spreadsheet_csv(self.path / "validation.csv")

    @cached_property
    def accounting(self) -> pd.DataFrame:
        table = read_spreadsheet_csv(self.path / "accounting.csv")
        for column in table.columns[1:]:
            table[column] = table[column].astype("int64")
        return table

    def table(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.path / f"{name}.parquet").to_pandas()

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: self.table(name) for name in FILES}


def read_validated(layer_dir: Path, region_dir: Path | None = None, *,
                   scorable: bool = True) -> ValidatedLayer:
    """Open the validated layer at `layer_dir`. Refuses when it is missing or unreadable, when a
    raw input in `region_dir` (if given) changed since, and, if `scorable`, when the inputs have
    errors."""
    layer_dir = Path(layer_dir)
    region = Path(region_dir).name if region_dir else layer_dir.parent.name
    quarter = layer_dir.name
    record_file = layer_dir / LAYER_FILE
    if not record_file.is_file():
        raise Refusal(Code.NOT_VALIDATED, f"{region} {quarter} 尚未校验(找不到 {layer_dir})。",
                      f"请先运行:scoring validate {region_dir or '<区域目录>'} --quarter {quarter}")
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if record.get("layer") != "validated" or record.get("format") != LAYER_FORMAT:
            raise ValueError("not a validated layer of this format")
    except (ValueError, OSError) as exc:
        raise Refusal(Code.LAYER_UNREADABLE, f"{layer_dir} 不是可用的校验结果({exc})。",
                      "请重新运行 scoring validate。") from exc
    if record.get("code_version") != __version__:
        raise Refusal(Code.VALIDATED_STALE,
                      f"{region} {quarter} 的校验结果由另一版本的程序({record.get('code_version')})写出。",
                      f"请重新运行:scoring validate {region_dir or '<区域目录>'} --quarter {quarter}")
    layer = ValidatedLayer(layer_dir, record)
    if region_dir is not None and inputs_fingerprint(Path(region_dir), layer.quarter) != record["inputs"]:
        raise Refusal(Code.VALIDATED_STALE,
                      f"{region} {quarter} 的输入文件在校验之后有改动,现有校验结果已过时。",
                      f"请重新运行:scoring validate {region_dir} --quarter {quarter}"
                      f"(或 scoring run {region_dir} --quarter {quarter})")
    if scorable and not layer.ok:
        raise Refusal(Code.INPUTS_HAVE_ERRORS,
                      f"{region} {quarter} 的输入有 {record['errors']} 个错误,不能评分、拨付或公布。",
                      f"请按 {layer_dir / 'validation.csv'} 逐条改正后重新运行。")
    return layer


def fresh_layer(layer_dir: Path, region_dir: Path) -> ValidatedLayer | None:
    """The validated layer if it exists and still matches the raw inputs and this code, else None
    (used to validate a quarter once, not once per command)."""
    try:
        return read_validated(layer_dir, region_dir, scorable=False)
    except Refusal:
        return None
