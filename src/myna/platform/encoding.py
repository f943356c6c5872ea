"""Base64 as the protocols spell it: one implementation for the whole tree.

JOSE, DPoP thumbprints, PKCE and the card protocols use unpadded base64url
(`RFC 4648 §5`_, `RFC 7515 §2`_); JSON documents that carry bytes (proofs, CMS
signatures, export packages, sealed secrets) use standard base64 with padding (`RFC 4648
§4`_).

.. _`RFC 4648 §5`: https://www.rfc-editor.org/rfc/rfc4648#section-5
.. _`RFC 7515 §2`: https://www.rfc-editor.org/rfc/rfc7515#section-2
.. _`RFC 4648 §4`: https://www.rfc-editor.org/rfc/rfc4648#section-4
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

# The alphabet, then padding only: one regular expression, not a test per character
# (a card certificate is some 1,800 characters).
_B64URL = re.compile(r"[A-Za-z0-9_-]*=*")


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded or padded base64url; raise ``ValueError`` on anything else."""
    cleaned = text.strip()
    if not cleaned or _B64URL.fullmatch(cleaned) is None:
        msg = "not base64url"
        raise ValueError(msg)
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def b64url_sha256(value: str) -> str:
    """base64url of the SHA-256 of ``value`` (PKCE S256, DPoP ``ath``, RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(value.encode("ascii")).digest())


def b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Decode standard base64 strictly; raise ``ValueError`` on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        msg = "not base64"
        raise ValueError(msg) from exc
