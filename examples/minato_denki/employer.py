"""みなと電機 — a sample employer collecting 年末調整 hand-overs through 民間送達.

Employees hand their 控除証明書 (life and earthquake insurance, national pension) over to
their employer from their Mynaportal box. This script, the employer's side, lists the
hand-overs of one tax year addressed to it — each names the employee by the recipient
number of the employer's own link — collects each one not collected yet, and checks every
document itself before using it: its SHA-256, then its enveloped XMLDSig with
``myna.delivery.verify``, trusting only certificates issued by the Myna Government CA and
not on its CRL (both fetched from the portal's JPKI repository). It registers nothing: its
key and certificate come from the platform's operator (see README.md):

    .venv/bin/python examples/minato_denki/employer.py --identity var/senders/minato-denki \\
        --year 2025 --out var/nencho

One line per document: the employee's recipient number, the kind, the issuer, the first
line of its meaning; ``--out`` also keeps each signed file as collected.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from myna.delivery import DeliveryError, explain, verify
from myna.delivery.identity import SenderIdentity, load_identity

API = "/api/delivery/v1/year-end-adjustment"
GOVERNMENT_CA = "/jpki/ca/gov.crt"
GOVERNMENT_CRL = "/jpki/crl/gov.crl"


class CollectionError(Exception):
    """The portal refused a request, or a document did not verify."""


def trust_anchor(http: httpx.Client) -> Callable[[x509.Certificate], None]:
    """The check a document's signer must pass: issued by the government CA, valid, not revoked."""
    ca = x509.load_der_x509_certificate(_ok(http.get(GOVERNMENT_CA)).content)
    crl = x509.load_der_x509_crl(_ok(http.get(GOVERNMENT_CRL)).content)
    key = ca.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) or not (
        crl.is_signature_valid(key)
    ):
        msg = "the government CA's CRL does not verify"
        raise CollectionError(msg)

    def trusted(certificate: x509.Certificate) -> None:
        certificate.verify_directly_issued_by(ca)
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            msg = "the signer's certificate is not valid now"
            raise CollectionError(msg)
        if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
            msg = "the signer's certificate is revoked"
            raise CollectionError(msg)

    return trusted


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code != 200:
        request = f"{response.request.method} {response.request.url.path}"
        msg = f"{request}: {response.status_code} {response.text}"
        raise CollectionError(msg)
    return response


def _signed(token: str) -> dict[str, str]:
    return {"authorization": f"JWS {token}", "accept-language": "ja"}


def collect_year(
    http: httpx.Client, sender: SenderIdentity, year: int, out: Path | None
) -> list[str]:
    """Collect and verify every hand-over of ``year`` not collected yet; a line per document."""
    trusted = trust_anchor(http)
    listed: dict[str, Any] = _ok(
        http.get(API, params={"year": year}, headers=_signed(sender.handovers_request(year)))
    ).json()
    lines = []
    for summary in listed["handovers"]:
        if summary["status"] != "ready":
            continue
        handover_id = summary["handover_id"]
        collected = _ok(
            http.get(
                f"{API}/{handover_id}",
                headers=_signed(sender.collect_request(handover_id)),
            )
        ).json()
        for found in collected["documents"]:
            xml = base64.b64decode(found["xml"], validate=True)
            if hashlib.sha256(xml).hexdigest() != found["sha256"]:
                msg = f"{found['document_id']}: the bytes do not match their SHA-256"
                raise CollectionError(msg)
            try:
                document = verify(xml, trusted=trusted).document
            except DeliveryError as error:
                msg = f"{found['document_id']}: {error.code}"
                raise CollectionError(msg) from error
            if document.year != year:
                msg = f"{found['document_id']}: a document of {document.year}"
                raise CollectionError(msg)
            if out is not None:
                folder = out / collected["recipient"]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{found['kind']}-{found['document_id']}.xml").write_bytes(xml)
            meaning = explain(document)
            lines.append(
                f"{collected['recipient']} {found['kind']} {found['issuer_name']} "
                f"verified: {meaning[0][1] if meaning else found['document_id']}"
            )
    return lines


def main(argv: list[str] | None = None, client: httpx.Client | None = None) -> int:
    """Collect the year's hand-overs and print what they hold; non-zero on any refusal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identity", type=Path, required=True, help="the employer's folder")
    parser.add_argument("--year", type=int, default=2025, help="the tax year (年分)")
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, help="keep each signed document under this folder")
    args = parser.parse_args(argv)

    sender = load_identity(args.identity)
    http = client or httpx.Client(base_url=args.portal, timeout=30)
    try:
        lines = collect_year(http, sender, args.year, args.out)
    except CollectionError as error:
        sys.stdout.write(f"refused: {error}\n")
        return 1
    finally:
        if client is None:
            http.close()
    sys.stdout.write("".join(f"{line}\n" for line in lines) or "nothing to collect\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
