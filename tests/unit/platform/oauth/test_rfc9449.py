"""DPoP proofs (RFC 9449 §4.3): each check refuses what it should, a good proof passes."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey

from myna.platform.encoding import b64url_sha256
from myna.platform.oauth.errors import InvalidDPoPProofError
from myna.platform.oauth.rfc7515 import REGISTRY
from myna.platform.oauth.rfc9449 import MAX_PROOF_AGE, normalize_htu, remember_proof, verify_proof
from tests.unit.platform.oauth.conftest import SeenJtis

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
URL = "https://portal.example.jp/oauth/token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def proof(
    key: ECKey | RSAKey,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    alg: str = "ES256",
) -> str:
    head = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    body = {
        "jti": str(uuid.uuid4()),
        "htm": "POST",
        "htu": URL,
        "iat": int(NOW.timestamp()),
        **(claims or {}),
    }
    return jws.serialize_compact(head, json.dumps(body).encode(), key, registry=REGISTRY)


def test_it_accepts_a_good_proof_and_returns_the_key_thumbprint(ec_key: ECKey) -> None:
    checked = verify_proof(proof(ec_key), method="POST", url=URL, now=NOW)
    assert checked.jkt == ec_key.thumbprint()
    assert checked.issued_at == NOW


def test_it_accepts_a_ps256_proof_with_an_rsa_key() -> None:
    key = RSAKey.generate_key(2048)
    checked = verify_proof(proof(key, alg="PS256"), method="POST", url=URL, now=NOW)
    assert checked.jkt == key.thumbprint()


def test_it_refuses_a_missing_proof() -> None:
    with pytest.raises(InvalidDPoPProofError, match="required"):
        verify_proof(None, method="POST", url=URL, now=NOW)


def test_it_refuses_a_wrong_typ(ec_key: ECKey) -> None:
    with pytest.raises(InvalidDPoPProofError, match="typ"):
        verify_proof(proof(ec_key, header={"typ": "JWT"}), method="POST", url=URL, now=NOW)


def test_it_refuses_alg_none(ec_key: ECKey) -> None:
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": ec_key.as_dict(private=False)}
    body = {"jti": "x", "htm": "POST", "htu": URL, "iat": int(NOW.timestamp())}
    unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}."
    with pytest.raises(InvalidDPoPProofError, match="alg"):
        verify_proof(unsigned, method="POST", url=URL, now=NOW)


def test_it_refuses_an_hmac_proof_keyed_with_the_public_key(ec_key: ECKey) -> None:
    # Algorithm confusion: HS256 "signed" with a public key's bytes.
    secret = OctKey.import_key(json.dumps(ec_key.as_dict(private=False)).encode())
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": ec_key.as_dict(private=False)}
    body = {"jti": "x", "htm": "POST", "htu": URL, "iat": int(NOW.timestamp())}
    forged = jws.serialize_compact(header, json.dumps(body).encode(), secret, algorithms=["HS256"])
    with pytest.raises(InvalidDPoPProofError, match="alg"):
        verify_proof(forged, method="POST", url=URL, now=NOW)


def test_it_refuses_a_private_key_in_the_header(ec_key: ECKey) -> None:
    leaked = proof(ec_key, header={"jwk": ec_key.as_dict(private=True)})
    with pytest.raises(InvalidDPoPProofError, match="public key"):
        verify_proof(leaked, method="POST", url=URL, now=NOW)


def test_it_refuses_a_proof_signed_by_another_key(ec_key: ECKey) -> None:
    other = ECKey.generate_key("P-256")
    forged = proof(other, header={"jwk": ec_key.as_dict(private=False)})
    with pytest.raises(InvalidDPoPProofError, match="signature"):
        verify_proof(forged, method="POST", url=URL, now=NOW)


def _unsigned(header: dict[str, Any]) -> str:
    """A proof with the given header and a signature of noise: checks before it must fail."""
    body = {"jti": "x", "htm": "POST", "htu": URL, "iat": int(NOW.timestamp())}
    parts = (json.dumps(header).encode(), json.dumps(body).encode(), b"\0" * 64)
    return ".".join(_b64(part) for part in parts)


def test_it_refuses_an_es256_header_over_an_rsa_key() -> None:
    rsa_jwk = RSAKey.generate_key(2048).as_dict(private=False)
    sent = _unsigned({"typ": "dpop+jwt", "alg": "ES256", "jwk": rsa_jwk})
    with pytest.raises(InvalidDPoPProofError, match="key type"):
        verify_proof(sent, method="POST", url=URL, now=NOW)


def test_it_refuses_a_small_rsa_key() -> None:
    # A 1024-bit modulus: the size is refused before the key is ever imported.
    modulus = b"\xc1" + bytes(range(127))
    jwk = {"kty": "RSA", "n": _b64(modulus), "e": "AQAB"}
    with pytest.raises(InvalidDPoPProofError, match="2048"):
        verify_proof(
            _unsigned({"typ": "dpop+jwt", "alg": "PS256", "jwk": jwk}),
            method="POST",
            url=URL,
            now=NOW,
        )


def test_it_refuses_the_wrong_method(ec_key: ECKey) -> None:
    with pytest.raises(InvalidDPoPProofError, match="htm"):
        verify_proof(proof(ec_key), method="GET", url=URL, now=NOW)


def test_it_refuses_the_wrong_uri(ec_key: ECKey) -> None:
    with pytest.raises(InvalidDPoPProofError, match="htu"):
        verify_proof(proof(ec_key), method="POST", url=URL + "x", now=NOW)


def test_it_compares_uris_without_query_fragment_case_or_default_port(ec_key: ECKey) -> None:
    sent = proof(ec_key, claims={"htu": "HTTPS://Portal.Example.JP:443/oauth/token?a=1#f"})
    assert verify_proof(sent, method="POST", url=URL, now=NOW).jkt == ec_key.thumbprint()
    assert normalize_htu("http://h:8000/p?q") == "http://h:8000/p"


@pytest.mark.parametrize("offset", [timedelta(seconds=-61), timedelta(seconds=61)])
def test_it_refuses_a_proof_outside_sixty_seconds(ec_key: ECKey, offset: timedelta) -> None:
    sent = proof(ec_key, claims={"iat": int((NOW + offset).timestamp())})
    with pytest.raises(InvalidDPoPProofError, match="too old"):
        verify_proof(sent, method="POST", url=URL, now=NOW)


@pytest.mark.parametrize("missing", ["jti", "htm", "htu", "iat"])
def test_it_refuses_a_proof_without_a_required_claim(ec_key: ECKey, missing: str) -> None:
    head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": ec_key.as_dict(private=False)}
    body = {"jti": "j", "htm": "POST", "htu": URL, "iat": int(NOW.timestamp())}
    del body[missing]
    sent = jws.serialize_compact(head, json.dumps(body).encode(), ec_key, registry=REGISTRY)
    with pytest.raises(InvalidDPoPProofError, match="required"):
        verify_proof(sent, method="POST", url=URL, now=NOW)


def test_it_requires_ath_to_match_the_access_token(ec_key: ECKey) -> None:
    sent = proof(ec_key, claims={"ath": b64url_sha256("the-token")})
    assert verify_proof(sent, method="POST", url=URL, now=NOW, access_token="the-token")
    with pytest.raises(InvalidDPoPProofError, match="ath"):
        verify_proof(sent, method="POST", url=URL, now=NOW, access_token="another-token")
    with pytest.raises(InvalidDPoPProofError, match="ath"):
        verify_proof(proof(ec_key), method="POST", url=URL, now=NOW, access_token="the-token")


def test_it_refuses_garbage_and_several_proofs(ec_key: ECKey) -> None:
    with pytest.raises(InvalidDPoPProofError, match="not a JWS"):
        verify_proof("not.a.jws", method="POST", url=URL, now=NOW)
    with pytest.raises(InvalidDPoPProofError, match="exactly one"):
        verify_proof(f"{proof(ec_key)},{proof(ec_key)}", method="POST", url=URL, now=NOW)


@pytest.mark.parametrize(
    ("iat", "reason"),
    [
        (10**20, "1900-01-01 to 2100-12-31"),
        (-(10**20), "1900-01-01 to 2100-12-31"),
        (1e300, "1900-01-01 to 2100-12-31"),
        (float("nan"), "1900-01-01 to 2100-12-31"),
        (float("inf"), "1900-01-01 to 2100-12-31"),
        (str(int(NOW.timestamp())), "number of seconds"),
        (True, "number of seconds"),
    ],
)
def test_an_iat_that_is_no_time_is_refused_not_overflowed(
    ec_key: ECKey, iat: Any, reason: str
) -> None:
    with pytest.raises(InvalidDPoPProofError, match=reason):
        verify_proof(proof(ec_key, claims={"iat": iat}), method="POST", url=URL, now=NOW)


def test_it_refuses_a_jti_too_long_to_keep(ec_key: ECKey) -> None:
    with pytest.raises(InvalidDPoPProofError, match="jti"):
        verify_proof(proof(ec_key, claims={"jti": "j" * 256}), method="POST", url=URL, now=NOW)


def test_a_proof_is_accepted_once_per_key(ec_key: ECKey, seen: SeenJtis) -> None:
    sent = proof(ec_key, claims={"jti": "once"})
    checked = remember_proof(verify_proof(sent, method="POST", url=URL, now=NOW), seen)
    assert seen.kept == {(ec_key.thumbprint(), "once"): NOW + 2 * MAX_PROOF_AGE}
    assert checked.forget_after == NOW + 2 * MAX_PROOF_AGE
    with pytest.raises(InvalidDPoPProofError, match="already used"):
        remember_proof(verify_proof(sent, method="POST", url=URL, now=NOW), seen)
    # The same jti from another key is another proof.
    other = proof(ECKey.generate_key("P-256"), claims={"jti": "once"})
    assert remember_proof(verify_proof(other, method="POST", url=URL, now=NOW), seen)


def test_it_refuses_an_ec_key_on_another_curve() -> None:
    p384 = ECKey.generate_key("P-384").as_dict(private=False)
    sent = _unsigned({"typ": "dpop+jwt", "alg": "ES256", "jwk": p384})
    with pytest.raises(InvalidDPoPProofError, match="P-256"):
        verify_proof(sent, method="POST", url=URL, now=NOW)
