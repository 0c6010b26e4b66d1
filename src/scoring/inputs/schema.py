"""The input data contract, declared once: files, columns, Chinese labels, types, allowed values.

Everything that reads, writes, validates or generates input files takes its names from here
(SPEC.md, "Input data contract"). A header in a file may be the canonical English name or the
Chinese label; `canonical_column` maps either to the canonical name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is parsed."""

    TEXT = "text"
    CODE = "code"  # an identifier: stripped text, no spaces
    DATE = "date"
    DATETIME = "datetime"
    MONEY = "money"  # Decimal yuan, at most 2 decimal places
    INT = "int"
    NUMBER = "number"  # non-negative decimal number (units)
    CHOICE = "choice"
    ID_NUMBER = "id_number"  # 18-digit 居民身份证号, GB 11643 check digit
    PHONE = "phone"
    CREDIT_CODE = "credit_code"  # 18-character 统一社会信用代码, GB 32100-2015 check character
    BANK_ACCOUNT = "bank_account"  # 账号: 8 to 30 digits, spaces and hyphens between groups allowed


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # the Chinese header an office export uses
    kind: Kind
    required: bool = True  # a value must be present in every row
    choices: tuple[str, ...] = ()
    personal: bool = False  # identifies a person: never public


@dataclass(frozen=True)
class FileSpec:
    name: str  # stem: providers, catalog, ...
    label: str
    level: str  # "region" or "quarter"
    columns: tuple[Column, ...]
    key: str  # unique key column
    personal: bool = False
    references: tuple[tuple[str, str, str], ...] = field(default=())  # (column, file, column)
    optional: bool = False  # the file may be left out (paid.csv: nothing paid yet)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


UNITS = ("次", "小时", "天")
DAY_UNIT = "天"  # a service counted in days (hospital escort): hours are units x hours_per_day
STATUSES = ("completed", "cancelled", "no_show")
CHANNELS = ("wechat", "phone", "hotline", "proactive")
HOSPITAL_LEVELS = ("township", "county", "city")
SURVEY_METHODS = ("home", "phone")
SUBSTANTIATED = ("yes", "no", "pending")
INSPECTION_RESULTS = ("pass", "poor", "falsified")
CARE_LEVELS = ("全自理", "半护理", "全护理")
DECISIONS = ("upheld", "partly_upheld", "rejected", "pending")
GRADES = ("优秀", "良好", "合格", "不合格")

# Chinese spellings accepted for coded values, mapped to the canonical code.
VALUE_LABELS: dict[str, str] = {
    "已完成": "completed", "完成": "completed", "已取消": "cancelled", "取消": "cancelled",
    "未上门": "no_show", "爽约": "no_show",
    "微信": "wechat", "电话": "phone", "热线": "hotline", "主动发现": "proactive",
    "乡镇": "township", "乡镇卫生院": "township", "县级": "county", "县": "county",
    "市级": "city", "市级及以上": "city", "市": "city",
    "入户": "home", "上门": "home",
    "是": "yes", "否": "no", "待核实": "pending",
    "成立": "upheld", "部分成立": "partly_upheld", "不成立": "rejected", "处理中": "pending",
    "合格": "pass", "通过": "pass", "较差": "poor", "效果差": "poor", "弄虚作假": "falsified",
}

PROVIDERS = FileSpec(
    name="providers",
    label="服务机构",
    level="region",
    key="provider_id",
    columns=(
        Column("provider_id", "机构编号", Kind.CODE),
        Column("name", "机构名称", Kind.TEXT),
        Column("contract_id", "合同编号", Kind.CODE),
        Column("contract_start", "合同开始日期", Kind.DATE),
        Column("contract_end", "合同结束日期", Kind.DATE),
        Column("contract_amount", "合同金额", Kind.MONEY),
        Column("contracted_beneficiaries", "合同服务人数", Kind.INT),
        # an organization's code is public (it is printed on its registration certificate); the
        # OCDS package identifies the provider by it
        Column("credit_code", "统一社会信用代码", Kind.CREDIT_CODE, required=False),
        # where finance pays the provider (the workbook's 收款信息); never published
        Column("bank_name", "开户行", Kind.TEXT, required=False),
        Column("bank_account", "账号", Kind.BANK_ACCOUNT, required=False),
        # the organisation's own office and public telephone, printed on its profile page (an
        # organisation's numbers, published on purpose, like the bureau's: the privacy scan allows
        # them, never a beneficiary's)
        Column("address", "机构地址", Kind.TEXT, required=False),
        Column("telephone", "联系电话", Kind.PHONE, required=False),
    ),
)

