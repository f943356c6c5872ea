"""What the card (and the reader software) and the portal agree on, and nothing else.

The card login's message (docs/card-login.md) is built by both sides from the
challenge, never taken from the server as bytes: the reader signs only what it built.
Pure: no I/O, no database, so a client imports it without the server's parts.
"""

from __future__ import annotations

PROTOCOL = "myna-card-login-v1"


def login_message(*, origin: str, challenge_id: str, nonce: str) -> bytes:
    """The exact bytes the card signs: protocol, portal origin, challenge id and nonce.

    Binding the origin means a signature made for one portal cannot be replayed at
    another, and the reader builds these bytes itself rather than signing whatever a
    server sends it.
    """
    return "\n".join((PROTOCOL, origin.rstrip("/"), challenge_id, nonce)).encode("utf-8")


COUNTER_PROTOCOL = "myna-eligibility-v1"


def counter_message(*, institution_code: str, visit_id: str, nonce: str) -> bytes:
    """The exact bytes the card signs at a clinic's reader (オンライン資格確認).

    Bound to the institution's 医療機関コード and the visit, so a signature made at one
    counter cannot confirm a visit at another.
    """
    return "\n".join((COUNTER_PROTOCOL, institution_code, visit_id, nonce)).encode("utf-8")


KIOSK_PROTOCOL = "myna-certificate-kiosk-v1"


def kiosk_message(*, kiosk_id: str, session_id: str, nonce: str) -> bytes:
    """The exact bytes the card signs at a certificate kiosk (コンビニ交付).

    Bound to the kiosk and to its session, so a signature made at one copier cannot
    open a session at another, nor a later one at the same copier.
    """
    return "\n".join((KIOSK_PROTOCOL, kiosk_id, session_id, nonce)).encode("utf-8")
