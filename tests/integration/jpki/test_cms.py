"""Detached CMS signatures by a card's signing key: verified, and each forgery refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.platform.settings import Settings
from tests.openssl import cms_verify, jpki_signing_chain_pem

PASSWORD = "SIGN2026"
CONTENT = '{"procedure":"child-allowance-claim","data":{"child_name":"山田 陽翔"}}'.encode()


@pytest.fixture
def signer(session: Session, settings: Settings) -> tuple[card.CardSession, int]:
    registry.ensure_municipalities(session=session)
    taro = registry.ensure_personas(session=session)["taro"]
    jpki.ensure_authorities(session=session, settings=settings)
    summary = card.issue_card(
        session=session, settings=settings, resident_id=taro.id, pin="4321", password=PASSWORD
    )
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    return reader.open_session(summary.card_id, "sign", PASSWORD), taro.id


def test_it_verifies_a_card_signature_and_names_the_holder(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    signing, taro_id = signer
    signed = jpki.verify_detached_signature(
        session=session, settings=settings, signature=signing.sign_cms(CONTENT), content=CONTENT
    )
    assert signed.certificate.holder_id == taro_id
    assert signed.certificate.kind is jpki.CertificateKind.SIGN
    assert (
        signed.basic_info.name
        == registry.get_resident(session=session, resident_id=taro_id).full_name
    )
    assert signed.signing_time is not None


def test_it_refuses_a_signature_over_other_content(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    signature = signer[0].sign_cms(CONTENT)
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=signature, content=CONTENT + b" "
        )
    assert caught.value.code == "bad_signature"


def test_it_refuses_a_tampered_signature_value(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    signature = bytearray(signer[0].sign_cms(CONTENT))
    # The RSA signature value is the last 256 bytes of the DER before nothing else follows.
    signature[-10] ^= 0x01
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=bytes(signature), content=CONTENT
        )
    assert caught.value.code == "bad_signature"


@pytest.mark.parametrize(
    "garbage", [b"", b"\x30\x03\x02\x01\x01", b"not der at all", b"\x00" * 70_000]
)
def test_it_refuses_what_is_not_a_cms_signature(
    session: Session, settings: Settings, garbage: bytes
) -> None:
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=garbage, content=CONTENT
        )
    assert caught.value.code == "malformed_signature"


def test_it_refuses_a_signature_with_the_content_attached(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    signing = signer[0]
    key = signing._key
    attached = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(CONTENT)
        .add_signer(signing.certificate, key, hashes.SHA256())
        .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=attached, content=CONTENT
        )
    assert caught.value.code == "malformed_signature"


def test_it_refuses_the_authentication_key(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    card_id = reader.card_ids()[0]
    auth = reader.open_session(card_id, "auth", "4321")
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=auth.sign_cms(CONTENT), content=CONTENT
        )
    assert caught.value.code == "wrong_key_usage"


def test_it_refuses_a_revoked_signing_certificate(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int]
) -> None:
    signing = signer[0]
    jpki.revoke_certificate(
        session=session,
        serial=signing.certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    with pytest.raises(jpki.VerificationError) as caught:
        jpki.verify_detached_signature(
            session=session, settings=settings, signature=signing.sign_cms(CONTENT), content=CONTENT
        )
    assert caught.value.code == "revoked"


def test_openssl_verifies_the_same_signature(
    session: Session, settings: Settings, signer: tuple[card.CardSession, int], tmp_path: Path
) -> None:
    signing = signer[0]
    (tmp_path / "content").write_bytes(CONTENT)
    (tmp_path / "sig.der").write_bytes(signing.sign_cms(CONTENT))
    (tmp_path / "ca.pem").write_bytes(jpki_signing_chain_pem(session))
    result = cms_verify(tmp_path / "sig.der", tmp_path / "content", tmp_path / "ca.pem")
    assert result.returncode == 0, result.stderr.decode()
