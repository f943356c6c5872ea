"""Pure rules of 民間送達: sender kinds and codes, pairwise recipient ids, document names.

Also what an employee may hand over to the employer for 年末調整 (the year-end
adjustment): which certificates, of which years, how many at once, and hand-over ids.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from enum import StrEnum
from typing import TypeGuard

from myna.delivery.documents import DocumentKind
from myna.delivery.errors import InvalidSenderError
from myna.platform.errors import N_
from myna.platform.wareki import era_of, era_year

SENDER_PREFIX = "ds-"
_SENDER_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])")
RECIPIENT_BYTES = 24  # 32 URL-safe characters
# Ids Myna makes (deliveries, hand-overs): secrets.token_urlsafe(18), 24 characters.
_MYNA_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_HANDOVER_DOCUMENTS = 20
# The 年分 a certificate or a hand-over can be of (the dates Myna accepts end in 2100).
EARLIEST_TAX_YEAR = 2000
LATEST_TAX_YEAR = 2100


class SenderKind(StrEnum):
    """What sort of organisation delivers (送達元の種別)."""

    LIFE_INSURER = "life-insurer"
    NON_LIFE_INSURER = "non-life-insurer"
    EMPLOYER = "employer"
    MUNICIPALITY = "municipality"  # ふるさと納税の寄附金受領証明書
    PENSION_FUND = "pension-fund"


SENDER_KIND_LABELS: dict[SenderKind, str] = {
    SenderKind.LIFE_INSURER: N_("Life insurer"),
    SenderKind.NON_LIFE_INSURER: N_("Non-life insurer"),
    SenderKind.EMPLOYER: N_("Employer"),
    SenderKind.MUNICIPALITY: N_("Municipality (hometown tax donations)"),
    SenderKind.PENSION_FUND: N_("Pension fund"),
}

DOCUMENT_NAMES: dict[DocumentKind, str] = {
    DocumentKind.LIFE_INSURANCE: "生命保険料控除証明書",
    DocumentKind.EARTHQUAKE_INSURANCE: "地震保険料控除証明書",
    DocumentKind.DONATION: "寄附金受領証明書",
    DocumentKind.NATIONAL_PENSION: "社会保険料（国民年金保険料）控除証明書",
    DocumentKind.SALARY_WITHHOLDING: "給与所得の源泉徴収票",
    DocumentKind.PENSION_WITHHOLDING: "公的年金等の源泉徴収票",
}


# 年末調整 (year-end adjustment): the certificates an employee attaches to the employer's
# 給与所得者の保険料控除申告書 — life and earthquake insurance premiums and the national
# pension contributions paid. 寄附金 (ふるさと納税) is not deducted at 年末調整, and the
# withholding slips are what the employer and the pension fund issue, not inputs to it.
YEAR_END_ADJUSTMENT_KINDS: frozenset[DocumentKind] = frozenset(
    {
        DocumentKind.LIFE_INSURANCE,
        DocumentKind.EARTHQUAKE_INSURANCE,
        DocumentKind.NATIONAL_PENSION,
    }
)


class HandoverStatus(StrEnum):
    """Where a hand-over to the employer stands (年末調整の控除証明書の受け渡し)."""

    READY = "ready"  # the employer may collect it; the employee may still withdraw it
    COLLECTED = "collected"  # the employer has the documents; no longer withdrawable
    WITHDRAWN = "withdrawn"  # the employee took it back before it was collected


HANDOVER_STATUS_LABELS: dict[HandoverStatus, str] = {
    HandoverStatus.READY: N_("Waiting for your employer"),
    HandoverStatus.COLLECTED: N_("Collected by your employer"),
    HandoverStatus.WITHDRAWN: N_("Hand-over withdrawn"),
}


def handover_status(*, withdrawn: bool, collected: bool) -> HandoverStatus:
    """A hand-over's status from its two moments (withdrawal wins: nothing was collected)."""
    if withdrawn:
        return HandoverStatus.WITHDRAWN
    return HandoverStatus.COLLECTED if collected else HandoverStatus.READY


def is_myna_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the shape of an id Myna makes (a delivery's, a hand-over's).

    Anything else — too long, other characters — names nothing, and is answered as an
    unknown id without reaching the database.
    """
    return isinstance(value, str) and _MYNA_ID.fullmatch(value) is not None


def is_tax_year(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a 年分 Myna knows (an int, not a bool, 2000 to 2100)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and EARLIEST_TAX_YEAR <= value <= LATEST_TAX_YEAR
    )


def check_sender(code: str, kind: str) -> tuple[str, SenderKind]:
    """The sender's code and kind as stored, or InvalidSenderError."""
    if not isinstance(code, str) or not _SENDER_CODE.fullmatch(code):
        raise InvalidSenderError
    try:
        return code, SenderKind(kind)
    except ValueError as exc:
        raise InvalidSenderError from exc


def organization_code(sender_code: str) -> str:
    """The organisation code a sender's certificate carries and its documents name."""
    return f"{SENDER_PREFIX}{sender_code}"


def new_recipient_id() -> str:
    """A fresh pairwise recipient id: random, URL-safe, never all digits (so never a MyNumber)."""
    while True:
        candidate = secrets.token_urlsafe(RECIPIENT_BYTES)
        if not candidate.isdigit():
            return candidate


def nenbun(year: int) -> str:
    """``令和7年分``: a tax year named by the era its December falls in."""
    december = date(year, 12, 31)
    number = era_year(december)
    return f"{era_of(december).name}{'元' if number == 1 else number}年分"
