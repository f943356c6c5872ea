"""Signing and filing an e-application (電子署名付き申請), with attachments and pre-fill.

The flow, like the card login's (docs/applications.md):

1. :func:`prepare` turns the resident's checked draft into the canonical document of
   :mod:`myna.applications.domain` and a single-use signing request, keyed by
   the page's ``submission_key`` so that a second click finds the same request;
2. the card reader fetches the request (:func:`request_for_reader`), shows the
   resident what they sign, and the card signs it with the signing key (password);
3. :func:`complete` verifies the detached CMS signature, checks the signer is the
   resident, and in ONE transaction writes the application, moves the attachments,
   records "received", removes the draft and sends the receipt notice. A crash at any
   point leaves the whole application or nothing; a repeated answer returns the same
   receipt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from myna import jpki, network, phone, proxy, registry
from myna.applications import forms
from myna.applications import service as applications
from myna.applications.domain import (
    MAX_APPLICATION_ATTACHMENT_BYTES,
    MAX_APPLICATION_ATTACHMENTS,
    SIGNING_REQUEST_MINUTES,
    ApplicationDocument,
    ApplicationStatus,
    AttachmentDigest,
    new_receipt_number,
)
from myna.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationDraft,
    DraftAttachment,
    SigningRequest,
)
from myna.applications.procedures import Procedures
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.files import DOCUMENT_SIGNATURES
from myna.platform.settings import Settings

PREFILL_PROCEDURE = "e-application-prefill"
APPLICATION = "application"  # the purpose of a signing request for an e-application
SUBMISSION_KEY_LENGTH = 43
# File types accepted as attachments, recognised by their first bytes, not their name.
ATTACHMENT_SIGNATURES = DOCUMENT_SIGNATURES
MAX_ATTACHMENT_NAME = 120
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs"})


class SubmissionError(MynaError):
    """Base of signing and submission errors."""

    code = "submission_error"


class ApplicationIncompleteError(SubmissionError):
    code = "application_incomplete"
    message = N_("The form still has errors. Correct the fields shown and check it again.")
    status_code = 422


class SigningRequestNotFoundError(NotFoundError):
    code = "signing_request_not_found"
    message = N_("This signing request does not exist. Start again from the application form.")


class SigningRequestExpiredError(SubmissionError):
    code = "signing_request_expired"
    message = N_(
        "The time to sign this application has run out. "
        "Open the form again and press “Sign and submit”."
    )
    status_code = 410


class AlreadySignedError(SubmissionError):
    code = "already_signed"
    message = N_(
        "This application has already been signed and submitted. "
        "See its receipt under “My applications”."
    )
    status_code = 409


class SignerMismatchError(SubmissionError):
    code = "signer_mismatch"
    message = N_(
        "The application was signed with a card that is not yours. "
        "Sign with your own MyNumber card."
    )
    status_code = 403


class ProxySignedAsPrincipalError(SubmissionError):
    """An application a proxy prepared, signed with any card but the proxy's own."""

    code = "proxy_must_sign"
    message = N_(
        "This application was prepared by a proxy and must be signed with the proxy's own "
        "card. A proxy never signs as the person they act for."
    )
    status_code = 403


class InvalidSignatureEncodingError(SubmissionError):
    code = "invalid_signature_encoding"
    message = N_("The signature was not sent as base64url text. Sign again with the card reader.")
    status_code = 400


class AttachmentProblemError(SubmissionError):
    """A file that cannot be attached; the form is shown again with the reason."""

    code = "attachment_problem"
    status_code = 422


class NoFileChosenError(AttachmentProblemError):
    code = "no_file_chosen"
    message = N_("Choose the file to attach, then press “Attach”.")


class AttachmentRefusedError(AttachmentProblemError):
    code = "attachment_refused"
    message = N_(
        "「{name}」 cannot be attached: only PDF, PNG and JPEG files up to {limit} MB are "
        "accepted. Choose another file."
    )
    status_code = 422


class TooManyAttachmentsError(AttachmentProblemError):
    code = "too_many_attachments"
    message = N_("At most {limit} files can be attached. Remove one before adding another.")
    status_code = 422


