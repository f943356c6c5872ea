"""select()-based queries of the proxies' tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from myna.proxy.models import ProxyActivity, ProxyAppointment, ProxyCode


def appointments_by_principal(session: Session, principal_id: int) -> list[ProxyAppointment]:
    """The principal's appointments, newest first."""
    return list(
        session.scalars(
            select(ProxyAppointment)
            .where(ProxyAppointment.principal_id == principal_id)
            .order_by(ProxyAppointment.id.desc())
            .limit(100)
        )
    )


def appointments_of_proxy(session: Session, proxy_id: int) -> list[ProxyAppointment]:
    """The appointments naming ``proxy_id``, newest first."""
    return list(
        session.scalars(
            select(ProxyAppointment)
            .where(ProxyAppointment.proxy_id == proxy_id)
            .order_by(ProxyAppointment.id.desc())
            .limit(100)
        )
    )


def live_code(session: Session, digest: str, now: datetime) -> ProxyCode | None:
    """The unused, unexpired code with this digest."""
    return session.scalars(
        select(ProxyCode).where(
            ProxyCode.code_digest == digest,
            ProxyCode.used_at.is_(None),
            ProxyCode.expires_at > now,
        )
    ).one_or_none()


def dead_codes(session: Session, resident_id: int, now: datetime) -> list[ProxyCode]:
    """A resident's codes that are used or past (removed when a new one is made)."""
    return list(
        session.scalars(
            select(ProxyCode).where(
                ProxyCode.resident_id == resident_id,
                or_(ProxyCode.used_at.is_not(None), ProxyCode.expires_at <= now),
            )
        )
    )


def activity_of_principal(session: Session, principal_id: int, limit: int) -> list[ProxyActivity]:
    """What proxies did for the principal, newest first."""
    return list(
        session.scalars(
            select(ProxyActivity)
            .where(ProxyActivity.principal_id == principal_id)
            .order_by(ProxyActivity.occurred_at.desc(), ProxyActivity.id.desc())
            .limit(limit)
        )
    )
