"""オンライン資格確認: institutions, マイナ保険証 registration, confirmations at the counter.

The service is an agency of the network of its own (``oqs``, the オンライン資格確認等
システム run by the 支払基金): it knows people only by its own link codes, asks the
insurers for coverage, medicines and checkups through the hub on every confirmation,
and so every look appears in the resident's やりとり履歴 with the institution's name
and the consents it was made under.

Institutions sign each request with their key (:mod:`myna.medical.messages`); the card
answers the visit's challenge after the PIN (or a staff member confirms the face match
and the card's certificate is checked without a signature).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import agencies, jpki, network
from myna.card.protocol import counter_message
from myna.medical import messages
from myna.medical.domain import InstitutionCode, InsuredId
from myna.medical.messages import (
    BadCardAnswerError,
    CardAnswer,
    ConsentAnswer,
    Envelope,
    InsurerUnavailableError,
    NotInsuredError,
    NumberQuery,
    UnregisteredCardError,
    UnregisteredInstitutionError,
    VisitExpiredError,
    VisitNotFoundError,
    VisitStateError,
)
from myna.medical.models import Enrolment, Institution, Visit
from myna.medical.records import (
    CHECKUP_ITEM,
    CLINICAL_ITEM,
    COVERAGE_ITEM,
    HEALTH_ITEMS,
    MEDICATION_ITEM,
    CheckupRecord,
    ClinicalRecord,
    CoverageRecord,
    HealthRecords,
    MedicationRecord,
    read_coverage,
)
from myna.network.domain import SenderMismatchError
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.settings import Settings

OQS = "oqs"
OQS_NAME = "オンライン資格確認等システム"
PROCEDURE = "online-eligibility"
INDEX_ITEM = "insured-index"  # 加入者情報: the insurers' registration of whom they cover
VISIT_TTL = timedelta(minutes=10)
# 同意情報登録後の24時間に限り閲覧可能 (the real service's rule for 薬剤情報・特定健診情報).
VIEW_WINDOW = timedelta(hours=24)
MEDICATION_YEARS = 3
CHECKUP_YEARS = 5
WAITING = "waiting"
IDENTIFIED = "identified"
CONSENTED = "consented"


class AlreadyEnrolledError(MynaError, code="already_enrolled", status_code=409):
    """The resident's card is already registered as the insurance card."""

    message = N_("Your card is already registered as your health insurance card.")


class NoCoverageError(MynaError, code="no_coverage", status_code=404):
    """The resident has no health insurance an insurer answers for."""

    message = N_(
        "No health insurance was found for you, so the card cannot be registered as your "
        "insurance card. Ask your insurer or your municipality's office."
    )


class InstitutionExistsError(MynaError, code="institution_exists", status_code=409):
    """An institution with this 医療機関コード is registered already."""

    message = N_("An institution with this code is registered already.")


# -- institutions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstitutionRead:
    """A registered institution, as its counter and the resident's history name it."""

    code: str
    name: str
    organization_code: str


