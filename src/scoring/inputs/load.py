"""Reading one input file, at the edge: bytes on disk -> a table of stripped text, with every
problem that stops a row (or the whole file) from being read reported as a value.

SPEC.md, "Input data contract": CSV in UTF-8 (with or without BOM) or GBK/GB18030, or `.xlsx`;
headers in English or Chinese (`schema.canonical_column`). Inputs are never modified: files are
only ever opened for reading. A Big5 (Traditional Chinese) CSV is refused with one problem, never
silently converted; a byte-order mark inside the text (exports pasted together) is dropped.

A workbook is read deliberately: its limits are checked before any XML parser sees it
(`_check_workbook`: size, inflation, markup that would make the parser quadratic, cells); the
visible data sheet is read, never a hidden one (`_choose_sheet`); formula cells are reported
(`_flag_formulas`). openpyxl reads the cells: python-calamine is 3x faster but does not give the
same values (benchmarks/bench_xlsx.py).

Every row carries `_row`, the row number the user sees in Excel (header = row 1, first data row =
row 2; blank lines count, as they do in Excel, but are not rows of data). A `LoadedFile` keeps the
header as written for each column, so problems name the column as the user wrote it.

Cells stay in Arrow (`LoadedFile.table`, one string column per canonical column) so that
`validate` checks a million rows with Arrow and NumPy, never row by row in Python; `parsers`
turns the text into typed values.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from scoring.inputs.problems import MAX_LISTED, Problem, Rule, Severity, problems_frame, report
from scoring.inputs.schema import FILES, FileSpec, canonical_column

SUFFIXES = (".csv", ".xlsx")
ROW = "_row"  # the Excel row number of each data row

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls or an encrypted .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"
_REPLACEMENT = "\ufffd"
_SHOWN_VALUE = 200  # characters of a bad row shown in a problem
# Smaller files are read on one thread: a county's file of a few MB reads faster that way, and
# validations running side by side do not compete for the cores.
_THREADED_BYTES = 16 << 20
_SHORT_COLUMN = 2000  # cells: see _stripped


@dataclass
class LoadedFile:
    """One input file as read: text cells under canonical column names, plus `_row`.

    `table` is None when nothing could be read (missing, empty, binary, corrupt...). Rows that
    could not be split into the header's columns are not in `table` but are counted in
    `rows_read` and reported in `problems`; `rows_read - len(table)` of them were rejected here.
    """

    spec: FileSpec
    name: str  # as the user knows it, relative to the region: "2026Q2/services.csv"
    path: Path | None
    table: pa.Table | None = None  # a string column per canonical column, then `_row` (int64)
    headers: dict[str, str] = field(default_factory=dict)  # canonical name -> header as written
    found: list[str] = field(default_factory=list)  # canonical columns the file has
    header_row: int = 1  # the header's Excel row (title rows above it are skipped)
    rows_read: int = 0
    problems: pd.DataFrame = field(default_factory=lambda: report([]))

    @property
    def frame(self) -> pd.DataFrame | None:
        """The cells as a pandas table (object str columns, `_row` int64), or None."""
        return None if self.table is None else self.table.to_pandas()

    @property
    def file_errors(self) -> bool:
        """An error about the whole file (row 0): none of its rows may be used."""
        p = self.problems
        return bool(len(p)) and bool(((p["row"] == 0) & (p["severity"] == str(Severity.ERROR))).any())

    def header(self, column: str) -> str:
        """The header as written for a canonical column (the canonical name if absent)."""
        return self.headers.get(column, column)


# finding ----------------------------------------------------------------------------------------


def find_input(directory: Path, stem: str) -> tuple[list[Path], list[Path]]:
    """The `stem.csv` / `stem.xlsx` files in `directory` (names compared case-insensitively), and
    other files with the same stem (`.xls`, `.txt`...) that we cannot read but should mention."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], []
    found, others = [], []
    for entry in sorted(directory.iterdir()):
        if not entry.is_file() or entry.stem.lower() != stem.lower():
            continue
        (found if entry.suffix.lower() in SUFFIXES else others).append(entry)
    return found, others


def load_input(region_dir: Path, spec: FileSpec, folder: str = "") -> LoadedFile:
    """Find and read `spec`'s file in `region_dir` (or its `folder`, e.g. the quarter)."""
    directory = Path(region_dir) / folder if folder else Path(region_dir)
    prefix = f"{folder}/" if folder else ""
    found, others = find_input(directory, spec.name)
    if len(found) == 1:
        return read_input(found[0], spec, prefix + found[0].name)
    name = f"{prefix}{spec.name}.csv"
    loaded = LoadedFile(spec, name, None)
    if not found and not others and spec.optional:
        return loaded  # left out on purpose: no rows, nothing to report
    if len(found) > 1:
        names = "、".join(p.name for p in found)
        return _fail(loaded, Problem(
            name, 0, "", names, Rule.AMBIGUOUS_FILE,
            f"{spec.label}同时有多个文件({names}),无法确定用哪一个",
            f"more than one file for {spec.name} ({names}); cannot tell which one to use",
            "只保留其中一个文件(删除或移走其余的),然后重新校验",
        ))
    if others:
        names = "、".join(p.name for p in others)
        action = f"在 Excel 中把 {others[0].name} 另存为 {spec.name}.xlsx 或 CSV UTF-8 格式的 {spec.name}.csv"
    else:
        names = ""
        action = f"从平台导出{spec.label},保存为 {name} 或 .xlsx"
        if spec.level == "quarter":
            action += ";如果本季度确实没有记录,放一个只有表头行的文件"
    return _fail(loaded, Problem(
        name, 0, "", names, Rule.MISSING_FILE,
        f"缺少{spec.label}文件 {name}" + (f"(找到 {names},但不能读取该格式)" if names else ""),
        f"{name} is missing" + (f" (found {names}, which cannot be read)" if names else ""),
        action,
    ))


def read_input(path: Path, spec: FileSpec, name: str) -> LoadedFile:
    """Read one `.csv` or `.xlsx` file; every problem is returned in the result, never raised."""
    loaded = LoadedFile(spec, name, Path(path))
    try:
        if path.suffix.lower() == ".xlsx":
            return _read_xlsx(loaded)
        return _read_csv(loaded)
    except OSError as exc:
        return _fail(loaded, Problem(
            name, 0, "", "", Rule.MISSING_FILE,
            f"无法打开 {name}:{exc.strerror or exc}", f"cannot open {name}: {exc}",
            "检查文件是否被其他程序占用或没有读取权限",
        ))


def _fail(loaded: LoadedFile, problem: Problem) -> LoadedFile:
    loaded.problems = report([problem])
    return loaded


# CSV --------------------------------------------------------------------------------------------


