"""The authorization server's table of used ``jti`` values, and DPoP checks bound to it.

DPoP proofs (RFC 9449 §11.1) and client assertions (RFC 7523 §3 item 7) are each
accepted once: every accepted ``jti`` is kept in :class:`SeenProof` until the JWT is too
old to pass anyway. The checks themselves are the platform's
(:mod:`myna.platform.oauth.rfc9449`, :mod:`myna.platform.oauth.rfc7523`); this module
only lends them the table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from myna.partners.models import SeenProof
from myna.platform.db import insert_once
from myna.platform.oauth import rfc9449
from myna.platform.oauth.rfc7519 import Remember


def seen_key(kind: str, scope: str, jti: str) -> str:
    """What is stored for a jti: a digest, since jtis are chosen by clients and scoped
    to one key (DPoP) or one client (assertions)."""
    return hashlib.sha256(f"{kind}\x00{scope}\x00{jti}".encode()).hexdigest()


def remember(*, session: Session, kind: str, scope: str, jti: str, until: datetime) -> bool:
    """Record a jti as used; False if it was seen before (a replay, RFC 9449 §11.1)."""
    return insert_once(
        session, SeenProof, {"jti": seen_key(kind, scope, jti), "kind": kind, "expires_at": until}
    )


def remembering(session: Session, kind: str) -> Remember:
    """The platform's replay port over this table, for one kind of JWT."""

    def record(scope: str, jti: str, until: datetime) -> bool:
        return remember(session=session, kind=kind, scope=scope, jti=jti, until=until)

    return record


def check_proof(
    *,
    session: Session,
    proof: str | None,
    method: str,
    url: str,
    now: datetime,
    access_token: str | None = None,
) -> rfc9449.DPoPProof:
    """A valid proof not used before (all of RFC 9449 §4.3, item 10 included)."""
    checked = rfc9449.verify_proof(
        proof, method=method, url=url, now=now, access_token=access_token
    )
    return rfc9449.remember_proof(checked, remembering(session, "dpop"))
