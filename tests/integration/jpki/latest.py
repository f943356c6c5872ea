"""最新4情報提供's test world: two residents with virtual cards, verifiers, the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.jpki import verifiers
from myna.jpki.consent_statement import consent_statement
from myna.jpki.verifier_identity import VerifierIdentity
from myna.platform.settings import Settings


def register(
    session: Session, settings: Settings, code: str, kind: str, *, name: str | None = None
) -> VerifierIdentity:
    """Register a verifier with a fresh P-256 key; its identity to sign requests with."""
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = verifiers.register_verifier(
        session=session,
        settings=settings,
        code=code,
        name=name or f"{code} 株式会社",
        kind=kind,
        public_key=key.public_key(),
    )
    return VerifierIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        platform=found.platform,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )


API = "/api/jpki/v1"
JOSE = {"content-type": "application/jose"}
PIN = "4321"
PASSWORD = "SIGN2026"
NEW_PASSWORD = "NEWSIGN2027"
PURPOSE = "お届けの住所・氏名の変更を確認するため（預金口座の管理）"


@dataclass
class Latest:
    """Two residents with cards, two signature verifiers and one for auth only, the API."""

    api: TestClient
    session: Session
    settings: Settings
    container: Container
    reader: card.VirtualCardReader
    bank: VerifierIdentity
    other_bank: VerifierIdentity
    shop: VerifierIdentity
    taro: registry.ResidentRead
    hanako: registry.ResidentRead
    taro_card: str
    hanako_card: str

    def signing(self, card_id: str, password: str = PASSWORD) -> card.CardSession:
        return self.reader.open_session(card_id, "sign", password)

    def sign_cert(self, card_id: str) -> x509.Certificate:
        return self.reader.read_certificate(card_id, "sign")

    def statement(self, verifier: str = "mirai-bank", **fields: Any) -> bytes:
        values = {
            "verifier": verifier,
            "purpose": PURPOSE,
            "consent_id": str(uuid.uuid4()),
            "issued_at": datetime.now(UTC),
            **fields,
        }
        return consent_statement(**values)

    def post(self, path: str, token: str) -> Any:
        self.session.commit()
        return self.api.post(f"{API}{path}", content=token, headers=JOSE)

    def consent(
        self,
        card_id: str,
        *,
        who: VerifierIdentity | None = None,
        statement: bytes | None = None,
        signature: bytes | None = None,
        password: str = PASSWORD,
    ) -> Any:
        who = who or self.bank
        statement = statement if statement is not None else self.statement(who.code)
        if signature is None:
            signature = self.signing(card_id, password).sign_cms(statement)
        return self.post("/latest-info/consents", who.consent_request(statement, signature))

    def ask(self, serials: list[object], *, who: VerifierIdentity | None = None) -> Any:
        return self.post("/latest-info", (who or self.bank).latest_info_request(serials))

    def move(self, resident: registry.ResidentRead, address: str, card_id: str) -> None:
        """A move within the municipality (転居): the registry changes, J-LIS revokes."""
        history = registry.address_history(session=self.session, resident_id=resident.id)
        since = max(entry.valid_from for entry in history) + timedelta(days=1)
        registry.record_move(
            session=self.session,
            resident_id=resident.id,
            municipality_code=resident.municipality_code,
            address=address,
            moved_on=max(since, date(2026, 1, 1)),
        )
        jpki.revoke_for_card(
            session=self.session,
            card_id=card_id,
            kinds=[jpki.CertificateKind.SIGN],
            reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
        )
        self.session.commit()

    def reissue(self, card_id: str) -> x509.Certificate:
        card.reissue_signing(
            session=self.session, settings=self.settings, card_id=card_id, password=NEW_PASSWORD
        )
        self.session.commit()
        return self.sign_cert(card_id)


def build_latest(session: Session, settings: Settings, container: Container) -> Iterator[Latest]:
    """Issue taro's and hanako's cards, register the verifiers, start the API."""
    registry.ensure_municipalities(session=session)
    personas = registry.ensure_personas(session=session)
    cards = {
        name: card.issue_card(
            session=session,
            settings=settings,
            resident_id=personas[name].id,
            pin=PIN,
            password=PASSWORD,
        ).card_id
        for name in ("taro", "hanako")
    }
    bank = register(session, settings, "mirai-bank", "signature", name="みらい銀行株式会社")
    other = register(session, settings, "kawa-bank", "both", name="かわ銀行株式会社")
    shop = register(session, settings, "kaden-shop", "authentication")
    session.commit()
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    with TestClient(create_app(container), base_url="http://testserver") as api:
        yield Latest(
            api,
            session,
            settings,
            container,
            reader,
            bank,
            other,
            shop,
            personas["taro"],
            personas["hanako"],
            cards["taro"],
            cards["hanako"],
        )