@dataclass
class _Grid:
    """Cells as text before columns are named: the header row, the data rows, their Excel rows."""

    header: list[str]
    cells: pa.Table  # positional string columns (stripped), one chunk each
    rows: np.ndarray  # Excel row numbers of `cells`
    rows_read: int  # data rows seen, including those rejected while reading
    problems: list[pd.DataFrame] = field(default_factory=list)
    header_row: int = 1  # the header's Excel row


# A county's quarter is some 10,000 service rows (a few MB); a CSV this large is not an export of
# one county's quarter, and reading it would take gigabytes of memory.
MAX_CSV_BYTES = 256 << 20


def _read_csv(loaded: LoadedFile) -> LoadedFile:
    name = loaded.name
    with open(loaded.path, "rb") as fh:  # read-only: inputs are never modified
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_CSV_BYTES:
            return _fail(loaded, Problem(
                name, 0, "", f"{size / (1 << 20):.0f} MB", Rule.FILE_TOO_LARGE,
                f"{name} 有 {size / (1 << 20):.0f} MB,超过一个县一个季度的数据所能有的 "
                f"{MAX_CSV_BYTES >> 20} MB,未读取",
                f"{name} is {size / (1 << 20):.0f} MB, more than the {MAX_CSV_BYTES >> 20} MB a county's "
                "quarter can hold; not read",
                "确认放入的是本县本季度的导出文件(不是全省或多个季度合并的文件),重新导出后放入",
            ))
        data = fh.read()
    if not data or data.isspace():  # what `not data.strip()` says, without copying the file
        return _fail(loaded, _empty(name))
    if data.startswith(_ZIP_MAGIC) or data.startswith(_CFB_MAGIC):
        return _fail(loaded, Problem(
            name, 0, "", "", Rule.BINARY_FILE,
            f"{name} 实际上是 Excel 工作簿,不是 CSV 文本", f"{name} is an Excel workbook, not CSV text",
            "在 Excel 中另存为“CSV UTF-8(逗号分隔)”,或把扩展名改为 .xlsx",
        ))
    if _looks_like_big5(data):
        return _fail(loaded, Problem(
            name, 0, "", "Big5", Rule.BIG5_ENCODING,
            f"{name} 似乎是 Big5(繁体中文)编码,不是 UTF-8 或 GBK/GB18030,按简体编码读取会变成乱码,未读取",
            f"{name} seems to be Big5 (Traditional Chinese) text, not UTF-8 or GBK/GB18030; not read",
            "在 Excel 中打开该文件,另存为“CSV UTF-8(逗号分隔)(*.csv)”后重新放入"
            "(或用记事本打开,另存为时编码选 UTF-8)",
        ))
    text_bytes, damaged = _decode(data)
    if text_bytes is None:
        rule = Rule.BINARY_FILE if damaged else Rule.UNREADABLE_ENCODING
        if rule is Rule.BINARY_FILE:
            zh, en = f"{name} 不是文本文件(含有二进制内容)", f"{name} is not a text file (binary content)"
            action = "重新从平台导出为 CSV 或 .xlsx 文件"
        else:
            zh = f"{name} 的编码无法识别(既不是 UTF-8 也不是 GBK/GB18030)"
            en = f"{name} is neither UTF-8 nor GBK/GB18030 text"
            action = "在 Excel 中另存为“CSV UTF-8(逗号分隔)”后重新放入"
        return _fail(loaded, Problem(name, 0, "", "", rule, zh, en, action))
    grid = _split_csv(text_bytes, name)
    if grid is None:
        return _fail(loaded, _empty(name))
    if damaged:
        grid = _reject_undecodable(grid, name)
    return _name_columns(loaded, grid)


def _empty(name: str) -> Problem:
    return Problem(
        name, 0, "", "", Rule.EMPTY_FILE,
        f"{name} 是空文件(连表头行也没有)", f"{name} is empty (not even a header row)",
        "重新导出该文件;如果确实没有记录,也要保留第一行的表头",
    )


