"""Synthetic regions: seeded, deterministic input files that look like a county platform's exports.

`generate(profile, out)` writes one region (峡江县 `xiajiang`, 会宁县 `huining`) or one region per
county (`province`, Yunnan, directories named by the county's 6-digit code). Nothing here is a real
person: names come from lists of common characters, ID numbers carry the region's code, a
plausible birth date and a valid GB 11643 check digit, phones are well-formed random numbers.

How a quarter is made (all vectorised; loops run over quarters, months and counties only):

1. Beneficiary-months: each beneficiary × month, with the window in which a visit may happen
   (enrolled, not yet exited — visits stop the day before `exited_on` — and inside the provider's
   contract) and whether the month is *required* (METHODOLOGY.md's full enrolment and contract).
2. Visits per beneficiary-month: with probability `diligence` the provider delivers the required
   visits plus a few extra (the extra rate is solved so the quarter has about
   `records_per_quarter` rows); otherwise fewer than required. Cancelled and no-show rows come
   on top.
3. Times: every non-day visit gets a day in its window and a half-day slot (08:00–12:00 or
   14:00–18:00) and fits inside it; within a provider, day and half-day the k-th visit goes to the
   k-th worker, so no worker is ever in two places at once. Escort days (unit 天) take whole-day
   blocks starting on the 1st, 5th, …, 25th of the month, run exactly `units` × 24 h, and are done
   by separate escort workers, one per block.
4. Surveys (one per surveyed beneficiary, a few days after a visit), complaints (from a visit,
   with a received → assigned → verified → responded chain cut off at the quarter's end, as an
   export at that moment would be) and monthly inspections (randomly chosen townships, inspected
   on the 1st–10th of the following month) all derive from the quarter's visits, so every
   reference, date and enrolment is consistent.

Files follow `schema.py` exactly: columns in `FileSpec` order, headers as canonical names or as
Chinese labels (a profile's `headers`), dates `YYYY-MM-DD`, datetimes `YYYY-MM-DD HH:MM:SS`,
money with 2 decimals, coded values as canonical English codes, empty optional values empty,
UTF-8 without BOM, "\\n" line endings. `messy=True` then plants known defects (see `messy.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import yaml

from scoring.engine.pipeline import score_quarter
from scoring.inputs import schema
from scoring.inputs.identity import credit_check_char, make_id_numbers, org_code_check_char
from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.inputs.schema import FileSpec, Kind
from scoring.inputs.validate import validate_quarter
from scoring_synthetic.messy import plant_defects
from scoring_synthetic.people import RegionData, mobile_numbers, person_names

# ------------------------------------------------------------------------------------------------
# Profiles: the knobs
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderProfile:
    """How one provider behaves. `drift` shifts its diligence, visit length and inspection pass
    rate quarter by quarter (cycled), so grades can move over a year."""

    name: str
    township_share: float  # share of the region's townships it serves
    diligence: float = 0.9  # chance a required beneficiary-month gets all its visits
    hours_factor: float = 1.0  # visit length relative to the item's standard minutes
    fail_rate: float = 0.05  # cancelled or no-show rows per completed visit
    satisfaction: tuple[float, float, float, float, float] = (0.01, 0.02, 0.07, 0.40, 0.50)
    inspection: tuple[float, float, float] = (0.95, 0.05, 0.0)  # P(pass, poor, falsified)
    complaints_per_100: float = 3.0  # hotline tickets per quarter per 100 people served
    response_hours: float = 24.0  # median hours from received to responded
    unanswered: float = 0.02  # share of tickets never answered
    substantiated: float = 0.3  # share of verified tickets found true
    surveys: int = 40  # return visits per quarter (Poisson mean; at least 1)
    workers: int = 20
    contract_offset_days: int = 0  # the contract starts this many days into the first quarter
    drift: tuple[float, ...] = (0.0,)

    def in_quarter(self, index: int) -> "ProviderProfile":
        """This provider as it behaves in the `index`-th generated quarter."""
        shift = self.drift[index % len(self.drift)]
        passed, poor, falsified = self.inspection
        moved = float(np.clip(shift / 2, -passed, poor))  # worse work: passes become "poor"
        return replace(
            self,
            diligence=float(np.clip(self.diligence + shift, 0.0, 1.0)),
            hours_factor=max(0.2, self.hours_factor * (1 + shift)),
            inspection=(passed + moved, poor - moved, falsified),
            drift=(0.0,),
        )


@dataclass(frozen=True)
class RegionProfile:
    name: str
    code: str
    seed: int
    beneficiaries: int
    townships: tuple[str, ...]
    villages: int
    categories: dict[str, float]  # share of beneficiaries by category
    providers: tuple[ProviderProfile, ...]
    records_per_quarter: int
    quarters: tuple[str, ...] = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
    rules_yaml: str = ""  # the `rules:` block of region.yaml as written; "" = every default
    headers: str = "name"  # "name": canonical English headers; "label": Chinese labels
    care_level_categories: tuple[str, ...] = ("特困", "重度残疾人")
    care_levels: tuple[float, float, float] = (0.5, 0.3, 0.2)  # 全自理, 半护理, 全护理
    yuan_per_person_year: int = 2000
    escort_weight: float = 0.01  # share of rows that are 住院陪护 days
    new_enrolment_share: float = 0.06  # enrolled during the generated quarters
    exit_share: float = 0.05  # exit during the generated quarters
    no_phone_share: float = 0.10
    inspected_townships_per_month: int = 3
    inspections_per_township: int = 6


XIAJIANG_TOWNSHIPS = (
    "水边镇", "巴邱镇", "仁和镇", "砚溪镇", "罗田镇", "马埠镇",
    "桐林乡", "福民乡", "戈坪乡", "金江乡", "金坪民族乡",
)
HUINING_TOWNSHIPS = (
    "会师镇", "郭城驿镇", "河畔镇", "头寨子镇", "太平店镇", "甘沟驿镇",
    "侯家川镇", "柴家门镇", "汉家岔镇", "刘寨镇", "中川镇", "新添堡回族乡",
)

XIAJIANG = RegionProfile(
    name="峡江县", code="360823", seed=360823, beneficiaries=421,
    townships=XIAJIANG_TOWNSHIPS, villages=96, headers="label", records_per_quarter=3000,
    categories={
        "特困": 0.28, "低保": 0.22, "低保边缘": 0.08, "经济困难老年人": 0.22,
        "重度残疾人": 0.12, "孤儿": 0.04, "事实无人抚养儿童": 0.04,
    },
    providers=(
        ProviderProfile(
            "峡江县仁爱社会工作服务中心", township_share=5 / 11, diligence=0.96, hours_factor=1.15,
            fail_rate=0.03, satisfaction=(0.0, 0.01, 0.04, 0.30, 0.65),
            inspection=(0.97, 0.03, 0.0), complaints_per_100=2.0, response_hours=18,
            unanswered=0.0, substantiated=0.2, surveys=45, workers=24,
        ),
        ProviderProfile(
            "峡江县同心居家养老服务中心", township_share=4 / 11, diligence=0.84, hours_factor=0.95,
            fail_rate=0.06, satisfaction=(0.02, 0.04, 0.12, 0.42, 0.40),
            inspection=(0.85, 0.15, 0.0), complaints_per_100=4.0, response_hours=40,
            unanswered=0.03, substantiated=0.3, surveys=40, workers=20,
            drift=(0.0, 0.04, 0.08, -0.04),
        ),
        ProviderProfile(
            "峡江县康乐家政服务有限公司", township_share=2 / 11, diligence=0.68, hours_factor=0.7,
            fail_rate=0.10, satisfaction=(0.08, 0.12, 0.20, 0.38, 0.22),
            inspection=(0.72, 0.20, 0.08), complaints_per_100=8.0, response_hours=70,
            unanswered=0.08, substantiated=0.45, surveys=33, workers=12,
            contract_offset_days=45, drift=(0.0, -0.12, 0.06, -0.1),
        ),
    ),
)

HUINING_RULES = """\
rules:
  visits_per_month:
    特困: 3
    经济困难老年人: 3
    重度残疾人: 2
    其他: 1
  escort_rates:
    township: 100
    county: 150
    city: 200
  care_tier_rates:
    全自理: 70
    半护理: 150
    全护理: 230
