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
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

from myna.platform import i18n
from myna.platform.errors import N_, MynaError

MY_NUMBER_LENGTH = 12
MUNICIPALITY_CODE_LENGTH = 6

# Separators people type inside a number: ASCII and full-width spaces and hyphens, the
# minus sign and the katakana prolonged sound mark that IMEs often put in place of "-".
_NUMBER_SEPARATORS = dict.fromkeys(map(ord, " \t\u3000-‐‑‒–—―−ーｰ－"), None)

_KANJI_NUMERALS = "〇一二三四五六七八九"


class InvalidMyNumberError(MynaError):
    """A MyNumber (個人番号) that cannot be right: wrong length, characters or check digit."""

    code = "invalid_my_number"
    message = N_(
        "This MyNumber is not valid. Check the 12-digit number printed on the back of "
        "the MyNumber card and enter it again."
    )


class InvalidMunicipalityCodeError(MynaError):
    """A local government code (全国地方公共団体コード) that fails its format or check digit."""

    code = "invalid_municipality_code"
    message = N_(
        'The local government code "{code}" is not valid: it must be 6 digits whose last '
        "digit is the check digit. Check the code against the official list."
    )


class MunicipalityFileError(MynaError):
    """A row of a municipality list that cannot be loaded (nothing is written)."""

    code = "invalid_municipality_file"
    message = N_(
        "Line {line} of the municipality list cannot be loaded: {reason} "
        "Nothing was saved; correct the line and load the file again."
    )

    def localized(self) -> str:
        """The message with its ``reason`` (itself a message id) translated too."""
        reason = i18n.gettext(str(self.params.get("reason", "")))
        return i18n.gettext(self.message).format(**{**self.params, "reason": reason})


class Sex(IntEnum):
    """Sex (性別) coded as in ISO/IEC 5218, which JPKI's signing certificate also uses.

    1 and 2 are the values carried in the 基本4情報 of the 署名用電子証明書. No
    published JPKI profile documents a value for "unknown", so ISO 5218's 0 ("not
    known") and 9 ("not applicable") are kept for records that lack the fact.
    """

    NOT_KNOWN = 0
    MALE = 1
    FEMALE = 2
    NOT_APPLICABLE = 9


class Relation(StrEnum):
    """Relation to the head of household (世帯主との続柄) as written on a 住民票."""

    HEAD = "世帯主"
    WIFE = "妻"
    HUSBAND = "夫"
    CHILD = "子"
    CHILDS_WIFE = "子の妻"
    CHILDS_HUSBAND = "子の夫"
    FATHER = "父"
    MOTHER = "母"
    WIFES_FATHER = "妻の父"
    WIFES_MOTHER = "妻の母"
    HUSBANDS_FATHER = "夫の父"
    HUSBANDS_MOTHER = "夫の母"
    GRANDCHILD = "孫"
    GRANDFATHER = "祖父"
    GRANDMOTHER = "祖母"
    ELDER_BROTHER = "兄"
    ELDER_SISTER = "姉"
    YOUNGER_BROTHER = "弟"
    YOUNGER_SISTER = "妹"
    COHABITANT = "同居人"


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


def normalise_digits(value: str) -> str:
    """``value`` with full-width digits made ASCII (NFKC) and spaces and hyphens removed."""
    return unicodedata.normalize("NFKC", value).translate(_NUMBER_SEPARATORS)


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit (検査用数字) of a MyNumber from its first 11 digits.

    総務省令第85号 第5条: with P_n the n-th digit counted from the right of the first
    eleven (n = 1..11) and Q_n = n + 1 for n <= 6, n - 5 for n >= 7, let
    r = sum(P_n * Q_n) mod 11; the check digit is 0 when r <= 1, otherwise 11 - r.
    """
    if len(first_eleven) != MY_NUMBER_LENGTH - 1 or not _is_ascii_digits(first_eleven):
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
    if digits and not _is_ascii_digits(digits):
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


def municipality_check_digit(first_five: str) -> int:
    """The check digit of a 全国地方公共団体コード from its first five digits.

    Weights 6, 5, 4, 3, 2 from the left; the check digit is (11 - sum mod 11) mod 10
    (so remainder 0 gives 1 and remainder 1 gives 0).
    """
    if len(first_five) != MUNICIPALITY_CODE_LENGTH - 1 or not _is_ascii_digits(first_five):
        raise InvalidMunicipalityCodeError(code=first_five)
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def validate_municipality_code(value: str) -> str:
    """The 6-digit local government code in ``value``, check digit verified."""
    code = normalise_digits(value)
    if (
        len(code) != MUNICIPALITY_CODE_LENGTH
        or not _is_ascii_digits(code)
        or municipality_check_digit(code[:-1]) != int(code[-1])
    ):
        raise InvalidMunicipalityCodeError(code=value)
    return code


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
