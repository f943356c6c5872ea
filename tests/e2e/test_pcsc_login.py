"""A virtual card on vpcd's PC/SC reader: pyscard sees it, the APDU reader signs with it,
and `myna card login --reader pcsc` logs its holder in — the path a physical card takes.

One journey in one test: vpcd has one slot at 127.0.0.1:35963, so the steps must not
run side by side in two workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from myna import card, jpki
from myna.card.apdu import JPKI_ATR
from myna.card.pcsc import reader_names
from myna.cli import app
from myna.platform.db import unit_of_work
from myna.platform.settings import get_settings
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import PASSWORD, PIN, Platform
from tests.e2e.pcsc import vpcd_reader

CARD_SECONDS = 30


@pytest.fixture
def pcsc_reader() -> Iterator[str]:
    with vpcd_reader() as name:
        yield name


@pytest.fixture
def cli_env(platform: Platform) -> Iterator[dict[str, str]]:
    env = {
        "MYNA_ENVIRONMENT": "test",
        "MYNA_DATA_DIR": str(platform.settings.data_dir),
        "MYNA_PORTAL_URL": platform.portal,
        "MYNA_DEFAULT_LOCALE": "ja",
        **{f"MYNA_{key.upper()}": value for key, value in TEST_SETTINGS.items()},
    }
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def _wait_for_card(reader: str) -> bytes:
    """The ATR of the card on ``reader``, once pcscd has seen it (a PC/SC event, no polling)."""
    from smartcard.CardRequest import CardRequest  # noqa: PLC0415 - pyscard is optional

    service = CardRequest(timeout=CARD_SECONDS, readers=[reader]).waitforcard()
    connection = service.connection
    connection.connect()
    try:
        return bytes(connection.getATR())
    finally:
        connection.release()


def test_a_virtual_card_on_a_pcsc_reader_signs_and_logs_in(
    pcsc_reader: str, platform: Platform, cli_env: dict[str, str]
) -> None:
    virtual = card.VirtualCardReader.from_settings(platform.settings)
    auth_certificate = virtual.read_certificate(platform.card_id, "auth")
    # The platform's card is shared by this process's tests, some of which enter a wrong
    # PIN: the right one first puts its counter back to the full three tries.
    virtual.open_session(platform.card_id, "auth", PIN)
    content = "<申請>転出届</申請>".encode()
    with card.VpcdCard(card.JpkiChip(virtual, platform.card_id)):
        assert pcsc_reader in reader_names()
        assert _wait_for_card(pcsc_reader) == JPKI_ATR

        with card.PcscTransport(pcsc_reader) as transport:
            reader = card.ApduCardReader(transport)
            [summary] = reader.list_cards()
            assert summary.card_id == card.card_id_for(auth_certificate)
            assert summary.auth_tries_left == 3
            # A wrong PIN through PC/SC costs a try of the very card file.
            with pytest.raises(card.WrongPinError) as wrong:
                reader.open_session(summary.card_id, "auth", "0000")
            assert wrong.value.remaining == 2
            assert virtual.summary(platform.card_id).auth_tries_left == 2
            signing = reader.open_session(summary.card_id, "sign", PASSWORD)
            signature = signing.sign_cms(content)

        # JPKI verifies the signature made through PC/SC: chain, validity, revocation.
        with unit_of_work(platform.container.session_factory) as session:
            signed = jpki.verify_detached_signature(
                session=session, settings=platform.settings, signature=signature, content=content
            )
        assert signed.basic_info.name == "山田 太郎"

        # The terminal login with the card on the reader: no card id needed.
        result = CliRunner().invoke(
            app,
            ["card", "login", "--reader", "pcsc", "--pcsc-reader", pcsc_reader, "--pin", PIN],
            env=cli_env,
        )
        assert result.exit_code == 0, result.output
        assert "山田 太郎" in result.output
        # The right PIN reset the count the wrong one spent.
        assert virtual.summary(platform.card_id).auth_tries_left == 3

        wrong_login = CliRunner().invoke(
            app,
            ["card", "login", "--reader", "pcsc", "--pcsc-reader", pcsc_reader, "--pin", "0000"],
            env=cli_env,
        )
        assert wrong_login.exit_code == 1
        assert "あと2回" in wrong_login.output
        assert "Traceback" not in wrong_login.output
        # Leave the shared card as the other tests expect it.
        virtual.open_session(platform.card_id, "auth", PIN)
