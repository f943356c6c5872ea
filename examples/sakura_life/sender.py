"""さくら生命保険 — a sample 民間送達 sender: one 生命保険料控除証明書, signed and delivered.

It builds the certificate with ``myna.delivery``'s document classes, signs it with an
enveloped XMLDSig (``myna.delivery.sign``), wraps it in a signed request (JWS, ES256, the
certificate in ``x5c``) and posts it to the sender API with httpx. It registers nothing
itself: its key and certificate come from the platform's operator (see README.md):

    .venv/bin/myna delivery register-sender --code sakura-life-sample \\
        --name さくら生命保険株式会社 --kind life-insurer --out var/senders
    .venv/bin/python examples/sakura_life/sender.py --identity var/senders/sakura-life-sample \\
        --recipient <the resident's recipient number for this sender>

The recipient number is the one the resident sees on 民間送達 → 送達元との連携 after
allowing this sender; the script prints the receipt, then asks for it again by document id.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import httpx

from myna.delivery import LifeInsuranceCategory, LifeInsuranceCertificate, LifeInsuranceSystem
from myna.delivery.identity import load_identity

API = "/api/delivery/v1"


def certificate(organization_code: str, name: str, recipient: str, document_id: str) -> bytes:
    """The unsigned 生命保険料控除証明書 (令和7年分, 一般・新制度) as XML."""
    return LifeInsuranceCertificate(
        document_id=document_id,
        issued_on=date(2025, 10, 15),
        sender_code=organization_code,
        sender_name=name,
        recipient=recipient,
        year=2025,
        insurer_name=name,
        contractor="山田 太郎",
        policy_number="SL-0099999",
        insurance_type="医療保険",
        insured="山田 太郎",
        system=LifeInsuranceSystem.NEW,
        category=LifeInsuranceCategory.MEDICAL_CARE,
        certified_amount=36_000,
        certified_as_of=date(2025, 9, 30),
        declared_amount=48_000,
    ).to_xml()


def main(argv: list[str] | None = None, client: httpx.Client | None = None) -> int:
    """Deliver one certificate and print the receipts; non-zero on a refusal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identity", type=Path, required=True, help="the sender's folder")
    parser.add_argument("--recipient", required=True, help="the resident's recipient number")
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--document-id", default="SL-2025-SAMPLE-0001")
    parser.add_argument("--save", type=Path, help="also write the signed XML here")
    args = parser.parse_args(argv)

    sender = load_identity(args.identity)
    xml = certificate(sender.organization_code, sender.name, args.recipient, args.document_id)
    signed = sender.sign_document(xml)
    if args.save:
        args.save.write_bytes(signed)
    http = client or httpx.Client(base_url=args.portal, timeout=30)
    try:
        response = http.post(
            f"{API}/documents",
            content=sender.delivery(args.recipient, signed),
            headers={"content-type": "application/jose", "accept-language": "ja"},
        )
        sys.stdout.write(f"{response.status_code} {response.text}\n")
        if response.status_code not in (200, 201):
            return 1
        status = http.get(
            f"{API}/documents/{args.document_id}",
            headers={"authorization": f"JWS {sender.receipt_request(args.document_id)}"},
        )
        sys.stdout.write(f"{status.status_code} {status.text}\n")
    finally:
        if client is None:
            http.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
