"""Reading workbooks deliberately: the visible data sheet, formula cells, and limits checked before
any XML parser sees a hostile file (zip bombs, endless comments and tags, DTDs, absurd sizes)."""

from __future__ import annotations

import os
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter
from helpers import QUARTER, sample_tables, write_region

from scoring.inputs import load
from scoring.inputs.load import read_input
from scoring.inputs.schema import FILES
from scoring.inputs.validate import validate_quarter

SERVICES = FILES["services"]
SURVEYS = FILES["surveys"]
SERVICE_ROW = ["R1", "B001", "P001", "W1", "C01", "2026-04-01 08:00:00", "2026-04-01 09:00:00",
               "2026-04-01 10:00:00", "completed", "phone", "1", ""]
SURVEY_HEADER = SURVEYS.column_names
REAL_SURVEYS = [["S1", "B001", "P001", "2026-05-01", "home", "4"],
                ["S2", "B002", "P001", "2026-05-02", "phone", "2"]]
QUICK = 10  # seconds: a generous bound; hostile files are answered in well under one


def read(path, spec=SERVICES):
    return read_input(path, spec, path.name)


def rules(loaded) -> list[tuple[int, str, str]]:
    p = loaded.problems
    return sorted(zip(p["row"].astype(int), p["column"], p["rule"]))


def codes(loaded) -> set[str]:
    return set(loaded.problems["rule"])


def services_workbook(path, rows=(SERVICE_ROW,)):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "services"
    sheet.append(SERVICES.column_names)
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def replace_parts(path, parts: dict, *, compression=zipfile.ZIP_DEFLATED):
    """Rewrite the workbook at `path` with some parts replaced; a part's content may be bytes or
    an iterable of byte chunks (streamed, for parts too large to hold)."""
    with zipfile.ZipFile(path) as original:
        entries = {info.filename: original.read(info) for info in original.infolist()}
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in {**entries, **parts}.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
            else:
                with archive.open(name, "w", force_zip64=True) as stream:
                    for chunk in content:
                        stream.write(chunk)
    return path


