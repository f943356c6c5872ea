"""Tables of the authentication app: clients, login requests, codes, tokens, signing
transactions and used assertion ids.

Residents are referenced by id only (the registry owns them); codes and tokens are
stored as SHA-256 digests. A signing certificate is kept (DER) only while a login
request or its code and token live, to read the basic 4 info when they are provided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class AuthAppClient(Base):
    """A business registered with the authentication app (an OIDC client)."""

    __tablename__ = "authapp_clients"
    __table_args__ = (UniqueConstraint("name"),)

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthAppAuthorization(Base):
    """A login request from the authorization endpoint, until the code is issued."""

    __tablename__ = "authapp_authorizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    state: Mapped[str | None] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(Integer)
    signing_request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthAppCode(Base):
    """A single-use authorization code (a digest), living at most 60 seconds."""

    __tablename__ = "authapp_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(Integer)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(255))
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthAppToken(Base):
    """A bearer access token (a digest): a resident's (code) or a business's own
    (client credentials, no resident)."""

    __tablename__ = "authapp_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(Integer)
    code_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(200))
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthAppSignRequest(Base):
    """A business's signing transaction: digests to sign, then the card's signature."""

    __tablename__ = "authapp_sign_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(100))
    digests: Mapped[list[str]] = mapped_column(JSON)
    return_url: Mapped[str] = mapped_column(String(500))
    resident_id: Mapped[int | None] = mapped_column(Integer)
    signing_request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    certificate_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthAppSeenAssertion(Base):
    """A client assertion ``jti`` already accepted (RFC 7523 §3 item 7), as a digest."""

    __tablename__ = "authapp_seen_assertions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
