"""Pure rules of the resident registry (住民基本台帳): numbers, codes, people.

Nothing here touches a database, a file or the network. The two check-digit rules are
the official ones:

* 個人番号 (MyNumber): 行政手続における特定の個人を識別するための番号の利用等に関する
  法律施行令第8条 and 総務省令第85号 (2014) 第5条, "検査用数字を算出する算式".
* 全国地方公共団体コード (local government code): 総務省「全国地方公共団体コード」
  (昭和43年 自治省行政局長通知), modulus-11 check digit with weights 6..2.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from myna.platform import i18n
from myna.platform.errors import N_, MynaError
from myna.reference.domain import (
    InvalidMunicipalityCodeError,
    is_ascii_digits,
    normalise_digits,
    validate_municipality_code,
)

MY_NUMBER_LENGTH = 12

_KANJI_NUMERALS = "〇一二三四五六七八九"


class InvalidMyNumberError(MynaError, code="invalid_my_number"):
    """A MyNumber (個人番号) that cannot be right: wrong length, characters or check digit."""

    message = N_(
        "This MyNumber is not valid. Check the 12-digit number printed on the back of "
        "the MyNumber card and enter it again."
    )


class MunicipalityFileError(MynaError, code="invalid_municipality_file"):
    """A row of a municipality list that cannot be loaded (nothing is written)."""

    message = N_(
        "Line {line} of the municipality list cannot be loaded: {reason} "
        "Nothing was saved; correct the line and load the file again."
    )

    def localized(self) -> str:
        """The message with its ``reason`` (itself a message id) translated too."""
        reason = i18n.gettext(str(self.params.get("reason", "")))
        return i18n.gettext(self.message).format(**{**self.params, "reason": reason})


class ResidentStatus(StrEnum):
    """Where a resident's record stands: 住民 (active), 死亡 or 転出."""

    ACTIVE = "active"
    DECEASED = "deceased"
    MOVED_OUT = "moved_out"


class AddressChangeReason(StrEnum):
    """Why an address record starts (住民票の異動事由)."""

    BIRTH = "出生"
    MOVE_IN = "転入"
    MOVE_WITHIN = "転居"
    EX_OFFICIO = "職権記載"


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit (検査用数字) of a MyNumber from its first 11 digits.

    総務省令第85号 第5条: with P_n the n-th digit counted from the right of the first
    eleven (n = 1..11) and Q_n = n + 1 for n <= 6, n - 5 for n >= 7, let
    r = sum(P_n * Q_n) mod 11; the check digit is 0 when r <= 1, otherwise 11 - r.
    """
    if len(first_eleven) != MY_NUMBER_LENGTH - 1 or not is_ascii_digits(first_eleven):
        raise InvalidMyNumberError
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        total += int(digit) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def validate_my_number(value: str) -> str:
    """The 12 ASCII digits of ``value`` if it is a well-formed MyNumber (個人番号).

    Spaces and hyphens are ignored and full-width digits accepted, as people copy the
    number from the card in many ways. The messages never repeat the number.
    """
    digits = normalise_digits(value)
    if digits and not is_ascii_digits(digits):
        raise InvalidMyNumberError(
            N_(
                "A MyNumber contains only digits (spaces and hyphens are ignored). "
                "Check the number and enter it again."
            )
        )
    if len(digits) != MY_NUMBER_LENGTH:
        raise InvalidMyNumberError(
            N_(
                "A MyNumber has exactly 12 digits, but {length} were entered. Check the "
                "number printed on the back of the MyNumber card."
            ),
            length=len(digits),
        )
    if my_number_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidMyNumberError(
            N_(
                "The last digit of this MyNumber (the check digit) does not match the "
                "other eleven. Check each digit for a typing mistake."
            )
        )
    return digits


def make_my_number(first_eleven: str) -> str:
    """A complete MyNumber: ``first_eleven`` followed by its check digit."""
    return f"{first_eleven}{my_number_check_digit(first_eleven)}"


@dataclass(frozen=True, slots=True)
class MyNumber:
    """A validated MyNumber whose ``repr`` never shows the digits (logs, tracebacks)."""

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", validate_my_number(self.value))

    def __repr__(self) -> str:
        return "MyNumber('************')"

    __str__ = __repr__


def is_katakana(text: str) -> bool:
    """Whether ``text`` is full-width katakana (spaces and the long-vowel mark allowed)."""
    return bool(text) and all("\u30a1" <= ch <= "\u30fa" or ch in "ー・ \u3000" for ch in text)


def to_katakana(text: str) -> str:
    """Half-width katakana (as in the 総務省 list) turned full-width; hiragana to katakana."""
    text = unicodedata.normalize("NFKC", text).strip()
    return "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in text)


def kanji_numeral(number: int) -> str:
    """1..99 in kanji as used in 丁目 (一, 十, 十一, 二十三 ...)."""
    if not 1 <= number <= 99:
        msg = "丁目 numbers run from 1 to 99"
        raise ValueError(msg)
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{_KANJI_NUMERALS[tens]}十")
    return head + (_KANJI_NUMERALS[ones] if ones else "")


def street_address(*, ward: str, town: str, chome: int, ban: int, go: int) -> str:
    """A street address below the municipality, e.g. ``中区山下町二丁目3番4号``."""
    return f"{ward}{town}{kanji_numeral(chome)}丁目{ban}番{go}号"


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` (年齢計算ニ関スル法律: a year ends the day before)."""
    years = day.year - birth_date.year
    return years - 1 if (day.month, day.day) < (birth_date.month, birth_date.day) else years


