"""The card's pure rules: PIN formats, try counters, the card's own validity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from myna.card.domain import (
    CardLockedError,
    InvalidPinFormatError,
    KeyKind,
    TryCounter,
    WrongPinError,
    card_expiry,
    locked_error,
    validate_secret,
    wrong_secret_error,
)
from myna.platform import i18n


@pytest.mark.parametrize("pin", ["0000", "1234", "9876"])
def test_it_accepts_a_four_digit_pin(pin: str) -> None:
    validate_secret(KeyKind.AUTH, pin)


@pytest.mark.parametrize("pin", ["", "123", "12345", "12a4", "１２３４", "12 4", "١٢٣٤"])
def test_it_rejects_a_pin_that_is_not_four_ascii_digits(pin: str) -> None:
    with pytest.raises(InvalidPinFormatError) as caught:
        validate_secret(KeyKind.AUTH, pin)
    assert caught.value.code == "invalid_pin_format"
    assert "4 digits" in str(caught.value)


@pytest.mark.parametrize("password", ["ABC123", "A1B2C3D4E5F6G7H8", "000000", "ZZZZZZ"])
def test_it_accepts_a_signing_password_of_6_to_16_upper_case_alphanumerics(password: str) -> None:
    validate_secret(KeyKind.SIGN, password)


@pytest.mark.parametrize(
    "password", ["ABC12", "A1B2C3D4E5F6G7H8I", "abc123", "ABC-123", "ABCDÉ1", "ＡＢＣ１２３", ""]
)
def test_it_rejects_a_malformed_signing_password(password: str) -> None:
    with pytest.raises(InvalidPinFormatError) as caught:
        validate_secret(KeyKind.SIGN, password)
    assert "6 to 16" in str(caught.value)


@pytest.mark.parametrize(("kind", "limit"), [(KeyKind.AUTH, 3), (KeyKind.SIGN, 5)])
def test_a_counter_locks_after_its_limit_of_consecutive_failures(kind: KeyKind, limit: int) -> None:
    counter = TryCounter.fresh(kind)
    for tries in range(limit):
        assert not counter.locked
        assert counter.remaining == limit - tries
        counter = counter.failed()
    assert counter.locked
    assert counter.remaining == 0


def test_a_success_resets_the_count_to_zero() -> None:
    counter = TryCounter.fresh(KeyKind.AUTH).failed().failed()
    assert counter.remaining == 1
    assert counter.succeeded() == TryCounter.fresh(KeyKind.AUTH)


def test_a_locked_counter_accepts_neither_success_nor_failure() -> None:
    counter = TryCounter(failures=3, limit=3)
    with pytest.raises(ValueError, match="locked"):
        counter.succeeded()
    with pytest.raises(ValueError, match="locked"):
        counter.failed()


def test_only_a_reset_unlocks_a_counter() -> None:
    assert TryCounter(failures=5, limit=5).reset() == TryCounter(failures=0, limit=5)


@pytest.mark.parametrize(("failures", "limit"), [(-1, 3), (4, 3), (0, 0)])
def test_a_counter_out_of_range_is_refused(failures: int, limit: int) -> None:
    with pytest.raises(ValueError, match="invalid try counter"):
        TryCounter(failures=failures, limit=limit)


def test_the_wrong_pin_error_says_how_many_tries_are_left() -> None:
    error = wrong_secret_error(KeyKind.AUTH, 2)
    assert isinstance(error, WrongPinError)
    assert error.code == "wrong_pin"
    assert error.remaining == 2
    assert str(error) == "The PIN is wrong. 2 tries left before the card locks."


def test_the_wrong_password_error_names_the_signing_password() -> None:
    error = wrong_secret_error(KeyKind.SIGN, 4)
    assert error.code == "wrong_pin"
    assert str(error).startswith("The signing password is wrong. 4 tries")


@pytest.fixture
def locale() -> Iterator[None]:
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.mark.usefixtures("locale")
def test_the_errors_read_in_japanese_by_default() -> None:
    assert i18n.get_locale() == "ja"
    assert "あと2回" in wrong_secret_error(KeyKind.AUTH, 2).localized()
    assert "市区町村" in locked_error(KeyKind.AUTH).localized()
    assert "署名用パスワード" in locked_error(KeyKind.SIGN).localized()
    i18n.set_locale("en")
    assert "municipality's counter" in CardLockedError().localized()


def test_an_adult_card_lasts_until_the_tenth_birthday_after_issue() -> None:
    assert card_expiry(date(1980, 6, 15), date(2026, 11, 28)) == date(2036, 6, 15)


def test_a_minor_card_lasts_until_the_fifth_birthday_after_issue() -> None:
    assert card_expiry(date(2015, 3, 1), date(2026, 11, 28)) == date(2031, 3, 1)


def test_an_issue_on_the_birthday_counts_from_the_next_one() -> None:
    assert card_expiry(date(1980, 11, 28), date(2026, 11, 28)) == date(2036, 11, 28)


def test_a_leap_day_birthday_expires_on_28_february() -> None:
    assert card_expiry(date(1980, 2, 29), date(2027, 11, 28)) == date(2037, 2, 28)
