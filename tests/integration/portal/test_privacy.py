"""Nothing sensitive reaches the logs during issuance and login."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import registry
from myna.platform.logging import configure_logging
from myna.reader import client as login_client
from tests.integration.portal.conftest import PASSWORD, PIN, IssuedCard


def test_logs_carry_no_my_number_pin_or_token(
    portal: TestClient,
    taro_card: IssuedCard,
    session: Session,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="DEBUG", json=True)
    try:
        card = taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
        login_client.login(portal, "http://testserver", card)
        token = portal.cookies.get("myna_session")
        portal.post("/api/logout")
    finally:
        configure_logging(level="INFO", json=False)
    logged = capsys.readouterr().err
    my_number = registry.get_my_number(session=session, resident_id=taro_card.resident_id)
    assert '"event": "login"' in logged
    assert my_number not in logged
    assert PASSWORD not in logged
    assert token and token not in logged
