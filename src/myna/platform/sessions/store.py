"""The server-side session store: open, load, rotate, end and purge browser sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, or_, update
from sqlalchemy.orm import Session

from myna.platform.attributes import from_attributes
from myna.platform.db import insert_row, utcnow
from myna.platform.sessions.domain import Lifetime, SessionKind, new_token, token_digest
from myna.platform.sessions.models import StoredSession
from myna.platform.settings import Settings

Clock = Callable[[], datetime]
# Refreshing last_seen on every request would turn every page view into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A live session as the web layer sees it; ``token`` is the cookie's value."""

    kind: str
    token: str
    csrf_token: str
    subject_id: int | None = None
    awaiting_second_factor: bool = False
    # The certificate the login rests on (a card's or a phone's, decimal serial).
    certificate_serial: str | None = None
    certificate_not_after: datetime | None = None
    # When the login this session rests on happened (OIDC ``auth_time``).
    authenticated_at: datetime | None = None
    # Made by this request: the response must set the cookie.
    is_new: bool = False
    # Acting for another resident (代理人): whom, on which grant, their name, the scopes.
    acting_for_id: int | None = None
    acting_grant: str | None = None
    acting_label: str | None = None
    acting_scopes: str | None = None

    @property
    def logged_in(self) -> bool:
        """Whether a subject has logged in with every step their login needs."""
        return self.subject_id is not None and not self.awaiting_second_factor


class SessionStore:
    """Sessions of every kind in one table, under one set of rules.

    The clock is injected (tests move it instead of sleeping); limits come from the
    settings (``MYNA_SESSION_IDLE_MINUTES``, ``MYNA_SESSION_ABSOLUTE_HOURS``).
    """

    def __init__(self, lifetime: Lifetime, *, clock: Clock = utcnow) -> None:
        self.lifetime = lifetime
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = utcnow) -> SessionStore:
        """The store with the deployment's idle and absolute limits."""
        lifetime = Lifetime(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        )
        return cls(lifetime, clock=clock)

    def open(self, db: Session, kind: SessionKind) -> BrowserSession:
        """A new session for a visitor who has not logged in (it carries a CSRF token)."""
        return self._insert(db, kind, subject_id=None)

    def load(self, db: Session, kind: SessionKind, token: str | None) -> BrowserSession | None:
        """The live session of ``kind`` for a cookie ``token``; None if unknown or expired."""
        if not token:
            return None
        row = db.get(StoredSession, token_digest(token))
        if row is None or row.kind != kind.name:
            return None
        now = self.clock()
        if self.lifetime.expired(
            now,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            awaiting_second_factor=row.awaiting_second_factor,
        ):
            db.delete(row)
            return None
        if now - row.last_seen_at > TOUCH_INTERVAL:
            row.last_seen_at = now
        return _as_browser_session(row, token)

    def rotate(
        self,
        db: Session,
        kind: SessionKind,
        *,
        old_token: str | None,
        subject_id: int,
        awaiting_second_factor: bool = False,
        certificate_serial: str | None = None,
        certificate_not_after: datetime | None = None,
    ) -> BrowserSession:
        """Log in (or take a login's next step): the old token dies, a new one is issued."""
        if old_token:
            self.end(db, kind, old_token)
        return self._insert(
            db,
            kind,
            subject_id=subject_id,
            awaiting_second_factor=awaiting_second_factor,
            certificate_serial=certificate_serial,
            certificate_not_after=certificate_not_after,
        )

    def act_for(
        self,
        db: Session,
        kind: SessionKind,
        token: str,
        *,
        subject_id: int,
        grant: str,
        label: str,
        scopes: str,
    ) -> bool:
        """The logged-in session of ``token`` acts for ``subject_id`` from now on.

        The grant is what the acting rests on; whoever reads the session checks it
        against its live record (the platform only keeps it). Whether the session exists.
        """
        return self._set_acting(
            db, kind, token, subject_id=subject_id, grant=grant, label=label, scopes=scopes
        )

    def stop_acting(self, db: Session, kind: SessionKind, token: str) -> bool:
        """The session of ``token`` is its own subject's again."""
        return self._set_acting(
            db, kind, token, subject_id=None, grant=None, label=None, scopes=None
        )

    def _set_acting(
        self,
        db: Session,
        kind: SessionKind,
        token: str,
        *,
        subject_id: int | None,
        grant: str | None,
        label: str | None,
        scopes: str | None,
    ) -> bool:
        result = db.execute(
            update(StoredSession)
            .where(
                StoredSession.token_digest == token_digest(token),
                StoredSession.kind == kind.name,
                StoredSession.subject_id.is_not(None),
            )
            .values(
                acting_for_id=subject_id,
                acting_grant=grant,
                acting_label=label,
                acting_scopes=scopes,
            )
        )
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return bool(result.rowcount)

    def end(self, db: Session, kind: SessionKind, token: str) -> bool:
        """Log out: the row goes, so the cookie is worthless everywhere. Whether it existed."""
        result = db.execute(
            delete(StoredSession).where(
                StoredSession.token_digest == token_digest(token), StoredSession.kind == kind.name
            )
        )
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return bool(result.rowcount)

    def end_subject(self, db: Session, kind: SessionKind, subject_id: int) -> int:
        """End every session of ``kind`` a subject holds (an account disabled); how many."""
        result = db.execute(
            delete(StoredSession).where(
                StoredSession.kind == kind.name, StoredSession.subject_id == subject_id
            )
        )
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return int(result.rowcount)

    def purge_expired(self, db: Session) -> int:
        """Delete every expired session of every kind; returns how many went."""
        now = self.clock()
        result = db.execute(
            delete(StoredSession).where(
                or_(
                    StoredSession.last_seen_at < now - self.lifetime.idle,
                    StoredSession.created_at < now - self.lifetime.absolute,
                    (StoredSession.awaiting_second_factor.is_(True))
                    & (StoredSession.created_at < now - self.lifetime.second_factor),
                )
            )
        )
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return int(result.rowcount)

    def _insert(
        self,
        db: Session,
        kind: SessionKind,
        *,
        subject_id: int | None,
        awaiting_second_factor: bool = False,
        certificate_serial: str | None = None,
        certificate_not_after: datetime | None = None,
    ) -> BrowserSession:
        """Insert a session row (only the token's digest) and hand back the token."""
        token = new_token()
        now = self.clock()
        row = StoredSession(
            token_digest=token_digest(token),
            kind=kind.name,
            csrf_token=new_token(),
            subject_id=subject_id,
            awaiting_second_factor=awaiting_second_factor,
            certificate_serial=certificate_serial,
            certificate_not_after=certificate_not_after,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now if subject_id is not None else None,
        )
        # Core insert on the hot path: the ORM's unit of work costs more than the INSERT.
        columns = StoredSession.__table__.columns
        insert_row(db, StoredSession, {c.key: getattr(row, c.key) for c in columns})
        return _as_browser_session(row, token, is_new=True)


def _as_browser_session(row: StoredSession, token: str, *, is_new: bool = False) -> BrowserSession:
    return from_attributes(BrowserSession, row, token=token, is_new=is_new)
