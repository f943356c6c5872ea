"""A sender's signing identity on disk, and the requests it signs (the sender's side).

One directory per sender, named by its code::

    <dir>/<code>/sender.json   {"code", "name", "kind", "organization_code"}
    <dir>/<code>/key.pem       the P-256 key (PKCS#8, unencrypted: the sender's own)
    <dir>/<code>/cert.pem      its certificate from the government CA

``myna delivery register-sender`` writes it; the sample sender in ``examples/`` and the
demo read it. The same key signs the document (enveloped XMLDSig) and the request (JWS).
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

from myna import network
from myna.delivery import messages
from myna.delivery.signature import sign


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """A sender's code, name, key and certificate."""

    code: str
    name: str
    kind: str
    organization_code: str
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def request(self, kind: str, **body: Any) -> str:
        """One signed request of ``kind`` with a fresh id and time (JWS compact, ES256)."""
        payload = {
            "type": kind,
            "request_id": str(uuid.uuid4()),
            "sender": self.code,
            "issued_at": datetime.now(UTC).isoformat(),
            **body,
        }
        credential = network.Credential(self.organization_code, self.certificate, self.private_key)
        return network.sign(json.dumps(payload, ensure_ascii=False).encode("utf-8"), credential)

    def sign_document(self, xml: bytes) -> bytes:
        """The document with this sender's enveloped signature."""
        return sign(xml, key=self.private_key, certificate_chain=[self.certificate])

    def delivery(self, recipient: str, signed_xml: bytes) -> str:
        """The signed ``delivery`` request for one signed document."""
        document = base64.b64encode(signed_xml).decode("ascii")
        return self.request(messages.DELIVERY, recipient=recipient, document=document)

    def receipt_request(self, document_id: str) -> str:
        """The signed ``receipt`` request asking about one document."""
        return self.request(messages.RECEIPT, document_id=document_id)

    def handovers_request(self, year: int) -> str:
        """An employer's signed ``handovers`` request: the 年末調整 hand-overs of ``year``."""
        return self.request(messages.HANDOVERS, year=year)

    def collect_request(self, handover_id: str) -> str:
        """An employer's signed ``collect`` request for one hand-over."""
        return self.request(messages.COLLECT, handover_id=handover_id)


def write_identity(directory: Path, identity: SenderIdentity) -> Path:
    """Write a sender's files under ``directory/<code>``; the folder written."""
    folder = directory / identity.code
    folder.mkdir(parents=True, exist_ok=True)
    about = {
        "code": identity.code,
        "name": identity.name,
        "kind": identity.kind,
        "organization_code": identity.organization_code,
    }
    (folder / "sender.json").write_text(json.dumps(about, ensure_ascii=False), encoding="utf-8")
    key_path = folder / "key.pem"
    key_path.write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    (folder / "cert.pem").write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    return folder


def load_identity(folder: Path) -> SenderIdentity:
    """Read a sender's files from its folder."""
    about = json.loads((folder / "sender.json").read_text(encoding="utf-8"))
    key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        msg = f"{folder / 'key.pem'} is not a P-256 key"
        raise TypeError(msg)
    certificate = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
    return SenderIdentity(
        code=about["code"],
        name=about["name"],
        kind=about["kind"],
        organization_code=about["organization_code"],
        private_key=key,
        certificate=certificate,
    )
