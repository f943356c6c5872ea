"""Fixtures for the portal: the app over the test transaction and a persona's card."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.platform.settings import Settings

PIN = "4321"
PASSWORD = "SIGN2026"


@dataclass
class IssuedCard:
    """A persona's card in a virtual reader."""

    card_id: str
    resident_id: int
    reader: card.VirtualCardReader


@pytest.fixture
def portal(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def reader(settings: Settings) -> card.VirtualCardReader:
    return card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())


def issue(
    session: Session, settings: Settings, reader: card.VirtualCardReader, persona: str
) -> IssuedCard:
    """Issue ``persona``'s card (committed into the test's savepoint)."""
    registry.ensure_municipalities(session=session)
    resident = registry.ensure_personas(session=session)[persona]
    jpki.ensure_authorities(session=session, settings=settings)
    summary = card.issue_card(
        session=session, settings=settings, resident_id=resident.id, pin=PIN, password=PASSWORD
    )
    session.commit()
    return IssuedCard(card_id=summary.card_id, resident_id=resident.id, reader=reader)


@pytest.fixture
def taro_card(session: Session, settings: Settings, reader: card.VirtualCardReader) -> IssuedCard:
    return issue(session, settings, reader, "taro")