def _decode(data: bytes) -> tuple[bytes | None, bool]:
    """UTF-8 bytes of the file's text, and whether some bytes could not be decoded.

    UTF-8 first; a file that is not UTF-8 is decoded as GB18030 (a superset of GBK, what Excel
    in China writes), unless it is clearly UTF-8 with a few damaged bytes: then the damaged rows
    are rejected one by one instead of the whole file. (None, True) = binary; (None, False) =
    unreadable encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16
        try:
            return data.decode("utf-16").encode("utf-8"), False
        except UnicodeDecodeError:
            return None, True
    if b"\x00" in data:
        return None, True
    if data.isascii():  # ASCII is UTF-8; checked without decoding a copy of the file
        return data, False
    try:
        data.decode("utf-8")
        return data, False
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    n_bad = replaced.count(_REPLACEMENT)
    n_good = len(replaced) - len(replaced.encode("ascii", errors="ignore")) - n_bad
    if n_good > 4 * n_bad:  # mostly valid UTF-8: a few damaged cells, not another encoding
        return replaced.encode("utf-8"), True
    try:
        return data.decode("gb18030").encode("utf-8"), False
    except UnicodeDecodeError:
        pass
    if n_bad * 100 <= len(data):
        return replaced.encode("utf-8"), True
    control = sum(data.count(bytes([b])) for b in range(1, 32) if b not in (9, 10, 13))
    return None, control * 10 > len(data)


_BIG5_SAMPLE = 1 << 16  # bytes looked at: a header and a few hundred rows


def _looks_like_big5(data: bytes) -> bool:
    """Whether text that is not UTF-8 is Big5 (Traditional Chinese, as written in Taiwan and
    Hong Kong) rather than GBK/GB18030.

    Big5 bytes nearly always decode as GB18030 too, into rare characters and symbols, so the
    decoding that fails proves nothing; what tells them apart is which one gives common
    characters. Of the Chinese characters in the first 64 KB, GB text decoded as GB18030 has
    nearly all (95%+) among GB2312's 3,755 first-level characters, and Big5 text decoded as
    Big5 nearly all among Big5's 5,401 frequent ones (常用字); the wrong decoding scores about
    half. A header that names a known column in Chinese (the labels are in simplified
    characters, which Big5 cannot write) is GB text, whatever the scores say."""
    if data.isascii() or data.startswith((_UTF8_BOM, b"\xff\xfe", b"\xfe\xff")):
        return False
    sample = data[:_BIG5_SAMPLE]
    if len(data) > _BIG5_SAMPLE:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    try:
        as_big5 = sample.decode("cp950")
    except UnicodeDecodeError:
        return False
    as_gb = sample.decode("gb18030", errors="replace")
    first_line = as_gb.split("\n", 1)[0]
    if any(label in first_line for label in _chinese_labels()):
        return False
    gb_common, gb_chinese = _common_share(as_gb, _gb2312_level1())
    big5_common, big5_chinese = _common_share(as_big5, _big5_frequent())
    return big5_chinese >= 4 and big5_common >= 0.9 * big5_chinese and gb_common <= 0.7 * max(gb_chinese, 1)


def _common_share(text: str, common: frozenset[str]) -> tuple[int, int]:
    """(common characters, Chinese characters) in `text`."""
    chinese = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return sum(c in common for c in chinese), len(chinese)


@functools.cache
def _gb2312_level1() -> frozenset[str]:
    """GB2312's first-level characters (rows 16-55: the 3,755 most used simplified ones)."""
    return _decoded_block("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))


@functools.cache
def _big5_frequent() -> frozenset[str]:
    """Big5's frequent characters (常用字, 0xA440-0xC67E: 5,401 traditional ones)."""
    trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    return _decoded_block("cp950", range(0xA4, 0xC7), trails) - _decoded_block(
        "cp950", [0xC6], range(0xA1, 0xFF))


def _decoded_block(encoding: str, leads, trails) -> frozenset[str]:
    characters = set()
    for lead in leads:
        for trail in trails:
            try:
                characters.add(bytes([lead, trail]).decode(encoding))
            except UnicodeDecodeError:
                pass
    return frozenset(characters)


@functools.cache
def _chinese_labels() -> tuple[str, ...]:
    return tuple({c.label for spec in FILES.values() for c in spec.columns if not c.label.isascii()})


def _split_csv(data: bytes, name: str) -> _Grid | None:
    """Split CSV text into cells with pyarrow (all columns as text), keeping Excel row numbers."""
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    if _UTF8_BOM in data:  # a BOM inside the text: exports pasted together; it is no character
        data = data.replace(_UTF8_BOM, b"")
    # Leading blank lines are not the header, but Excel still numbers them.
    stripped = data.lstrip(b" \t\r\n")
    leading = data[: len(data) - len(stripped)].count(b"\n")
    data = stripped
    if not data or data.isspace():
        return None
    end_of_line = data.find(b"\n")
    first_line = data if end_of_line < 0 else data[:end_of_line]
    delimiter = "\t" if first_line.count(b"\t") > first_line.count(b",") else ","
    try:
        header, cells, nonblank, bad = _split_with_arrow(
            data, delimiter, first_line.count(delimiter.encode()) + 1)
    except pa.ArrowException:  # e.g. a row longer than a parse block: the slow, lenient reader
        header, cells, nonblank, bad = _split_with_python(data, delimiter)
    records = 1 + len(cells) + len(bad)
    bad_numbers = np.array([b[0] for b in bad], dtype=np.int64)
    kept = np.setdiff1d(np.arange(1, records + 1, dtype=np.int64), bad_numbers, assume_unique=True)
    rows = kept[1:] + leading

    # Bad-shaped rows: blank (only spaces) lines are skipped; the last line of a file that ends
    # without a newline and has too few fields was cut off (truncated); others have a bad shape.
    ends_cleanly = data.endswith((b"\n", b"\r"))
    shape_rows, shape_text, cut_rows, cut_text = [], [], [], []
    for number, text, expected, actual in bad:
        if not (text or "").strip():
            continue
        if number == records and actual < expected and not ends_cleanly:
            cut_rows.append(number + leading)
            cut_text.append(text[:_SHOWN_VALUE])
        else:
            shape_rows.append(number + leading)
            if len(shape_text) < MAX_LISTED:
                shape_text.append(f"{actual}/{expected}: {text[:_SHOWN_VALUE]}")
    problems = []
    if shape_rows:
        problems.append(problems_frame(
            name, shape_rows, "", shape_text, Rule.BAD_ROW_SHAPE,
            "该行的字段数与表头的列数不一致(值为 实际/应有: 行内容),无法读取",
            "this row has a different number of fields than the header (value: actual/expected: text)",
            "检查该行是否多了或少了逗号;含逗号或换行的内容要用英文双引号括起来",
        ))
    if cut_rows:
        problems.append(problems_frame(
            name, cut_rows, "", cut_text, Rule.TRUNCATED_FILE,
            "文件在该行中途结束(最后一行不完整),可能复制或下载时被截断",
            "the file ends in the middle of this row: it was cut off while copying or downloading",
            "重新从平台导出或复制完整的文件",
        ))
    rows_read = int(nonblank.sum()) + len(shape_rows) + len(cut_rows)
    if not nonblank.all():
        cells = cells.filter(pa.array(nonblank))
    return _Grid(header, cells, rows[nonblank], rows_read, problems, header_row=int(kept[0]) + leading)


def _split_with_arrow(
    data: bytes, delimiter: str, n_fields: int,
) -> tuple[list[str], pa.Table, np.ndarray, list]:
    """The header, the data cells (stripped text, positional columns), which of them are not
    blank, and the records that did not fit the header as (record number, text, expected fields,
    actual fields); the header is record 1."""
    quoted = b'"' in data

    def parse(use_threads: bool, bad: list) -> pa.Table:
        def on_invalid(row) -> str:
            if use_threads:  # it cannot number the row: stop, and read again in order
                bad.append(None)
                return "error"
            # The report shows the text of a check's first rows only (problems.MAX_LISTED); of
            # the rest (a junk file has hundreds of thousands) only whether it is blank is kept.
            text = row.text
            if len(bad) >= 2 * MAX_LISTED:
                text = "…" if text.strip() else ""
            bad.append((row.number, text, row.expected_columns, row.actual_columns))
            return "skip"

        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=use_threads, autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=quoted, ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(n_fields)},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )

    bad: list = []
    threaded = len(data) > _THREADED_BYTES
    try:
        table = parse(threaded, bad)
    except pa.ArrowInvalid:
        if not (threaded and bad):
            raise
    if bad:  # the parallel reader does not number bad rows: read again, in order, to number them
        bad = []
        table = parse(False, bad)
    columns = [_stripped(column_array(table.column(i))) for i in range(table.num_columns)]
    header = [column[0].as_py() for column in columns]
    body = [column.slice(1) for column in columns]
    nonblank = functools.reduce(np.logical_or, [cell_lengths(column) > 0 for column in body])
    cells = _positional([column_array(column) for column in body])
    return header, cells, nonblank, bad


def _stripped(column: pa.Array) -> pa.Array:
    """The column with whitespace stripped from both ends of each cell (Unicode whitespace, as
    Arrow defines it). Stripping is skipped when every cell begins and ends with a printable
    ASCII character, which is no whitespace: most columns (codes, dates, numbers) are such.
    A short column is stripped without looking: that is cheaper than the look."""
    if len(column) <= _SHORT_COLUMN:
        return pc.utf8_trim_whitespace(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset: column.offset + len(column) + 1]
    data = np.frombuffer(column.buffers()[2] or b"", dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    ends = np.concatenate([data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]])
    if ((ends > 0x20) & (ends < 0x7F)).all():
        return column
    return pc.utf8_trim_whitespace(column)


