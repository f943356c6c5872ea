"""A small world with known counts for the usage statistics, and the app over it.

Municipality A (千代田区) has 24 residents in their thirties, 12 of them holding a card,
and 12 children; B (中央区) has 3 residents in their forties, one holding a card. Today
12 residents logged in, yesterday 3; the exchange log, notices, applications and the
partners' API hold counts on both sides of the threshold (10).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.app import create_app
from myna.applications.models import Application
from myna.bootstrap import Container
from myna.jpki.domain import CertificateKind
from myna.network import transparency
from myna.notices.models import Notice, NoticeState
from myna.partners.models import Consent, ConsentUse
from myna.platform.clock import today_in_japan
from myna.platform.settings import Settings
from myna.portal.models import AuthEvent
from myna.reference import Sex

TOWN_A = "131016"
TOWN_B = "131024"
EMPTY_TOWN = "011002"


@dataclass
class World:
    """What was seeded: the residents' ids and what no published figure may contain."""

    residents: dict[str, list[int]]
    private: list[str]


def _my_number(serial: int) -> str:
    first = f"{70000000000 + serial:011d}"
    return first + str(registry.my_number_check_digit(first))


def _resident(session: Session, serial: int, code: str, born: date) -> int:
    read = registry.register_resident(
        session=session,
        data=registry.ResidentCreate(
            my_number=_my_number(serial),
            family_name="鈴ノ木",
            given_name=f"太郎{serial}",
            family_name_kana="スズノキ",
            given_name_kana="タロウ",
            birth_date=born,
            sex=Sex.MALE,
            municipality_code=code,
            address="東京都千代田区千代田1-1",
            registered_on=born,
        ),
    )
    return read.id


def _ages(today: date, years: int) -> date:
    """A date of birth ``years`` old today (born on 1 January)."""
    return date(today.year - years, 1, 1)


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    now = datetime.now(UTC)
    today = today_in_japan(now)
    registry.ensure_municipalities(session=session)
    thirties = [_resident(session, i, TOWN_A, _ages(today, 35)) for i in range(24)]
    children = [_resident(session, 100 + i, TOWN_A, _ages(today, 5)) for i in range(12)]
    forties = [_resident(session, 200 + i, TOWN_B, _ages(today, 45)) for i in range(3)]
    jpki.ensure_authorities(session=session, settings=settings)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    for holder, born in [
        *((r, _ages(today, 35)) for r in thirties[:12]),
        (forties[0], _ages(today, 45)),
    ]:
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=CertificateKind.AUTH,
            public_key=key,
            holder_id=holder,
            card_id=secrets.token_hex(8),
            birth_date=born,
            basic_info=None,
        )
    for n in range(12):
        session.add(
            AuthEvent(
                occurred_at=now - timedelta(minutes=n),
                event="login",
                outcome="ok",
                resident_id=thirties[n],
            )
        )
    for n in range(3):
        session.add(
            AuthEvent(
                occurred_at=now - timedelta(days=1),
                event="login",
                outcome="ok",
                resident_id=children[n],
            )
        )
    session.add(AuthEvent(occurred_at=now, event="card_verified", outcome="bad_pin"))
    transparency.append(
        session=session,
        entries=[
            transparency.NewEntry(
                requester="portal",
                provider="municipality-131016",
                procedure="self-disclosure" if n < 11 else "child-allowance",
                item="resident-record",
                subject=str(thirties[n % 24]),
                outcome=transparency.Outcome.SUCCESS,
            )
            for n in range(13)
        ],
    )
    for n in range(12):
        notice = Notice(
            sender="municipality-131016",
            title="お知らせ",
            body="本文",
            category="tax",
            published_at=now,
            resident_id=thirties[n],
            created_at=now,
        )
        session.add(notice)
        session.flush()
        if n < 11:
            session.add(NoticeState(notice_id=notice.id, resident_id=thirties[n], read_at=now))
    for n in range(14):
        session.add(
            Application(
                receipt_number=f"R{n:05d}",
                signing_request_id=f"s{n}",
                resident_id=thirties[n],
                municipality_code=TOWN_A,
                procedure_code="child-allowance-claim",
                status="received" if n < 12 else "completed",
                data={},
                content=b"",
                signature=b"",
                certificate_serial="01",
                signer_name="鈴ノ木 太郎",
                signed_at=now,
                submitted_at=now,
                updated_at=now,
            )
        )
    consent = Consent(
        id="c-stats",
        resident_id=thirties[0],
        client_id="bank",
        scopes=[],
        items=[],
        purpose="p",
        retention="r",
        receipt="x",
        granted_at=now,
    )
    session.add(consent)
    session.flush()
    for n in range(11):
        session.add(
            ConsentUse(
                consent_id="c-stats", api="self-info", items=[], succeeded=n < 10, used_at=now
            )
        )
    session.commit()
    return World(
        residents={"thirties": thirties, "children": children, "forties": forties},
        private=[
            "鈴ノ木",
            "スズノキ",
            "太郎",
            _my_number(0),
            _my_number(200),
            str(_ages(today, 45)),
        ],
    )


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as test_client:
        yield test_client
