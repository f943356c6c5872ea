"""The CMS signature and time-stamp tokens made from parts encoded once, against pyHanko's own.

Certificates are signed with :mod:`myna.certificates.cms_parts`, which encodes the
parts every signature shares once; these tests hold its structures to the ones pyHanko
itself writes for a PAdES signature with its in-process TSA, part by part, and check
every signature in them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from asn1crypto import cms, core, tsp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from myna.certificates import cms_parts, pades, signing
from myna.platform import coroutines
from tests.integration.certificates.conftest import World

DIGEST = hashlib.sha256(b"the byte ranges of a certificate's PDF").digest()


def _prepared(world: World) -> pades.PreparedSigning:
    return signing.material_for(
        session=world.session,
        settings=world.settings,
        municipality_code="131016",
        municipality_name="東京都千代田区",
    )


def _ours(prepared: pades.PreparedSigning) -> cms.ContentInfo:
    assert prepared.cms is not None
    signed = cms_parts.pades_signature(
        prepared.cms,
        prepared.material.signer_key,
        document_digest=DIGEST,
        tsa_key=prepared.material.tsa_key,
        tsa_policy=pades.TSA_POLICY,
    )
    # What is written into the PDF, read back as a validator reads it; DER, unchanged
    # when asn1crypto encodes it again.
    read = cms.ContentInfo.load(signed)
    assert read.dump(force=True) == signed
    return read


def _pyhankos(prepared: pades.PreparedSigning) -> cms.ContentInfo:
    objects = prepared.objects()
    signer = signers.SimpleSigner(
        signing_cert=objects.signer_certificate,
        signing_key=objects.signer_key,
        cert_registry=objects.chain_store,
    )
    timestamper = DummyTimeStamper(
        tsa_cert=objects.tsa_certificate,
        tsa_key=objects.tsa_key,
        certs_to_embed=objects.chain_store,
    )
    made = coroutines.run(
        signer.async_sign(DIGEST, "sha256", use_pades=True, timestamper=timestamper)
    )
    return cms.ContentInfo.load(made.dump())


def _certificates(signed_data: cms.SignedData) -> set[bytes]:
    return {choice.chosen.dump() for choice in signed_data["certificates"]}


def _attributes(signer_info: cms.SignerInfo, field: str) -> dict[str, Any]:
    return {a["type"].native: a["values"].dump() for a in signer_info[field]}


def _token(signer_info: cms.SignerInfo) -> cms.ContentInfo:
    found: cms.ContentInfo = signer_info["unsigned_attrs"][0]["values"][0]
    return found


def test_the_signature_has_pyhankos_structure_and_values(world: World) -> None:
    prepared = _prepared(world)
    ours, theirs = _ours(prepared)["content"], _pyhankos(prepared)["content"]
    for field in ("version", "digest_algorithms", "encap_content_info"):
        assert ours[field].native == theirs[field].native
    assert _certificates(ours) == _certificates(theirs)
    assert len(_certificates(ours)) == 3  # the signer, the government CA, the root
    mine, its = ours["signer_infos"][0], theirs["signer_infos"][0]
    for field in ("version", "sid", "digest_algorithm", "signature_algorithm"):
        assert mine[field].native == its[field].native
    # The same signed attributes, values included: content-type, messageDigest and
    # ESS signing-certificate-v2, in DER order; no signing-time (PAdES).
    assert list(_attributes(mine, "signed_attrs")) == [
        "content_type",
        "message_digest",
        "signing_certificate_v2",
    ]
    assert _attributes(mine, "signed_attrs") == _attributes(its, "signed_attrs")
    assert [a["type"].native for a in mine["unsigned_attrs"]] == ["signature_time_stamp_token"]
    assert [a["type"].native for a in its["unsigned_attrs"]] == ["signature_time_stamp_token"]


def test_the_signature_and_its_time_stamp_verify(world: World) -> None:
    prepared = _prepared(world)
    info = _ours(prepared)["content"]["signer_infos"][0]
    # The municipality's ECDSA signature over the DER of the signed attributes (§5.4).
    prepared.material.signer_key.public_key().verify(
        info["signature"].native,
        info["signed_attrs"].untag().dump(),
        ec.ECDSA(hashes.SHA256()),
    )
    token = _token(info)["content"]
    tst = token["encap_content_info"]["content"].parsed
    # The time stamp is over the signature value (ETSI EN 319 122-1 §5.3).
    assert (
        tst["message_imprint"]["hashed_message"].native
        == hashlib.sha256(info["signature"].native).digest()
    )
    tsa_info = token["signer_infos"][0]
    signed = {a["type"].native: a["values"][0] for a in tsa_info["signed_attrs"]}
    assert signed["message_digest"].native == hashlib.sha256(tst.dump()).digest()
    prepared.material.tsa_key.public_key().verify(
        tsa_info["signature"].native,
        tsa_info["signed_attrs"].untag().dump(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    # A changed attribute no longer verifies.
    with pytest.raises(InvalidSignature):
        prepared.material.signer_key.public_key().verify(
            info["signature"].native,
            info["signed_attrs"].untag().dump().replace(DIGEST, bytes(32)),
            ec.ECDSA(hashes.SHA256()),
        )


def test_the_time_stamp_token_has_pyhankos_structure(world: World) -> None:
    prepared = _prepared(world)
    ours = _token(_ours(prepared)["content"]["signer_infos"][0])["content"]
    theirs = _token(_pyhankos(prepared)["content"]["signer_infos"][0])["content"]
    assert ours["version"].native == theirs["version"].native == "v3"
    assert _certificates(ours) == _certificates(theirs)
    mine, its = ours["signer_infos"][0], theirs["signer_infos"][0]
    for field in ("version", "sid", "digest_algorithm", "signature_algorithm"):
        assert mine[field].native == its[field].native
    assert list(_attributes(mine, "signed_attrs")) == list(_attributes(its, "signed_attrs"))
    assert (
        _attributes(mine, "signed_attrs")["signing_certificate"]
        == _attributes(its, "signed_attrs")["signing_certificate"]
    )
    my_tst = ours["encap_content_info"]["content"].parsed.native
    its_tst = theirs["encap_content_info"]["content"].parsed.native
    assert set(my_tst) == set(its_tst)
    for field in ("version", "tsa", "ordering", "accuracy", "extensions"):
        assert my_tst[field] == its_tst[field]
    assert my_tst["policy"] == pades.TSA_POLICY  # Myna's policy, not pyHanko's test one
    assert my_tst["nonce"] is not None


def test_the_tsa_answers_a_request_with_its_nonce(world: World) -> None:
    stamper = pades.MynaTimeStamper(_prepared(world))
    token = coroutines.run(stamper.async_timestamp(DIGEST, "sha256"))
    tst = token["content"]["encap_content_info"]["content"].parsed
    assert tst["message_imprint"]["hashed_message"].native == DIGEST
    assert tst["policy"].native == pades.TSA_POLICY


def test_the_tsa_refuses_another_digest_algorithm(world: World) -> None:
    stamper = pades.MynaTimeStamper(_prepared(world))
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": tsp.MessageImprint(
                {"hash_algorithm": {"algorithm": "sha1"}, "hashed_message": bytes(20)}
            ),
            "cert_req": True,
        }
    )
    with pytest.raises(SigningError):
        stamper.request_tsa_response(request)


def test_a_time_stamp_token_is_der_as_asn1crypto_writes_it(world: World) -> None:
    prepared = _prepared(world)
    assert prepared.cms is not None
    token = cms_parts.timestamp_token(
        prepared.cms,
        prepared.material.tsa_key,
        policy=pades.TSA_POLICY,
        message_imprint=DIGEST,
        nonce=7,
    )
    read = cms.ContentInfo.load(token)
    assert read.dump(force=True) == token
    assert read["content"]["encap_content_info"]["content"].parsed["nonce"].native == 7


@pytest.mark.parametrize("size", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x180, 0xFFFF, 0x10000])
def test_lengths_are_der(size: int) -> None:
    # X.690 §8.1.3: short form below 128, else the fewest length octets.
    encoded = cms_parts._tlv(0x04, bytes(size))
    assert core.OctetString.load(encoded).native == bytes(size)
    assert core.OctetString(bytes(size)).dump() == encoded