class AttachmentNameError(AttachmentProblemError):
    code = "attachment_name"
    message = N_(
        "Give the file a name of at most 120 characters, without slashes or control characters."
    )
    status_code = 422


class SigningCertificateError(SubmissionError):
    """The resident's card cannot sign now: no signing certificate in force."""

    code = "signing_certificate_unusable"
    status_code = 409


class SigningCertificateRevokedError(SigningCertificateError):
    code = "signing_certificate_revoked"
    message = N_(
        "Your signing certificate has been revoked, so the application cannot be signed. "
        "Have it reissued at your municipality's counter, then sign again."
    )
    status_code = 409


class SigningCertificateExpiredError(SigningCertificateError):
    code = "signing_certificate_expired"
    message = N_(
        "Your signing certificate has expired, so the application cannot be signed. "
        "Have it renewed at your municipality's counter, then sign again."
    )
    status_code = 409


class NoSigningCertificateError(SigningCertificateError):
    code = "no_signing_certificate"
    message = N_(
        "Your MyNumber card has no signing certificate, so the application cannot be signed. "
        "A signing certificate is issued at your municipality's counter."
    )
    status_code = 409


_STANDING_ERRORS: dict[jpki.SigningStanding, type[SigningCertificateError]] = {
    jpki.SigningStanding.REVOKED: SigningCertificateRevokedError,
    jpki.SigningStanding.EXPIRED: SigningCertificateExpiredError,
    jpki.SigningStanding.MISSING: NoSigningCertificateError,
}


def check_signing_certificate(
    *, session: Session, resident_id: int, now: datetime | None = None
) -> None:
    """Refuse to start a signature the card could not make: no signing certificate in force.

    Asked before a signing request is created and while the page waits for the card, so
    a revoked or expired certificate is told at once rather than after the card reader
    has been opened (the portal would refuse the signature anyway, see :func:`complete`).
    """
    standing = jpki.signing_standing(session=session, holder_id=resident_id, at=now)
    error = _STANDING_ERRORS.get(standing)
    if error is not None:
        raise error


class NothingToPrefillError(SubmissionError):
    code = "nothing_to_prefill"
    message = N_("Choose at least one part of the form to fill in from your information.")
    status_code = 422


@dataclass(frozen=True, slots=True)
class SigningRequestView:
    """A signing request as the portal page and the card reader see it."""

    id: str
    municipality_code: str
    procedure_code: str
    procedure_name: str
    municipality_name: str
    content: bytes
    content_sha256: str
    expires_at: datetime
    receipt_number: str | None
    purpose: str = APPLICATION
    own_done_path: str | None = None
    resident_id: int = 0
    # Prepared by a proxy (代理人): whose card must sign (theirs, never the resident's).
    proxy_id: int | None = None

    @property
    def signer_id(self) -> int:
        """Whose card must sign: the proxy's when a proxy prepared it, else the resident's."""
        return self.resident_id if self.proxy_id is None else self.proxy_id

    @property
    def document(self) -> dict[str, Any]:
        return _parse(self.content)

    @property
    def done_path(self) -> str | None:
        """The page that shows the signed document (the receipt), once signed."""
        if self.receipt_number is None:
            return None
        return self.own_done_path or f"/applications/{self.receipt_number}"


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    """What the card reader is told once a signed document was accepted (受付)."""

    receipt_number: str
    status: str
    procedure_name: str


class SignedDocumentHandler(Protocol):
    """What another context does with a document the card signed (a tax return is filed).

    Called in the caller's transaction once the signature is verified and the signer is
    the resident who asked; raising leaves nothing written.
    """

    def on_signed(
        self,
        *,
        session: Session,
        request: SigningRequestView,
        signed: jpki.SignedContent,
        signature: bytes,
        now: datetime,
    ) -> SignedReceipt:
        """Accept the signed document; its receipt."""
        ...


@dataclass(frozen=True, slots=True)
class DraftAttachmentView:
    """A file waiting on a draft."""

    id: int
    name: str
    media_type: str
    size: int
    sha256: str


# --- attachments -----------------------------------------------------------------------