"""

HUINING = RegionProfile(
    name="会宁县", code="620422", seed=620422, beneficiaries=500,
    townships=HUINING_TOWNSHIPS, villages=110, headers="name", records_per_quarter=4000,
    rules_yaml=HUINING_RULES, escort_weight=0.04,
    care_level_categories=("特困", "经济困难老年人", "重度残疾人"),
    categories={
        "特困": 0.30, "经济困难老年人": 0.28, "重度残疾人": 0.15, "低保": 0.20, "孤儿": 0.07,
    },
    providers=(
        ProviderProfile(
            "会宁县夕阳红养老服务中心", township_share=0.5, diligence=0.93, hours_factor=1.1,
            fail_rate=0.04, satisfaction=(0.01, 0.02, 0.06, 0.36, 0.55),
            inspection=(0.94, 0.06, 0.0), complaints_per_100=2.5, response_hours=20,
            surveys=50, workers=24, drift=(0.0, -0.03, 0.02, 0.0),
        ),
        ProviderProfile(
            "会宁县惠民社会工作服务站", township_share=0.5, diligence=0.78, hours_factor=0.85,
            fail_rate=0.07, satisfaction=(0.04, 0.07, 0.15, 0.42, 0.32),
            inspection=(0.80, 0.16, 0.04), complaints_per_100=5.0, response_hours=50,
            unanswered=0.05, substantiated=0.35, surveys=40, workers=20,
            drift=(0.0, 0.06, -0.1, 0.1),
        ),
    ),
)


@dataclass(frozen=True)
class ProvinceProfile:
    """Many counties, each a region with default rules and providers drawn from archetypes."""

    name: str = "云南省"
    seed: int = 530000
    beneficiaries_per_county: float = 60_000 / 73
    quarters: tuple[str, ...] = ("2026Q3",)
    archetypes: dict[str, tuple[float, ProviderProfile]] = field(default_factory=lambda: {
        # name: (share of providers, behaviour)
        "优": (0.30, XIAJIANG.providers[0]),
        "良": (0.35, replace(XIAJIANG.providers[1], drift=(0.0,))),
        "中": (0.25, replace(XIAJIANG.providers[1], diligence=0.74, hours_factor=0.85, drift=(0.0,))),
        "差": (0.10, replace(XIAJIANG.providers[2], contract_offset_days=0, drift=(0.0,))),
    })
    mid_quarter_contract_share: float = 0.15  # counties whose last provider starts mid-quarter


PROVINCE = ProvinceProfile()

PROFILES: dict[str, RegionProfile | ProvinceProfile] = {
    "xiajiang": XIAJIANG, "huining": HUINING, "province": PROVINCE,
}

# Yunnan counties (code, name) in code order; `counties` beyond this list get numbered names.
YUNNAN_COUNTIES = (
    ("530102", "五华区"), ("530103", "盘龙区"), ("530111", "官渡区"), ("530112", "西山区"),
    ("530113", "东川区"), ("530114", "呈贡区"), ("530115", "晋宁区"), ("530124", "富民县"),
    ("530125", "宜良县"), ("530126", "石林彝族自治县"), ("530127", "嵩明县"),
    ("530128", "禄劝彝族苗族自治县"), ("530129", "寻甸回族彝族自治县"), ("530181", "安宁市"),
    ("530302", "麒麟区"), ("530303", "沾益区"), ("530304", "马龙区"), ("530322", "陆良县"),
    ("530323", "师宗县"), ("530324", "罗平县"), ("530325", "富源县"), ("530326", "会泽县"),
    ("530381", "宣威市"), ("530402", "红塔区"), ("530403", "江川区"), ("530423", "通海县"),
    ("530424", "华宁县"), ("530425", "易门县"), ("530426", "峨山彝族自治县"),
    ("530427", "新平彝族傣族自治县"), ("530428", "元江哈尼族彝族傣族自治县"), ("530481", "澄江市"),
    ("530502", "隆阳区"), ("530521", "施甸县"), ("530523", "龙陵县"), ("530524", "昌宁县"),
    ("530581", "腾冲市"), ("530602", "昭阳区"), ("530621", "鲁甸县"), ("530622", "巧家县"),
    ("530623", "盐津县"), ("530624", "大关县"), ("530625", "永善县"), ("530626", "绥江县"),
    ("530627", "镇雄县"), ("530628", "彝良县"), ("530629", "威信县"), ("530681", "水富市"),
    ("530702", "古城区"), ("530721", "玉龙纳西族自治县"), ("530722", "永胜县"), ("530723", "华坪县"),
    ("530724", "宁蒗彝族自治县"), ("530802", "思茅区"), ("530821", "宁洱哈尼族彝族自治县"),
    ("530822", "墨江哈尼族自治县"), ("530823", "景东彝族自治县"), ("530824", "景谷傣族彝族自治县"),
    ("530825", "镇沅彝族哈尼族拉祜族自治县"), ("530826", "江城哈尼族彝族自治县"),
    ("530827", "孟连傣族拉祜族佤族自治县"), ("530828", "澜沧拉祜族自治县"), ("530829", "西盟佤族自治县"),
    ("530902", "临翔区"), ("530921", "凤庆县"), ("530922", "云县"), ("530923", "永德县"),
    ("530924", "镇康县"), ("530925", "双江拉祜族佤族布朗族傣族自治县"), ("530926", "耿马傣族佤族自治县"),
    ("530927", "沧源佤族自治县"), ("532301", "楚雄市"), ("532322", "双柏县"),
)

# ------------------------------------------------------------------------------------------------
# Fixed vocabularies
# ------------------------------------------------------------------------------------------------

VILLAGE_HEADS = "东西南北上下前后新老大小高石田山水河塘坪岭坑湾源口岗庄桥沟洲坊马牛杨柳竹松枫"
VILLAGE_TAILS = "坪岭坑湾源口岗庄桥沟洲坊田塘山溪冲垅埠头家背园岩营寨川塬堡岔"
TOWNSHIP_HEADS = "金银玉青龙凤云石马白黑红黄东西南北新安永宁和平兴福"
TOWNSHIP_TAILS = "山水河川坪岭溪江源口庄桥街沟"

CHILD_CATEGORIES = ("孤儿", "事实无人抚养儿童")
BIRTH_YEARS = {  # (earliest, latest) birth year by category; anything else: working age to old
    "特困": (1932, 1968), "经济困难老年人": (1930, 1962), "重度残疾人": (1945, 2003),
    "孤儿": (2009, 2021), "事实无人抚养儿童": (2009, 2021),
}
DEFAULT_BIRTH_YEARS = (1940, 1990)

# (item_code, category, name, unit, guide price in yuan, standard minutes, relative frequency)
CATALOG_ITEMS = (
    ("SH01", "生活照料", "助餐送餐", "次", 15, 30, 10),
    ("SH02", "生活照料", "居家保洁", "小时", 30, 60, 8),
    ("SH03", "生活照料", "助浴", "次", 50, 60, 4),
    ("SH04", "生活照料", "衣物洗涤", "次", 20, 45, 5),
    ("SH05", "生活照料", "代购代办", "次", 15, 40, 6),
    ("SH06", "生活照料", "理发修面", "次", 20, 30, 3),
    ("SH07", "生活照料", "居家安全检查", "次", 20, 30, 4),
    ("SH08", "生活照料", "生活陪伴", "小时", 25, 60, 6),
    ("JK01", "健康护理", "健康监测", "次", 20, 30, 9),
    ("JK02", "健康护理", "用药提醒与协助", "次", 15, 20, 5),
    ("JK03", "健康护理", "康复训练", "小时", 40, 60, 3),
    ("JK04", "健康护理", "陪同就医", "小时", 30, 120, 3),
    ("JK05", "健康护理", "住院陪护", "天", 120, 480, 0),  # weight from the profile
    ("JK06", "健康护理", "压疮护理", "次", 40, 40, 1),
    ("XL01", "心理疏导", "精神慰藉", "小时", 30, 60, 7),
    ("XL02", "心理疏导", "心理咨询", "小时", 60, 60, 1),
    ("XL03", "心理疏导", "亲情联络", "次", 10, 20, 3),
    ("XL04", "心理疏导", "读书读报", "次", 15, 45, 2),
    ("XL05", "心理疏导", "情绪疏导", "次", 30, 45, 3),
    ("ZY01", "资源链接", "政策咨询", "次", 10, 30, 3),
    ("ZY02", "资源链接", "救助申请代办", "次", 30, 60, 2),
    ("ZY03", "资源链接", "志愿服务对接", "次", 20, 45, 1),
    ("ZY04", "资源链接", "就业就学帮扶", "次", 30, 60, 1),
    ("ZJ01", "助农助急", "农忙帮扶", "小时", 30, 60, 3),
    ("ZJ02", "助农助急", "应急救助", "次", 50, 60, 1),
    ("ZJ03", "助农助急", "临时照看", "小时", 25, 60, 2),
    ("ZJ04", "助农助急", "助急送医", "次", 60, 90, 1),
)
ESCORT_ITEM = "JK05"
ESCORT_FALLBACK_ITEM = "JK01"  # an escort day that does not fit its window becomes a check-up

CHANNEL_SHARES = {"wechat": 0.30, "phone": 0.35, "hotline": 0.10, "proactive": 0.25}
HOSPITAL_SHARES = {"township": 0.5, "county": 0.35, "city": 0.15}
ESCORT_DAYS = (np.array([1, 2, 3]), np.array([0.5, 0.3, 0.2]))
ESCORT_BLOCK_DAYS = np.arange(0, 28, 4)  # escort blocks start on the 1st, 5th, ..., 25th
SLOT_START_HOURS = np.array([8, 14])  # half-day slots of 4 hours
SLOT_SECONDS = 4 * 3600
MAX_VISIT_SECONDS = 230 * 60  # every non-day visit fits its slot with room to spare

COMPLAINT_TOPICS = {  # category: phrases the hotline clerk wrote down
    "服务不及时": ("约好的服务人员迟迟没有上门", "下单三天了还没有人来服务"),
    "未按约上门": ("服务人员说好每周来一次，这个月一次都没来", "登记了上门服务，实际没有人来"),
    "服务时长不足": ("服务人员来了不到十分钟就走了", "说好两个小时的保洁，半小时就结束了"),
    "服务态度": ("服务人员说话不耐烦，老人很不高兴", "服务人员态度生硬，不听老人说话"),
    "服务质量": ("打扫得不干净，衣服也没有洗好", "送来的饭菜是凉的"),
    "其他": ("想咨询能不能增加服务项目", "希望换一个服务人员"),
}
COMPLAINT_CATEGORY_SHARES = (0.2, 0.2, 0.15, 0.15, 0.2, 0.1)

# ------------------------------------------------------------------------------------------------
# The region as tables
# ------------------------------------------------------------------------------------------------


def generate(
    profile: str,
    out: Path,
    seed: int | None = None,
    *,
    messy: bool = False,
    counties: int = 73,
    records_per_quarter: int = 1_000_000,
    quarters: list[str] | None = None,
    beneficiaries: int | None = None,
) -> list[Path]:
    """Write the region(s) for `profile` in {"xiajiang","huining","province"} under `out`; return
    the region dirs written.

    For xiajiang and huining `out` is the region directory; for province it holds one region
    directory per county, named by the county's code. `counties` and `records_per_quarter` apply
    to province only (the county profiles fix their own size), and so does `beneficiaries` (the
    mean per county, the profile's when None; each county has at least 60, and its required visits
    set a floor under its records). `seed` defaults to the profile's.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    chosen = PROFILES[profile]
    out = Path(out)
    seed = chosen.seed if seed is None else seed
    if isinstance(chosen, ProvinceProfile):
        # built and written one county at a time, so memory stays at one county's size
        if beneficiaries is not None:
            chosen = replace(chosen, beneficiaries_per_county=float(beneficiaries))
        regions = province_regions(chosen, seed, counties, records_per_quarter, quarters)
        placed = ((region, out / region.code) for region in regions)
    else:
        if quarters:
            chosen = replace(chosen, quarters=tuple(str(Quarter.parse(q)) for q in quarters))
        placed = iter([(build_region(chosen, seed), out)])
    written = []
    for index, (region, region_dir) in enumerate(placed):
        defects = None
        if messy:
            defects = plant_defects(region, np.random.default_rng([seed, 1, index]))
        write_region(region, region_dir, defects)
        if not messy and not isinstance(chosen, ProvinceProfile):
            write_paid(region_dir, region)
            write_objections(region_dir, region)
        written.append(region_dir)
    return written


