"""Pushed Authorization Requests (RFC 9126): the parts any authorization server shares.

The client posts its authorization request to the PAR endpoint and gets back a
``request_uri`` (`Section 2.2`_), which the browser then carries to the authorization
endpoint (`Section 4`_). What the request may ask for, and the consent, are the
server's own.

.. _`Section 2.2`: https://www.rfc-editor.org/rfc/rfc9126#section-2.2
.. _`Section 4`: https://www.rfc-editor.org/rfc/rfc9126#section-4
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from myna.platform.errors import N_
from myna.platform.oauth.errors import InvalidRequestError

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
# Ours are the prefix and 43 characters; anything this long is not one of them.
MAX_REQUEST_URI_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PushedAuthorization:
    """The PAR response (`Section 2.2`_): the ``request_uri`` and its lifetime in seconds.

    .. _`Section 2.2`: https://www.rfc-editor.org/rfc/rfc9126#section-2.2
    """

    request_uri: str
    expires_in: int

    def response(self) -> dict[str, str | int]:
        """The JSON body of the 201 response."""
        return {"request_uri": self.request_uri, "expires_in": self.expires_in}


def request_uri(reference: str) -> str:
    """The ``request_uri`` for a stored request: a URN of the IETF OAuth namespace
    (RFC 9126 §2.2 suggests ``urn:ietf:params:oauth:request_uri:<reference>``)."""
    return REQUEST_URI_PREFIX + reference


def reference(uri: str) -> str | None:
    """The reference in a ``request_uri`` this server made; None for any other value."""
    if len(uri) > MAX_REQUEST_URI_LENGTH or not uri.startswith(REQUEST_URI_PREFIX):
        return None
    return uri.removeprefix(REQUEST_URI_PREFIX) or None


def check_pushed_parameters(params: Mapping[str, str], *, client_id: str) -> None:
    """What `Section 2.1`_ forbids in a pushed request: a ``request_uri`` (it would point
    at another pushed request), or a ``client_id`` other than the authenticated client's.

    .. _`Section 2.1`: https://www.rfc-editor.org/rfc/rfc9126#section-2.1
    """
    if "request_uri" in params:
        raise InvalidRequestError(reason=N_("request_uri is not allowed in a pushed request"))
    if params.get("client_id", client_id) != client_id:
        raise InvalidRequestError(reason=N_("client_id does not match the authenticated client"))