def _check_file(name: str, media_type: str, data: bytes) -> str:
    """The file's real type, from its first bytes; the size and name within limits."""
    shown = name[:60]
    clean = name.strip()
    if not clean or len(clean) > MAX_ATTACHMENT_NAME or "/" in clean or "\\" in clean:
        raise AttachmentNameError
    # Control characters (NUL, which PostgreSQL cannot store; newlines), invisible format
    # characters (a right-to-left override makes a name ending in "fdp.exe" read as one
    # ending in "exe.pdf") and lone surrogates have no place in a name staff read.
    if any(unicodedata.category(c) in _UNPRINTABLE for c in clean):
        raise AttachmentNameError
    limit_mb = MAX_APPLICATION_ATTACHMENT_BYTES // (1024 * 1024)
    if len(data) > MAX_APPLICATION_ATTACHMENT_BYTES or not data:
        raise AttachmentRefusedError(name=shown, limit=limit_mb)
    for kind, magics in ATTACHMENT_SIGNATURES.items():
        if data.startswith(magics) and (media_type in (kind, "application/octet-stream", "")):
            return kind
    raise AttachmentRefusedError(name=shown, limit=limit_mb)


def add_attachment(
    *,
    session: Session,
    resident_id: int,
    municipality_code: str,
    code: str,
    name: str,
    media_type: str,
    data: bytes,
) -> DraftAttachmentView:
    """Attach a file to the resident's draft, after checking its type, size and count."""
    forms.form_for(session=session, municipality_code=municipality_code, code=code)
    kind = _check_file(name, media_type, data)
    existing = draft_attachments(
        session=session, resident_id=resident_id, municipality_code=municipality_code, code=code
    )
    if len(existing) >= MAX_APPLICATION_ATTACHMENTS:
        raise TooManyAttachmentsError(limit=MAX_APPLICATION_ATTACHMENTS)
    row = DraftAttachment(
        resident_id=resident_id,
        municipality_code=municipality_code,
        procedure_code=code,
        name=name.strip(),
        media_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _attachment_view(row)


def _attachment_view(row: DraftAttachment) -> DraftAttachmentView:
    return DraftAttachmentView(
        id=row.id, name=row.name, media_type=row.media_type, size=row.size, sha256=row.sha256
    )


def _draft_attachment_rows(
    session: Session, resident_id: int, municipality_code: str, code: str
) -> list[DraftAttachment]:
    return list(
        session.scalars(
            select(DraftAttachment)
            .where(
                DraftAttachment.resident_id == resident_id,
                DraftAttachment.municipality_code == municipality_code,
                DraftAttachment.procedure_code == code,
            )
            .order_by(DraftAttachment.id)
        )
    )


def draft_attachments(
    *, session: Session, resident_id: int, municipality_code: str, code: str
) -> list[DraftAttachmentView]:
    """The files on the resident's draft, oldest first (never another resident's)."""
    return [
        _attachment_view(row)
        for row in _draft_attachment_rows(session, resident_id, municipality_code, code)
    ]


def remove_attachment(
    *, session: Session, resident_id: int, municipality_code: str, code: str, attachment_id: int
) -> None:
    """Take a file off the resident's own draft; another resident's id changes nothing."""
    session.execute(
        delete(DraftAttachment).where(
            DraftAttachment.id == attachment_id,
            DraftAttachment.resident_id == resident_id,
            DraftAttachment.municipality_code == municipality_code,
            DraftAttachment.procedure_code == code,
        )
    )


# --- pre-fill --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrefillResult:
    """What the pre-fill brought: the values by field, and the groups it could not fill."""

    values: dict[str, Any]
    missing_groups: list[str]


def prefill(
    *,
    session: Session,
    hub: network.Hub,
    resident_id: int,
    municipality_code: str,
    code: str,
    group_titles: list[str],
    proxy_id: int | None = None,
) -> PrefillResult:
    """Fill the agreed groups from わたしの情報, fetched through the hub (and so logged).

    Only the items of the groups the resident agreed to are asked for, under the
    self-only procedure 電子申請の入力補助; the exchange appears in やりとり履歴.
    """
    forms.form_for(session=session, municipality_code=municipality_code, code=code)
    form = forms.checked_forms()[code]
    chosen = [g for g in form.groups if g.prefill is not None and g.title in group_titles]
    if not chosen:
        raise NothingToPrefillError
    items = sorted({g.prefill.item for g in chosen if g.prefill is not None})
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=resident_id,
        items=items,
        procedure=PREFILL_PROCEDURE,
        actor_id=proxy_id,
    )
    # The newest record of each item (an item may have several, e.g. one per year).
    newest: dict[str, network.ItemRecord] = {}
    for result in outcome.results:
        for record in result.records:
            known = newest.get(record.item)
            if known is None or record.updated_at > known.updated_at:
                newest[record.item] = record
    values: dict[str, Any] = {}
    missing: list[str] = []
    for group in chosen:
        assert group.prefill is not None  # noqa: S101 - filtered above
        found = newest.get(group.prefill.item)
        payload = None if found is None else found.payload
        filled = False
        for field_name, source in group.prefill.fields:
            value = None if payload is None else payload.get(source)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                values[field_name] = value
                filled = True
        if not filled:
            missing.append(group.title)
    draft = forms.load_draft(
        session=session, resident_id=resident_id, municipality_code=municipality_code, code=code
    )
    forms.save_draft(
        session=session,
        resident_id=resident_id,
        municipality_code=municipality_code,
        code=code,
        data={**(draft or {}), **values},
    )
    return PrefillResult(values=values, missing_groups=missing)


