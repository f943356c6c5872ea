"""A card login client over HTTP: what `myna card login` and the benchmark use.

It follows docs/card-login.md step by step, so it doubles as the reference client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from myna.card.protocol import login_message
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.errors import N_, MynaError


class Signer(Protocol):
    """An open card session: a certificate and a signing function."""

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, data: bytes) -> bytes: ...


class LoginRefusedError(MynaError):
    code = "login_refused"
    message = N_("The portal refused the login: {reason}")


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A completed login: the resident as the portal reports them."""

    resident: dict[str, Any]
    session_cookie: str | None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError as exc:
        raise LoginRefusedError(reason=f"HTTP {response.status_code}") from exc
    if response.status_code >= 400:
        raise LoginRefusedError(reason=body.get("message", f"HTTP {response.status_code}"))
    return body


def login(client: httpx.Client, portal_url: str, signer: Signer) -> LoginResult:
    """Same-device card login: challenge, sign the login message, answer."""
    origin = portal_url.rstrip("/")
    challenge = _json(client.post(f"{origin}/api/login/challenges"))
    message = login_message(
        origin=origin, challenge_id=challenge["challenge_id"], nonce=challenge["nonce"]
    )
    if b64url_decode(challenge["to_be_signed"]) != message:
        raise LoginRefusedError(reason="the challenge is not bound to this portal")
    body = _json(
        client.post(
            f"{origin}/api/login/challenges/{challenge['challenge_id']}/response",
            json={
                "certificate": b64url(signer.certificate.public_bytes(Encoding.DER)),
                "signature": b64url(signer.sign(message)),
            },
        )
    )
    if body.get("status") != "logged_in":
        raise LoginRefusedError(reason=str(body.get("status")))
    return LoginResult(resident=body["resident"], session_cookie=client.cookies.get("myna_session"))


async def login_async(client: httpx.AsyncClient, portal_url: str, signer: Signer) -> None:
    """The same login for load generation (no result parsing beyond success)."""
    origin = portal_url.rstrip("/")
    response = await client.post(f"{origin}/api/login/challenges")
    challenge = _json(response)
    message = login_message(
        origin=origin, challenge_id=challenge["challenge_id"], nonce=challenge["nonce"]
    )
    answer = await client.post(
        f"{origin}/api/login/challenges/{challenge['challenge_id']}/response",
        json={
            "certificate": b64url(signer.certificate.public_bytes(Encoding.DER)),
            "signature": b64url(signer.sign(message)),
        },
    )
    if _json(answer).get("status") != "logged_in":
        raise LoginRefusedError(reason="not logged in")
