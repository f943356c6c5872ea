"""What the authorization server publishes: its metadata and its signing key.

The metadata is OpenID Connect Discovery 1.0 `Section 3`_ together with the RFC 8414
fields and those of PAR (RFC 9126 §5), DPoP (RFC 9449 §5.1) and RFC 9207 §3, as the
FAPI 2.0 Security Profile requires them. The platform signs ID tokens (and consent
receipts) with the portal's agency credential (ES256, P-256, certified by the
government CA); its ``kid`` is the RFC 7638 thumbprint, and the JWKS carries the
certificate in ``x5c`` so an integrator can also chain it to the CA.

.. _`Section 3`: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna import network
from myna.partners.domain import ALL_SCOPES, SIGNING_ALGORITHMS
from myna.platform.encoding import b64
from myna.platform.oauth.rfc7638 import thumbprint
from myna.platform.settings import Settings

PLATFORM_ALGORITHM = "ES256"
PLATFORM_NAME = "マイナポータル"
# The authentication context of a login with the MyNumber card's JPKI user
# authentication certificate (利用者証明用電子証明書).
ACR_CARD = "urn:myna:acr:jpki-card"
PAR_PATH = "/oauth/par"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret
JWKS_PATH = "/oauth/jwks"


def issuer(settings: Settings) -> str:
    """The issuer identifier: the portal's URL without a trailing slash."""
    return settings.portal_url.rstrip("/")


def endpoint(settings: Settings, path: str) -> str:
    """An absolute endpoint URL under the issuer."""
    return issuer(settings) + path


def metadata(settings: Settings) -> dict[str, Any]:
    """The provider metadata (OIDC Discovery §3, RFC 8414 §2, RFC 9126 §5, RFC 9449 §5.1)."""
    base = issuer(settings)
    return {
        "issuer": base,
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "pushed_authorization_request_endpoint": base + PAR_PATH,
        "require_pushed_authorization_requests": True,
        "jwks_uri": base + JWKS_PATH,
        "scopes_supported": list(ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [PLATFORM_ALGORITHM],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "dpop_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": [ACR_CARD],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["ja", "en"],
        "service_documentation": base + "/api/docs",
        "op_policy_uri": base + "/partners",
    }


def signing_key(*, session: Session, settings: Settings) -> ECKey:
    """The platform's private signing key, with its thumbprint as ``kid``."""
    credential = network.credential_for(
        session=session, settings=settings, code=network.PORTAL, name=PLATFORM_NAME
    )
    return ECKey.import_key(credential.private_key, {"kid": thumbprint(credential.jwk)})


def public_jwks(*, session: Session, settings: Settings) -> dict[str, Any]:
    """The JWKS at ``/oauth/jwks``: the public key only, with its certificate chain."""
    credential = network.credential_for(
        session=session, settings=settings, code=network.PORTAL, name=PLATFORM_NAME
    )
    key = ECKey.import_key(credential.private_key)
    certificate = b64(credential.certificate.public_bytes(Encoding.DER))
    public = key.as_dict(
        private=False, kid=thumbprint(key), use="sig", alg=PLATFORM_ALGORITHM, x5c=[certificate]
    )
    return {"keys": [public]}


def sign_jwt(
    *, session: Session, settings: Settings, claims: dict[str, Any], typ: str = "JWT"
) -> str:
    """A JWT signed by the platform (ES256, ``kid`` the key's thumbprint)."""
    return sign_jwt_with(signing_key(session=session, settings=settings), claims, typ=typ)


def sign_jwt_with(key: ECKey, claims: dict[str, Any], *, typ: str = "JWT") -> str:
    """:func:`sign_jwt` with the :func:`signing_key` already at hand (many JWTs at once)."""
    header = {"alg": PLATFORM_ALGORITHM, "typ": typ, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[PLATFORM_ALGORITHM])