def age_band(age: int, band_starts: Sequence[int]) -> int:
    """The start of the band ``age`` falls in: the greatest of ``band_starts`` not above it.

    ``band_starts`` is ascending and begins at 0 (e.g. 0, 10, 20 … 80 for 80 and over).
    """
    if not band_starts or band_starts[0] != 0 or list(band_starts) != sorted(set(band_starts)):
        msg = "age bands must start at 0 and ascend"
        raise ValueError(msg)
    return band_starts[bisect_right(band_starts, age) - 1]


@dataclass(frozen=True, slots=True)
class MunicipalityRow:
    """One municipality as listed by 総務省 (kana made full-width katakana)."""

    code: str
    prefecture_name: str
    name: str
    prefecture_name_kana: str
    name_kana: str

    @property
    def prefecture_code(self) -> str:
        """The first two digits: the prefecture (都道府県コード)."""
        return self.code[:2]


_ENCODINGS = ("utf-8-sig", "cp932")
_HEADER_MARK = "団体コード"


def _decode(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MunicipalityFileError(
        line=1, reason=N_("the file is neither UTF-8 nor Shift_JIS (CP932) text.")
    )


def parse_municipality_csv(data: bytes) -> list[MunicipalityRow]:
    """Parse a 総務省 全国地方公共団体コード list exported as CSV (UTF-8 or Shift_JIS).

    Columns: 団体コード, 都道府県名（漢字）, 市区町村名（漢字）, 都道府県名（カナ）,
    市区町村名（カナ）; further columns are ignored. A first line naming 団体コード is a
    header. Prefecture rows (no 市区町村名) are skipped. Any bad row raises
    :class:`MunicipalityFileError` naming its line, so a caller writes all or nothing.
    """
    rows: list[MunicipalityRow] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    for line, fields in enumerate(reader, start=1):
        cells = [cell.strip() for cell in fields]
        if not any(cells):
            continue
        if line == 1 and _HEADER_MARK in cells[0]:
            continue
        if len(cells) < 5:
            raise MunicipalityFileError(
                line=line, reason=N_("it has fewer than the 5 expected columns.")
            )
        try:
            code = validate_municipality_code(cells[0])
        except InvalidMunicipalityCodeError:
            raise MunicipalityFileError(
                line=line, reason=N_("the local government code fails its check digit.")
            ) from None
        prefecture, name, prefecture_kana, name_kana = cells[1:5]
        if not name:
            continue  # a prefecture's own row (e.g. 130001 東京都)
        prefecture_kana, name_kana = to_katakana(prefecture_kana), to_katakana(name_kana)
        if not prefecture or not is_katakana(prefecture_kana) or not is_katakana(name_kana):
            raise MunicipalityFileError(
                line=line, reason=N_("a name is empty or a kana column is not katakana.")
            )
        if code in seen:
            raise MunicipalityFileError(line=line, reason=N_("the code appears twice."))
        seen.add(code)
        rows.append(MunicipalityRow(code, prefecture, name, prefecture_kana, name_kana))
    return rows
