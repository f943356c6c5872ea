"""Mynaportal API for private organisations (partners): FAPI 2.0 consent and resource APIs.

Organisations register and are approved per scope; residents consent each time at the
portal; the authorization server issues DPoP-bound tokens; the resource APIs fetch
through the hub with the consent as the purpose. Other contexts import only from here:
the authentication app reuses the pairwise subject and the checks of a client's
redirect URIs and key set.
"""

from myna.partners.domain import pairwise_subject
from myna.partners.organizations import (
    InvalidRegistrationError,
    check_jwks,
    check_redirect_uri,
    check_redirect_uris,
)
from myna.partners.usage import count_api_uses

__all__ = [
    "InvalidRegistrationError",
    "check_jwks",
    "check_redirect_uri",
    "check_redirect_uris",
    "count_api_uses",
    "pairwise_subject",
]
