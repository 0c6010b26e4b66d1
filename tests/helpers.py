"""A tiny, valid region written as real input files, for tests to copy and spoil.

`sample_tables()` gives every input file as text cells (canonical English columns), small enough
to read: 2 providers, 4 catalog items, 10 beneficiaries and, in 2026Q2, 12 services, 6 surveys,
3 complaints and 3 inspections. A test changes a cell, then `write_region` writes the files
(CSV in any encoding or .xlsx, English or Chinese headers). Row i of a table is Excel row i + 2.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource

from scoring.inputs.identity import id_check_digit
from scoring.inputs.schema import FILES
from scoring.orchestration import stages
from scoring.orchestration.stages import Workspace
from scoring.refusal import Code, Refusal

QUARTER = "2026Q2"
REGION_YAML = ("name: 测试县\ncode: '360823'\n"
               "contact:\n  bureau: 测试县民政局\n  address: 测试县人民路 1 号\n  telephone: 0796-5550123\n"
               "  hotline: '12345'\n")


def excel_row(index: int) -> int:
    """The Excel row of a table's row `index` (the header is row 1)."""
    return index + 2


def id_number(region: str, born: str, sequence: int) -> str:
    first17 = f"{region}{born}{sequence:03d}"
    return first17 + id_check_digit(first17)


def sample_tables() -> dict[str, pd.DataFrame]:
    """Every input of the sample region as text, keyed by file name."""
    providers = [
        ("P001", "峡江县阳光社工服务中心", "HT-2026-001", "2026-01-01", "2026-12-31", "120000.00", "5",
         "52360823MJ0000018J", "中国农业银行峡江县支行", "6228480123456789012", "水边镇人民路 8 号",
         "0796-5550188"),
        ("P002", "峡江县暖心养老服务社", "HT-2026-002", "2026-01-01", "2026-12-31", "96000.00", "5",
         "52360823MJ0000026D", "中国工商银行峡江支行", "1508200109200056789", "", ""),
    ]
    catalog = [
        ("C01", "生活照料", "助餐助洁", "次", "30.00", "60"),
        ("C02", "健康护理", "测量血压", "次", "20.00", "30"),
        ("C03", "心理疏导", "谈心陪伴", "小时", "50.00", "60"),
        ("E01", "助农助急", "住院陪护", "天", "150.00", "480"),
    ]
    categories = ["特困", "特困", "低保", "重度残疾人", "经济困难老年人"] * 2
    care = ["全自理", "半护理", "", "全护理", "全自理"] * 2
    beneficiaries = [
        (
            f"B{i:03d}", f"测试{i}", id_number("360823", f"19{40 + i}0{1 + i % 9}1{i % 9}", 10 + i),
            f"1391234{i:04d}" if i % 3 else "", "水边镇" if i <= 5 else "马埠镇", f"第{i}村",
            categories[i - 1], care[i - 1], "P001" if i <= 5 else "P002",
            "2025-01-15", "2026-06-30" if i == 10 else "",
        )
        for i in range(1, 11)
    ]
    services = []
    for n in range(1, 13):
        b = (n - 1) % 10 + 1
        provider = "P001" if b <= 5 else "P002"
        day = f"2026-0{4 + (n - 1) % 3}-{10 + n:02d}"
        item, start, end, units, level = "C01", f"{day} 09:00:00", f"{day} 10:30:00", "1", ""
        if n == 6:  # two days of hospital escort
            day = "2026-05-16"
            item, start, end, units, level = "E01", f"{day} 09:00:00", "2026-05-17 17:00:00", "2", "county"
        services.append((
            f"R{n:04d}", f"B{b:03d}", provider, f"W{1 + n % 4:02d}", item,
            f"{day} 08:00:00", start, end, "cancelled" if n == 12 else "completed",
            ["wechat", "phone", "hotline", "proactive"][n % 4], units, level,
        ))
    surveys = [
        (f"SV{n:03d}", f"B{b:03d}", "P001" if b <= 5 else "P002", f"2026-06-{10 + n:02d}",
         "home" if n % 2 else "phone", str(5 - n % 3))
        for n, b in enumerate([1, 2, 3, 6, 7, 8], start=1)
    ]
    complaints = [
        ("T001", "2026-04-20 10:00:00", "P001", "B002", "服务态度", "no",
         "2026-04-20 11:00:00", "2026-04-21 09:00:00", "2026-04-22 16:00:00", "服务人员迟到"),
        ("T002", "2026-05-08 15:30:00", "P002", "", "服务质量", "yes",
         "2026-05-08 16:00:00", "", "2026-05-12 10:00:00", "打扫不干净"),
        ("T003", "2026-06-25 09:00:00", "P002", "B007", "其他", "pending", "", "", "", ""),
    ]
    inspections = [
        ("I001", "2026-04-30", "水边镇", "R0001", "pass", "0"),
        ("I002", "2026-05-31", "马埠镇", "R0007", "poor", "50.00"),
        ("I003", "2026-07-05", "水边镇", "R0003", "pass", "0"),
    ]
    paid = [  # what finance paid (optional file): one voucher so far
        ("HT-2026-001", "2026-07-20", "28000.00", "PZ2026Q2-001"),
    ]
    objections = [  # objections to the published quarter (optional file); the objector stays inside
        ("YY001", "2026-07-10", "P001", "满意度", "认为回访样本太少", "rejected", "2026-07-15", "", "异议人丙丁", ""),
    ]
    rows = {
        "providers": providers, "catalog": catalog, "beneficiaries": beneficiaries,
        "services": services, "surveys": surveys, "complaints": complaints,
        "inspections": inspections, "paid": paid, "objections": objections,
    }
    return {
        name: pd.DataFrame(data, columns=FILES[name].column_names, dtype=object)
        for name, data in rows.items()
    }