def register_institution(
    *,
    session: Session,
    settings: Settings,
    code: str,
    name: str,
    public_key: ec.EllipticCurvePublicKey,
) -> tuple[InstitutionRead, x509.Certificate]:
    """Register a clinic or pharmacy and certify its message key with the government CA."""
    parsed = InstitutionCode.parse(code)
    if session.get(Institution, parsed.value) is not None:
        raise InstitutionExistsError
    organization = messages.organization_code(parsed.value)
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=organization,
        organization_name=name,
        public_key=public_key,
    )
    row = Institution(
        code=parsed.value,
        name=name.strip(),
        organization_code=organization,
        registered_at=utcnow(),
        suspended_at=None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise InstitutionExistsError from exc
    return InstitutionRead(row.code, row.name, row.organization_code), certificate


def institution(*, session: Session, code: str) -> InstitutionRead | None:
    """A registered institution by its 医療機関コード."""
    row = session.get(Institution, code)
    return None if row is None else InstitutionRead(row.code, row.name, row.organization_code)


def _open(
    session: Session, settings: Settings, token: str, expected_type: str
) -> tuple[Institution, Envelope]:
    """Verify an institution's signed request: signer, registration, type, freshness, once."""
    opened = network.open_signed(token, session=session, settings=settings)
    envelope = messages.open_envelope(opened.payload, expected_type)
    row = session.get(Institution, envelope.institution)
    if row is None or row.suspended_at is not None:
        raise UnregisteredInstitutionError
    if opened.sender != row.organization_code:
        raise SenderMismatchError(claimed=row.organization_code, signer=opened.sender)
    network.admit_once(
        session=session,
        request_id=envelope.request_id,
        requester=row.organization_code,
        issued_at=envelope.issued_at,
    )
    return row, envelope


# -- マイナ保険証の利用登録 (the resident's side) ------------------------------------------


@dataclass(frozen=True, slots=True)
class EnrolmentRead:
    """The resident's registration, with the insured id the insurer answered."""

    insurer_number: str
    insured_symbol: str
    insured_number: str
    insured_branch: str
    registered_at: datetime


def _coverage(
    session: Session, hub: network.Hub, link_code: str, purpose: str, items: Sequence[str]
) -> tuple[CoverageRecord | None, dict[str, list[dict[str, Any]]]]:
    """Ask the insurers through the hub; the coverage and every item's payloads."""
    outcome = network.ask_about(
        session=session,
        hub=hub,
        requester=OQS,
        subject=link_code,
        procedure=PROCEDURE,
        items=items,
        purpose=purpose,
    )
    if COVERAGE_ITEM in outcome.unavailable_items():
        raise InsurerUnavailableError
    payloads = _payloads(outcome, items)
    coverages = payloads.get(COVERAGE_ITEM, [])
    coverage = read_coverage(coverages[0]) if coverages else None
    return coverage, payloads


def _payloads(
    outcome: network.ExchangeOutcome, items: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every record's payload the providers answered, by item."""
    payloads: dict[str, list[dict[str, Any]]] = {item: [] for item in items}
    for result in outcome.results:
        for record in result.records:
            payloads[result.item].append(record.payload)
    return payloads


def enrolment(*, session: Session, resident_id: int) -> EnrolmentRead | None:
    """The resident's マイナ保険証 registration, if any."""
    link_code = network.link_code_for_resident(
        session=session, resident_id=resident_id, agency_code=OQS
    )
    row = session.get(Enrolment, link_code)
    if row is None:
        return None
    return EnrolmentRead(
        row.insurer_number,
        row.insured_symbol,
        row.insured_number,
        row.insured_branch,
        row.registered_at,
    )


def enrol(*, session: Session, hub: network.Hub, resident_id: int) -> EnrolmentRead:
    """マイナ保険証の利用登録: the logged-in resident registers the card as insurance card.

    The insurer is asked, through the hub, who the resident is insured as; a resident
    without coverage cannot register (NoCoverageError).
    """
    link_code = network.link_code_for_resident(
        session=session, resident_id=resident_id, agency_code=OQS
    )
    if session.get(Enrolment, link_code) is not None:
        raise AlreadyEnrolledError
    coverage, _ = _coverage(
        session, hub, link_code, f"{OQS_NAME}（マイナ保険証の利用登録）", [COVERAGE_ITEM]
    )
    if coverage is None:
        raise NoCoverageError
    row = Enrolment(
        link_code=link_code,
        insurer_number=coverage.insurer_number,
        insured_symbol=coverage.symbol,
        insured_number=coverage.number,
        insured_branch=coverage.branch,
        registered_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise AlreadyEnrolledError from exc
    return EnrolmentRead(
        row.insurer_number,
        row.insured_symbol,
        row.insured_number,
        row.insured_branch,
        row.registered_at,
    )


# -- the counter: a visit, the card, the consents ----------------------------------------


@dataclass(frozen=True, slots=True)
class VisitStarted:
    """A reception waiting for the card: what the reader shows and the card signs."""

    visit_id: str
    institution_code: str
    nonce: str
    expires_at: datetime


def start_visit(*, session: Session, settings: Settings, token: str) -> VisitStarted:
    """受付: the institution's reader opens a visit and gets the challenge for the card."""
    row, _ = _open(session, settings, token, messages.VISIT)
    now = utcnow()
    visit = Visit(
        id=secrets.token_urlsafe(18),
        institution_code=row.code,
        nonce=secrets.token_urlsafe(24),
        status=WAITING,
        created_at=now,
        expires_at=now + VISIT_TTL,
    )
    session.add(visit)
    session.flush()
    return VisitStarted(visit.id, row.code, visit.nonce, visit.expires_at)


def _visit(session: Session, institution_code: str, visit_id: str) -> Visit:
    visit = session.get(Visit, visit_id)
    # Another institution's visit is as unknown as a missing one.
    if visit is None or visit.institution_code != institution_code:
        raise VisitNotFoundError
    return visit


@dataclass(frozen=True, slots=True)
class Identified:
    """The card was verified and is a registered insurance card: the consents come next."""

    visit_id: str
    method: str


def present_card(*, session: Session, settings: Settings, token: str) -> Identified:
    """The card at the reader: PIN and signature, or the staff's face-match confirmation.

    The certificate must be a valid, unrevoked user-authentication certificate; with the
    PIN its signature over the visit's challenge must verify. The card must be registered
    as the insurance card (UnregisteredCardError otherwise). Only the first answer to a
    visit counts.
    """
    row, envelope = _open(session, settings, token, messages.CARD)
    answer = CardAnswer.parse(envelope)
    visit = _visit(session, row.code, answer.visit_id)
    now = utcnow()
    if visit.status != WAITING:
        raise VisitStateError
    if visit.expires_at <= now:
        raise VisitExpiredError
    verified = jpki.verify_certificate(
        session=session,
        settings=settings,
        certificate=answer.certificate_der,
        kind=jpki.CertificateKind.AUTH,
        at=now,
    )
    if answer.signature is not None:
        data = counter_message(institution_code=row.code, visit_id=visit.id, nonce=visit.nonce)
        try:
            jpki.verify_signature(
                certificate=answer.certificate_der, data=data, signature=answer.signature
            )
        except jpki.VerificationError as exc:
            raise BadCardAnswerError from exc
    link_code = network.link_code_for_resident(
        session=session, resident_id=verified.holder_id, agency_code=OQS
    )
    if session.get(Enrolment, link_code) is None:
        raise UnregisteredCardError
    won = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.status == WAITING)
        .values(
            status=IDENTIFIED,
            link_code=link_code,
            method=answer.method,
            confirmed_by=answer.confirmed_by,
            certificate_serial=str(verified.serial),
            identified_at=now,
        )
    )
    if getattr(won, "rowcount", 0) != 1:
        raise VisitStateError
    return Identified(visit.id, answer.method)


@dataclass(frozen=True, slots=True)
class Consents:
    """What the patient agreed to share with this visit, and until when."""

    medication: bool
    checkup: bool
    limit: bool
    view_until: datetime


def answer_consents(*, session: Session, settings: Settings, token: str) -> Consents:
    """The patient's answers on the reader's consent screens; the 24-hour window starts."""
    row, envelope = _open(session, settings, token, messages.CONSENT)
    answer = ConsentAnswer.parse(envelope)
    visit = _visit(session, row.code, answer.visit_id)
    now = utcnow()
    if visit.status != IDENTIFIED:
        raise VisitStateError
    if visit.expires_at <= now:
        raise VisitExpiredError
    view_until = now + VIEW_WINDOW
    won = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.status == IDENTIFIED)
        .values(
            status=CONSENTED,
            consent_medication=answer.medication,
            consent_checkup=answer.checkup,
            consent_limit=answer.limit,
            consented_at=now,
            view_until=view_until,
            visit_date=now.astimezone(JST).date(),
        )
    )
    if getattr(won, "rowcount", 0) != 1:
        raise VisitStateError
    return Consents(answer.medication, answer.checkup, answer.limit, view_until)


