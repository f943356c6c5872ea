"""Pushed request URIs (RFC 9126 §2.2) and what a pushed request may not carry (§2.1)."""

from __future__ import annotations

import pytest

from myna.platform.oauth import rfc9126
from myna.platform.oauth.errors import InvalidRequestError


def test_a_request_uri_carries_its_reference() -> None:
    uri = rfc9126.request_uri("abc123")
    assert uri == "urn:ietf:params:oauth:request_uri:abc123"
    assert rfc9126.reference(uri) == "abc123"


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/request",
        "urn:ietf:params:oauth:request_uri:",
        "urn:ietf:params:oauth:request_uri:" + "x" * 200,
    ],
)
def test_a_request_uri_not_of_ours_has_no_reference(uri: str) -> None:
    assert rfc9126.reference(uri) is None


def test_the_pushed_answer_is_the_json_of_section_2_2() -> None:
    pushed = rfc9126.PushedAuthorization("urn:ietf:params:oauth:request_uri:x", 60)
    assert pushed.response() == {
        "request_uri": "urn:ietf:params:oauth:request_uri:x",
        "expires_in": 60,
    }


def test_a_pushed_request_may_not_name_a_request_uri_or_another_client() -> None:
    rfc9126.check_pushed_parameters({"client_id": "org-1"}, client_id="org-1")
    rfc9126.check_pushed_parameters({}, client_id="org-1")
    with pytest.raises(InvalidRequestError, match="request_uri"):
        rfc9126.check_pushed_parameters({"request_uri": "urn:x"}, client_id="org-1")
    with pytest.raises(InvalidRequestError, match="client_id"):
        rfc9126.check_pushed_parameters({"client_id": "org-2"}, client_id="org-1")
