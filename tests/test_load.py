"""Reading one input file: encodings, workbooks, headers, row numbers, dates and bad files."""

from __future__ import annotations

import zipfile
from datetime import datetime
from decimal import Decimal

import helpers
import numpy as np
import openpyxl
import pandas as pd
import pytest

from scoring.inputs.load import load_input, read_input
from scoring.inputs.parsers import (
    parse_choices,
    parse_dates,
    parse_integers,
    parse_money,
    parse_numbers,
)
from scoring.inputs.schema import FILES

PROVIDERS = FILES["providers"]
SERVICES = FILES["services"]
HEADER = ",".join(c.name for c in PROVIDERS.columns if c.required)  # optional columns left out
LINES = [
    "P001,阳光社工,HT-1,2026-01-01,2026-12-31,120000.00,5",
    "P002,暖心养老,HT-2,2026/1/1,2026年12月31日,96000,5",
]


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read(path, spec=PROVIDERS):
    return read_input(path, spec, path.name)


def rules(loaded) -> list[tuple[int, str, str]]:
    p = loaded.problems
    return list(zip(p["row"].astype(int), p["column"], p["rule"]))


# encodings and formats --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_offices_use(tmp_path, encoding):
    text = "\n".join([HEADER, *LINES]) + "\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode(encoding)))
    assert loaded.problems.empty
    assert loaded.rows_read == 2
    assert loaded.frame["name"].tolist() == ["阳光社工", "暖心养老"]
    assert loaded.frame["_row"].tolist() == [2, 3]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_byte_order_mark_starting_a_later_line_is_dropped(tmp_path, encoding):
    # two exports pasted together: the second one's BOM starts a line, before an id
    text = "\ufeff" + "\n".join([HEADER, LINES[0], "\ufeff" + LINES[1], "P003,阳\ufeff光,HT-3,2026-01-01,2026-12-31,1,5"])
    loaded = read(write(tmp_path, "providers.csv", text.encode(encoding)))
    assert loaded.problems.empty
    assert loaded.frame["provider_id"].tolist() == ["P001", "P002", "P003"]
    assert loaded.frame["name"].tolist() == ["阳光社工", "暖心养老", "阳光"]


