"""Files people attach (evidence, application attachments, notice attachments).

A file's type is recognised by its first bytes, never by its name or the type a browser
claims: a PDF, a PNG or a JPEG — what a phone camera or a scanner makes.
"""

from __future__ import annotations

DOCUMENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


def document_type(data: bytes) -> str | None:
    """The media type ``data`` starts like (PDF, PNG, JPEG), or None."""
    for media_type, signatures in DOCUMENT_SIGNATURES.items():
        if data.startswith(signatures):
            return media_type
    return None
