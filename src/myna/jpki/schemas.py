"""Pydantic shapes of the JPKI JSON routes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from myna.jpki.domain import BasicInfo, CertificateKind
from myna.jpki.latest_domain import LatestOutcome, LatestStatus
from myna.jpki.verifier_domain import ItemStatus, SerialProblem, UsageKind, VerifierKind

if TYPE_CHECKING:
    from myna.jpki.latest_info import ConsentRead, LatestAnswer, LatestItem, LatestNews
    from myna.jpki.verifiers import Statement, StatementLine, StatusAnswer


class AuthorityRead(BaseModel):
    """One CA in the public index."""

    kind: str
    subject: str
    not_before: datetime
    not_after: datetime
    sha256_fingerprint: str
    certificate_url: str
    crl_url: str


class AuthorityIndex(BaseModel):
    """Where a relying party finds the CA certificates, CRLs and the OCSP responder."""

    authorities: list[AuthorityRead]
    ocsp_url: str


class JpkiErrorRead(BaseModel):
    """A JPKI repository error: a stable code and a message in the reader's language."""

    code: str
    message: str


# --- the verifier API (docs/api/verifiers.md) ------------------------------------


class SerialStatusRead(BaseModel):
    """The answer about one serial number of a batch, in the order asked."""

    index: int = Field(description="The item's position in the request's `serials`, from 0")
    serial: str | None = Field(
        description="The serial as sent (hex), or null when it was not a string of at most "
        "64 characters"
    )
    status: ItemStatus
    not_after: datetime | None = Field(
        default=None, description="The certificate's notAfter (good and revoked only)"
    )
    reason: str | None = Field(
        default=None,
        description="Why it was revoked: loss, death, card_replacement or basic_info_change",
    )
    crl_reason: str | None = Field(
        default=None,
        description="The RFC 5280 §5.3.1 CRLReason of the CRL entry, e.g. keyCompromise",
    )
    revoked_at: datetime | None = Field(
        default=None, description="The CRL entry's revocationDate (RFC 5280 §5.1.2.6)"
    )
    invalidity_date: datetime | None = Field(
        default=None, description="When the reason arose (RFC 5280 §5.3.2 invalidityDate)"
    )
    problem: SerialProblem | None = Field(
        default=None, description="Why an `invalid` item could not be answered"
    )


class StatusRead(BaseModel):
    """A batch answered, consistent with one CRL of the CA of the kind asked."""

    verifier: str
    certificate_kind: Literal["sign", "auth"]
    crl_number: int = Field(description="The CRL (RFC 5280 §5.2.3) every status agrees with")
    crl_this_update: datetime = Field(description="That CRL's thisUpdate")
    crl_next_update: datetime = Field(description="That CRL's nextUpdate")
    answered_at: datetime
    items: list[SerialStatusRead]
    billed_items: int = Field(description="How many statuses were billed (good and revoked)")
    unit_price_yen: int
    amount_yen: int

    @classmethod
    def of(cls, answer: StatusAnswer) -> StatusRead:
        """The JSON shape of an answer."""
        return cls(
            verifier=answer.verifier,
            certificate_kind="sign" if answer.certificate_kind is CertificateKind.SIGN else "auth",
            crl_number=answer.crl_number,
            crl_this_update=answer.crl_this_update,
            crl_next_update=answer.crl_next_update,
            answered_at=answer.answered_at,
            # Made from the service's typed answer: a hundred items need no validating.
            items=[
                SerialStatusRead.model_construct(
                    index=item.index,
                    serial=item.serial,
                    status=item.status,
                    not_after=item.not_after,
                    reason=item.reason.value if item.reason else None,
                    crl_reason=item.reason.crl_reason.value if item.reason else None,
                    revoked_at=item.revoked_at,
                    invalidity_date=item.invalidity_date,
                    problem=item.problem,
                )
                for item in answer.items
            ],
            billed_items=answer.billed_items,
            unit_price_yen=answer.unit_price_yen,
            amount_yen=answer.amount_yen,
        )


class StatementLineRead(BaseModel):
    """One line of a statement."""

    item: UsageKind
    label: str
    unit_price_yen: int
    requests: int
    count: int
    amount_yen: int

    @classmethod
    def of(cls, line: StatementLine) -> StatementLineRead:
        """The JSON shape of a line."""
        return cls(
            item=line.item,
            label=line.label,
            unit_price_yen=line.unit_price_yen,
            requests=line.requests,
            count=line.count,
            amount_yen=line.amount_yen,
        )


class ProviderUsageRead(BaseModel):
    """A service provider's usage on its platform operator's statement."""

    code: str
    name: str
    lines: list[StatementLineRead]
    amount_yen: int


class StatementRead(BaseModel):
    """A verifier's monthly statement (請求明細), in yen."""

    verifier: str
    name: str
    kind: VerifierKind
    month: str = Field(description="The month in Japan, YYYY-MM")
    billed_to: str = Field(
        description="Who pays: the verifier, or the platform operator it works under"
    )
    currency: Literal["JPY"] = "JPY"
    lines: list[StatementLineRead]
    amount_yen: int = Field(description="The verifier's own usage")
    service_providers: list[ProviderUsageRead] = Field(
        description="A platform operator's service providers, each with its usage"
    )
    total_yen: int = Field(description="The verifier's own usage and its service providers'")
    final: bool = Field(description="Whether the month is over")
    issued_at: datetime

    @classmethod
    def of(cls, statement: Statement) -> StatementRead:
        """The JSON shape of a statement (the API's and ``myna jpki statement --json``'s)."""
        return cls(
            verifier=statement.verifier,
            name=statement.name,
            kind=statement.kind,
            month=str(statement.month),
            billed_to=statement.billed_to,
            lines=[StatementLineRead.of(line) for line in statement.lines],
            amount_yen=statement.amount_yen,
            service_providers=[
                ProviderUsageRead(
                    code=provider.code,
                    name=provider.name,
                    lines=[StatementLineRead.of(line) for line in provider.lines],
                    amount_yen=provider.amount_yen,
                )
                for provider in statement.service_providers
            ],
            total_yen=statement.total_yen,
            final=statement.final,
            issued_at=statement.issued_at,
        )


