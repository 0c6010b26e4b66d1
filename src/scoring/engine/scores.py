"""The scores table: hours, volume, quality, composite, deductions, grade and its confidence.

One row per provider (SPEC.md `scores.csv`). The official score is computed exactly (fractions)
and rounded half-up once; the bootstrap interval is computed in floats, as an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from scoring.engine import confidence, grade, hours, quality, volume
from scoring.engine.money import round_half_up, to_decimal
from scoring.engine.required import quarter_months, required_months
from scoring.engine.tables import conform
from scoring.engine.volume import KEYS
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules

REASON_NO_MONTHS = "本季度无应服务人月 (no required beneficiary-months this quarter)"
REASON_NO_SURVEYS = "本季度无回访测评 (no return-visit survey this quarter)"

SCORE_COLUMNS = [
    "provider_id", "provider_name", "required_months", "hours_delivered", "hours_required",
    "hours_score", "volume_score", "quality_score", "satisfaction_component",
    "inspection_component", "complaint_component", "point_deduction", "score", "grade",
    "gradable", "reason", "score_ci_low", "score_ci_high", "near_band_edge",
    # extras: the counts behind each number
    "months_met", "visits_completed", "records_capped", "surveys", "satisfied", "inspections",
    "inspections_passed", "falsified_findings", "tickets", "tickets_in_time",
    "substantiated_complaints", "score_raw", "grade_before_cap", "records_outside_enrolment",
]


@dataclass
class Evidence:
    """Every row that made the scores, per concern: the audit trail behind scores.csv."""

    required_months: pd.DataFrame  # with visits, delivered seconds, met
    record_hours: pd.DataFrame
    surveys: pd.DataFrame
    inspections: pd.DataFrame
    tickets: pd.DataFrame
    outside_enrolment: pd.DataFrame  # completed rows that never count, listed for inspection

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "required_months": self.required_months, "record_hours": self.record_hours,
            "surveys": self.surveys, "inspections": self.inspections, "tickets": self.tickets,
            "outside_enrolment": self.outside_enrolment,
        }


def gather_evidence(tables: dict[str, pd.DataFrame], quarter: Quarter, rules: Rules) -> Evidence:
    required = required_months(tables["beneficiaries"], tables["providers"], quarter, rules)
    done = hours.visits(tables["services"], tables["catalog"], quarter_months(quarter))
    done, outside = hours.split_enrolment(done, tables["beneficiaries"])
    per_record = hours.record_hours(done, rules)
    return Evidence(
        required_months=volume.months_met(required, per_record),
        record_hours=per_record,
        surveys=quality.survey_flags(tables["surveys"], rules),
        inspections=quality.inspection_findings(tables["inspections"], tables["services"]),
        tickets=quality.ticket_flags(tables["complaints"], rules),
        outside_enrolment=outside,
    )


def _dec(value: Fraction | float | None, places: int = 2) -> Decimal | None:
    """A score or a number of hours, rounded half-up once, to `places` decimals."""
    return None if value is None else round_half_up(to_decimal(value), places)


def _provider_row(provider: pd.Series, ev: Evidence, rules: Rules) -> dict:
    """One provider's row. Its required months come in (beneficiary, month) order, as
    score_table gives them: the order the bootstrap resamples them in.

    Counts are numpy sums over the provider's columns: a few hundred providers times a dozen
    pandas reductions cost more than the arithmetic."""
    pid = provider["provider_id"]
    months = ev.required_months
    records, surveys = ev.record_hours, ev.surveys
    findings, tickets = ev.inspections, ev.tickets

    delivered_seconds = int(records["counted_seconds"].to_numpy().sum())
    required_hours = grade.exact(rules.standard_visit_hours) * int(months["required_visits"].to_numpy().sum())
    n_months, n_met = len(months), int(months["met"].to_numpy(dtype=bool).sum())
    result = findings["result"].to_numpy(dtype=object)
    counts = {
        "surveys": len(surveys), "satisfied": int(surveys["satisfied"].to_numpy(dtype=bool).sum()),
        "inspections": len(findings), "inspections_passed": int((result == "pass").sum()),
        "falsified_findings": int((result == "falsified").sum()),
        "tickets": len(tickets), "tickets_in_time": int(tickets["in_time"].to_numpy(dtype=bool).sum()),
        "substantiated_complaints": int(tickets["substantiated_yes"].to_numpy(dtype=bool).sum()),
    }
    hours_score = hours.hours_score(delivered_seconds, required_hours) if n_months else None
    volume_score = quality.share(n_met, n_months)
    components = {
        "satisfaction": quality.share(counts["satisfied"], counts["surveys"]),
        "inspections": quality.share(counts["inspections_passed"], counts["inspections"]),
        "complaints": quality.share(counts["tickets_in_time"], counts["tickets"]),
    }
    quality_score = quality.quality_score(components, rules)
    deduction = grade.point_deduction(
        counts["falsified_findings"], counts["substantiated_complaints"], rules)

    reasons = [r for r, missing in ((REASON_NO_MONTHS, not n_months),
                                    (REASON_NO_SURVEYS, not counts["surveys"])) if missing]
    row = {
        "provider_id": pid, "provider_name": provider["name"], "required_months": n_months,
        "hours_delivered": _dec(Fraction(delivered_seconds, 3600)),
        "hours_required": _dec(required_hours),
        "hours_score": _dec(hours_score), "volume_score": _dec(volume_score),
        "quality_score": _dec(quality_score),
        "satisfaction_component": _dec(components["satisfaction"]),
        "inspection_component": _dec(components["inspections"]),
        "complaint_component": _dec(components["complaints"]),
        "point_deduction": _dec(deduction),
        "score": None, "grade": "", "gradable": not reasons, "reason": "; ".join(reasons),
        "score_ci_low": None, "score_ci_high": None, "near_band_edge": None,
        "months_met": n_met, "visits_completed": len(records),
        "records_capped": int(records["capped"].to_numpy(dtype=bool).sum()), **counts,
        "score_raw": None, "grade_before_cap": "",
        "records_outside_enrolment": len(ev.outside_enrolment),
    }
    if reasons:
        return row

    raw = grade.raw_score(hours_score, volume_score, quality_score, rules)
    score = grade.final_score(raw, deduction)
    uncapped = grade.band(score, rules)
    evidence = confidence.ResamplingUnits(
        month_delivered_seconds=months["delivered_seconds"].to_numpy(dtype="float64"),
        month_required_hours=months["hours_required"].to_numpy(dtype="float64"),
        month_met=months["met"].to_numpy(dtype=bool),
        other_delivered_seconds=delivered_seconds - int(months["delivered_seconds"].to_numpy().sum()),
        surveys=counts["surveys"], satisfied=counts["satisfied"],
        inspections=counts["inspections"], passed=counts["inspections_passed"],
        falsified=counts["falsified_findings"], tickets=counts["tickets"],
        **_ticket_cells(tickets),
    )
    low, high = confidence.interval(evidence, rules, pid)
    row.update({
        "score": _dec(score), "score_raw": _dec(raw, 4),
        "grade_before_cap": uncapped,
        "grade": grade.capped(uncapped, counts["falsified_findings"], rules),
        "score_ci_low": _dec(low), "score_ci_high": _dec(high),
        "near_band_edge": grade.near_band_edge(
            float(round_half_up(low)), float(round_half_up(high)), rules),
    })
    return row


def _ticket_cells(tickets: pd.DataFrame) -> dict[str, int]:
    in_time, yes = tickets["in_time"].to_numpy(dtype=bool), tickets["substantiated_yes"].to_numpy(dtype=bool)
    return {
        "in_time_substantiated": int((in_time & yes).sum()),
        "in_time_not_substantiated": int((in_time & ~yes).sum()),
        "late_substantiated": int((~in_time & yes).sum()),
        "late_not_substantiated": int((~in_time & ~yes).sum()),
    }


def by_provider(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The table's rows per provider, in their order, with their index (as groupby gives them).

    One stable sort on integer codes, then slices at the group boundaries: groupby's iteration
    builds a frame per group through the whole groupby machinery."""
    codes, providers = pd.factorize(table["provider_id"])  # missing ids: -1, dropped as by groupby
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    grouped = table.take(order)
    bounds = np.searchsorted(codes[order], np.arange(len(providers) + 1))
    return {pid: grouped.iloc[bounds[i]:bounds[i + 1]] for i, pid in enumerate(providers)}


