"""Personal identifiers: 居民身份证号 (GB 11643-1999) and phone numbers, checked one at a time or
vectorised over a pandas Series.

An ID number is 18 characters: a 6-digit administrative division code, the birth date YYYYMMDD,
a 3-digit sequence (odd for men, even for women) and a check digit. The check digit is
`"10X98765432"[sum(digit_i × weight_i) mod 11]` over the first 17 digits. A lowercase `x` is
accepted, because Excel users type it.

`is_valid_id_number` checks the shape and the check digit only; whether the embedded birth date
is a real, plausible date is a separate question (`birth_date_of`), so that a report can tell a
mistyped digit (bad_id_number) from an impossible birth date (bad_birth_date).

A 统一社会信用代码 (unified social credit code of an organization, GB 32100-2015) is 18
characters from "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V, Z): the registering department,
the organization's category, the 6-digit division code of the registering office, the 9-character
organization code (GB 11714) and a check character, `CREDIT_CHARS[(31 - sum(value_i × 3^i mod 31)
mod 31) mod 31]` over the first 17. Lowercase letters are accepted and read as capitals.

A phone is a mainland mobile number `1[3-9]` + 9 digits (optionally written with `+86`/`86`,
spaces or dashes), or a landline with its area code (`0796-1234567`), which elderly rural
beneficiaries often give instead.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.inputs.parsers import calendar_days, fixed_width_bytes

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)  # an ID-holder born earlier is not plausible

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714: the organization code's own check

_ID_SHAPE = r"\d{17}[\dX]"
_CREDIT_SHAPE = re.compile(f"[{CREDIT_CHARS}]{{18}}")
_MOBILE = r"(?:\+?86)?1[3-9]\d{9}"
_LANDLINE = r"0\d{2,3}\d{7,8}"
_PHONE = re.compile(rf"{_MOBILE}|{_LANDLINE}")
_PHONE_SEPARATORS = r"[\s\-()()]"

_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK_BYTES = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need exactly 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def _normalise_id(s: object) -> str:
    return str(s).strip().upper() if isinstance(s, str) else ""


def is_valid_id_number(s: object) -> bool:
    """True when `s` has the 18-character shape and a correct check digit (birth date not checked)."""
    text = _normalise_id(s)
    if not re.fullmatch(_ID_SHAPE, text):
        return False
    return id_check_digit(text[:17]) == text[17]


def birth_date_of(id_number: object, today: date | None = None) -> date | None:
    """The birth date written in an ID number, or None when it is not a real, plausible date
    (not a calendar date, before 1900, or after `today`)."""
    text = _normalise_id(id_number)
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return None
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None
    if born < EARLIEST_BIRTH or born > (today or date.today()):
        return None
    return born


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in CREDIT_CHARS for c in first17):
        raise ValueError(f"need 17 characters of {CREDIT_CHARS}, got {first17!r}")
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(s: object) -> bool:
    """True when `s` is 18 characters of the code's alphabet with a correct check character."""
    text = _normalise_id(s)
    return bool(_CREDIT_SHAPE.fullmatch(text)) and credit_check_char(text[:17]) == text[17]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of an 8-character organization code (the synthetic
    generator writes organization codes that pass it, as real ones do)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_CODE_WEIGHTS))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def check_credit_codes(text: pa.Array) -> np.ndarray:
    """`is_valid_credit_code` of each text, as a NumPy bool array (a region has a handful of
    providers: one at a time is fast enough)."""
    return np.fromiter((is_valid_credit_code(v) for v in text.to_pylist()), dtype=bool, count=len(text))


_BANK_ACCOUNT = re.compile(r"[0-9]{8,30}")
_ACCOUNT_SEPARATORS = re.compile(r"[ \u3000-]")


def bank_account_digits(s: object) -> str:
    """A bank account number as its digits: clerks write 6222 0213 0000 1234 or with hyphens."""
    return _ACCOUNT_SEPARATORS.sub("", s.strip()) if isinstance(s, str) else ""


def is_valid_bank_account(s: object) -> bool:
    """True for 8 to 30 digits once the group separators are taken out. Banks differ in length
    (a corporate account 12 to 25 digits, a card 16 to 19) and publish no common check digit, so
    the shape is what can be checked; a number Excel turned into 6.22E+18 fails it."""
    return bool(_BANK_ACCOUNT.fullmatch(bank_account_digits(s)))


def check_bank_accounts(text: pa.Array) -> np.ndarray:
    """`is_valid_bank_account` of each text, as a NumPy bool array (one row per provider)."""
    return np.fromiter((is_valid_bank_account(v) for v in text.to_pylist()), dtype=bool, count=len(text))


def is_valid_phone(s: object) -> bool:
    """True for a well-formed mainland mobile or landline number."""
    if not isinstance(s, str):
        return False
    return bool(_PHONE.fullmatch(re.sub(_PHONE_SEPARATORS, "", s)))


# vectorised ------------------------------------------------------------------------------------


def _id_text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.upper().fillna("")


