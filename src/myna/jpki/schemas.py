"""Pydantic shapes of the JPKI JSON routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AuthorityRead(BaseModel):
    """One CA in the public index."""

    kind: str
    subject: str
    not_before: datetime
    not_after: datetime
    sha256_fingerprint: str
    certificate_url: str
    crl_url: str


class AuthorityIndex(BaseModel):
    """Where a relying party finds the CA certificates, CRLs and the OCSP responder."""

    authorities: list[AuthorityRead]
    ocsp_url: str


class ErrorRead(BaseModel):
    """An error: a stable code and a message in the reader's language."""

    code: str
    message: str