# --- signing ---------------------------------------------------------------------------


def new_submission_key() -> str:
    """A fresh idempotency key for one rendering of the submit button."""
    return secrets.token_urlsafe(32)


def _view(session: Session, row: SigningRequest) -> SigningRequestView:
    receipt = row.receipt_number
    if row.application_id is not None:
        application = session.get(Application, row.application_id)
        receipt = None if application is None else application.receipt_number
    document = _document_names(row.content)
    return SigningRequestView(
        id=row.id,
        municipality_code=row.municipality_code,
        procedure_code=row.procedure_code,
        procedure_name=document[0],
        municipality_name=document[1],
        content=row.content,
        content_sha256=row.content_sha256,
        expires_at=row.expires_at,
        receipt_number=receipt,
        purpose=row.purpose,
        own_done_path=row.done_path,
        proxy_id=row.proxy_id,
        resident_id=row.resident_id,
    )


def _document_names(content: bytes) -> tuple[str, str]:
    document = _parse(content)
    return str(document["procedure"]["name"]), str(document["municipality"]["name"])


def _document(
    session: Session,
    procedures: Procedures,
    *,
    resident_id: int,
    municipality_code: str,
    code: str,
    submission_key: str,
    now: datetime,
    proxy_id: int | None = None,
) -> ApplicationDocument:
    """The checked draft as the document to sign; an incomplete draft is refused.

    A proxy's document names them beside the applicant (``proxy``).
    """
    procedure, municipality_name = forms.form_for(
        session=session, municipality_code=municipality_code, code=code
    )
    form = forms.checked_forms()[code]
    data = forms.load_draft(
        session=session, resident_id=resident_id, municipality_code=municipality_code, code=code
    )
    if data is None or forms.validate(form, data):
        raise ApplicationIncompleteError
    if forms.check_references(session=session, form=form, data=data):
        raise ApplicationIncompleteError
    if procedures.of(code).check_draft(
        session=session, resident_id=resident_id, data=data, today=today_in_japan(now)
    ):
        raise ApplicationIncompleteError
    resident = registry.get_resident(session=session, resident_id=resident_id)
    files = _draft_attachment_rows(session, resident_id, municipality_code, code)
    return ApplicationDocument(
        procedure_code=code,
        procedure_name=procedure.name_ja,
        municipality_code=municipality_code,
        municipality_name=municipality_name,
        applicant_name=resident.full_name,
        data=data,
        attachments=tuple(
            AttachmentDigest(name=f.name, media_type=f.media_type, size=f.size, sha256=f.sha256)
            for f in files
        ),
        submission_key=submission_key,
        prepared_at=now,
        labels=forms.labels(session=session, form=form, data=data),
        proxy_name=None
        if proxy_id is None
        else registry.get_resident(session=session, resident_id=proxy_id).full_name,
    )


