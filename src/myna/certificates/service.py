"""Use cases of certificate issuance: issue a signed PDF, verify one, register seals.

The certificates context acts as the municipality itself: it reads the resident
registry's public surface, and the municipality's own tax records through the hub
(so the read is logged). Each issuance is written to the exchange log, one entry per
person whose data the certificate shows, and so appears in their やりとり履歴.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, registry
from myna.certificates import pades, pdf, signing
from myna.certificates.domain import (
    FEES,
    KIOSK_REQUESTER,
    LOG_ITEMS,
    LOG_PROCEDURE,
    CertificateKind,
    Door,
    NoTaxRecordError,
    ResidentRecordOptions,
    UnknownIssuanceError,
    chosen_members,
)
from myna.certificates.models import CertificateIssuance
from myna.network import transparency
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.settings import Settings
from myna.platform.wareki import format_wareki

TAX_PROCEDURE = "tax-certificate-issuance"
VERIFY_PATH = "/certificates/verify"
_SEX = {1: "男", 2: "女"}
JST = timezone(timedelta(hours=9), "JST")


class SealOtherMunicipalityError(MynaError, code="seal_other_municipality", status_code=403):
    message = N_(
        "This card's holder is not a resident of your municipality. A seal is registered "
        "by the municipality where the resident lives."
    )


class SealCardUnknownError(MynaError, code="seal_card_unknown", status_code=404):
    message = N_("No card with this ID was issued. Check the card ID printed on the card.")


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate just issued: its number, the fee shown, and the signed PDF."""

    number: str
    kind: CertificateKind
    fee: int
    pdf: bytes
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class IssuanceStatus:
    """What the public may know of an issued certificate: no personal data."""

    number: str
    kind: CertificateKind
    municipality_name: str
    issued_on: str  # 和暦
    cancelled: bool
    signer_revoked: bool

    @property
    def standing(self) -> bool:
        """Whether the certificate still stands (not cancelled, its key not revoked)."""
        return not (self.cancelled or self.signer_revoked)


@dataclass(frozen=True, slots=True)
class VerifiedCertificate:
    """A PDF whose signature validated, and what Myna knows of its issuance."""

    signature: pades.ValidatedSignature
    status: IssuanceStatus


def _issuer(resident: registry.ResidentRead) -> str:
    return f"{resident.municipality_name}長"


def _born(day: date) -> str:
    return format_wareki(day)


def _person_rows(
    member: registry.ResidentRead,
    options: ResidentRecordOptions,
    *,
    domicile: registry.Domicile | None,
    my_number: str | None,
) -> tuple[pdf.Row, ...]:
    rows = [
        pdf.Row("氏名", f"{member.full_name}（{member.full_name_kana}）"),
        pdf.Row("生年月日", _born(member.birth_date)),
        pdf.Row("性別", _SEX.get(int(member.sex), "—")),
    ]
    if options.relation:
        rows.append(pdf.Row("続柄", member.relation.value))
    rows.append(pdf.Row("住民となった日", format_wareki(member.registered_on)))
    if options.domicile:
        rows.append(pdf.Row("本籍", domicile.domicile if domicile else "（記録なし）"))
        rows.append(pdf.Row("筆頭者", domicile.head if domicile else "（記録なし）"))
    if my_number is not None:
        rows.append(pdf.Row("個人番号", my_number))
    return tuple(rows)


def _resident_record(
    session: Session, applicant: registry.ResidentRead, options: ResidentRecordOptions
) -> tuple[list[pdf.Entry], list[int]]:
    household = registry.household_members(session=session, household_id=applicant.household_id)
    shown = chosen_members(
        options, applicant=applicant.id, household=[member.id for member in household]
    )
    by_id = {member.id: member for member in household}
    head = next((m for m in household if m.relation is registry.Relation.HEAD), household[0])
    entries = [
        pdf.Entry(
            "世帯",
            (
                pdf.Row("住所", applicant.full_address),
                pdf.Row("世帯主", head.full_name),
            ),
        )
    ]
    for number, member_id in enumerate(shown, start=1):
        member = by_id[member_id]
        entries.append(
            pdf.Entry(
                f"{number}. {member.full_name}",
                _person_rows(
                    member,
                    options,
                    domicile=registry.domicile_of(session=session, resident_id=member_id)
                    if options.domicile
                    else None,
                    my_number=registry.my_number_for_own_copy(
                        session=session, resident_id=member_id
                    )
                    if options.my_number
                    else None,
                ),
            )
        )
    return entries, shown