def write_paid(region_dir: Path, region: RegionData) -> None:
    """paid.csv for every quarter but the last (finance pays after the quarter is scored and
    published): what each contract's schedule planned, paid on the 20th day after the quarter;
    the first provider of the second quarter was paid 130 yuan short (a top-up is still due).
    Planned amounts come from the scoring engine itself, run on the files just written."""
    quarters = sorted(region.quarters)
    for index, quarter in enumerate(quarters[:-1]):
        validation = validate_quarter(region_dir, quarter)
        payments = score_quarter(validation.tables, validation.config, Quarter.parse(quarter),
                                 region_dir.name).payments
        paid_on = Quarter.parse(quarter).last_day + timedelta(days=20)
        rows = []
        for number, pay in enumerate(payments.itertuples(index=False), start=1):
            if pay.status == "held" or not pay.total_to_pay:
                continue
            amount = pay.total_to_pay - (Decimal(130) if index == 1 and number == 1 else 0)
            rows.append({"contract_id": pay.contract_id, "paid_on": paid_on.isoformat(),
                         "amount": f"{amount:.2f}", "voucher_no": f"PZ{quarter}-{number:03d}"})
        table = pd.DataFrame(rows, columns=schema.PAID.column_names)
        write_table(table, schema.PAID, region, region_dir / quarter / "paid.csv")


def write_objections(region_dir: Path, region: RegionData) -> None:
    """objections.csv for the second-to-last quarter: two objections received after it was
    published, one answered (not upheld), one still being looked into. The objector's name and
    telephone are in the file, as a bureau keeps them for its reply; they are never published."""
    quarters = sorted(region.quarters)
    if len(quarters) < 2:
        return
    quarter = Quarter.parse(quarters[-2])
    received = quarter.last_day + timedelta(days=12)
    provider = region.files["providers"]["provider_id"].iloc[0]
    rows = [
        {"objection_id": f"YY{quarter}-01", "received_on": received.isoformat(), "provider_id": provider,
         "about": "满意度", "summary": "认为本机构的回访对象没有覆盖全部乡镇,满意率不能代表全县",
         "decision": "rejected", "decided_on": (received + timedelta(days=6)).isoformat(), "revision": "",
         "objector": "申诉人甲乙", "objector_phone": ""},
        {"objection_id": f"YY{quarter}-02", "received_on": (received + timedelta(days=2)).isoformat(),
         "provider_id": "", "about": "人均支出", "summary": "询问本季度人均支出为什么高于标准",
         "decision": "pending", "decided_on": "", "revision": "", "objector": "", "objector_phone": ""},
    ]
    table = pd.DataFrame(rows, columns=schema.OBJECTIONS.column_names)
    write_table(table, schema.OBJECTIONS, region, region_dir / str(quarter) / "objections.csv")


