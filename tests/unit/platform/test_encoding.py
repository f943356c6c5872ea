"""One base64 for the tree: unpadded base64url for JOSE, standard base64 for JSON bytes."""

from __future__ import annotations

import pytest

from myna.platform.encoding import b64, b64url, b64url_decode, b64url_sha256, unb64


def test_base64url_is_unpadded_and_round_trips() -> None:
    data = bytes(range(256))
    assert "=" not in b64url(data)
    assert b64url_decode(b64url(data)) == data


def test_the_s256_challenge_of_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert b64url_sha256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_standard_base64_round_trips_and_refuses_garbage() -> None:
    assert unb64(b64(b"\xff\xfe")) == b"\xff\xfe"
    for garbage in ("@@@@", "YQ", "ｱ"):
        with pytest.raises(ValueError, match="base64"):
            unb64(garbage)
