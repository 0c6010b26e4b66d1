"""Privacy by construction: small counts suppressed before anything is published, and a scan of
the built output that fails the build if a person could be identified in it.

Suppression (METHODOLOGY.md, "Disclosure control"): a published count of people from 1 to
`suppress_below - 1` is shown as "<5" (primary suppression). A table's counts are tied together by
equations (a row's answers add up to its surveys, the providers add up to the region's `ALL` row);
an equation with exactly one hidden cell would give that cell away, so a second cell of it is hidden
too (secondary suppression, shown as "x"), repeatedly, until every equation hides none or at
least two.

The scan reads every generated text file of the built site (HTML, JSON, CSV, the search index, our
own scripts) and the cells of every workbook (.xlsx), and reports each roster name, village, complaint text, beneficiary or worker id, any
valid 居民身份证号 and any mobile or landline phone number, with file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable

import pandas as pd

from scoring.inputs.identity import is_valid_id_number
from scoring.inputs.load import load_input
from scoring.inputs.rules import load_region_config
from scoring.inputs.schema import FILES

Cell = tuple[Hashable, str]  # (row label, column)
Equation = tuple[Cell, list[Cell]]  # total = sum of members


def suppressed_text(threshold: int) -> str:
    return f"<{threshold}"


def suppression_mask(counts: pd.DataFrame, equations: Iterable[Equation], threshold: int,
                     derived: Iterable[str] = ()) -> pd.DataFrame:
    """Which cells of `counts` (integers) to hide: primary cells 1..threshold-1, then secondary
    cells until no equation has exactly one hidden cell. Deterministic: the smallest visible
    member (ties: first in the equation) is hidden next, a total only when no member is left.

    `derived` columns are not published but can be computed from published ones (say, the
    unsatisfied = surveys - satisfied): they are never hidden, so their equations protect the
    cells that could be recovered through them."""
    derived = set(derived)
    hidden = (counts > 0) & (counts < threshold)
    for column in derived:
        hidden[column] = False
    equations = list(equations)
    changed = True
    while changed:
        changed = False
        for total, members in equations:
            cells = [total, *members]
            if sum(bool(hidden.at[r, c]) for r, c in cells) != 1:
                continue
            visible = [cell for cell in members if not hidden.at[cell] and cell[1] not in derived]
            candidates = ([cell for cell in visible if counts.at[cell] > 0] or visible
                          or [cell for cell in cells if not hidden.at[cell] and cell[1] not in derived])
            if not candidates:
                continue
            choice = min(candidates, key=lambda cell: counts.at[cell])
            hidden.at[choice] = True
            changed = True
    return hidden


SECONDARY = "x"  # hidden only so that a small count cannot be worked out from the others


def apply_mask(counts: pd.DataFrame, hidden: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The counts as published text: small counts read "<threshold", the cells hidden to protect
    them (secondary suppression, not necessarily small) read "x"."""
    shown = counts.astype("int64").astype(str)
    small = (counts > 0) & (counts < threshold)
    return shown.mask(hidden & ~small, SECONDARY).mask(hidden & small, suppressed_text(threshold))


def table_equations(rows: list[Hashable], total_row: Hashable | None, columns: list[str],
                    row_sums: dict[str, list[str]] | None = None) -> list[Equation]:
    """Equations of a provider-by-count table: each column's providers add up to `total_row`,
    and within each row, `row_sums[total] = sum of those columns`."""
    equations: list[Equation] = []
    members = [r for r in rows if r != total_row]
    if total_row is not None:
        equations += [((total_row, c), [(r, c) for r in members]) for c in columns]
    for total, parts in (row_sums or {}).items():
        equations += [((r, total), [(r, p) for p in parts]) for r in rows]
    return equations


# the scan -------------------------------------------------------------------------------------

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*[A-Za-z0-9]|[A-Za-z0-9]")
# Digit runs bounded by anything but letters, digits and a decimal point (so that hashes and
# decimals in chart data are not mistaken for phone numbers).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z]|\.\d)")
PHONE = re.compile(
    r"(?<![0-9A-Za-z.])(?:(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-\d{7,8})"
    r"(?![0-9A-Za-z]|\.\d)")
