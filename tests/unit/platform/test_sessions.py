"""Browser sessions' pure rules: token digests, lifetimes, the CSRF check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from myna.platform.sessions import RESIDENT, STAFF, CsrfError, Lifetime, check_csrf, token_digest
from myna.platform.sessions.domain import new_token

START = datetime(2026, 11, 28, tzinfo=UTC)
LIFETIME = Lifetime(idle=timedelta(minutes=30), absolute=timedelta(hours=8))


@dataclass(frozen=True)
class Carrier:
    csrf_token: str


def test_only_a_digest_of_the_token_is_kept() -> None:
    digest = token_digest("secret-token")
    assert "secret-token" not in digest
    assert len(digest) == 64


def test_tokens_are_unpredictable() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(token) >= 43 for token in tokens)  # 256 bits in base64url


def test_sessions_expire_when_idle_or_too_old() -> None:
    assert not LIFETIME.expired(START + timedelta(minutes=29), created_at=START, last_seen_at=START)
    assert LIFETIME.expired(START + timedelta(minutes=31), created_at=START, last_seen_at=START)
    busy = START + timedelta(hours=8)
    assert LIFETIME.expired(
        START + timedelta(hours=8, minutes=1), created_at=START, last_seen_at=busy
    )


def test_a_half_finished_two_step_login_expires_after_five_minutes() -> None:
    later = START + timedelta(minutes=6)
    assert LIFETIME.expired(
        later, created_at=START, last_seen_at=later, awaiting_second_factor=True
    )
    assert not LIFETIME.expired(later, created_at=START, last_seen_at=later)


def test_the_csrf_check_needs_the_sessions_own_token() -> None:
    session = Carrier(csrf_token=new_token())
    assert check_csrf(session, session.csrf_token) is session
    for submitted in (None, "", "forged", session.csrf_token[:-1], Carrier(new_token()).csrf_token):
        with pytest.raises(CsrfError):
            check_csrf(session, submitted)
    with pytest.raises(CsrfError):
        check_csrf(None, session.csrf_token)


def test_a_csrf_token_with_other_characters_is_refused_not_an_error() -> None:
    session = Carrier(csrf_token=new_token())
    with pytest.raises(CsrfError):
        check_csrf(session, "トークン" + session.csrf_token)


def test_each_kind_has_its_own_cookie() -> None:
    assert RESIDENT.cookie != STAFF.cookie
    assert (RESIDENT.path, RESIDENT.same_site) == ("/", "lax")
    assert (STAFF.path, STAFF.same_site) == ("/office", "strict")
