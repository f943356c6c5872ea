"""docs/card-login.md: the example of how ``to_be_signed`` is encoded is what the code sends."""

from __future__ import annotations

import re
from pathlib import Path

from myna.card.protocol import login_message
from myna.platform.encoding import b64url

DOC = Path(__file__).resolve().parents[3] / "docs" / "card-login.md"


def test_the_documented_to_be_signed_is_the_unpadded_base64url_of_the_message() -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"is sent as `([A-Za-z0-9_-]+)`", text)
    assert example is not None
    message = login_message(origin="http://127.0.0.1:8000", challenge_id="abc", nonce="xyz")
    assert example.group(1) == b64url(message)
    assert "`myna-card-login-v1\\nhttp://127.0.0.1:8000\\nabc\\nxyz`" in text