def preview(
    *,
    session: Session,
    procedures: Procedures,
    resident_id: int,
    municipality_code: str,
    code: str,
    now: datetime | None = None,
    proxy_id: int | None = None,
) -> dict[str, Any]:
    """The document :func:`prepare` would freeze now, for the review page (確認画面).

    Built by the same code from the same draft, so the review shows what the card reader
    will show and the card will sign; only the submission key and the time differ.
    """
    document = _document(
        session,
        procedures,
        resident_id=resident_id,
        municipality_code=municipality_code,
        code=code,
        submission_key="",
        now=now or utcnow(),
        proxy_id=proxy_id,
    )
    return document.to_dict()


def prepare(
    *,
    session: Session,
    procedures: Procedures,
    resident_id: int,
    municipality_code: str,
    code: str,
    submission_key: str,
    now: datetime | None = None,
    proxy_id: int | None = None,
) -> SigningRequestView:
    """Freeze the checked draft into the document to sign; the same key, the same request.

    A resident whose signing certificate is revoked or expired is told so here, before
    any request exists (:func:`check_signing_certificate`). A proxy (``proxy_id``)
    prepares a document naming them, which only their own card can sign.
    """
    moment = now or utcnow()

    def document() -> bytes:
        return _document(
            session,
            procedures,
            resident_id=resident_id,
            municipality_code=municipality_code,
            code=code,
            submission_key=submission_key.strip(),
            now=moment,
            proxy_id=proxy_id,
        ).canonical()

    return open_signing_request(
        session=session,
        resident_id=resident_id,
        submission_key=submission_key,
        municipality_code=municipality_code,
        procedure_code=code,
        content=document,
        now=moment,
        proxy_id=proxy_id,
    )


def open_signing_request(
    *,
    session: Session,
    resident_id: int,
    submission_key: str,
    municipality_code: str,
    procedure_code: str,
    content: Callable[[], bytes],
    purpose: str = APPLICATION,
    done_path: str | None = None,
    now: datetime | None = None,
    proxy_id: int | None = None,
) -> SigningRequestView:
    """The signing request for the page's ``submission_key``: the same key, the same request.

    ``content`` makes the bytes to sign, only when a new request is needed. A signed
    request is returned as it is (with its receipt); an expired one that was never signed
    is made afresh. A resident whose signing certificate is revoked or expired is told
    so here, before any request exists (:func:`check_signing_certificate`).
    """
    now = now or utcnow()
    key = submission_key.strip()
    if not key or len(key) > 64 or not key.replace("-", "").replace("_", "").isalnum():
        raise SigningRequestNotFoundError
    existing = session.scalars(
        select(SigningRequest).where(
            SigningRequest.resident_id == resident_id, SigningRequest.submission_key == key
        )
    ).one_or_none()
    if existing is not None and _signed(existing):
        return _view(session, existing)
    signer = resident_id if proxy_id is None else proxy_id
    check_signing_certificate(session=session, resident_id=signer, now=now)
    if existing is not None and existing.expires_at > now and existing.proxy_id == proxy_id:
        return _view(session, existing)
    to_sign = content()
    if existing is not None:  # expired, or for another signer, never signed: afresh
        session.delete(existing)
        session.flush()
    row = SigningRequest(
        id=secrets.token_urlsafe(32),
        resident_id=resident_id,
        submission_key=key,
        municipality_code=municipality_code,
        procedure_code=procedure_code,
        content=to_sign,
        content_sha256=hashlib.sha256(to_sign).hexdigest(),
        created_at=now,
        expires_at=now + timedelta(minutes=SIGNING_REQUEST_MINUTES),
        failures=0,
        purpose=purpose,
        done_path=done_path,
        proxy_id=proxy_id,
    )
    session.add(row)
    session.flush()
    return _view(session, row)


def _signed(row: SigningRequest) -> bool:
    return row.application_id is not None or row.receipt_number is not None


