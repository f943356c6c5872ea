"""The certificates' pages: verification, the resident's request, 印鑑登録, the kiosk."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from reportlab.pdfgen import canvas

from myna import card, registry
from myna.app import create_app
from myna.certificates import pades, service
from myna.certificates.domain import CertificateKind, Door
from myna.kiosk.app import create_kiosk_app
from myna.office import service as office
from myna.platform import coroutines
from tests.integration.certificates.conftest import PORTAL, World, logged_in, seal_png
from tests.integration.portal.conftest import PASSWORD, PIN

STAFF_PASSWORD = "correct horse battery staple 42"
VERIFY = "/certificates/verify"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _issue(world: World, persona: str = "taro") -> service.Issued:
    issued = service.issue(
        session=world.session,
        settings=world.settings,
        hub=world.hub(),
        resident_id=world.id(persona),
        kind=CertificateKind.RESIDENT_RECORD,
        door=Door.KIOSK,
    )
    world.session.commit()
    return issued


@pytest.fixture
def public(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container), base_url=PORTAL) as client:
        yield client


def _upload(client: TestClient, content: bytes, name: str = "certificate.pdf") -> str:
    response = client.post(VERIFY, files={"file": (name, content, "application/pdf")})
    return f"{response.status_code}\n{response.text}"


# --- the verification page ---------------------------------------------------------


def test_the_verification_page_checks_an_uploaded_certificate(
    world: World, public: TestClient
) -> None:
    issued = _issue(world)
    answer = _upload(public, issued.pdf)
    assert answer.startswith("200"), answer
    assert "有効：この証明書は市区町村が交付したもので、改変されていません" in answer
    assert "東京都千代田区" in answer and "住民票の写し" in answer
    assert issued.number in answer
    assert "令和" in answer  # the issue date in 和暦
    assert "PAdES B-LTA" in answer
    assert "山田" not in answer  # nobody's personal data on the public page


def test_the_verification_page_speaks_english_on_request(world: World, public: TestClient) -> None:
    issued = _issue(world)
    public.get("/language?lang=en&next=/certificates/verify")
    answer = _upload(public, issued.pdf)
    assert "Valid: this certificate was issued by the municipality" in answer


def test_a_tampered_certificate_is_refused(world: World, public: TestClient) -> None:
    issued = _issue(world)
    tampered = bytearray(issued.pdf)
    tampered[issued.pdf.index(b"stream") + 40] ^= 0x01
    answer = _upload(public, bytes(tampered))
    assert answer.startswith("400"), answer
    assert "このファイルは確認できません" in answer
    assert "有効：" not in answer


def test_a_file_that_is_no_pdf_is_refused(public: TestClient) -> None:
    answer = _upload(public, b"GIF89a not a pdf", "photo.gif")
    assert answer.startswith("400"), answer
    assert "PDF でないか、電子署名がありません" in answer


def test_an_empty_upload_and_no_file_are_refused(public: TestClient) -> None:
    assert "検証する証明書の PDF ファイルを選んでください" in _upload(public, b"")
    response = public.post(VERIFY, data={"x": "1"})
    assert response.status_code == 400
    assert "検証する証明書の PDF ファイルを選んでください" in response.text


def test_a_too_large_file_is_refused(public: TestClient) -> None:
    answer = _upload(public, b"%PDF-1.7\n" + b"0" * (800 * 1024))
    assert answer.startswith("413"), answer
    assert "768 KB" in answer


def _foreign_signed_pdf() -> bytes:
    """A PDF signed in Myna's signature field by a key no Myna CA certified."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Somewhere Else")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(pades.EKU_DOCUMENT_SIGNING)]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Residence record")
    page.save()
    from asn1crypto import keys as asn1_keys  # noqa: PLC0415
    from asn1crypto import x509 as asn1_x509  # noqa: PLC0415

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        ),
        cert_registry=None,  # type: ignore[arg-type]
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(buffer.getvalue()))
    signed = coroutines.run(
        signers.async_sign_pdf(
            writer,
            signers.PdfSignatureMetadata(field_name=pades.SIGNATURE_FIELD, md_algorithm="sha256"),
            signer=signer,
        )
    )
    return bytes(signed.getbuffer())


def test_a_pdf_signed_under_an_unknown_root_is_refused(public: TestClient) -> None:
    answer = _upload(public, _foreign_signed_pdf())
    assert answer.startswith("400"), answer
    assert "署名者が Myna の認証局に認証されていない" in answer