def _split_with_python(data: bytes, delimiter: str) -> tuple[list[str], pa.Table, np.ndarray, list]:
    """The same as `_split_with_arrow`, with the standard library's lenient csv reader."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""),
                        delimiter=delimiter)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(data) + 1))  # one field may be the rest of a damaged file
    try:
        records = list(reader)
    finally:
        csv.field_size_limit(limit)
    expected = len(records[0]) if records else 0
    good, bad = [], []
    for number, fields in enumerate(records, start=1):
        if fields and len(fields) == expected:
            good.append([f.strip() for f in fields])
        elif fields:
            bad.append((number, delimiter.join(fields), expected, len(fields)))
        else:
            good.append([""] * expected)
    cells = _from_rows(good[1:], expected)
    nonblank = np.array([any(fields) for fields in good[1:]], dtype=bool)
    return good[0], cells, nonblank, bad


def _positional(columns: list[pa.Array]) -> pa.Table:
    """Cells before columns are named: column i is named "i"."""
    return pa.table({str(i): column for i, column in enumerate(columns)})


def _from_rows(rows: list[list[str]], width: int) -> pa.Table:
    """Positional string columns of rows that all have `width` cells."""
    return _positional([pa.array([row[i] for row in rows], type=pa.string()) for i in range(width)])


def cell_lengths(column: pa.Array) -> np.ndarray:
    """The length in bytes of each cell of a string column without nulls (0: empty); cheaper
    than comparing every cell with "" and turning Arrow's bits into NumPy's bytes."""
    return pc.binary_length(column).to_numpy(zero_copy_only=False)


def column_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array of a column (Arrow compute and NumPy views need one buffer)."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    return pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], type=column.type)


def _nonempty_anywhere(cells: pa.Table) -> np.ndarray:
    """Which rows have a non-empty cell."""
    if not cells.num_columns:
        return np.zeros(cells.num_rows, dtype=bool)
    filled = functools.reduce(pc.or_, [pc.not_equal(c, "") for c in cells.columns])
    return column_array(filled).to_numpy(zero_copy_only=False)


def _reject_undecodable(grid: _Grid, name: str) -> _Grid:
    """Rows of a damaged UTF-8 file that hold undecodable bytes are rejected one by one."""
    cells = grid.cells
    damaged = np.zeros(cells.num_rows, dtype=bool)
    for column in cells.columns:
        damaged |= column_array(pc.match_substring(column, _REPLACEMENT)).to_numpy(zero_copy_only=False)
    if damaged.any():
        grid.problems.append(problems_frame(
            name, grid.rows[damaged], "", _row_text(cells.filter(pa.array(damaged))),
            Rule.UNREADABLE_ENCODING,
            "该行含有无法识别的字节(乱码),无法读取",
            "this row holds bytes that are not text in the file's encoding",
            "在原始系统中检查并重新录入该行,再以 UTF-8 编码导出",
        ))
        grid.cells = cells.filter(pa.array(~damaged))
        grid.rows = grid.rows[~damaged]
    return grid


def _row_text(cells: pa.Table) -> list[str]:
    """Each row's cells joined by commas, as shown in a problem."""
    if not cells.num_columns:
        return [""] * cells.num_rows
    columns = [c.to_pylist() for c in cells.columns]
    return [",".join(fields)[:_SHOWN_VALUE] for fields in zip(*columns)]


# xlsx -------------------------------------------------------------------------------------------

# A workbook is checked before any XML parser sees it: the zip's directory (sizes, inflation),
# then one streaming pass over each XML part (markup, cells). openpyxl parses with the standard
# library's expat, whose time grows with the square of the length of one markup token (expat 2.5:
# a 16 MB comment takes 15 s, a reviewer's 300 MB one far more than 600 s); text between tags
# is not affected. So each tag, comment and processing instruction must be short, and a DTD
# (entity expansion) is refused: spreadsheet programs write neither.
_MAX_WORKBOOK_BYTES = 200 << 20  # all parts, uncompressed: 200 MB of sheet XML is ~350,000 rows
#   of services, many times a county's quarter (3,000-15,000), and ~60 s for openpyxl to read
_MAX_INFLATE_RATIO = 100  # Apache POI's zip-bomb limit (MIN_INFLATE_RATIO 0.01); sheets deflate 5-15x
_RATIO_FLOOR = 1 << 20  # parts smaller than this may deflate better (blank styled cells): harmless
_MAX_CELLS = 5_000_000  # cells in one sheet, as read (a sheet's <dimension> is often stale, so the
#   cells themselves are counted): ~400,000 rows of services, and a bound on time and memory
_EXCEL_ROWS = 1_048_576  # Excel's last row; a row numbered beyond it was not written by Excel
_MAX_MARKUP = 64 << 10  # bytes in one tag, comment or PI; real ones are under 1 KB
_MAX_TEXT = 1 << 20  # bytes between two '<': a cell holds at most 32,767 characters (< 200 KB)
_MAX_SPECIALS = 1000  # comments and PIs in one part; spreadsheet programs write one (<?xml ...?>)
_MAX_PARTS = 10_000  # files in the zip; a workbook has tens (and its pictures)
_SCAN_CHUNK = 1 << 20

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG, _FORMULA_TAG, _VALUE_TAG = _MAIN_NS + "row", _MAIN_NS + "f", _MAIN_NS + "v"
_TAG = re.compile(rb"<[^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*>")


