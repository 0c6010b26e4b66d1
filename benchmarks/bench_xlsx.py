"""Reading services.xlsx: rows/s for each engine that could read it, whether each gives the same
cell texts as openpyxl, and how fast hostile workbooks are answered.

    python benchmarks/bench_xlsx.py [--rows 100000]

The workbook is written once into build/bench/xlsx/ with xlsxwriter, as Excel writes one (shared
strings, date cells with a date format). Engines: openpyxl read-only (what `scoring.inputs.load`
uses) and, when installed, python-calamine and a streaming lxml reader that rebuilds openpyxl's
cell values with openpyxl's own helpers (`pip install python-calamine lxml`: they are not
dependencies of the project). An engine must give the same texts as openpyxl on the benchmark
file and on a small workbook of edge cells, or it cannot replace it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
import zipfile
from pathlib import Path

from common import ROOT, machine

from scoring.inputs import load
from scoring.inputs.schema import FILES

OUT = ROOT / "build" / "bench" / "xlsx"
SERVICES = FILES["services"]


def services_workbook(path: Path, rows: int) -> Path:
    import xlsxwriter

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(7)
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("services")
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, SERVICES.column_names)
    start = dt.datetime(2026, 4, 1, 8)
    for i in range(1, rows + 1):
        begun = start + dt.timedelta(minutes=rnd.randrange(90 * 24 * 60))
        sheet.write_row(i, 0, [f"R{i:07d}", f"B{rnd.randrange(5000):05d}", f"P{rnd.randrange(1, 9):03d}",
                               f"W{rnd.randrange(300):04d}", rnd.choice(["C01", "C02", "C03", "E01"])])
        sheet.write_datetime(i, 5, begun - dt.timedelta(hours=3), when)
        sheet.write_datetime(i, 6, begun, when)
        sheet.write_datetime(i, 7, begun + dt.timedelta(minutes=rnd.choice([30, 60, 90])), when)
        sheet.write_row(i, 8, [rnd.choice(["completed"] * 8 + ["cancelled", "no_show"]),
                               rnd.choice(["wechat", "phone", "hotline", "proactive"]),
                               rnd.choice([1, 1, 2, 1.5])])
        if rnd.random() < 0.05:
            sheet.write_string(i, 11, "county")
    workbook.close()
    return path


def edge_cells_workbook(path: Path) -> Path:
    """Cells where engines differ: 18-digit integers, Excel's _x000D_ escape, error values, a
    date format on a negative serial, cells and rows out of order."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "text", "when"])
    sheet.append([123456789012345678, "line1_x000D_\nline2", -1])
    sheet["C2"].number_format = "yyyy-mm-dd"
    sheet.append(["#N/A", "x", 1])
    workbook.save(path)
    with zipfile.ZipFile(path) as original:
        entries = {i.filename: original.read(i) for i in original.infolist()}
    xml = entries["xl/worksheets/sheet1.xml"]
    xml = xml.replace(b'<c r="A3" t="inlineStr"><is><t>#N/A</t></is></c>', b'<c r="A3" t="e"><v>#N/A</v></c>')
    xml = xml.replace(b"</sheetData>", b'<row r="5"><c r="C5"><v>3</v></c><c r="A5"><v>1</v></c></row>'
                      b'<row r="4"><c r="A4"><v>9</v></c></row></sheetData>')
    entries["xl/worksheets/sheet1.xml"] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


# engines: each returns the sheet's non-blank rows as (cell texts, Excel row) -------------------


def openpyxl_rows(path: Path) -> list:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return list(load._sheet_rows(workbook.worksheets[0], path.name))
    finally:
        workbook.close()


def calamine_rows(path: Path) -> list:
    from python_calamine import CalamineWorkbook

    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    return _non_blank(enumerate(values, start=1))


def lxml_rows(path: Path) -> list:
    """openpyxl's WorkSheetParser.parse_cell and _cells_by_row, on lxml's iterparse."""
    from lxml import etree
    from openpyxl.cell.text import Text
    from openpyxl.styles.stylesheet import Stylesheet
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601
    from openpyxl.worksheet._reader import _cast_number
    from openpyxl.xml.functions import fromstring

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    archive = zipfile.ZipFile(path)
    strings = []
    if "xl/sharedStrings.xml" in archive.namelist():
        with archive.open("xl/sharedStrings.xml") as source:
            for _, si in etree.iterparse(source, tag=ns + "si", remove_comments=True):
                strings.append(Text.from_tree(si).content.replace("x005F_", ""))
                si.clear()
    styles = Stylesheet.from_tree(fromstring(archive.read("xl/styles.xml")))
    epoch = CALENDAR_MAC_1904 if b'date1904="1"' in archive.read("xl/workbook.xml") else WINDOWS_EPOCH
    rows, number, expected = [], 0, 1
    with archive.open("xl/worksheets/sheet1.xml") as source:
        for _, row in etree.iterparse(source, tag=ns + "row", remove_comments=True):
            written = row.get("r")
            number = int(written) if written else number + 1
            column, cells = 0, []
            for c in row:
                kind, style = c.get("t", "n"), int(c.get("s", 0) or 0)
                column = coordinate_to_tuple(c.get("r"))[1] if c.get("r") else column + 1
                if kind == "inlineStr":
                    child = c.find(ns + "is")
                    value = Text.from_tree(child).content if child is not None else None
                else:
                    value = c.findtext(ns + "v") or None
                    if value is not None and kind == "n":
                        value = _cast_number(value)
                        if style in styles.date_formats:
                            try:
                                value = from_excel(value, epoch, timedelta=style in styles.timedelta_formats)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif value is not None and kind == "s":
                        value = strings[int(value)]
                    elif value is not None and kind == "b":
                        value = bool(int(value))
                    elif value is not None and kind == "d":
                        value = from_ISO8601(value)
                cells.append((column, value))
            row.clear()
            while row.getprevious() is not None:
                del row.getparent()[0]
            if number < expected:
                continue
            expected = number + 1
            values = [None] * (cells[-1][0] if cells else 0)
            for position, value in cells:
                if 1 <= position <= len(values):
                    values[position - 1] = value
            rows.append((number, values))
    return _non_blank(rows)


