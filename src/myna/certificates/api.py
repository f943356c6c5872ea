"""The kiosk API (コンビニ交付): what a multifunction copier speaks to issue certificates.

``POST /api/kiosk/v1/sessions`` opens a session and returns the nonce; the card signs
``card.protocol.kiosk_message`` with its user-authentication key after the PIN, and the
copier sends the certificate and signature to ``…/card``; ``…/certificates`` answers
with the signed PDF; ``DELETE`` ends the session when the card is taken out. See
docs/certificates.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from myna.certificates import kiosk
from myna.certificates.domain import KioskCardRefusedError, ResidentRecordOptions
from myna.certificates.schemas import (
    KioskCardAnswer,
    KioskCertificateRequest,
    KioskIdentifiedRead,
    KioskMemberRead,
    KioskSessionCreate,
    KioskSessionRead,
)
from myna.platform.api_errors import error_responses
from myna.platform.web import get_container, transaction

PREFIX = "/api/kiosk/v1"
router = APIRouter(
    prefix=PREFIX, tags=["certificates"], responses=error_responses(403, 404, 409, 410, 429)
)
SessionId = Annotated[str, PathParam(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
PDF = "application/pdf"
NO_STORE = {"Cache-Control": "no-store"}


def _identified(found: kiosk.Identified) -> KioskIdentifiedRead:
    return KioskIdentifiedRead(
        session_id=found.session_id,
        holder_name=found.holder_name,
        municipality_name=found.municipality_name,
        members=[
            KioskMemberRead(id=m.id, name=m.name, relation=m.relation, is_holder=m.is_holder)
            for m in found.members
        ],
        fees=found.fees,
        expires_at=found.expires_at,
    )


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KioskCardRefusedError from exc


@router.post("/sessions", summary="Open a kiosk session", status_code=201)
def open_session(request: Request, body: KioskSessionCreate) -> KioskSessionRead:
    """A session waiting for the card; the card signs the kiosk message with its nonce."""
    with transaction(request) as db:
        opened = kiosk.open_session(session=db, kiosk_id=body.kiosk_id)
    return KioskSessionRead(
        session_id=opened.session_id,
        kiosk_id=opened.kiosk_id,
        nonce=opened.nonce,
        expires_at=opened.expires_at,
    )


@router.post("/sessions/{session_id}/card", summary="Present the card's answer")
def present_card(
    request: Request, session_id: SessionId, body: KioskCardAnswer
) -> KioskIdentifiedRead:
    """The user-authentication certificate and its signature; the holder's choices."""
    certificate, signature = _b64(body.certificate), _b64(body.signature)
    with transaction(request) as db:
        found = kiosk.identify(
            session=db,
            settings=get_container(request).settings,
            session_id=session_id,
            certificate=certificate,
            signature=signature,
        )
    return _identified(found)


@router.get("/sessions/{session_id}", summary="The identified session's choices")
def session_choices(request: Request, session_id: SessionId) -> KioskIdentifiedRead:
    """The card holder's household and the fees, while the session is open."""
    with transaction(request) as db:
        return _identified(kiosk.identified(session=db, session_id=session_id))


@router.post(
    "/sessions/{session_id}/certificates",
    summary="Issue a certificate (the signed PDF)",
    response_class=Response,
    responses={
        200: {
            "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The certificate as a PAdES B-LTA signed PDF; its number in "
            "X-Myna-Certificate-Number, the fee (yen, not charged) in X-Myna-Fee",
        }
    },
)
def issue_certificate(
    request: Request, session_id: SessionId, body: KioskCertificateRequest
) -> Response:
    """The certificate of the card holder, signed by their municipality."""
    container = get_container(request)
    options = ResidentRecordOptions(
        scope=body.scope,
        members=tuple(body.members),
        relation=body.relation,
        domicile=body.domicile,
        my_number=body.my_number,
    )
    with transaction(request) as db:
        issued = kiosk.issue(
            session=db,
            settings=container.settings,
            hub=container.hub_for(db),
            session_id=session_id,
            kind=body.kind,
            options=options,
        )
    return Response(
        issued.pdf,
        media_type=PDF,
        headers={
            **NO_STORE,
            "X-Myna-Certificate-Number": issued.number,
            "X-Myna-Fee": str(issued.fee),
            "Content-Disposition": f'attachment; filename="certificate-{issued.number}.pdf"',
        },
    )


@router.delete("/sessions/{session_id}", summary="End the session", status_code=204)
def end_session(request: Request, session_id: SessionId) -> Response:
    """The card was taken out: nothing more is issued in this session."""
    with transaction(request) as db:
        kiosk.end(session=db, session_id=session_id)
    return Response(status_code=204)
