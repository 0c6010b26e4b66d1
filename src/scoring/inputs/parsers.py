"""Reading values out of text cells: dates, amounts, counts, numbers and coded values.

Each parser reads an Arrow string array (the cells `load` read, already stripped) and returns a
NumPy array aligned with it; what it cannot read is NaT, None, NaN or masked, and `validate`
reports it. The `parse_*` functions do the same for a pandas Series (index kept), for callers
and tests that hold pandas data.

Why the shapes below: a quarter has about a million service rows, and almost every cell is either
written in one canonical layout or is one of a few distinct values.

- Dates in the canonical layout (2026-04-01 08:30:00) are read straight from the UTF-8 bytes with
  NumPy; every other text goes through the general reader (`_parse_dates_general`), which accepts
  the layouts offices use. The fast path only takes texts the general reader would read to the
  same instant, and the general reader sees the same remaining texts in the same order as it
  would on the whole column, so results never depend on the fast path.
- Amounts, counts, numbers and codes are parsed once per distinct text (Arrow's dictionary
  encoding finds them) with the same Python regular expressions as always, then spread back.
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.inputs.schema import VALUE_LABELS, Column

# dates ------------------------------------------------------------------------------------------

# ASCII digits only: pandas cannot turn full-width digits (０８) into numbers.
_DATE_PARTS = re.compile(
    r"^(?P<y>[0-9]{4})(?:[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
    r"|年\s*(?P<m2>[0-9]{1,2})\s*月\s*(?P<d2>[0-9]{1,2})\s*日?"
    r"|(?P<m3>[0-9]{2})(?P<d3>[0-9]{2}))"
    r"(?:(?:\s+|T)(?P<H>[0-9]{1,2})[::](?P<M>[0-9]{2})(?:[::](?P<S>[0-9]{2})(?:\.[0-9]+)?)?)?$"
)
_EXCEL_SERIAL = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serial numbers Excel shows for 1990-01-01 .. 2099-12-31: other 5-digit numbers are not dates.
_SERIAL_RANGE = (32874, 73050)

# Layouts tried (vectorised, on the rows still unread) before the slow general pattern above;
# pandas' %m, %d and %H also accept one digit (2026/4/1 8:30).
_LAYOUTS = tuple(
    f"%Y{a}%m{b}%d{c}{clock}"
    for a, b, c in (("-", "-", ""), ("/", "/", ""), (".", ".", ""), ("年", "月", "日"))
    for clock in (" %H:%M:%S", " %H:%M", "")
) + ("%Y-%m-%dT%H:%M:%S", _COMPACT := "%Y%m%d")
_SAMPLE = 200  # rows looked at to choose the layouts worth trying on all of them

# The canonical layouts, byte by byte: "2026-04-01 08:30:00" and "2026-04-01".
_CANONICAL_DATETIME = b"0000-00-00 00:00:00"
_CANONICAL_DATE = b"0000-00-00"
# Years whose every instant pandas can hold in datetime64[ns] (1677-09-21 .. 2262-04-11):
# the fast path leaves the edges to the general reader.
_FAST_YEARS = (1678, 2261)
_NAT = np.datetime64("NaT", "ns")


def read_dates(text: pa.Array, *, with_time: bool) -> np.ndarray:
    """datetime64[ns] (naive local) of date text as Chinese offices write it; NaT where empty or
    not a date. Accepts 2026-04-01, 2026/4/1, 2026.4.1, 2026年4月1日, 20260401 and Excel serial
    numbers, each with an optional time (08:30, 08:30:00, 8:30). Without `with_time` the time
    of day is dropped."""
    text = _string_array(text)
    result, read = _read_canonical(text, _CANONICAL_DATETIME if with_time else _CANONICAL_DATE)
    # Empty cells are NaT, and the general reader never looks at them (it samples the others).
    unread = ~read & pc.not_equal(text, "").to_numpy(zero_copy_only=False)
    if unread.any():
        rest = np.flatnonzero(unread)
        texts = pd.Series(text.take(pa.array(rest)).to_numpy(zero_copy_only=False), index=rest,
                          dtype=object)
        result[rest] = _parse_dates_general(texts, with_time=with_time).to_numpy()
    return result


def _read_canonical(text: pa.Array, layout: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The instants of the texts written exactly in `layout` (digits where it has 0, its
    separators elsewhere) that are real calendar dates and times in `_FAST_YEARS`, and which
    texts those are."""
    n = len(text)
    result = np.full(n, _NAT)
    width = len(layout)
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    shaped = lengths == width
    if not shaped.any():
        return result, shaped
    candidates = text if shaped.all() else text.filter(pa.array(shaped))
    chars = fixed_width_bytes(candidates, width)
    # The whole (texts x bytes) matrix at once: a few NumPy calls per column, however many bytes
    # the layout has (a county's files have a few hundred dates each, so calls, not bytes, cost).
    template = np.frombuffer(layout, dtype=np.uint8)
    is_digit = template == ord("0")
    digits = chars[:, is_digit] - np.uint8(ord("0"))  # wraps above 9 for any byte but a digit
    ok = (digits <= 9).all(axis=1) & (chars[:, ~is_digit] == template[~is_digit]).all(axis=1)
    # Two digits at a time: century, year of century, month, day (, hour, minute, second).
    pairs = digits[:, 0::2].astype(np.int32) * 10 + digits[:, 1::2]
    year, month, day = pairs[:, 0] * 100 + pairs[:, 1], pairs[:, 2], pairs[:, 3]
    ok &= (year >= _FAST_YEARS[0]) & (year <= _FAST_YEARS[1])
    days, real = calendar_days(year, month, day)
    ok &= real
    nanoseconds = days.astype(np.int64) * (86400 * 10**9)
    if width == len(_CANONICAL_DATETIME):
        hour, minute, second = pairs[:, 4], pairs[:, 5], pairs[:, 6]
        ok &= (hour < 24) & (minute < 60) & (second < 60)
        nanoseconds += ((hour * 60 + minute) * 60 + second).astype(np.int64) * 10**9
    read = np.zeros(n, dtype=bool)
    positions = np.flatnonzero(shaped)[ok]
    read[positions] = True
    result[positions] = nanoseconds[ok].view("datetime64[ns]")
    return result, read


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def calendar_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[D] of (year, month, day) integer arrays, and which of them are real calendar
    days (month 1-12, day within the month; years 1-9999). Where not, the day is meaningless.

    Integer arithmetic (H. Hinnant's days_from_civil): NumPy's own month and year units are
    several times slower on a million dates."""
    year, month, day = (np.asarray(a, dtype=np.int64) for a in (year, month, day))
    real = (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12)
    month = np.where(real, month, 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    real &= (day >= 1) & (day <= _MONTH_DAYS[month] + (leap & (month == 2)))
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return (era * 146097 + day_of_era - 719468).view("datetime64[D]"), real


def fixed_width_bytes(text: pa.Array, width: int) -> np.ndarray:
    """The UTF-8 bytes of an array whose texts all have `width` bytes, one row per text."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset: text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return data.reshape(len(text), width)


def _parse_dates_general(text: pd.Series, *, with_time: bool) -> pd.Series:
    """Every accepted layout, on pandas text (index kept).

    Fast path first (the canonical layout), then the layouts a sample of the unread rows uses,
    then a general pattern for whatever is left: a column written in one office's layout costs
    two vectorised passes, not a regular expression per row."""
    fast = "%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d"
    result = pd.to_datetime(text, format=fast, errors="coerce").astype("datetime64[ns]")
    unread = result.isna() & (text != "")
    if unread.any():
        for layout in _layouts_of(text[unread]):
            rest = _eligible(text[unread], layout)
            result[rest.index] = pd.to_datetime(rest, format=layout, errors="coerce")
            unread &= result.isna()
        if unread.any():
            result[unread] = _parse_dates_slowly(text[unread])
    if not with_time:
        result = result.dt.normalize()
    return result


def _layouts_of(text: pd.Series) -> list[str]:
    """The layouts that read some of a spread-out sample of `text`, most useful first."""
    sample = text.iloc[:: max(1, len(text) // _SAMPLE)].drop_duplicates()
    hits = {
        layout: int(pd.to_datetime(_eligible(sample, layout), format=layout, errors="coerce").notna().sum())
        for layout in _LAYOUTS
    }
    return [layout for layout, n in sorted(hits.items(), key=lambda kv: -kv[1]) if n]


def _eligible(text: pd.Series, layout: str) -> pd.Series:
    """The texts a layout may read: pandas would also read 7 digits as %Y%m%d; 20260401 has 8."""
    return text[text.str.len() == 8] if layout == _COMPACT else text


def _parse_dates_slowly(text: pd.Series) -> pd.Series:
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    serial = text.str.match(_EXCEL_SERIAL).to_numpy(dtype=bool)
    if serial.any():
        days = pd.to_numeric(text[serial])
        days = days[days.between(*_SERIAL_RANGE)]
        result[days.index] = _EXCEL_EPOCH + pd.to_timedelta(days * 86400, unit="s").round("s")
    text = text[~serial]
    parts = text.str.extract(_DATE_PARTS).apply(pd.to_numeric)
    numbers = pd.DataFrame({
        "year": parts["y"],
        "month": parts["m"].fillna(parts["m2"]).fillna(parts["m3"]),
        "day": parts["d"].fillna(parts["d2"]).fillna(parts["d3"]),
        "hour": parts["H"].fillna(0), "minute": parts["M"].fillna(0), "second": parts["S"].fillna(0),
    })
    valid_clock = (numbers["hour"] < 24) & (numbers["minute"] < 60) & (numbers["second"] < 60)
    matched = parts["y"].notna() & valid_clock
    if matched.any():
        result[matched[matched].index] = pd.to_datetime(numbers[matched], errors="coerce")
    return result


# amounts, counts, numbers, codes ----------------------------------------------------------------

# At most 15 digits of yuan, with or without thousands separators: the Parquet layers hold money
# as decimal128(18, 2).
_MONEY = re.compile(r"^[¥￥]?(?:\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(?:\.\d{0,2}0*)?元?$")
_MONEY_MARKS = re.compile(r"[¥￥元,]")
_CENT = Decimal("0.01")
_INTEGER = re.compile(r"^[+-]?\d{1,15}(?:\.0*)?$")
_WHOLE_ZEROS = re.compile(r"\.0*$")
_NUMBER = re.compile(r"^\+?(?:\d{1,15}(?:\.\d*)?|\.\d+)$")


def read_money(text: pa.Array) -> np.ndarray:
    """Decimal yuan (quantized to the cent) of non-negative amounts with at most 2 decimals
    (`1200`, `1,200.50`, `¥1200.5`); None where empty or not such an amount. Object array."""
    distinct, codes = _distinct(text)
    parsed = _objects([_money(t) for t in distinct])
    return parsed[codes]


def _money(text: str) -> Decimal | None:
    if not _MONEY.match(text):
        return None
    return Decimal(_MONEY_MARKS.sub("", text)).quantize(_CENT)


def read_integers(text: pa.Array) -> pd.arrays.IntegerArray:
    """Int64 of whole numbers (`3`, `3.0`, `-1`); <NA> where empty or not a whole number."""
    distinct, codes = _distinct(text)
    whole = np.array([bool(_INTEGER.match(t)) for t in distinct], dtype=bool)
    values = np.zeros(len(distinct), dtype=np.int64)
    # int() reads what pandas' to_numeric read here (at most 15 digits, an optional sign), and
    # also digits typed full-width, where to_numeric raised.
    values[whole] = [int(_WHOLE_ZEROS.sub("", t)) for t, ok in zip(distinct, whole) if ok]
    return pd.arrays.IntegerArray(values[codes], ~whole[codes])


def read_numbers(text: pa.Array) -> np.ndarray:
    """float64 of non-negative decimal numbers (`1`, `1.5`); NaN where empty or not such a number."""
    distinct, codes = _distinct(text)
    good = np.array([bool(_NUMBER.match(t)) for t in distinct], dtype=bool)
    values = np.full(len(distinct), np.nan)
    if good.any():
        values[good] = _to_float([t for t, ok in zip(distinct, good) if ok])
    return values[codes]


def _to_float(texts: list[str]) -> np.ndarray:
    """pandas' own decimal reading (what these numbers always went through); texts with digits
    other than 0-9 (full-width), which it cannot read, through float()."""
    ascii_texts = [t.isascii() for t in texts]
    if all(ascii_texts):
        return pd.to_numeric(pd.Series(texts, dtype=object)).to_numpy(dtype="float64")
    values = np.empty(len(texts))
    plain = [t for t, a in zip(texts, ascii_texts) if a]
    mask = np.array(ascii_texts, dtype=bool)
    if plain:
        values[mask] = pd.to_numeric(pd.Series(plain, dtype=object)).to_numpy(dtype="float64")
    values[~mask] = [float(t) for t, a in zip(texts, ascii_texts) if not a]
    return values


def choice_spellings(column: Column) -> dict[str, str]:
    """Every accepted spelling of a coded column's values -> its canonical code."""
    spellings = {code: code for code in column.choices}
    spellings.update({code.lower(): code for code in column.choices})
    spellings.update({label: code for label, code in VALUE_LABELS.items() if code in column.choices})
    return spellings


def read_choices(text: pa.Array, column: Column) -> np.ndarray:
    """Canonical codes of coded values written as the code (any case) or in Chinese
    (`schema.VALUE_LABELS`); "" where empty, None where not an allowed value. Object array."""
    distinct, codes = _distinct(text)
    spellings = choice_spellings(column)
    parsed = _objects(["" if t == "" else spellings.get(t, spellings.get(t.lower())) for t in distinct])
    return parsed[codes]


def _distinct(text: pa.Array) -> tuple[list[str], np.ndarray]:
    """The distinct texts, and for each row the position of its text among them: amounts,
    counts and codes repeat a few values over a million rows."""
    encoded = pc.dictionary_encode(_string_array(text))
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def _objects(values: list) -> np.ndarray:
    """An object array of exactly these values (np.array would unpack sequences)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _string_array(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous, null-free string array."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    if text.type != pa.string():
        text = text.cast(pa.string())
    return text.fill_null("") if text.null_count else text


# the same, for pandas text ----------------------------------------------------------------------


def parse_dates(text: pd.Series, *, with_time: bool) -> pd.Series:
    """`read_dates` of a pandas Series: datetime64[ns], index kept."""
    return pd.Series(read_dates(_arrow(text), with_time=with_time), index=text.index,
                     dtype="datetime64[ns]")


def parse_money(text: pd.Series) -> pd.Series:
    """`read_money` of a pandas Series: Decimal or None, index kept."""
    return pd.Series(read_money(_arrow(text)), index=text.index, dtype=object)


def parse_integers(text: pd.Series) -> pd.Series:
    """`read_integers` of a pandas Series: Int64, index kept."""
    return pd.Series(read_integers(_arrow(text)), index=text.index)


def parse_numbers(text: pd.Series) -> pd.Series:
    """`read_numbers` of a pandas Series: float64, index kept."""
    return pd.Series(read_numbers(_arrow(text)), index=text.index, dtype="float64")


def parse_choices(text: pd.Series, column: Column) -> pd.Series:
    """`read_choices` of a pandas Series: canonical code, "" or None, index kept."""
    return pd.Series(read_choices(_arrow(text), column), index=text.index, dtype=object)


def _arrow(text: pd.Series) -> pa.Array:
    return pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)

