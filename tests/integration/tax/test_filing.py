"""Signing and filing the return: the card signs, the hub files with the NTA, a receipt comes.

The resident's pages and the card reader's API are driven over HTTP as in the portal;
the card signs in a virtual reader with the signing key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import jpki
from myna.applications.models import SigningRequest
from myna.notices.models import Notice
from myna.platform.encoding import b64url
from myna.tax import etax, filing, pdf
from myna.tax.models import TaxFilingRow, TaxReturnRow
from tests.integration.tax.conftest import LIFE, QUAKE, Resident, TaxWorld, logged_in
from tests.openssl import cms_verify


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.fixture
def taro(world: TaxWorld) -> Iterator[Resident]:
    yield from logged_in(world, "taro")


def _gathered(client: TestClient) -> None:
    token = _csrf(client.get("/tax").text)
    client.post("/tax/2025/start", data={"csrf_token": token})
    done = client.post(
        "/tax/2025/gather",
        data={
            "csrf_token": token,
            "source": ["salary", f"certificate:{LIFE}", f"certificate:{QUAKE}", "medical"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303


def _press_sign(client: TestClient) -> TestClient:
    page = client.get("/tax/2025").text
    key = re.search(r'name="submission_key" value="([^"]+)"', page)
    assert key, "a draft that computes offers 「署名して提出する」"
    return client.post(  # type: ignore[return-value]
        "/tax/2025/sign",
        data={"csrf_token": _csrf(page), "submission_key": key.group(1)},
        follow_redirects=False,
    )


def _request_id(client: TestClient) -> str:
    pressed = _press_sign(client)
    assert pressed.status_code == 303, pressed.text  # type: ignore[attr-defined]
    location = pressed.headers["location"]  # type: ignore[attr-defined]
    found = re.fullmatch(r"/tax/2025/sign/([A-Za-z0-9_-]+)", location)
    assert found, location
    return found.group(1)


def _to_be_signed(client: TestClient, request_id: str) -> bytes:
    fetched = client.get(f"/api/signing-requests/{request_id}")
    assert fetched.status_code == 200
    body = fetched.json()
    content = base64.urlsafe_b64decode(body["to_be_signed"] + "==")
    assert hashlib.sha256(content).hexdigest() == body["content_sha256"]
    return content


def _frozen(resident: Resident) -> tuple[str, bytes]:
    """Gathered, frozen for signing: the signing request's id and the bytes to sign."""
    _gathered(resident.client)
    request_id = _request_id(resident.client)
    return request_id, _to_be_signed(resident.client, request_id)


def _answer(client: TestClient, request_id: str, signature: bytes) -> object:
    return client.post(
        f"/api/signing-requests/{request_id}/response", json={"signature": b64url(signature)}
    )


def _filings(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TaxFilingRow)) or 0


def _status(session: Session, world: TaxWorld) -> str:
    session.expire_all()
    return session.scalars(
        select(TaxReturnRow.status).where(TaxReturnRow.resident_id == world.taro)
    ).one()


def test_the_return_is_signed_with_the_card_filed_through_the_hub_and_receipted(
    world: TaxWorld, taro: Resident
) -> None:
    _gathered(taro.client)
    request_id = _request_id(taro.client)
    waiting = taro.client.get(f"/tax/2025/sign/{request_id}")
    assert waiting.status_code == 200
    assert "神田税務署" in waiting.text  # 千代田区神田神保町 is 神田税務署's
    assert "還付される税金" in waiting.text
    content = _to_be_signed(taro.client, request_id)
    document = json.loads(content)
    assert document["procedure"]["name"] == "令和7年分の所得税及び復興特別所得税の確定申告"
    xml = document["data"]["return_xml"].encode()
    assert document["attachments"][0]["sha256"] == hashlib.sha256(xml).hexdigest()
    assert _filings(world.session) == 0

    answered = _answer(taro.client, request_id, taro.sign(content))
    assert answered.status_code == 200  # type: ignore[attr-defined]
    receipt = answered.json()["receipt_number"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"\d{20}", receipt)

    state = taro.client.get(f"/apply/sign/{request_id}/status").json()
    assert state == {
        "state": "signed",
        "receipt_number": receipt,
        "done_url": "/tax/2025?done=filed",
    }
    page = taro.client.get("/tax/2025?done=filed")
    assert receipt in page.text
    assert "受信通知" in page.text
    assert "修正する" not in page.text and "submission_key" not in page.text
    assert _status(world.session, world) == "filed"
    # Filed with the NTA through the hub: the update is logged like every exchange.
    assert world.exchanges("income-tax-return") == 1
    # The receipt reaches お知らせ from the National Tax Agency.
    notice = world.session.scalars(select(Notice).where(Notice.sender == "nta")).one()
    assert notice.title == "【受信通知】令和7年分の所得税及び復興特別所得税の確定申告"
    assert receipt in notice.body
    assert "【受信通知】" in taro.client.get("/notices").text


