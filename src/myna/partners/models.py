"""Partner tables: organisations, pushed requests, codes, tokens, consents and their uses.

Residents are referenced by id only (the registry owns them); secrets are stored as
SHA-256 digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class Organization(Base):
    """A private organisation (民間事業者) registered as an API client."""

    __tablename__ = "partner_organizations"
    __table_args__ = (UniqueConstraint("client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200), default="")
    retention: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    requested_scopes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    approved_scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(Text, default="")


class PushedRequest(Base):
    """A pushed authorization request (RFC 9126), then the pending authorization it becomes."""

    __tablename__ = "partner_pushed_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    """A single-use authorization code (stored as a digest), living at most 60 seconds."""

    __tablename__ = "partner_authorization_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(Integer)
    consent_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(String(255))
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    # The card login the consent was given in (the ID token's ``auth_time``).
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccessToken(Base):
    """A DPoP-bound access token (stored as a digest), bound to one consent."""

    __tablename__ = "partner_access_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[int] = mapped_column(Integer)
    consent_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    jkt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SeenProof(Base):
    """A DPoP proof or client assertion ``jti`` already accepted (replay refusal)."""

    __tablename__ = "partner_seen_proofs"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Consent(Base):
    """A resident's consent to one organisation, item by item, with its signed receipt."""

    __tablename__ = "partner_consents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    retention: Mapped[str] = mapped_column(String(200))
    receipt: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsentUse(Base):
    """One use of a consent by its organisation (written where the use happens)."""

    __tablename__ = "partner_consent_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[str] = mapped_column(
        ForeignKey("partner_consents.id", ondelete="CASCADE"), index=True
    )
    api: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[str]] = mapped_column(JSON)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
