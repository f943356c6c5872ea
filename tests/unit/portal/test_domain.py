import pytest

from myna.card.protocol import login_message
from myna.cardlogin.domain import new_challenge_id, new_nonce
from myna.platform.encoding import b64url, b64url_decode


def test_the_login_message_binds_the_portal_origin() -> None:
    here = login_message(origin="https://portal.example", challenge_id="c1", nonce="n1")
    there = login_message(origin="https://evil.example", challenge_id="c1", nonce="n1")
    assert here != there
    assert here == b"myna-card-login-v1\nhttps://portal.example\nc1\nn1"


def test_a_trailing_slash_does_not_change_the_origin() -> None:
    assert login_message(origin="http://a/", challenge_id="c", nonce="n") == login_message(
        origin="http://a", challenge_id="c", nonce="n"
    )


def test_challenges_and_nonces_are_unpredictable() -> None:
    assert len({new_challenge_id() for _ in range(200)}) == 200
    assert len(b64url_decode(new_nonce())) == 32


@pytest.mark.parametrize("data", [b"\x00", b"\xff" * 33, b"hello world", bytes(range(256))])
def test_base64url_round_trips(data: bytes) -> None:
    assert b64url_decode(b64url(data)) == data


@pytest.mark.parametrize("garbage", ["", "   ", "abc$", "a b c", "%%%%"])
def test_base64url_refuses_garbage(garbage: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(garbage)
