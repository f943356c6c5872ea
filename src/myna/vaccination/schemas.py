"""The JSON the vaccination API answers with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Jwk(BaseModel):
    """An EC P-256 public key of an issuer (RFC 7517, RFC 7518 §6.2.1)."""

    model_config = ConfigDict(frozen=True)

    kty: str = Field(description="Always EC")
    crv: str = Field(description="Always P-256")
    x: str
    y: str
    kid: str = Field(description="RFC 7638 SHA-256 thumbprint, the JWS header's kid")
    use: str = Field(description="Always sig")
    alg: str = Field(description="Always ES256")
    x5c: list[str] = Field(
        description="The key's certificate, then the government CA's (base64 DER)"
    )


class JwkSet(BaseModel):
    """A municipality's JWK Set (RFC 7517 §5)."""

    model_config = ConfigDict(frozen=True)

    keys: list[Jwk]
