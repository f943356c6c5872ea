"""Hybrid hub messages: ES256 and ML-DSA-65 over the same payload, checked per policy."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, registry
from myna.jpki import profile
from myna.network.messages import PQ_HEADER, PqCredential, read_envelope
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.settings import Settings

PAYLOAD = b'{"request_id":"r-1","owner":"nta"}'


@pytest.fixture
def hybrid(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"message_signatures": "hybrid", "message_signature_policy": "hybrid"}
    )


@pytest.fixture
def signer(session: Session, hybrid: Settings) -> network.Credential:
    jpki.ensure_authorities(session=session, settings=hybrid)
    return network.credential_for(session=session, settings=hybrid, code="nta", name="国税庁")


def _open(session: Session, settings: Settings, token: str, policy: str) -> bytes:
    return network.open_signed(token, session=session, settings=settings, policy=policy).payload


def _header(token: str) -> dict[str, object]:
    header: dict[str, object] = json.loads(b64url_decode(token.split(".", maxsplit=1)[0]))
    return header


def _with_header(token: str, header: dict[str, object]) -> str:
    _, payload, signature = token.split(".")
    encoded = b64url(json.dumps(header, separators=(",", ":")).encode())
    return f"{encoded}.{payload}.{signature}"


def test_a_hybrid_credential_signs_the_same_bytes_twice_each_naming_its_algorithm_and_key(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    assert signer.pq is not None
    assert isinstance(signer.pq.private_key, mldsa.MLDSA65PrivateKey)
    token = network.sign(PAYLOAD, signer)
    header = _header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == "nta"
    pq_protected, empty, _signature = str(header[PQ_HEADER]).split(".")
    assert empty == ""  # detached content: the payload is the message's own
    pq_header = json.loads(b64url_decode(pq_protected))
    assert pq_header["alg"] == "ML-DSA-65"
    assert pq_header["kid"] == "nta"
    certificate = x509.load_der_x509_certificate(base64.b64decode(pq_header["x5c"][0]))
    assert certificate.public_key() == signer.pq.certificate.public_key()
    for policy in ("classic", "hybrid", "post-quantum"):
        assert _open(session, hybrid, token, policy) == PAYLOAD
    # The same credential again: the stored key, not a new one.
    again = network.credential_for(session=session, settings=hybrid, code="nta")
    assert again.pq is not None
    assert again.pq.certificate == signer.pq.certificate


def test_a_message_without_ml_dsa_is_refused_under_hybrid_and_post_quantum(
    session: Session, settings: Settings, hybrid: Settings
) -> None:
    jpki.ensure_authorities(session=session, settings=settings)
    classic = network.credential_for(session=session, settings=settings, code="nta", name="国税庁")
    assert classic.pq is None
    token = network.sign(PAYLOAD, classic)
    assert _open(session, settings, token, "classic") == PAYLOAD
    for policy in ("hybrid", "post-quantum"):
        with pytest.raises(network.MissingPqSignatureError) as error:
            _open(session, hybrid, token, policy)
        assert error.value.status_code == 401
        assert "ML-DSA-65" in error.value.localized()
    # Switching the signer to hybrid gives the stored credential an ML-DSA-65 key too.
    upgraded = network.credential_for(session=session, settings=hybrid, code="nta")
    assert upgraded.certificate == classic.certificate
    assert upgraded.pq is not None
    assert _open(session, hybrid, network.sign(PAYLOAD, upgraded), "hybrid") == PAYLOAD


def test_a_tampered_ml_dsa_signature_is_refused_unless_the_policy_is_classic(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    token = network.sign(PAYLOAD, signer)
    # Re-sign the ES256 part over a header whose ML-DSA-65 signature lost a bit: only the
    # second signature is wrong.
    header = _header(token)
    protected, _, signature = str(header[PQ_HEADER]).split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[10] ^= 0x01
    header[PQ_HEADER] = f"{protected}..{b64url(bytes(flipped))}"
    tampered = network.sign(PAYLOAD, _classic(signer))
    tampered_header = {**_header(tampered), PQ_HEADER: header[PQ_HEADER]}
    from joserfc import jws  # noqa: PLC0415
    from joserfc.jwk import ECKey  # noqa: PLC0415

    from myna.network.messages import FILE_REGISTRY  # noqa: PLC0415

    resigned = jws.serialize_compact(
        tampered_header, PAYLOAD, ECKey.import_key(signer.private_key), registry=FILE_REGISTRY
    )
    assert _open(session, hybrid, resigned, "classic") == PAYLOAD
    for policy in ("hybrid", "post-quantum"):
        with pytest.raises(network.BadPqSignatureError):
            _open(session, hybrid, resigned, policy)


def _classic(credential: network.Credential) -> network.Credential:
    return network.Credential(credential.code, credential.certificate, credential.private_key)


def test_a_tampered_es256_signature_is_refused_unless_the_policy_is_post_quantum(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    token = network.sign(PAYLOAD, signer)
    protected, payload, signature = token.split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[5] ^= 0x01
    tampered = f"{protected}.{payload}.{b64url(bytes(flipped))}"
    for policy in ("classic", "hybrid"):
        with pytest.raises(network.BadMessageSignatureError):
            _open(session, hybrid, tampered, policy)
    # Post-quantum relies on ML-DSA-65 alone, which still covers the payload.
    assert _open(session, hybrid, tampered, "post-quantum") == PAYLOAD
    # A changed payload breaks the ML-DSA-65 signature too.
    other = f"{protected}.{b64url(b'{}')}.{signature}"
    with pytest.raises(network.BadPqSignatureError):
        _open(session, hybrid, other, "post-quantum")


def _rogue_pq(code: str) -> PqCredential:
    """An ML-DSA-65 key certified by a CA that takes the real PQ government CA's name."""
    rogue_ca = mldsa.MLDSA65PrivateKey.generate()
    key = mldsa.MLDSA65PrivateKey.generate()
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(profile.organization_subject(code, "国税庁"))
        .issuer_name(profile.authority_name(jpki.AuthorityKind.PQ_GOVERNMENT))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(rogue_ca, None)
    )
    return PqCredential(certificate=certificate, private_key=key)