def split_by_provider(evidence: Evidence) -> dict[str, Evidence]:
    """Each provider's own evidence, split once (not filtered once per provider)."""
    groups = {name: by_provider(table) for name, table in evidence.tables().items()}
    empty = {name: table.iloc[0:0] for name, table in evidence.tables().items()}
    providers = set().union(*(g.keys() for g in groups.values()))
    return {
        pid: Evidence(**{name: groups[name].get(pid, empty[name]) for name in groups})
        for pid in providers
    }


def score_table(providers: pd.DataFrame, evidence: Evidence, rules: Rules) -> pd.DataFrame:
    ordered = providers.sort_values("provider_id", kind="stable")
    # Required months in (provider, beneficiary, month) order, stably, once: each provider's
    # share is then its months stably sorted by (beneficiary, month), the order _provider_row needs.
    months = evidence.required_months.sort_values(KEYS, kind="stable")
    evidence = Evidence(**{**evidence.tables(), "required_months": months})
    per_provider = split_by_provider(evidence)
    empty = Evidence(**{name: t.iloc[0:0] for name, t in evidence.tables().items()})
    rows = [_provider_row(p, per_provider.get(p["provider_id"], empty), rules)
            for _, p in ordered.iterrows()]
    return conform(pd.DataFrame(rows, columns=SCORE_COLUMNS), "scores")


def score_providers(
    tables: dict[str, pd.DataFrame], quarter: Quarter, rules: Rules
) -> tuple[pd.DataFrame, Evidence]:
    """scores.csv for the quarter, and the evidence behind it."""
    evidence = gather_evidence(tables, quarter, rules)
    return score_table(tables["providers"], evidence, rules), evidence