# ------------------------------------------------------------------------------------------------
# Building one region
# ------------------------------------------------------------------------------------------------


def build_region(profile: RegionProfile, seed: int) -> RegionData:
    rng = np.random.default_rng(seed)
    quarters = [Quarter.parse(q) for q in profile.quarters]
    rules = region_rules(profile.rules_yaml)
    villages = make_villages(profile.townships, profile.villages, rng)
    providers = make_providers(profile, quarters)
    beneficiaries = make_beneficiaries(profile, villages, providers, quarters, rng)
    providers = with_contract_amounts(providers, beneficiaries, profile.yuan_per_person_year)
    # a stream of its own, so the columns added later leave every earlier value as it was
    providers = with_bank_accounts(providers, profile.name, np.random.default_rng([seed, 2]))
    # drawn from their own stream: columns added later never move a value drawn before them
    providers = with_contacts(providers, profile, np.random.default_rng([seed, 13, 0]))
    catalog = make_catalog(profile.escort_weight)
    quarter_files = {}
    for index, quarter in enumerate(quarters):
        behaviour = [p.in_quarter(index) for p in profile.providers]
        services = make_services(
            quarter, beneficiaries, providers, behaviour, catalog, rules,
            profile.records_per_quarter, profile.code, rng,
        )
        quarter_files[str(quarter)] = {
            "services": to_text(services, schema.SERVICES),
            "surveys": to_text(make_surveys(quarter, services, behaviour, profile.code, rng), schema.SURVEYS),
            "complaints": to_text(
                make_complaints(quarter, services, beneficiaries, behaviour, profile.code, rng),
                schema.COMPLAINTS,
            ),
            "inspections": to_text(make_inspections(quarter, services, behaviour, profile, rng), schema.INSPECTIONS),
        }
    return RegionData(
        name=profile.name, code=profile.code, rules_yaml=profile.rules_yaml, headers=profile.headers,
        files={
            "providers": to_text(providers, schema.PROVIDERS),
            "catalog": to_text(catalog, schema.CATALOG),
            "beneficiaries": to_text(beneficiaries, schema.BENEFICIARIES),
        },
        quarters=quarter_files,
    )


def region_rules(rules_yaml: str) -> Rules:
    """The rules a profile's region.yaml states (visits per month decide how much is served)."""
    data = yaml.safe_load(rules_yaml) if rules_yaml else None
    return Rules.model_validate((data or {}).get("rules") or {})


