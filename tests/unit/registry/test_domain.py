"""Check digits, normalisation and the other pure rules of the registry."""

from __future__ import annotations

import random
from datetime import date

import pytest

from myna.registry import (
    InvalidMunicipalityCodeError,
    InvalidMyNumberError,
    MyNumber,
    Sex,
    age_on,
    municipality_check_digit,
    my_number_check_digit,
    validate_municipality_code,
    validate_my_number,
)
from myna.registry.domain import is_katakana, kanji_numeral, street_address, to_katakana


def _check_digit_by_the_letter(first_eleven: str) -> int:
    # The ordinance's formula, written out independently of the implementation.
    p = [int(first_eleven[11 - n]) for n in range(1, 12)]
    q = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]
    r = sum(pn * qn for pn, qn in zip(p, q, strict=True)) % 11
    return 0 if r <= 1 else 11 - r


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("12345678901", 8),  # the widely published sample number 1234 5678 9018
        ("00000000000", 0),
        ("99999999999", 6),
        ("31415926535", 2),
    ],
)
def test_it_computes_the_official_my_number_check_digit(number: str, check: int) -> None:
    assert my_number_check_digit(number) == check


def test_the_check_digit_matches_the_ordinance_formula_for_many_numbers() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        body = f"{rng.randrange(10**11):011d}"
        assert my_number_check_digit(body) == _check_digit_by_the_letter(body)


def test_remainders_zero_and_one_give_check_digit_zero() -> None:
    rng = random.Random(3)
    seen = set()
    while len(seen) < 2:
        body = f"{rng.randrange(10**11):011d}"
        total = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
        if total % 11 in (0, 1):
            seen.add(total % 11)
            assert my_number_check_digit(body) == 0


@pytest.mark.parametrize(
    "typed",
    [
        "123456789018",
        "1234 5678 9018",
        "1234-5678-9018",
        "１２３４５６７８９０１８",
        "1234ー5678ー9018",
    ],
)
def test_it_accepts_a_valid_number_however_it_is_typed(typed: str) -> None:
    assert validate_my_number(typed) == "123456789018"


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "exactly 12 digits"),
        ("12345678901", "exactly 12 digits"),
        ("1234567890189", "exactly 12 digits"),
        ("12345678901a", "only digits"),
        ("1234.5678.9018", "only digits"),
        ("١٢٣٤٥٦٧٨٩٠١٨", "only digits"),  # Arabic-Indic digits are not card digits
        ("123456789017", "check digit"),
        ("123456789019", "check digit"),
    ],
)
def test_it_rejects_a_malformed_my_number_saying_what_to_check(typed: str, fragment: str) -> None:
    with pytest.raises(InvalidMyNumberError) as caught:
        validate_my_number(typed)
    assert caught.value.code == "invalid_my_number"
    assert fragment in str(caught.value)
    if typed:
        assert typed not in str(caught.value)


def test_every_single_digit_typo_of_the_sample_number_is_caught() -> None:
    valid = "123456789018"
    for position in range(12):
        for digit in "0123456789":
            if digit == valid[position]:
                continue
            typo = valid[:position] + digit + valid[position + 1 :]
            with pytest.raises(InvalidMyNumberError):
                validate_my_number(typo)


def test_a_my_number_value_never_shows_its_digits() -> None:
    number = MyNumber("1234 5678 9018")
    assert number.value == "123456789018"
    assert "9018" not in repr(number)
    assert "9018" not in f"{number}"


def test_the_check_digit_helper_refuses_input_of_the_wrong_shape() -> None:
    with pytest.raises(InvalidMyNumberError):
        my_number_check_digit("1234567890")


@pytest.mark.parametrize(
    ("first_five", "check"),
    [("13101", 6), ("01100", 2), ("14100", 3), ("27100", 4), ("47201", 8), ("06201", 4)],
)
def test_it_computes_the_local_government_code_check_digit(first_five: str, check: int) -> None:
    assert municipality_check_digit(first_five) == check


def test_it_validates_local_government_codes() -> None:
    assert validate_municipality_code("131016") == "131016"
    assert validate_municipality_code("１３１０１６") == "131016"
    for bad in ("131017", "13101", "1310166", "13a016", ""):
        with pytest.raises(InvalidMunicipalityCodeError):
            validate_municipality_code(bad)


def test_iso_5218_codes_are_the_ones_jpki_carries() -> None:
    assert (Sex.MALE, Sex.FEMALE, Sex.NOT_KNOWN, Sex.NOT_APPLICABLE) == (1, 2, 0, 9)


def test_age_counts_whole_years_up_to_the_birthday() -> None:
    assert age_on(date(1985, 4, 12), date(2026, 4, 11)) == 40
    assert age_on(date(1985, 4, 12), date(2026, 4, 12)) == 41


def test_kana_helpers_normalise_the_official_list_spelling() -> None:
    assert to_katakana("ﾁﾖﾀﾞｸ") == "チヨダク"
    assert to_katakana("ちよだく") == "チヨダク"
    assert is_katakana("ヤマダ タロウ")
    assert not is_katakana("山田")
    assert not is_katakana("")


def test_street_addresses_use_kanji_for_chome() -> None:
    assert kanji_numeral(2) == "二"
    assert kanji_numeral(10) == "十"
    assert kanji_numeral(23) == "二十三"
    assert (
        street_address(ward="中区", town="山下町", chome=2, ban=3, go=4) == "中区山下町二丁目3番4号"
    )
