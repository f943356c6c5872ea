"""Virtual cards for the card tests: self-signed certificates, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from myna.card import cardfile
from myna.card.domain import CardSurface, KeyKind
from myna.card.virtual import VirtualCard, VirtualCardReader

CARD_SECRET = "unit-test-card-secret"
PIN = "1234"
PASSWORD = "ABC123XYZ"
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)

SURFACE = CardSurface(
    holder_name="山田 太郎",
    holder_name_kana="ヤマダ タロウ",
    address="東京都千代田区霞が関一丁目1番1号",
    birth_date=date(1985, 4, 1),
    sex=1,
    expires_on=date(2036, 4, 1),
    municipality_code="131016",
    municipality_name="千代田区",
)


@dataclass(frozen=True)
class Chip:
    """What a card was made of: its keys and certificates."""

    keys: dict[KeyKind, rsa.RSAPrivateKey]
    certificates: dict[KeyKind, x509.Certificate]


def self_signed(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365 * 5))
        .sign(key, hashes.SHA256())
    )


def new_chip() -> Chip:
    keys = {
        kind: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kind in KeyKind
    }
    return Chip(keys, {kind: self_signed(key, f"test {kind}") for kind, key in keys.items()})


def insert_card(card_dir: Path, chip: Chip) -> tuple[VirtualCardReader, str]:
    """A reader over ``card_dir`` holding a new card made of ``chip``; its id.

    Its PIN verifiers use the cheapest scrypt cost readers accept.
    """
    reader = VirtualCardReader(card_dir, CARD_SECRET, cardfile.MIN_LOG2_N)
    card = VirtualCard.create(
        card_id=cardfile.new_card_id(),
        issued_at=NOW,
        surface=SURFACE,
        keys=chip.keys,
        certificates=chip.certificates,
        secrets={KeyKind.AUTH: PIN, KeyKind.SIGN: PASSWORD},
        card_secret=CARD_SECRET,
        pin_work_factor=cardfile.MIN_LOG2_N,
    )
    reader.insert(card)
    return reader, card.card_id
