"""Pure rules of 民間送達: sender kinds and codes, pairwise recipient ids, document names."""

from __future__ import annotations

import re
import secrets
from datetime import date
from enum import StrEnum

from myna.delivery.documents import DocumentKind
from myna.delivery.errors import InvalidSenderError
from myna.platform.errors import N_
from myna.platform.wareki import era_of, era_year

SENDER_PREFIX = "ds-"
_SENDER_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])")
RECIPIENT_BYTES = 24  # 32 URL-safe characters


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
