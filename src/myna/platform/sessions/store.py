"""The server-side session store: open, load, rotate, end and purge browser sessions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, RowMapping, Table, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from myna.platform.db import insert_row, read_only, unit_of_work, utcnow
from myna.platform.sessions.domain import Lifetime, SessionKind, new_token, token_digest
from myna.platform.sessions.models import StoredSession
from myna.platform.settings import Settings

Clock = Callable[[], datetime]
# Refreshing last_seen on every request would turn every page view into a write.
TOUCH_INTERVAL = timedelta(seconds=60)
# The table itself: the store's statements are Core statements (one row by primary key
# at every request; the ORM's identity map and bulk-update evaluation cost more than the
# statements, and nothing here needs an object).
SESSIONS = cast(Table, StoredSession.__table__)
_BY_DIGEST = select(SESSIONS).where(SESSIONS.c.token_digest == bindparam("digest"))
_END = delete(SESSIONS).where(
    SESSIONS.c.token_digest == bindparam("digest"), SESSIONS.c.kind == bindparam("kind")
)
_FORGET = delete(SESSIONS).where(SESSIONS.c.token_digest == bindparam("digest"))
_TOUCH = (
    update(SESSIONS)
    .where(SESSIONS.c.token_digest == bindparam("digest"))
    .values(last_seen_at=bindparam("now"))
)


class _Due(Enum):
    """What a looked-up row needs written before it is used."""

    NOTHING = "nothing"
    TOUCH = "touch"
    EXPIRED = "expired"


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
        """The live session of ``kind`` for a cookie ``token``; None if unknown or expired.

        Inside the caller's transaction: an expired row is deleted, a session unseen for
        a minute has its ``last_seen_at`` moved on.
        """
        if not token:
            return None
        digest = token_digest(token)
        row = self._row(db, kind, digest)
        if row is None:
            return None
        now = self.clock()
        due = self._due(row, now)
        if due is _Due.EXPIRED:
            db.execute(_FORGET, {"digest": digest})
            return None
        if due is _Due.TOUCH:
            self._touch(db, digest, now)
        return _as_browser_session(row, token)

    def look_up(
        self, factory: sessionmaker[Session], kind: SessionKind, token: str | None
    ) -> BrowserSession | None:
        """:meth:`load` as every request does it: a read, and a write only when one is due.

        The row is read in a ``read_only`` session (no write lock, nothing to commit); the
        rare request that finds it expired or due a touch does :meth:`load` in a short
        write transaction of its own.
        """
        if not token:
            return None
        with read_only(factory) as db:
            row = self._row(db, kind, token_digest(token))
            if row is None:
                return None
            if self._due(row, self.clock()) is _Due.NOTHING:
                return _as_browser_session(row, token)
        with unit_of_work(factory) as db:
            return self.load(db, kind, token)

    def _row(self, db: Session, kind: SessionKind, digest: str) -> RowMapping | None:
        row = db.execute(_BY_DIGEST, {"digest": digest}).mappings().first()
        if row is None or row["kind"] != kind.name:
            return None
        return row

    def _due(self, row: Mapping[Any, Any], now: datetime) -> _Due:
        if self.lifetime.expired(
            now,
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
            awaiting_second_factor=row["awaiting_second_factor"],
        ):
            return _Due.EXPIRED
        if now - row["last_seen_at"] > TOUCH_INTERVAL:
            return _Due.TOUCH
        return _Due.NOTHING

    @staticmethod
    def _touch(db: Session, digest: str, now: datetime) -> None:
        db.execute(_TOUCH, {"digest": digest, "now": now})

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
            update(SESSIONS)
            .where(
                SESSIONS.c.token_digest == token_digest(token),
                SESSIONS.c.kind == kind.name,
                SESSIONS.c.subject_id.is_not(None),
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
        result = db.execute(_END, {"digest": token_digest(token), "kind": kind.name})
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return bool(result.rowcount)

    def end_subject(self, db: Session, kind: SessionKind, subject_id: int) -> int:
        """End every session of ``kind`` a subject holds (an account disabled); how many."""
        result = db.execute(
            delete(SESSIONS).where(
                SESSIONS.c.kind == kind.name, SESSIONS.c.subject_id == subject_id
            )
        )
        assert isinstance(result, CursorResult)  # noqa: S101 - DML always yields a cursor result
        return int(result.rowcount)

    def purge_expired(self, db: Session) -> int:
        """Delete every expired session of every kind; returns how many went."""
        now = self.clock()
        result = db.execute(
            delete(SESSIONS).where(
                or_(
                    SESSIONS.c.last_seen_at < now - self.lifetime.idle,
                    SESSIONS.c.created_at < now - self.lifetime.absolute,
                    (SESSIONS.c.awaiting_second_factor.is_(True))
                    & (SESSIONS.c.created_at < now - self.lifetime.second_factor),
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
        row = {
            "token_digest": token_digest(token),
            "kind": kind.name,
            "csrf_token": new_token(),
            "subject_id": subject_id,
            "awaiting_second_factor": awaiting_second_factor,
            "certificate_serial": certificate_serial,
            "certificate_not_after": certificate_not_after,
            "created_at": now,
            "last_seen_at": now,
            "authenticated_at": now if subject_id is not None else None,
            "acting_for_id": None,
            "acting_grant": None,
            "acting_label": None,
            "acting_scopes": None,
        }
        insert_row(db, StoredSession, row)
        return _as_browser_session(row, token, is_new=True)


def _as_browser_session(
    row: Mapping[Any, Any], token: str, *, is_new: bool = False
) -> BrowserSession:
    return BrowserSession(
        kind=row["kind"],
        token=token,
        csrf_token=row["csrf_token"],
        subject_id=row["subject_id"],
        awaiting_second_factor=bool(row["awaiting_second_factor"]),
        certificate_serial=row["certificate_serial"],
        certificate_not_after=row["certificate_not_after"],
        authenticated_at=row["authenticated_at"],
        is_new=is_new,
        acting_for_id=row["acting_for_id"],
        acting_grant=row["acting_grant"],
        acting_label=row["acting_label"],
        acting_scopes=row["acting_scopes"],
    )
