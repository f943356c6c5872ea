"""An institution's signing identity on disk, and its signed requests to the service.

The layout one directory per institution, named by its 医療機関コード::

    <dir>/<code>/institution.json   {"code": ..., "name": ...}
    <dir>/<code>/key.pem            the P-256 key (PKCS#8, unencrypted: the device's own)
    <dir>/<code>/cert.pem           its certificate from the government CA

``myna medical register`` writes it; the counter app reads it.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
ORGANIZATION_PREFIX = "mi-"


@dataclass(frozen=True, slots=True)
class InstitutionIdentity:
    """A clinic's or pharmacy's code, name, key and certificate."""

    code: str
    name: str
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def organization_code(self) -> str:
        """The code its certificate names (``mi-<医療機関コード>``)."""
        return f"{ORGANIZATION_PREFIX}{self.code}"

    def sign(self, kind: str, **body: Any) -> str:
        """One signed request of ``kind`` with a fresh id and time (JWS compact, ES256)."""
        payload = {
            "type": kind,
            "request_id": str(uuid.uuid4()),
            "institution": self.code,
            "issued_at": datetime.now(UTC).isoformat(),
            **body,
        }
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {
            "alg": ALGORITHM,
            "kid": self.organization_code,
            "x5c": [base64.b64encode(der).decode("ascii")],
        }
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return jws.serialize_compact(header, data, ECKey.import_key(self.private_key))


def write_identity(
    directory: Path,
    *,
    code: str,
    name: str,
    private_key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
) -> Path:
    """Write an institution's files under ``directory/<code>``; the folder written."""
    folder = directory / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "institution.json").write_text(
        json.dumps({"code": code, "name": name}, ensure_ascii=False), encoding="utf-8"
    )
    key_path = folder / "key.pem"
    key_path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return folder


def load_identities(directory: Path) -> dict[str, InstitutionIdentity]:
    """Every institution under ``directory``, by code (a folder missing a file is skipped)."""
    found: dict[str, InstitutionIdentity] = {}
    if not directory.is_dir():
        return found
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        try:
            about = json.loads((folder / "institution.json").read_text(encoding="utf-8"))
            key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), None)
            certificate = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
        except (OSError, ValueError):
            continue
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            continue
        code, name = str(about["code"]), str(about["name"])
        found[code] = InstitutionIdentity(code, name, key, certificate)
    return found