def _request_row(session: Session, request_id: str, *, lock: bool = False) -> SigningRequest:
    """The signing request ``request_id``; ``lock``: held until the transaction ends, so
    two answers to it at once (two workers) are filed one after the other, the second
    finding the first's receipt."""
    if not request_id or len(request_id) > 64:
        raise SigningRequestNotFoundError
    row = session.get(SigningRequest, request_id, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise SigningRequestNotFoundError
    return row


def request_for_resident(
    *, session: Session, request_id: str, resident_id: int
) -> SigningRequestView:
    """The resident's own signing request (another resident's is "not found")."""
    row = _request_row(session, request_id)
    if row.resident_id != resident_id:
        raise SigningRequestNotFoundError
    return _view(session, row)


def request_for_reader(
    *, session: Session, request_id: str, now: datetime | None = None
) -> SigningRequestView:
    """What the card reader fetches: the bytes to sign, while the request is open.

    The id is 256 random bits known only to the resident's page and reader, as for
    login challenges.
    """
    now = now or utcnow()
    row = _request_row(session, request_id)
    if _signed(row):
        raise AlreadySignedError
    if row.expires_at <= now:
        raise SigningRequestExpiredError
    return _view(session, row)


def decode_signature(text: str) -> bytes:
    """The base64url signature of the reader's answer."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidSignatureEncodingError from exc


def complete(
    *,
    session: Session,
    procedures: Procedures,
    settings: Settings,
    request_id: str,
    signature: bytes,
    now: datetime | None = None,
    unlock: phone.Assertion | None = None,
) -> applications.ApplicationRead:
    """Verify the signature and file the application, all in the caller's transaction.

    A signature by a phone credential comes with the phone's unlock (``unlock``).
    """
    now = now or utcnow()
    row = _request_row(session, request_id, lock=True)
    if row.purpose != APPLICATION:
        raise SigningRequestNotFoundError
    if row.application_id is not None:
        filed = session.get(Application, row.application_id)
        if filed is not None and filed.signature == signature:
            return applications.read(filed)  # the same answer again: the same receipt
        raise AlreadySignedError
    signed = _verified(session, settings, row, signature, now, unlock)
    files = _draft_attachment_rows(
        session, row.resident_id, row.municipality_code, row.procedure_code
    )
    document = _parse(row.content)
    signed_digests = [a["sha256"] for a in document["attachments"]]
    files = [f for f in files if f.sha256 in signed_digests]
    application = Application(
        receipt_number=new_receipt_number(),
        signing_request_id=row.id,
        resident_id=row.resident_id,
        municipality_code=row.municipality_code,
        procedure_code=row.procedure_code,
        status=ApplicationStatus.RECEIVED.value,
        data=document["data"],
        content=row.content,
        signature=signature,
        certificate_serial=format(signed.certificate.serial, "x"),
        signer_name=signed.basic_info.name,
        signed_at=signed.signing_time or now,
        submitted_at=now,
        updated_at=now,
        proxy_id=row.proxy_id,
    )
    session.add(application)
    session.flush()
    session.add_all(
        ApplicationAttachment(
            application_id=application.id,
            name=f.name,
            media_type=f.media_type,
            size=f.size,
            sha256=f.sha256,
            data=f.data,
        )
        for f in files
    )
    applications.record_event(
        session,
        application,
        kind="status",
        actor=applications.RESIDENT if row.proxy_id is None else f"proxy:{row.proxy_id}",
        status=ApplicationStatus.RECEIVED,
        now=now,
    )
    row.application_id = application.id
    if row.proxy_id is not None:
        authority = proxy.check_authority(
            session=session,
            proxy_id=row.proxy_id,
            principal_id=row.resident_id,
            scope=proxy.Scope.APPLY,
            now=now,
        )
        proxy.record(
            session=session,
            principal_id=row.resident_id,
            proxy_id=row.proxy_id,
            grant=authority.grant,
            action="applied",
            detail=f"{application.receipt_number} {_document_names(row.content)[0]}",
            now=now,
        )
    procedures.of(application.procedure_code).on_filed(session=session, application=application)
    _clear_draft(session, row.resident_id, row.municipality_code, row.procedure_code)
    applications.notify_resident(session, application, status=ApplicationStatus.RECEIVED)
    session.flush()
    return applications.read(application)


def finish(
    *,
    session: Session,
    procedures: Procedures,
    handlers: Mapping[str, SignedDocumentHandler],
    settings: Settings,
    request_id: str,
    signature: bytes,
    now: datetime | None = None,
    unlock: phone.Assertion | None = None,
) -> SignedReceipt:
    """The card's answer to any signing request: an application is filed (:func:`complete`),
    another purpose's document goes to its handler, in the caller's transaction.

    The same answer again returns the same receipt; another signature over a signed
    request is refused.
    """
    now = now or utcnow()
    row = _request_row(session, request_id, lock=True)
    if row.purpose == APPLICATION:
        filed = complete(
            session=session,
            procedures=procedures,
            settings=settings,
            request_id=request_id,
            signature=signature,
            now=now,
            unlock=unlock,
        )
        return SignedReceipt(filed.receipt_number, filed.status.value, filed.procedure_name)
    handler = handlers.get(row.purpose)
    if handler is None:
        raise SigningRequestNotFoundError
    view = _view(session, row)
    if row.receipt_number is not None:
        if row.signature == signature:
            return SignedReceipt(row.receipt_number, "received", view.procedure_name)
        raise AlreadySignedError
    signed = _verified(session, settings, row, signature, now, unlock)
    receipt = handler.on_signed(
        session=session, request=view, signed=signed, signature=signature, now=now
    )
    row.receipt_number = receipt.receipt_number
    row.signature = signature
    session.flush()
    return receipt


def _verified(
    session: Session,
    settings: Settings,
    row: SigningRequest,
    signature: bytes,
    now: datetime,
    unlock: phone.Assertion | None = None,
) -> jpki.SignedContent:
    """The signature over an open request, checked: in time, valid, by the resident who asked.

    A phone credential's signature counts only with the phone's unlock over the same
    document (docs/phone-credential.md), checked once the signer is known to be the
    resident.
    """
    if row.expires_at <= now:
        raise SigningRequestExpiredError
    signed = jpki.verify_detached_signature(
        session=session, settings=settings, signature=signature, content=row.content
    )
    if row.proxy_id is not None:
        # Signing is never delegated: a proxy's document is signed with the proxy's own
        # card, as proxy — the resident's card (or anyone else's) is refused — and only
        # while the proxy still may apply for the resident.
        if signed.certificate.holder_id != row.proxy_id:
            raise ProxySignedAsPrincipalError
        proxy.check_authority(
            session=session,
            proxy_id=row.proxy_id,
            principal_id=row.resident_id,
            scope=proxy.Scope.APPLY,
            now=now,
        )
    elif signed.certificate.holder_id != row.resident_id:
        raise SignerMismatchError
    phone.verify_unlock(
        session=session,
        settings=settings,
        certificate=signed.certificate,
        to_be_signed=row.content,
        assertion=unlock,
    )
    return signed


def _parse(content: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(content)
    return parsed


def _clear_draft(session: Session, resident_id: int, municipality_code: str, code: str) -> None:
    for table in (ApplicationDraft, DraftAttachment):
        session.execute(
            delete(table).where(
                table.resident_id == resident_id,
                table.municipality_code == municipality_code,
                table.procedure_code == code,
            )
        )


def status(
    *, session: Session, request_id: str, resident_id: int, now: datetime | None = None
) -> dict[str, str]:
    """For the waiting page: pending, expired, signed with the receipt number, or error.

    ``error`` (with a code and a message for the resident) is a signature that cannot
    come: the resident's signing certificate was revoked or expired while the page
    waited — the card reader is told the same by the portal when it answers.
    """
    now = now or utcnow()
    view = request_for_resident(session=session, request_id=request_id, resident_id=resident_id)
    if view.receipt_number is not None and view.done_path is not None:
        return {
            "state": "signed",
            "receipt_number": view.receipt_number,
            "done_url": view.done_path,
        }
    if view.expires_at <= now:
        return {"state": "expired"}
    try:
        check_signing_certificate(session=session, resident_id=view.signer_id, now=now)
    except SigningCertificateError as error:
        return {"state": "error", "error": error.code, "message": error.localized()}
    return {"state": "pending"}
