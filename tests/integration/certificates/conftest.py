"""The certificates world: personas, CAs and agency data, with a seal and a PNG maker."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import card, jpki, network, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PASSWORD, PIN

PORTAL = "http://testserver"


def seal_png(size: int = 120, *, text: str = "山田") -> bytes:
    """A round red seal imprint as a PNG."""
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, size - 4, size - 4), outline=(200, 30, 30, 255), width=6)
    draw.line((size // 2, 12, size // 2, size - 12), fill=(200, 30, 30, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    _ = text
    return buffer.getvalue()


@dataclass
class World:
    session: Session
    settings: Settings
    container: Container
    residents: dict[str, registry.ResidentRead]

    def hub(self) -> network.Hub:
        return self.container.hub_for(self.session)

    def id(self, persona: str) -> int:
        return self.residents[persona].id

    def log_entries(self, item: str) -> list[LogEntryRow]:
        return list(self.session.scalars(select(LogEntryRow).where(LogEntryRow.item == item)))

    def log_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(LogEntryRow)) or 0


@pytest.fixture
def world(session: Session, settings: Settings, container: Container) -> World:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    return World(session, settings, container, residents)


@dataclass
class LoggedIn:
    client: TestClient
    card_id: str


def logged_in(world: World, persona: str) -> Iterator[LoggedIn]:
    """The persona with a new card, logged in to the portal with it."""
    reader = card.VirtualCardReader(
        world.settings.card_dir, world.settings.card_secret.get_secret_value()
    )
    issued = card.issue_card(
        session=world.session,
        settings=world.settings,
        resident_id=world.id(persona),
        pin=PIN,
        password=PASSWORD,
    )
    world.session.commit()
    with TestClient(create_app(world.container), base_url=PORTAL) as client:
        login_client.login(client, PORTAL, reader.open_session(issued.card_id, "auth", PIN))
        yield LoggedIn(client, issued.card_id)