# -- the answer ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The answer an institution receives (資格確認結果), with what was consented only."""

    institution: InstitutionRead
    confirmed_on: date
    method: str
    coverage: CoverageRecord
    consents: Consents | None
    visit_id: str | None = None
    medications: tuple[MedicationRecord, ...] = ()
    clinical: tuple[ClinicalRecord, ...] = ()
    checkups: tuple[CheckupRecord, ...] = ()
    unavailable: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        """``valid``, ``lost`` (資格喪失, with the date) or ``not_yet`` (not yet acquired)."""
        if self.coverage.lost_on is not None and self.confirmed_on >= self.coverage.lost_on:
            return "lost"
        if self.confirmed_on < self.coverage.acquired_on:
            return "not_yet"
        if self.coverage.valid_until is not None and self.confirmed_on > self.coverage.valid_until:
            return "lost"
        return "valid"

    @property
    def shows_limit(self) -> bool:
        """Whether the 限度額 category may be shown (the patient consented)."""
        return self.consents is not None and self.consents.limit


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _purpose(institution: InstitutionRead, consents: Consents | None) -> str:
    given = []
    if consents is not None:
        given = [
            name
            for flag, name in (
                (consents.medication, "診療・薬剤情報"),
                (consents.checkup, "特定健診情報"),
                (consents.limit, "限度額情報"),
            )
            if flag
        ]
    agreed = f"同意: {'・'.join(given)}" if given else "資格確認のみ"
    return f"{institution.name}（{OQS_NAME}、{agreed}）"