def _non_blank(numbered) -> list:
    rows = []
    for number, values in numbered:
        texts = [load._cell_text(v) for v in values]
        while texts and not texts[-1]:
            texts.pop()
        if texts:
            rows.append((texts, number))
    return rows


ENGINES = {"openpyxl": openpyxl_rows, "calamine": calamine_rows, "lxml": lxml_rows}


def available(name: str) -> bool:
    try:
        __import__({"openpyxl": "openpyxl", "calamine": "python_calamine", "lxml": "lxml"}[name])
        return True
    except ImportError:
        return False


# hostile workbooks --------------------------------------------------------------------------------


def with_comment(path: Path, size: int, noise: bool = False) -> Path:
    """A header-only services workbook with an XML comment of `size` bytes in its sheet: of one
    letter (it deflates 1000 times), or of random hex digits, stored (no zip-bomb ratio)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(SERVICES.column_names)
    workbook.save(path)
    with zipfile.ZipFile(path) as original:
        entries = {i.filename: original.read(i) for i in original.infolist()}
    head, rest = entries.pop("xl/worksheets/sheet1.xml").split(b"<sheetData", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if noise else zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(head + b"<!--")
            for _ in range(size >> 20):
                stream.write(os.urandom(1 << 19).hex().encode() if noise else b"x" * (1 << 20))
            stream.write(b"--><sheetData" + rest)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")

    path = services_workbook(OUT / f"services-{args.rows}.xlsx", args.rows)
    print(f"{path.name}: {path.stat().st_size / 2**20:.1f} MB, {args.rows:,} rows")
    started = time.perf_counter()
    load._check_workbook(path, path.name)
    print(f"  limits and markup checks (one streaming pass): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    loaded = load.read_input(path, SERVICES, path.name)
    elapsed = time.perf_counter() - started
    print(f"  read_input (checks + openpyxl + columns): {elapsed:.2f} s, {loaded.rows_read / elapsed:,.0f} rows/s, "
          f"{len(loaded.problems)} problems")

    edges = edge_cells_workbook(OUT / "edge_cells.xlsx")
    reference = {"bench": None, "edges": openpyxl_rows(edges)}
    for name, engine in ENGINES.items():
        if not available(name):
            print(f"  {name:9s} not installed")
            continue
        started = time.perf_counter()
        rows = engine(path)
        elapsed = time.perf_counter() - started
        if reference["bench"] is None:
            reference["bench"] = rows
        try:
            same_edges = engine(edges) == reference["edges"]
        except Exception as exc:  # noqa: BLE001 - an engine that fails on them cannot be used
            same_edges = f"fails: {type(exc).__name__}"
        print(f"  {name:9s} {len(rows) / elapsed:9,.0f} rows/s ({elapsed:.2f} s); same texts as openpyxl: "
              f"benchmark file {rows == reference['bench']}, edge cells {same_edges}")

    print("hostile: an XML comment of N MB in the sheet")
    import openpyxl

    for megabytes in (2, 4, 8):
        bomb = with_comment(OUT / f"comment-{megabytes}.xlsx", megabytes << 20)
        started = time.perf_counter()
        workbook = openpyxl.load_workbook(bomb, read_only=True, data_only=True)
        list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        print(f"  openpyxl alone, {megabytes:3d} MB: {time.perf_counter() - started:6.3f} s (quadratic in the comment)")
    for megabytes, noise in ((8, True), (8, False), (300, False)):
        bomb = with_comment(OUT / f"comment-{megabytes}{'-noise' if noise else ''}.xlsx", megabytes << 20, noise)
        started = time.perf_counter()
        loaded = load.read_input(bomb, SERVICES, bomb.name)
        print(f"  read_input,     {megabytes:3d} MB {'random, stored' if noise else 'of one letter'} "
              f"({bomb.stat().st_size >> 10:,} KB file): {time.perf_counter() - started:6.3f} s -> "
              f"{', '.join(loaded.problems['rule'])}")


if __name__ == "__main__":
    main()