class _Refused(Exception):
    """A workbook that must not be read further; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message_en)
        self.problem = problem


@dataclass
class _Sheet:
    """The sheet read from a workbook: its non-blank rows as (cell texts, Excel row), the
    (first, last) rows of its merged ranges, its formula cells as (Excel row, column number,
    formula, whether a result was saved), and what was said about choosing it."""

    rows: list[tuple[list[str], int]]
    merged: list[tuple[int, int]]
    formulas: list[tuple[int, int, str, bool]]
    problems: list[Problem]


def _read_xlsx(loaded: LoadedFile) -> LoadedFile:
    name = loaded.name
    with open(loaded.path, "rb") as fh:
        magic = fh.read(8)
    if not magic:
        return _fail(loaded, _empty(name))
    if magic.startswith(_CFB_MAGIC):
        return _fail(loaded, Problem(
            name, 0, "", "", Rule.PROTECTED_WORKBOOK,
            f"{name} 设置了打开密码(或是旧版 .xls 格式),无法读取",
            f"{name} is password-protected (or an old .xls saved as .xlsx) and cannot be read",
            "在 Excel 中打开后取消密码(文件→信息→保护工作簿→用密码进行加密,清空密码),另存为 .xlsx",
        ))
    if not magic.startswith(_ZIP_MAGIC):
        return _fail(loaded, _corrupt(name, "not a zip archive"))
    try:
        sheet = _read_sheet(loaded)
    except _Refused as refused:
        return _fail(loaded, refused.problem)
    except Exception as exc:  # noqa: BLE001 - any failure inside openpyxl means a damaged file
        return _fail(loaded, _corrupt(name, f"{type(exc).__name__}: {exc}"))
    rows = sheet.rows
    if not rows:  # no sheet holds data, or none may be read (the problems say why)
        loaded.problems = report(sheet.problems or [_empty(name)])
        return loaded
    width = max(len(values) for values, _ in rows)
    cells = _from_rows([values + [""] * (width - len(values)) for values, _ in rows[1:]], width)
    header = rows[0][0] + [""] * (width - len(rows[0][0]))
    grid = _skip_title_rows(loaded.spec, _Grid(
        header, cells, np.array([r for _, r in rows[1:]], dtype=np.int64), len(rows) - 1,
        header_row=rows[0][1],
    ))
    # Cells right of the header's last named column: the row does not fit the header.
    named = max((i + 1 for i, h in enumerate(grid.header) if h), default=0)
    beyond = _nonempty_anywhere(grid.cells.select(list(range(named, grid.cells.num_columns))))
    if beyond.any():
        grid.problems.append(problems_frame(
            name, grid.rows[beyond], "", _row_text(grid.cells.filter(pa.array(beyond))),
            Rule.BAD_ROW_SHAPE,
            "该行在表头以外的列中还有内容,无法确定属于哪一列",
            "this row has values in columns that have no header",
            "删除表头右侧多余的内容,或为该列补上表头",
        ))
        grid.cells, grid.rows = grid.cells.filter(pa.array(~beyond)), grid.rows[~beyond]
    if sheet.formulas:
        grid = _flag_formulas(loaded, grid, sheet.formulas)
    loaded = _name_columns(loaded, grid)
    extra = list(sheet.problems)
    if any(first <= grid.header_row <= last for first, last in sheet.merged):
        extra.append(Problem(
            name, grid.header_row, "", "", Rule.MERGED_HEADER,
            "表头行含有合并单元格,无法确定每一列的含义",
            "the header row has merged cells, so columns cannot be told apart",
            "取消表头行的合并单元格,使表头每个单元格只写一个列名",
        ))
    if extra:
        loaded.problems = report(extra, [loaded.problems])
    return loaded


def _corrupt(name: str, detail: str) -> Problem:
    return Problem(
        name, 0, "", "", Rule.CORRUPT_WORKBOOK,
        f"{name} 已损坏,无法作为 Excel 工作簿打开", f"{name} is damaged and cannot be opened ({detail})",
        "重新从平台导出,或在 Excel 中打开后另存为新的 .xlsx 文件",
    )


def _read_sheet(loaded: LoadedFile) -> _Sheet:
    """The data sheet of a workbook that passed `_check_workbook`, read with openpyxl."""
    import openpyxl  # a quarter of a second to import: only .xlsx inputs pay for it

    parts = _check_workbook(loaded.path, loaded.name)
    workbook = openpyxl.load_workbook(loaded.path, read_only=True, data_only=True)
    try:
        sheet, problems = _choose_sheet(workbook, loaded)
        if sheet is None:
            return _Sheet([], [], [], problems)
        rows = list(_sheet_rows(sheet, loaded.name))
        sheet_path = sheet._worksheet_path.lstrip("/")
    finally:
        workbook.close()
    formulas = []
    if parts.get(sheet_path, (0, False))[1]:
        formulas = _formula_cells(loaded.path, sheet_path)
    return _Sheet(rows, _merged_rows(loaded.path, sheet_path), formulas, problems)


def _check_workbook(path: Path, name: str) -> dict[str, tuple[int, bool]]:
    """Refuse (`_Refused`) a workbook over the limits above; else, for each XML part, the cells
    it holds and whether it has formulas."""
    size = path.stat().st_size
    if size > _MAX_WORKBOOK_BYTES:  # before the zip's directory is read: it may be enormous too
        raise _Refused(_too_large(
            name, f"{size / 2**20:.0f} MB", f"有 {size / 2**20:.0f} MB,超过 {_MAX_WORKBOOK_BYTES >> 20} MB 的上限",
            f"it is {size / 2**20:.0f} MB, over the {_MAX_WORKBOOK_BYTES >> 20} MB limit",
        ))
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > _MAX_PARTS:
            raise _Refused(_suspicious(
                name, f"{len(infos)}", f"其中有 {len(infos)} 个文件(工作簿只有几十个)",
                f"it holds {len(infos)} files (a workbook has tens)",
            ))
        total = sum(info.file_size for info in infos)
        if total > _MAX_WORKBOOK_BYTES:
            raise _Refused(_too_large(
                name, f"{total / 2**20:.0f} MB",
                f"解压后有 {total / 2**20:.0f} MB,超过 {_MAX_WORKBOOK_BYTES >> 20} MB 的上限",
                f"it holds {total / 2**20:.0f} MB uncompressed, over the {_MAX_WORKBOOK_BYTES >> 20} MB limit",
            ))
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR and ratio > _MAX_INFLATE_RATIO:
                raise _Refused(_suspicious(
                    name, f"{info.filename}: {ratio:.0f}x",
                    f"其中的 {info.filename} 解压后是压缩时的 {ratio:.0f} 倍(正常的工作簿不超过 {_MAX_INFLATE_RATIO} 倍)",
                    f"{info.filename} inflates {ratio:.0f} times (real workbooks: under {_MAX_INFLATE_RATIO})",
                ))
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names:
            raise _Refused(_corrupt(name, "no [Content_Types].xml: not an Office document"))
        parts = {}
        for info in infos:  # by content, not name: openpyxl follows the workbook's relationships
            with archive.open(info) as stream:
                head = stream.read(64)
            kind = _xml_kind(head)
            if kind == "utf-16":
                raise _Refused(_suspicious(
                    name, info.filename, f"其中的 {info.filename} 是 UTF-16 编码的 XML(电子表格软件都写 UTF-8)",
                    f"{info.filename} is UTF-16 XML (spreadsheet programs write UTF-8)",
                ))
            if kind == "utf-8":
                cells, formulas, reason = _scan_part(archive, info)
                if reason is not None:
                    raise _Refused(_suspicious(
                        name, info.filename, f"其中的 {info.filename} {reason[0]}",
                        f"{info.filename}: {reason[1]}",
                    ))
                if cells > _MAX_CELLS:
                    raise _Refused(_too_cells(name, info.filename))
                parts[info.filename] = (cells, formulas)
    return parts


def _xml_kind(head: bytes) -> str | None:
    """How expat would take a part that begins with `head`: "utf-8" XML, "utf-16" XML, or None
    (not XML: a picture, a macro project; expat stops at its first byte)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"<\0" in head[:2] or b"\0<" in head[:2]:
        return "utf-16"
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM):]
    start = head.lstrip(b" \t\r\n")
    return "utf-8" if start.startswith(b"<") or not start else None


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, bool, tuple[str, str] | None]:
    """One streaming pass over an XML part, in chunks: the cells it holds (counted by their
    tags; counting stops past _MAX_CELLS), whether it has formulas, and why it must not be
    parsed, in Chinese and English (None: it may be).

    A tag cannot hold a '<' (XML forbids it in attribute values), so a tag is never longer than
    the stretch from its '<' to the next one; only the few long stretches are looked at closely.
    Comments and processing instructions may hold '<': each is measured to its end."""
    cells, formulas, specials_seen = 0, False, 0
    carry = b""  # from the first '<' not yet checked: it needs what follows it
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_SCAN_CHUNK)
            final = not chunk
            data = carry + chunk
            if not data:
                break
            opens = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x3C)
            if not len(opens):
                if len(data) > _MAX_TEXT:
                    return cells, formulas, _TEXT_TOO_LONG
                carry = data
                if final:
                    break
                continue
            if not carry and opens[0] > _MAX_TEXT:  # text before the first tag
                return cells, formulas, _TEXT_TOO_LONG
            following = np.append(opens[1:], len(data))
            if final:
                ready = len(opens)
            else:  # a '<' is checked once the next '<' and _MAX_MARKUP bytes after it are here
                ready = min(int(np.searchsorted(opens, len(data) - _MAX_MARKUP - 16)), len(opens) - 1)
                if len(data) - opens[-1] > _MAX_TEXT:
                    return cells, formulas, _TEXT_TOO_LONG
            checked, gaps = opens[:ready], (following - opens)[:ready]
            if len(gaps) and gaps.max() > _MAX_TEXT:
                return cells, formulas, _TEXT_TOO_LONG
            codes = np.frombuffer(data, dtype=np.uint8)
            last = len(data) - 1
            marks = codes[np.minimum(checked + 1, last)]  # the byte after each '<'
            ends = codes[np.minimum(checked + 2, last)]
            ends = (ends == 0x20) | (ends == 0x3E) | (ends == 0x2F) | ((ends >= 0x09) & (ends <= 0x0D))
            specials = checked[(marks == 0x21) | (marks == 0x3F)]  # '<!' and '<?'
            specials_seen += len(specials)
            if specials_seen > _MAX_SPECIALS:
                return cells, formulas, ("含有大量 XML 注释或处理指令", "holds thousands of XML comments or PIs")
            for at in specials.tolist():
                reason = _special_reason(data, at)
                if reason:
                    return cells, formulas, reason
            for at in checked[gaps > _MAX_MARKUP].tolist():
                if data[at + 1] in b"!?":
                    continue  # measured above
                match = _TAG.match(data, at, at + _MAX_MARKUP)
                if match is None or match.end() - at >= _MAX_MARKUP:
                    return cells, formulas, ("含有超长的 XML 标记", "holds an XML tag longer than 64 KB")
            cut = int(opens[ready]) if ready < len(opens) else len(data)
            # <c> and <f> tags, and prefixed ones (<x:c r=...>) found by their ':c ' and ':f'
            # (text that holds them only makes the count larger, or the formula pass run)
            cells += int(np.count_nonzero((marks == 0x63) & ends)) + data.count(b":c ", 0, cut)
            if cells > _MAX_CELLS:
                return cells, formulas, None
            formulas = formulas or bool(((marks == 0x66) & ends).any()) or any(
                data.find(tag, 0, cut) >= 0 for tag in (b":f>", b":f "))
            carry = data[cut:]
            if final:
                break
    return cells, formulas, None