SCANNED_SUFFIXES = {".html", ".htm", ".json", ".csv", ".js", ".txt", ".xml", ".md", ".svg", ".xlsx"}
# Files that come from the theme or from plotly, never from data.
VENDOR = re.compile(r"(^|/)(assets/javascripts/(bundle\.[^/]*|lunr/.*|workers/.*|plotly[-a-z]*\.min\.js|plotly-basic-LICENSE\.txt)"
                    r"|assets/stylesheets/.*)$")


@dataclass
class Roster:
    """What must never appear in public: by kind, the exact strings to look for."""

    names: set[str] = field(default_factory=set)  # names, villages, complaint texts (Han runs)
    tokens: set[str] = field(default_factory=set)  # beneficiary ids, worker ids, id numbers, phones
    kinds: dict[str, str] = field(default_factory=dict)  # string -> what it is
    allowed: set[str] = field(default_factory=set)  # names dropped because they are public words
    # providers' 统一社会信用代码: public by law; an all-digit one can pass the 身份证号 check too
    public_codes: set[str] = field(default_factory=set)
    # the bureau's own office and hotline numbers (region.yaml `contact:`), published on purpose
    public_phones: set[str] = field(default_factory=set)

    def allow_phones(self, numbers: Iterable[str]) -> None:
        self.public_phones |= {_digits(n) for n in numbers}

    def add_text(self, values: Iterable[str], kind: str, shortest: int = 2) -> None:
        for value in values:
            for run in HAN.findall(str(value)):
                if len(run) >= shortest:
                    self.names.add(run)
                    self.kinds.setdefault(run, kind)

    def add_tokens(self, values: Iterable[str], kind: str) -> None:
        for value in values:
            text = re.sub(r"[\s\-]", "", str(value)) if kind == "电话" else str(value).strip()
            if text:
                self.tokens.add(text)
                self.kinds.setdefault(text, kind)

    def allow(self, public_texts: Iterable[str]) -> None:
        """Drop the names that are part of a public text (a county, township, provider or service
        name, the pages' own wording): a person called 石林 cannot be told apart from 石林县, and the
        county must be named. Such a name alone says nothing about the person."""
        lengths = self.name_lengths
        for text in public_texts:
            for run in HAN.findall(str(text)):
                for size in lengths:
                    for start in range(0, len(run) - size + 1):
                        piece = run[start:start + size]
                        if piece in self.names:
                            self.names.discard(piece)
                            self.allowed.add(piece)

    @property
    def name_lengths(self) -> list[int]:
        return sorted({len(n) for n in self.names})


def roster_from_data(data_roots: Iterable[Path]) -> Roster:
    """Every personal value of every region under the given roots (a region is a directory with
    region.yaml): beneficiaries' names, id numbers, phones, villages and ids; workers' ids; the
    text of complaints."""
    roster = Roster()
    public: list[str] = [*_page_wording()]
    for root in data_roots:
        for region_yaml in sorted(Path(root).glob("**/region.yaml")):
            region_dir = region_yaml.parent
            public.append(region_yaml.read_text(encoding="utf-8-sig", errors="replace"))
            config, _ = load_region_config(region_dir)
            if config is not None and config.contact is not None:
                roster.allow_phones(public_phones(config.contact.model_dump()))
            for spec, columns in (("providers", ["name"]), ("catalog", ["category", "name"])):
                table = load_input(region_dir, FILES[spec]).frame
                if table is not None:
                    public += [v for c in columns if c in table for v in table[c].unique()]
                if table is not None and spec == "providers" and "credit_code" in table:
                    roster.public_codes |= {str(v).strip().upper() for v in table["credit_code"] if str(v).strip()}
                if table is not None and spec == "providers" and "telephone" in table:
                    # an organisation's public number, on its profile page; a beneficiary's number
                    # written there is still found (as a roster token)
                    roster.allow_phones(v for v in table["telephone"] if str(v).strip())
            people = load_input(region_dir, FILES["beneficiaries"]).frame
            if people is not None and "township" in people:
                public += list(people["township"].unique())
            if people is not None:
                for column, kind in (("name", "姓名"), ("village", "村(社区)")):
                    if column in people:
                        roster.add_text(people[column], kind)
                for column, kind in (("id_number", "身份证号"), ("phone", "电话"),
                                     ("beneficiary_id", "对象编号")):
                    if column in people:
                        roster.add_tokens(people[column], kind)
            for quarter_dir in sorted(p for p in region_dir.iterdir() if p.is_dir()):
                services = load_input(region_dir, FILES["services"], quarter_dir.name).frame
                if services is not None and "worker_id" in services:
                    roster.add_tokens(services["worker_id"].unique(), "服务人员编号")
                complaints = load_input(region_dir, FILES["complaints"], quarter_dir.name).frame
                if complaints is not None and "text" in complaints:
                    roster.add_text(complaints["text"], "投诉内容", shortest=6)
                objections = load_input(region_dir, FILES["objections"], quarter_dir.name).frame
                if objections is not None:
                    if "objector" in objections:
                        roster.add_text(objections["objector"], "异议人")
                    if "objector_phone" in objections:
                        roster.add_tokens(objections["objector_phone"], "电话")
    roster.allow(public)
    return roster


