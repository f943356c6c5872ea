"""The phone credential at the portal: issuance through the card's signing flow.

The issuance request the phone's keys are bound in is signed by the card through the
e-application signing flow (the card reader, its API, the signing password), under a
purpose of its own; :class:`PhoneIssuance` takes the signed request and has JPKI issue
the phone's certificates (docs/phone-credential.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from myna import jpki, phone, registry
from myna.applications import submission
from myna.platform.db import utcnow
from myna.platform.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuanceSigning:
    """The signing request that carries an issuance request to the card."""

    request_id: str
    expires_at: datetime


def request_signature(
    *,
    session: Session,
    settings: Settings,
    resident_id: int,
    issuance_id: str,
    keys: dict[phone.PhoneKey, tuple[bytes, bytes]],
    attestation: phone.Attestation,
    now: datetime | None = None,
) -> IssuanceSigning:
    """Register the phone's keys and unlock, and open the card's signing request over them."""
    now = now or utcnow()
    resident = registry.get_resident(session=session, resident_id=resident_id)
    content = phone.register_keys(
        session=session,
        settings=settings,
        resident_id=resident_id,
        issuance_id=issuance_id,
        keys=keys,
        attestation=attestation,
        applicant_name=resident.full_name,
        now=now,
    )
    view = submission.open_signing_request(
        session=session,
        resident_id=resident_id,
        submission_key=issuance_id,
        municipality_code="",
        procedure_code="phone-credential",
        content=lambda: content,
        purpose=phone.ISSUANCE_PURPOSE,
        done_path="/phone/",
        now=now,
    )
    phone.attach_signing_request(
        session=session, resident_id=resident_id, issuance_id=issuance_id, request_id=view.id
    )
    return IssuanceSigning(request_id=view.id, expires_at=view.expires_at)


@dataclass
class PhoneIssuance:
    """Issues the phone's certificates once the card signed (a ``SignedDocumentHandler``)."""

    settings: Settings

    def on_signed(
        self,
        *,
        session: Session,
        request: submission.SigningRequestView,
        signed: jpki.SignedContent,
        signature: bytes,
        now: datetime,
    ) -> submission.SignedReceipt:
        """Issue the two certificates; the receipt names the phone credential."""
        del signature  # kept with the signing request by the signing flow
        issued = phone.complete_issuance(
            session=session,
            settings=self.settings,
            signing_request_id=request.id,
            document=request.document,
            signed=signed,
            now=now,
        )
        return submission.SignedReceipt(
            receipt_number=issued.credential_id[:16].upper(),
            status="issued",
            procedure_name=request.procedure_name,
        )