def epoch_day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def make_villages(townships: tuple[str, ...], count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` distinct village names spread over the townships (every township gets some)."""
    names = unique_names(VILLAGE_HEADS, VILLAGE_TAILS, "村", count, rng)
    township_of = np.concatenate([
        np.arange(len(townships)),  # each township at least one village
        rng.integers(0, len(townships), count - len(townships)),
    ])
    return pd.DataFrame({"township": np.asarray(townships)[np.sort(township_of)], "village": names})


def unique_names(heads: str, tails: str, suffix: str, count: int, rng: np.random.Generator) -> np.ndarray:
    pairs = np.array([h + t for h in heads for t in tails if h != t])
    if count > len(pairs):
        raise ValueError(f"cannot make {count} distinct names from these characters")
    return np.char.add(pairs[rng.choice(len(pairs), count, replace=False)], suffix)


def contract_period(quarters: list[Quarter], offset_days: int) -> tuple[date, date]:
    """A one-year contract from the first quarter (plus an offset), long enough for all quarters."""
    start = quarters[0].first_day + timedelta(days=offset_days)
    end = date(start.year + 1, start.month, start.day) - timedelta(days=1)
    return start, max(end, quarters[-1].last_day)


def make_providers(profile: RegionProfile, quarters: list[Quarter]) -> pd.DataFrame:
    rows = []
    for number, provider in enumerate(profile.providers, start=1):
        start, end = contract_period(quarters, provider.contract_offset_days)
        rows.append({
            "provider_id": f"P{profile.code}-{number:02d}",
            "name": provider.name,
            "contract_id": f"HT{profile.code}-{start.year}-{number:02d}",
            "contract_start": np.datetime64(start, "D"),
            "contract_end": np.datetime64(end, "D"),
            "credit_code": credit_code(profile.code, number),
        })
    return pd.DataFrame(rows)


def credit_code(region_code: str, number: int) -> str:
    """An invented but well-formed 统一社会信用代码 of a social organization registered with the
    county's civil-affairs bureau: 5 (民政) 2 (民办非企业单位), the county's code, an organization
    code MJ + 6 digits with its GB 11714 check character, and the GB 32100-2015 check character.
    The letters keep it from ever looking like an 18-digit ID number."""
    body = f"MJ{int(region_code) % 1000:03d}{number:03d}"
    first17 = f"52{region_code}{body}{org_code_check_char(body)}"
    return first17 + credit_check_char(first17)


BANKS = ("中国农业银行{}支行", "中国工商银行{}支行", "中国建设银行{}支行", "中国邮政储蓄银行{}支行",
         "{}农村商业银行营业部")


def with_bank_accounts(providers: pd.DataFrame, county: str, rng: np.random.Generator) -> pd.DataFrame:
    """Each provider's 开户行 (a county branch) and an invented 19-digit 账号, written as the
    bank prints it, in groups of four."""
    banks = np.asarray(BANKS)[rng.integers(0, len(BANKS), len(providers))]
    digits = [str(rng.integers(1, 10)) + "".join(map(str, rng.integers(0, 10, 18))) for _ in range(len(providers))]
    return providers.assign(
        bank_name=[bank.format(county) for bank in banks],
        bank_account=[" ".join(d[i:i + 4] for i in range(0, 19, 4)) for d in digits],
    )


def with_contract_amounts(
    providers: pd.DataFrame, beneficiaries: pd.DataFrame, yuan_per_person_year: int,
) -> pd.DataFrame:
    """Each provider is contracted for the people on its roster at `yuan_per_person_year`,
    pro rata to the contract's length (a one-year contract: exactly that amount per person)."""
    people = beneficiaries.groupby("provider_id").size().reindex(providers["provider_id"], fill_value=0)
    days = (providers["contract_end"] - providers["contract_start"]).dt.days + 1
    years = np.where(days.between(365, 366), 1.0, days / 365)
    return providers.assign(
        contract_amount=np.round(people.to_numpy() * yuan_per_person_year * years * 100).astype(np.int64),
        contracted_beneficiaries=people.to_numpy(),
    )


STREETS = ("人民路", "建设路", "解放路", "新华街", "文化路", "府前路", "民主路", "和平路")


def with_contacts(providers: pd.DataFrame, profile: RegionProfile, rng: np.random.Generator) -> pd.DataFrame:
    """Each provider's office (a street address in the first township it serves) and its office
    telephone, in the invented area code the bureau's own number uses (0 + the code's first three
    digits, the 555 exchange): an organisation's public numbers, never a person's."""
    owner = township_providers(profile.townships, profile.providers)
    addresses, phones = [], []
    for number in range(1, len(providers) + 1):
        served = [t for t, o in zip(profile.townships, owner) if o == number - 1] or list(profile.townships[:1])
        street = STREETS[int(rng.integers(len(STREETS)))]
        addresses.append(f"{profile.name}{served[0]}{street} {int(rng.integers(1, 200))} 号(合成数据)")
        phones.append(f"0{profile.code[:3]}-556{int(rng.integers(10_000)):04d}")
    return providers.assign(address=addresses, telephone=phones)


def township_providers(townships: tuple[str, ...], providers: tuple[ProviderProfile, ...]) -> np.ndarray:
    """Which provider (index) serves each township: consecutive blocks by `township_share`."""
    shares = np.array([p.township_share for p in providers], dtype=float)
    bounds = np.cumsum(shares / shares.sum()) * len(townships)
    owner = np.searchsorted(np.round(bounds, 6), np.arange(len(townships)) + 0.5)
    return np.minimum(owner, len(providers) - 1)


def make_beneficiaries(
    profile: RegionProfile, villages: pd.DataFrame, providers: pd.DataFrame,
    quarters: list[Quarter], rng: np.random.Generator,
) -> pd.DataFrame:
    n = profile.beneficiaries
    # every village has somebody; the rest live where they live
    village_of = np.concatenate([np.arange(len(villages)), rng.integers(0, len(villages), n - len(villages))])
    village_of = village_of[rng.permutation(n)]
    township = villages["township"].to_numpy()[village_of]
    owner = township_providers(profile.townships, profile.providers)
    township_index = {t: i for i, t in enumerate(profile.townships)}
    provider_index = owner[pd.Series(township).map(township_index).to_numpy()]

    names = list(profile.categories)
    shares = np.array([profile.categories[c] for c in names], dtype=float)
    category = np.asarray(names)[rng.choice(len(names), n, p=shares / shares.sum())]

    id_numbers = unique_id_numbers(profile.code, birth_days(category, rng), rng)

    phone = mobile_numbers(n, rng)
    no_phone = (rng.random(n) < profile.no_phone_share) & ~np.isin(category, CHILD_CATEGORIES)
    phone = np.where(no_phone, "", phone)

    care = np.asarray(schema.CARE_LEVELS)[rng.choice(3, n, p=np.array(profile.care_levels))]
    care = np.where(np.isin(category, profile.care_level_categories), care, "")

    enrolled, exited = enrolment_days(n, quarters, profile, rng)
    frame = pd.DataFrame({
        "beneficiary_id": numbered(f"B{profile.code}-", n, 5),
        "name": person_names(n, rng),
        "id_number": id_numbers,
        "phone": phone,
        "township": township,
        "village": villages["village"].to_numpy()[village_of],
        "category": category,
        "care_level": care,
        "provider_id": providers["provider_id"].to_numpy()[provider_index],
        "enrolled_on": enrolled.astype("datetime64[D]"),
        "exited_on": exited.astype("datetime64[D]"),
    })
    return frame


def birth_days(category: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    categories = pd.Series(category)
    earliest = categories.map(lambda c: BIRTH_YEARS.get(c, DEFAULT_BIRTH_YEARS)[0]).to_numpy()
    latest = categories.map(lambda c: BIRTH_YEARS.get(c, DEFAULT_BIRTH_YEARS)[1]).to_numpy()
    first = (earliest - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    after = (latest + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return (first + (rng.random(len(category)) * (after - first)).astype(np.int64)).astype("datetime64[D]")


def unique_id_numbers(code: str, born: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid ID numbers, no two alike: the 3-digit sequence is odd for men, even for women, and
    is moved on where two people would share a birth date and sequence."""
    n = len(born)
    sequence = rng.integers(1, 499, n) * 2 + (rng.random(n) < 0.5)
    while True:
        taken = pd.DataFrame({"born": born, "sequence": sequence}).duplicated().to_numpy()
        if not taken.any():
            return make_id_numbers(np.full(n, code), born, sequence)
        sequence = np.where(taken, (sequence + 2) % 1000, sequence)


def enrolment_days(
    n: int, quarters: list[Quarter], profile: RegionProfile, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Days enrolled and exited (NaT: still enrolled). Most joined years ago; some join or leave
    during the generated quarters, usually mid-quarter."""
    first, last = epoch_day(quarters[0].first_day), epoch_day(quarters[-1].last_day)
    history_start = epoch_day(date(2018, 1, 1))
    enrolled = history_start + (rng.random(n) * (first - history_start)).astype(np.int64)
    newcomer = rng.random(n) < profile.new_enrolment_share
    enrolled = np.where(newcomer, first + (rng.random(n) * (last - 20 - first)).astype(np.int64), enrolled)
    leaves = (rng.random(n) < profile.exit_share)
    exit_from = np.maximum(enrolled + 30, first)
    exited = exit_from + (rng.random(n) * np.maximum(last - exit_from, 1)).astype(np.int64)
    leaves &= exited <= last
    return enrolled.astype("datetime64[D]"), np.where(leaves, exited, np.iinfo(np.int64).min).astype("datetime64[D]")


def make_catalog(escort_weight: float) -> pd.DataFrame:
    frame = pd.DataFrame(
        CATALOG_ITEMS,
        columns=["item_code", "category", "name", "unit", "guide_price", "standard_minutes", "_weight"],
    )
    frame["guide_price"] = frame["guide_price"] * 100  # money as integer cents
    weights = frame["_weight"].astype(float)
    escort = frame["item_code"] == ESCORT_ITEM
    # the escort item gets exactly `escort_weight` of all rows
    weights[~escort] = weights[~escort] / weights[~escort].sum() * (1 - escort_weight)
    weights[escort] = escort_weight
    frame["_weight"] = weights
    return frame


# ------------------------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------------------------


def beneficiary_months(
    quarter: Quarter, beneficiaries: pd.DataFrame, providers: pd.DataFrame, rules: Rules,
) -> pd.DataFrame:
    """One row per beneficiary and month of the quarter: the window of days a visit may happen in
    (`first`..`last`, epoch days; empty when last < first), whether the month is required, and
    the required visits."""
    n = len(beneficiaries)
    provider_index = pd.Index(providers["provider_id"]).get_indexer(beneficiaries["provider_id"])
    contract_start = providers["contract_start"].to_numpy().astype("datetime64[D]").astype(np.int64)[provider_index]
    contract_end = providers["contract_end"].to_numpy().astype("datetime64[D]").astype(np.int64)[provider_index]
    enrolled = beneficiaries["enrolled_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    exited_raw = beneficiaries["exited_on"].to_numpy().astype("datetime64[D]")
    has_exit = ~np.isnat(exited_raw)
    exited = np.where(has_exit, exited_raw.astype(np.int64), np.iinfo(np.int32).max)
    required = np.array([rules.visits_required(c) for c in beneficiaries["category"]])

    parts = []
    for index, month in enumerate(quarter.months()):
        m_first, m_last = epoch_day(month.first_day), epoch_day(month.last_day)
        first = np.maximum.reduce([np.full(n, m_first), enrolled, contract_start])
        last = np.minimum.reduce([np.full(n, m_last), exited - 1, contract_end])  # visits stop before exit
        full = (enrolled <= m_first) & (exited >= m_last) & (contract_start <= m_first) & (contract_end >= m_last)
        parts.append(pd.DataFrame({
            "b": np.arange(n), "provider": provider_index, "month": index,
            "month_first": m_first, "first": first, "last": last, "full": full,
            "required": required, "fraction": np.clip(last - first + 1, 0, None) / month.days,
        }))
    months = pd.concat(parts, ignore_index=True)
    return months[months["last"] >= months["first"]].reset_index(drop=True)


def visits_per_month(
    months: pd.DataFrame, behaviour: list[ProviderProfile], target_rows: int, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Completed and failed (cancelled/no-show) rows per beneficiary-month.

    A diligent month delivers the required visits plus Poisson(extra) more; a neglected month
    fewer than required; a partial month a share of the usual. `extra` is solved from the
    expected row count so the quarter has about `target_rows` rows."""
    diligence = np.array([p.diligence for p in behaviour])[months["provider"]]
    fail = np.array([p.fail_rate for p in behaviour])[months["provider"]]
    r = months["required"].to_numpy()
    full = months["full"].to_numpy()
    fraction = months["fraction"].to_numpy()
    # expected rows = A + B × extra
    a = np.where(full, diligence * r + (1 - diligence) * (r - 1) / 2, fraction * r) * (1 + fail)
    b = np.where(full, diligence, fraction) * (1 + fail)
    extra = max(0.0, (target_rows - a.sum()) / max(b.sum(), 1e-9))

    diligent = rng.random(len(months)) < diligence
    short = np.floor(rng.random(len(months)) * r).astype(np.int64)  # 0 .. r-1
    completed = np.where(
        full,
        np.where(diligent, r + rng.poisson(extra, len(months)), short),
        rng.poisson(fraction * (r + extra)),
    )
    failed = rng.poisson(fail * completed)
    return completed, failed


def make_services(
    quarter: Quarter, beneficiaries: pd.DataFrame, providers: pd.DataFrame,
    behaviour: list[ProviderProfile], catalog: pd.DataFrame, rules: Rules,
    target_rows: int, code: str, rng: np.random.Generator,
) -> pd.DataFrame:
    months = beneficiary_months(quarter, beneficiaries, providers, rules)
    completed, failed = visits_per_month(months, behaviour, target_rows, rng)
    per_month = completed + failed
    row_month = np.repeat(np.arange(len(months)), per_month)
    position = np.arange(len(row_month)) - np.repeat(np.cumsum(per_month) - per_month, per_month)
    rows = months.iloc[row_month].reset_index(drop=True)
    n = len(rows)
    is_completed = position < completed[row_month]

    item = rng.choice(len(catalog), n, p=catalog["_weight"].to_numpy())
    item, units, start, end, block = schedule(rows, item, catalog, behaviour, rng)
    is_day = catalog["unit"].to_numpy()[item] == "天"
    worker = assign_workers(rows, start, is_day, block, behaviour, code, rng)

    channel = np.asarray(list(CHANNEL_SHARES))[
        rng.choice(len(CHANNEL_SHARES), n, p=list(CHANNEL_SHARES.values()))
    ]
    ordered = order_times(start, channel, quarter, rng)
    failed_status = np.where(rng.random(n) < 0.65, "cancelled", "no_show")
    hospital = np.asarray(list(HOSPITAL_SHARES))[
        rng.choice(len(HOSPITAL_SHARES), n, p=list(HOSPITAL_SHARES.values()))
    ]

    services = pd.DataFrame({
        "beneficiary_id": beneficiaries["beneficiary_id"].to_numpy()[rows["b"]],
        "provider_id": providers["provider_id"].to_numpy()[rows["provider"]],
        "worker_id": worker,
        "item_code": catalog["item_code"].to_numpy()[item],
        "ordered_at": ordered,
        "started_at": start,
        "ended_at": end,
        "status": np.where(is_completed, "completed", failed_status),
        "channel": channel,
        "units": units,
        "hospital_level": np.where(is_day, hospital, ""),
        # kept for surveys, complaints and inspections; never written
        "_b": rows["b"].to_numpy(),
        "_provider": rows["provider"].to_numpy(),
        "_month": rows["month"].to_numpy(),
        "_is_day": is_day,
    })
    services["_township"] = beneficiaries["township"].to_numpy()[services["_b"]]
    services = services.sort_values(
        ["started_at", "provider_id", "beneficiary_id", "worker_id"], kind="stable",
    ).reset_index(drop=True)
    services.insert(0, "record_id", numbered(f"S{code}-{quarter}-", len(services), 6))
    last_window = months.groupby("b")["last"].max()  # a beneficiary's last possible day in Q
    services["_window_last"] = last_window.reindex(services["_b"]).to_numpy()
    for column in ("ordered_at", "started_at", "ended_at"):
        services[column] = services[column].astype("datetime64[s]")
    return services


def numbered(prefix: str, count: int, width: int) -> np.ndarray:
    width = max(width, len(str(count)))
    return (prefix + pd.Series(np.arange(1, count + 1)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def schedule(
    rows: pd.DataFrame, item: np.ndarray, catalog: pd.DataFrame,
    behaviour: list[ProviderProfile], rng: np.random.Generator,
):
    """Units, start and end (epoch seconds) for every row; escort days also get their block."""
    n = len(rows)
    first, last = rows["first"].to_numpy(), rows["last"].to_numpy()
    unit = catalog["unit"].to_numpy()
    minutes = catalog["standard_minutes"].to_numpy().astype(float)

    # escort days: whole-day blocks that fit the window, else a plain check-up instead
    days = rng.choice(ESCORT_DAYS[0], n, p=ESCORT_DAYS[1])
    block_first = rows["month_first"].to_numpy()[:, None] + ESCORT_BLOCK_DAYS[None, :]
    fits = (block_first >= first[:, None]) & (block_first + days[:, None] <= last[:, None])
    block = np.argmax(rng.random(fits.shape) * fits, axis=1)
    is_day = unit[item] == "天"
    item = np.where(is_day & ~fits.any(axis=1), catalog.index[catalog["item_code"] == ESCORT_FALLBACK_ITEM][0], item)
    is_day = unit[item] == "天"

    hours_factor = np.array([p.hours_factor for p in behaviour])[rows["provider"]]
    spread = rng.lognormal(0.0, 0.25, n)
    per_hour = unit[item] == "小时"
    hour_units = np.clip(np.round(minutes[item] / 60 * hours_factor * spread * 2) / 2, 0.5, 3.5)
    seconds = np.where(
        per_hour,
        np.clip(hour_units * 3600 + rng.normal(0, 240, n), hour_units * 3600 - 600, MAX_VISIT_SECONDS),
        np.clip(minutes[item] * hours_factor * spread * 60, 600, MAX_VISIT_SECONDS),
    ).astype(np.int64)
    units = np.where(is_day, days, np.where(per_hour, hour_units, 1.0))

    day = first + np.floor(rng.random(n) * (last - first + 1)).astype(np.int64)
    half = rng.integers(0, 2, n)
    offset = np.floor(rng.random(n) * (SLOT_SECONDS - seconds + 1)).astype(np.int64)
    start = day * 86400 + SLOT_START_HOURS[half] * 3600 + offset
    end = start + seconds
    block_day = block_first[np.arange(n), block]
    day_start = block_day * 86400 + 8 * 3600 + rng.integers(0, 3600, n)
    start = np.where(is_day, day_start, start)
    end = np.where(is_day, day_start + days * 86400, end)
    # the slot (day, half) is what keeps workers apart; escort blocks are keyed separately
    rows_slot = np.where(is_day, -1 - block, day * 2 + half)
    return item, units, start, end, rows_slot


def assign_workers(
    rows: pd.DataFrame, start: np.ndarray, is_day: np.ndarray, slot: np.ndarray,
    behaviour: list[ProviderProfile], code: str, rng: np.random.Generator,
) -> np.ndarray:
    """Worker ids such that no worker has two visits in one slot (so never two at once).

    Within a provider's slot the visits, in random order, go to consecutive workers, starting
    from a worker that rotates with the slot so the load is shared."""
    provider = rows["provider"].to_numpy()
    month = rows["month"].to_numpy()
    keys = pd.DataFrame({"provider": provider, "month": np.where(is_day, month, 0), "slot": slot,
                         "order": rng.random(len(rows))})
    rank = keys.sort_values("order").groupby(["provider", "month", "slot"], sort=False).cumcount()
    rank = rank.reindex(keys.index).to_numpy()
    staff = np.array([p.workers for p in behaviour])
    # a busy slot may need more workers than the profile names: hire them
    needed = pd.Series(rank[~is_day] + 1).groupby(provider[~is_day]).max()
    staff = np.maximum(staff, needed.reindex(range(len(behaviour)), fill_value=0).to_numpy())
    number = (rank + np.abs(slot) * 7) % staff[provider] + 1
    provider_part = pd.Series(provider + 1).astype(str).str.zfill(2)
    regular = f"W{code}-" + provider_part + "-" + pd.Series(number).astype(str).str.zfill(3)
    escort = f"W{code}-" + provider_part + "-E" + pd.Series(rank + 1).astype(str).str.zfill(2)
    return np.where(is_day, escort, regular)


def order_times(start: np.ndarray, channel: np.ndarray, quarter: Quarter, rng: np.random.Generator) -> np.ndarray:
    """When each service was ordered: shortly before a proactive visit, hours to days before an
    ordered one — never before the quarter began."""
    n = len(start)
    lead = np.where(
        channel == "proactive",
        rng.uniform(600, 7200, n),
        np.clip(rng.lognormal(np.log(20 * 3600), 0.8, n), 1800, 96 * 3600),
    ).astype(np.int64)
    quarter_start = epoch_day(quarter.first_day) * 86400
    room = start - quarter_start
    lead = np.where(lead > room, (room * rng.uniform(0.3, 0.9, n)).astype(np.int64), lead)
    return start - lead


# ------------------------------------------------------------------------------------------------
# Surveys, complaints, inspections
# ------------------------------------------------------------------------------------------------


def completed_visits(services: pd.DataFrame) -> pd.DataFrame:
    return services[services["status"] == "completed"]


def make_surveys(
    quarter: Quarter, services: pd.DataFrame, behaviour: list[ProviderProfile], code: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Return visits: one per surveyed beneficiary, a few days after one of their visits."""
    visits = completed_visits(services)
    visits = visits.iloc[rng.permutation(len(visits))]
    one_each = visits.drop_duplicates("beneficiary_id")
    wanted = np.maximum(1, rng.poisson([p.surveys for p in behaviour]))
    rank = one_each.groupby("_provider").cumcount().to_numpy()
    chosen = one_each[rank < wanted[one_each["_provider"].to_numpy()]]
    n = len(chosen)
    visit_day = chosen["started_at"].to_numpy().astype("datetime64[D]").astype(np.int64)
    day = np.minimum(visit_day + rng.integers(0, 8, n), chosen["_window_last"].to_numpy())
    scale = np.array([p.satisfaction for p in behaviour])[chosen["_provider"].to_numpy()]
    overall = 1 + (rng.random(n)[:, None] > np.cumsum(scale, axis=1)).sum(axis=1)
    surveys = pd.DataFrame({
        "beneficiary_id": chosen["beneficiary_id"].to_numpy(),
        "provider_id": chosen["provider_id"].to_numpy(),
        "surveyed_on": day.astype("datetime64[D]"),
        "method": np.where(rng.random(n) < 0.6, "home", "phone"),
        "overall": np.minimum(overall, 5),
    }).sort_values(["surveyed_on", "provider_id", "beneficiary_id"], kind="stable").reset_index(drop=True)
    surveys.insert(0, "survey_id", numbered(f"V{code}-{quarter}-", len(surveys), 4))
    return surveys


def make_complaints(
    quarter: Quarter, services: pd.DataFrame, beneficiaries: pd.DataFrame,
    behaviour: list[ProviderProfile], code: str, rng: np.random.Generator,
) -> pd.DataFrame:
    """Hotline tickets about visits, each with its closed-loop times; a step not taken by the
    end of the quarter is empty (the export is made then)."""
    visits = completed_visits(services)
    served = visits.groupby("_provider")["beneficiary_id"].nunique()
    rates = np.array([p.complaints_per_100 for p in behaviour])
    counts = rng.poisson(rates[served.index] * served.to_numpy() / 100)
    picks = [
        rng.choice(np.flatnonzero(visits["_provider"].to_numpy() == p), k)
        for p, k in zip(served.index, counts) if k
    ]
    if not picks:
        return pd.DataFrame(columns=schema.COMPLAINTS.column_names)
    about = visits.iloc[np.concatenate(picks)]
    n = len(about)
    provider = about["_provider"].to_numpy()

    # received after the visit, while the beneficiary is still enrolled, inside the quarter
    ended = about["ended_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    latest = (about["_window_last"].to_numpy() + 1) * 86400 - 1
    received = ended + (rng.random(n) * np.clip(latest - ended, 0, 7 * 86400)).astype(np.int64)
    total = rng.lognormal(np.log(np.array([p.response_hours for p in behaviour])[provider] * 3600), 0.7)
    assigned = received + np.minimum(rng.uniform(300, 4 * 3600, n), total * 0.2)
    verified = assigned + (received + total - assigned) * rng.uniform(0.4, 0.9, n)
    responded = received + total
    unanswered = rng.random(n) < np.array([p.unanswered for p in behaviour])[provider]
    export = (epoch_day(quarter.last_day) + 1) * 86400 - 1
    times = np.stack([received, assigned, verified, responded]).astype(np.int64)
    taken = times <= export
    taken[3] &= ~unanswered
    taken[2] &= ~(unanswered & (rng.random(n) < 0.5))
    taken = np.logical_and.accumulate(taken, axis=0)  # a step needs every step before it
    stamps = [np.where(taken[i], times[i], np.iinfo(np.int64).min).astype("datetime64[s]") for i in range(4)]

    substantiated = np.where(
        taken[2],
        np.where(rng.random(n) < np.array([p.substantiated for p in behaviour])[provider], "yes", "no"),
        "pending",
    )
    topics = list(COMPLAINT_TOPICS)
    topic = rng.choice(len(topics), n, p=COMPLAINT_CATEGORY_SHARES)
    known = rng.random(n) < 0.9  # a few callers do not give the beneficiary's name
    person = beneficiaries.iloc[about["_b"].to_numpy()]
    complaints = pd.DataFrame({
        "received_at": stamps[0],
        "provider_id": about["provider_id"].to_numpy(),
        "beneficiary_id": np.where(known, about["beneficiary_id"].to_numpy(), ""),
        "category": np.asarray(topics)[topic],
        "substantiated": substantiated,
        "assigned_at": stamps[1],
        "verified_at": stamps[2],
        "responded_at": stamps[3],
        "text": complaint_texts(person, known, topic, rng),
    }).sort_values(["received_at", "provider_id"], kind="stable").reset_index(drop=True)
    complaints.insert(0, "ticket_id", numbered(f"T{code}-{quarter}-", len(complaints), 4))
    return complaints


def complaint_texts(
    person: pd.DataFrame, known: np.ndarray, topic: np.ndarray, rng: np.random.Generator,
) -> np.ndarray:
    """What the clerk typed: who called (by name, as real tickets do), a phone, the grievance."""
    n = len(person)
    phone = person["phone"].to_numpy().astype(str)
    relative_phone = mobile_numbers(n, rng)
    by_relative = (rng.random(n) < 0.4) | (phone == "")
    caller_phone = np.where(by_relative, relative_phone, phone)
    place = person["township"].to_numpy().astype(object) + person["village"].to_numpy().astype(object)
    name = person["name"].to_numpy().astype(object)
    who = np.where(by_relative, place + name + "的家属", place + "村民" + name)
    who = np.where(known, who, "群众(未留姓名)")
    phrases = np.array([p for t in COMPLAINT_TOPICS for p in COMPLAINT_TOPICS[t]], dtype=object)
    grievance = phrases[topic * 2 + rng.integers(0, 2, n)]  # two phrases per topic
    return who + "来电(联系电话" + caller_phone.astype(object) + ")反映:" + grievance + "。"


def make_inspections(
    quarter: Quarter, services: pd.DataFrame, behaviour: list[ProviderProfile],
    profile: RegionProfile, rng: np.random.Generator,
) -> pd.DataFrame:
    """Monthly spot checks: randomly chosen townships, a few completed records each, inspected
    on the 1st–10th of the following month (so never before the visit, at most 10 days after Q)."""
    visits = completed_visits(services)
    found = []
    for month_index, month in enumerate(quarter.months()):
        in_month = visits[visits["_month"] == month_index]
        townships = np.sort(in_month["_township"].unique())
        if not len(townships):
            continue
        picked = rng.choice(townships, min(profile.inspected_townships_per_month, len(townships)), replace=False)
        candidates = in_month[in_month["_township"].isin(picked)]
        candidates = candidates.iloc[rng.permutation(len(candidates))]
        chosen = candidates[candidates.groupby("_township").cumcount() < profile.inspections_per_township]
        next_month = epoch_day(month.last_day) + 1
        day = next_month + rng.integers(0, 10, len(chosen))
        found.append(chosen.assign(_inspected=day.astype("datetime64[D]")))
    if not found:
        return pd.DataFrame(columns=schema.INSPECTIONS.column_names)
    chosen = pd.concat(found, ignore_index=True)
    n = len(chosen)
    odds = np.array([p.inspection for p in behaviour])[chosen["_provider"].to_numpy()]
    result_index = (rng.random(n)[:, None] > np.cumsum(odds, axis=1)).sum(axis=1).clip(0, 2)
    result = np.asarray(schema.INSPECTION_RESULTS)[result_index]
    deduction = np.select(
        [result == "poor", result == "falsified"],
        [rng.integers(5, 21, n) * 1000, rng.integers(4, 11, n) * 5000],  # 50–200 / 200–500 yuan
        0,
    )
    inspections = pd.DataFrame({
        "inspected_on": chosen["_inspected"].to_numpy(),
        "township": chosen["_township"].to_numpy(),
        "record_id": chosen["record_id"].to_numpy(),
        "result": result,
        "deduction_yuan": deduction,
    }).sort_values(["inspected_on", "township", "record_id"], kind="stable").reset_index(drop=True)
    inspections.insert(0, "inspection_id", numbered(f"I{profile.code}-{quarter}-", n, 3))
    return inspections


# ------------------------------------------------------------------------------------------------
# Province
# ------------------------------------------------------------------------------------------------


def province_regions(
    profile: ProvinceProfile, seed: int, counties: int, records_per_quarter: int,
    quarters: list[str] | None,
) -> Iterator[RegionData]:
    """One region per county; sizes vary, totals match the requested scale."""
    rng = np.random.default_rng(seed)
    places = list(YUNNAN_COUNTIES[:counties]) + [
        (pilot_code(i), f"试点县{i:02d}") for i in range(1, counties - len(YUNNAN_COUNTIES) + 1)
    ]
    size = rng.lognormal(0, 0.35, counties)
    size /= size.sum()
    people = np.maximum(60, np.round(size * profile.beneficiaries_per_county * counties)).astype(int)
    records = np.round(size * records_per_quarter).astype(int)
    chosen_quarters = tuple(str(Quarter.parse(q)) for q in (quarters or profile.quarters))
    for index, (code, name) in enumerate(places):
        county_rng = np.random.default_rng([seed, index])
        county = county_profile(profile, code, name, int(people[index]), int(records[index]),
                                chosen_quarters, county_rng)
        yield build_region(county, int(county_rng.integers(2**31)))


def pilot_code(i: int) -> str:
    """The 6-digit code of the i-th county beyond the Yunnan list: 5399NN for the first 99 (as
    ever), then 54NNNN, 55NNNN, … for a national-scale rehearsal (thousands of counties)."""
    if i < 100:
        return f"5399{i:02d}"
    n = i - 100
    return f"{54 + n // 10_000}{n % 10_000:04d}"


def county_profile(
    profile: ProvinceProfile, code: str, name: str, people: int, records: int,
    quarters: tuple[str, ...], rng: np.random.Generator,
) -> RegionProfile:
    township_count = int(rng.integers(8, 17))
    townships = tuple(unique_names(TOWNSHIP_HEADS, TOWNSHIP_TAILS, "镇", township_count, rng))
    villages = int(min(people // 3, township_count * rng.integers(5, 12)))
    kinds = list(profile.archetypes)
    shares = np.array([profile.archetypes[k][0] for k in kinds])
    provider_count = int(rng.integers(2, 5))
    providers = []
    for number in range(provider_count):
        base = profile.archetypes[kinds[rng.choice(len(kinds), p=shares / shares.sum())]][1]
        share = 1 / provider_count
        providers.append(replace(
            base,
            name=f"{name}{'仁爱同心康乐福寿安康'[number * 2:number * 2 + 2]}社会工作服务中心",
            township_share=share,
            diligence=float(np.clip(base.diligence + rng.normal(0, 0.04), 0.3, 1.0)),
            surveys=max(25, round(0.12 * people * share)),
            workers=max(8, round(people * share / 12)),
            contract_offset_days=0,
        ))
    if rng.random() < profile.mid_quarter_contract_share:
        providers[-1] = replace(providers[-1], contract_offset_days=45)
    return replace(
        XIAJIANG, name=name, code=code, seed=0, beneficiaries=people, townships=townships,
        villages=villages, providers=tuple(providers), records_per_quarter=records,
        quarters=quarters, headers="name",
    )


# ------------------------------------------------------------------------------------------------
# Text and files
# ------------------------------------------------------------------------------------------------


def to_text(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """The file's columns, in order, as the text written to the CSV (canonical names)."""
    text = {}
    for column in spec.columns:
        values = frame[column.name] if column.name in frame else pd.Series([""] * len(frame))
        text[column.name] = format_values(values, column.kind).to_numpy(dtype=object)
    return pd.DataFrame(text, columns=spec.column_names)


def format_values(values: pd.Series, kind: Kind) -> pd.Series:
    if kind is Kind.DATE:
        return _format_times(values, "D")
    if kind is Kind.DATETIME:
        return _format_times(values, "s").str.replace("T", " ", regex=False)
    if kind is Kind.MONEY:  # integer cents
        cents = values.astype(np.int64)
        return (cents // 100).astype(str) + "." + (cents % 100).astype(str).str.zfill(2)
    if kind is Kind.NUMBER:
        number = values.astype(float)
        whole = number == np.floor(number)
        return pd.Series(np.where(whole, number.astype(np.int64).astype(str), number.astype(str)))
    return values.fillna("").astype(str).reset_index(drop=True)


def _format_times(values: pd.Series, unit: str) -> pd.Series:
    raw = np.asarray(values, dtype=f"datetime64[{unit}]")
    text = np.datetime_as_string(raw, unit=unit)
    return pd.Series(np.where(np.isnat(raw), "", text))


def write_region(region: RegionData, region_dir: Path, defects: pd.DataFrame | None = None) -> list[Path]:
    """Write region.yaml, the region files and each quarter's files (and defects.csv when messy)."""
    region_dir = Path(region_dir)
    region_dir.mkdir(parents=True, exist_ok=True)
    paths = [region_dir / "region.yaml"]
    paths[0].write_bytes(region.region_yaml().encode("utf-8"))
    for name, table in region.files.items():
        paths.append(write_table(table, schema.FILES[name], region, region_dir / f"{name}.csv"))
    for quarter, files in region.quarters.items():
        (region_dir / quarter).mkdir(exist_ok=True)
        for name, table in files.items():
            paths.append(write_table(table, schema.FILES[name], region, region_dir / quarter / f"{name}.csv"))
    if defects is not None:
        paths.append(region_dir / "defects.csv")
        paths[-1].write_bytes(defects.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return paths


def write_table(table: pd.DataFrame, spec: FileSpec, region: RegionData, path: Path) -> Path:
    headers = [region.header(spec, c) if c in spec.column_names else c for c in table.columns]
    text = table.set_axis(headers, axis=1).to_csv(index=False, lineterminator="\n")
    path.write_bytes(text.encode("utf-8"))
    return path
