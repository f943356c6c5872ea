"""Pure rules of health insurance for オンライン資格確認 (online eligibility confirmation).

Number formats and their check digits, as the Ministry of Health, Labour and Welfare sets
them, and the patient's share of costs (一部負担金の割合) by age and income:

* 保険者番号 — 8 digits for employees' insurers (法別番号 2, 都道府県番号 2, 保険者別番号 3,
  検証番号 1) and 6 for 国民健康保険 (no 法別番号). The check digit: from the last digit of
  the rest leftwards, multiply by 2, 1, 2, 1 …; add the digits of each product; the check
  digit is 10 minus the last digit of the sum (0 when that is 0).
* 医療機関コード — 10 digits: 都道府県番号 2, 点数表番号 1, 郡市区番号 2, 医療機関番号 4 and a
  check digit computed the same way over the first nine.
* 被保険者記号・番号・枝番 — 記号 and 番号 as the insurer writes them, 枝番 two digits per
  person (individual insured number, 個人単位被保険者番号).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum

from myna.platform import i18n
from myna.platform.errors import N_, MynaError

LATE_ELDERLY_AGE = 75  # 後期高齢者医療: from the 75th birthday
ELDERLY_AGE = 70  # 高齢受給者: from the month after reaching 70
SCHOOL_AGE = 6  # 未就学: until the first 31 March after reaching 6


_EIGHT_OR_SIX = N_("it has 8 digits (6 for 国民健康保険).")
_TEN = N_("it has 10 digits.")
_CHECK_DIGIT = N_("the last digit (the check digit) does not match; check the number again.")
_PREFECTURE = N_("the prefecture number must be 01 to 47.")
_TABLE = N_("the third digit must be 1 (medical), 3 (dental), 4 (pharmacy) or 6 (nursing).")
_SYMBOL_CHARS = N_("the symbol has characters a card does not print.")
_NUMBER_CHARS = N_("the number is empty, too long or has characters a card does not print.")
_BRANCH = N_("the branch number (枝番) has two digits.")


class InsuranceNumberError(MynaError, code="invalid_insurance_number", status_code=422):
    """A number that is not a well-formed insurer, institution or insured number."""

    message = N_("{kind} is not valid: {reason}")

    def localized(self) -> str:
        """The message and its reason (an English message id too) in the locale in force."""
        reason = i18n.gettext(str(self.params.get("reason", "")))
        return i18n.gettext(self.message).format(kind=self.params.get("kind", ""), reason=reason)


class LawNumber(StrEnum):
    """法別番号: which scheme an employees' insurer runs (the first two digits)."""

    KYOKAI_KENPO = "01"  # 全国健康保険協会（協会けんぽ）
    SEAMEN = "02"  # 船員保険
    SOCIETY = "06"  # 健康保険組合
    NATIONAL_PUBLIC_SERVANTS = "31"  # 国家公務員共済組合
    LOCAL_PUBLIC_SERVANTS = "32"  # 地方公務員等共済組合
    POLICE = "33"  # 警察共済組合
    SCHOOLS = "34"  # 公立学校共済組合・日本私立学校振興・共済事業団
    LATE_ELDERLY = "39"  # 後期高齢者医療広域連合


class ScoreTable(StrEnum):
    """点数表番号: what kind of institution a 医療機関コード names (its third digit)."""

    MEDICAL = "1"  # 医科
    DENTAL = "3"  # 歯科
    PHARMACY = "4"  # 調剤（薬局）
    VISITING_NURSING = "6"  # 訪問看護ステーション


class IncomeBand(StrEnum):
    """The income bands that change the share of the elderly (70 and over)."""

    GENERAL = "general"  # 一般
    CERTAIN = "certain"  # 一定以上所得（後期高齢者の2割）
    WORKING_AGE_LEVEL = "working-age-level"  # 現役並み所得


class CopayPercent(IntEnum):
    """一部負担金の割合, in percent."""

    TEN = 10
    TWENTY = 20
    THIRTY = 30