def _digits(number: str) -> str:
    return re.sub(r"\D", "", str(number))


def public_phones(contact: dict | None) -> list[str]:
    """The numbers of a region's contact settings: public on purpose, never a finding."""
    return [contact[k] for k in ("telephone", "hotline") if contact and contact.get(k)]


def _page_wording() -> list[str]:
    """The fixed wording of the generated pages (templates) and of the theme's language."""
    templates = Path(__file__).parent / "templates"
    return [p.read_text(encoding="utf-8") for p in sorted(templates.glob("*.j2"))]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {mask(self.value)}"


def mask(value: str) -> str:
    """Enough of a value to find it, not enough to read it in a CI log."""
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def scan_text(text: str, roster: Roster, path: str = "") -> list[Finding]:
    findings = []
    lengths = roster.name_lengths
    for number, line in enumerate(text.splitlines(), start=1):
        for match in ID_NUMBER.finditer(line):
            if is_valid_id_number(match.group(0)) and match.group(0).upper() not in roster.public_codes:
                findings.append(Finding(path, number, "身份证号", match.group(0)))
        for match in PHONE.finditer(line):
            if _digits(match.group(0)) not in roster.public_phones:
                findings.append(Finding(path, number, "电话号码", match.group(0)))
        if roster.tokens:
            for token in TOKEN.findall(line):
                if token in roster.tokens:
                    findings.append(Finding(path, number, roster.kinds[token], token))
        if roster.names:
            for run in HAN.findall(line):
                seen = set()
                for size in lengths:
                    for start in range(0, len(run) - size + 1):
                        piece = run[start:start + size]
                        if piece in roster.names and piece not in seen:
                            seen.add(piece)
                            findings.append(Finding(path, number, roster.kinds[piece], piece))
    return findings


def scanned_files(root: Path) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in SCANNED_SUFFIXES
                  and not VENDOR.search(p.relative_to(root).as_posix()))


def xlsx_text(path: Path) -> str:
    """Every cell of every sheet of a workbook, one line per row (the line of a finding is the
    sheet's row), cells separated by tabs: an .xlsx is a zip of XML, so it is read by its cells."""
    import openpyxl  # third-party, and only for a workbook: most scans never open one

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        lines = []
        for sheet in book.worksheets:
            lines += ["\t".join("" if v is None else str(v) for v in row)
                      for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return "\n".join(lines)


def scan_tree(root: Path, roster: Roster) -> list[Finding]:
    """Every personal value found in the text files and workbooks under `root` (paths relative
    to it)."""
    findings = []
    for path in scanned_files(root):
        if path.suffix.lower() == ".xlsx":
            text = xlsx_text(path)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        findings += scan_text(text, roster, path.relative_to(root).as_posix())
    return findings
