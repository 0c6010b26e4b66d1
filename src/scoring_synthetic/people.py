"""Invented people and the region's files as text tables: what generate and messy both need."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.inputs.schema import FileSpec

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
GIVEN_CHARS = (
    "国建华明德秀英兰桂芳玉珍凤梅春生金福荣文志平海军红霞云丽军勇林祥发根水贵清美娟桃莲香菊"
    "永成富山喜宝兴宏伟亮强学光辉彩琴翠冬秋亚敏静婷欣怡浩宇子涵梓轩思雨嘉诗晨阳俊杰雪"
)

def mobile_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """Well-formed mainland mobile numbers 1[3-9]XXXXXXXXX (random, not anybody's)."""
    second = pd.Series(rng.integers(3, 10, n)).astype(str)
    rest = pd.Series(rng.integers(0, 10**9, n)).astype(str).str.zfill(9)
    return ("1" + second + rest).to_numpy(dtype=object)


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    surname = np.asarray(list(SURNAMES))[rng.integers(0, len(SURNAMES), n)]
    chars = np.asarray(list(GIVEN_CHARS))
    first = chars[rng.integers(0, len(chars), n)]
    second = np.where(rng.random(n) < 0.7, chars[rng.integers(0, len(chars), n)], "")
    return np.char.add(np.char.add(surname, first), second).astype(object)


@dataclass
class RegionData:
    """A region's files as text tables with canonical column names, before they are written."""

    name: str
    code: str
    rules_yaml: str
    headers: str  # "name" or "label"
    files: dict[str, pd.DataFrame]  # region-level: providers, catalog, beneficiaries
    quarters: dict[str, dict[str, pd.DataFrame]]  # quarter -> quarter-level files

    def region_yaml(self) -> str:
        text = f"# 区域设置(合成数据,非真实人员)\nname: {self.name}\ncode: \"{self.code}\"\n"
        return text + self.contact_yaml() + self.rules_yaml

    def contact_yaml(self) -> str:
        """The bureau's public contact (synthetic: the numbers are made up from the code, the
        hotline is the national 12345 government service line)."""
        return (
            "contact:\n"
            f"  bureau: {self.name}民政局\n"
            f"  address: {self.name}人民路 1 号 {self.name}民政局社会救助股(合成数据)\n"
            f"  telephone: \"0{self.code[:3]}-55501{self.code[-2:]}\"\n"
            "  hotline: \"12345\"\n"
            f"  email: mzj{self.code}@example.com\n"
            "  office_hours: 工作日 8:30–12:00、14:30–18:00\n"
        )

    def header(self, spec: FileSpec, column: str) -> str:
        """The header of `column` as this region's files write it."""
        return spec.column(column).label if self.headers == "label" else column