_TEXT_TOO_LONG = ("含有超过 1 MB 不带任何标记的内容", "holds more than 1 MB of text without markup")


def _special_reason(data: bytes, at: int) -> tuple[str, str] | None:
    """Why the comment, PI or declaration at `at` must not be parsed, or None."""
    if data.startswith(b"<![CDATA[", at):
        return None  # text, which expat reads in pieces
    if data.startswith(b"<!--", at):
        if data.find(b"-->", at + 4, at + _MAX_MARKUP) < 0:
            return "含有超长的 XML 注释", "holds an XML comment longer than 64 KB"
        return None
    if data.startswith(b"<?", at):
        if data.find(b"?>", at + 2, at + _MAX_MARKUP) < 0:
            return "含有超长的 XML 处理指令", "holds an XML processing instruction longer than 64 KB"
        return None
    return "含有 DTD(文档类型定义),工作簿不会有这种内容", "holds a DTD, which workbooks never do"


def _too_large(name: str, value: str, zh: str, en: str) -> Problem:
    return Problem(
        name, 0, "", value, Rule.FILE_TOO_LARGE,
        f"{name} {zh},不像一个县一个季度的数据,未读取", f"{name} was not read: {en}",
        "检查是否导出了多余的内容(其他季度、其他县、图片);只导出本季度的记录,或另存为 CSV UTF-8 后重新放入",
    )


def _too_cells(name: str, part: str) -> Problem:
    return _too_large(
        name, part, f"的工作表有超过 {_MAX_CELLS:,} 个单元格",
        f"a sheet holds more than {_MAX_CELLS:,} cells",
    )


def _suspicious(name: str, value: str, zh: str, en: str) -> Problem:
    return Problem(
        name, 0, "", value, Rule.SUSPICIOUS_WORKBOOK,
        f"{name} 不像是电子表格软件保存的文件:{zh};可能已损坏或被恶意构造,未读取",
        f"{name} was not read: it does not look like a spreadsheet program's file ({en})",
        "用 Excel 打开后另存为新的 .xlsx 文件(或另存为 CSV UTF-8)再放入;来源不明的文件请向平台重新导出",
    )