def _seal(session: Session, applicant: registry.ResidentRead) -> tuple[list[pdf.Entry], bytes]:
    seal = registry.seal_of(session=session, resident_id=applicant.id)
    entries = [
        pdf.Entry(
            "登録者",
            (
                pdf.Row("印鑑登録番号", seal.registration_number),
                pdf.Row("氏名", applicant.full_name),
                pdf.Row("生年月日", _born(applicant.birth_date)),
                pdf.Row("住所", applicant.full_address),
                pdf.Row("登録日", format_wareki(seal.registered_at.date())),
            ),
        )
    ]
    return entries, seal.image_png


def _yen(value: Any) -> str:
    return f"{int(value):,}円" if isinstance(value, int) else "—"


def _tax(session: Session, hub: network.Hub, applicant: registry.ResidentRead) -> list[pdf.Entry]:
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=applicant.id,
        items=["resident-tax"],
        procedure=TAX_PROCEDURE,
        purpose="課税（所得）証明書の交付",
    )
    records = [
        record.payload
        for result in outcome.results
        if result.outcome is network.Outcome.SUCCESS
        for record in result.records
    ]
    if not records:
        raise NoTaxRecordError
    latest = max(records, key=lambda r: int(r.get("assessment_year") or 0))
    year = int(latest.get("assessment_year") or 0)
    return [
        pdf.Entry(
            "納税義務者",
            (
                pdf.Row("氏名", applicant.full_name),
                pdf.Row("生年月日", _born(applicant.birth_date)),
                pdf.Row("住所", applicant.full_address),
            ),
        ),
        pdf.Entry(
            f"{year}年度（{latest.get('income_year', year - 1)}年分所得）",
            (
                pdf.Row("合計所得金額", _yen(latest.get("total_income"))),
                pdf.Row("課税標準額", _yen(latest.get("taxable_income"))),
                pdf.Row("所得割額", _yen(latest.get("income_levy"))),
                pdf.Row("均等割額", _yen(latest.get("per_capita_levy"))),
                pdf.Row("年税額", _yen(latest.get("tax_amount"))),
                pdf.Row("区分", "非課税" if latest.get("non_taxable") else "課税"),
            ),
        ),
    ]


_ATTESTATIONS = {
    CertificateKind.RESIDENT_RECORD: "この写しは、住民票の原本と相違ないことを証明する。",
    CertificateKind.SEAL: "この写しは、登録された印影と相違ないことを証明する。",
    CertificateKind.TAX: "上記のとおり証明する。",
}


