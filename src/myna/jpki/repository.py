"""select()-based queries over the JPKI tables."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from myna.jpki.domain import AuthorityKind, CertificateKind, CertificateStatus
from myna.jpki.models import (
    CertificateAuthority,
    IssuedCertificate,
    LatestInfoConsent,
    SigningSuccession,
    Verifier,
    VerifierUsage,
)
from myna.platform.db import insert_row


def authority(
    session: Session, kind: AuthorityKind, *, for_update: bool = False
) -> CertificateAuthority | None:
    """The CA of ``kind``, read afresh; optionally locked (SQLite locks on write anyway)."""
    query = (
        select(CertificateAuthority)
        .where(CertificateAuthority.kind == kind.value)
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


@dataclass(frozen=True, slots=True)
class CrlState:
    """What tells whether a cached CRL of a CA is still current (no key, no certificate)."""

    id: int
    fingerprint: str
    crl_revision: int


def crl_state(session: Session, kind: AuthorityKind) -> CrlState | None:
    """The id, fingerprint and CRL revision of the CA of ``kind``, read afresh."""
    found = session.execute(
        select(
            CertificateAuthority.id,
            CertificateAuthority.fingerprint,
            CertificateAuthority.crl_revision,
        ).where(CertificateAuthority.kind == kind.value)
    ).one_or_none()
    return None if found is None else CrlState(*found)


def authorities(session: Session) -> Sequence[CertificateAuthority]:
    """Every CA, root first."""
    return session.scalars(select(CertificateAuthority).order_by(CertificateAuthority.id)).all()


def certificate(
    session: Session, serial_key: str, *, for_update: bool = False
) -> IssuedCertificate | None:
    """The issued certificate stored under ``serial_key``."""
    if for_update:
        return session.get(IssuedCertificate, serial_key, with_for_update=True)
    return session.get(IssuedCertificate, serial_key)


class Standing(NamedTuple):
    """What decides, beside its bytes, whether an issued certificate is good now."""

    kind: str
    organization_code: str | None
    status: str
    revoked_at: datetime | None
    invalidity_date: datetime | None


_CERTIFICATES = cast(Table, IssuedCertificate.__table__)
# A Core select of the table's columns, compiled once: an ORM load by primary key builds
# an object and its identity-map entry for the five values a verification reads.
_STANDING = select(
    _CERTIFICATES.c.kind,
    _CERTIFICATES.c.organization_code,
    _CERTIFICATES.c.status,
    _CERTIFICATES.c.revoked_at,
    _CERTIFICATES.c.invalidity_date,
).where(
    _CERTIFICATES.c.serial == bindparam("serial"),
    _CERTIFICATES.c.certificate == bindparam("certificate"),
)


def standing(session: Session, serial_key: str, certificate: bytes) -> Standing | None:
    """The record of the certificate issued under ``serial_key``, if it holds exactly
    ``certificate`` (its DER): kind, organisation and revocation status, read afresh."""
    found = session.execute(
        _STANDING, {"serial": serial_key, "certificate": certificate}
    ).one_or_none()
    return None if found is None else Standing._make(found)


_CERTIFICATE_BY_SERIAL = select(_CERTIFICATES).where(_CERTIFICATES.c.serial == bindparam("serial"))


def certificate_row(session: Session, serial_key: str) -> Row[Any] | None:
    """The issued certificate's columns under ``serial_key`` (a Core read: no object).

    For the verification of every card login and signature, which only reads the row:
    the ORM's identity map costs more than the query.
    """
    return session.execute(_CERTIFICATE_BY_SERIAL, {"serial": serial_key}).first()


def revoked_under(
    session: Session, authority_id: int, *, now: datetime
) -> Sequence[IssuedCertificate]:
    """Revoked certificates of one CA that have not expired yet (they leave the CRL after)."""
    return session.scalars(
        select(IssuedCertificate)
        .where(
            IssuedCertificate.authority_id == authority_id,
            IssuedCertificate.status == CertificateStatus.REVOKED.value,
            IssuedCertificate.not_after > now,
        )
        .order_by(IssuedCertificate.revoked_at, IssuedCertificate.serial)
    ).all()


def certificates(
    session: Session,
    *,
    holder_id: int | None = None,
    card_id: str | None = None,
    organization_code: str | None = None,
    kinds: Iterable[CertificateKind] | None = None,
) -> Sequence[IssuedCertificate]:
    """Certificates of a holder, a card and/or an organisation, oldest first."""
    query = select(IssuedCertificate)
    if holder_id is not None:
        query = query.where(IssuedCertificate.holder_id == holder_id)
    if card_id is not None:
        query = query.where(IssuedCertificate.card_id == card_id)
    if organization_code is not None:
        query = query.where(IssuedCertificate.organization_code == organization_code)
    if kinds is not None:
        query = query.where(IssuedCertificate.kind.in_([k.value for k in kinds]))
    return session.scalars(
        query.order_by(IssuedCertificate.issued_at, IssuedCertificate.serial)
    ).all()


def bump_crl_revision(session: Session, authority_id: int) -> None:
    """Mark every cached CRL of this CA stale, atomically (no lost updates)."""
    session.execute(
        update(CertificateAuthority)
        .where(CertificateAuthority.id == authority_id)
        .values(crl_revision=CertificateAuthority.crl_revision + 1)
    )


class StatusRow(NamedTuple):
    """What a status answer needs of an issued certificate (not its bytes)."""

    serial: str
    not_after: datetime
    status: str
    revoked_at: datetime | None
    revocation_reason: str | None
    invalidity_date: datetime | None


# Built once: the serials travel as one expanding parameter, not a literal each time.
# The CA's row is joined so that its CRL revision and the certificates are read by one
# statement, from one snapshot of the database (also under READ COMMITTED). The join is
# on the serials alone, so that the primary key finds them (with the CA's id in the
# condition, SQLite would walk every certificate of the CA by its index); a certificate
# of another CA is left out afterwards.
_STATUSES = (
    select(
        CertificateAuthority.id,
        CertificateAuthority.fingerprint,
        CertificateAuthority.crl_revision,
        IssuedCertificate.authority_id,
        IssuedCertificate.serial,
        IssuedCertificate.not_after,
        IssuedCertificate.status,
        IssuedCertificate.revoked_at,
        IssuedCertificate.revocation_reason,
        IssuedCertificate.invalidity_date,
    )
    .select_from(CertificateAuthority)
    .outerjoin(
        IssuedCertificate, IssuedCertificate.serial.in_(bindparam("serials", expanding=True))
    )
    .where(CertificateAuthority.kind == bindparam("kind"))
)


def statuses_under(
    session: Session, kind: AuthorityKind, serial_keys: Collection[str]
) -> tuple[CrlState, dict[str, StatusRow]] | None:
    """The CA of ``kind`` (its CRL revision) and its certificates among ``serial_keys``.

    One statement, by primary key; None when the CA does not exist.
    """
    rows = session.execute(_STATUSES, {"serials": list(serial_keys), "kind": kind.value}).all()
    if not rows:
        return None
    state = CrlState(*rows[0][:3])
    return state, {row[4]: StatusRow._make(row[4:]) for row in rows if row[3] == state.id}


def verifier(session: Session, code: str) -> Verifier | None:
    """The verifier registered under ``code``."""
    return session.get(Verifier, code)


def verifiers(session: Session) -> Sequence[Verifier]:
    """Every verifier, by code."""
    return session.scalars(select(Verifier).order_by(Verifier.code)).all()


def service_providers(session: Session, platform_code: str) -> Sequence[Verifier]:
    """The verifiers registered under a platform operator, by code."""
    return session.scalars(
        select(Verifier).where(Verifier.platform_code == platform_code).order_by(Verifier.code)
    ).all()


def add_usage(
    session: Session,
    *,
    verifier_code: str,
    month: str,
    kind: str,
    request_id: str,
    items: int,
    unit_price_yen: int,
    at: datetime,
) -> None:
    """Write one line of a verifier's usage: a plain insert, no unit-of-work flush."""
    insert_row(
        session,
        VerifierUsage,
        {
            "verifier_code": verifier_code,
            "month": month,
            "kind": kind,
            "request_id": request_id,
            "items": items,
            "unit_price_yen": unit_price_yen,
            "amount_yen": items * unit_price_yen,
            "at": at,
        },
    )


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """A verifier's usage of one kind at one price within a month."""

    verifier_code: str
    kind: str
    unit_price_yen: int
    requests: int
    items: int
    amount_yen: int