def _choose_sheet(workbook, loaded: LoadedFile) -> tuple[object | None, list[Problem]]:
    """The worksheet to read (None: none), and what to tell the user about the others.

    Decisions:

    - Only worksheets count (a chart sheet has no rows). A sheet holds data when one of its rows
      has a non-blank cell; empty sheets (Excel's Sheet2, Sheet3) are passed over silently.
    - Hidden and very hidden sheets are never read: what the user sees in Excel is what counts.
      When there are any, a warning (hidden_sheet) names them and the sheet read. When only
      hidden sheets hold data, that is an error (hidden_data): it is not clear they are meant.
    - One visible sheet with data: it is read. Several: the one named like the file (its stem,
      e.g. "services", or its Chinese label "服务记录"), else the only one whose first rows
      name a known column (the others are notes, instructions, pivot tables); it is read, with
      a warning (other_sheets) that names it and the ones left unread. Otherwise no sheet is
      clearly the one, and the file is an error (ambiguous_sheet).
    """
    spec, name = loaded.spec, loaded.name
    sheets = list(workbook.worksheets)
    visible = [s for s in sheets if s.sheet_state == "visible"]
    hidden = [s for s in sheets if s.sheet_state != "visible"]
    first_rows = {id(s): _first_rows(s, name) for s in visible}
    with_data = [s for s in visible if first_rows[id(s)]]
    problems = []
    if not with_data:
        hidden_data = [s.title for s in hidden if _first_rows(s, name)]
        if hidden_data:
            titles = "、".join(hidden_data)
            problems.append(Problem(
                name, 0, "", titles, Rule.HIDDEN_DATA,
                f"{name} 中可见的工作表都是空的,数据只在隐藏的工作表“{titles}”中,未读取",
                f"the visible sheets of {name} are empty; only hidden sheets ({titles}) hold data",
                "在 Excel 中右键工作表标签→取消隐藏,确认要用的数据后,只保留这一张可见的工作表并保存",
            ))
        return None, problems
    if len(with_data) == 1:
        chosen = with_data[0]
    else:
        names = {spec.name.casefold(), spec.label.casefold(), loaded.path.stem.strip().casefold()}
        named = [s for s in with_data if s.title.strip().casefold() in names]
        headed = [s for s in with_data
                  if any(_names_a_column(spec, texts) for texts, _ in first_rows[id(s)])]
        candidates = named if len(named) == 1 else headed if len(headed) == 1 else []
        titles = "、".join(s.title for s in with_data)
        if not candidates:
            return None, [Problem(
                name, 0, "", titles, Rule.AMBIGUOUS_SHEET,
                f"{name} 有多张可见的工作表都有内容({titles}),无法确定用哪一张",
                f"several visible sheets of {name} hold data ({titles}); cannot tell which to read",
                f"只保留数据所在的一张工作表(删除或隐藏其余的),或把它命名为“{spec.name}”",
            )]
        chosen = candidates[0]
        others = "、".join(s.title for s in with_data if s is not chosen)
        problems.append(Problem(
            name, 0, "", chosen.title, Rule.OTHER_SHEETS,
            f"{name} 有多张可见的工作表有内容,已读取“{chosen.title}”,未读取“{others}”",
            f"{name} has several visible sheets with data; read {chosen.title!r}, not {others!r}",
            "确认读取的工作表正确;其余工作表的内容不会被计入",
        ))
    if hidden:
        titles = "、".join(s.title for s in hidden)
        problems.append(Problem(
            name, 0, "", chosen.title, Rule.HIDDEN_SHEET,
            f"{name} 含有隐藏的工作表“{titles}”,未读取;已读取可见的工作表“{chosen.title}”",
            f"{name} has hidden sheets ({titles}), not read; read the visible sheet {chosen.title!r}",
            "确认读取的工作表正确;如果数据在隐藏的工作表中,取消隐藏并只保留这一张工作表",
        ))
    return chosen, problems


def _first_rows(sheet, name: str) -> list[tuple[list[str], int]]:
    """The first non-blank rows of a sheet: enough to find its header below title rows."""
    return list(itertools.islice(_sheet_rows(sheet, name), _TITLE_ROWS + 1))


def _sheet_rows(sheet, name: str):
    """The non-blank rows of a sheet as (cell texts, Excel row); refuses (`_Refused`) a sheet
    past _MAX_CELLS cells or Excel's last row, counted as openpyxl hands them over."""
    sheet.reset_dimensions()  # the stored dimension may be stale: read every row
    cells = 0
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        cells += len(values)
        if cells > _MAX_CELLS or number > _EXCEL_ROWS:
            raise _Refused(_too_cells(name, sheet.title))
        texts = [_cell_text(v) for v in values]
        while texts and not texts[-1]:
            texts.pop()
        if texts:  # blank rows are not data (Excel still numbers them)
            yield texts, number


def _formula_cells(path: Path, sheet_path: str) -> list[tuple[int, int, str, bool]]:
    """(Excel row, column number, formula, whether a result was saved) of the formula cells in
    the rows openpyxl reads, numbered as openpyxl numbers them (`WorkSheetParser.parse_row`,
    `ReadOnlyWorksheet._cells_by_row`): read-only openpyxl with data_only hands over the saved
    results only. A result is saved when the cell has a non-empty <v>, or an empty one in a text
    cell (t="str": Excel's ="" ); openpyxl writes <v/> and xlsxwriter <v>0</v> unless told.
    The markup was checked first (`_scan_part`), so expat reads it in linear time."""
    from xml.etree.ElementTree import iterparse  # only for sheets that hold formulas

    found = []
    number, expected = 0, 1
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path) as xml:
        for _, element in iterparse(xml):
            if element.tag != _ROW_TAG:
                continue
            written = element.get("r")
            number = int(float(written)) if written else number + 1
            if number < expected:  # openpyxl skips a row numbered below one it has read
                element.clear()
                continue
            expected = number + 1
            if next(element.iter(_FORMULA_TAG), None) is not None:  # most rows have none
                column, cells = 0, {}
                for cell in element:
                    coordinate = cell.get("r")
                    column = _column_of(coordinate) if coordinate else column + 1
                    formula = cell.find(_FORMULA_TAG)
                    if formula is None:
                        cells[column] = None
                        continue
                    value = cell.find(_VALUE_TAG)
                    saved = value is not None and (bool(value.text) or cell.get("t") == "str")
                    cells[column] = (number, column, formula.text or "", saved)
                last = column  # openpyxl's row is as wide as its last cell's column
                found.extend(f for c, f in cells.items() if f is not None and 1 <= c <= last)
            element.clear()
    return sorted(found)


def _column_of(coordinate: str) -> int:
    """The column number of a cell reference, as openpyxl reads it ("C12" -> 3)."""
    letters = coordinate.rstrip("0123456789")
    if letters.isalpha() and letters.isupper() and len(letters) <= 3:
        return _column_number(letters)
    from openpyxl.utils.cell import coordinate_to_tuple  # imported with openpyxl: see _read_sheet

    return coordinate_to_tuple(coordinate)[1]  # "$C$12", "c12": as openpyxl reads them, or raise


