"""The project's METHODOLOGY.md, read as data: each rule's Chinese name and explanation.

The document ships inside the package (the repository's top-level METHODOLOGY.md is a link to
it), so a plain install reads the same text. Its last section is a table with one row per rule of
`rules.Rules`; the method page and the finance workbook take their wording from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[1] / "METHODOLOGY.md"
_ROW = re.compile(r"^\|\s*([a-z_]+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$")


@dataclass(frozen=True)
class RuleText:
    name: str
    title: str  # 中文名称
    explanation: str  # 说明


def text() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@cache
def rule_texts() -> dict[str, RuleText]:
    """Rule name -> its Chinese name and explanation, from the document's rules table."""
    table = text().split("## Rules: their Chinese names and what they mean", 1)[1]
    rows = [_ROW.match(line.strip()) for line in table.splitlines()]
    return {m.group(1): RuleText(m.group(1), m.group(2), m.group(3)) for m in rows
            if m and m.group(1) != "rule"}  # not the header row


def documented_defaults() -> dict[str, str]:
    """`name` [default] as the document's text writes each rule's default."""
    return {m.group(1): m.group(2) for m in re.finditer(r"`([a-z_.]+)`\s*\[([^\]]+)\]", text())}
