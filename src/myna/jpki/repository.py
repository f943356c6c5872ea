"""select()-based queries over the JPKI tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from myna.jpki.domain import AuthorityKind, CertificateKind, CertificateStatus
from myna.jpki.models import CertificateAuthority, IssuedCertificate


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
