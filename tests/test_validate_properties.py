"""Whatever is done to a valid region's files, validation reports and never raises, and every row
read is accounted for: used, or rejected with an error naming it (or its whole file)."""

from __future__ import annotations

import re
import tempfile
from decimal import Decimal
from pathlib import Path

import helpers
import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from scoring.inputs.problems import REPORT_COLUMNS
from scoring.inputs.schema import FILES
from scoring.inputs.validate import validate_quarter

NAMES = list(FILES)
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

cell_values = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.sampled_from([
        "-1", "0", "1.5", "12.345", "1e9", "NaN", "2026-13-45", "2026/6/31", "46113", "已完成",
        "done", '"', ",", "\n", "P001", "P002", "B001", "R0001", "C01", "E01", " ", "\ufeff",
        "2026-04-01 25:61", "2026-07-01 09:00:00", "2025-12-31",
    ]),
)
table_changes = st.lists(st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(NAMES), st.integers(0, 50), st.integers(0, 20), cell_values),
    st.tuples(st.just("drop_row"), st.sampled_from(NAMES), st.integers(0, 50)),
    st.tuples(st.just("duplicate_row"), st.sampled_from(NAMES), st.integers(0, 50)),
    st.tuples(st.just("drop_column"), st.sampled_from(NAMES), st.integers(0, 20)),
), max_size=8)
byte_changes = st.lists(st.one_of(
    st.tuples(st.just("garbage"), st.sampled_from(NAMES), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.sampled_from(NAMES), st.floats(0, 1)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES)),
), max_size=3)
formats = st.sampled_from([
    {"encoding": "utf-8"}, {"encoding": "utf-8-sig"}, {"encoding": "gb18030"}, {"suffix": ".xlsx"},
])


def change_tables(tables: dict[str, pd.DataFrame], changes) -> None:
    for change in changes:
        kind, name = change[0], change[1]
        table = tables[name]
        if kind == "drop_column":
            tables[name] = table.drop(columns=table.columns[change[2] % len(table.columns)])
        elif not len(table):
            continue
        elif kind == "cell":
            table.iloc[change[2] % len(table), change[3] % len(table.columns)] = change[4]
        elif kind == "drop_row":
            tables[name] = table.drop(index=table.index[change[2] % len(table)]).reset_index(drop=True)
        else:
            row = table.iloc[[change[2] % len(table)]]
            tables[name] = pd.concat([table, row], ignore_index=True)


def change_bytes(region: Path, changes, suffix: str) -> None:
    for change in changes:
        path = helpers.file_path(region, change[1], suffix)
        if not path.exists():
            continue
        if change[0] == "delete":
            path.unlink()
            continue
        content = path.read_bytes()
        at = int(change[2] * len(content))
        if change[0] == "truncate":
            path.write_bytes(content[:at])
        else:
            path.write_bytes(content[:at] + change[3] + content[at + len(change[3]):])


def check_contract(table: pd.DataFrame, name: str) -> None:
    spec = FILES[name]
    assert list(table.columns) == [*spec.column_names, "_row"]
    assert table["_row"].dtype == "int64" and table["_row"].is_unique
    for column in spec.columns:
        values = table[column.name]
        if column.kind in ("date", "datetime"):
            assert values.dtype == "datetime64[ns]"
            if column.required:
                assert values.notna().all()
        elif column.kind == "money":
            assert all(isinstance(v, Decimal) and v >= 0 for v in values)
        elif column.kind == "int":
            assert values.dtype == ("int64" if column.required else "Int64")
        elif column.kind == "number":
            assert values.dtype == "float64" and (values.dropna() >= 0).all()
        elif column.kind == "choice":
            allowed = set(column.choices) | ({""} if not column.required else set())
            assert set(values) <= allowed
        else:
            assert all(isinstance(v, str) for v in values)
            if column.required:
                assert (values != "").all()


@given(changes=table_changes, damage=byte_changes, options=formats, chinese=st.booleans())
@example(changes=[], damage=[("delete", "paid")], options={"encoding": "utf-8"}, chinese=False)  # found in CI
def test_validation_never_raises_and_accounts_for_every_row(changes, damage, options, chinese):
    tables = helpers.sample_tables()
    change_tables(tables, changes)
    if options.get("suffix") == ".xlsx":  # characters a workbook cannot hold at all
        tables = {n: t.map(lambda v: _XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v)
                  for n, t in tables.items()}
    with tempfile.TemporaryDirectory() as tmp:
        region = helpers.write_region(Path(tmp) / "region", tables, chinese_headers=chinese, **options)
        change_bytes(region, damage, options.get("suffix", ".csv"))
        before = helpers.file_hashes(region)

        validation = validate_quarter(region, helpers.QUARTER)

        assert helpers.file_hashes(region) == before
    problems, accounting = validation.problems, validation.accounting
    assert list(problems.columns) == REPORT_COLUMNS
    # a file the contract makes optional (paid.csv, objections.csv) and that is not there has no
    # accounting row
    required = [name for name, spec in FILES.items() if not spec.optional]
    assert len(required) <= len(accounting) <= len(FILES)
    assert (accounting[["rows_read", "rows_used", "rows_rejected"]] >= 0).all().all()
    assert (accounting["rows_read"] == accounting["rows_used"] + accounting["rows_rejected"]).all()
    assert validation.ok == (not (problems["severity"] == "error").any())

    errors = problems[problems["severity"] == "error"]
    # an optional file that is not there has no accounting row (and an empty table)
    rows = {Path(row.file).stem: row for row in accounting.itertuples(index=False)}
    for name, table in validation.tables.items():
        check_contract(table, name)
        if name not in rows:
            assert FILES[name].optional and not len(table)
            continue
        row = rows[name]
        assert len(table) == row.rows_used
        mine = errors[errors["file"] == row.file]
        if (mine["row"] == 0).any():  # the whole file is in question: nothing from it is used
            assert row.rows_used == 0
        else:  # every rejected row has an error naming it, and no used row has one
            assert row.rows_rejected == mine["row"].nunique()
            assert not table["_row"].isin(mine["row"]).any()
