"""Scoring rules: one pydantic model, one field per METHODOLOGY.md rule, defaults included.

A region's `region.yaml` may override any rule under `rules:`; unknown names and bad values are
errors (reported as problems, never silently ignored). `fingerprint` identifies the rules used so
every result can say which rules made it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scoring.inputs.problems import Problem, Rule
from scoring.inputs.schema import CARE_LEVELS, GRADES, HOSPITAL_LEVELS

OTHER_CATEGORY = "其他"  # the visits_per_month key that applies to every unlisted category


class _Strict(BaseModel):
    # every number finite: `.inf` or `.nan` in region.yaml is a bad value, not a rule
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Weights(_Strict):
    hours: float = Field(0.30, ge=0, le=1)
    volume: float = Field(0.30, ge=0, le=1)
    quality: float = Field(0.40, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> "Weights":
        total = self.hours + self.volume + self.quality
        if abs(total - 1) > 1e-9:
            raise ValueError(f"hours + volume + quality must add up to 1 (now {total:g})")
        return self


class QualityWeights(_Strict):
    satisfaction: float = Field(0.60, ge=0, le=1)
    inspections: float = Field(0.25, ge=0, le=1)
    complaints: float = Field(0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> "QualityWeights":
        total = self.satisfaction + self.inspections + self.complaints
        if abs(total - 1) > 1e-9:
            raise ValueError(
                f"satisfaction + inspections + complaints must add up to 1 (now {total:g})"
            )
        return self


MAX_RATE = Decimal("100000")  # yuan per person-day or person-month: far above any real rate


def _rate_table(v: dict[str, Decimal] | None, allowed: tuple[str, ...], what: str):
    """An optional table of non-negative yuan rates keyed by known levels."""
    if v is not None:
        unknown = set(v) - set(allowed)
        if unknown:
            raise ValueError(f"{what} are {list(allowed)}, not {sorted(unknown)}")
        if any(not r.is_finite() or r < 0 or r > MAX_RATE for r in v.values()):
            raise ValueError(f"rates must be between 0 and {MAX_RATE} yuan")
        v = {level: v[level] for level in allowed if level in v}  # one order, wherever it is read
    return v


class Rules(_Strict):
    """Every rule of METHODOLOGY.md, named as there."""

    # who must be served, and how often
    visits_per_month: dict[str, int] = Field(
        default_factory=lambda: {"特困": 3, "经济困难老年人": 3, "重度残疾人": 2, OTHER_CATEGORY: 1}
    )
    # hours
    hours_per_day: float = Field(8, gt=0, le=24)
    max_hours_per_record: float = Field(4, gt=0, le=24)
    standard_visit_hours: float = Field(1.0, gt=0, le=24)
    # plausibility of service rows (validation)
    long_visit_hours: float = Field(12, gt=0, le=24)
    max_escort_days_per_record: float = Field(31, gt=0, le=92)
    # quality
    quality_weights: QualityWeights = QualityWeights()
    satisfied_at_least: int = Field(4, ge=1, le=5)
    complaint_response_hours: float = Field(72, gt=0, le=720)
    # composite, deductions, grade
    weights: Weights = Weights()
    points_per_falsified: float = Field(5, ge=0, le=100)
    points_per_substantiated_complaint: float = Field(1, ge=0, le=100)
    max_point_deduction: float = Field(20, ge=0, le=100)
    grade_bands: dict[str, float] = Field(
        default_factory=lambda: {"优秀": 90, "良好": 80, "合格": 60}
    )
    falsified_grade_cap: str = "合格"
    bootstrap_resamples: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = Field(20250101, ge=0)
    # payment release
    payout_ratios: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "优秀": Decimal("1.00"), "良好": Decimal("0.95"),
            "合格": Decimal("0.85"), "不合格": Decimal("0.60"),
        }
    )
    escort_rates: dict[str, Decimal] | None = None
    care_tier_rates: dict[str, Decimal] | None = None
    # satisfaction report
    min_surveys: int = Field(30, ge=1, le=100_000)
    # spending report
    per_capita_standard: Decimal = Field(Decimal("2000"), gt=0, le=Decimal("1000000"))
    # objections to a published quarter
    objection_days: int = Field(7, ge=1, le=60)  # working days from publication
    # disclosure control
    suppress_below: int = Field(5, ge=3, le=100)  # SPEC: never under 3; "<3" still leaves 1 or 2

    @field_validator("visits_per_month")
    @classmethod
    def _visits(cls, v: dict[str, int]) -> dict[str, int]:
        for category, visits in v.items():
            if not isinstance(visits, int) or visits < 0 or visits > 31:
                raise ValueError(f"{category}: visits per month must be a whole number 0-31")
        return {OTHER_CATEGORY: 1, **v} if OTHER_CATEGORY not in v else v

    @field_validator("grade_bands")
    @classmethod
    def _bands(cls, v: dict[str, float]) -> dict[str, float]:
        expected = list(GRADES[:-1])
        if sorted(v) != sorted(expected):
            raise ValueError(f"grade_bands needs exactly the grades {expected} (不合格 is below 合格)")
        edges = [v[g] for g in expected]
        if not all(0 <= e <= 100 for e in edges) or not (edges[0] > edges[1] > edges[2]):
            raise ValueError("grade_bands must satisfy 100 ≥ 优秀 > 良好 > 合格 ≥ 0")
        return {g: float(v[g]) for g in expected}

    @field_validator("falsified_grade_cap")
    @classmethod
    def _cap(cls, v: str) -> str:
        if v not in GRADES:
            raise ValueError(f"must be one of {list(GRADES)}")
        return v

    @field_validator("payout_ratios")
    @classmethod
    def _ratios(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        if sorted(v) != sorted(GRADES):
            raise ValueError(f"payout_ratios needs exactly the grades {list(GRADES)}")
        ratios = [v[g] for g in GRADES]
        if not all(Decimal(0) <= r <= Decimal(1) for r in ratios):
            raise ValueError("each payout ratio must be between 0 and 1")
        if any(a < b for a, b in zip(ratios, ratios[1:])):
            raise ValueError("a better grade may not pay a lower ratio")
        return {g: v[g] for g in GRADES}

    @field_validator("escort_rates")
    @classmethod
    def _escort(cls, v: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
        return _rate_table(v, HOSPITAL_LEVELS, "hospital levels")

    @field_validator("care_tier_rates")
    @classmethod
    def _care(cls, v: dict[str, Decimal] | None) -> dict[str, Decimal] | None:
        return _rate_table(v, CARE_LEVELS, "care levels")

    def visits_required(self, category: str) -> int:
        return self.visits_per_month.get(category, self.visits_per_month[OTHER_CATEGORY])

    def fingerprint(self) -> str:
        """sha256 over the canonical JSON of every rule value (defaults included)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Publisher(_Strict):
    """Where and under which identifiers the region's disclosure is published (region.yaml,
    `publisher:`). Both are optional: the site address then comes from mkdocs.yml's `site_url`
    (or the product's default), the ocid prefix from the product's default, which is plainly
    not registered (`outputs.formats.UNREGISTERED_OCID_PREFIX`)."""

    # the address the site is served at, e.g. https://mzj.example.gov.cn/gongkai/
    site_url: str | None = Field(None, pattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?$")
    # the prefix Open Contracting Partnership assigned to the bureau: ocds- and 6 characters
    ocid_prefix: str | None = Field(None, pattern=r"^ocds-[a-z0-9]{6}$")

    @field_validator("site_url")
    @classmethod
    def _directory(cls, v: str | None) -> str | None:
        return v if v is None or v.endswith("/") else v + "/"


# A public office number: a landline with its area code (0943-3221234), a service number
# (12345, 12349, 96156) or a mobile number; spaces and dashes as people write them.
PUBLIC_PHONE = r"^(?:0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|1[2-9]\d{3,4}|1[3-9]\d{9})$"


class Contact(_Strict):
    """Where the public complains and objects (region.yaml, `contact:`): the bureau's public
    office, shown at the foot of every page and on the 监督与投诉 page. Required to publish."""

    bureau: str = Field(min_length=2, max_length=60)  # 会宁县民政局
    address: str = Field(min_length=4, max_length=120)  # 会宁县会师镇……(邮编)
    telephone: str = Field(pattern=PUBLIC_PHONE)  # the office that answers objections
    hotline: str | None = Field(None, pattern=PUBLIC_PHONE)  # complaints, e.g. 12345 or 12349
    email: str | None = Field(None, pattern=r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
    office_hours: str | None = Field(None, max_length=60)  # 工作日 8:30–12:00、14:30–18:00

    @field_validator("telephone", "hotline", mode="before")
    @classmethod
    def _phone_text(cls, v: Any) -> Any:
        return str(v).replace(" ", "") if isinstance(v, (int, str)) else v


class RegionConfig(_Strict):
    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{6}$")
    rules: Rules = Rules()
    publisher: Publisher = Publisher()
    contact: Contact | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


REGION_FILE = "region.yaml"


def _line_of(document: yaml.Node | None, path: tuple) -> int:
    """The 1-based line in region.yaml of the key at `path`, or 0 if it cannot be found."""
    node, line = document, 0
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == str(key):
                node, line = v, k.start_mark.line + 1
                break
        else:
            break
    return line


REGION_FILE_LIMIT = 1 << 20  # bytes: region settings are a page of text, never more


class _Refused(yaml.MarkedYAMLError):
    """YAML that region settings never need: an alias (a billion-laughs bomb is aliases), a
    duplicate key (which value was meant?)."""

    def __init__(self, zh: str, en: str, mark) -> None:
        super().__init__(problem=en, problem_mark=mark)
        self.zh = zh


class _StrictLoader(yaml.SafeLoader):
    """safe_load without aliases and without duplicate keys: bounded work for any file."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(f"{REGION_FILE} 第 {event.start_mark.line + 1} 行使用了 YAML 别名(*{event.anchor}),区域设置不允许使用别名",
                           "aliases are not allowed in region settings", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _Refused(f"{REGION_FILE} 第 {key_node.start_mark.line + 1} 行的键“{key}”重复出现",
                               f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_region_config(region_dir: Path) -> tuple[RegionConfig | None, list[Problem]]:
    """Read `region.yaml`; return the config (None if unusable) and every problem in it."""
    path = Path(region_dir) / REGION_FILE
    if not path.is_file():
        return None, [Problem(
            REGION_FILE, 0, "", "", Rule.MISSING_REGION,
            f"缺少 {REGION_FILE}", f"{REGION_FILE} is missing",
            f"在 {region_dir} 中放入 {REGION_FILE},至少写明 name(县名)和 code(6位行政区划代码)",
        )]
    if path.stat().st_size > REGION_FILE_LIMIT:
        return None, [Problem(
            REGION_FILE, 0, "", "", Rule.BAD_REGION,
            f"{REGION_FILE} 大于 {REGION_FILE_LIMIT // 1024} KB,不像区域设置文件",
            f"{REGION_FILE} is larger than {REGION_FILE_LIMIT // 1024} KB",
            "区域设置只需要 name、code 和少量规则;请换回正确的文件",
        )]
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = yaml.load(text, Loader=_StrictLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        refused = isinstance(exc, _Refused)
        return None, [Problem(
            REGION_FILE, (where.line + 1) if where else 0, "", "", Rule.BAD_REGION,
            exc.zh if refused else f"{REGION_FILE} 不是有效的 UTF-8 YAML 文件",
            f"{REGION_FILE}: {exc.problem}" if refused else f"{REGION_FILE} is not valid UTF-8 YAML: {exc}",
            "删除别名或重复的键,每个设置直接写出它的值" if refused else "用文本编辑器以 UTF-8 保存,检查缩进和冒号",
        )]
    if not isinstance(data, dict):
        return None, [Problem(
            REGION_FILE, 0, "", "", Rule.BAD_REGION,
            f"{REGION_FILE} 应为键值对(name、code、rules)", f"{REGION_FILE} must be a mapping",
            "参照示例区域的 region.yaml 填写",
        )]
    for optional in ("rules", "publisher", "contact"):
        if data.get(optional) is None:
            data.pop(optional, None)
    try:
        return RegionConfig.model_validate(data), []
    except ValidationError as exc:
        document = yaml.compose(text, Loader=_StrictLoader)  # parsed again for the line of each key: only when reporting
        problems = []
        for error in exc.errors():
            loc = tuple(x for x in error["loc"] if not str(x).startswith("function-after"))
            name = ".".join(str(x) for x in loc)
            value = "" if error["type"] == "missing" else str(error.get("input", ""))[:200]
            if error["type"] == "extra_forbidden":
                rule = Rule.UNKNOWN_RULE if loc[:1] == ("rules",) else Rule.BAD_REGION
                zh = f"未知的设置项 {name}"
                en = f"unknown setting {name}"
                action = "核对 METHODOLOGY 中的规则名称(区分大小写),或删除此项"
            else:
                rule = Rule.BAD_RULE_VALUE if loc[:1] == ("rules",) else Rule.BAD_REGION
                zh = f"设置项 {name} 的值无效:{error['msg']}"
                en = f"bad value for {name}: {error['msg']}"
                action = "按方法说明改正此值,或删除此项以使用默认值"
            problems.append(Problem(
                REGION_FILE, _line_of(document, loc), name, value, rule, zh, en, action,
            ))
        return None, problems
