"""openssl as the independent checker of signed applications (the tests' second opinion)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.orm import Session

from myna import jpki


def jpki_signing_chain_pem(session: Session) -> bytes:
    """The JPKI root and signing CA certificates, PEM, as a CA file for openssl."""
    return b"".join(
        x509.load_der_x509_certificate(
            jpki.ca_certificate(session=session, kind=kind)
        ).public_bytes(Encoding.PEM)
        for kind in ("root", "sign")
    )


def cms_verify(signature: Path, content: Path, ca_file: Path) -> subprocess.CompletedProcess[bytes]:
    """``openssl cms -verify`` of a detached DER signature over ``content``."""
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any"]
    files = ["-in", str(signature), "-content", str(content), "-CAfile", str(ca_file)]
    return subprocess.run([*command, *files, "-out", "/dev/null"], capture_output=True, check=False)
