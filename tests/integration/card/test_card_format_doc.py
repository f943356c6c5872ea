"""docs/card-format.md: a program without Myna opens a card Myna issued, as documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from myna import registry
from myna.card import KeyKind, VirtualCardReader, issue_card
from myna.platform.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "card-format.md"
PIN = "1234"


def _python_blocks(heading: str) -> list[str]:
    section = DOC.read_text(encoding="utf-8").split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def _public(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def test_the_documented_procedure_opens_an_issued_card_and_refuses_a_wrong_pin(
    session: Session, settings: Settings
) -> None:
    taro = registry.ensure_personas(session=session)["taro"]
    issued = issue_card(
        session=session, settings=settings, resident_id=taro.id, pin=PIN, password="MYNA2026"
    )
    card_file = settings.card_dir / f"{issued.card_id}.json"
    reader_block, standalone = _python_blocks("## Opening a card from another program")
    # The reader calls the first example makes exist as written.
    assert "VirtualCardReader.from_settings(Settings())" in reader_block
    assert callable(VirtualCardReader.from_settings)
    namespace: dict[str, Any] = {}
    exec(standalone, namespace)  # noqa: S102 - the documentation's own code, run as written
    secret = settings.card_secret.get_secret_value()
    key = namespace["open_card"](card_file, secret, "auth", PIN)
    card = VirtualCardReader.from_settings(settings).load(issued.card_id)
    certificate = card.applications[KeyKind.AUTH].certificate
    assert _public(key.public_key()) == _public(certificate.public_key())
    with pytest.raises(ValueError, match="wrong PIN"):
        namespace["open_card"](card_file, secret, "auth", "9999")
    with pytest.raises(ValueError, match="damaged"):
        namespace["open_card"](card_file, "another-secret", "auth", PIN)


def test_the_demo_secret_the_docs_name_is_the_development_default() -> None:
    text = DOC.read_text(encoding="utf-8")
    development = Settings(environment="development", _env_file=None)  # type: ignore[call-arg]
    assert f"`{development.card_secret.get_secret_value()}`" in text
    assert development.card_dir.as_posix() + "/" in text.replace("`var/cards/`", "var/cards/")
