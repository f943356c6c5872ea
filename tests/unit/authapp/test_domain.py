"""The authentication app's pure rules: scopes, PKCE, digests, claims, the signed documents."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from myna.authapp.domain import (
    IdentityClaims,
    InvalidDigestError,
    InvalidTitleError,
    check_digests,
    check_pkce,
    check_title,
    identity_document,
    login_scopes,
    needs_signature,
    parse_scopes,
    signing_document,
)
from myna.platform.oauth.errors import InvalidRequestError, InvalidScopeError

DIGEST = hashlib.sha256(b"contract").hexdigest()
ALL = ("openid", "name", "address", "birthdate", "gender", "sign")


def test_login_scopes_need_openid_and_leave_sign_to_the_server() -> None:
    assert login_scopes("openid name name", allowed=ALL) == ("openid", "name")
    for bad in ("name", "openid sign", "openid myinfo.health", ""):
        with pytest.raises(InvalidScopeError):
            login_scopes(bad, allowed=ALL)


def test_a_scope_beyond_the_clients_is_refused() -> None:
    with pytest.raises(InvalidScopeError):
        parse_scopes("openid address", allowed=("openid", "name"))
    assert parse_scopes("sign", allowed=("sign",)) == ("sign",)


def test_only_the_basic_4_info_need_a_signature() -> None:
    assert not needs_signature(["openid"])
    assert needs_signature(["openid", "gender"])


def test_pkce_must_be_s256_with_a_43_character_challenge() -> None:
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert check_pkce("S256", challenge) == challenge
    for method, value in (("plain", challenge), (None, challenge), ("S256", challenge[:-1])):
        with pytest.raises(InvalidRequestError):
            check_pkce(method, value)


def test_digests_are_sha256_hex_one_to_ten() -> None:
    assert check_digests([DIGEST.upper(), DIGEST]) == (DIGEST,)
    for bad in ([], [DIGEST[:-1]], [DIGEST + "0"], ["g" * 64], [DIGEST] * 11, [64]):
        with pytest.raises(InvalidDigestError):
            check_digests(bad)


def test_a_title_is_one_short_line() -> None:
    assert check_title("  申込書 ") == "申込書"
    for bad in ("", "a" * 101, "一行目\n二行目"):
        with pytest.raises(InvalidTitleError):
            check_title(bad)


def test_claims_are_oidc_standard_claims_of_the_granted_scopes_only() -> None:
    identity = IdentityClaims("山田 太郎", "東京都千代田区千代田1-1", date(1985, 4, 12), 1)
    assert identity.claims(["openid", "address", "gender"]) == {
        "address": {"formatted": "東京都千代田区千代田1-1"},
        "gender": "male",
    }
    assert IdentityClaims("a", "b", date(2000, 1, 1), 3).claims(["gender"]) == {"gender": "unknown"}
    assert identity.claims(["birthdate"]) == {"birthdate": "1985-04-12"}


def test_the_signed_documents_say_who_asks_and_what() -> None:
    signed = signing_document(
        client_name="さくら証券",
        title="口座開設",
        sign_request_id="r",
        client_id="aa-1",
        digests=[DIGEST],
        submission_key="k",
        prepared_at="2026-12-05T00:00:00+00:00",
    )
    assert signed["procedure"]["name"] == "口座開設"
    assert signed["municipality"]["name"] == "さくら証券"
    assert signed["data"]["digests"] == [DIGEST]
    assert signed["answers"][0]["answers"] == [["文書1", DIGEST]]
    identity = identity_document(
        client_name="さくら証券",
        issuer="http://x/authapp",
        authorization_id="a",
        client_id="aa-1",
        scopes=["openid", "name"],
        labels=["氏名"],
        submission_key="k",
        prepared_at="t",
    )
    assert identity["data"]["scopes"] == ["openid", "name"]
    assert ["提供先", "さくら証券"] in identity["answers"][0]["answers"]