@functools.lru_cache(maxsize=None)
def _column_number(letters: str) -> int:
    from openpyxl.utils.cell import column_index_from_string  # imported with openpyxl: see _read_sheet

    return column_index_from_string(letters)


def _flag_formulas(loaded: LoadedFile, grid: _Grid, formulas: list[tuple[int, int, str, bool]]) -> _Grid:
    """Report the formula cells of the header and of the data rows, in columns that are read:
    a saved result is used, with a warning; a formula without one rejects its row (its value
    is unknown), with an error."""
    spec, name = loaded.spec, loaded.name
    positions = {int(r): i for i, r in enumerate(grid.rows)}
    known = {i for i, h in enumerate(grid.header) if h and canonical_column(spec, h)}
    by_kind: dict[tuple[bool, str], tuple[list[int], list[str]]] = {}
    unsaved = np.zeros(len(grid.rows), dtype=bool)
    for row, column, formula, saved in formulas:
        position = column - 1
        if position not in known or (row != grid.header_row and row not in positions):
            continue
        rows, values = by_kind.setdefault((saved, grid.header[position]), ([], []))
        rows.append(row)
        values.append(f"={formula}"[:_SHOWN_VALUE] if formula else "=(共享公式)")
        if not saved and row in positions:
            unsaved[positions[row]] = True
    for (saved, header), (rows, values) in by_kind.items():
        if saved:
            grid.problems.append(problems_frame(
                name, rows, header, values, Rule.FORMULA_CELL,
                "该单元格是公式,已使用文件中保存的计算结果;结果可能已过时",
                "this cell holds a formula; the result saved in the file was used and may be stale",
                "在 Excel 中选中这些单元格,复制后“选择性粘贴→数值”,把公式换成数值再保存",
            ))
        else:
            grid.problems.append(problems_frame(
                name, rows, header, values, Rule.FORMULA_WITHOUT_VALUE,
                "该单元格是公式,文件中没有保存计算结果,无法读取该行",
                "this cell holds a formula with no saved result: the row cannot be read",
                "用 Excel 打开并保存一次(让 Excel 算出结果),或复制后“选择性粘贴→数值”再保存",
            ))
    if unsaved.any():
        grid.cells, grid.rows = grid.cells.filter(pa.array(~unsaved)), grid.rows[~unsaved]
    return grid


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"')


def _merged_rows(path: Path, sheet_path: str) -> list[tuple[int, int]]:
    """(first, last) rows of every merged range in the sheet (read-only openpyxl does not say)."""
    spans = []
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path) as xml:
        tail = b""
        while chunk := xml.read(1 << 20):
            text = tail + chunk
            for m in _MERGE.finditer(text):
                first = int(m.group(1))
                spans.append((first, int(m.group(2) or first)))
            tail = text[-200:]
    return sorted(set(spans))


def _cell_text(value) -> str:
    """A cell as the text a user sees: dates canonical, whole numbers without '.0'; U+FEFF (a
    byte-order mark pasted in from another export) is dropped."""
    if value is None:
        return ""
    if isinstance(value, str):
        if "\ufeff" in value:
            value = value.replace("\ufeff", "")
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        if value.time() == time(0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


# headers ----------------------------------------------------------------------------------------


_TITLE_ROWS = 5  # at most this many title rows ("2026年第二季度服务记录") above the header


def _skip_title_rows(spec: FileSpec, grid: _Grid) -> _Grid:
    """When the first row names no known column but one of the next few does, the rows above it
    are titles, not data: that row is the header."""
    if _names_a_column(spec, grid.header):
        return grid
    for i in range(min(_TITLE_ROWS, grid.cells.num_rows)):
        values = [column[i].as_py() for column in grid.cells.columns]
        if _names_a_column(spec, values):
            return _Grid(
                values, grid.cells.slice(i + 1), grid.rows[i + 1:],
                grid.rows_read - (i + 1), grid.problems, header_row=int(grid.rows[i]),
            )
    return grid


def _names_a_column(spec: FileSpec, values) -> bool:
    return any(canonical_column(spec, v) for v in values if isinstance(v, str) and v)


def _name_columns(loaded: LoadedFile, grid: _Grid) -> LoadedFile:
    """Give the grid's columns their canonical names; report unknown, duplicate, missing ones."""
    spec, name = loaded.spec, loaded.name
    grid = _skip_title_rows(spec, grid)
    problems: list[Problem] = []
    chosen: dict[str, int] = {}
    headers: dict[str, str] = {}
    for position, written in enumerate(grid.header):
        canonical = canonical_column(spec, written) if written else None
        if canonical is None:
            if not written and not pc.any(pc.not_equal(grid.cells.column(position), "")).as_py():
                continue  # an empty trailing column (a trailing comma): nothing to say
            problems.append(Problem(
                name, 0, written, "", Rule.UNKNOWN_COLUMN,
                f"未知的列“{written}”,已忽略" if written else f"第 {position + 1} 列没有表头,已忽略",
                f"unknown column {written!r} ignored" if written
                else f"column {position + 1} has no header; ignored",
                "核对列名是否写错(可用英文列名或中文列名);不需要的列可以删除",
            ))
        elif canonical in chosen:
            problems.append(Problem(
                name, 0, written, "", Rule.DUPLICATE_COLUMN,
                f"列“{written}”重复出现(与“{headers[canonical]}”是同一列)",
                f"column {written!r} appears twice (same as {headers[canonical]!r})",
                "删除重复的列,每一列只保留一次",
            ))
        else:
            chosen[canonical] = position
            headers[canonical] = written
    # Name a missing column the way most of the file's headers are written.
    labelled = sum(h == spec.column(c).label for c, h in headers.items())
    chinese = labelled * 2 > len(headers)
    for column in spec.columns:
        if column.name in chosen:
            continue
        headers[column.name] = column.label if chinese else column.name
        if column.required:
            problems.append(Problem(
                name, 0, headers[column.name], "", Rule.MISSING_COLUMN,  # in the file's own style
                f"缺少必需的列“{column.label}”({column.name})",
                f"required column {column.name} ({column.label}) is missing",
                f"在表头中加上“{column.label}”列(也可写作 {column.name}),并为每行填写",
            ))
    absent = pa.repeat("", grid.cells.num_rows)  # optional columns left out
    columns = {
        c.name: column_array(grid.cells.column(chosen[c.name])) if c.name in chosen else absent
        for c in spec.columns
    }
    columns[ROW] = pa.array(grid.rows.astype(np.int64))
    loaded.table = pa.table(columns)
    loaded.headers = headers
    loaded.header_row = grid.header_row
    loaded.found = list(chosen)
    loaded.rows_read = grid.rows_read
    loaded.problems = report(problems, grid.problems)
    return loaded
