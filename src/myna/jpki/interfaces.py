"""Ports of the JPKI context: what it needs from above, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from myna.platform.settings import Settings


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A signed request whose signature and signer's certificate were verified."""

    signer: str
    """The organisation code its certificate from the government CA names (``jv-...``)."""
    payload: bytes


class SignedRequests(Protocol):
    """How organisations' signed requests are opened and admitted once.

    The rule is the platform's for every organisation that signs requests with a key
    certified by the government CA (agencies, 民間送達 senders, medical institutions,
    verifiers): a JWS compact serialisation (RFC 7515 §7.1), ES256, the signer's
    certificate in ``x5c`` checked with :func:`myna.jpki.verify_organization_certificate`
    (chain, validity, revocation) and naming the ``kid``; then a request id accepted once,
    within the clock skew. The network keeps that rule and the ids already seen; the
    composition root hands it to the JPKI, which sits below the network.
    """

    def open(
        self, token: str, *, session: Session, settings: Settings, max_bytes: int
    ) -> SignedRequest:
        """Verify ``token``; its signer and payload. Raises a MynaError when it is not good
        (one caused by a revoked certificate has a ``revoked`` VerificationError as cause)."""
        ...

    def admit_once(
        self, *, session: Session, request_id: str, requester: str, issued_at: datetime
    ) -> None:
        """Accept ``request_id`` of ``requester`` once, and only when ``issued_at`` is fresh."""
        ...


@dataclass(frozen=True, slots=True)
class Provision:
    """One provision of a holder's latest basic 4 info to a verifier (最新4情報の提供)."""

    verifier_organization: str
    """The verifier's organisation code (``jv-<code>``): who received the 4 info."""
    verifier_name: str
    holder_id: int
    """The registry's opaque resident id the certificates carry (never a MyNumber)."""
    purpose: str
    """The purpose the holder consented to, as signed."""
    at: datetime


class ProvisionLog(Protocol):
    """Where each provision of 4 info to a verifier is written for the holder to see.

    The exchange log (やりとり履歴) is the network's; the JPKI sits below the network, so
    the composition root hands it this port. ``record`` writes in the caller's session,
    in the same transaction as the answer that provided the 4 info.
    """

    def record(self, *, session: Session, provisions: list[Provision]) -> None:
        """Write ``provisions`` to the exchange log."""
        ...