CATALOG = FileSpec(
    name="catalog",
    label="服务项目清单",
    level="region",
    key="item_code",
    columns=(
        Column("item_code", "项目编码", Kind.CODE),
        Column("category", "服务类别", Kind.TEXT),
        Column("name", "项目名称", Kind.TEXT),
        Column("unit", "计量单位", Kind.CHOICE, choices=UNITS),
        Column("guide_price", "指导价", Kind.MONEY),
        Column("standard_minutes", "标准时长(分钟)", Kind.INT),
    ),
)

BENEFICIARIES = FileSpec(
    name="beneficiaries",
    label="服务对象",
    level="region",
    key="beneficiary_id",
    personal=True,
    references=(("provider_id", "providers", "provider_id"),),
    columns=(
        Column("beneficiary_id", "对象编号", Kind.CODE, personal=True),
        Column("name", "姓名", Kind.TEXT, personal=True),
        Column("id_number", "身份证号", Kind.ID_NUMBER, personal=True),
        Column("phone", "联系电话", Kind.PHONE, required=False, personal=True),
        Column("township", "乡镇", Kind.TEXT),
        Column("village", "村(社区)", Kind.TEXT, personal=True),
        Column("category", "救助类别", Kind.TEXT),
        Column("care_level", "护理等级", Kind.CHOICE, required=False, choices=CARE_LEVELS),
        Column("provider_id", "服务机构编号", Kind.CODE),
        Column("enrolled_on", "纳入日期", Kind.DATE),
        Column("exited_on", "退出日期", Kind.DATE, required=False),
    ),
)

SERVICES = FileSpec(
    name="services",
    label="服务记录",
    level="quarter",
    key="record_id",
    references=(
        ("beneficiary_id", "beneficiaries", "beneficiary_id"),
        ("provider_id", "providers", "provider_id"),
        ("item_code", "catalog", "item_code"),
    ),
    columns=(
        Column("record_id", "服务记录编号", Kind.CODE),
        Column("beneficiary_id", "对象编号", Kind.CODE, personal=True),
        Column("provider_id", "机构编号", Kind.CODE),
        Column("worker_id", "服务人员编号", Kind.CODE, personal=True),
        Column("item_code", "项目编码", Kind.CODE),
        Column("ordered_at", "下单时间", Kind.DATETIME),
        Column("started_at", "开始时间", Kind.DATETIME),
        Column("ended_at", "结束时间", Kind.DATETIME),
        Column("status", "状态", Kind.CHOICE, choices=STATUSES),
        Column("channel", "下单渠道", Kind.CHOICE, choices=CHANNELS),
        Column("units", "数量", Kind.NUMBER),
        Column("hospital_level", "医院级别", Kind.CHOICE, required=False, choices=HOSPITAL_LEVELS),
    ),
)

SURVEYS = FileSpec(
    name="surveys",
    label="回访测评",
    level="quarter",
    key="survey_id",
    references=(
        ("beneficiary_id", "beneficiaries", "beneficiary_id"),
        ("provider_id", "providers", "provider_id"),
    ),
    columns=(
        Column("survey_id", "回访编号", Kind.CODE),
        Column("beneficiary_id", "对象编号", Kind.CODE, personal=True),
        Column("provider_id", "机构编号", Kind.CODE),
        Column("surveyed_on", "回访日期", Kind.DATE),
        Column("method", "回访方式", Kind.CHOICE, choices=SURVEY_METHODS),
        Column("overall", "总体满意度", Kind.INT),
    ),
)