def test_the_filed_files_are_the_signed_ones_and_check_out(
    world: TaxWorld, taro: Resident, tmp_path: Path
) -> None:
    request_id, content = _frozen(taro)
    _answer(taro.client, request_id, taro.sign(content))

    signed = taro.client.get("/tax/2025/signed.json")
    signature = taro.client.get("/tax/2025/signed.p7s")
    assert signed.content == content
    assert signature.headers["content-type"] == "application/pkcs7-signature"
    checked = jpki.verify_detached_signature(
        session=world.session,
        settings=world.settings,
        signature=signature.content,
        content=signed.content,
    )
    assert checked.certificate.holder_id == world.taro
    # As docs/tax.md tells: openssl verifies them against the JPKI CAs, and not a changed byte.
    pem = b"".join(
        x509.load_der_x509_certificate(
            taro.client.get(f"/jpki/ca/{name}.crt").content
        ).public_bytes(serialization.Encoding.PEM)
        for name in ("root", "sign")
    )
    (tmp_path / "ca.pem").write_bytes(pem)
    (tmp_path / "signed.json").write_bytes(signed.content)
    (tmp_path / "signed.p7s").write_bytes(signature.content)
    files = (tmp_path / "signed.p7s", tmp_path / "signed.json", tmp_path / "ca.pem")
    verified = cms_verify(*files)
    assert verified.returncode == 0, verified.stderr.decode()
    (tmp_path / "signed.json").write_bytes(signed.content[:-2] + b" }")
    assert cms_verify(*files).returncode != 0

    xml = taro.client.get("/tax/2025/return.xml")
    assert xml.status_code == 200
    assert xml.content == json.loads(content)["data"]["return_xml"].encode()
    root = etree.fromstring(xml.content)
    assert etax.schema().is_valid(root)
    ns = {"t": etax.NAMESPACE}
    assert root.get("procedure") == "RKO0010"
    assert root.findtext("t:Office", namespaces=ns) == "神田税務署"
    assert root.findtext("t:Form/t:Revenue/t:Salary", namespaces=ns) == "6000000"
    sources = root.findall("t:Sources/t:Source", namespaces=ns)
    assert {s.get("name") for s in sources} >= {"株式会社みなと商事", "ひかり生命保険株式会社"}

    copy = taro.client.get("/tax/2025/return.pdf")
    assert copy.status_code == 200
    assert copy.content.startswith(b"%PDF-")
    assert copy.headers["content-disposition"].startswith("attachment;")
    assert b"IPAex" in copy.content or b"MynaJapanese" in copy.content  # the font is embedded
    assert b"/FontFile2" in copy.content


def test_the_same_answer_again_gives_the_same_receipt_and_another_is_refused(
    world: TaxWorld, taro: Resident
) -> None:
    request_id, content = _frozen(taro)
    signature = taro.sign(content)
    first = _answer(taro.client, request_id, signature).json()  # type: ignore[attr-defined]
    again = _answer(taro.client, request_id, signature)
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.json()["receipt_number"] == first["receipt_number"]  # type: ignore[attr-defined]
    other = _answer(taro.client, request_id, taro.sign(content + b" "))
    assert other.status_code == 409  # type: ignore[attr-defined]
    assert taro.client.get(f"/api/signing-requests/{request_id}").status_code == 409
    assert _filings(world.session) == 1
    assert world.exchanges("income-tax-return") == 1


def test_a_return_corrected_after_freezing_is_not_filed(world: TaxWorld, taro: Resident) -> None:
    request_id, content = _frozen(taro)
    page = taro.client.get("/tax/2025").text
    field_id = re.search(r'id="field-(\d+)"', page)
    assert field_id
    corrected = taro.client.post(
        f"/tax/2025/fields/{field_id.group(1)}",
        data={"csrf_token": _csrf(page), "value": "5900000"},
        follow_redirects=False,
    )
    assert corrected.status_code == 303
    refused = _answer(taro.client, request_id, taro.sign(content))
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert refused.json()["error"] == "tax_return_changed"  # type: ignore[attr-defined]
    assert "署名して提出する" in refused.json()["message"]  # type: ignore[attr-defined]
    assert _filings(world.session) == 0
    assert _status(world.session, world) == "draft"
    assert world.exchanges("income-tax-return") == 0


