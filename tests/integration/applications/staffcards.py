"""A staff card (職員証) in a test: a card answering the challenge, the administrator's pages.

``register_staff_card`` does what an administrator and the staff member do on the pages:
start the registration, present the card through the card login protocol (the reader's
two requests, docs/card-login.md), confirm.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from httpx import Response

from myna.platform.encoding import b64url, b64url_decode
from tests.integration.portal.conftest import PIN, IssuedCard

PORTAL = "http://testserver"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def request_uri_of(page: str) -> str:
    """The ``request_uri`` of the card reader's link on a challenge page."""
    link = re.search(r'href="(http://[^"]+/authorize\?request_uri=[^"]+)"', page)
    assert link
    return parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]


def challenge_id_of(page: str) -> str:
    """The challenge a page waits for."""
    found = re.search(r'data-challenge="([^"]+)"', page)
    assert found
    return found.group(1)


def answer_challenge(api: TestClient, request_uri: str, issued: IssuedCard) -> Response:
    """A card reader answering: read the challenge, rebuild the message, sign, post."""
    path = urlsplit(request_uri).path
    challenge = api.get(path)
    assert challenge.status_code == 200, challenge.text
    body = challenge.json()
    message = b64url_decode(body["to_be_signed"])
    assert (
        message == f"myna-card-login-v1\n{PORTAL}\n{body['challenge_id']}\n{body['nonce']}".encode()
    )
    chip = issued.reader.open_session(issued.card_id, "auth", PIN)
    return api.post(
        f"{path}/response",
        json={
            "certificate": b64url(chip.certificate.public_bytes(Encoding.DER)),
            "signature": b64url(chip.sign(message)),
        },
    )


def register_staff_card(admin_browser: TestClient, staff_id: int, issued: IssuedCard) -> Response:
    """The administrator starts, the card answers (from a browser of its own), the
    administrator confirms; the confirmation's answer."""
    cards_page = admin_browser.get(f"/office/staff/{staff_id}/cards")
    assert cards_page.status_code == 200, cards_page.text
    started = admin_browser.post(
        f"/office/staff/{staff_id}/cards/challenge",
        data={"csrf_token": _csrf(cards_page.text)},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    present = admin_browser.get(started.headers["location"])
    card_holder = TestClient(admin_browser.app, base_url=PORTAL)  # no cookies of the admin's
    answered = answer_challenge(card_holder, request_uri_of(present.text), issued)
    assert answered.json() == {"status": "verified", "resident": None}
    verified = admin_browser.get(started.headers["location"])
    assert verified.status_code == 200
    return admin_browser.post(
        f"/office/staff/{staff_id}/cards",
        data={"csrf_token": _csrf(verified.text), "challenge_id": challenge_id_of(present.text)},
        follow_redirects=False,
    )
