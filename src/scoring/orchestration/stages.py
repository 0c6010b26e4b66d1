"""The stages of a quarter, each reading the layer below it and writing its own, once.

    raw inputs (data/<region>/, never touched)
      -> validate_stage -> validated layer (build/validated/<region>/<quarter>/)
      -> score_stage    -> results layer   (build/results/<region>/<quarter>/)
      -> payments_stage -> finance schedule (build/payments/<region>/<quarter>/)
      -> public_stage   -> public layer    (build/public/<region>/<quarter>/)
      -> publish_stage  -> the publication (site/disclosures/), from the public layer

Each stage reads as three blocks: load its inputs (the layer below, refused with a reason code
when missing or stale), process (pure functions of `scoring.engine` and `scoring.outputs`), save.
The notebooks call these and show what they return; no logic lives in notebooks. Only
`validate_stage` reads the raw inputs, and it validates a quarter once: when its validated layer
still matches the raw inputs and this code, it is reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scoring.engine.pipeline import QuarterResults, score_quarter
from scoring.inputs.layer import (
    ValidatedLayer,
    fresh_layer,
    inputs_fingerprint,
    read_validated,
    write_validated,
)
from scoring.inputs.months import Quarter
from scoring.inputs.rules import RegionConfig, Rules
from scoring.inputs.validate import validate_quarter
from scoring.outputs.pages import md_escape
from scoring.outputs.public_layer import PublicLayer, read_public, write_public
from scoring.outputs.publish import Outcome, candidate_from_public, publish_many, published_views
from scoring.outputs.results import (
    ResultsLayer,
    read_result,
    read_results,
    write_results,
)
from scoring.outputs.workbook import build_schedule

__all__ = [
    "Workspace", "validate_stage", "score_stage", "payments_stage", "public_stage", "publish_stage",
    "scored_layers", "with_overrides", "band_edge_summary", "read_result",
]


@dataclass(frozen=True)
class Workspace:
    """Where a build keeps each layer: `build/<layer>/<region>/<quarter>/`."""

    build: Path = Path("build")

    def validated(self, region: str, quarter: Quarter | str) -> Path:
        return self.build / "validated" / region / str(quarter)

    def results(self, region: str, quarter: Quarter | str) -> Path:
        return self.build / "results" / region / str(quarter)

    def notebooks(self, region: str, quarter: Quarter | str) -> Path:
        return self.build / "notebooks" / region / str(quarter)

    def payments(self, region: str, quarter: Quarter | str) -> Path:
        return self.build / "payments" / region / str(quarter)

    def public(self, region: str, quarter: Quarter | str) -> Path:
        return self.build / "public" / region / str(quarter)


def with_overrides(config: RegionConfig, overrides: dict[str, Any] | None) -> RegionConfig:
    """The region's rules with an evaluator's what-if overrides on top (same validation)."""
    if not overrides:
        return config
    rules = Rules.model_validate({**config.rules.model_dump(), **overrides})
    return config.model_copy(update={"rules": rules})


def validate_stage(data_dir: str | Path, quarter: str | Quarter, validated_dir: str | Path, *,
                   reuse: bool = True) -> ValidatedLayer:
    """Validate the quarter's raw inputs and write the validated layer (problem report included),
    or reuse the layer already written for exactly these inputs. Never raises for bad data: the
    layer says whether the quarter may be scored."""
    data_dir, validated_dir = Path(data_dir), Path(validated_dir)
    if reuse and (layer := fresh_layer(validated_dir, data_dir)) is not None:
        return layer
    # load + process
    inputs = inputs_fingerprint(data_dir, Quarter.parse(str(quarter)))
    validation = validate_quarter(data_dir, quarter)
    # save
    write_validated(validation, validated_dir, inputs)
    return read_validated(validated_dir, scorable=False)


def require_scorable(layer: ValidatedLayer) -> ValidatedLayer:
    """The layer, if its quarter may be scored; a Refusal (inputs_have_errors) otherwise."""
    return read_validated(layer.path, scorable=True)


def score_stage(data_dir: str | Path, quarter: str | Quarter, validated_dir: str | Path,
                out_dir: str | Path, rules: dict[str, Any] | None = None) -> QuarterResults:
    """Score the quarter from its validated layer and write the results layer. `rules` are
    what-if overrides on top of the region's rules; they are recorded in run.json and every later
    stage applies them."""
    # load
    data_dir = Path(data_dir)
    layer = read_validated(Path(validated_dir), data_dir)
    if str(layer.quarter) != str(Quarter.parse(str(quarter))):
        raise ValueError(f"{validated_dir} holds {layer.quarter}, not {quarter}")
    config = with_overrides(layer.config, rules)
    # process
    results = score_quarter(layer.tables, config, layer.quarter, data_dir.name)
    # save
    write_results(results, Path(out_dir), layer)
    return results


def scored_layers(data_dir: Path, validated_dir: Path,
                  out_dir: Path) -> tuple[ValidatedLayer, ResultsLayer]:
    """The validated and results layers of a quarter, both current; a Refusal otherwise."""
    layer = read_validated(Path(validated_dir), Path(data_dir))
    return layer, read_results(Path(out_dir), layer)


def payments_stage(data_dir: Path, validated_dir: Path, out_dir: Path, payments_dir: Path,
                   site_dir: Path, generated_at: datetime | None = None) -> list[Path]:
    """Write the finance schedule (.xlsx and .csv) from the results layer."""
    validated, results = scored_layers(data_dir, validated_dir, out_dir)
    return build_schedule(validated, results, Path(payments_dir), Path(site_dir), generated_at)


def public_stage(data_dir: Path, validated_dir: Path, out_dir: Path, public_dir: Path) -> PublicLayer:
    """Write the quarter's public layer (what may be published) from its results layer."""
    validated, results = scored_layers(data_dir, validated_dir, out_dir)
    return write_public(validated, results, Path(public_dir))


def publish_stage(data_dir: Path, validated_dir: Path, out_dir: Path, public_dir: Path,
                  site_dir: Path, revise: bool = False, reason: str | None = None,
                  site_url: str | None = None) -> Outcome:
    """Write the public layer, then publish the quarter from it into `site_dir` (served at
    `site_url`, mkdocs.yml's, unless the region's publisher settings name another)."""
    validated, results = scored_layers(data_dir, validated_dir, out_dir)
    earlier = published_views(Path(site_dir), results.record["region"], results.record["quarter"])
    write_public(validated, results, Path(public_dir), earlier)
    candidate = candidate_from_public(read_public(Path(public_dir), results), Path(data_dir))
    return publish_many(Path(site_dir), [candidate], revise=revise, reason=reason, site_url=site_url)[0]


def band_edge_summary(scores) -> str:
    """A plain-language note (Markdown) on who is near a band edge or not gradable. Names are
    data: escaped (HTML and Markdown), so a name holding `</script>` or `**` shows as written."""
    lines = []
    for row in scores.itertuples(index=False):
        name = md_escape(str(row.provider_name))
        if not row.gradable:
            lines.append(f"- **{name}** 暂不评级,资金暂缓拨付:{md_escape(str(row.reason))}。")
        elif row.near_band_edge is True or str(row.near_band_edge) == "True":
            lines.append(
                f"- **{name}** 得分 {row.score}({row.grade}),95% 置信区间 "
                f"{row.score_ci_low}–{row.score_ci_high} 跨越等级分界线:等级对抽样较敏感,"
                "建议复核其服务记录与回访。")
    if not lines:
        return "所有机构均可评级,且得分的置信区间都未跨越等级分界线。"
    return "\n".join(lines)