def test_a_tampered_document_or_a_signature_by_someone_else_files_nothing(
    world: TaxWorld, taro: Resident
) -> None:
    request_id, content = _frozen(taro)
    tampered = _answer(taro.client, request_id, taro.sign(content.replace(b"6,000,000", b"1")))
    assert tampered.status_code == 400, tampered.text  # type: ignore[attr-defined]
    assert tampered.json()["error"] == "bad_signature"  # type: ignore[attr-defined]
    for misaki in logged_in(world, "misaki"):
        by_another = _answer(taro.client, request_id, misaki.sign(content))
        assert by_another.status_code == 403  # type: ignore[attr-defined]
        assert by_another.json()["error"] == "signer_mismatch"  # type: ignore[attr-defined]
        # Nor does another resident see the request, the receipt page or the files.
        assert misaki.client.get(f"/tax/2025/sign/{request_id}").status_code == 404
        assert misaki.client.get("/tax/2025/return.xml").status_code == 404
    assert _filings(world.session) == 0
    assert _status(world.session, world) == "draft"


def test_a_revoked_signing_certificate_is_told_before_any_request(
    world: TaxWorld, taro: Resident
) -> None:
    _gathered(taro.client)
    certificate = taro.reader.read_certificate(taro.card_id, "sign")
    jpki.revoke_certificate(
        session=world.session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    world.session.commit()
    pressed = _press_sign(taro.client)
    assert pressed.status_code == 409  # type: ignore[attr-defined]
    assert 'role="alert"' in pressed.text  # type: ignore[attr-defined]
    assert "署名用電子証明書" in pressed.text  # type: ignore[attr-defined]
    count = select(func.count()).select_from(SigningRequest)
    assert world.session.scalar(count.where(SigningRequest.purpose == filing.PURPOSE)) == 0


def test_when_the_nta_node_cannot_be_reached_nothing_is_filed(
    world: TaxWorld, taro: Resident, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NTA as a node of its own (distributed mode) that does not answer: nothing filed."""
    request_id, content = _frozen(taro)
    container = world.container
    # Nothing listens on 127.0.0.1:9: the hub's connection to the NTA's node is refused.
    monkeypatch.setattr(container.settings, "agency_nodes", {"nta": "http://127.0.0.1:9"})
    container.__dict__.pop("agency_transport", None)
    answered = _answer(taro.client, request_id, taro.sign(content))
    assert answered.status_code == 503  # type: ignore[attr-defined]
    assert answered.json()["error"] == "tax_filing_failed"  # type: ignore[attr-defined]
    assert "提出は行われていません" in answered.json()["message"]  # type: ignore[attr-defined]
    assert _filings(world.session) == 0
    assert _status(world.session, world) == "draft"
    assert world.session.scalar(select(func.count()).select_from(Notice)) == 0
    container.close()
    monkeypatch.undo()
    # The request is still open: the same card answers again and the return is filed.
    again = _answer(taro.client, request_id, taro.sign(content))
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert _filings(world.session) == 1


def test_signing_needs_a_started_return_and_the_pages_csrf_token(
    world: TaxWorld, taro: Resident
) -> None:
    token = _csrf(taro.client.get("/tax").text)
    not_started = taro.client.post(
        "/tax/2025/sign", data={"csrf_token": token, "submission_key": "k" * 43}
    )
    assert not_started.status_code == 404
    _gathered(taro.client)
    forged = taro.client.post(
        "/tax/2025/sign", data={"csrf_token": "forged", "submission_key": "k" * 43}
    )
    assert forged.status_code == 403
    count = select(func.count()).select_from(SigningRequest)
    assert world.session.scalar(count.where(SigningRequest.purpose == filing.PURPOSE)) == 0


def test_a_certificate_revoked_while_the_request_waits_files_nothing(
    world: TaxWorld, taro: Resident
) -> None:
    request_id, content = _frozen(taro)
    signature = taro.sign(content)
    certificate = taro.reader.read_certificate(taro.card_id, "sign")
    jpki.revoke_certificate(
        session=world.session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.LOSS,
    )
    world.session.commit()
    # The waiting page learns it at once, and the card's late answer is refused.
    state = taro.client.get(f"/apply/sign/{request_id}/status").json()
    assert state["state"] == "error"
    refused = _answer(taro.client, request_id, signature)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert refused.json()["error"] == "revoked"  # type: ignore[attr-defined]
    assert _filings(world.session) == 0
    assert _status(world.session, world) == "draft"
    assert world.exchanges("income-tax-return") == 0


def test_without_a_japanese_font_the_pdf_copy_says_so_and_the_xml_stays(
    world: TaxWorld, taro: Resident, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id, content = _frozen(taro)
    _answer(taro.client, request_id, taro.sign(content))
    missing = "/nonexistent/ipaexg.ttf"
    assert not pdf.font_available(missing)
    monkeypatch.setattr(world.container.settings, "pdf_font", missing)
    copy = taro.client.get("/tax/2025/return.pdf")
    assert copy.status_code == 503
    assert "日本語フォント" in copy.text
    assert "%PDF" not in copy.text
    assert taro.client.get("/tax/2025/return.xml").status_code == 200
