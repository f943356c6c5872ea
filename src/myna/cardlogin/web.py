"""What a page that starts a card login needs: the challenge id's shape and its QR code."""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import Form, Path

CHALLENGE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# A challenge identifier as it appears in a URL or a form (URL-safe base64 characters).
ChallengeIdPath = Annotated[str, Path(pattern=CHALLENGE_ID_PATTERN)]
ChallengeIdForm = Annotated[str, Form(pattern=CHALLENGE_ID_PATTERN)]


def qr_svg(link: str) -> bytes:
    """The QR code of a card reader link, as a standalone SVG document."""
    qr = segno.make(link, error="m")
    buffer = io.BytesIO()
    # A standalone SVG document (with its XML namespace), as <img> requires.
    qr.save(buffer, kind="svg", scale=6, border=2, dark="#111", light="#fff", xmldecl=True)
    return buffer.getvalue()