def usage_totals(session: Session, codes: Collection[str], month: str) -> list[UsageTotal]:
    """The usage of ``codes`` in ``month``, summed by verifier, kind and unit price."""
    if not codes:
        return []
    rows = session.execute(
        select(
            VerifierUsage.verifier_code,
            VerifierUsage.kind,
            VerifierUsage.unit_price_yen,
            func.count(),
            func.sum(VerifierUsage.items),
            func.sum(VerifierUsage.amount_yen),
        )
        .where(VerifierUsage.verifier_code.in_(list(codes)), VerifierUsage.month == month)
        .group_by(VerifierUsage.verifier_code, VerifierUsage.kind, VerifierUsage.unit_price_yen)
        .order_by(VerifierUsage.verifier_code, VerifierUsage.kind, VerifierUsage.unit_price_yen)
    )
    return [
        UsageTotal(code, kind, int(price), int(requests), int(items or 0), int(amount or 0))
        for code, kind, price, requests, items, amount in rows
    ]


# --- re-issues and 最新4情報提供 -----------------------------------------------------


def add_succession(
    session: Session, *, serial: str, successor_serial: str, card_id: str, at: datetime
) -> None:
    """Link a signing certificate to the one re-issued after it."""
    session.add(
        SigningSuccession(serial=serial, successor_serial=successor_serial, card_id=card_id, at=at)
    )
    session.flush()