def file_path(region_dir: Path, name: str, suffix: str = ".csv", quarter: str = QUARTER) -> Path:
    folder = Path(region_dir) / quarter if FILES[name].level == "quarter" else Path(region_dir)
    return folder / f"{name}{suffix}"


def write_table(path: Path, table: pd.DataFrame, *, encoding: str = "utf-8",
                chinese_headers: bool = False) -> Path:
    """One table as CSV (in `encoding`) or .xlsx (by the suffix), every cell as text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.copy()
    if chinese_headers:
        spec = FILES[path.stem]
        labels = {c.name: c.label for c in spec.columns}
        table.columns = [labels.get(c, c) for c in table.columns]
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append(["" if v is None else v for v in row])
        workbook.save(path)
    else:
        text = table.to_csv(index=False, lineterminator="\n")
        path.write_bytes(text.encode(encoding))
    return path


def write_region(region_dir: Path, tables: dict[str, pd.DataFrame] | None = None, *,
                 suffix: str = ".csv", encoding: str = "utf-8", chinese_headers: bool = False,
                 region_yaml: str = REGION_YAML, quarter: str = QUARTER) -> Path:
    """Write a whole region (region.yaml, region files, the quarter's files) into `region_dir`."""
    region_dir = Path(region_dir)
    region_dir.mkdir(parents=True, exist_ok=True)
    (region_dir / "region.yaml").write_text(region_yaml, encoding="utf-8")
    for name, table in (tables if tables is not None else sample_tables()).items():
        write_table(file_path(region_dir, name, suffix, quarter), table,
                    encoding=encoding, chinese_headers=chinese_headers)
    return region_dir


def file_hashes(region_dir: Path) -> dict[str, str]:
    """sha256 of every file under `region_dir` (inputs must be byte-identical after any command)."""
    return {
        str(p.relative_to(region_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(region_dir).rglob("*")) if p.is_file()
    }


def found(validation, severity: str | None = None) -> set[tuple[str, int, str, str]]:
    """(file, row, column, rule) of every problem reported (optionally of one severity)."""
    p = validation.problems
    if severity:
        p = p[p["severity"] == severity]
    return set(zip(p["file"], p["row"].astype(int), p["column"], p["rule"]))


# The stages, as the command line runs them, into a test's own build root --------------------------


def workspace(build: Path):
    return Workspace(Path(build))


def score(region: Path, build: Path, quarter: str = QUARTER, rules: dict | None = None) -> Path:
    """Validate and score `quarter` of `region` into `build`'s layers; return its results layer."""
    ws = workspace(build)
    validated, results = ws.validated(region.name, quarter), ws.results(region.name, quarter)
    stages.validate_stage(region, quarter, validated)
    stages.score_stage(region, quarter, validated, results, rules)
    return results


def publish(region: Path, build: Path, site: Path, quarter: str = QUARTER, **options):
    """Publish `quarter` of `region` from `build`'s layers into `site`."""
    ws = workspace(build)
    return stages.publish_stage(region, ws.validated(region.name, quarter),
                                ws.results(region.name, quarter), ws.public(region.name, quarter),
                                site, **options)


def schedule(region: Path, build: Path, out: Path, site: Path, quarter: str = QUARTER, **options):
    """The finance schedule of `quarter` of `region` from `build`'s layers."""
    ws = workspace(build)
    return stages.payments_stage(region, ws.validated(region.name, quarter),
                                 ws.results(region.name, quarter), out, site, **options)


@contextmanager
def refused(code: Code):
    """The block must raise a Refusal with this reason code (not a sentence to match)."""
    with pytest.raises(Refusal) as caught:
        yield caught
    assert caught.value.code == code, f"{caught.value.code}: {caught.value}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# The sample regions and the official schemas they are checked against ---------------------------

REPO = Path(__file__).resolve().parents[1]
SAMPLE_REGIONS = ("xiajiang", "huining")
SAMPLE_QUARTERS = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
OTHER_PAYOUT_RATIOS = {"payout_ratios": {"优秀": 1.0, "良好": 0.9, "合格": 0.8, "不合格": 0.5}}
OCDS_SCHEMAS = Path(__file__).resolve().parent / "schemas" / "ocds-1.1.5"


def ocds_validator(name: str) -> Draft4Validator:
    """A Draft 4 validator of the official OCDS 1.1.5 schema `name` (release-package-schema,
    record-package-schema...), with format checking; the schemas' absolute $refs resolve to the
    vendored files, so nothing is fetched."""
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(OCDS_SCHEMAS.glob("*.json"))]
    registry = Registry().with_resources((s["id"], Resource.from_contents(s)) for s in schemas)
    schema = json.loads((OCDS_SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return Draft4Validator(schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft4Validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# A real read-only folder and a real full disk (tests run as root, where chmod stops no write) ----


def _mount(*arguments: str) -> None:
    result = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here (needs root or CAP_SYS_ADMIN): {result.stderr.strip()}")


@contextmanager
def small_disk(path: Path, size: str = "1m"):
    """An empty folder at `path` on a file system of its own, `size` big (a tmpfs)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill_disk(folder: Path) -> Path:
    """Write one file into `folder` until its file system has no space left; return the file."""
    filler = Path(folder) / "filler.bin"
    with open(filler, "wb", buffering=0) as handle:
        for block in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    handle.write(b"\0" * block)
            except OSError:
                continue
    return filler


@contextmanager
def read_only(path: Path):
    """`path` (a folder) made read-only for everyone, root too: a read-only bind mount of itself."""
    path = Path(path)
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)
