"""Organisations (連携する民間事業者): registration, review, keys; the client lookup."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna.partners.domain import (
    OrganizationNotFoundError,
    OrganizationStatus,
    RegisteredClient,
    RequestedScope,
)
from myna.partners.models import Organization


def client_view(row: Organization) -> RegisteredClient:
    """The organisation as the authorization server and the consent page see it."""
    return RegisteredClient(
        client_id=row.client_id,
        name=row.name,
        purpose=row.purpose,
        status=OrganizationStatus(row.status),
        redirect_uris=tuple(row.redirect_uris),
        jwks=row.jwks,
        jwks_uri=row.jwks_uri,
        requested_scopes=tuple(
            RequestedScope(scope=s["scope"], reason=s.get("reason", ""))
            for s in row.requested_scopes
        ),
        approved_scopes=tuple(row.approved_scopes),
        retention=row.retention,
        contact=row.contact,
    )


def get_client(*, session: Session, client_id: str) -> RegisteredClient:
    """The registered organisation with this client id, whatever its status; else 404."""
    row = session.scalars(
        select(Organization).where(Organization.client_id == client_id[:64])
    ).one_or_none()
    if row is None:
        raise OrganizationNotFoundError
    return client_view(row)