COMPLAINTS = FileSpec(
    name="complaints",
    label="热线投诉",
    level="quarter",
    key="ticket_id",
    personal=True,
    references=(
        ("provider_id", "providers", "provider_id"),
        ("beneficiary_id", "beneficiaries", "beneficiary_id"),
    ),
    columns=(
        Column("ticket_id", "工单编号", Kind.CODE),
        Column("received_at", "受理时间", Kind.DATETIME),
        Column("provider_id", "机构编号", Kind.CODE),
        Column("beneficiary_id", "对象编号", Kind.CODE, required=False, personal=True),
        Column("category", "问题类别", Kind.TEXT),
        Column("substantiated", "是否属实", Kind.CHOICE, choices=SUBSTANTIATED),
        Column("assigned_at", "交办时间", Kind.DATETIME, required=False),
        Column("verified_at", "核实时间", Kind.DATETIME, required=False),
        Column("responded_at", "反馈时间", Kind.DATETIME, required=False),
        Column("text", "诉求内容", Kind.TEXT, required=False, personal=True),
    ),
)

INSPECTIONS = FileSpec(
    name="inspections",
    label="抽查记录",
    level="quarter",
    key="inspection_id",
    references=(("record_id", "services", "record_id"),),
    columns=(
        Column("inspection_id", "抽查编号", Kind.CODE),
        Column("inspected_on", "抽查日期", Kind.DATE),
        Column("township", "乡镇", Kind.TEXT),
        Column("record_id", "服务记录编号", Kind.CODE),
        Column("result", "抽查结果", Kind.CHOICE, choices=INSPECTION_RESULTS),
        Column("deduction_yuan", "扣减金额", Kind.MONEY),
    ),
)

# What finance actually paid against each contract for the quarter (one row per payment voucher).
# Optional: before anything is paid there is no file, and every figure is a plan.
PAID = FileSpec(
    name="paid",
    label="实际拨付",
    level="quarter",
    key="voucher_no",
    optional=True,
    references=(("contract_id", "providers", "contract_id"),),
    columns=(
        Column("contract_id", "合同编号", Kind.CODE),
        Column("paid_on", "支付日期", Kind.DATE),
        Column("amount", "支付金额", Kind.MONEY),
        Column("voucher_no", "凭证号", Kind.CODE),
    ),
)

# Objections to the published quarter (公示期异议), one row per objection. Optional. What was objected
# to and what was decided are public; who objected never is.
OBJECTIONS = FileSpec(
    name="objections",
    label="异议处理",
    level="quarter",
    key="objection_id",
    optional=True,
    references=(("provider_id", "providers", "provider_id"),),
    columns=(
        Column("objection_id", "异议编号", Kind.CODE),
        Column("received_on", "收到日期", Kind.DATE),
        Column("provider_id", "机构编号", Kind.CODE, required=False),
        Column("about", "异议事项", Kind.TEXT),
        Column("summary", "异议内容摘要", Kind.TEXT),
        Column("decision", "处理结果", Kind.CHOICE, choices=DECISIONS),
        Column("decided_on", "答复日期", Kind.DATE, required=False),
        Column("revision", "更正版本", Kind.INT, required=False),
        Column("objector", "异议人", Kind.TEXT, required=False, personal=True),
        Column("objector_phone", "异议人电话", Kind.PHONE, required=False, personal=True),
    ),
)

FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (PROVIDERS, CATALOG, BENEFICIARIES, SERVICES, SURVEYS, COMPLAINTS, INSPECTIONS, PAID,
                 OBJECTIONS)
}
REGION_FILES = [s.name for s in FILES.values() if s.level == "region"]
QUARTER_FILES = [s.name for s in FILES.values() if s.level == "quarter"]


def canonical_column(spec: FileSpec, header: str) -> str | None:
    """The canonical name of a header written in English or Chinese, or None if unknown."""
    text = header.strip().lstrip("\ufeff")
    for c in spec.columns:
        if text == c.name or text == c.label or text.lower() == c.name.lower():
            return c.name
    return None


def personal_columns() -> dict[str, list[str]]:
    """Per file, the columns that identify a person (privacy scans and publishing read this)."""
    return {s.name: [c.name for c in s.columns if c.personal] for s in FILES.values()}
