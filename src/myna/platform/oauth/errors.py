"""The OAuth error responses, one class per ``error`` code.

The token endpoint's codes are those of RFC 6749 `Section 5.2`_, a protected resource's
those of RFC 6750 `Section 3.1`_, and DPoP adds ``invalid_dpop_proof`` (RFC 9449
`Section 7`_). ``code`` is the ``error`` value, :meth:`OAuthError.localized` the
``error_description`` and ``status_code`` the HTTP status the endpoints answer.

Most messages carry a ``{reason}``: a message id of its own (marked with ``N_``),
translated when the error is shown and filled with the error's other parameters, so
the reason reads in the same language as the sentence around it. A context that needs
other words for an error passes its own message id as the first argument (as every
:class:`~myna.platform.errors.MynaError` allows).

.. _`Section 5.2`: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
.. _`Section 3.1`: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
.. _`Section 7`: https://www.rfc-editor.org/rfc/rfc9449#section-7
"""

from __future__ import annotations

from collections.abc import Callable

from myna.platform import i18n
from myna.platform.errors import N_, MynaError


def _identity(message: str) -> str:
    return message


class OAuthError(MynaError, code="invalid_request", status_code=400):
    """An OAuth error response: ``{"error": code, "error_description": message}``."""

    message = N_("The request is not valid: {reason}.")

    def _render(self, translate: Callable[[str], str]) -> str:
        params = dict(self.params)
        reason = params.get("reason")
        if isinstance(reason, str) and reason:
            text = translate(reason)
            others = {k: v for k, v in params.items() if k != "reason"}
            try:
                params["reason"] = text.format(**others) if others else text
            except (KeyError, IndexError, ValueError):
                # A reason from elsewhere (an address, a library's words) is shown as is.
                params["reason"] = text
        message = translate(self.message)
        return message.format(**params) if params else message

    def localized(self) -> str:
        """The description in the locale in force, its reason translated too."""
        return self._render(i18n.gettext)

    def __str__(self) -> str:
        return self._render(_identity)


class InvalidRequestError(OAuthError, code="invalid_request"):
    """RFC 6749 §5.2: the request is missing a required parameter, includes an
    unsupported parameter value (other than grant type), repeats a parameter, includes
    multiple credentials or is otherwise malformed; RFC 6750 §3.1 says the same of a
    request to a protected resource."""


class InvalidClientError(OAuthError, code="invalid_client", status_code=401):
    """RFC 6749 §5.2: client authentication failed (an unknown client, no client
    authentication, an unsupported method). Answered 401: the client authenticated in the
    body, so there is no ``Authorization`` scheme to challenge."""

    message = N_("Client authentication failed: {reason}.")


class InvalidGrantError(OAuthError, code="invalid_grant"):
    """RFC 6749 §5.2: the grant is invalid, expired or revoked, does not match the redirect
    URI of the authorization request, or was issued to another client. On this platform
    the only such grant is the authorization code."""

    message = N_("The authorization code is not valid: {reason}.")


class UnauthorizedClientError(OAuthError, code="unauthorized_client"):
    """RFC 6749 §5.2: the authenticated client is not authorized to use this grant type,
    such as a client the server has not approved yet, or no longer does."""

    message = N_("This client is not authorized to use this grant type.")


class UnsupportedGrantTypeError(OAuthError, code="unsupported_grant_type"):
    """RFC 6749 §5.2: the authorization server does not support the grant type.

    Each server names the one it has (its own message).
    """

    message = N_("This grant type is not supported.")


class InvalidScopeError(OAuthError, code="invalid_scope"):
    """RFC 6749 §5.2: the scope is invalid, unknown, malformed, or exceeds what the resource
    owner granted."""

    message = N_("The scope is not allowed: {reason}.")


class InvalidTokenError(OAuthError, code="invalid_token", status_code=401):
    """RFC 6750 §3.1: the access token is expired, revoked, malformed, or invalid for
    other reasons; the resource answers 401 with a ``WWW-Authenticate`` challenge naming
    the error, and the client may ask for a new token."""

    message = N_("The access token is not valid: {reason}.")


class InvalidDPoPProofError(OAuthError, code="invalid_dpop_proof", status_code=401):
    """RFC 9449 §7.1: the DPoP proof is missing or invalid.

    401 at a protected resource, with a ``DPoP`` challenge; a token endpoint answers
    it 400 like its other errors (§5), which is for the endpoint to decide.
    """

    message = N_("The DPoP proof is not valid: {reason}.")
