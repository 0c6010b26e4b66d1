"""The stages the notebooks run: each loads its inputs, processes, and saves its outputs.

A notebook cell calls one stage and shows what it returns; no logic lives in notebooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .months import Quarter
from .pipeline import QuarterResults, score_quarter, write_results
from .rules import RegionConfig, Rules


class QuarterNotScorable(Exception):
    """The quarter's inputs have errors: the scores would be wrong, so none are made."""


def with_overrides(config: RegionConfig, overrides: dict[str, Any] | None) -> RegionConfig:
    """The region's rules with an evaluator's what-if overrides on top (same validation)."""
    if not overrides:
        return config
    rules = Rules.model_validate({**config.rules.model_dump(), **overrides})
    return config.model_copy(update={"rules": rules})


def validate_stage(data_dir: str | Path, quarter: str, out_dir: str | Path):
    """Validate the quarter's inputs and write validation.csv; stop here if it has errors."""
    from .validate import validate_quarter

    # load + process
    validation = validate_quarter(Path(data_dir), Quarter.parse(quarter))
    # save
    validation.write(Path(out_dir))
    if not validation.ok:
        raise QuarterNotScorable(
            f"{Path(data_dir).name} {quarter} 的输入有错误,不能评分;请按 "
            f"{Path(out_dir) / 'validation.csv'} 改正后重新运行。"
        )
    return validation


def score_stage(
    data_dir: str | Path, quarter: str, out_dir: str | Path, rules: dict[str, Any] | None = None
) -> QuarterResults:
    """Score the quarter and write scores, satisfaction, payments, spending and the evidence."""
    from .validate import validate_quarter

    # load
    data_dir = Path(data_dir)
    validation = validate_quarter(data_dir, Quarter.parse(quarter))
    if not validation.ok:
        raise QuarterNotScorable(f"{data_dir.name} {quarter} 的输入有错误,不能评分。")
    config = with_overrides(validation.config, rules)
    # process
    results = score_quarter(validation.tables, config, validation.quarter, data_dir.name)
    # save
    write_results(results, Path(out_dir), data_dir)
    return results


RESULT_DTYPES = {"gradable": "bool", "small_sample": "bool"}


def read_result(out_dir: str | Path, name: str) -> pd.DataFrame:
    """A result table as written: decimals stay strings, counts become integers."""
    table = pd.read_csv(Path(out_dir) / f"{name}.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8")
    for column in table.columns:
        if column in RESULT_DTYPES:
            table[column] = table[column] == "True"
        elif column in COUNT_COLUMNS:
            table[column] = table[column].astype("int64")
    return table


COUNT_COLUMNS = {
    "required_months", "months_met", "visits_completed", "records_capped", "surveys", "satisfied",
    "inspections", "inspections_passed", "falsified_findings", "tickets", "tickets_in_time",
    "substantiated_complaints", "n1", "n2", "n3", "n4", "n5", "completed_services",
    "contract_days", "contract_days_in_quarter",
}


def band_edge_summary(scores: pd.DataFrame) -> str:
    """A plain-language note (Markdown) on who is near a band edge or not gradable."""
    lines = []
    for row in scores.itertuples(index=False):
        if not row.gradable:
            lines.append(f"- **{row.provider_name}** 暂不评级,资金暂缓拨付:{row.reason}。")
        elif str(row.near_band_edge) == "True":
            lines.append(
                f"- **{row.provider_name}** 得分 {row.score}({row.grade}),95% 置信区间 "
                f"{row.score_ci_low}–{row.score_ci_high} 跨越等级分界线:等级对抽样较敏感,"
                "建议复核其服务记录与回访。")
    if not lines:
        return "所有机构均可评级,且得分的置信区间都未跨越等级分界线。"
    return "\n".join(lines)


class NotReady(Exception):
    """A quarter's results cannot be used yet: the message says why and what to run."""


def require_scored(region_dir: Path, quarter: Quarter, results_dir: Path):
    """The quarter's validation and run record, if its inputs are valid, it has been scored, and
    its inputs have not changed since; otherwise NotReady with what to do."""
    import json

    from .pipeline import inputs_fingerprint
    from .validate import validate_quarter

    region_dir, results_dir = Path(region_dir), Path(results_dir)
    validation = validate_quarter(region_dir, quarter)
    if not validation.ok:
        validation.write(results_dir)
        raise NotReady(
            f"{region_dir.name} {quarter} 的输入有错误。请按 {results_dir / 'validation.csv'} "
            "改正,重新评分后再试。")
    run_file = results_dir / "run.json"
    if not (run_file.is_file() and (results_dir / "payments.csv").is_file()):
        raise NotReady(
            f"{region_dir.name} {quarter} 尚未评分。请先运行:scoring run {region_dir} --quarter {quarter}")
    run = json.loads(run_file.read_text(encoding="utf-8"))
    if run.get("inputs") != inputs_fingerprint(region_dir, quarter):
        raise NotReady(
            f"{region_dir.name} {quarter} 的输入在评分之后有改动,现有结果已过时。"
            f"请重新运行:scoring run {region_dir} --quarter {quarter}")
    return validation, run
