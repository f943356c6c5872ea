"""The back office's application pages (申請管理): scope, status flow, roles, comments, export."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, notices
from myna.app import create_app
from myna.applications import service as applications
from myna.applications import submission
from myna.applications.domain import ApplicationStatus
from myna.applications.service import ApplicationRead
from myna.bootstrap import Container
from myna.card import KeyKind
from myna.office import filings
from myna.office import service as office
from myna.platform.settings import Settings
from tests.integration.applications.filing import Signer, file_application, signer_for
from tests.openssl import cms_verify, run_commands, shell_commands

PASSWORD = "correct-horse-2026"
CHIYODA = "131016"
PDF = b"%PDF-1.7\n" + b"0" * 100
DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.fixture
def taro(session: Session, settings: Settings) -> Signer:
    return signer_for(session, settings, "taro")


@pytest.fixture
def filed(session: Session, settings: Settings, taro: Signer) -> ApplicationRead:
    submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code="disaster-certificate",
        name="被害写真.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    application = file_application(session, settings, taro)
    session.commit()
    return application


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _log_in(
    client: TestClient,
    session: Session,
    settings: Settings,
    *,
    login: str,
    role: office.StaffRole,
    municipality: str = CHIYODA,
) -> None:
    """Create a staff account and log it in with both factors."""
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code=municipality,
        login_id=login,
        display_name=f"職員{login}",
        role=role,
        password=PASSWORD,
    )
    session.commit()
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": PASSWORD},
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=session, settings=settings, login_id=login)
    response = client.post(
        "/office/login/code", data={"csrf_token": _csrf(page.text), "code": code}
    )
    assert response.status_code == 200
    assert "/office/login" not in str(response.url)


@pytest.fixture
def supervisor(client: TestClient, session: Session, settings: Settings) -> TestClient:
    _log_in(client, session, settings, login="suzuki", role=office.StaffRole.SUPERVISOR)
    return client


@pytest.fixture
def clerk(client: TestClient, session: Session, settings: Settings) -> TestClient:
    _log_in(client, session, settings, login="yamamoto", role=office.StaffRole.CLERK)
    return client


def _detail(client: TestClient, application: ApplicationRead) -> str:
    response = client.get(f"/office/applications/{application.receipt_number}")
    assert response.status_code == 200
    text: str = response.text
    return text


def _post_status(
    client: TestClient, application: ApplicationRead, status: str, comment: str = ""
) -> int:
    page = _detail(client, application)
    response = client.post(
        f"/office/applications/{application.receipt_number}/status",
        data={"csrf_token": _csrf(page), "status": status, "comment": comment},
        follow_redirects=False,
    )
    code: int = response.status_code
    return code


def _status(session: Session, application: ApplicationRead) -> ApplicationStatus:
    session.expire_all()
    return applications.get_application(
        session=session, receipt_number=application.receipt_number
    ).status


def _notice_bodies(session: Session, resident_id: int) -> list[str]:
    inbox = notices.inbox(session=session, resident_id=resident_id)
    return [
        notices.get_notice(session=session, resident_id=resident_id, notice_id=item.id).notice.body
        for item in inbox.items
    ]


# --- scope -----------------------------------------------------------------------------


def test_staff_list_and_open_only_their_own_municipalitys_applications(
    session: Session, settings: Settings, filed: ApplicationRead, supervisor: TestClient
) -> None:
    misaki = signer_for(session, settings, "misaki")
    assert misaki.municipality_code != CHIYODA
    elsewhere = file_application(session, settings, misaki)
    session.commit()
    listing = supervisor.get("/office/applications")
    assert listing.status_code == 200
    assert filed.receipt_number in listing.text
    assert elsewhere.receipt_number not in listing.text
    assert filed.signer_name in listing.text
    foreign = supervisor.get(f"/office/applications/{elsewhere.receipt_number}")
    assert foreign.status_code == 404
    assert (
        supervisor.get(f"/office/applications/{elsewhere.receipt_number}/export.zip").status_code
        == 404
    )
    refused = supervisor.post(
        f"/office/applications/{elsewhere.receipt_number}/status",
        data={"csrf_token": _csrf(_detail(supervisor, filed)), "status": "under-review"},
    )
    assert refused.status_code == 404
    assert _status(session, elsewhere) is ApplicationStatus.RECEIVED


def test_the_list_filters_by_status(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    received = supervisor.get("/office/applications?status=received")
    assert filed.receipt_number in received.text
    completed = supervisor.get("/office/applications?status=completed")
    assert filed.receipt_number not in completed.text


def test_the_pages_need_a_logged_in_staff_member(
    client: TestClient, filed: ApplicationRead
) -> None:
    for path in (
        "/office/applications",
        f"/office/applications/{filed.receipt_number}",
        f"/office/applications/{filed.receipt_number}/export.zip",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/office/login"


def test_the_dashboard_counts_applications_by_status_and_links_the_list(
    filed: ApplicationRead, supervisor: TestClient
) -> None:
    page = supervisor.get("/office").text
    assert 'href="/office/applications"' in page
    assert 'href="/office/applications?status=received"' in page
    assert f'href="/office/applications/{filed.receipt_number}"' in page


# --- the detail page -------------------------------------------------------------------


def test_the_detail_shows_a_valid_signature_and_the_data_with_the_forms_labels(
    filed: ApplicationRead, supervisor: TestClient
) -> None:
    page = _detail(supervisor, filed)
    assert "電子署名" in page
    assert "有効" in page
    assert filed.signer_name in page
    assert filed.certificate_serial in page
    assert "災害の種類" in page
    assert "台風・暴風" in page  # the option's label, not "storm"
    assert "令和8年9月15日" in page  # the date in 和暦, not 2026-09-15
    assert "所有者かつ居住者" in page
    assert "被害写真.pdf" in page


def test_a_revoked_signing_certificate_shows_as_revoked(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    jpki.revoke_certificate(
        session=session,
        serial=int(filed.certificate_serial, 16),
        reason=jpki.RevocationReason.LOSS,
    )
    session.commit()
    page = _detail(supervisor, filed)
    assert "失効" in page
    assert "有効</span>" not in page
    assert filed.signer_name in page
    assert filed.certificate_serial in page


def test_an_attachment_downloads_as_a_file_of_its_type(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    files = applications.attachments(session=session, application_id=filed.id)
    response = supervisor.get(
        f"/office/applications/{filed.receipt_number}/attachments/{files[0].id}"
    )
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "UTF-8''%E8%A2%AB" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    missing = supervisor.get(
        f"/office/applications/{filed.receipt_number}/attachments/{files[0].id + 1000}"
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("attachment_id", [2**31, 2**63, 10**30])
def test_an_attachment_id_no_table_can_hold_gets_the_error_page_not_a_server_error(
    filed: ApplicationRead, supervisor: TestClient, attachment_id: int
) -> None:
    response = supervisor.get(
        f"/office/applications/{filed.receipt_number}/attachments/{attachment_id}"
    )
    assert response.status_code == 422
    assert "リクエストの内容が正しくありません" in response.text


# --- status flow -----------------------------------------------------------------------


def test_a_supervisor_takes_an_application_through_review_to_completion_and_the_resident_is_told(
    session: Session, taro: Signer, filed: ApplicationRead, supervisor: TestClient
) -> None:
    assert _post_status(supervisor, filed, "under-review") == 303
    assert _status(session, filed) is ApplicationStatus.UNDER_REVIEW
    assert _post_status(supervisor, filed, "completed", "証明書を郵送しました。") == 303
    assert _status(session, filed) is ApplicationStatus.COMPLETED
    bodies = _notice_bodies(session, taro.resident_id)
    done = [b for b in bodies if filed.receipt_number in b and "完了" in b]
    assert len(done) == 1
    assert "証明書を郵送しました。" in done[0]
    events = applications.history(session=session, application_id=filed.id)
    assert [e.status for e in events if e.kind == "status"] == [
        ApplicationStatus.RECEIVED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.COMPLETED,
    ]
    assert events[-1].actor.startswith("staff:")
    page = _detail(supervisor, filed)
    assert "状況は変更できません" in page
    assert 'name="status"' not in page


def test_a_transition_the_flow_does_not_allow_is_refused(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    assert _post_status(supervisor, filed, "completed", "早すぎる完了") == 409
    assert _post_status(supervisor, filed, "no-such-status") == 422
    assert _status(session, filed) is ApplicationStatus.RECEIVED
    events = applications.history(session=session, application_id=filed.id)
    assert len(events) == 1


def test_a_correction_request_or_a_rejection_needs_a_reason(
    session: Session, taro: Signer, filed: ApplicationRead, supervisor: TestClient
) -> None:
    before = len(_notice_bodies(session, taro.resident_id))
    assert _post_status(supervisor, filed, "rejected", "   ") == 422
    assert _status(session, filed) is ApplicationStatus.RECEIVED
    assert len(_notice_bodies(session, taro.resident_id)) == before
    page = _detail(supervisor, filed)
    assert _post_status(supervisor, filed, "under-review") == 303
    response = supervisor.post(
        f"/office/applications/{filed.receipt_number}/status",
        data={"csrf_token": _csrf(page), "status": "correction-requested", "comment": ""},
    )
    assert response.status_code == 422
    assert "理由" in response.text
    assert 'role="alert"' in response.text
    assert _status(session, filed) is ApplicationStatus.UNDER_REVIEW
    assert (
        _post_status(supervisor, filed, "correction-requested", "写真を追加してください。") == 303
    )
    bodies = _notice_bodies(session, taro.resident_id)
    assert any("写真を追加してください。" in b for b in bodies)


def test_a_clerk_can_start_a_review_but_cannot_complete_or_reject(
    session: Session, filed: ApplicationRead, clerk: TestClient
) -> None:
    assert _post_status(clerk, filed, "under-review") == 303
    page = _detail(clerk, filed)
    response = clerk.post(
        f"/office/applications/{filed.receipt_number}/status",
        data={"csrf_token": _csrf(page), "status": "completed"},
    )
    assert response.status_code == 403
    assert "管理職" in response.text
    assert _post_status(clerk, filed, "rejected", "要件を満たしません。") == 403
    assert _status(session, filed) is ApplicationStatus.UNDER_REVIEW


def test_a_post_without_this_sessions_csrf_token_is_refused(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    for fields in ({"csrf_token": "forged-token"}, {"csrf_token": ""}, {}):
        response = supervisor.post(
            f"/office/applications/{filed.receipt_number}/status",
            data={**fields, "status": "under-review"},
        )
        assert response.status_code == 403, fields
        comment = supervisor.post(
            f"/office/applications/{filed.receipt_number}/comments",
            data={**fields, "note": "内部メモ"},
        )
        assert comment.status_code == 403, fields
    assert _status(session, filed) is ApplicationStatus.RECEIVED
    assert len(applications.history(session=session, application_id=filed.id)) == 1


# --- comments --------------------------------------------------------------------------


def test_internal_comments_are_for_staff_and_shared_ones_reach_the_resident_history(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    page = _detail(supervisor, filed)
    url = f"/office/applications/{filed.receipt_number}/comments"
    token = _csrf(page)
    assert (
        supervisor.post(url, data={"csrf_token": token, "note": "本人確認は済み"}).status_code
        == 200
    )
    shared = supervisor.post(
        url, data={"csrf_token": token, "note": "写真を確認しました。", "share": "on"}
    )
    assert shared.status_code == 200
    empty = supervisor.post(url, data={"csrf_token": token, "note": "  "})
    assert empty.status_code == 422
    staff_view = applications.history(session=session, application_id=filed.id)
    resident_view = applications.history(
        session=session, application_id=filed.id, for_resident=True
    )
    comments = [(e.comment, e.visible_to_resident) for e in staff_view if e.kind == "comment"]
    assert comments == [("本人確認は済み", False), ("写真を確認しました。", True)]
    assert [e.comment for e in resident_view if e.kind == "comment"] == ["写真を確認しました。"]
    page = _detail(supervisor, filed)
    assert "本人確認は済み" in page
    assert "写真を確認しました。" in page


# --- export ----------------------------------------------------------------------------


def test_the_export_package_holds_the_signed_bytes_and_openssl_verifies_it(
    session: Session, filed: ApplicationRead, supervisor: TestClient, tmp_path: Path
) -> None:
    response = supervisor.get(f"/office/applications/{filed.receipt_number}/export.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "application.json",
        "application.p7s",
        "ca.pem",
        "manifest.json",
        "README.txt",
        "attachments/被害写真.pdf",
    } <= names
    content, signature = applications.signed_parts(session=session, application_id=filed.id)
    assert archive.read("application.json") == content
    assert archive.read("application.p7s") == signature
    assert archive.read("attachments/被害写真.pdf") == PDF
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["receipt_number"] == filed.receipt_number
    assert manifest["municipality"] == CHIYODA
    assert manifest["status"] == "received"
    assert manifest["verification"]["status"] == "valid"
    assert manifest["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert [e["status"] for e in manifest["history"]] == ["received"]
    assert "openssl cms -verify" in archive.read("README.txt").decode()
    archive.extractall(tmp_path)
    result = cms_verify(
        tmp_path / "application.p7s", tmp_path / "application.json", tmp_path / "ca.pem"
    )
    assert result.returncode == 0, result.stderr.decode()
    # A changed byte is refused by the same command.
    (tmp_path / "application.json").write_bytes(content.replace(b"storm", b"flood"))
    tampered = cms_verify(
        tmp_path / "application.p7s", tmp_path / "application.json", tmp_path / "ca.pem"
    )
    assert tampered.returncode != 0


def _crl_commands(text: str) -> list[str]:
    """The documented revocation check: from ``openssl crl`` to the verification."""
    commands = shell_commands(text)
    start = next(i for i, c in enumerate(commands) if c.startswith("openssl crl "))
    end = next(i for i, c in enumerate(commands) if i > start and "-crl_check" in c)
    return commands[start : end + 1]


def test_the_documented_crl_check_runs_on_openssl_and_catches_a_revoked_signer(
    session: Session,
    filed: ApplicationRead,
    supervisor: TestClient,
    taro: Signer,
    tmp_path: Path,
) -> None:
    archive = zipfile.ZipFile(
        io.BytesIO(
            supervisor.get(f"/office/applications/{filed.receipt_number}/export.zip").content
        )
    )
    archive.extractall(tmp_path)
    readme = _crl_commands(archive.read("README.txt").decode())
    documented = _crl_commands(DOCS.joinpath("back-office.md").read_text(encoding="utf-8"))
    # The package and the documentation give the same commands, with the CRL in the CA file.
    assert readme == documented
    assert not any("-CRLfile" in command for command in readme)
    (tmp_path / "sign.crl").write_bytes(supervisor.get("/jpki/crl/sign.crl").content)
    valid = run_commands(readme, tmp_path)
    assert valid.returncode == 0, valid.stderr.decode()
    assert b"Verification successful" in valid.stderr
    certificate = taro.reader.load(taro.card_id).applications[KeyKind.SIGN].certificate
    jpki.revoke_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    session.commit()
    (tmp_path / "sign.crl").write_bytes(supervisor.get("/jpki/crl/sign.crl").content)
    revoked = run_commands(readme, tmp_path)
    assert revoked.returncode != 0
    assert b"certificate revoked" in revoked.stderr


def test_the_history_names_who_acted_staff_and_api_clients_alike(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    api_client, _private = filings.generate_client(
        session=session, municipality_code=CHIYODA, name="千代田区 基幹系"
    )
    applications.change_status(
        session=session,
        receipt_number=filed.receipt_number,
        municipality_code=CHIYODA,
        target=ApplicationStatus.UNDER_REVIEW,
        actor=f"api:{api_client.client_id}",
    )
    session.commit()
    assert _post_status(supervisor, filed, "completed", "交付しました。") == 303
    page = _detail(supervisor, filed)
    assert "千代田区 基幹系" in page
    assert "職員suzuki" in page
    assert "申請者" in page


def test_an_export_is_noted_in_the_history_for_staff_only(
    session: Session, filed: ApplicationRead, supervisor: TestClient
) -> None:
    assert (
        supervisor.get(f"/office/applications/{filed.receipt_number}/export.zip").status_code == 200
    )
    session.expire_all()
    staff_view = applications.history(session=session, application_id=filed.id)
    assert [e.kind for e in staff_view] == ["status", "export"]
    assert staff_view[-1].actor.startswith("staff:")
    resident_view = applications.history(
        session=session, application_id=filed.id, for_resident=True
    )
    assert [e.kind for e in resident_view] == ["status"]
    page = supervisor.get(f"/office/applications/{filed.receipt_number}")
    assert "パッケージとして書き出し" in page.text