def new_number() -> str:
    """A 交付番号: 16 characters, unguessable (it leads to the issuance's public status)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(
    *,
    session: Session,
    settings: Settings,
    hub: network.Hub,
    resident_id: int,
    kind: CertificateKind,
    door: Door,
    options: ResidentRecordOptions | None = None,
) -> Issued:
    """Issue one certificate to the resident themself: the signed PDF, logged."""
    applicant = registry.get_resident(session=session, resident_id=resident_id)
    if applicant.status is not registry.ResidentStatus.ACTIVE:
        raise registry.ResidentNotActiveError
    options = options or ResidentRecordOptions()
    seal_png: bytes | None = None
    subjects = [applicant.id]
    if kind is CertificateKind.RESIDENT_RECORD:
        entries, subjects = _resident_record(session, applicant, options)
        stored: dict[str, Any] = options.as_json()
    elif kind is CertificateKind.SEAL:
        entries, seal_png = _seal(session, applicant)
        stored = {}
    else:
        entries = _tax(session, hub, applicant)
        stored = {}
    number = new_number()
    now = utcnow()
    page = pdf.CertificatePage(
        title=kind.form_title,
        number=number,
        header=(pdf.Row("交付番号", number),),
        entries=tuple(entries),
        attestation=_ATTESTATIONS[kind],
        issued_on=format_wareki(now.astimezone(JST).date()),
        issuer=_issuer(applicant),
        verify_url=f"{settings.portal_url.rstrip('/')}{VERIFY_PATH}?number={number}",
        seal_png=seal_png,
    )
    material = signing.material_for(
        session=session,
        settings=settings,
        municipality_code=applicant.municipality_code,
        municipality_name=applicant.municipality_name,
    )
    # Not validated again here: the signer's and the TSA's certificates were validated
    # against the material's chain and revocation data when it was gathered, and
    # validating what was just made would cost a third of the issuance. The
    # verification page validates.
    signed = pades.sign(
        pdf.render(page, font_path=settings.pdf_font),
        material,
        signer_name=_issuer(applicant),
        location=applicant.municipality_name,
    )
    fee = FEES[door][kind]
    session.add(
        CertificateIssuance(
            number=number,
            kind=kind.value,
            municipality_code=applicant.municipality_code,
            resident_id=applicant.id,
            door=door.value,
            options=stored,
            fee=fee,
            issued_at=now,
            message_digest=signed.message_digest,
            signer_serial=f"{material.material.signer_certificate.serial_number:040x}",
        )
    )
    transparency.append(
        session=session,
        entries=[
            transparency.NewEntry(
                time=now,
                requester=network.PORTAL if door is Door.PORTAL else KIOSK_REQUESTER,
                provider=agencies.municipality_agency_code(applicant.municipality_code),
                procedure=LOG_PROCEDURE,
                item=LOG_ITEMS[kind],
                subject=str(subject),
                outcome=transparency.Outcome.SUCCESS,
                purpose=f"{kind.form_title}の交付（交付番号 {number}）",
            )
            for subject in subjects
        ],
    )
    session.flush()
    return Issued(number=number, kind=kind, fee=fee, pdf=signed.pdf, issued_at=now)


def _status(session: Session, row: CertificateIssuance) -> IssuanceStatus:
    municipality = registry.get_municipality(session=session, code=row.municipality_code)
    kind = CertificateKind(row.kind)
    cancelled = row.cancelled_at is not None
    if kind is CertificateKind.SEAL and not cancelled:
        cancelled = registry.seal_cancelled_since(
            session=session, resident_id=row.resident_id, after=row.issued_at
        )
    record = jpki.certificate_status(session=session, serial=int(row.signer_serial, 16))
    return IssuanceStatus(
        number=row.number,
        kind=kind,
        municipality_name=f"{municipality.prefecture_name}{municipality.name}",
        issued_on=format_wareki(row.issued_at.astimezone(JST).date()),
        cancelled=cancelled,
        signer_revoked=record.status is jpki.CertificateStatus.REVOKED,
    )


def issuance_status(*, session: Session, number: str) -> IssuanceStatus:
    """The public status of the certificate ``number`` (the QR code's page)."""
    row = session.scalar(select(CertificateIssuance).where(CertificateIssuance.number == number))
    if row is None:
        raise UnknownIssuanceError
    return _status(session, row)


def verify(*, session: Session, document: bytes) -> VerifiedCertificate:
    """Check an uploaded certificate: its PAdES signature offline, then its issuance."""
    signature = pades.validate(document, roots=signing.trust_roots(session=session))
    row = session.scalar(
        select(CertificateIssuance).where(
            CertificateIssuance.message_digest == signature.message_digest
        )
    )
    if row is None:
        raise pades.UnknownSignerError
    return VerifiedCertificate(signature=signature, status=_status(session, row))


def cancel(*, session: Session, number: str) -> None:
    """Cancel an issued certificate (issued in error): verification shows it cancelled."""
    row = session.scalar(select(CertificateIssuance).where(CertificateIssuance.number == number))
    if row is None:
        raise UnknownIssuanceError
    row.cancelled_at = row.cancelled_at or utcnow()
    session.flush()


def register_seal_at_counter(
    *,
    session: Session,
    municipality_code: str,
    card_id: str,
    image_png: bytes,
    clerk: str,
) -> tuple[registry.ResidentRead, registry.SealRead]:
    """印鑑登録 at the counter: the resident presents the card; own municipality only."""
    try:
        holder = jpki.card_holder(session=session, card_id=card_id)
    except jpki.NoCardCertificateError as exc:
        raise SealCardUnknownError from exc
    resident = registry.get_resident(session=session, resident_id=holder)
    if resident.municipality_code != municipality_code:
        raise SealOtherMunicipalityError
    seal = registry.register_seal(
        session=session, resident_id=holder, image_png=image_png, registered_by=clerk
    )
    return resident, seal


def household_of(*, session: Session, resident_id: int) -> list[registry.ResidentRead]:
    """The resident's household, for the request form's member choice."""
    resident = registry.get_resident(session=session, resident_id=resident_id)
    return registry.household_members(session=session, household_id=resident.household_id)


def cancel_seal_at_counter(
    *, session: Session, municipality_code: str, card_id: str
) -> registry.ResidentRead:
    """印鑑登録の廃止 at the counter: the resident presents the card; own municipality only."""
    try:
        holder = jpki.card_holder(session=session, card_id=card_id)
    except jpki.NoCardCertificateError as exc:
        raise SealCardUnknownError from exc
    resident = registry.get_resident(session=session, resident_id=holder)
    if resident.municipality_code != municipality_code:
        raise SealOtherMunicipalityError
    registry.cancel_seal(session=session, resident_id=holder)
    return resident