def test_the_number_alone_shows_what_is_known_and_asks_for_the_file(
    world: World, public: TestClient
) -> None:
    issued = _issue(world)
    page = public.get(VERIFY, params={"number": issued.number})
    assert page.status_code == 200
    assert f"交付番号 {issued.number} の証明書について" in page.text
    assert "東京都千代田区" in page.text and "住民票の写し" in page.text
    assert "PDF をアップロードして" in page.text
    assert "有効：この証明書は" not in page.text  # the number alone proves nothing


def test_a_cancelled_certificate_shows_as_cancelled(world: World, public: TestClient) -> None:
    issued = _issue(world)
    service.cancel(session=world.session, number=issued.number)
    world.session.commit()
    answer = _upload(public, issued.pdf)
    assert "この証明書は現在有効ではありません" in answer
    assert "無効（市区町村が取り消したか" in answer


@pytest.mark.parametrize(
    ("number", "status", "text"),
    [
        ("ABCD-EFGH-JKLM-NPQR", 404, "この交付番号の証明書は Myna から交付されていません"),
        ("not-a-number", 400, "英数字4文字の4組"),
        ("<script>", 400, "英数字4文字の4組"),
    ],
)
def test_a_bad_or_unknown_number_is_a_clear_error(
    public: TestClient, number: str, status: int, text: str
) -> None:
    page = public.get(VERIFY, params={"number": number})
    assert page.status_code == status
    assert text in page.text
    assert "<script>" not in page.text.split("<main", 1)[1]


def test_the_verification_page_has_a_strict_csp(public: TestClient) -> None:
    page = public.get(VERIFY)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp or "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert 'enctype="multipart/form-data"' in page.text
    assert 'lang="ja"' in page.text


# --- the resident's request page ---------------------------------------------------


@pytest.fixture
def taro(world: World) -> Iterator[TestClient]:
    for signed_in in logged_in(world, "taro"):
        yield signed_in.client


