"""A verifier's signing identity on disk, and the requests it signs (the verifier's side).

One directory per verifier, named by its code::

    <dir>/<code>/verifier.json   {"code", "name", "kind", "platform", "organization_code"}
    <dir>/<code>/key.pem         the P-256 key (PKCS#8, unencrypted: the verifier's own)
    <dir>/<code>/cert.pem        its certificate from the government CA (jv-<code>)
    <dir>/<code>/chain.pem       the government CA's and the root's certificates

``myna jpki register-verifier`` writes it. A verifier's system needs nothing of Myna to
sign a request — any JOSE library will do (docs/api/verifiers.md); this is the one the
benchmark and the tests use.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from myna.jpki.domain import JpkiError
from myna.jpki.latest_domain import LATEST_INFO, LATEST_INFO_CONSENT
from myna.jpki.verifier_domain import CRL, STATEMENT, STATUS
from myna.platform.errors import N_

ALGORITHM = "ES256"
FILES = ("verifier.json", "key.pem", "cert.pem", "chain.pem")


class VerifierFilesExistError(JpkiError, code="verifier_files_exist", status_code=409):
    """The verifier's directory holds files already (a key is never overwritten)."""

    message = N_("{path} already exists. Move it away or choose another --out directory.")


@dataclass(frozen=True, slots=True)
class VerifierIdentity:
    """A verifier's code, key and certificate, and how it signs its requests."""

    code: str
    name: str
    kind: str
    platform: str | None
    organization_code: str
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def request(self, kind: str, **body: Any) -> str:
        """One signed request of ``kind`` with a fresh id and time (JWS compact, ES256)."""
        payload = {
            "type": kind,
            "request_id": str(uuid.uuid4()),
            "verifier": self.code,
            "issued_at": datetime.now(UTC).isoformat(),
            **body,
        }
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {
            "alg": ALGORITHM,
            "kid": self.organization_code,
            "x5c": [base64.b64encode(der).decode("ascii")],
        }
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return jws.serialize_compact(header, data, ECKey.import_key(self.private_key))

    def status_request(self, certificate_kind: str, serials: Sequence[object]) -> str:
        """The signed ``status`` request about ``serials`` (hex) of ``certificate_kind``."""
        return self.request(STATUS, certificate_kind=certificate_kind, serials=list(serials))

    def latest_info_request(self, serials: Sequence[object]) -> str:
        """The signed ``latest_info`` request about signing-certificate ``serials`` (hex)."""
        return self.request(LATEST_INFO, serials=list(serials))

    def consent_request(
        self, statement: bytes, signature: bytes, document: bytes | None = None
    ) -> str:
        """The signed ``latest_info_consent`` request carrying a holder's signed statement.

        ``statement`` is the canonical bytes (:mod:`myna.jpki.consent_statement`);
        ``signature`` the detached CMS SignedData, DER, made by the holder's card over the
        statement — or over ``document``, a signed document listing the statement's
        SHA-256 in ``data.digests`` (an authentication-app signing transaction's).
        """
        body = {
            "statement": base64.b64encode(statement).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
        if document is not None:
            body["document"] = base64.b64encode(document).decode("ascii")
        return self.request(LATEST_INFO_CONSENT, **body)

    def statement_request(self, month: str) -> str:
        """The signed ``statement`` request for ``month`` (``YYYY-MM``)."""
        return self.request(STATEMENT, month=month)

    def crl_request(self, certificate_kind: str) -> str:
        """The signed ``crl`` request for the CRL of ``certificate_kind``'s CA."""
        return self.request(CRL, certificate_kind=certificate_kind)


def write_identity(
    directory: Path, identity: VerifierIdentity, chain: Sequence[x509.Certificate]
) -> Path:
    """Write a verifier's files under ``directory/<code>``, never over existing ones."""
    folder = directory / identity.code
    for name in FILES:
        if (folder / name).exists():
            raise VerifierFilesExistError(path=str(folder / name))
    folder.mkdir(parents=True, exist_ok=True)
    about = {
        "code": identity.code,
        "name": identity.name,
        "kind": identity.kind,
        "platform": identity.platform,
        "organization_code": identity.organization_code,
    }
    (folder / "verifier.json").write_text(json.dumps(about, ensure_ascii=False), encoding="utf-8")
    key = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created with mode 0600 from the start, and never over another file (O_EXCL).
    descriptor = os.open(folder / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    (folder / "cert.pem").write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "chain.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    )
    return folder


def load_identity(folder: Path) -> VerifierIdentity:
    """Read a verifier's files from its folder."""
    about = json.loads((folder / "verifier.json").read_text(encoding="utf-8"))
    key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        msg = f"{folder / 'key.pem'} is not a P-256 key"
        raise TypeError(msg)
    return VerifierIdentity(
        code=about["code"],
        name=about["name"],
        kind=about["kind"],
        platform=about.get("platform"),
        organization_code=about["organization_code"],
        private_key=key,
        certificate=x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes()),
    )