def check_digit(payload: str) -> int:
    """The MHLW check digit of ``payload`` (weights 2, 1, … from the right, digit sums)."""
    if not payload.isdigit() or not payload.isascii():
        raise ValueError(payload)
    total = 0
    for position, char in enumerate(reversed(payload)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _digits(text: str, lengths: tuple[int, ...], kind: str) -> str:
    if not text.isascii() or not text.isdigit() or len(text) not in lengths:
        reason = _EIGHT_OR_SIX if len(lengths) == 2 else _TEN
        raise InsuranceNumberError(kind=kind, reason=reason)
    if check_digit(text[:-1]) != int(text[-1]):
        raise InsuranceNumberError(kind=kind, reason=_CHECK_DIGIT)
    return text


def _prefecture(code: str, kind: str) -> str:
    if not 1 <= int(code) <= 47:
        raise InsuranceNumberError(kind=kind, reason=_PREFECTURE)
    return code


@dataclass(frozen=True, slots=True)
class InsurerNumber:
    """保険者番号, checked: 8 digits with a 法別番号, or 6 for 国民健康保険."""

    value: str

    @classmethod
    def parse(cls, text: str) -> InsurerNumber:
        """Read a 保険者番号 (InsuranceNumberError if malformed or the check digit is wrong)."""
        kind = "保険者番号"
        value = _digits(text, (6, 8), kind)
        _prefecture(value[-6:-4], kind)
        return cls(value)

    @classmethod
    def build(cls, *, prefecture: str, serial: str, law: LawNumber | None = None) -> InsurerNumber:
        """The number for a prefecture and serial (3 digits), with its check digit."""
        payload = f"{'' if law is None else law.value}{prefecture}{serial}"
        return cls.parse(f"{payload}{check_digit(payload)}")

    @property
    def law(self) -> LawNumber | None:
        """The scheme, or None for 国民健康保険 (6 digits)."""
        return LawNumber(self.value[:2]) if len(self.value) == 8 else None

    @property
    def prefecture(self) -> str:
        """都道府県番号 (01 北海道 … 47 沖縄県)."""
        return self.value[-6:-4]

    @property
    def is_national_health_insurance(self) -> bool:
        """Whether this is a 国民健康保険 insurer (municipal or 国保組合)."""
        return len(self.value) == 6


@dataclass(frozen=True, slots=True)
class InstitutionCode:
    """医療機関コード (10 digits) of a clinic, hospital or pharmacy, checked."""

    value: str

    @classmethod
    def parse(cls, text: str) -> InstitutionCode:
        """Read a 医療機関コード (InsuranceNumberError if malformed or the check digit is wrong)."""
        kind = "医療機関コード"
        value = _digits(text, (10,), kind)
        _prefecture(value[:2], kind)
        if value[2] not in {t.value for t in ScoreTable}:
            raise InsuranceNumberError(kind=kind, reason=_TABLE)
        return cls(value)

    @classmethod
    def build(
        cls, *, prefecture: str, table: ScoreTable, district: str, number: str
    ) -> InstitutionCode:
        """The code for a prefecture, kind, district (2) and number (4), with its check digit."""
        payload = f"{prefecture}{table.value}{district}{number}"
        return cls.parse(f"{payload}{check_digit(payload)}")

    @property
    def table(self) -> ScoreTable:
        """Whether it is a clinic (医科), a dentist, a pharmacy or visiting nursing."""
        return ScoreTable(self.value[2])


_SYMBOL = re.compile(r"[0-9A-Za-z０-９\u3040-\u30ff\u4e00-\u9fff・－-]{1,20}")
_NUMBER = re.compile(r"[0-9A-Za-z０-９-]{1,20}")


@dataclass(frozen=True, slots=True)
class InsuredId:
    """被保険者記号・番号・枝番: a person within an insurer (枝番 two digits per person)."""

    insurer: InsurerNumber
    symbol: str
    number: str
    branch: str

    def __post_init__(self) -> None:
        kind = "被保険者記号・番号・枝番"
        if self.symbol and not _SYMBOL.fullmatch(self.symbol):
            raise InsuranceNumberError(kind=kind, reason=_SYMBOL_CHARS)
        if not _NUMBER.fullmatch(self.number):
            raise InsuranceNumberError(kind=kind, reason=_NUMBER_CHARS)
        if not (len(self.branch) == 2 and self.branch.isascii() and self.branch.isdigit()):
            raise InsuranceNumberError(kind=kind, reason=_BRANCH)

    def display(self) -> str:
        """As printed on a card: 記号 ・ 番号 （枝番）."""
        symbol = f"{self.symbol}・" if self.symbol else ""
        return f"{symbol}{self.number}（{self.branch}）"


def reaches_age(birth: date, age: int) -> date:
    """The day a person reaches ``age`` in law (年齢計算ニ関スル法律): the eve of the birthday."""
    return birthday(birth, age) - timedelta(days=1)


def birthday(birth: date, age: int) -> date:
    """The ``age``-th birthday (29 February falls on 1 March in other years)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return date(birth.year + age, 3, 1)


def copay_percent(birth: date, on: date, income: IncomeBand = IncomeBand.GENERAL) -> CopayPercent:
    """一部負担金の割合 on ``on`` for a person born on ``birth`` with ``income``.

    * until the first 31 March after reaching 6 (未就学): 20 %;
    * from the 75th birthday (後期高齢者医療): 10 %, 20 % with a certain income, 30 % at
      working-age income;
    * from the first of the month after the 70th birthday (the month itself for a birthday
      on the 1st) to the 75th: 20 %, 30 % at working-age income;
    * otherwise 30 %.
    """
    reached_six = reaches_age(birth, SCHOOL_AGE)
    march = date(reached_six.year, 3, 31)
    preschool_until = march if reached_six <= march else date(reached_six.year + 1, 3, 31)
    if on <= preschool_until:
        return CopayPercent.TWENTY
    if on >= birthday(birth, LATE_ELDERLY_AGE):
        return {
            IncomeBand.GENERAL: CopayPercent.TEN,
            IncomeBand.CERTAIN: CopayPercent.TWENTY,
            IncomeBand.WORKING_AGE_LEVEL: CopayPercent.THIRTY,
        }[income]
    seventy = birthday(birth, ELDERLY_AGE)
    elderly_from = (
        seventy
        if seventy.day == 1
        else date(seventy.year + seventy.month // 12, seventy.month % 12 + 1, 1)
    )
    if on >= elderly_from:
        if income is IncomeBand.WORKING_AGE_LEVEL:
            return CopayPercent.THIRTY
        return CopayPercent.TWENTY
    return CopayPercent.THIRTY


def late_elderly_from(birth: date) -> date:
    """The day 後期高齢者医療 coverage starts: the 75th birthday (資格取得日)."""
    return birthday(birth, LATE_ELDERLY_AGE)
