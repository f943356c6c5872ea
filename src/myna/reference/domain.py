"""Pure rules of the reference data: the municipality code and the register's code lists.

The check digit of a 全国地方公共団体コード is the official rule: 総務省「全国地方公共団体
コード」(昭和43年 自治省行政局長通知), modulus 11 with weights 6..2. 性別 is coded as in
ISO/IEC 5218; 続柄 as written on a 住民票.
"""

from __future__ import annotations

import unicodedata
from enum import IntEnum, StrEnum

from myna.platform.errors import N_, MynaError

__all__ = [
    "MUNICIPALITY_CODE_LENGTH",
    "POSTAL_CODE_LENGTH",
    "InvalidMunicipalityCodeError",
    "InvalidPostalCodeError",
    "Relation",
    "Sex",
    "is_ascii_digits",
    "municipality_check_digit",
    "municipality_code_from_jis",
    "normalise_digits",
    "normalise_postal_code",
    "validate_municipality_code",
]

MUNICIPALITY_CODE_LENGTH = 6
POSTAL_CODE_LENGTH = 7

# Separators people type inside a number: ASCII and full-width spaces and hyphens, the
# minus sign and the katakana prolonged sound mark that IMEs often put in place of "-".
_NUMBER_SEPARATORS = dict.fromkeys(map(ord, " \t\u3000-‐‑‒–—―−ーｰ－"), None)


class InvalidMunicipalityCodeError(MynaError, code="invalid_municipality_code"):
    """A local government code (全国地方公共団体コード) that fails its format or check digit."""

    message = N_(
        'The local government code "{code}" is not valid: it must be 6 digits whose last '
        "digit is the check digit. Check the code against the official list."
    )


class InvalidPostalCodeError(MynaError, code="invalid_postal_code", status_code=422):
    """A postal code (郵便番号) that is not 7 digits."""

    message = N_("Enter the postal code as 7 digits, for example 530-0001 (a hyphen is optional).")


def normalise_digits(value: str) -> str:
    """``value`` with full-width digits made ASCII (NFKC) and spaces and hyphens removed."""
    return unicodedata.normalize("NFKC", value).translate(_NUMBER_SEPARATORS)


def is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def municipality_check_digit(first_five: str) -> int:
    """The check digit of a 全国地方公共団体コード from its first five digits.

    Weights 6, 5, 4, 3, 2 from the left; the check digit is (11 - sum mod 11) mod 10
    (so remainder 0 gives 1 and remainder 1 gives 0).
    """
    if len(first_five) != MUNICIPALITY_CODE_LENGTH - 1 or not is_ascii_digits(first_five):
        raise InvalidMunicipalityCodeError(code=first_five)
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def validate_municipality_code(value: str) -> str:
    """The 6-digit local government code in ``value``, check digit verified."""
    code = normalise_digits(value)
    if (
        len(code) != MUNICIPALITY_CODE_LENGTH
        or not is_ascii_digits(code)
        or municipality_check_digit(code[:-1]) != int(code[-1])
    ):
        raise InvalidMunicipalityCodeError(code=value)
    return code


def municipality_code_from_jis(first_five: str) -> str:
    """The 6-digit code of a 5-digit JIS X 0402 code (as Japan Post's list gives it)."""
    return f"{first_five}{municipality_check_digit(first_five)}"


def normalise_postal_code(value: str) -> str:
    """The 7 ASCII digits of a typed postal code (〒, spaces, hyphens, full width allowed)."""
    code = normalise_digits(value.replace("〒", ""))
    if len(code) != POSTAL_CODE_LENGTH or not is_ascii_digits(code):
        raise InvalidPostalCodeError
    return code


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