def test_a_byte_order_mark_in_a_workbook_cell_is_dropped(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(PROVIDERS.column_names)
    workbook.active.append(["\ufeffP001", *LINES[0].split(",")[1:]])
    path = tmp_path / "providers.xlsx"
    workbook.save(path)
    assert read(path).frame["provider_id"].tolist() == ["P001"]


BIG5_HEADER = "機構編號,機構名稱,合同編號,合同開始日期,合同結束日期,合同金額,合同服務人數"
TRADITIONAL = ["P001,峽江縣陽光社工服務中心,HT-1,2026-01-01,2026-12-31,120000,5",
               "P002,峽江縣暖心養老服務社,HT-2,2026-01-01,2026-12-31,96000,5"]


@pytest.mark.parametrize("header", [BIG5_HEADER, HEADER], ids=["chinese-header", "english-header"])
def test_big5_text_is_refused_with_one_clear_problem_not_converted(tmp_path, header):
    path = write(tmp_path, "providers.csv", "\n".join([header, *TRADITIONAL]).encode("big5"))
    loaded = read(path)
    assert rules(loaded) == [(0, "", "big5_encoding")]
    assert loaded.file_errors and loaded.frame is None
    assert "UTF-8" in loaded.problems.loc[0, "action"]


def test_traditional_characters_in_a_gb18030_file_are_read_as_written(tmp_path):
    loaded = read(write(tmp_path, "providers.csv", "\n".join([HEADER, *TRADITIONAL]).encode("gb18030")))
    assert loaded.problems.empty
    assert loaded.frame["name"].tolist() == ["峽江縣陽光社工服務中心", "峽江縣暖心養老服務社"]


def test_windows_line_endings_and_spaces_around_cells(tmp_path):
    text = f"{HEADER}\r\n P001 ,\u3000阳光社工 ,HT-1,2026-01-01,2026-12-31,1,5\r\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode("utf-8")))
    assert loaded.problems.empty
    assert loaded.frame.loc[0, "provider_id"] == "P001"
    assert loaded.frame.loc[0, "name"] == "阳光社工"


def test_xlsx_cells_read_as_the_user_sees_them(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([c.name for c in PROVIDERS.columns if c.required])
    sheet.append(["P001", "阳光社工", "HT-1", datetime(2026, 1, 1), datetime(2026, 12, 31, 8, 30),
                  120000.0, 5])
    sheet.append(["P002", "暖心养老", 2026, "2026/1/1", None, 96000.5, 5.0])
    path = tmp_path / "providers.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert loaded.problems.empty
    optional = [""] * sum(not c.required for c in PROVIDERS.columns)
    assert loaded.frame.drop(columns="_row").values.tolist() == [
        ["P001", "阳光社工", "HT-1", "2026-01-01", "2026-12-31 08:30:00", "120000", "5", *optional],
        ["P002", "暖心养老", "2026", "2026/1/1", "", "96000.5", "5", *optional],  # optional ones left out: empty
    ]
    assert loaded.frame["_row"].tolist() == [2, 3]


# headers ----------------------------------------------------------------------------------------


def test_chinese_headers_map_to_canonical_names_and_are_kept_as_written(tmp_path):
    labels = ",".join(c.label for c in PROVIDERS.columns)
    loaded = read(write(tmp_path, "providers.csv", f"{labels}\n{LINES[0]}{',' * sum(not c.required for c in PROVIDERS.columns)}\n".encode("gbk")))
    assert loaded.problems.empty
    assert list(loaded.frame.columns) == [*PROVIDERS.column_names, "_row"]
    assert loaded.header("contract_amount") == "合同金额"


def test_unknown_missing_and_duplicate_columns(tmp_path):
    header = "provider_id,机构名称,name,contract_id,contract_start,contract_end,备注,contracted_beneficiaries"
    line = "P001,阳光,阳光2,HT-1,2026-01-01,2026-12-31,x,5"
    loaded = read(write(tmp_path, "providers.csv", f"{header}\n{line}\n".encode()))
    assert sorted(rules(loaded)) == [
        (0, "contract_amount", "missing_column"),
        (0, "name", "duplicate_column"),
        (0, "备注", "unknown_column"),
    ]
    missing = loaded.problems[loaded.problems["rule"] == "missing_column"].iloc[0]
    assert "合同金额" in missing["message"] and missing["severity"] == "error"
    assert loaded.frame.loc[0, "name"] == "阳光"  # the first of the duplicates is used
    assert loaded.file_errors


def test_optional_columns_may_be_left_out(tmp_path):
    columns = [c for c in SERVICES.column_names if c != "hospital_level"]
    line = "R1,B1,P1,W1,C01,2026-04-01 08:00,2026-04-01 09:00,2026-04-01 10:00,completed,phone,1"
    loaded = read(write(tmp_path, "services.csv", (",".join(columns) + "\n" + line).encode()), SERVICES)
    assert loaded.problems.empty
    assert loaded.frame.loc[0, "hospital_level"] == ""


def test_trailing_empty_columns_are_ignored_quietly(tmp_path):
    text = f"{HEADER},,\n{LINES[0]},,\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode()))
    assert loaded.problems.empty


# row numbers ------------------------------------------------------------------------------------


def test_row_numbers_are_excel_rows_across_blank_skipped_and_multiline_rows(tmp_path):
    text = "\n".join([
        HEADER,                                               # row 1
        LINES[0],                                             # row 2
        "",                                                   # row 3: blank, not data
        "P003,too,few",                                       # row 4: bad shape
        'P004,"两行\n名称",HT-4,2026-01-01,2026-12-31,1,5',   # row 5 (one record, two lines)
        "P005,too,many,2026-01-01,2026-12-31,1,5,x,y",        # row 6: bad shape
        LINES[1],                                             # row 7
    ]) + "\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode()))
    assert loaded.frame["provider_id"].tolist() == ["P001", "P004", "P002"]
    assert loaded.frame["_row"].tolist() == [2, 5, 7]
    assert rules(loaded) == [(4, "", "bad_row_shape"), (6, "", "bad_row_shape")]
    assert loaded.rows_read == 5  # three used here, two rejected


def test_a_row_longer_than_a_parse_block_is_still_read(tmp_path):
    huge = "很长的名称" * 400_000  # 6 MB in one cell: the lenient reader takes over
    text = f"{HEADER}\nP001,\"{huge}\",HT-1,2026-01-01,2026-12-31,1,5\n{LINES[1]}\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode()))
    assert loaded.problems.empty
    assert loaded.frame["provider_id"].tolist() == ["P001", "P002"]
    assert loaded.frame["_row"].tolist() == [2, 3]


def test_leading_blank_lines_shift_the_header(tmp_path):
    loaded = read(write(tmp_path, "providers.csv", f"\n\n{HEADER}\n{LINES[0]}\n".encode()))
    assert loaded.frame["_row"].tolist() == [4]


def test_xlsx_row_numbers_skip_blank_rows(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(PROVIDERS.column_names)
    sheet.append(LINES[0].split(","))
    sheet.append([])
    sheet.append(LINES[1].split(","))
    sheet.cell(row=6, column=len(PROVIDERS.columns) + 1, value="stray")  # a note to the right of the table
    path = tmp_path / "providers.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert loaded.frame["_row"].tolist() == [2, 4]
    assert rules(loaded) == [(6, "", "bad_row_shape")]
    assert loaded.rows_read == 3


# bad files --------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    loaded = load_input(tmp_path, PROVIDERS)
    assert (loaded.name, loaded.frame, rules(loaded)) == ("providers.csv", None, [(0, "", "missing_file")])


def test_xls_is_mentioned_when_the_file_is_missing(tmp_path):
    write(tmp_path, "providers.xls", b"\xd0\xcf\x11\xe0")
    loaded = load_input(tmp_path, PROVIDERS)
    assert rules(loaded) == [(0, "", "missing_file")]
    assert "providers.xls" in loaded.problems.loc[0, "value"]


def test_csv_and_xlsx_both_present_is_ambiguous(tmp_path):
    write(tmp_path, "providers.csv", f"{HEADER}\n".encode())
    write(tmp_path, "Providers.XLSX", b"")
    assert rules(load_input(tmp_path, PROVIDERS)) == [(0, "", "ambiguous_file")]


def test_file_names_are_found_whatever_their_case(tmp_path):
    (tmp_path / "2026Q2").mkdir()
    write(tmp_path / "2026Q2", "Services.CSV", (",".join(SERVICES.column_names) + "\n").encode())
    loaded = load_input(tmp_path, SERVICES, "2026Q2")
    assert loaded.name == "2026Q2/Services.CSV" and loaded.problems.empty


@pytest.mark.parametrize("content", [b"", b"\n \r\n"])
def test_empty_file(tmp_path, content):
    assert rules(read(write(tmp_path, "providers.csv", content))) == [(0, "", "empty_file")]


def test_header_only_is_fine_but_empty(tmp_path):
    loaded = read(write(tmp_path, "providers.csv", f"{HEADER}\n".encode()))
    assert loaded.problems.empty and loaded.rows_read == 0 and len(loaded.frame) == 0


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\x00" * 50, b"PK\x03\x04rest-of-a-zip"])
def test_binary_file(tmp_path, content):
    assert rules(read(write(tmp_path, "providers.csv", content))) == [(0, "", "binary_file")]


def test_neither_utf8_nor_gb18030(tmp_path):
    content = bytes(range(128, 256)) * 20
    assert rules(read(write(tmp_path, "providers.csv", content)))[0][2] in ("unreadable_encoding",
                                                                           "binary_file")


def test_a_few_damaged_bytes_reject_only_their_row(tmp_path):
    text = "\n".join([HEADER, *LINES, "P003,损坏\xff\xfe,HT-3,2026-01-01,2026-12-31,1,5"]).encode()
    damaged = text.replace("损坏\xff\xfe".encode(), "损坏".encode() + b"\xff\xfe")
    loaded = read(write(tmp_path, "providers.csv", damaged))
    assert rules(loaded) == [(4, "", "unreadable_encoding")]
    assert loaded.frame["_row"].tolist() == [2, 3] and loaded.rows_read == 3


def test_truncated_last_row(tmp_path):
    text = f"{HEADER}\n{LINES[0]}\nP002,暖心养"
    loaded = read(write(tmp_path, "providers.csv", text.encode()))
    assert rules(loaded) == [(3, "", "truncated_file")]
    assert loaded.rows_read == 2 and len(loaded.frame) == 1


def test_protected_workbook(tmp_path):
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert rules(read(write(tmp_path, "providers.xlsx", content))) == [(0, "", "protected_workbook")]


@pytest.mark.parametrize("kind", ["garbage", "zip_without_workbook", "cut_short"])
def test_corrupt_workbook(tmp_path, kind):
    path = tmp_path / "providers.xlsx"
    if kind == "garbage":
        path.write_bytes(b"this is not a workbook at all")
    elif kind == "zip_without_workbook":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
    else:
        helpers.write_table(path, helpers.sample_tables()["providers"])
        path.write_bytes(path.read_bytes()[:1000])
    assert rules(read(path)) == [(0, "", "corrupt_workbook")]


def test_merged_cells_in_the_header_row(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["provider_id", "机构", "", *PROVIDERS.column_names[2:]])
    sheet.merge_cells("B1:C1")
    sheet.append(["P001", "阳光", "社工中心", *LINES[0].split(",")[2:]])
    path = tmp_path / "providers.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert (1, "", "merged_header") in rules(loaded)
    assert loaded.file_errors


def test_a_title_row_above_the_header_is_skipped(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["2026年服务机构名单"])
    sheet.merge_cells("A1:G1")
    sheet.append(PROVIDERS.column_names)
    sheet.append(LINES[0].split(","))
    path = tmp_path / "providers.xlsx"
    workbook.save(path)
    loaded = read(path)
    assert loaded.problems.empty
    assert (loaded.header_row, loaded.rows_read, loaded.frame["_row"].tolist()) == (2, 1, [3])


def test_a_title_line_above_a_csv_header_is_skipped(tmp_path):
    text = f"2026年服务机构名单,,,,,,\n{HEADER}\n{LINES[0]}\n"
    loaded = read(write(tmp_path, "providers.csv", text.encode("gbk")))
    assert loaded.problems.empty
    assert (loaded.header_row, loaded.rows_read, loaded.frame["_row"].tolist()) == (2, 1, [3])


# values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-04-01", "2026-04-01 00:00:00"),
    ("2026/4/1", "2026-04-01 00:00:00"),
    ("2026.4.1", "2026-04-01 00:00:00"),
    ("2026年4月1日", "2026-04-01 00:00:00"),
    ("2026年04月01", "2026-04-01 00:00:00"),
    ("20260401", "2026-04-01 00:00:00"),
    ("46113", "2026-04-01 00:00:00"),
    ("46113.5", "2026-04-01 12:00:00"),
    ("2026-04-01 08:30", "2026-04-01 08:30:00"),
    ("2026-04-01 08:30:00", "2026-04-01 08:30:00"),
    ("2026/4/1 8:30", "2026-04-01 08:30:00"),
    ("2026年4月1日 8:30:15", "2026-04-01 08:30:15"),
    ("2026-04-01T08:30:00", "2026-04-01 08:30:00"),
])
def test_dates_as_offices_write_them(text, expected):
    parsed = parse_dates(pd.Series([text], dtype=object), with_time=True)
    assert parsed.dtype == "datetime64[ns]"
    assert str(parsed.iloc[0]) == expected
    day = parse_dates(pd.Series([text], dtype=object), with_time=False)
    assert str(day.iloc[0]) == expected[:10] + " 00:00:00"


@pytest.mark.parametrize("text", ["", "2026-02-30", "2026-13-01", "12345", "99999", "明天",
                                  "2026-04-01 25:00", "2026-04-01 08:61", "0000-01-01"])
def test_what_is_not_a_date(text):
    assert parse_dates(pd.Series([text], dtype=object), with_time=True).isna().all()


def test_date_parsing_is_positionally_aligned():
    texts = pd.Series(["2026-04-01 08:00:00", "bad", "2026/4/2", ""], dtype=object)
    parsed = parse_dates(texts, with_time=True)
    assert [str(v) for v in parsed] == ["2026-04-01 08:00:00", "NaT", "2026-04-02 00:00:00", "NaT"]


def test_money_integers_and_numbers():
    money = parse_money(pd.Series(["1200", "1,200.5", "¥30.00", "12.345", "-5", "1.50000", "abc", ""]))
    assert money.tolist() == [Decimal("1200.00"), Decimal("1200.50"), Decimal("30.00"), None, None,
                              Decimal("1.50"), None, None]
    ints = parse_integers(pd.Series(["3", "3.0", "-1", "1.5", "x", ""]))
    assert ints.tolist() == [3, 3, -1, pd.NA, pd.NA, pd.NA]
    numbers = parse_numbers(pd.Series(["1", "1.5", ".5", "-1", "1e3", "nan", ""]))
    np.testing.assert_array_equal(numbers.to_numpy(), [1, 1.5, 0.5, np.nan, np.nan, np.nan, np.nan])


def test_full_width_digits_are_read_or_reported_never_raised():
    texts = pd.Series(["2026-04-01 ０8:30", "１２", "2026-04-01 08:30:00"], dtype=object)
    assert parse_dates(texts, with_time=True).isna().tolist() == [True, True, False]
    assert parse_integers(texts).tolist() == [pd.NA, 12, pd.NA]  # as amounts always were read
    assert parse_numbers(texts).tolist()[1] == 12.0


def test_coded_values_in_chinese_or_any_case():
    status = SERVICES.column("status")
    codes = parse_choices(pd.Series(["已完成", "Completed", "爽约", "cancelled", "done", ""]), status)
    assert codes.tolist() == ["completed", "completed", "no_show", "cancelled", None, ""]
