"""METHODOLOGY.md is in the project, ships in the package, and agrees with the rules the code uses."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from scoring.inputs.methodology import DOCUMENT, documented_defaults, rule_texts
from scoring.inputs.rules import Rules

ROOT = Path(__file__).resolve().parents[1]


def test_the_repository_links_the_packaged_document():
    assert (ROOT / "METHODOLOGY.md").resolve() == DOCUMENT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme, "the README links only inside the repository"
    assert "](METHODOLOGY.md)" in readme


def test_every_rule_has_a_chinese_name_and_an_explanation_in_its_order():
    texts = rule_texts()
    assert list(texts) == list(Rules.model_fields)
    for text in texts.values():
        assert re.search(r"[\u4e00-\u9fff]", text.title) and len(text.explanation) >= 6, text


def number(text: str) -> Decimal:
    return Decimal(re.match(r"[\d.]+", text.strip()).group(0))


def test_the_documented_defaults_are_the_code_defaults():
    documented, rules = documented_defaults(), Rules().model_dump()
    checked = 0
    for name, text in documented.items():
        head, _, key = name.partition(".")
        value = rules[head][key] if key else rules[head]
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            assert number(text) == Decimal(str(value)), name
            checked += 1
        elif isinstance(value, str):
            assert text == value, name
            checked += 1
    bands = dict(re.findall(r"(\S+) ≥ (\d+)", documented["grade_bands"]))
    assert {g: Decimal(v) for g, v in bands.items()} == {g: Decimal(str(v)) for g, v in rules["grade_bands"].items()}
    ratios = dict(re.findall(r"(\S+) ([\d.]+)", documented["payout_ratios"]))
    assert {g: Decimal(v) for g, v in ratios.items()} == rules["payout_ratios"]
    visits = dict(re.findall(r"(\S+) (\d)", documented["visits_per_month"].replace("category", "其他")))
    assert {k: int(v) for k, v in visits.items() if k != "other"} == rules["visits_per_month"]
    assert checked >= 15
