"""Tables of the municipality filing API: API clients and their access tokens.

A client (a municipality's back-office system) registers an ES256 public key; it proves
itself with a signed client assertion (``private_key_jwt``), whose ``jti`` is kept until
the assertion expires so it is accepted once. Access tokens are random and opaque; only
their SHA-256 digest is stored, like the back office's session tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class MunicipalityApiClient(Base):
    """A municipality's system allowed to pull its filings (申請データ取得API の利用者)."""

    __tablename__ = "municipality_api_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(200))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MunicipalityApiAssertion(Base):
    """A client assertion's ``jti`` already used, kept until the assertion expires."""

    __tablename__ = "municipality_api_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MunicipalityApiToken(Base):
    """An access token issued to a client; the token itself is never stored."""

    __tablename__ = "municipality_api_tokens"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    scope: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
