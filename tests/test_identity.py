from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from scoring.inputs.identity import (
    birth_date_of,
    check_credit_codes,
    credit_check_char,
    is_valid_credit_code,
    org_code_check_char,
    birth_dates,
    check_id_numbers,
    check_phones,
    id_check_digit,
    is_valid_id_number,
    is_valid_phone,
    make_id_numbers,
    valid_id_numbers,
    valid_phones,
)

KNOWN_VALID = "11010519491231002X"  # the standard's own example


def test_check_digit_worked_by_hand():
    # 1×7 + 1×9 + 0×10 + 1×5 + 0×8 + 5×4 + 1×2 + 9×1 + 4×6 + 9×3 + 1×7 + 2×9 + 3×10 + 1×5
    # + 0×8 + 0×4 + 2×2 = 167; 167 mod 11 = 2; "10X98765432"[2] = "X"
    assert id_check_digit(KNOWN_VALID[:17]) == "X"
    # 3×7 + 6×9 + 0×10 + 8×5 + 2×8 + 3×4 + 1×2 + 9×1 + 5×6 + 0×3 + 0×7 + 1×9 + 0×10 + 1×5
    # + 0×8 + 0×4 + 1×2 = 200; 200 mod 11 = 2; "X"
    assert id_check_digit("36082319500101001") == "X"


def test_check_digit_needs_17_digits():
    with pytest.raises(ValueError):
        id_check_digit("1234")


@pytest.mark.parametrize("text, valid", [
    (KNOWN_VALID, True),
    (KNOWN_VALID.lower(), True),  # Excel users type a lowercase x
    (" " + KNOWN_VALID + " ", True),
    ("110105194912310021", False),  # wrong check digit
    ("11010519491231002", False),  # 17 characters
    ("1101051949123100XX", False),
    ("", False),
    (None, False),
    (float("nan"), False),
])
def test_is_valid_id_number(text, valid):
    assert is_valid_id_number(text) is valid


def test_birth_date_of():
    assert birth_date_of(KNOWN_VALID) == date(1949, 12, 31)
    impossible = "36082319991332001"
    assert birth_date_of(impossible + id_check_digit(impossible)) is None
    assert is_valid_id_number(impossible + id_check_digit(impossible))  # only the date is wrong
    future = "36082330000101001"
    assert birth_date_of(future + id_check_digit(future), today=date(2026, 1, 1)) is None
    assert birth_date_of("not an id") is None


@pytest.mark.parametrize("text, valid", [
    ("13812345678", True), ("19912345678", True), ("+8613812345678", True),
    ("138 1234 5678", True), ("0796-1234567", True),
    ("12812345678", False), ("1381234567", False), ("138123456789", False),
    ("abc", False), ("", False), (None, False),
])
def test_is_valid_phone(text, valid):
    assert is_valid_phone(text) is valid


def test_vectorised_versions_agree_with_scalar_ones():
    ids = pd.Series([KNOWN_VALID, "110105194912310021", None, "x", KNOWN_VALID.lower()], index=[5, 6, 7, 8, 9])
    assert valid_id_numbers(ids).tolist() == [is_valid_id_number(s) for s in ids]
    assert valid_id_numbers(ids).index.tolist() == [5, 6, 7, 8, 9]
    phones = pd.Series(["13812345678", "12812345678", None, "0796-1234567"])
    assert valid_phones(phones).tolist() == [is_valid_phone(s) for s in phones]
    born = birth_dates(ids, today=date(2026, 1, 1))
    assert born.iloc[0] == pd.Timestamp("1949-12-31") and born.isna().tolist() == [False, False, True, True, False]


def test_arrow_versions_agree_with_scalar_ones():
    texts = [KNOWN_VALID, KNOWN_VALID.lower(), "110105194912310021", "110105194913310021", "x", "",
             " " + KNOWN_VALID, "11010519491231００2X", "110105180001010011", "110105209901010011",
             "13812345678", "138 1234 5678", "+8613812345678", "0796-1234567", "(0796)1234567",
             "0796\x1c1234567", "0796\u30001234567", "0796（1234567）", "12812345678", "079612345"]
    today = date(2026, 1, 1)
    valid, born = check_id_numbers(pa.array(texts), today=today)
    assert valid.tolist() == [is_valid_id_number(t) for t in texts]
    assert born.tolist() == [birth_date_of(t, today) is not None for t in texts]
    assert check_phones(pa.array(texts)).tolist() == [is_valid_phone(t) for t in texts]


def test_make_id_numbers_are_valid():
    ids = make_id_numbers(
        np.array(["110105", "360823"]),
        np.array(["1949-12-31", "2015-02-28"], dtype="datetime64[D]"),
        np.array([2, 17]),
    )
    assert ids.tolist()[0] == KNOWN_VALID
    assert ids[1].startswith("36082320150228017") and is_valid_id_number(ids[1])


# 统一社会信用代码 (GB 32100-2015) ---------------------------------------------------------------

# Published codes of real organizations (on their business licences) and the standard's example.
REAL_CREDIT_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_real_credit_codes_pass_and_every_other_last_character_fails(code):
    assert is_valid_credit_code(code) and is_valid_credit_code(code.lower())
    assert credit_check_char(code[:17]) == code[17]
    others = [c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != code[17]]
    assert not any(is_valid_credit_code(code[:17] + c) for c in others)


def test_credit_code_check_character_worked_by_hand():
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4, weights 3^i mod 31:
    # 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640;
    # 1640 mod 31 = 28, 31 - 28 = 3
    assert credit_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("bad", ["", "91350100M000100Y4", "91350100M000100Y433", "91350100O000100Y43",
                                 "9135010 M000100Y43", None, 91350100])
def test_malformed_credit_codes_fail(bad):
    assert not is_valid_credit_code(bad)


def test_check_credit_codes_over_arrow_text():
    text = pa.array([REAL_CREDIT_CODES[0], "x", "", REAL_CREDIT_CODES[1].lower()])
    assert check_credit_codes(text).tolist() == [True, False, False, True]


def test_organization_code_check_character():
    # GB 11714 example: the organization code 80210043-3 inside 91110000802100433B
    assert org_code_check_char("80210043") == "3"
