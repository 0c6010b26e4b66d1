"""Quality: the counts behind the satisfaction, inspection and complaint components.

METHODOLOGY.md: satisfaction = share of surveys with overall >= satisfied_at_least; inspections =
share of p's inspected records whose result is pass; complaints = share of tickets responded to
within complaint_response_hours of receipt. Unanswered tickets count as not in time.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from scoring.inputs.rules import Rules


def survey_flags(surveys: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    out = surveys[["survey_id", "provider_id", "overall"]].copy()
    out["satisfied"] = out["overall"] >= rules.satisfied_at_least
    return out.sort_values("survey_id", kind="stable").reset_index(drop=True)


def inspection_findings(inspections: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """Inspections with the provider of the record they inspected (joined through record_id)."""
    # Only the few inspected services rows are looked at: hashing the inspections' ids to pick them
    # is much cheaper than hashing every record's id. record_id is the services' key (get_indexer
    # refuses duplicates rather than multiplying rows as a merge would); inspections of unknown
    # records drop out, as in an inner merge.
    inspected = services.loc[services["record_id"].isin(inspections["record_id"]), ["record_id", "provider_id"]]
    record = pd.Index(inspected["record_id"]).get_indexer(inspections["record_id"])
    out = inspections[record >= 0].assign(provider_id=inspected["provider_id"].to_numpy()[record[record >= 0]])
    columns = ["inspection_id", "inspected_on", "township", "record_id", "provider_id",
               "result", "deduction_yuan"]
    return out[columns].sort_values("inspection_id", kind="stable").reset_index(drop=True)


def ticket_flags(complaints: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    out = complaints[["ticket_id", "provider_id", "received_at", "responded_at", "substantiated"]].copy()
    limit = pd.Timedelta(hours=rules.complaint_response_hours)
    out["response_hours"] = (out["responded_at"] - out["received_at"]).dt.total_seconds() / 3600
    out["in_time"] = out["responded_at"].notna() & ((out["responded_at"] - out["received_at"]) <= limit)
    out["substantiated_yes"] = out["substantiated"] == "yes"
    return out.sort_values("ticket_id", kind="stable").reset_index(drop=True)


def share(part: int, whole: int) -> Fraction | None:
    """100 x part / whole, or None when there is nothing to share."""
    return Fraction(100 * int(part), int(whole)) if whole else None


def quality_score(components: dict[str, Fraction | None], rules: Rules) -> Fraction | None:
    """The weighted mean of the components present, weights renormalised over them."""
    weights = rules.quality_weights.model_dump()
    present = {k: v for k, v in components.items() if v is not None}
    total = sum(Fraction(repr(weights[k])) for k in present)
    if not present or total == 0:
        return None
    return sum(Fraction(repr(weights[k])) * v for k, v in present.items()) / total