def test_the_resident_gets_a_household_copy_as_a_signed_pdf(world: World, taro: TestClient) -> None:
    page = taro.get("/certificates")
    assert page.status_code == 200
    assert "山田 花子" in page.text and "300円" in page.text
    assert "山田 美咲" not in page.text  # another household
    response = taro.post(
        "/certificates",
        data={"csrf_token": _csrf(page.text), "kind": "resident-record", "relation": "yes"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    found = service.verify(session=world.session, document=response.content)
    assert found.status.kind is CertificateKind.RESIDENT_RECORD
    assert [e.requester for e in world.log_entries("certificate-resident-record")][-1] == "portal"


def test_someone_of_another_household_is_refused_without_leaking(
    world: World, taro: TestClient
) -> None:
    page = taro.get("/certificates")
    response = taro.post(
        "/certificates",
        data={
            "csrf_token": _csrf(page.text),
            "kind": "resident-record",
            "scope": "chosen",
            "members": [str(world.id("taro")), str(world.id("misaki"))],
        },
    )
    assert response.status_code == 403
    assert "ご自身の世帯の方だけ" in response.text
    assert "山田 美咲" not in response.text and "misaki" not in response.text
    assert world.log_entries("certificate-resident-record") == []


def test_an_unknown_member_id_is_refused_like_another_household(taro: TestClient) -> None:
    page = taro.get("/certificates")
    for bad in ("999999", "-1", "abc", "1" * 40):
        response = taro.post(
            "/certificates",
            data={
                "csrf_token": _csrf(page.text),
                "kind": "resident-record",
                "scope": "chosen",
                "members": bad,
            },
        )
        assert response.status_code == 403, bad


def test_the_my_number_of_another_member_is_refused(world: World, taro: TestClient) -> None:
    page = taro.get("/certificates")
    response = taro.post(
        "/certificates",
        data={
            "csrf_token": _csrf(page.text),
            "kind": "resident-record",
            "scope": "chosen",
            "members": str(world.id("hanako")),
            "my_number": "yes",
        },
    )
    assert response.status_code == 403
    assert "個人番号は、ご本人お一人だけ" in response.text


def test_a_request_without_the_csrf_token_issues_nothing(world: World, taro: TestClient) -> None:
    response = taro.post("/certificates", data={"kind": "resident-record"})
    assert response.status_code == 403
    assert world.log_entries("certificate-resident-record") == []


def test_an_unknown_kind_and_a_missing_seal_are_clear_errors(taro: TestClient) -> None:
    page = taro.get("/certificates")
    response = taro.post("/certificates", data={"csrf_token": _csrf(page.text), "kind": "x"})
    assert response.status_code == 400
    assert "交付する証明書を選んでください" in response.text
    response = taro.post(
        "/certificates", data={"csrf_token": _csrf(page.text), "kind": "seal-registration"}
    )
    assert response.status_code == 404
    assert "印鑑登録がありません" in response.text


def test_the_request_page_needs_a_login(public: TestClient) -> None:
    response = public.get("/certificates", follow_redirects=False)
    assert response.status_code == 303


def test_the_exchange_history_names_the_kiosk_and_the_certificate(
    world: World, taro: TestClient
) -> None:
    _issue(world)
    page = taro.get("/exchanges")
    assert page.status_code == 200
    assert "コンビニ交付（証明書交付端末）" in page.text
    assert "住民票の写しの交付" in page.text
    assert "certificate-resident-record" not in page.text


# --- 印鑑登録 at the back office -------------------------------------------------------


def _staff(world: World, login: str, municipality: str) -> TestClient:
    office.create_staff(
        session=world.session,
        settings=world.settings,
        municipality_code=municipality,
        login_id=login,
        display_name=f"職員{login}",
        role=office.StaffRole.CLERK,
        password=STAFF_PASSWORD,
    )
    world.session.commit()
    client = TestClient(create_app(world.container), base_url=PORTAL)
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": STAFF_PASSWORD},
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=world.session, settings=world.settings, login_id=login)
    client.post("/office/login/code", data={"csrf_token": _csrf(page.text), "code": code})
    return client


def _card(world: World, persona: str) -> str:
    issued = card.issue_card(
        session=world.session,
        settings=world.settings,
        resident_id=world.id(persona),
        pin=PIN,
        password=PASSWORD,
    )
    world.session.commit()
    return issued.card_id


def _register(clerk: TestClient, card_id: str, image: bytes) -> str:
    page = clerk.get("/office/seals")
    assert page.status_code == 200, page.text
    response = clerk.post(
        "/office/seals",
        data={"csrf_token": _csrf(page.text), "card_id": card_id},
        files={"file": ("seal.png", image, "image/png")},
    )
    return f"{response.status_code}\n{response.text}"


def test_a_clerk_registers_and_cancels_a_seal(world: World) -> None:
    card_id = _card(world, "taro")
    with _staff(world, "chiyoda-seal", "131016") as clerk:
        assert "/office/seals" in clerk.get("/office").text
        answer = _register(clerk, card_id, seal_png())
        assert answer.startswith("200"), answer
        assert "山田 太郎 さんの印鑑を登録しました" in answer
        assert registry.seal_of(session=world.session, resident_id=world.id("taro"))
        again = _register(clerk, card_id, seal_png())
        assert again.startswith("409") and "すでに印鑑登録をしています" in again
        page = clerk.get("/office/seals")
        cancelled = clerk.post(
            "/office/seals/cancel", data={"csrf_token": _csrf(page.text), "card_id": card_id}
        )
        assert cancelled.status_code == 200
        assert "印鑑登録を廃止しました" in cancelled.text
    with pytest.raises(registry.SealNotRegisteredError):
        registry.seal_of(session=world.session, resident_id=world.id("taro"))


def test_a_clerk_of_another_municipality_is_refused(world: World) -> None:
    card_id = _card(world, "taro")
    with _staff(world, "yokohama-seal", "141003") as clerk:
        answer = _register(clerk, card_id, seal_png())
        assert answer.startswith("403"), answer
        assert "貴団体の住民ではありません" in answer
        assert "山田" not in answer
        page = clerk.get("/office/seals")
        cancelled = clerk.post(
            "/office/seals/cancel", data={"csrf_token": _csrf(page.text), "card_id": card_id}
        )
        assert cancelled.status_code == 403
    with pytest.raises(registry.SealNotRegisteredError):
        registry.seal_of(session=world.session, resident_id=world.id("taro"))


def test_bad_seal_input_is_refused_on_the_form(world: World) -> None:
    card_id = _card(world, "taro")
    with _staff(world, "chiyoda-seal2", "131016") as clerk:
        assert "PNG 画像にしてください" in _register(clerk, card_id, b"not a png")
        assert "この ID のカードは発行されていません" in _register(clerk, "nope", seal_png())
        page = clerk.get("/office/seals")
        no_csrf = clerk.post(
            "/office/seals",
            data={"csrf_token": "wrong", "card_id": card_id},
            files={"file": ("seal.png", seal_png(), "image/png")},
        )
        assert no_csrf.status_code == 403
        no_file = clerk.post(
            "/office/seals", data={"csrf_token": _csrf(page.text), "card_id": card_id}
        )
        assert no_file.status_code == 400 and "印影（PNG ファイル）を選んで" in no_file.text


def test_the_seal_page_needs_a_staff_login(public: TestClient) -> None:
    response = public.get("/office/seals", follow_redirects=False)
    assert response.status_code == 303


# --- the kiosk ------------------------------------------------------------------------


@pytest.fixture
def kiosk(world: World) -> Iterator[TestClient]:
    _card(world, "taro")
    with (
        TestClient(create_app(world.container), base_url=PORTAL) as portal,
        TestClient(
            create_kiosk_app(world.settings, http_client=portal), base_url="http://kiosk"
        ) as browser,
    ):
        yield browser


def _kiosk_to_pin(kiosk: TestClient) -> tuple[str, str]:
    start = kiosk.get("/")
    assert start.status_code == 200 and "証明書交付をはじめる" in start.text
    opened = kiosk.post("/sessions", data={"csrf_token": _csrf(start.text)}, follow_redirects=False)
    assert opened.status_code == 303, opened.text
    use = opened.headers["location"]
    page = kiosk.get(use)
    card_id = re.search(r'name="card_id" value="([^"]+)"', page.text)
    assert card_id, page.text
    placed = kiosk.post(
        f"{use}/card",
        data={"csrf_token": _csrf(page.text), "card_id": card_id.group(1)},
        follow_redirects=True,
    )
    assert "暗証番号の入力" in placed.text
    return use, placed.text


def test_the_kiosk_issues_a_certificate_after_card_and_pin(world: World, kiosk: TestClient) -> None:
    use, page = _kiosk_to_pin(kiosk)
    menu = kiosk.post(f"{use}/pin", data={"csrf_token": _csrf(page), "pin": PIN})
    assert menu.status_code == 200, menu.text
    assert "証明書を選ぶ" in menu.text and "200円" in menu.text
    done = kiosk.post(
        f"{use}/issue",
        data={
            "csrf_token": _csrf(menu.text),
            "kind": "resident-record",
            "scope": "chosen",
            "members": str(world.id("taro")),
            "my_number": "yes",
        },
    )
    assert done.status_code == 200, done.text
    number = re.search(r'id="kiosk-number">([^<]+)<', done.text)
    assert number
    pdf = kiosk.get(f"{use}/documents/{number.group(1)}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    found = service.verify(session=world.session, document=pdf.content)
    assert found.status.number == number.group(1)
    assert world.log_entries("certificate-resident-record")[-1].requester == "kiosk"
    ended = kiosk.post(f"{use}/end", data={"csrf_token": _csrf(done.text)}, follow_redirects=False)
    assert ended.status_code == 303
    assert kiosk.get(f"{use}/documents/{number.group(1)}.pdf").status_code == 404


def test_the_kiosk_refuses_a_wrong_pin_and_another_household(
    world: World, kiosk: TestClient
) -> None:
    use, page = _kiosk_to_pin(kiosk)
    wrong = kiosk.post(f"{use}/pin", data={"csrf_token": _csrf(page), "pin": "9999"})
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    short = kiosk.post(f"{use}/pin", data={"csrf_token": _csrf(page), "pin": "12"})
    assert short.status_code == 400 and "4桁の暗証番号" in short.text
    menu = kiosk.post(f"{use}/pin", data={"csrf_token": _csrf(page), "pin": PIN})
    refused = kiosk.post(
        f"{use}/issue",
        data={
            "csrf_token": _csrf(menu.text),
            "kind": "resident-record",
            "scope": "chosen",
            "members": str(world.id("misaki")),
        },
    )
    assert refused.status_code == 403
    assert "ご自身の世帯の方だけ" in refused.text


def test_the_kiosk_api_refuses_a_forged_card_answer_and_steps_out_of_order(
    world: World, public: TestClient
) -> None:
    opened = public.post("/api/kiosk/v1/sessions", json={"kiosk_id": "kiosk-9"})
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["session_id"]
    early = public.post(
        f"/api/kiosk/v1/sessions/{session_id}/certificates", json={"kind": "resident-record"}
    )
    assert early.status_code == 409 and early.json()["error"] == "kiosk_not_identified"
    reader = card.VirtualCardReader(
        world.settings.card_dir, world.settings.card_secret.get_secret_value()
    )
    card_id = _card(world, "taro")
    der = reader.read_certificate(card_id, "auth").public_bytes(Encoding.DER)
    # A signature over another session's message does not open this one.
    forged = reader.sign(card_id, "auth", PIN, b"myna-certificate-kiosk-v1\nkiosk-9\nother\nx")
    answer = public.post(
        f"/api/kiosk/v1/sessions/{session_id}/card",
        json={
            "certificate": base64.b64encode(der).decode(),
            "signature": base64.b64encode(forged).decode(),
        },
    )
    assert answer.status_code == 403 and answer.json()["error"] == "kiosk_card_refused"
    unknown = public.get("/api/kiosk/v1/sessions/nope")
    assert unknown.status_code == 404
    assert public.get("/api/kiosk/v1/sessions/" + "x" * 40).status_code == 422
