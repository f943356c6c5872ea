"""JWK thumbprints (RFC 7638)."""

from __future__ import annotations

from joserfc.jwk import RSAKey

from myna.platform.oauth.rfc7638 import is_thumbprint, thumbprint

# RFC 7638 §3.1: the example key and its thumbprint.
EXAMPLE = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65Y"
        "GjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqD"
        "Kgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


def test_the_thumbprint_of_the_rfc_example_key() -> None:
    key = RSAKey.import_key(EXAMPLE)
    assert thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_thumbprint_is_43_base64url_characters() -> None:
    assert is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    for value in ("", "x" * 42, "x" * 44, "NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs"):
        assert not is_thumbprint(value)