def visit_result(
    *, session: Session, settings: Settings, hub: network.Hub, token: str
) -> Eligibility:
    """The institution reads the result of a visit, within 24 hours of the consents.

    Asks the insurers through the hub each time: the coverage always, 診療・薬剤情報 and
    特定健診情報 only when consented, and only from the windows the real service shows
    (3 and 5 years back from the visit).
    """
    row, envelope = _open(session, settings, token, messages.RESULT)
    visit = _visit(session, row.code, messages.visit_id(envelope))
    now = utcnow()
    if visit.status != CONSENTED or visit.link_code is None or visit.view_until is None:
        raise VisitStateError
    if visit.view_until <= now:
        raise VisitExpiredError
    consents = Consents(
        bool(visit.consent_medication),
        bool(visit.consent_checkup),
        bool(visit.consent_limit),
        visit.view_until,
    )
    items = [COVERAGE_ITEM]
    if consents.medication:
        items += [MEDICATION_ITEM, CLINICAL_ITEM]
    if consents.checkup:
        items.append(CHECKUP_ITEM)
    inst = InstitutionRead(row.code, row.name, row.organization_code)
    coverage, payloads = _coverage(session, hub, visit.link_code, _purpose(inst, consents), items)
    if coverage is None:
        raise NotInsuredError
    day = visit.visit_date or now.astimezone(JST).date()
    since_medication = _years_before(day, MEDICATION_YEARS)
    since_checkup = _years_before(day, CHECKUP_YEARS)
    held = HealthRecords.from_payloads(payloads)
    return Eligibility(
        institution=inst,
        confirmed_on=day,
        method=visit.method or messages.PIN,
        coverage=coverage,
        consents=consents,
        visit_id=visit.id,
        medications=tuple(m for m in held.medications if since_medication <= m.dispensed_on <= day),
        clinical=tuple(c for c in held.clinical if since_medication <= c.treated_on <= day),
        checkups=tuple(c for c in held.checkups if since_checkup <= c.examined_on <= day),
    )


def insured_key(insured: InsuredId) -> str:
    """The key the service files an insured person under (保険者番号:記号:番号:枝番)."""
    return f"{insured.insurer.value}:{insured.symbol}:{insured.number}:{insured.branch}"


def confirm_by_number(
    *, session: Session, settings: Settings, hub: network.Hub, token: str
) -> Eligibility:
    """The fallback without the card: 被保険者記号・番号・枝番 and the date of birth.

    Eligibility only (no medicines, checkups or 限度額 without the card's consent); an
    unknown number and a wrong date of birth get the same answer.
    """
    row, envelope = _open(session, settings, token, messages.BY_NUMBER)
    query = NumberQuery.parse(envelope)
    found = agencies.own_record_by_key(
        session=session,
        agency_code=OQS,
        item_code=INDEX_ITEM,
        record_key=insured_key(query.insured),
    )
    if found is None or found[1].payload.get("birth_date") != query.birth_date.isoformat():
        raise NotInsuredError
    inst = InstitutionRead(row.code, row.name, row.organization_code)
    coverage, _ = _coverage(session, hub, found[0], _purpose(inst, None), [COVERAGE_ITEM])
    if coverage is None or coverage.birth_date != query.birth_date:
        raise NotInsuredError
    return Eligibility(
        institution=inst,
        confirmed_on=utcnow().astimezone(JST).date(),
        method=messages.BY_NUMBER,
        coverage=coverage,
        consents=None,
    )


# -- the resident's own health data (自己情報) -----------------------------------------------


def own_health_records(
    *,
    session: Session,
    hub: network.Hub,
    resident_id: int,
    items: Sequence[str] = HEALTH_ITEMS,
    purpose: str = "健康・医療情報のダウンロード（FHIR）",
) -> HealthRecords:
    """The logged-in resident's coverage, medicines, treatments, checkups and expenses.

    ``items`` narrows the question to what a use needs (a tax return asks for the
    医療費通知 only); ``purpose`` is what the exchange log shows the resident.
    """
    outcome = network.request_self_information(
        session=session, hub=hub, resident_id=resident_id, items=items, purpose=purpose
    )
    return HealthRecords.from_payloads(
        _payloads(outcome, items), unavailable=outcome.unavailable_items()
    )
