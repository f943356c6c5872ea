"""Fixtures for notices: the personas and a way to address one by link code."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from myna import network, registry
from myna.notices import Category, NoticeCreate
from tests.integration.portal.conftest import portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

CHIYODA = "muni-131016"
YOKOHAMA = "muni-141003"


@pytest.fixture
def personas(session: Session) -> dict[str, registry.ResidentRead]:
    registry.ensure_municipalities(session=session)
    return registry.ensure_personas(session=session)


def link_code(session: Session, resident: registry.ResidentRead, agency: str = CHIYODA) -> str:
    return network.link_code_for_resident(
        session=session, resident_id=resident.id, agency_code=agency
    )


def content(title: str = "お知らせ", **extra: object) -> NoticeCreate:
    values: dict[str, object] = {
        "title": title,
        "body": "本文です。\n\n二段落目。",
        "category": Category.PROCEDURE,
        "deadline": date(2027, 3, 31),
    }
    values.update(extra)
    return NoticeCreate.model_validate(values)
