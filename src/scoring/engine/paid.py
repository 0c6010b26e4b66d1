"""Planned against paid: what the quarter's payment schedule says, and what finance paid.

METHODOLOGY.md ("Planned and paid"): for each contract, planned = total_to_pay of payments.csv
(the release plus the escort subsidies and care allowances booked under it); paid = the sum of the
quarter's paid.csv vouchers for the contract; difference = paid - planned. Until a voucher is
recorded, a payment is a plan (计划拨付), never a payment made (已拨付).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from scoring.engine.money import ZERO
from scoring.engine.tables import conform

PAID_COLUMNS = ["provider_id", "provider_name", "contract_id", "planned", "paid", "difference",
                "vouchers", "last_paid_on", "status", "reason"]

# status -> what the page says
PLANNED, PAID, PART_PAID, OVERPAID, HELD = "planned", "paid", "part_paid", "overpaid", "held"


def paid_table(payments: pd.DataFrame, paid: pd.DataFrame | None) -> pd.DataFrame:
    """One row per contract of payments.csv, in its order. `paid`: the validated paid.csv
    (optional: None or empty when nothing has been paid)."""
    has = paid is not None and len(paid)
    vouchers = {cid: group for cid, group in paid.groupby("contract_id", sort=False)} if has else {}
    rows = []
    for pay in payments.itertuples(index=False):
        planned = pay.total_to_pay if pay.total_to_pay is not None else ZERO
        group = vouchers.get(pay.contract_id)
        amount = sum(group["amount"], ZERO) if group is not None else ZERO
        count = 0 if group is None else len(group)
        last = "" if group is None else pd.Timestamp(group["paid_on"].max()).strftime("%Y-%m-%d")
        status, reason = _status(planned, amount, count, pay.status == "held", pay.reason)
        rows.append({"provider_id": pay.provider_id, "provider_name": pay.provider_name,
                     "contract_id": pay.contract_id, "planned": planned, "paid": amount,
                     "difference": amount - planned, "vouchers": count, "last_paid_on": last,
                     "status": status, "reason": reason})
    return conform(pd.DataFrame(rows, columns=PAID_COLUMNS), "paid")


def _status(planned: Decimal, paid: Decimal, vouchers: int, held: bool, held_reason: str) -> tuple[str, str]:
    if not vouchers:
        if held:
            return HELD, f"暂缓拨付:{held_reason}" if held_reason else "暂缓拨付"
        return PLANNED, "尚未拨付:财务尚未登记支付凭证"
    if paid == planned:
        return PAID, "已按计划拨付"
    if paid < planned:
        return PART_PAID, f"已拨付 {paid:.2f} 元,尚差 {planned - paid:.2f} 元"
    return OVERPAID, f"多拨付 {paid - planned:.2f} 元,应在下次拨付中扣回"
