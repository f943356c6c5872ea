"""Issuing certificates as signed PDFs: the forms, the options, the refusals, the log."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from myna import jpki, registry
from myna.certificates import domain, pades, pdf, service, signing
from myna.certificates.domain import CertificateKind, Door, ResidentRecordOptions, Scope
from tests.integration.certificates.conftest import World, seal_png


def _text(pdf: bytes) -> str:
    """The page's text as poppler's pdftotext reads it."""
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, timeout=30, check=True
    )
    return done.stdout.decode("utf-8")


def _images(pdf: bytes, tmp: Path) -> int:
    (tmp / "in.pdf").write_bytes(pdf)
    done = subprocess.run(
        ["pdfimages", "-list", str(tmp / "in.pdf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return len(done.stdout.splitlines()) - 2  # two header lines


def _issue(world: World, persona: str, kind: CertificateKind, **options: object) -> service.Issued:
    return service.issue(
        session=world.session,
        settings=world.settings,
        hub=world.hub(),
        resident_id=world.id(persona),
        kind=kind,
        door=Door.KIOSK,
        options=ResidentRecordOptions(**options),  # type: ignore[arg-type]
    )


def test_a_household_copy_lists_every_member_and_validates(world: World) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD, relation=True)
    text = _text(issued.pdf)
    assert "住民票の写し" in text
    for name in ("山田 太郎", "山田 花子", "山田 陽翔"):
        assert name in text
    assert "世帯主" in text and "妻" in text
    assert "314159265352" not in text  # the MyNumber only when asked for
    assert "本籍" not in text
    assert issued.fee == 200
    found = service.verify(session=world.session, document=issued.pdf)
    assert found.signature.level == "B-LTA"
    assert found.signature.signer_organization == "東京都千代田区"
    assert found.status.kind is CertificateKind.RESIDENT_RECORD
    assert found.status.standing


def test_the_own_copy_with_domicile_and_my_number(world: World) -> None:
    issued = _issue(
        world,
        "taro",
        CertificateKind.RESIDENT_RECORD,
        scope=Scope.CHOSEN,
        members=(world.id("taro"),),
        domicile=True,
        my_number=True,
    )
    text = _text(issued.pdf)
    assert "314159265352" in text
    assert "東京都千代田区神田神保町二丁目3番地" in text
    assert "山田 花子" not in text


def test_the_my_number_of_another_member_is_refused(world: World) -> None:
    with pytest.raises(domain.MyNumberOfOthersError):
        _issue(
            world,
            "taro",
            CertificateKind.RESIDENT_RECORD,
            scope=Scope.CHOSEN,
            members=(world.id("hanako"),),
            my_number=True,
        )
    with pytest.raises(domain.MyNumberOfOthersError):
        _issue(world, "taro", CertificateKind.RESIDENT_RECORD, my_number=True)


def test_someone_of_another_household_is_refused(world: World) -> None:
    with pytest.raises(domain.NotOwnHouseholdError):
        _issue(
            world,
            "taro",
            CertificateKind.RESIDENT_RECORD,
            scope=Scope.CHOSEN,
            members=(world.id("taro"), world.id("misaki")),
        )


def test_choosing_nobody_is_refused(world: World) -> None:
    with pytest.raises(domain.NoMemberChosenError):
        _issue(world, "taro", CertificateKind.RESIDENT_RECORD, scope=Scope.CHOSEN)


def test_the_issuance_is_logged_for_each_person_shown(world: World) -> None:
    _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    entries = world.log_entries("certificate-resident-record")
    assert sorted(e.subject for e in entries) == sorted(
        str(world.id(p)) for p in ("taro", "hanako", "haruto")
    )
    assert {e.requester for e in entries} == {"kiosk"}
    assert {e.provider for e in entries} == {"muni-131016"}


def test_a_seal_certificate_shows_the_imprint_and_turns_cancelled(
    world: World, tmp_path: Path
) -> None:
    with pytest.raises(registry.SealNotRegisteredError):
        _issue(world, "taro", CertificateKind.SEAL)
    registry.register_seal(
        session=world.session,
        resident_id=world.id("taro"),
        image_png=seal_png(),
        registered_by="chiyoda-clerk",
    )
    issued = _issue(world, "taro", CertificateKind.SEAL)
    assert _images(issued.pdf, tmp_path) >= 1  # the imprint (and its alpha mask)
    assert "印鑑登録証明書" in _text(issued.pdf)
    registry.cancel_seal(session=world.session, resident_id=world.id("taro"))
    found = service.verify(session=world.session, document=issued.pdf)
    assert found.status.cancelled
    assert not found.status.standing


def test_a_tax_certificate_reads_the_assessment_through_the_hub(world: World) -> None:
    before = len(world.log_entries("resident-tax"))
    issued = _issue(world, "taro", CertificateKind.TAX)
    assert "課税（所得）証明書" in _text(issued.pdf)
    assert "合計所得金額" in _text(issued.pdf)
    reads = world.log_entries("resident-tax")
    assert len(reads) == before + 1
    assert reads[-1].procedure == service.TAX_PROCEDURE


def test_a_tampered_pdf_is_refused(world: World) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    # A byte inside the signed first revision (the page's content stream) changes.
    position = issued.pdf.index(b"stream") + 40
    tampered = bytearray(issued.pdf)
    tampered[position] ^= 0x01
    with pytest.raises((pades.SignatureInvalidError, pades.NotSignedPdfError)):
        service.verify(session=world.session, document=bytes(tampered))


def test_a_pdf_signed_by_an_unknown_key_is_refused(world: World) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    # Checked against another root, as a PDF signed under another CA is here.
    with pytest.raises(pades.UnknownSignerError):
        pades.validate(issued.pdf, roots=[_foreign_root()])


def _foreign_root() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Other Root")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def test_a_file_that_is_no_pdf_is_refused(world: World) -> None:
    with pytest.raises(pades.NotSignedPdfError):
        service.verify(session=world.session, document=b"not a pdf at all")


def test_the_signer_certificate_is_for_documents_only(world: World) -> None:
    material = signing.material_for(
        session=world.session,
        settings=world.settings,
        municipality_code="131016",
        municipality_name="東京都千代田区",
    ).material
    usages = material.signer_certificate.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage
    ).value
    assert jpki.EKU_DOCUMENT_SIGNING in usages
    assert jpki.EKU_MESSAGE_SIGNING not in usages
    with pytest.raises(jpki.VerificationError):
        jpki.verify_organization_certificate(
            session=world.session,
            settings=world.settings,
            certificate=material.signer_certificate,
        )


def _write_tools(tmp_path: Path, world: World, pdf: bytes) -> tuple[Path, Path]:
    root = signing.trust_roots(session=world.session)[0]
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    return tmp_path / "root.pem", tmp_path / "certificate.pdf"


def test_pyhanko_validates_it_offline(world: World, tmp_path: Path) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    root, document = _write_tools(tmp_path, world, issued.pdf)
    pyhanko = Path(__import__("sys").executable).with_name("pyhanko")
    done = subprocess.run(
        [
            str(pyhanko),
            "sign",
            "adesverify",
            "--trust",
            str(root),
            "--trust-replace",
            "--executive-summary",
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout and "INVALID" not in done.stdout


def test_pdfsig_validates_it_with_the_myna_root(world: World, tmp_path: Path) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    root, document = _write_tools(tmp_path, world, issued.pdf)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, timeout=30
    )
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "myna-root", "-t", "C,C,C", "-i", str(root)],
        check=True,
        timeout=30,
    )
    done = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(document)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Signature is Valid." in done.stdout, done.stdout + done.stderr
    assert "Certificate is Trusted." in done.stdout, done.stdout


def _material(world: World) -> pades.PreparedSigning:
    return signing.material_for(
        session=world.session,
        settings=world.settings,
        municipality_code="131016",
        municipality_name="東京都千代田区",
    )


def test_the_signing_material_is_gathered_once_and_reused(world: World) -> None:
    first = _material(world)
    assert _material(world) is first
    # Another session of the same process (the container's factory) reuses it too.
    with world.container.session_factory(bind=world.session.connection()) as other:
        again = signing.material_for(
            session=other,
            settings=world.settings,
            municipality_code="131016",
            municipality_name="東京都千代田区",
        )
    assert again is first


def test_the_recorded_digest_is_the_signature_s(world: World) -> None:
    issued = _issue(world, "taro", CertificateKind.RESIDENT_RECORD)
    validated = pades.validate(issued.pdf, roots=signing.trust_roots(session=world.session))
    row = service.issuance_status(session=world.session, number=issued.number)
    assert row.standing
    found = service.verify(session=world.session, document=issued.pdf)
    assert found.signature.message_digest == validated.message_digest
    assert found.status.number == issued.number


def test_a_revoked_municipality_key_signs_nothing_more(world: World) -> None:
    _issue(world, "taro", CertificateKind.RESIDENT_RECORD)  # the material is cached now
    serial = _material(world).material.signer_certificate.serial_number
    jpki.revoke_organization_certificate(
        session=world.session, serial=serial, reason=jpki.RevocationReason.KEY_COMPROMISE
    )
    with pytest.raises(pades.SigningFailedError):
        _issue(world, "taro", CertificateKind.RESIDENT_RECORD)


def test_threads_sign_with_the_same_material(world: World) -> None:
    material = _material(world)
    roots = signing.trust_roots(session=world.session)
    page = pdf.CertificatePage(
        title="住民票の写し",
        number="ABCD-EFGH-JKLM-NPQR",
        header=(pdf.Row("交付番号", "ABCD-EFGH-JKLM-NPQR"),),
        entries=(pdf.Entry("世帯", (pdf.Row("住所", "東京都千代田区"),)),),
        attestation="この写しは、住民票の原本と相違ないことを証明する。",
        issued_on="令和8年12月4日",
        issuer="東京都千代田区長",
        verify_url="http://testserver/certificates/verify?number=ABCD-EFGH-JKLM-NPQR",
    )
    document = pdf.render(page, font_path=world.settings.pdf_font)

    def sign(_: int) -> pades.SignedPdf:
        return pades.sign(document, material, signer_name="東京都千代田区長", location="千代田区")

    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(pool.map(sign, range(8)))
    for one in signed:
        validated = pades.validate(one.pdf, roots=roots)
        assert validated.level == "B-LTA"
        assert validated.message_digest == one.message_digest
    assert len({one.message_digest for one in signed}) == len(signed)
