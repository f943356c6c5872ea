"""The one rule for client keys: public, EC on P-256 or RSA of 2048 to 8192 bits."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey

from myna.platform.encoding import b64url
from myna.platform.oauth import rfc7518


def rsa_jwk(bits: int) -> dict[str, str]:
    """An RSA public JWK whose modulus has ``bits`` bits (not a real key: the size is
    refused before anything else is looked at)."""
    modulus = (1 << (bits - 1)) | 1
    return {"kty": "RSA", "n": b64url(modulus.to_bytes(bits // 8, "big")), "e": "AQAB"}


def test_it_accepts_a_p256_key_and_keeps_only_its_public_members(ec_key: ECKey) -> None:
    key = rfc7518.public_key(ec_key.as_dict(private=False))
    assert isinstance(key, ECKey)
    assert not key.is_private
    assert set(key.as_dict()) == {"kty", "crv", "x", "y"}


def test_it_accepts_a_2048_bit_rsa_key(rsa_key: RSAKey) -> None:
    key = rfc7518.public_key(rsa_key.as_dict(private=False))
    assert isinstance(key, RSAKey)
    assert rfc7518.rsa_bits(key.as_dict()["n"]) == 2048


@pytest.mark.parametrize("bits", [1024, 2040, 8200])
def test_it_refuses_an_rsa_key_too_small_or_too_large(bits: int) -> None:
    with pytest.raises(rfc7518.KeySizeError, match="2048 to 8192"):
        rfc7518.public_key(rsa_jwk(bits))


def test_it_refuses_another_curve() -> None:
    p384 = ECKey.generate_key("P-384").as_dict(private=False)
    with pytest.raises(rfc7518.CurveError, match="P-256"):
        rfc7518.public_key(p384)


def test_it_refuses_a_private_key(ec_key: ECKey, rsa_key: RSAKey) -> None:
    for key in (ec_key, rsa_key):
        with pytest.raises(rfc7518.PrivateKeyError, match="public key"):
            rfc7518.public_key(key.as_dict(private=True))


def test_it_refuses_a_symmetric_key() -> None:
    with pytest.raises(rfc7518.PrivateKeyError):
        rfc7518.public_key(OctKey.generate_key(256).as_dict(private=True))
    with pytest.raises(rfc7518.KeyTypeError):
        rfc7518.public_key({"kty": "oct"})


def test_a_caller_may_take_ec_keys_only(rsa_key: RSAKey) -> None:
    with pytest.raises(rfc7518.KeyTypeError):
        rfc7518.public_key(rsa_key.as_dict(private=False), key_types=("EC",))


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        "a string",
        {"kty": "EC", "crv": "P-256", "x": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": b64url(bytes(32)), "y": b64url(bytes(32))},
        {"kty": "RSA", "e": "AQAB"},
    ],
)
def test_it_refuses_what_is_not_a_valid_public_key(jwk: Any) -> None:
    with pytest.raises(rfc7518.UnacceptableKeyError):
        rfc7518.public_key(jwk)


@pytest.mark.parametrize("modulus", [None, 42, "not base64url!", "A" * 5000])
def test_the_size_of_a_modulus_that_is_none_is_zero(modulus: Any) -> None:
    assert rfc7518.rsa_bits(modulus) == 0
