"""The public layer on disk: what may be published of a quarter, before it reaches `site/`.

`build/public/<region>/<quarter>/` holds the public tables as the public CSV files (no personal
column, small counts suppressed; `public.public_tables`) and `public.json`: the run record the
tables were made from (region, quarter, inputs, rules), the region's publisher settings, the sha256 of the result tables and of
every public file. `scoring publish` writes it from the results layer, then publishes from it;
the checks of what may be published run on this layer, before anything is written to `site/`.
A publication refuses a public layer that is missing or was made from other results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scoring.files import digest, write_bytes, write_json, written_aside
from scoring.inputs.layer import ValidatedLayer
from scoring.inputs.rules import Rules
from scoring.outputs.disclosure import View
from scoring.outputs.formats import csv_bytes, read_public_csv, sha256
from scoring.outputs.public import PUBLIC_TABLES, public_tables
from scoring.outputs.results import RESULT_NAMES, ResultsLayer
from scoring.refusal import Code, Refusal

PUBLIC_FILE = "public.json"
RUN_KEYS = ("region", "region_name", "region_code", "quarter", "code_version", "rules",
            "rules_fingerprint", "inputs", "inputs_fingerprint", "validated_fingerprint")


@dataclass
class PublicLayer:
    path: Path
    record: dict
    tables: dict[str, pd.DataFrame]  # the public tables, as text cells

    @property
    def run(self) -> dict:
        return self.record["run"]

    @property
    def rules(self) -> Rules:
        return Rules.model_validate(self.run["rules"])

    @property
    def small_hidden(self) -> frozenset:
        return frozenset(tuple(cell) for cell in self.record.get("small_hidden", []))


def write_public(validated: ValidatedLayer, results: ResultsLayer, out_dir: Path,
                 earlier: list[View] = ()) -> PublicLayer:
    """The quarter's public tables from its results layer, written aside and renamed into place.
    `earlier`: the versions of the quarter already online, which the disclosure audit reads too."""
    # load + process
    tables, coarse = public_tables({name: results.text_table(name) for name in RESULT_NAMES},
                                   validated.table("providers"), validated.table("catalog"),
                                   results.rules, earlier, results.provider_pages())
    files = {f"{name}.csv": csv_bytes(table) for name, table in tables.items()}
    config = validated.config
    record = {
        "layer": "public", "run": {key: results.record[key] for key in RUN_KEYS},
        # where and under which ocid prefix the region publishes (region.yaml `publisher:`)
        "publisher": config.publisher.model_dump(mode="json") if config else {},
        # who the public complains and objects to (region.yaml `contact:`); None: not yet set
        "contact": config.contact.model_dump(mode="json") if config and config.contact else None,
        "results": results.hashes(), "results_fingerprint": digest(results.hashes()),
        "files": {name: sha256(data) for name, data in files.items()},
        # small counts shown as "x": the publication's audit checks them too (never published)
        "small_hidden": coarse,
        "audited_with": [view.label for view in earlier],
    }
    # save
    with written_aside(out_dir) as aside:
        for name, data in files.items():
            write_bytes(aside / name, data)
        write_json(aside / PUBLIC_FILE, record)
    return PublicLayer(Path(out_dir), record, tables)


def read_public(out_dir: Path, results: ResultsLayer) -> PublicLayer:
    """Open the public layer; refuse when it is missing, damaged, or made from other results."""
    out_dir = Path(out_dir)
    quarter = results.record["quarter"]
    where = results.record.get("region_dir") or "<区域目录>"
    path = out_dir / PUBLIC_FILE
    if not path.is_file():
        raise Refusal(Code.NOT_PUBLIC, f"{results.record['region']} {quarter} 还没有公开数据层(找不到 {path})。",
                      f"请运行:scoring publish {where} --quarter {quarter}")
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("results") != results.hashes():
        raise Refusal(Code.PUBLIC_STALE,
                      f"{results.record['region']} {quarter} 的公开数据不是由当前的评分结果生成的。",
                      f"请重新运行:scoring publish {where} --quarter {quarter}")
    tables = {}
    for name in PUBLIC_TABLES:
        data = (out_dir / f"{name}.csv").read_bytes()
        if sha256(data) != record["files"].get(f"{name}.csv"):
            raise Refusal(Code.LAYER_UNREADABLE, f"{out_dir / f'{name}.csv'} 与 {PUBLIC_FILE} 记录的不一致。",
                          f"请重新运行:scoring publish {where} --quarter {quarter}")
        tables[name] = read_public_csv(out_dir / f"{name}.csv")
    return PublicLayer(out_dir, record, tables)