# --- 最新4情報提供 (docs/api/verifiers.md) ------------------------------------------


class ConsentRegisteredRead(BaseModel):
    """A holder's consent, registered: the 4 info may go to this verifier until withdrawn."""

    id: int = Field(description="J-LIS's id of the consent")
    verifier: str
    consent_id: str = Field(description="The verifier's consent-id, as in the statement")
    purpose: str
    certificate_serial: str = Field(
        description="The signing certificate that signed the statement (hex)"
    )
    consented_at: datetime = Field(description="The statement's issued-at")
    registered_at: datetime

    @classmethod
    def of(cls, consent: ConsentRead) -> ConsentRegisteredRead:
        """The JSON shape of a registered consent."""
        return cls(
            id=consent.id,
            verifier=consent.verifier,
            consent_id=consent.consent_id,
            purpose=consent.purpose,
            certificate_serial=consent.certificate_serial,
            consented_at=consent.consented_at,
            registered_at=consent.registered_at,
        )


class BasicInfoRead(BaseModel):
    """The basic 4 info (基本4情報) as the newest signing certificate carries them."""

    name: str
    name_substitute: str = Field(description="The name in substitute characters (代替文字)")
    sex: int = Field(description="1 male, 2 female, 3 unknown (J-LIS code)")
    birth_date: str = Field(description="ISO 8601 date")
    address: str

    @classmethod
    def of(cls, info: BasicInfo) -> BasicInfoRead:
        """The JSON shape of the 4 info."""
        return cls(
            name=info.name,
            name_substitute=info.name_substitute,
            sex=info.sex,
            birth_date=info.birth_date.isoformat(),
            address=info.address,
        )


class LatestNewsRead(BaseModel):
    """For a certificate revoked for a change of the 4 info, with the holder's consent."""

    outcome: LatestOutcome = Field(
        description="provided: the newest certificate's 4 info and serial follow; "
        "not_reissued: the 4 info changed and no new certificate was issued yet"
    )
    certificate_serial: str | None = Field(
        default=None, description="The newest re-issued signing certificate (hex)"
    )
    certificate_status: LatestStatus | None = Field(
        default=None, description="Its standing now: valid, expired or revoked"
    )
    not_before: datetime | None = None
    not_after: datetime | None = None
    basic_info: BasicInfoRead | None = None

    @classmethod
    def of(cls, news: LatestNews) -> LatestNewsRead:
        """The JSON shape of the news."""
        return cls(
            outcome=news.outcome,
            certificate_serial=news.certificate_serial,
            certificate_status=news.status,
            not_before=news.not_before,
            not_after=news.not_after,
            basic_info=BasicInfoRead.of(news.basic_info) if news.basic_info else None,
        )


class LatestItemRead(BaseModel):
    """The answer about one serial number of a batch, in the order asked."""

    index: int = Field(description="The item's position in the request's `serials`, from 0")
    serial: str | None = Field(description="The serial as sent, or null (see the status API)")
    status: LatestStatus
    not_after: datetime | None = None
    reason: str | None = Field(
        default=None,
        description="Why it was revoked: loss, death, card_replacement or basic_info_change",
    )
    revoked_at: datetime | None = None
    problem: SerialProblem | None = Field(
        default=None, description="Why an `invalid` item could not be answered"
    )
    latest: LatestNewsRead | None = Field(
        default=None,
        description="Only for basic_info_change with the holder's live consent for this "
        "verifier; absent otherwise",
    )

    @classmethod
    def of(cls, item: LatestItem) -> LatestItemRead:
        """The JSON shape of an item."""
        return cls(
            index=item.index,
            serial=item.serial,
            status=item.status,
            not_after=item.not_after,
            reason=item.reason.value if item.reason else None,
            revoked_at=item.revoked_at,
            problem=item.problem,
            latest=LatestNewsRead.of(item.latest) if item.latest else None,
        )


class LatestInfoRead(BaseModel):
    """A batch answered by the latest basic 4 info service, and its fees."""

    verifier: str
    answered_at: datetime
    items: list[LatestItemRead]
    status_items: int = Field(description="Statuses billed (valid, expired and revoked)")
    status_unit_price_yen: int
    provided_items: int = Field(description="Provisions of 4 info billed")
    provision_unit_price_yen: int
    amount_yen: int

    @classmethod
    def of(cls, answer: LatestAnswer) -> LatestInfoRead:
        """The JSON shape of an answer."""
        return cls(
            verifier=answer.verifier,
            answered_at=answer.answered_at,
            items=[LatestItemRead.of(item) for item in answer.items],
            status_items=answer.status_items,
            status_unit_price_yen=answer.status_unit_price_yen,
            provided_items=answer.provided_items,
            provision_unit_price_yen=answer.provision_unit_price_yen,
            amount_yen=answer.amount_yen,
        )