def successors_from(
    session: Session, serial_keys: Collection[str], *, depth: int
) -> dict[str, str]:
    """The old → new links reachable from ``serial_keys``, followed ``depth`` steps at most.

    One query per step, over the whole batch: a batch of a thousand serials re-issued
    twice is three queries, not two thousand.
    """
    links: dict[str, str] = {}
    frontier = set(serial_keys)
    for _step in range(depth):
        if not frontier:
            break
        rows = session.execute(
            select(SigningSuccession.serial, SigningSuccession.successor_serial).where(
                SigningSuccession.serial.in_(sorted(frontier))
            )
        ).all()
        frontier = set()
        for old, new in rows:
            if old not in links:
                links[old] = new
                if new not in links:
                    frontier.add(new)
    return links


def certificates_by_serial(
    session: Session, serial_keys: Collection[str]
) -> dict[str, IssuedCertificate]:
    """The issued certificates among ``serial_keys``, by serial."""
    if not serial_keys:
        return {}
    rows = session.scalars(
        select(IssuedCertificate).where(IssuedCertificate.serial.in_(sorted(serial_keys)))
    ).all()
    return {row.serial: row for row in rows}


def add_consent(session: Session, consent: LatestInfoConsent) -> None:
    """Keep a registered consent."""
    session.add(consent)
    session.flush()


def live_consents(
    session: Session, verifier_code: str, holder_ids: Collection[int]
) -> dict[int, LatestInfoConsent]:
    """Each holder's newest unwithdrawn consent for ``verifier_code``, by holder."""
    if not holder_ids:
        return {}
    rows = session.scalars(
        select(LatestInfoConsent)
        .where(
            LatestInfoConsent.verifier_code == verifier_code,
            LatestInfoConsent.holder_id.in_(sorted(holder_ids)),
            LatestInfoConsent.withdrawn_at.is_(None),
        )
        .order_by(LatestInfoConsent.registered_at, LatestInfoConsent.id)
    ).all()
    return {row.holder_id: row for row in rows}


def consents_of(session: Session, holder_id: int) -> Sequence[tuple[LatestInfoConsent, str]]:
    """A holder's consents with each verifier's name, newest first."""
    rows = session.execute(
        select(LatestInfoConsent, Verifier.name)
        .join(Verifier, Verifier.code == LatestInfoConsent.verifier_code)
        .where(LatestInfoConsent.holder_id == holder_id)
        .order_by(LatestInfoConsent.registered_at.desc(), LatestInfoConsent.id.desc())
    ).all()
    return [(row[0], row[1]) for row in rows]


def consent_of(
    session: Session, holder_id: int, consent_id: int
) -> tuple[LatestInfoConsent, str] | None:
    """One consent of ``holder_id`` with its verifier's name (another's is None)."""
    row = session.execute(
        select(LatestInfoConsent, Verifier.name)
        .join(Verifier, Verifier.code == LatestInfoConsent.verifier_code)
        .where(LatestInfoConsent.id == consent_id, LatestInfoConsent.holder_id == holder_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def card_holder_ids(session: Session, at: datetime) -> set[int]:
    """Holders of a valid user-authentication certificate at ``at``: one per card holder."""
    return set(
        session.scalars(
            select(IssuedCertificate.holder_id)
            .where(
                IssuedCertificate.kind == CertificateKind.AUTH.value,
                IssuedCertificate.status == CertificateStatus.VALID.value,
                IssuedCertificate.holder_id.is_not(None),
                IssuedCertificate.not_before <= at,
                IssuedCertificate.not_after > at,
            )
            .distinct()
        )
    )


def verifier_requests_by_kind(session: Session) -> dict[str, int]:
    """Answered verifier requests (billed usage rows) by the verifier's kind."""
    rows = session.execute(
        select(Verifier.kind, func.count())
        .select_from(VerifierUsage)
        .join(Verifier, Verifier.code == VerifierUsage.verifier_code)
        .group_by(Verifier.kind)
    )
    return dict(rows.all())
