"""Client assertions (RFC 7523 §3): a good one passes, and each rule can refuse one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey

from myna.platform.encoding import b64url
from myna.platform.oauth import rfc7523
from myna.platform.oauth.errors import InvalidClientError, OAuthError, UnauthorizedClientError
from tests.unit.platform.oauth.conftest import SeenJtis

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
EPOCH_NOW = int(NOW.timestamp())
ISSUER = "https://portal.example.jp"
TOKEN_ENDPOINT = ISSUER + "/oauth/token"
CLIENT = "org-0123456789abcdef"


def public(key: ECKey | RSAKey) -> ECKey | RSAKey:
    return type(key).import_key(key.as_dict(private=False))


def sign(
    key: ECKey | RSAKey | OctKey,
    *,
    alg: str = "ES256",
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """An assertion from ``key``; a claim given as None is left out."""
    body = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": ISSUER,
        "exp": EPOCH_NOW + 60,
        "iat": EPOCH_NOW,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    body = {name: value for name, value in body.items() if value is not None}
    head = {"alg": alg, **({"kid": key.kid} if key.kid else {}), **(header or {})}
    return jws.serialize_compact(head, json.dumps(body).encode(), key, algorithms=[alg])


def verify(
    assertion: str,
    keys: Sequence[ECKey | RSAKey],
    *,
    seen: SeenJtis | None = None,
    audience: rfc7523.Audience | None = None,
    algorithms: Sequence[str] = ("PS256", "ES256"),
    client_id: str | None = None,
) -> rfc7523.ClientAssertion:
    def client_keys(client_id: str, kid: str | None) -> Sequence[ECKey | RSAKey]:
        del kid
        if client_id != CLIENT:
            raise rfc7523.unknown_client()
        return keys

    return rfc7523.verify_client_assertion(
        assertion,
        audience=audience or rfc7523.issuer_audience(ISSUER),
        algorithms=algorithms,
        client_keys=client_keys,
        remember=seen if seen is not None else SeenJtis(),
        now=NOW,
        client_id=client_id,
    )


def refused(reason: str, assertion: str, keys: Sequence[ECKey | RSAKey], **options: Any) -> None:
    with pytest.raises(InvalidClientError, match=reason) as caught:
        verify(assertion, keys, **options)
    assert caught.value.code == "invalid_client"
    assert caught.value.status_code == 401


# --- what passes ------------------------------------------------------------------------


def test_it_accepts_an_es256_assertion_and_remembers_its_jti_until_it_expires(
    ec_key: ECKey, seen: SeenJtis
) -> None:
    assertion = sign(ec_key, jti="once")
    verified = verify(assertion, [public(ec_key)], seen=seen, client_id=CLIENT)
    expires = NOW + timedelta(seconds=60)
    assert verified == rfc7523.ClientAssertion(CLIENT, "once", expires)
    assert seen.kept == {(CLIENT, "once"): expires + rfc7523.CLOCK_SKEW}


def test_it_accepts_a_ps256_assertion_from_an_rsa_key(rsa_key: RSAKey) -> None:
    assertion = sign(rsa_key, alg="PS256")
    assert verify(assertion, [public(rsa_key)]).client_id == CLIENT


def test_it_accepts_a_fractional_exp_as_rfc_7519_numeric_dates_may_be(ec_key: ECKey) -> None:
    verified = verify(sign(ec_key, exp=EPOCH_NOW + 60.5), [public(ec_key)])
    assert verified.expires_at == NOW + timedelta(seconds=60.5)


def test_it_accepts_the_token_endpoint_as_aud_where_that_is_the_rule(ec_key: ECKey) -> None:
    audience = rfc7523.token_endpoint_audience(TOKEN_ENDPOINT)
    assert verify(sign(ec_key, aud=TOKEN_ENDPOINT), [public(ec_key)], audience=audience)
    refused("token endpoint", sign(ec_key), [public(ec_key)], audience=audience)


def test_a_key_without_kid_may_verify_whatever_kid_the_header_names(ec_key: ECKey) -> None:
    bare = ECKey.import_key({k: v for k, v in ec_key.as_dict(private=True).items() if k != "kid"})
    assertion = sign(bare, header={"kid": CLIENT})
    assert verify(assertion, [public(bare)]).client_id == CLIENT


# --- the header ---------------------------------------------------------------------------


def test_it_refuses_alg_none(ec_key: ECKey) -> None:
    header = b64url(json.dumps({"alg": "none"}).encode())
    payload = b64url(json.dumps({"iss": CLIENT, "sub": CLIENT, "aud": ISSUER}).encode())
    refused("signed with PS256 or ES256", f"{header}.{payload}.", [public(ec_key)])


def test_it_refuses_an_hmac_assertion_keyed_with_the_public_key(ec_key: ECKey) -> None:
    secret = OctKey.import_key(json.dumps(ec_key.as_dict(private=False)).encode())
    refused("signed with PS256 or ES256", sign(secret, alg="HS256"), [public(ec_key)])


def test_it_refuses_an_algorithm_the_caller_does_not_allow(ec_key: ECKey, rsa_key: RSAKey) -> None:
    refused(
        "signed with ES256", sign(rsa_key, alg="PS256"), [public(rsa_key)], algorithms=["ES256"]
    )
    refused("signed with PS256", sign(ec_key), [public(ec_key)], algorithms=["PS256", "HS256"])


def test_it_refuses_a_kid_no_registered_key_has(ec_key: ECKey) -> None:
    refused("registered key", sign(ec_key, header={"kid": "unknown"}), [public(ec_key)])


def test_it_refuses_a_signature_by_another_key(ec_key: ECKey) -> None:
    stranger = ECKey.generate_key("P-256", parameters={"kid": ec_key.kid})
    refused("registered key", sign(stranger), [public(ec_key)])


def test_it_never_verifies_with_an_encryption_key(ec_key: ECKey) -> None:
    encryption = ECKey.import_key({**ec_key.as_dict(private=False), "use": "enc"})
    refused("registered key", sign(ec_key), [encryption])


def test_it_refuses_an_es256_header_over_an_rsa_key(rsa_key: RSAKey) -> None:
    # Only keys of the algorithm's type are tried: the signature is not even looked at.
    header = b64url(json.dumps({"alg": "ES256", "kid": rsa_key.kid}).encode())
    payload = b64url(json.dumps({"iss": CLIENT, "sub": CLIENT}).encode())
    forged = f"{header}.{payload}.{b64url(bytes(64))}"
    refused("registered key", forged, [public(rsa_key)])


# --- the claims ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [{"iss": "org-other"}, {"sub": "org-other"}, {"sub": None}, {"iss": None}, {"iss": 7}],
)
def test_it_refuses_when_iss_and_sub_are_not_both_the_client(
    ec_key: ECKey, claims: dict[str, Any]
) -> None:
    refused("iss and sub", sign(ec_key, **claims), [public(ec_key)])


def test_it_refuses_a_client_id_parameter_naming_another_client(ec_key: ECKey) -> None:
    refused("client_id does not match", sign(ec_key), [public(ec_key)], client_id="org-other")


def test_the_caller_refuses_a_client_it_does_not_know(ec_key: ECKey) -> None:
    other = sign(ec_key, iss="org-other", sub="org-other")
    refused("unknown client", other, [public(ec_key)])


def test_the_caller_may_refuse_a_client_with_its_own_error(ec_key: ECKey) -> None:
    def not_approved(client_id: str, kid: str | None) -> list[ECKey | RSAKey]:
        raise UnauthorizedClientError

    with pytest.raises(UnauthorizedClientError):
        rfc7523.verify_client_assertion(
            sign(ec_key),
            audience=rfc7523.issuer_audience(ISSUER),
            algorithms=["ES256"],
            client_keys=not_approved,
            remember=SeenJtis(),
            now=NOW,
        )


@pytest.mark.parametrize(
    "aud", [TOKEN_ENDPOINT, [ISSUER], [ISSUER, TOKEN_ENDPOINT], ISSUER + "/", None]
)
def test_it_refuses_any_aud_but_the_audience_as_one_string(ec_key: ECKey, aud: Any) -> None:
    refused("aud must be the issuer identifier", sign(ec_key, aud=aud), [public(ec_key)])


def test_it_refuses_an_expired_assertion(ec_key: ECKey) -> None:
    refused("has expired", sign(ec_key, exp=EPOCH_NOW - 61), [public(ec_key)])


def test_it_allows_a_minute_of_clock_skew_on_exp(ec_key: ECKey) -> None:
    assert verify(sign(ec_key, exp=EPOCH_NOW - 59), [public(ec_key)])


def test_it_refuses_an_assertion_that_would_live_too_long(ec_key: ECKey) -> None:
    refused("at most 5 minutes", sign(ec_key, exp=EPOCH_NOW + 361), [public(ec_key)])


def test_it_refuses_an_assertion_without_exp(ec_key: ECKey) -> None:
    refused("exp is required", sign(ec_key, exp=None), [public(ec_key)])


def test_it_refuses_an_assertion_issued_in_the_future(ec_key: ECKey) -> None:
    refused("in the future", sign(ec_key, iat=EPOCH_NOW + 120), [public(ec_key)])


def test_it_refuses_an_assertion_not_valid_yet(ec_key: ECKey) -> None:
    refused("not valid yet", sign(ec_key, nbf=EPOCH_NOW + 120), [public(ec_key)])


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [10**20, -(10**20), 10**400, 1e300, -1e300, float("nan"), float("inf"), 253402300800],
)
def test_a_time_beyond_the_calendar_is_refused_not_overflowed(
    ec_key: ECKey, claim: str, value: float
) -> None:
    refused(
        f"{claim} must be a time from 1900-01-01 to 2100-12-31",
        sign(ec_key, **{claim: value}),
        [public(ec_key)],
    )


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [str(EPOCH_NOW + 60), True, False, [EPOCH_NOW], {"t": 1}])
def test_a_time_that_is_not_a_number_is_refused(ec_key: ECKey, claim: str, value: Any) -> None:
    refused(f"{claim} must be a number", sign(ec_key, **{claim: value}), [public(ec_key)])


@pytest.mark.parametrize("jti", [None, "", "x" * 256, 42])
def test_it_refuses_a_missing_empty_long_or_non_string_jti(ec_key: ECKey, jti: Any) -> None:
    refused("jti", sign(ec_key, jti=jti), [public(ec_key)])


def test_a_jti_of_255_characters_is_fine(ec_key: ECKey) -> None:
    assert verify(sign(ec_key, jti="x" * 255), [public(ec_key)]).jti == "x" * 255


def test_it_refuses_a_replayed_assertion(ec_key: ECKey, seen: SeenJtis) -> None:
    assertion = sign(ec_key)
    verify(assertion, [public(ec_key)], seen=seen)
    refused("already used", assertion, [public(ec_key)], seen=seen)
    # Another assertion of the same client is fine.
    assert verify(sign(ec_key), [public(ec_key)], seen=seen)


def test_a_jti_is_remembered_only_once_every_other_check_passed(
    ec_key: ECKey, seen: SeenJtis
) -> None:
    with pytest.raises(InvalidClientError):
        verify(sign(ec_key, jti="j", aud=TOKEN_ENDPOINT), [public(ec_key)], seen=seen)
    assert seen.kept == {}


# --- the form -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assertion", "reason"),
    [
        ("", "required"),
        ("a" * (rfc7523.MAX_ASSERTION_BYTES + 1), "too long"),
        ("not-a-jws", "compact JWS"),
        ("ｱ.b.c", "compact JWS"),
    ],
)
def test_it_refuses_what_is_not_an_assertion(ec_key: ECKey, assertion: str, reason: str) -> None:
    refused(reason, assertion, [public(ec_key)])


def test_it_refuses_a_payload_that_is_not_a_json_object(ec_key: ECKey) -> None:
    signed = jws.serialize_compact({"alg": "ES256"}, b"[1, 2]", ec_key, algorithms=["ES256"])
    refused("JSON object", signed, [public(ec_key)])


def test_every_refusal_is_an_oauth_error_with_a_description(ec_key: ECKey) -> None:
    with pytest.raises(OAuthError) as caught:
        verify(sign(ec_key, exp=10**20), [public(ec_key)])
    assert str(caught.value) == (
        "Client authentication failed: exp must be a time from 1900-01-01 to 2100-12-31."
    )
