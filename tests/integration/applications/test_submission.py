"""Signing and filing: the signed document, the receipt, idempotency and all-or-nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import jpki, notices, registry
from myna.applications import forms, submission
from myna.applications import service as applications
from myna.applications.domain import (
    ApplicationStatus,
    canonical_json,
    parse_receipt_number,
)
from myna.applications.models import Application, ApplicationDraft, DraftAttachment
from myna.platform.settings import Settings
from tests.integration.applications.filing import (
    DISASTER,
    PROCEDURES,
    VALID_DISASTER,
    Signer,
    file_application,
    signer_for,
)
from tests.openssl import cms_verify, jpki_signing_chain_pem

PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture
def taro(session: Session, settings: Settings) -> Signer:
    return signer_for(session, settings, "taro")


def _prepare(session: Session, signer: Signer, key: str = "key-1") -> submission.SigningRequestView:
    forms.save_draft(
        session=session,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=DISASTER,
        data=dict(VALID_DISASTER),
    )
    return submission.prepare(
        session=session,
        procedures=PROCEDURES,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=DISASTER,
        submission_key=key,
    )


def _count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_a_signed_application_gets_a_receipt_and_a_receipt_notice(
    session: Session, settings: Settings, taro: Signer
) -> None:
    filed = file_application(session, settings, taro)
    assert parse_receipt_number(filed.receipt_number) == filed.receipt_number
    assert filed.status is ApplicationStatus.RECEIVED
    assert filed.data["damaged_address"] == VALID_DISASTER["damaged_address"]
    resident = registry.get_resident(session=session, resident_id=taro.resident_id)
    assert filed.signer_name == resident.full_name
    inbox = notices.inbox(session=session, resident_id=taro.resident_id)
    opened = [
        notices.get_notice(session=session, resident_id=taro.resident_id, notice_id=item.id)
        for item in inbox.items
    ]
    receipts = [n for n in opened if filed.receipt_number in n.notice.body]
    assert len(receipts) == 1
    assert receipts[0].notice.action_url == f"/applications/{filed.receipt_number}"
    history = applications.history(session=session, application_id=filed.id)
    assert [(e.kind, e.status) for e in history] == [("status", ApplicationStatus.RECEIVED)]
    assert _count(session, ApplicationDraft) == 0


def test_the_signed_content_is_the_canonical_document(
    session: Session, settings: Settings, taro: Signer
) -> None:
    request = _prepare(session, taro)
    document = request.document
    assert document["procedure"]["code"] == DISASTER
    assert document["data"] == VALID_DISASTER
    assert document["applicant"]["name"]
    assert request.content_sha256 == hashlib.sha256(request.content).hexdigest()
    # Sorted keys, no whitespace: the bytes are reproducible from the parsed document.
    assert canonical_json(document) == request.content


def test_openssl_verifies_a_filed_application(
    session: Session, settings: Settings, taro: Signer, tmp_path: Path
) -> None:
    filed = file_application(session, settings, taro)
    content, signature = applications.signed_parts(session=session, application_id=filed.id)
    (tmp_path / "application.json").write_bytes(content)
    (tmp_path / "application.p7s").write_bytes(signature)
    (tmp_path / "ca.pem").write_bytes(jpki_signing_chain_pem(session))
    result = cms_verify(
        tmp_path / "application.p7s", tmp_path / "application.json", tmp_path / "ca.pem"
    )
    assert result.returncode == 0, result.stderr.decode()


def test_the_same_submission_key_gives_the_same_request_and_one_application(
    session: Session, settings: Settings, taro: Signer
) -> None:
    first = _prepare(session, taro, "double-click")
    second = _prepare(session, taro, "double-click")
    assert first.id == second.id
    signature = taro.sign(first.content)
    filed = submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=first.id,
        signature=signature,
    )
    again = submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=first.id,
        signature=signature,
    )
    assert again.receipt_number == filed.receipt_number
    assert _count(session, Application) == 1
    after = _prepare(session, taro, "double-click")
    assert after.receipt_number == filed.receipt_number


def test_a_different_signature_on_a_used_request_is_refused(
    session: Session, settings: Settings, taro: Signer
) -> None:
    request = _prepare(session, taro)
    submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=request.id,
        signature=taro.sign(request.content),
    )
    with pytest.raises(submission.AlreadySignedError):
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=taro.sign(request.content + b" "),
        )


def test_a_signature_by_another_residents_card_is_refused(
    session: Session, settings: Settings, taro: Signer
) -> None:
    hanako = signer_for(session, settings, "hanako")
    request = _prepare(session, taro)
    with pytest.raises(submission.SignerMismatchError):
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=hanako.sign(request.content),
        )
    assert _count(session, Application) == 0


def test_a_revoked_signing_certificate_is_refused_and_nothing_is_filed(
    session: Session, settings: Settings, taro: Signer
) -> None:
    request = _prepare(session, taro)
    certificate = taro.reader.read_certificate(taro.card_id, "sign")
    jpki.revoke_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    with pytest.raises(jpki.VerificationError) as caught:
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=taro.sign(request.content),
        )
    assert caught.value.code == "revoked"
    assert _count(session, Application) == 0


def test_a_signature_over_altered_content_is_refused(
    session: Session, settings: Settings, taro: Signer
) -> None:
    request = _prepare(session, taro)
    altered = request.content.replace(b"storm", b"flood")
    with pytest.raises(jpki.VerificationError) as caught:
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=taro.sign(altered),
        )
    assert caught.value.code == "bad_signature"


def test_an_incomplete_draft_cannot_be_prepared(
    session: Session, settings: Settings, taro: Signer
) -> None:
    forms.save_draft(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code=DISASTER,
        data={"disaster_type": "storm"},
    )
    with pytest.raises(submission.ApplicationIncompleteError):
        submission.prepare(
            session=session,
            procedures=PROCEDURES,
            resident_id=taro.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            submission_key="k",
        )


def test_a_failure_while_filing_leaves_nothing_behind(
    session: Session, settings: Settings, taro: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _prepare(session, taro)
    signature = taro.sign(request.content)
    session.commit()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the server died while sending the receipt notice")

    monkeypatch.setattr(applications, "notify_resident", crash)
    with pytest.raises(RuntimeError), session.begin_nested():
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=signature,
        )
    session.expire_all()
    assert _count(session, Application) == 0
    assert _count(session, ApplicationDraft) == 1
    monkeypatch.undo()
    filed = submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=request.id,
        signature=signature,
    )
    assert filed.status is ApplicationStatus.RECEIVED


def test_attachments_are_signed_and_filed_with_the_application(
    session: Session, settings: Settings, taro: Signer
) -> None:
    submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code=DISASTER,
        name="被害写真.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    request = _prepare(session, taro)
    assert request.document["attachments"] == [
        {
            "name": "被害写真.pdf",
            "media_type": "application/pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
    ]
    filed = submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=request.id,
        signature=taro.sign(request.content),
    )
    files = applications.attachments(session=session, application_id=filed.id)
    assert [(f.name, f.size) for f in files] == [("被害写真.pdf", len(PDF))]
    assert (
        applications.attachment_data(
            session=session, application_id=filed.id, attachment_id=files[0].id
        )
        == PDF
    )
    assert _count(session, DraftAttachment) == 0


@pytest.mark.parametrize(
    ("name", "media_type", "data"),
    [
        ("a.exe", "application/pdf", b"MZ\x90\x00" + b"0" * 10),
        ("fake.png", "image/png", b"%PDF-1.7 but claims png"),
        ("empty.pdf", "application/pdf", b""),
        ("big.pdf", "application/pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
    ],
)
def test_a_wrong_type_or_oversized_attachment_is_refused(
    session: Session, taro: Signer, name: str, media_type: str, data: bytes
) -> None:
    with pytest.raises(submission.AttachmentRefusedError):
        submission.add_attachment(
            session=session,
            resident_id=taro.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            name=name,
            media_type=media_type,
            data=data,
        )
    assert _count(session, DraftAttachment) == 0


@pytest.mark.parametrize(
    "name",
    [
        "写真\x00.pdf",  # NUL: PostgreSQL text cannot hold it
        "a\nb.pdf",
        "tab\there.pdf",
        "del\x7f.pdf",
        "c1\x85.pdf",
        "\u202eexe.pdf",  # right-to-left override: shows a name other than the real one
        "zero\u200bwidth.pdf",
        "lone\udc80.pdf",
        "dir/a.pdf",
        "",
        "あ" * 121,
    ],
)
def test_an_attachment_name_with_control_characters_or_slashes_is_refused(
    session: Session, taro: Signer, name: str
) -> None:
    with pytest.raises(submission.AttachmentNameError):
        submission.add_attachment(
            session=session,
            resident_id=taro.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            name=name,
            media_type="application/pdf",
            data=PDF,
        )
    assert _count(session, DraftAttachment) == 0


def test_at_most_five_attachments(session: Session, taro: Signer) -> None:
    for number in range(5):
        submission.add_attachment(
            session=session,
            resident_id=taro.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            name=f"{number}.pdf",
            media_type="application/pdf",
            data=PDF,
        )
    with pytest.raises(submission.TooManyAttachmentsError):
        submission.add_attachment(
            session=session,
            resident_id=taro.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            name="6.pdf",
            media_type="application/pdf",
            data=PDF,
        )


def test_another_resident_cannot_see_or_remove_a_draft_attachment(
    session: Session, settings: Settings, taro: Signer
) -> None:
    hanako = signer_for(session, settings, "hanako")
    added = submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code=DISASTER,
        name="a.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    assert (
        submission.draft_attachments(
            session=session,
            resident_id=hanako.resident_id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
        )
        == []
    )
    submission.remove_attachment(
        session=session,
        resident_id=hanako.resident_id,
        municipality_code=taro.municipality_code,
        code=DISASTER,
        attachment_id=added.id,
    )
    assert _count(session, DraftAttachment) == 1


def test_another_resident_cannot_open_a_signing_request(
    session: Session, settings: Settings, taro: Signer
) -> None:
    hanako = signer_for(session, settings, "hanako")
    request = _prepare(session, taro)
    with pytest.raises(submission.SigningRequestNotFoundError):
        submission.request_for_resident(
            session=session, request_id=request.id, resident_id=hanako.resident_id
        )


def test_an_expired_signing_request_cannot_be_signed(
    session: Session, settings: Settings, taro: Signer
) -> None:
    request = _prepare(session, taro)
    later = request.expires_at + timedelta(seconds=1)
    with pytest.raises(submission.SigningRequestExpiredError):
        submission.request_for_reader(session=session, request_id=request.id, now=later)
    with pytest.raises(submission.SigningRequestExpiredError):
        submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=taro.sign(request.content),
            now=later,
        )
