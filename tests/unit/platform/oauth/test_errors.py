"""The OAuth error tree: codes, statuses, and descriptions whose reason is translated too."""

from __future__ import annotations

import pytest

from myna.platform import i18n
from myna.platform.errors import N_, MynaError
from myna.platform.oauth import errors


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (errors.InvalidRequestError, "invalid_request", 400),
        (errors.InvalidClientError, "invalid_client", 401),
        (errors.InvalidGrantError, "invalid_grant", 400),
        (errors.UnauthorizedClientError, "unauthorized_client", 400),
        (errors.UnsupportedGrantTypeError, "unsupported_grant_type", 400),
        (errors.InvalidScopeError, "invalid_scope", 400),
        (errors.InvalidTokenError, "invalid_token", 401),
        (errors.InvalidDPoPProofError, "invalid_dpop_proof", 401),
    ],
)
def test_each_error_has_its_rfc_code_and_status(
    error: type[errors.OAuthError], code: str, status: int
) -> None:
    assert issubclass(error, errors.OAuthError)
    assert issubclass(error, MynaError)
    assert (error.code, error.status_code) == (code, status)


def test_the_reason_is_filled_in_and_translated_with_the_sentence() -> None:
    error = errors.InvalidClientError(
        reason=N_("{name} must be a time from {earliest} to {latest}"),
        name="exp",
        earliest="1900-01-01",
        latest="2100-12-31",
    )
    expected = "Client authentication failed: exp must be a time from 1900-01-01 to 2100-12-31."
    assert str(error) == expected
    i18n.set_locale("en")
    assert error.localized() == expected
    i18n.set_locale("ja")
    assert error.localized() == (
        "クライアント認証に失敗しました: exp は1900-01-01から2100-12-31までの日時にしてください。"
    )


def test_a_reason_from_elsewhere_is_shown_as_it_is() -> None:
    error = errors.InvalidClientError(reason="the jwks_uri {answered} 500", status=500)
    assert str(error) == "Client authentication failed: the jwks_uri {answered} 500."


def test_a_context_may_say_it_in_its_own_words() -> None:
    error = errors.UnsupportedGrantTypeError(N_("Only the authorization_code grant is supported."))
    assert error.code == "unsupported_grant_type"
    i18n.set_locale("ja")
    assert error.localized() == "グラントタイプは authorization_code のみ利用できます。"