def test_an_ml_dsa_key_from_an_unknown_ca_is_refused(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    forged = network.Credential(
        signer.code, signer.certificate, signer.private_key, pq=_rogue_pq("nta")
    )
    token = network.sign(PAYLOAD, forged)
    assert _open(session, hybrid, token, "classic") == PAYLOAD
    with pytest.raises(network.UntrustedPqCertificateError) as error:
        _open(session, hybrid, token, "hybrid")
    assert error.value.code == "untrusted_pq_certificate"
    assert "bad_certificate_signature" in error.value.localized()


def test_an_ml_dsa_signature_of_another_organisation_is_refused(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    other = network.credential_for(
        session=session, settings=hybrid, code="jrs", name="日本年金機構"
    )
    mixed = network.Credential(signer.code, signer.certificate, signer.private_key, pq=other.pq)
    with pytest.raises(network.SenderMismatchError):
        _open(session, hybrid, network.sign(PAYLOAD, mixed), "hybrid")


def test_a_revoked_ml_dsa_certificate_is_refused(
    session: Session, hybrid: Settings, signer: network.Credential
) -> None:
    assert signer.pq is not None
    jpki.revoke_organization_certificate(
        session=session,
        serial=signer.pq.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    token = network.sign(PAYLOAD, signer)
    assert _open(session, hybrid, token, "classic") == PAYLOAD
    with pytest.raises(network.UntrustedPqCertificateError) as error:
        _open(session, hybrid, token, "hybrid")
    assert "revoked" in error.value.localized()


def test_a_whole_exchange_runs_hybrid_through_the_hub_and_in_process_agencies(
    session: Session, hybrid: Settings
) -> None:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=hybrid)
    network.seed_agency_data(session=session, seed=1)
    hub = network.Hub(
        settings=hybrid,
        directory=agencies.load_catalog(),
        transport=network.InProcessTransport(session=session, settings=hybrid),
    )
    outcome = network.request_self_information(
        session=session, hub=hub, resident_id=residents["taro"].id, items=["household"]
    )
    assert [r.outcome for r in outcome.results] == [network.Outcome.SUCCESS]
    assert outcome.results[0].records
    hub_credential = network.credential_for(session=session, settings=hybrid, code=network.HUB)
    assert hub_credential.pq is not None


def test_the_envelope_reads_the_certificate_of_a_classic_message_and_no_pq_part(
    session: Session, settings: Settings
) -> None:
    jpki.ensure_authorities(session=session, settings=settings)
    credential = network.credential_for(session=session, settings=settings, code="nta")
    envelope = read_envelope(
        network.sign(PAYLOAD, credential), bad_certificate=network.BadMessageSignatureError
    )
    assert envelope.pq is None
    assert envelope.certificate.public_bytes(Encoding.DER) == credential.certificate.public_bytes(
        Encoding.DER
    )


def test_settings_refuse_a_policy_the_process_cannot_sign_for(settings: Settings) -> None:
    with pytest.raises(ValueError, match="MYNA_MESSAGE_SIGNATURES=hybrid"):
        Settings.model_validate({**settings.model_dump(), "message_signature_policy": "hybrid"})
