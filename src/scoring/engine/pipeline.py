"""One quarter, end to end: validated tables in, the result tables of SPEC.md out.

`score_quarter` is pure: validated tables and the rules in, result tables and the evidence behind
them out. `scoring.outputs.results` writes them as the results layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from scoring.engine.objections import objection_table
from scoring.engine.paid import paid_table
from scoring.engine.payments import care_lines, escort_lines, payment_table
from scoring.engine.satisfaction import satisfaction_table
from scoring.engine.scores import Evidence, score_providers
from scoring.engine.spending import spending_table
from scoring.inputs.months import Quarter
from scoring.inputs.rules import RegionConfig, Rules

RESULT_FILES = ("scores", "satisfaction", "payments", "spending", "paid", "objections")


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
    paid: pd.DataFrame  # planned against paid, per contract
    objections: pd.DataFrame  # the public objection log of the quarter (may be empty)
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
        payments=payments, spending=spending, paid=paid_table(payments, tables.get("paid")),
        objections=objection_table(tables.get("objections")),
        evidence=evidence,
    )
