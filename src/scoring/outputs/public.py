"""The public tables: what of a quarter's results may be published, as text cells.

Pure: result tables in, public tables out. No personal column survives; small counts are shown
as "<5" and protected by secondary suppression (`privacy`). Each public table is declared once in
`PUBLIC_TABLES` (its columns, Chinese titles, Frictionless types and descriptions, and a one-line
summary for the downloads page): the CSV files, the Frictionless data package, the .xlsx headers,
the 数据字典 page, the finance workbook's headers and the pages all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from scoring.engine.satisfaction import ALL
from scoring.inputs.rules import Rules
from scoring.outputs.disclosure import ANSWERS, COUNTS, MIN_VALUES, View, audit, cell_extent
from scoring.outputs.privacy import SECONDARY, apply_mask, suppression_mask, table_equations
from scoring.refusal import Code, Refusal

ALL_LABEL = "全部机构合计"

# The public tables, declared once: column -> (Chinese title, Frictionless type, description).
PUBLIC_TABLES: dict[str, dict] = {
    "scores": {
        "title": "综合得分与等级",
        "summary": "各机构的三项得分、扣分、综合得分与等级",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "hours_delivered": ("实际服务时长(小时)", "number", ""),
            "hours_required": ("应服务时长(小时)", "number", ""),
            "hours_score": ("服务时长得分", "number", "0-100"),
            "volume_score": ("服务数量得分", "number", "0-100"),
            "quality_score": ("服务质量得分", "number", "0-100"),
            "satisfaction_component": ("满意度分项", "number", "回访少于公开阈值时不公布"),
            "inspection_component": ("抽查分项", "number", ""),
            "complaint_component": ("投诉办结分项", "number", ""),
            "point_deduction": ("扣分", "number", ""),
            "score_raw": ("扣分前得分", "number", ""),
            "score": ("综合得分", "number", "扣分后,四舍五入到两位小数"),
            "grade": ("等级", "string", "优秀、良好、合格、不合格;空白为暂不评级"),
            "gradable": ("可评级", "boolean", ""),
            "reason": ("暂不评级原因", "string", ""),
            "score_ci_low": ("95%置信区间下限", "number", "自助法"),
            "score_ci_high": ("95%置信区间上限", "number", "自助法"),
            "near_band_edge": ("接近等级分界线", "boolean", "置信区间跨越等级分界线"),
        },
    },
    "satisfaction": {
        "title": "满意度测评",
        "summary": "各机构回访人数、满意率与评分分布",
        "columns": {
            "provider_id": ("机构编号", "string", "ALL 为全部机构合计"),
            "provider_name": ("服务机构", "string", ""),
            "surveys": ("回访数", "integer", ""),
            "satisfied": ("满意数", "integer", ""),
            "rate": ("满意率(%)", "number", "回访数或满意数被隐藏时不公布"),
            "ci_low": ("Wilson 95%区间下限(%)", "number", ""),
            "ci_high": ("Wilson 95%区间上限(%)", "number", ""),
            "small_sample": ("样本不足", "boolean", "回访数少于规则 min_surveys;回访数被隐藏时不公布"),
            **{f"n{i}": (f"{i}分人数", "integer", "5 = 非常满意")
               for i in range(1, 6)},
        },
    },
    "complaints": {
        "title": "投诉受理与办结",
        "summary": "各机构受理投诉、按时办结与属实投诉",
        "columns": {
            "provider_id": ("机构编号", "string", "ALL 为全部机构合计"),
            "provider_name": ("服务机构", "string", ""),
            "received": ("受理投诉", "integer", "热线工单数"),
            "responded_in_time": ("按时办结", "integer", "在规定时限内反馈的工单数"),
            "substantiated": ("经核实属实", "integer", ""),
            "share_in_time": ("按时办结率(%)", "number", ""),
        },
    },
    "payments": {
        "title": "资金拨付",
        "summary": "各机构应付、拨付比例、计划拨付与暂扣",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "contract_id": ("合同编号", "string", ""),
            "amount_due": ("本季度应付(元)", "number", "合同金额按合同天数折算"),
            "score": ("综合得分", "number", ""),
            "grade": ("等级", "string", ""),
            "payout_ratio": ("拨付比例", "number", ""),
            "monetary_deduction": ("抽查扣款(元)", "number", ""),
            "release": ("拨付(元)", "number", ""),
            "withheld": ("暂扣及扣减(元)", "number", ""),
            "escort_subsidy": ("住院陪护补贴(元)", "number", "本县规则未设定时为空"),
            "care_allowance": ("护理补贴(元)", "number", "本县规则未设定时为空"),
            "total_to_pay": ("合计应付(元)", "number", ""),
            "status": ("状态", "string", "published 已公布;held 暂缓拨付"),
            "reason": ("暂缓原因", "string", ""),
        },
    },
    "paid": {
        "title": "计划拨付与实际拨付",
        "summary": "各合同计划拨付与财务实际拨付",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "contract_id": ("合同编号", "string", ""),
            "planned": ("计划拨付(元)", "number", "本季度合计应付,即拨付与补贴之和"),
            "paid": ("实际拨付(元)", "number", "财务登记的支付凭证金额之和;尚未支付为 0"),
            "difference": ("差额(元)", "number", "实际拨付减计划拨付"),
            "vouchers": ("支付凭证数", "integer", ""),
            "last_paid_on": ("最近支付日期", "date", "尚未支付时为空"),
            "status": ("拨付状态", "string", "计划拨付、已拨付、部分拨付、多拨付或暂缓拨付"),
            "reason": ("说明", "string", ""),
        },
    },
    "spending": {
        "title": "人均支出",
        "summary": "本季度支出、人均年化支出与标准",
        "columns": {
            "spend": ("本季度支出(元)", "number", "拨付与补贴之和"),
            "avg_beneficiaries": ("平均服务对象人数", "number", ""),
            "per_capita_annual": ("人均年化支出(元)", "number", ""),
            "per_capita_standard": ("人均标准(元/人·年)", "number", ""),
            "ratio_to_standard": ("与标准之比", "number", ""),
            "difference_to_standard": ("与标准之差(元)", "number", ""),
            "spend_per_service": ("每次服务支出(元)", "number", ""),
            "spend_per_hour": ("每小时服务支出(元)", "number", ""),
            "completed_services": ("完成服务次数", "integer", ""),
            "hours_delivered": ("服务时长(小时)", "number", ""),
        },
    },
    "contracts": {
        "title": "服务合同",
        "summary": "服务合同的期限、金额与服务人数",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "contract_id": ("合同编号", "string", ""),
            "contract_start": ("合同开始日期", "date", ""),
            "contract_end": ("合同结束日期", "date", ""),
            "contract_amount": ("合同金额(元)", "number", ""),
            "contracted_beneficiaries": ("合同服务人数", "integer", ""),
            "credit_code": ("统一社会信用代码", "string", "服务机构的统一社会信用代码(GB 32100-2015);未填报时为空"),
        },
    },
    "objections": {
        "title": "异议处理",
        "summary": "公示期内收到的异议与处理结果",
        "key": ["objection_id"],  # provider_id may be empty (an objection about the whole county)
        "columns": {
            "objection_id": ("异议编号", "string", ""),
            "received_on": ("收到日期", "date", ""),
            "provider_id": ("机构编号", "string", "异议涉及的服务机构;不涉及具体机构时为空"),
            "about": ("异议事项", "string", ""),
            "summary": ("异议内容摘要", "string", "不含异议人姓名和联系方式"),
            "decision": ("处理结果", "string", "upheld 成立、partly_upheld 部分成立、rejected 不成立、pending 处理中"),
            "decided_on": ("答复日期", "date", "尚未答复时为空"),
            "revision": ("更正版本", "integer", "异议成立后更正公布的版本号;未导致更正时为空"),
        },
    },
    "profiles": {
        "title": "服务机构概况",
        "summary": "各机构的地址、电话与本季度服务的乡镇",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "address": ("机构地址", "string", "未填报时为空"),
            "telephone": ("机构电话", "string", "服务机构对外公开的电话;未填报时为空"),
            "townships": ("服务乡镇", "string", "本季度有已完成服务记录的服务对象所在乡镇,以「、」分隔"),
        },
    },
    "offered": {
        "title": "机构提供的服务项目",
        "summary": "各机构本季度提供的服务项目与指导价",
        "key": ["provider_id", "item_code"],
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "item_code": ("项目编码", "string", ""),
            "item_name": ("项目名称", "string", ""),
            "unit": ("计量单位", "string", ""),
            "guide_price": ("指导价(元)", "number", ""),
        },
    },
    "findings": {
        "title": "抽查、投诉与走访情况",
        "summary": "各机构本季度的抽查结果、投诉办理速度与应走访次数",
        "columns": {
            "provider_id": ("机构编号", "string", ""),
            "provider_name": ("服务机构", "string", ""),
            "inspections": ("抽查次数", "integer", ""),
            "inspections_pass": ("抽查合格", "integer", ""),
            "inspections_poor": ("抽查服务较差", "integer", ""),
            "inspections_falsified": ("抽查弄虚作假", "integer", ""),
            "inspection_deduction": ("抽查扣款(元)", "number", ""),
            "complaints": ("受理投诉", "integer", "热线工单数"),
            "complaints_substantiated": ("投诉经核实属实", "integer", ""),
            "complaints_in_time": ("投诉按时办结", "integer", ""),
            "complaints_unanswered": ("投诉尚未反馈", "integer", ""),
            "response_hours_median": ("投诉反馈用时中位数(小时)", "number", "已反馈的工单;没有时为空"),
            "response_hours_max": ("投诉反馈最长用时(小时)", "number", "已反馈的工单;没有时为空"),
            "response_limit_hours": ("投诉反馈时限(小时)", "number", "规则 complaint_response_hours"),
            "required_visits": ("应走访次数", "integer", "应服务人月按救助类别应走访次数之和"),
            "visits_counted": ("已走访次数", "integer", "每人每月计入的走访,最多计到应走访次数"),
            "missed_visits": ("缺少走访次数", "integer", "应走访次数减已走访次数"),
        },
    },
    "catalog": {
        "title": "服务项目清单",
        "summary": "服务项目、计量单位与指导价",
        "columns": {
            "item_code": ("项目编码", "string", ""),
            "category": ("服务类别", "string", ""),
            "name": ("项目名称", "string", ""),
            "unit": ("计量单位", "string", ""),
            "guide_price": ("指导价(元)", "number", ""),
            "standard_minutes": ("标准时长(分钟)", "integer", ""),
        },
    },
}
# For readers (the 数据字典 page, the .xlsx files): each public column's unit and meaning in plain
# words, beside PUBLIC_TABLES (whose titles are the Chinese column names everywhere). Kept apart from
# its descriptions, which the published data packages carry byte for byte: a new wording here never
# changes a published file. Keyed by column; (table, column) where a name means another thing.
UNITS: dict[str, str] = {
    "hours_delivered": "小时", "hours_required": "小时", "hours_score": "分", "volume_score": "分",
    "quality_score": "分", "satisfaction_component": "分", "inspection_component": "分",
    "complaint_component": "分", "point_deduction": "分", "score_raw": "分", "score": "分",
    "score_ci_low": "分", "score_ci_high": "分", "surveys": "人", "satisfied": "人",
    **{f"n{i}": "人" for i in range(1, 6)}, "rate": "%", "ci_low": "%", "ci_high": "%",
    "received": "件", "responded_in_time": "件", "substantiated": "件", "share_in_time": "%",
    "amount_due": "元", "payout_ratio": "比例(0–1)", "monetary_deduction": "元", "release": "元",
    "withheld": "元", "escort_subsidy": "元", "care_allowance": "元", "total_to_pay": "元",
    "planned": "元", "paid": "元", "difference": "元", "vouchers": "张", "last_paid_on": "日期",
    "spend": "元", "avg_beneficiaries": "人", "per_capita_annual": "元/人·年",
    "per_capita_standard": "元/人·年", "ratio_to_standard": "倍", "difference_to_standard": "元/人·年",
    "spend_per_service": "元/次", "spend_per_hour": "元/小时", "completed_services": "次",
    "contract_start": "日期", "contract_end": "日期", "contract_amount": "元",
    "contracted_beneficiaries": "人", "guide_price": "元", "standard_minutes": "分钟",
    "gradable": "是/否", "near_band_edge": "是/否", "small_sample": "是/否",
    "received_on": "日期", "decided_on": "日期", "revision": "版本号",
    "inspections": "次", "inspections_pass": "次", "inspections_poor": "次", "inspections_falsified": "次",
    "inspection_deduction": "元", "complaints": "件", "complaints_substantiated": "件",
    "complaints_in_time": "件", "complaints_unanswered": "件", "response_hours_median": "小时",
    "response_hours_max": "小时", "response_limit_hours": "小时", "required_visits": "次",
    "visits_counted": "次", "missed_visits": "次",
}
MEANINGS: dict[str, str] = {
    "provider_id": "服务机构在本县的编号;ALL 为全部机构合计",
    ("objections", "provider_id"): "异议涉及的服务机构;不涉及具体机构时为空",
    "objection_id": "民政局登记异议时给的编号",
    "received_on": "民政局收到异议的日期",
    "about": "异议针对的事项,如满意度、抽查扣款、拨付金额",
    "summary": "异议内容的简要说明,不含异议人的姓名和联系方式",
    "decision": "成立、部分成立、不成立,或处理中",
    "decided_on": "答复异议人的日期;尚未答复时为空",
    "revision": "异议成立后更正公布的版本号;没有导致更正时为空",
    "provider_name": "承接服务的社会组织名称",
    "hours_delivered": "本季度已完成服务记录的服务时长之和",
    "hours_required": "应服务人月的应走访次数 × 每次走访标准时长",
    "hours_score": "实际服务时长 ÷ 应服务时长 × 100,最高 100 分",
    "volume_score": "走访次数达到要求的应服务人月所占比例 × 100",
    "quality_score": "满意度、抽查、投诉办结三个分项的加权平均",
    "satisfaction_component": "回访中满意的比例 × 100",
    "inspection_component": "抽查合格的比例 × 100",
    "complaint_component": "按时办结的投诉比例 × 100",
    "point_deduction": "弄虚作假和属实投诉的扣分,合计有上限",
    "score_raw": "三项得分按权重相加,扣分之前",
    "score": "扣分后的综合得分,0–100 分",
    "grade": "按综合得分定的等级",
    "gradable": "本季度能否评级",
    "reason": "暂不评级或暂缓拨付的原因",
    "score_ci_low": "综合得分 95% 置信区间的下限",
    "score_ci_high": "综合得分 95% 置信区间的上限",
    "near_band_edge": "置信区间是否跨越等级分界线",
    "surveys": "本季度回访的人数",
    "satisfied": "回访中总体评价达到满意的人数",
    "rate": "满意数 ÷ 回访数",
    "ci_low": "满意率 Wilson 95% 区间的下限",
    "ci_high": "满意率 Wilson 95% 区间的上限",
    "small_sample": "回访数是否少于规则要求的最少回访数",
    **{f"n{i}": f"回访中总体评价为 {i} 分的人数(5 分为非常满意)" for i in range(1, 6)},
    "received": "热线受理的投诉工单数",
    "responded_in_time": "在时限内反馈的投诉工单数",
    "substantiated": "经核实属实的投诉工单数",
    "share_in_time": "按时办结数 ÷ 受理数",
    "contract_id": "政府购买服务合同的编号",
    "amount_due": "合同金额按本季度内的合同天数折算",
    "payout_ratio": "按等级确定的拨付比例",
    "monetary_deduction": "抽查发现问题的扣款",
    "release": "应付 × 拨付比例 − 抽查扣款,不少于 0",
    "withheld": "应付减去拨付",
    "escort_subsidy": "发给住院陪护人员的补贴(汇总)",
    "care_allowance": "发给监护人的护理补贴(汇总)",
    "total_to_pay": "拨付与各项补贴之和",
    ("payments", "status"): "published 为按等级计划拨付;held 为暂缓拨付",
    ("payments", "reason"): "暂缓拨付的原因",
    "planned": "本季度计划拨付,即合计应付",
    "paid": "财务登记的支付凭证金额之和",
    "difference": "实际拨付减计划拨付;负数为少付",
    "vouchers": "财务登记的支付凭证张数",
    "last_paid_on": "最近一张支付凭证的日期",
    ("paid", "status"): "计划拨付、已拨付、部分拨付、多拨付或暂缓拨付",
    ("paid", "reason"): "实际拨付与计划不同的原因",
    "spend": "本季度拨付与补贴之和",
    "avg_beneficiaries": "本季度三个月在册服务对象人数的平均数",
    "per_capita_annual": "本季度支出 × 4 ÷ 平均服务对象人数",
    "per_capita_standard": "规则规定的人均支出标准",
    "ratio_to_standard": "人均年化支出 ÷ 人均标准",
    "difference_to_standard": "人均年化支出减人均标准",
    "spend_per_service": "本季度支出 ÷ 完成服务次数",
    "spend_per_hour": "本季度支出 ÷ 服务时长",
    "completed_services": "本季度已完成的服务记录数",
    ("spending", "hours_delivered"): "本季度全部机构的服务时长之和",
    "contract_start": "合同开始的日期",
    "contract_end": "合同结束的日期",
    "contract_amount": "合同约定的总金额",
    "contracted_beneficiaries": "合同约定服务的人数",
    "credit_code": "服务机构的统一社会信用代码",
    "item_code": "服务项目的编码",
    "category": "服务项目所属的类别",
    "name": "服务项目的名称",
    "unit": "服务的计量单位(次、小时、天)",
    "guide_price": "每个计量单位的指导价",
    "standard_minutes": "一次服务的标准时长",
    "address": "服务机构办公地址",
    "telephone": "服务机构对外公开的联系电话",
    "townships": "本季度有服务记录的服务对象所在的乡镇(只到乡镇一级)",
    "item_name": "服务项目的名称",
    ("offered", "unit"): "服务的计量单位(次、小时、天)",
    ("offered", "guide_price"): "服务项目清单中每个计量单位的指导价",
    "inspections": "民政局本季度抽查该机构服务记录的次数",
    "inspections_pass": "抽查结果为合格的次数",
    "inspections_poor": "抽查发现服务较差的次数",
    "inspections_falsified": "抽查发现弄虚作假的次数",
    "inspection_deduction": "抽查发现问题后扣减的服务费之和",
    "complaints": "热线受理的投诉工单数",
    "complaints_substantiated": "经核实属实的投诉工单数",
    "complaints_in_time": "在规定时限内反馈的投诉工单数",
    "complaints_unanswered": "季度结束时还没有反馈的投诉工单数",
    "response_hours_median": "已反馈工单从受理到反馈所用小时数的中位数",
    "response_hours_max": "已反馈工单从受理到反馈所用的最长小时数",
    "response_limit_hours": "规则规定的投诉反馈时限",
    "required_visits": "本季度按救助类别应当上门走访的次数之和",
    "visits_counted": "计入要求的走访次数(每人每月最多计到应走访次数)",
    "missed_visits": "应走访而没有走访的次数",
    # the columns added to the combined downloads (disclosures/all/)
    "region": "区县(网址中的文件夹名)",
    "quarter": "季度:年份、字母 Q 和季度序号,第二季度写作 Q2",
}
COMBINED_COLUMNS = {"region": ("区县", "string", "区县的文件夹名,即公示网址中的区县部分"),
                    "quarter": ("季度", "string", "年份、字母 Q 和季度序号,如 2026 年第二季度写作 2026Q2")}


def column_title(table: str, column: str) -> str:
    """A public column's Chinese name (the CSV header's label, the .xlsx header)."""
    columns = {**COMBINED_COLUMNS, **PUBLIC_TABLES[table]["columns"]}
    return columns[column][0]


def column_unit(table: str, column: str) -> str:
    return UNITS.get((table, column), UNITS.get(column, ""))  # type: ignore[call-overload]


def column_meaning(table: str, column: str) -> str:
    return MEANINGS.get((table, column)) or MEANINGS.get(column, "")  # type: ignore[call-overload]


# The columns that may hold a marker instead of a count of people: SMALL ("<5" for the default
# threshold: 1 to threshold - 1, primary suppression) and SECONDARY ("x": hidden so that a small
# count cannot be worked out from the others). No other public column ever holds one.
SMALL, HIDDEN = "small", "secondary"
SUPPRESSIBLE: dict[str, dict[str, tuple[str, ...]]] = {
    "satisfaction": {c: (SMALL, HIDDEN) for c in ("surveys", "satisfied", *(f"n{i}" for i in range(1, 6)))},
    "spending": {"avg_beneficiaries": (SMALL,)},
    "contracts": {"contracted_beneficiaries": (SMALL,)},  # no totals published: nothing to recover
}
TEXT_COLUMNS = {"provider_id", "provider_name", "contract_id", "reason", "item_code", "category",
                "name", "unit", "credit_code", "objection_id", "about", "summary", "decision",
                "address", "telephone", "townships", "item_name"}


def public_tables(results: dict[str, pd.DataFrame], providers: pd.DataFrame,
                  catalog: pd.DataFrame, rules: Rules, earlier: list[View] = (),
                  provider_pages: dict[str, pd.DataFrame] | None = None) -> tuple[dict[str, pd.DataFrame], list[list[str]]]:
    """The quarter's public tables from its result tables (as read by `stages.read_result`) and
    the region's typed providers and catalog, and the small counts of satisfaction.csv shown as
    "x" (for the audit at publication; never published). No personal column survives; small
    counts are suppressed, with secondary suppression hardened until the disclosure audit
    (`disclosure`), run on these tables and the `earlier` versions still online, finds no weak
    cell."""
    threshold = rules.suppress_below
    names = dict(zip(results["scores"]["provider_id"], results["scores"]["provider_name"]))
    complaints = _public_complaints(results["scores"])
    satisfaction, scores, coarse = protected_satisfaction(results["satisfaction"], results["scores"], complaints,
                                             names, rules, list(earlier))
    tables = {
        "scores": scores,
        "satisfaction": satisfaction,
        "complaints": complaints,
        "payments": _public_payments(results["payments"]),
        "paid": _public_paid(results["paid"]),
        "spending": _public_spending(results["spending"], threshold),
        "contracts": _public_contracts(providers, threshold),
        "catalog": _public_catalog(catalog),
        # what was objected to and what was decided; the objector stays in the input
        "objections": results["objections"],
    }
    if provider_pages is not None:  # the providers' profiles and findings (`provider_tables`)
        tables.update(provider_pages)
    for name, table in tables.items():
        columns = list(PUBLIC_TABLES[name]["columns"])
        tables[name] = table[columns].reset_index(drop=True)
    return tables, sorted([row, column] for row, column in coarse)


def protected_satisfaction(satisfaction: pd.DataFrame, scores: pd.DataFrame, complaints: pd.DataFrame,
              names: dict[str, str], rules: Rules, earlier: list[View]) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """The public satisfaction and scores tables. Primary and secondary suppression first; then,
    while the audit finds a hidden small count that a reader could narrow to fewer than
    `MIN_VALUES` values, one more step is taken (`_steps`, cheapest first): a small count shown
    as "x" instead of "<5" (the label itself says "at least 1"), or one more cell hidden. The
    first step that lifts the weak cell's range to `MIN_VALUES` values is taken, else the one
    that widens it most."""
    counts, equations = _satisfaction_counts(satisfaction, rules)
    hidden = suppression_mask(counts, equations, rules.suppress_below, derived=["unsatisfied"])[COUNTS]
    counts = counts[COUNTS]
    small = (counts > 0) & (counts < rules.suppress_below)
    coarse: set[tuple[str, str]] = set()

    def view(hidden: pd.DataFrame, coarse: set) -> tuple[View, pd.DataFrame, pd.DataFrame]:
        shown = _public_satisfaction(satisfaction, counts, hidden, coarse, names, rules)
        public_scores = _public_scores(scores, shown)
        tables = {"satisfaction": shown, "scores": public_scores, "complaints": complaints}
        return View(tables, rules, small=frozenset(coarse)), shown, public_scores

    while True:
        current, shown, public_scores = view(hidden, coarse)
        weak = [f for f in audit([current, *earlier]).weak if f.file == "satisfaction.csv"]
        if not weak:
            return shown, public_scores, coarse
        target = (weak[0].row, weak[0].column)
        best, rows = None, []
        now = weak[0].high - weak[0].low
        steps = _steps(target, hidden, coarse, small, counts)
        # the cheapest few single steps, then the rows: trying every cell costs seconds a county
        steps = [s for s in steps if s[0] != "row"][:_TRIED] + [s for s in steps if s[0] == "row"]
        for kind, cell in steps:
            trial_hidden, trial_coarse = hidden.copy(), set(coarse)
            if kind == "coarse":
                trial_coarse.add(cell)
            elif kind == "row":
                trial_hidden.loc[cell[0]] = True
            else:
                trial_hidden.at[cell] = True
            if kind == "row":
                rows.append((now, trial_hidden, trial_coarse))
            low, high = cell_extent([view(trial_hidden, trial_coarse)[0], *earlier], target)
            if best is None or high - low > best[0]:
                best = (high - low, trial_hidden, trial_coarse)
            if high - low + 1 >= MIN_VALUES:
                break
        if best is not None and best[0] <= now and rows:
            # no single step widens it (the equations pin it from several sides): withhold the
            # weak cell's row, then the ALL row, then the others, until one does
            best = rows[0]
        if best is None:
            raise Refusal(Code.DISCLOSURE_RISK,
                          f"无法保护小数值:{weak[0].describe()},且已没有可以再隐藏的单元格。",
                          "请检查回访数据;如确需公布,可提高规则 suppress_below 后重新运行。")
        _, hidden, coarse = best


_TRIED = 8  # single-cell steps tried per weak cell before whole rows


def _steps(cell: tuple[str, str], hidden: pd.DataFrame, coarse: set, small: pd.DataFrame,
           counts: pd.DataFrame) -> list[tuple[str, tuple[str, str]]]:
    """What can still be done, cheapest for readers first: show a hidden small count as "x"
    (the weak cell's row and column first: the ALL row's "<5" labels bound a provider's too); hide an answer count (n1-n5) of a provider, then of the ALL row;
    hide a surveys or satisfied count last (it withholds the rate). Nearer the weak cell first
    (its row, its column, the rest), then the smaller count."""
    row, column = cell

    def near(c: tuple[str, str]) -> int:
        return 0 if c[0] == row else 1 if c[1] == column else 2

    steps = [((0, near(c), 0), ("coarse", c)) for c in
             ((r, k) for r in hidden.index for k in hidden.columns)
             if hidden.at[c] and small.at[c] and c not in coarse]
    for c in ((r, k) for r in hidden.index for k in hidden.columns):
        if hidden.at[c]:
            continue
        cost = 3 if c[1] in ("surveys", "satisfied") else 2 if c[0] == ALL else 1
        steps.append(((cost, near(c), int(counts.at[c])), ("hide", c)))
    # a whole row's counts at once: what one more cell cannot do when equations pin the cell
    for r in hidden.index:
        if not hidden.loc[r].all():
            steps.append(((4, 0 if r == row else 1 if r == ALL else 2, 0), ("row", (r, ""))))
    return [step for _, step in sorted(steps, key=lambda s: s[0])]


def _satisfaction_counts(table: pd.DataFrame, rules: Rules):
    """The published counts (and the derived unsatisfied) and the equations between them."""
    answers, published = ANSWERS, COUNTS
    counts = table.set_index("provider_id")[published].astype("int64")
    # not published, but anyone can compute it from surveys and satisfied
    counts["unsatisfied"] = counts["surveys"] - counts["satisfied"]
    satisfied_answers = [f"n{i}" for i in range(rules.satisfied_at_least, 6)]
    unsatisfied_answers = [f"n{i}" for i in range(1, rules.satisfied_at_least)]
    equations = table_equations(
        list(counts.index), ALL, [*published, "unsatisfied"],
        row_sums={"surveys": answers, "satisfied": satisfied_answers,
                  "unsatisfied": unsatisfied_answers})
    return counts, equations


def _public_satisfaction(table: pd.DataFrame, counts: pd.DataFrame, hidden: pd.DataFrame,
                         coarse: set, names: dict[str, str], rules: Rules) -> pd.DataFrame:
    shown = apply_mask(counts, hidden, rules.suppress_below)
    for cell in coarse:
        shown.at[cell] = SECONDARY
    out = table.set_index("provider_id").copy()
    out[COUNTS] = shown
    withheld = hidden["surveys"] | hidden["satisfied"]
    for column in ("rate", "ci_low", "ci_high"):
        out[column] = out[column].mask(withheld, "")
    # 样本不足 says whether surveys < min_surveys: withheld with the surveys count
    out["small_sample"] = out["small_sample"].map(str).mask(hidden["surveys"], "")
    out["provider_name"] = [ALL_LABEL if pid == ALL else names.get(pid, pid) for pid in out.index]
    return out.reset_index()


def _public_complaints(scores: pd.DataFrame) -> pd.DataFrame:
    """Hotline tickets per provider and in all. Tickets are events about a provider, not counts
    of people, and the published point deduction and quality score determine them anyway: they
    are published as they are."""
    counts = scores.set_index("provider_id")[["tickets", "tickets_in_time", "substantiated_complaints"]]
    counts.columns = ["received", "responded_in_time", "substantiated"]
    counts = counts.astype("int64")
    counts.loc[ALL] = counts.sum()
    out = counts.astype(str)
    out["share_in_time"] = [f"{Decimal(100 * i) / Decimal(n):.2f}" if n else "" for i, n in
                            zip(counts["responded_in_time"], counts["received"])]
    names = dict(zip(scores["provider_id"], scores["provider_name"]))
    out["provider_name"] = [ALL_LABEL if pid == ALL else names[pid] for pid in out.index]
    return out.rename_axis("provider_id").reset_index()


def _public_scores(scores: pd.DataFrame, satisfaction: pd.DataFrame) -> pd.DataFrame:
    out = scores.copy()
    # the satisfaction component is the satisfaction rate: withheld with it
    no_rate = set(satisfaction.loc[satisfaction["rate"] == "", "provider_id"])
    out.loc[out["provider_id"].isin(no_rate), "satisfaction_component"] = ""
    out["gradable"] = out["gradable"].map(str)
    return out


def _public_payments(payments: pd.DataFrame) -> pd.DataFrame:
    out = payments.copy()
    out["status"] = ["held" if s == "held" else "published" for s in out["status"]]
    return out


PAID_STATUS = {"planned": "计划拨付", "paid": "已拨付", "part_paid": "部分拨付", "overpaid": "多拨付",
               "held": "暂缓拨付"}


def _public_paid(paid: pd.DataFrame) -> pd.DataFrame:
    """Planned against paid: amounts of contracts, paid to organisations; nothing about people."""
    out = paid.copy()
    out["status"] = out["status"].map(PAID_STATUS)
    return out


def _public_spending(spending: pd.DataFrame, threshold: int) -> pd.DataFrame:
    out = spending.copy()
    people = pd.to_numeric(out["avg_beneficiaries"])
    small = (people > 0) & (people < threshold)
    out["avg_beneficiaries"] = out["avg_beneficiaries"].mask(small, f"<{threshold}")
    # per capita = 4 x spend / people: published, it would give the hidden number away
    for column in ("per_capita_annual", "ratio_to_standard", "difference_to_standard"):
        out[column] = out[column].mask(small, "")
    return out


# The providers' profiles and this quarter's findings ----------------------------------------------
#
# What a reader of a provider's page is told besides its scores: where it is and how to call it,
# the townships it served, the services it delivered, and what the evidence found. Every count here
# is of events about an organisation (spot checks of its service records, hotline tickets about it,
# visits it owed), not of people, and most are pinned by what is published already (the inspection
# component is the share passed, the point deduction counts falsified findings and substantiated
# complaints, complaints.csv has the ticket counts, hours_required the visits owed): they are
# published as they are, as complaints.csv's are. The townships are the beneficiaries' township
# only (public, SPEC), never a village, and no count of people per township is published.


@dataclass(frozen=True)
class Evidence:
    """The rows behind a quarter's numbers that the provider tables read: the results layer's
    trace (inspections, tickets, required beneficiary-months, hours of each completed record)
    and the validated beneficiaries (for their township only)."""

    inspections: pd.DataFrame
    tickets: pd.DataFrame
    required_months: pd.DataFrame
    record_hours: pd.DataFrame
    beneficiaries: pd.DataFrame


PROVIDER_TABLES = ("profiles", "offered", "findings")


def provider_tables(scores: pd.DataFrame, providers: pd.DataFrame, catalog: pd.DataFrame,
                    rules: Rules, evidence: Evidence) -> dict[str, pd.DataFrame]:
    """profiles, offered and findings: one row per scored provider (per provider and item)."""
    ids = list(scores["provider_id"])
    names = dict(zip(scores["provider_id"], scores["provider_name"]))
    return {"profiles": _profiles(ids, names, providers, evidence),
            "offered": _offered(ids, names, catalog, evidence.record_hours),
            "findings": _findings(ids, names, rules, evidence)}


def _profiles(ids: list[str], names: dict[str, str], providers: pd.DataFrame, evidence: Evidence) -> pd.DataFrame:
    contact = providers.set_index("provider_id")
    township = dict(zip(evidence.beneficiaries["beneficiary_id"], evidence.beneficiaries["township"]))
    served = evidence.record_hours.assign(township=evidence.record_hours["beneficiary_id"].map(township))
    townships = served.dropna(subset=["township"]).groupby("provider_id")["township"].agg(
        lambda t: "、".join(sorted(set(t))))

    def column(name: str) -> list[str]:
        if name not in contact:  # an optional column the region's file leaves out
            return [""] * len(ids)
        values = _text_of(contact[name], "text")
        return [values.get(pid, "") for pid in ids]

    return pd.DataFrame({"provider_id": ids, "provider_name": [names[pid] for pid in ids],
                         "address": column("address"), "telephone": column("telephone"),
                         "townships": [townships.get(pid, "") for pid in ids]})


def _offered(ids: list[str], names: dict[str, str], catalog: pd.DataFrame, record_hours: pd.DataFrame) -> pd.DataFrame:
    items = catalog.set_index("item_code")
    pairs = record_hours[["provider_id", "item_code"]].drop_duplicates()
    pairs = pairs[pairs["provider_id"].isin(ids) & pairs["item_code"].isin(items.index)]
    pairs = pairs.sort_values(["provider_id", "item_code"], kind="stable")
    codes = pairs["item_code"]
    return pd.DataFrame({
        "provider_id": pairs["provider_id"].to_numpy(),
        "provider_name": pairs["provider_id"].map(names).to_numpy(),
        "item_code": codes.to_numpy(),
        "item_name": _text_of(codes.map(items["name"]), "text").to_numpy(),
        "unit": _text_of(codes.map(items["unit"]), "text").to_numpy(),
        "guide_price": _text_of(codes.map(items["guide_price"]), "money").to_numpy(),
    }, columns=list(PUBLIC_TABLES["offered"]["columns"]))


def _hours(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _findings(ids: list[str], names: dict[str, str], rules: Rules, evidence: Evidence) -> pd.DataFrame:
    rows = []
    inspections, tickets, months = evidence.inspections, evidence.tickets, evidence.required_months
    for pid in ids:
        checks = inspections[inspections["provider_id"] == pid]
        own = tickets[tickets["provider_id"] == pid]
        answered = sorted(Decimal(h) for h in own["response_hours"] if h not in ("", None))
        owed = months[months["provider_id"] == pid]
        required = pd.to_numeric(owed["required_visits"]).astype("int64")
        counted = pd.to_numeric(owed["visits"]).astype("int64").clip(upper=required)
        rows.append({
            "provider_id": pid, "provider_name": names[pid],
            "inspections": len(checks),
            **{f"inspections_{result}": int((checks["result"] == result).sum())
               for result in ("pass", "poor", "falsified")},
            "inspection_deduction": f"{sum((Decimal(v) for v in checks['deduction_yuan'] if v), Decimal(0)):.2f}",
            "complaints": len(own),
            "complaints_substantiated": int((own["substantiated"] == "yes").sum()),
            "complaints_in_time": int((own["in_time"] == "True").sum()),
            "complaints_unanswered": int((own["responded_at"] == "").sum()),
            "response_hours_median": _hours(_median(answered)),
            "response_hours_max": _hours(answered[-1] if answered else None),
            "response_limit_hours": f"{rules.complaint_response_hours:g}",
            "required_visits": int(required.sum()), "visits_counted": int(counted.sum()),
            "missed_visits": int((required - counted).sum()),
        })
    return pd.DataFrame(rows, columns=list(PUBLIC_TABLES["findings"]["columns"])).astype(str)


def _text_of(values: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        return values.map(lambda v: "" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d"))
    if kind == "money":
        return values.map(lambda v: "" if v is None or v == "" else f"{Decimal(str(v)):.2f}")
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))


def _public_contracts(providers: pd.DataFrame, threshold: int) -> pd.DataFrame:
    table = providers.sort_values("provider_id", kind="stable")
    counts = table[["contracted_beneficiaries"]].astype("int64").reset_index(drop=True)
    hidden = suppression_mask(counts, [], threshold)
    return pd.DataFrame({
        "provider_id": _text_of(table["provider_id"], "text").to_numpy(),
        "provider_name": _text_of(table["name"], "text").to_numpy(),
        "contract_id": _text_of(table["contract_id"], "text").to_numpy(),
        "contract_start": _text_of(table["contract_start"], "date").to_numpy(),
        "contract_end": _text_of(table["contract_end"], "date").to_numpy(),
        "contract_amount": _text_of(table["contract_amount"], "money").to_numpy(),
        "contracted_beneficiaries": apply_mask(counts, hidden, threshold)["contracted_beneficiaries"].to_numpy(),
        "credit_code": _text_of(table["credit_code"], "text").to_numpy() if "credit_code" in table
        else [""] * len(table),
    })


def _public_catalog(catalog: pd.DataFrame) -> pd.DataFrame:
    table = catalog.sort_values("item_code", kind="stable")
    return pd.DataFrame({
        "item_code": _text_of(table["item_code"], "text").to_numpy(),
        "category": _text_of(table["category"], "text").to_numpy(),
        "name": _text_of(table["name"], "text").to_numpy(),
        "unit": _text_of(table["unit"], "text").to_numpy(),
        "guide_price": _text_of(table["guide_price"], "money").to_numpy(),
        "standard_minutes": _text_of(table["standard_minutes"], "text").to_numpy(),
    })

