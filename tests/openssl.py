"""openssl as the independent checker of signed applications (the tests' second opinion)."""

from __future__ import annotations

import re
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


def shell_commands(snippet: str) -> list[str]:
    """The commands of a shell snippet as documented: continuations joined, spaces
    collapsed, blank and comment lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", snippet)
    lines = (" ".join(line.split()) for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run_commands(commands: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run documented commands in ``cwd`` one after the other, as a reader would in a
    shell; the first that fails, or the last."""
    result = subprocess.CompletedProcess[bytes](args=[], returncode=0)
    for command in commands:
        result = subprocess.run(  # noqa: S602 - the documentation's own commands, with redirects
            command, shell=True, cwd=cwd, capture_output=True, check=False
        )
        if result.returncode != 0:
            break
    return result