def sheet_xml(path, part="xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(part)


def timed_read(path, spec=SERVICES):
    started = time.monotonic()
    loaded = read(path, spec)
    return loaded, time.monotonic() - started


# the sheet that is read --------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_first_sheet_is_not_read_the_visible_one_is(tmp_path, state):
    # A reviewer's case: a hidden first sheet with every survey at 5 was read, silently.
    workbook = openpyxl.Workbook()
    stale = workbook.active
    stale.title = "Sheet1"
    stale.append(SURVEY_HEADER)
    for row in REAL_SURVEYS:
        stale.append([*row[:-1], "5"])
    stale.sheet_state = state
    real = workbook.create_sheet("回访")
    real.append(SURVEY_HEADER)
    for row in REAL_SURVEYS:
        real.append(row)
    workbook.active = 1
    path = tmp_path / "surveys.xlsx"
    workbook.save(path)
    loaded = read(path, SURVEYS)
    assert loaded.frame["overall"].tolist() == ["4", "2"]
    assert rules(loaded) == [(0, "", "hidden_sheet")]
    warning = loaded.problems.iloc[0]
    assert (warning["severity"], warning["value"]) == ("warning", "回访")
    assert "Sheet1" in warning["message"] and not loaded.file_errors


def test_the_visible_sheet_is_validated_and_scored_not_the_hidden_one(tmp_path):
    tables = sample_tables()
    region = write_region(tmp_path / "region", tables)
    (region / QUARTER / "surveys.csv").unlink()
    workbook = openpyxl.Workbook()
    stale = workbook.active
    stale.append(list(tables["surveys"].columns))
    for row in tables["surveys"].itertuples(index=False):
        stale.append([*row[:-1], "5"])
    stale.sheet_state = "hidden"
    real = workbook.create_sheet("surveys")
    real.append(list(tables["surveys"].columns))
    for row in tables["surveys"].itertuples(index=False):
        real.append(list(row))
    workbook.active = 1
    workbook.save(region / QUARTER / "surveys.xlsx")
    validation = validate_quarter(region, QUARTER)
    assert validation.ok
    assert set(validation.problems["rule"]) == {"hidden_sheet"}
    assert validation.tables["surveys"]["overall"].tolist() == tables["surveys"]["overall"].astype(int).tolist()


def two_sheet_workbook(path, first: str, second: str, second_rows=None):
    workbook = openpyxl.Workbook()
    one = workbook.active
    one.title = first
    one.append(SERVICES.column_names)
    one.append(SERVICE_ROW)
    two = workbook.create_sheet(second)
    for row in second_rows or [SERVICES.column_names, ["R9", *SERVICE_ROW[1:]]]:
        two.append(row)
    workbook.save(path)
    return path


def test_two_visible_sheets_with_data_and_none_clearly_the_one_is_an_error(tmp_path):
    loaded = read(two_sheet_workbook(tmp_path / "services.xlsx", "四月", "五月"))
    assert rules(loaded) == [(0, "", "ambiguous_sheet")]
    assert loaded.file_errors and loaded.table is None


@pytest.mark.parametrize("named", ["services", "服务记录", " Services "])
def test_of_several_visible_sheets_the_one_named_like_the_file_is_read(tmp_path, named):
    loaded = read(two_sheet_workbook(tmp_path / "services.xlsx", "其他", named))
    assert loaded.frame["record_id"].tolist() == ["R9"]
    assert rules(loaded) == [(0, "", "other_sheets")]
    assert loaded.problems.loc[0, "value"] == named and not loaded.file_errors


def test_a_sheet_of_notes_beside_the_data_is_passed_over_with_a_warning(tmp_path):
    notes = [["填表说明"], ["1. 每次服务填写一行"], ["2. 时间写到分钟"]]
    loaded = read(two_sheet_workbook(tmp_path / "services.xlsx", "Sheet1", "说明", notes))
    assert loaded.frame["record_id"].tolist() == ["R1"]
    assert rules(loaded) == [(0, "", "other_sheets")]


def test_empty_visible_sheets_are_passed_over_silently(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"
    data = workbook.create_sheet("Sheet2")
    data.append(SERVICES.column_names)
    data.append(SERVICE_ROW)
    workbook.create_sheet("Sheet3")
    path = tmp_path / "services.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert loaded.problems.empty and loaded.frame["record_id"].tolist() == ["R1"]


def test_data_only_in_a_hidden_sheet_is_an_error(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "空白"
    hidden = workbook.create_sheet("数据")
    hidden.append(SERVICES.column_names)
    hidden.append(SERVICE_ROW)
    hidden.sheet_state = "hidden"
    path = tmp_path / "services.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert rules(loaded) == [(0, "", "hidden_data")]
    assert loaded.file_errors and loaded.problems.loc[0, "value"] == "数据"


# formula cells ----------------------------------------------------------------------------------


def test_formulas_with_saved_results_are_read_with_a_warning_and_without_are_rejected(tmp_path):
    path = tmp_path / "services.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("services")
    sheet.write_row(0, 0, SERVICES.column_names)
    for i in range(1, 4):
        sheet.write_row(i, 0, [f"R{i}", *SERVICE_ROW[1:10]])
    sheet.write_formula(1, 10, "=1+1", None, 2)  # saved result 2 (as Excel saves it)
    sheet.write_number(2, 10, 1)
    sheet.write_formula(3, 10, "=0.5*2")  # xlsxwriter saves 0 unless told: still a saved result
    sheet.write_formula(2, 11, '=IF(1>2,"city","")', None, "")  # an empty text result ...
    workbook.close()
    xml = sheet_xml(path).replace(b'<c r="L3"><f>', b'<c r="L3" t="str"><f>')  # ... as Excel writes it
    replace_parts(path, {"xl/worksheets/sheet1.xml": xml})
    loaded = read(path)
    assert loaded.frame["units"].tolist() == ["2", "1", "0"]
    assert rules(loaded) == [(2, "units", "formula_cell"), (3, "hospital_level", "formula_cell"),
                             (4, "units", "formula_cell")]
    assert loaded.problems.loc[0, "value"] == "=1+1" and not loaded.file_errors

    workbook = openpyxl.Workbook()  # openpyxl saves a formula without any result
    sheet = workbook.active
    sheet.append(SERVICES.column_names)
    sheet.append(SERVICE_ROW)
    sheet.append(["R2", *SERVICE_ROW[1:10], "=1+1"])
    path = tmp_path / "formulas.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert rules(loaded) == [(3, "units", "formula_without_value")]
    assert loaded.problems.loc[0, "severity"] == "error"
    assert loaded.frame["record_id"].tolist() == ["R1"] and loaded.rows_read == 2  # row 3 rejected


def test_a_formula_without_a_result_rejects_its_row_once_in_validation(tmp_path):
    tables = sample_tables()
    region = write_region(tmp_path / "region", tables)
    (region / QUARTER / "services.csv").unlink()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(tables["services"].columns))
    for i, row in enumerate(tables["services"].itertuples(index=False)):
        sheet.append([*row[:10], "=1+1" if i == 0 else row[10], row[11]])
    workbook.save(region / QUARTER / "services.xlsx")
    validation = validate_quarter(region, QUARTER)
    problems = validation.problems[validation.problems["file"] == f"{QUARTER}/services.xlsx"]
    assert list(zip(problems["row"], problems["rule"])) == [(2, "formula_without_value")]
    assert validation.accounting.set_index("file").loc[f"{QUARTER}/services.xlsx"].tolist() == [12, 11, 1]


# limits before parsing ----------------------------------------------------------------------------


def with_comment(path, size: int, chunk: bytes = b"x" * (1 << 20), *, compression=zipfile.ZIP_DEFLATED):
    """The workbook at `path` with an XML comment of `size` bytes before its sheet's rows."""
    head, rest = sheet_xml(path).split(b"<sheetData>", 1)

    def content():
        yield head + b"<!--"
        for _ in range(size // len(chunk)):
            yield chunk
        yield b"--><sheetData>" + rest

    return replace_parts(path, {"xl/worksheets/sheet1.xml": content()}, compression=compression)


def test_a_300_mb_comment_in_a_small_file_is_refused_in_seconds(tmp_path):
    # A reviewer's case: openpyxl took more than 600 s on it (expat is quadratic in one token).
    path = with_comment(services_workbook(tmp_path / "services.xlsx"), 300 << 20)
    assert path.stat().st_size < 1 << 20
    loaded, elapsed = timed_read(path)
    assert rules(loaded) == [(0, "", "file_too_large")]
    assert loaded.file_errors and elapsed < QUICK


def test_a_part_that_inflates_like_a_zip_bomb_is_refused(tmp_path):
    path = with_comment(services_workbook(tmp_path / "services.xlsx"), 50 << 20)  # within 200 MB
    loaded, elapsed = timed_read(path)
    assert rules(loaded) == [(0, "", "suspicious_workbook")]
    assert "sheet1.xml" in loaded.problems.loc[0, "value"] and elapsed < QUICK


@pytest.mark.parametrize("kind", ["comment", "attribute", "processing_instruction", "dtd"])
def test_markup_that_expat_would_read_in_quadratic_time_is_refused(tmp_path, kind):
    noise = os.urandom(3 << 19).hex().encode()  # 3 MB that does not deflate: no zip-bomb ratio
    path = services_workbook(tmp_path / "services.xlsx")
    xml = sheet_xml(path)
    if kind == "comment":
        xml = xml.replace(b"<sheetData>", b"<!--" + noise + b"--><sheetData>")
    elif kind == "attribute":
        xml = xml.replace(b"<sheetData>", b'<sheetData x="' + noise + b'">')
    elif kind == "processing_instruction":
        xml = xml.replace(b"<sheetData>", b"<?note " + noise + b"?><sheetData>")
    else:  # a billion laughs, in short lines
        entities = b"".join(b'<!ENTITY e%d "&e%d;&e%d;">' % (i + 1, i, i) for i in range(30))
        xml = xml.replace(b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY e0 "ha">' + entities
                          + b"]><worksheet", 1)
    replace_parts(path, {"xl/worksheets/sheet1.xml": xml}, compression=zipfile.ZIP_STORED)
    loaded, elapsed = timed_read(path)
    assert rules(loaded) == [(0, "", "suspicious_workbook")]
    assert elapsed < QUICK


@pytest.mark.parametrize("disguise", ["renamed", "utf-16"])
def test_a_sheet_disguised_from_the_checks_is_still_refused(tmp_path, disguise):
    noise = os.urandom(3 << 19).hex().encode()
    path = services_workbook(tmp_path / "services.xlsx")
    xml = sheet_xml(path).replace(b"<sheetData>", b"<!--" + noise + b"--><sheetData>")
    if disguise == "renamed":  # openpyxl follows the relationship, whatever the part's name
        rels = sheet_xml(path, "xl/_rels/workbook.xml.rels").replace(b"worksheets/sheet1.xml", b"worksheets/sheet1.dat")
        with zipfile.ZipFile(path) as original:
            entries = {i.filename: original.read(i) for i in original.infolist()}
        entries.pop("xl/worksheets/sheet1.xml")
        entries.update({"xl/worksheets/sheet1.dat": xml, "xl/_rels/workbook.xml.rels": rels})
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            for name, content in entries.items():
                archive.writestr(name, content)
    else:  # expat reads UTF-16 too, where a byte scan for '<!--' finds nothing
        xml = xml.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
        replace_parts(path, {"xl/worksheets/sheet1.xml": xml}, compression=zipfile.ZIP_STORED)
    loaded, elapsed = timed_read(path)
    assert rules(loaded) == [(0, "", "suspicious_workbook")]
    assert elapsed < QUICK


def test_a_zip_of_thousands_of_files_is_refused(tmp_path):
    path = services_workbook(tmp_path / "services.xlsx")
    replace_parts(path, {f"xl/media/image{i}.png": b"" for i in range(10_001)})
    assert rules(read(path)) == [(0, "", "suspicious_workbook")]


def test_long_text_in_cells_is_not_mistaken_for_hostile_markup(tmp_path):
    long_text = "长" * 32_767  # Excel's longest cell, 96 KB in UTF-8
    path = services_workbook(tmp_path / "services.xlsx", [[*SERVICE_ROW[:9], "phone", "1", long_text]])
    loaded = read(path)
    assert loaded.frame["hospital_level"].tolist() == [long_text]
    assert "suspicious_workbook" not in codes(loaded)


def test_a_sheet_with_more_cells_than_the_limit_is_refused(tmp_path, monkeypatch):
    path = services_workbook(tmp_path / "services.xlsx", [SERVICE_ROW] * 10)
    monkeypatch.setattr(load, "_MAX_CELLS", 100)  # 11 rows of 12 cells
    assert rules(read(path)) == [(0, "", "file_too_large")]
    monkeypatch.setattr(load, "_MAX_CELLS", 200)
    assert "file_too_large" not in codes(read(path))


@pytest.mark.parametrize("far", ["column", "row"])
def test_cells_far_away_are_refused_not_read_for_minutes(tmp_path, far):
    # A few cells in the XML, but openpyxl would hand over 16,384 columns per row, or a billion rows.
    path = services_workbook(tmp_path / "services.xlsx")
    head, rest = sheet_xml(path).split(b"</sheetData>", 1)
    if far == "column":
        rows = b"".join(b'<row r="%d"><c r="XFD%d" t="n"><v>1</v></c></row>' % (r, r) for r in range(3, 400))
    else:
        rows = b'<row r="999999999"><c r="A999999999" t="n"><v>1</v></c></row>'
    replace_parts(path, {"xl/worksheets/sheet1.xml": head + rows + b"</sheetData>" + rest})
    loaded, elapsed = timed_read(path)
    assert rules(loaded) == [(0, "", "file_too_large")]
    assert elapsed < QUICK


@pytest.mark.parametrize("kind", ["junk", "zip_of_text", "no_workbook_part", "bad_crc"])
def test_a_file_that_is_no_workbook_is_damaged(tmp_path, kind):
    path = tmp_path / "services.xlsx"
    if kind == "junk":
        path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    elif kind == "zip_of_text":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif kind == "no_workbook_part":
        services_workbook(path)
        with zipfile.ZipFile(path) as original:
            entries = {i.filename: original.read(i) for i in original.infolist()}
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in entries.items():
                if name != "xl/workbook.xml":
                    archive.writestr(name, content)
    else:
        services_workbook(path, [SERVICE_ROW] * 200)
        content = bytearray(path.read_bytes())
        at = content.index(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's deflated bytes
        content[at:at + 8] = b"\0" * 8
        path.write_bytes(bytes(content))
    assert rules(read(path)) == [(0, "", "corrupt_workbook")]