def valid_id_numbers(series: pd.Series) -> pd.Series:
    """`is_valid_id_number` over a Series (missing values are False), index preserved."""
    text = _id_text(series)
    shaped = text.str.fullmatch(_ID_SHAPE).fillna(False).astype(bool)
    result = pd.Series(False, index=series.index)
    if shaped.any():
        chars = np.frombuffer("".join(text[shaped]).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        digits = chars[:, :17].astype(np.int64) - ord("0")
        expected = _CHECK_BYTES[(digits @ _WEIGHTS) % 11]
        result[shaped] = chars[:, 17] == expected
    return result


def birth_dates(series: pd.Series, today: date | None = None) -> pd.Series:
    """`birth_date_of` over a Series: datetime64 values, NaT where not a real, plausible date."""
    text = _id_text(series)
    digits = text.str.slice(6, 14).where(text.str.fullmatch(_ID_SHAPE).fillna(False).astype(bool))
    born = pd.to_datetime(digits, format="%Y%m%d", errors="coerce")
    latest = pd.Timestamp(today or date.today())
    return born.where((born >= pd.Timestamp(EARLIEST_BIRTH)) & (born <= latest))


def valid_phones(series: pd.Series) -> pd.Series:
    """`is_valid_phone` over a Series (missing values are False), index preserved."""
    text = series.astype("string").str.replace(_PHONE_SEPARATORS, "", regex=True)
    return text.str.fullmatch(_PHONE.pattern).fillna(False).astype(bool)


# over Arrow text (what validation holds) ---------------------------------------------------------

# For texts of ASCII characters only, the Python patterns above written for Arrow's RE2, whose \s
# and \d are narrower: Python's \s also matches \x0b and \x1c-\x1f.
_ASCII_PHONE_SEPARATORS = r"[\t\n\x0b\x0c\r\x1c-\x1f \-()]"
_ASCII_PHONE = r"^(?:(?:\+?86)?1[3-9][0-9]{9}|0[0-9]{2,3}[0-9]{7,8})$"


def check_id_numbers(text: pa.Array, today: date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each text, whether it is a valid ID number (`is_valid_id_number`) and whether its birth
    date is real and plausible (`birth_date_of` is not None), as NumPy bool arrays.

    The usual text, 17 ASCII digits and a digit or X, is checked on its bytes; any other text
    one at a time with the functions above (such texts are rare and almost always invalid)."""
    n = len(text)
    valid, born = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    plain = (pc.binary_length(text).to_numpy(zero_copy_only=False) == 18)
    if plain.any():
        shaped = text if plain.all() else text.filter(pa.array(plain))
        chars = fixed_width_bytes(shaped, 18)
        digits = chars[:, :17].astype(np.int64) - ord("0")
        last = chars[:, 17]
        plain_rows = ((digits >= 0) & (digits <= 9)).all(axis=1) & (
            ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X")) | (last == ord("x")))
        upper_last = np.where(last == ord("x"), ord("X"), last)
        ok = plain_rows & (upper_last == _CHECK_BYTES[(digits @ _WEIGHTS) % 11])
        number = digits[:, 6:14] @ (10 ** np.arange(7, -1, -1))
        days, real = calendar_days(number // 10000, number // 100 % 100, number % 100)
        latest = np.datetime64(today or date.today(), "D")
        positions = np.flatnonzero(plain)
        valid[positions] = ok
        born[positions] = plain_rows & real & (days >= np.datetime64(EARLIEST_BIRTH, "D")) & (days <= latest)
        plain[positions[~plain_rows]] = False
    for i in np.flatnonzero(~plain):
        value = text[int(i)].as_py()
        valid[i] = is_valid_id_number(value)
        born[i] = birth_date_of(value, today) is not None
    return valid, born


def check_phones(text: pa.Array) -> np.ndarray:
    """`is_valid_phone` of each text, as a NumPy bool array (ASCII texts with Arrow's regular
    expressions, others one at a time)."""
    ascii_text = pc.string_is_ascii(text).to_numpy(zero_copy_only=False)
    stripped = pc.replace_substring_regex(text, _ASCII_PHONE_SEPARATORS, "")
    valid = ascii_text & pc.match_substring_regex(stripped, _ASCII_PHONE).to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~ascii_text):
        valid[i] = is_valid_phone(text[int(i)].as_py())
    return valid


def make_id_numbers(region_codes: np.ndarray, birth_days: np.ndarray, sequences: np.ndarray) -> np.ndarray:
    """Valid ID numbers from 6-digit region codes, datetime64[D] birth dates and 3-digit sequences
    (vectorised; the generator's way to write synthetic people)."""
    first17 = (
        pd.Series(region_codes, dtype="string")
        + pd.Series(pd.to_datetime(birth_days).strftime("%Y%m%d"), dtype="string")
        + pd.Series(sequences).map("{:03d}".format).astype("string")
    )
    return (first17 + check_digits(first17)).to_numpy(dtype=object)


def check_digits(first17: pd.Series) -> pd.Series:
    """`id_check_digit` over a Series of 17-digit strings."""
    chars = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
    sums = (chars.astype(np.int64) - ord("0")) @ _WEIGHTS
    return pd.Series(_CHECK_BYTES[sums % 11].view("S1").astype(str), index=first17.index, dtype="string")
