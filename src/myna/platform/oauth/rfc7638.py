"""JWK thumbprints (RFC 7638), computed by joserfc.

A key's thumbprint names it wherever the platform must say "this key": the ``kid`` of
the platform's own signing key and the ``jkt`` that a DPoP-bound code or access token is
bound to (RFC 9449 §6.1, §10).
"""

from __future__ import annotations

import re

from joserfc.jwk import ECKey, RSAKey

# A SHA-256 digest in unpadded base64url: 43 characters.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


def thumbprint(key: ECKey | RSAKey) -> str:
    """The SHA-256 thumbprint of ``key`` per `Section 3`_: the digest of its required
    members only, in lexicographic order and without whitespace, in base64url.

    .. _`Section 3`: https://www.rfc-editor.org/rfc/rfc7638#section-3
    """
    return key.thumbprint()


def is_thumbprint(value: str) -> bool:
    """Whether ``value`` can be a SHA-256 thumbprint (a ``dpop_jkt``, RFC 9449 §10)."""
    return _THUMBPRINT.fullmatch(value) is not None
