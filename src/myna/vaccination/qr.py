"""QR codes of the certificates: drawn with segno, read back with OpenCV.

An SHC goes in two segments as its spec asks — ``shc:/`` in byte mode, the digits in
numeric mode — at error correction L; a VDS-NC JSON in byte mode, the error correction
raised as far as the size allows. The verifier reads an uploaded photo or screenshot with
OpenCV's QR detector (``cv2.QRCodeDetector``).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import cv2
import numpy as np
import segno
from segno import consts

from myna.vaccination import domain
from myna.vaccination.domain import rejection

# An uploaded image: a screenshot or a cropped photo of the code (the page says so).
MAX_IMAGE_BYTES = 900 << 10
MAX_IMAGE_PIXELS = 40_000_000


def shc_code(qr_text: str) -> segno.QRCode:
    """The QR code of an ``shc:/`` text: a byte segment, then a numeric one."""
    if not qr_text.startswith(domain.SHC_PREFIX):
        msg = "an SHC QR text starts with shc:/"
        raise ValueError(msg)
    digits = qr_text[len(domain.SHC_PREFIX) :]
    segments: Any = [(domain.SHC_PREFIX, consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)]
    # segno takes a list of (content, mode) segments; its annotations name one content.
    return segno.make(
        segments,
        error="l",
        micro=False,
        boost_error=False,
    )


def vds_code(seal: str) -> segno.QRCode:
    """The QR code of a VDS-NC JSON (byte mode, UTF-8)."""
    return segno.make(seal.encode("utf-8"), error="l", micro=False, mode="byte")


def png(code: segno.QRCode, *, scale: int = 4) -> bytes:
    """The code as a PNG with the quiet zone of four modules."""
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def data_uri(image: bytes) -> str:
    """A ``data:`` URI of a PNG, for an ``<img>`` under the page's CSP (img-src data:)."""
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def decode_image(image: bytes) -> str:
    """The text of the QR code in an uploaded PNG or JPEG; a refusal when there is none."""
    if len(image) > MAX_IMAGE_BYTES:
        raise rejection("too_large")
    if not image.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise rejection("bad_image")
    width, height = _dimensions(image)
    if width * height > MAX_IMAGE_PIXELS:
        raise rejection("too_large")
    buffer = np.frombuffer(image, dtype=np.uint8)
    try:
        picture = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    except cv2.error as exc:
        raise rejection("bad_image") from exc
    if picture is None or picture.size == 0:
        raise rejection("bad_image")
    # The classic detector first; the ArUco-based one finds the finder patterns of dense
    # codes (a seal with its certificate is version 30 or so) that the classic one misses;
    # then both again on the picture doubled, for small screenshots.
    for attempt in _attempts(picture):
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            text, _points, _straight = detector.detectAndDecode(attempt)
            if text:
                return str(text)
    raise rejection("no_image_code")


def _attempts(picture: np.ndarray) -> list[np.ndarray]:
    attempts = [picture]
    if picture.size * 4 <= MAX_IMAGE_PIXELS:
        attempts.append(cv2.resize(picture, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
    return attempts


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _dimensions(image: bytes) -> tuple[int, int]:
    """Width and height from the header, before a pixel is decoded (no decompression bomb).

    PNG: the IHDR chunk that must come first (RFC 2083 §4.1.1). JPEG: the first
    start-of-frame marker (ITU T.81 §B.2.2).
    """
    if image.startswith(b"\x89PNG"):
        if len(image) < 24 or image[12:16] != b"IHDR":
            raise rejection("bad_image")
        return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    at = 2
    while at + 4 <= len(image):
        if image[at] != 0xFF:
            raise rejection("bad_image")
        marker = image[at + 1]
        length = int.from_bytes(image[at + 2 : at + 4], "big")
        if marker in _SOF and at + 9 <= len(image):
            return int.from_bytes(image[at + 7 : at + 9], "big"), int.from_bytes(
                image[at + 5 : at + 7], "big"
            )
        at += 2 + length
    raise rejection("bad_image")
