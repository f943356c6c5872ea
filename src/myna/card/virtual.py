"""The virtual MyNumber card and its reader: card files that behave like the chip.

``VirtualCard`` is one card file, parsed and integrity-checked; ``VirtualCardReader``
implements :class:`myna.card.interfaces.CardReader` over a directory of them. Every
PIN check is a locked read-modify-write, so two reader processes cannot lose a
failed try, and a locked application stays locked across restarts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs7

from myna.card import cardfile
from myna.card.domain import (
    CardDamagedError,
    CardNotFoundError,
    CardSurface,
    KeyKind,
    TryCounter,
    locked_error,
    validate_secret,
    wrong_secret_error,
)
from myna.card.interfaces import CardSummary
from myna.platform.logging import get_logger

if TYPE_CHECKING:
    from myna.platform.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CardApplication:
    """One JPKI application on the chip: certificate, sealed key, PIN verifier, counter."""

    certificate_pem: str
    private_key_pem: str
    verifier: Mapping[str, Any]
    counter: TryCounter

    @property
    def certificate(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_pem_x509_certificate(self.certificate_pem.encode("ascii"))


@dataclass(frozen=True, slots=True)
class VirtualCard:
    """A virtual card as held in ``<card_id>.json`` (see ``docs/card-format.md``)."""

    card_id: str
    issued_at: datetime
    surface: CardSurface
    applications: Mapping[KeyKind, CardApplication] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        *,
        card_id: str,
        issued_at: datetime,
        surface: CardSurface,
        keys: Mapping[KeyKind, rsa.RSAPrivateKey],
        certificates: Mapping[KeyKind, x509.Certificate],
        secrets: Mapping[KeyKind, str],
        card_secret: str,
        pin_work_factor: int = cardfile.SCRYPT_LOG2_N,
    ) -> VirtualCard:
        """A new card holding ``keys`` sealed with ``card_secret`` and their PIN verifiers.

        ``pin_work_factor``: scrypt's N for the verifiers, as a power of two.
        """
        applications: dict[KeyKind, CardApplication] = {}
        for kind in KeyKind:
            validate_secret(kind, secrets[kind])
            certificate = certificates[kind]
            if certificate.public_key() != keys[kind].public_key():
                msg = f"the {kind} certificate does not match the {kind} key"
                raise ValueError(msg)
            applications[kind] = CardApplication(
                certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                private_key_pem=cardfile.encrypt_private_key(
                    keys[kind], cardfile.key_passphrase(card_secret, card_id, kind)
                ),
                verifier=cardfile.make_verifier(
                    secrets[kind], cardfile.pin_pepper(card_secret, card_id, kind), pin_work_factor
                ),
                counter=TryCounter.fresh(kind),
            )
        return cls(card_id=card_id, issued_at=issued_at, surface=surface, applications=applications)

    # -- the file format -------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """The JSON document of this card, without its MAC."""
        surface = self.surface
        return {
            "format": cardfile.FORMAT_NAME,
            "version": cardfile.FORMAT_VERSION,
            "card_id": self.card_id,
            "issued_at": self.issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "surface": {
                "holder_name": surface.holder_name,
                "holder_name_kana": surface.holder_name_kana,
                "address": surface.address,
                "birth_date": surface.birth_date.isoformat(),
                "sex": surface.sex,
                "expires_on": surface.expires_on.isoformat(),
                "municipality_code": surface.municipality_code,
                "municipality_name": surface.municipality_name,
            },
            "applications": {
                str(kind): {
                    "certificate": app.certificate_pem,
                    "private_key": app.private_key_pem,
                    "verifier": dict(app.verifier),
                    "failures": app.counter.failures,
                    "limit": app.counter.limit,
                }
                for kind, app in self.applications.items()
            },
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> VirtualCard:
        """Parse a (MAC-checked) document; any structural fault means a damaged card."""
        try:
            if (
                document["format"] != cardfile.FORMAT_NAME
                or document["version"] != cardfile.FORMAT_VERSION
            ):
                raise CardDamagedError
            raw_surface = document["surface"]
            surface = CardSurface(
                holder_name=str(raw_surface["holder_name"]),
                holder_name_kana=str(raw_surface["holder_name_kana"]),
                address=str(raw_surface["address"]),
                birth_date=date.fromisoformat(raw_surface["birth_date"]),
                sex=int(raw_surface["sex"]),
                expires_on=date.fromisoformat(raw_surface["expires_on"]),
                municipality_code=str(raw_surface["municipality_code"]),
                municipality_name=str(raw_surface["municipality_name"]),
            )
            applications = {
                kind: CardApplication(
                    certificate_pem=str(raw["certificate"]),
                    private_key_pem=str(raw["private_key"]),
                    verifier=dict(raw["verifier"]),
                    counter=TryCounter(failures=int(raw["failures"]), limit=int(raw["limit"])),
                )
                for kind in KeyKind
                for raw in (document["applications"][str(kind)],)
            }
            issued_at = datetime.fromisoformat(document["issued_at"])
            return cls(
                card_id=str(document["card_id"]),
                issued_at=issued_at,
                surface=surface,
                applications=applications,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CardDamagedError from exc

    @classmethod
    def load(cls, card_dir: Path, card_id: str, card_secret: str) -> VirtualCard:
        """Read and integrity-check ``card_id``'s file."""
        if not cardfile.is_card_id(card_id):
            raise CardNotFoundError
        path = cardfile.card_path(card_dir, card_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise CardNotFoundError from exc
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CardDamagedError from exc
        if not isinstance(document, dict) or not cardfile.mac_is_valid(
            document, cardfile.mac_key(card_secret, card_id)
        ):
            raise CardDamagedError
        card = cls.from_document(document)
        # A valid file copied under another card's name is still not that card.
        if card.card_id != card_id:
            raise CardDamagedError
        return card

    def save(self, card_dir: Path, card_secret: str) -> None:
        """Seal this card with its MAC and write it atomically (hold ``cardfile.locked``)."""
        sealed = cardfile.seal(self.to_document(), cardfile.mac_key(card_secret, self.card_id))
        data = json.dumps(sealed, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        cardfile.write_atomically(cardfile.card_path(card_dir, self.card_id), data + b"\n")

    # -- state changes (pure: they return a new card) ---------------------------------

    def with_counter(self, kind: KeyKind, counter: TryCounter) -> VirtualCard:
        """This card with ``kind``'s try counter replaced."""
        applications = dict(self.applications)
        applications[kind] = replace(applications[kind], counter=counter)
        return replace(self, applications=applications)

    def with_new_secret(
        self,
        kind: KeyKind,
        secret: str,
        card_secret: str,
        pin_work_factor: int = cardfile.SCRYPT_LOG2_N,
    ) -> VirtualCard:
        """This card with a new verifier for ``kind`` and its counter at zero."""
        validate_secret(kind, secret)
        applications = dict(self.applications)
        app = applications[kind]
        applications[kind] = replace(
            app,
            verifier=cardfile.make_verifier(
                secret, cardfile.pin_pepper(card_secret, self.card_id, kind), pin_work_factor
            ),
            counter=app.counter.reset(),
        )
        return replace(self, applications=applications)

    def with_new_signing_key(
        self,
        *,
        key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        password: str,
        card_secret: str,
        surface: CardSurface,
        pin_work_factor: int = cardfile.SCRYPT_LOG2_N,
    ) -> VirtualCard:
        """This card with a re-issued signing application (署名用電子証明書の再発行).

        A new key pair and certificate, a new password and its counter at zero, and the
        face's entries as the municipality updated them; the user-authentication
        application is untouched.
        """
        validate_secret(KeyKind.SIGN, password)
        if certificate.public_key() != key.public_key():
            msg = "the sign certificate does not match the sign key"
            raise ValueError(msg)
        applications = dict(self.applications)
        applications[KeyKind.SIGN] = CardApplication(
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
            private_key_pem=cardfile.encrypt_private_key(
                key, cardfile.key_passphrase(card_secret, self.card_id, KeyKind.SIGN)
            ),
            verifier=cardfile.make_verifier(
                password,
                cardfile.pin_pepper(card_secret, self.card_id, KeyKind.SIGN),
                pin_work_factor,
            ),
            counter=TryCounter.fresh(KeyKind.SIGN),
        )
        return replace(self, surface=surface, applications=applications)

    def summary(self) -> CardSummary:
        """What anyone may see about this card."""
        auth = self.applications[KeyKind.AUTH]
        sign = self.applications[KeyKind.SIGN]
        return CardSummary(
            card_id=self.card_id,
            holder_name=self.surface.holder_name,
            municipality=self.surface.municipality_name,
            expires_on=self.surface.expires_on,
            auth_not_after=auth.certificate.not_valid_after_utc,
            sign_not_after=sign.certificate.not_valid_after_utc,
            auth_locked=auth.counter.locked,
            sign_locked=sign.counter.locked,
            auth_tries_left=auth.counter.remaining,
            sign_tries_left=sign.counter.remaining,
        )


class VirtualCardSession:
    """An application whose PIN was verified: it signs, and never hands out its key."""

    __slots__ = ("_certificate", "_key")

    def __init__(self, certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> None:
        self._certificate = certificate
        self._key = key

    def __repr__(self) -> str:
        return f"VirtualCardSession(serial={self._certificate.serial_number:x})"

    @property
    def certificate(self) -> x509.Certificate:
        """The application's certificate."""
        return self._certificate

    @property
    def key_size(self) -> int:
        """The RSA modulus length in bits (2048 on a MyNumber card)."""
        return self._key.key_size

    def sign(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2) over ``data``."""
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_digest(self, digest: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        """RSASSA-PKCS1-v1_5 over a digest made elsewhere (the chip's COMPUTE DIGITAL SIGNATURE).

        The same signature as :meth:`sign` gives over the data the digest was made of.
        """
        return self._key.sign(digest, padding.PKCS1v15(), Prehashed(algorithm))

    def sign_cms(self, content: bytes) -> bytes:
        """A detached CMS SignedData (RFC 5652 §5) over ``content``, DER-encoded.

        SHA-256 digest, signed attributes (content type, signing time, message digest,
        RFC 5652 §11), PKCS#1 v1.5 signature, and the signer's certificate included.
        """
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(content)
            .add_signer(
                self._certificate, self._key, hashes.SHA256(), rsa_padding=padding.PKCS1v15()
            )
            .sign(
                serialization.Encoding.DER,
                [
                    pkcs7.PKCS7Options.DetachedSignature,
                    pkcs7.PKCS7Options.Binary,
                    pkcs7.PKCS7Options.NoCapabilities,
                ],
            )
        )


class VirtualCardReader:
    """A card reader over ``card_dir``: implements ``CardReader`` with card files."""

    def __init__(
        self, card_dir: Path, card_secret: str, pin_work_factor: int = cardfile.SCRYPT_LOG2_N
    ) -> None:
        self.card_dir = card_dir
        self._card_secret = card_secret
        self._pin_work_factor = pin_work_factor

    def __repr__(self) -> str:
        return f"VirtualCardReader({str(self.card_dir)!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> VirtualCardReader:
        """The reader over ``settings.card_dir`` with the deployment's card secret."""
        return cls(
            settings.card_dir,
            settings.card_secret.get_secret_value(),
            settings.card_pin_work_factor,
        )

    # -- reading ----------------------------------------------------------------------

    def card_ids(self) -> list[str]:
        """The ids of every card file in the reader, sorted."""
        if not self.card_dir.is_dir():
            return []
        return sorted(
            path.stem for path in self.card_dir.glob("*.json") if cardfile.is_card_id(path.stem)
        )

    def load(self, card_id: str) -> VirtualCard:
        """The integrity-checked card ``card_id``."""
        return VirtualCard.load(self.card_dir, card_id, self._card_secret)

    def summary(self, card_id: str) -> CardSummary:
        """What anyone may see about the card ``card_id``."""
        return self.load(card_id).summary()

    def list_cards(self) -> list[CardSummary]:
        """Every usable card; damaged files are skipped (and logged by id)."""
        summaries = []
        for card_id in self.card_ids():
            try:
                summaries.append(self.load(card_id).summary())
            except (CardDamagedError, CardNotFoundError):
                log.warning("card.skipped_unreadable", card_id=card_id)
        return summaries

    def read_certificate(self, card_id: str, kind: str) -> x509.Certificate:
        """The certificate of ``kind``; reading it needs no PIN here."""
        return self.load(card_id).applications[KeyKind(kind)].certificate

    # -- the chip's operations --------------------------------------------------------

    def open_session(self, card_id: str, kind: str, secret: str) -> VirtualCardSession:
        """Verify ``secret`` once, update the try counter durably, open a session.

        Order matters: a locked application refuses before the format is even looked
        at; a malformed entry costs no try (a real client never sends it to the chip).
        """
        key_kind = KeyKind(kind)
        self._require_card(card_id)
        with cardfile.locked(self.card_dir, card_id):
            card = self.load(card_id)
            app = card.applications[key_kind]
            if app.counter.locked:
                raise locked_error(key_kind)
            validate_secret(key_kind, secret)
            pepper = cardfile.pin_pepper(self._card_secret, card_id, key_kind)
            try:
                correct = cardfile.check_verifier(dict(app.verifier), secret, pepper)
            except (KeyError, TypeError, ValueError) as exc:
                raise CardDamagedError from exc
            if not correct:
                counter = app.counter.failed()
                card.with_counter(key_kind, counter).save(self.card_dir, self._card_secret)
                log.info("card.wrong_pin", card_id=card_id, kind=str(key_kind))
                if counter.locked:
                    raise locked_error(key_kind)
                raise wrong_secret_error(key_kind, counter.remaining)
            if app.counter.failures:
                card.with_counter(key_kind, app.counter.succeeded()).save(
                    self.card_dir, self._card_secret
                )
        try:
            key = cardfile.decrypt_private_key(
                app.private_key_pem,
                cardfile.key_passphrase(self._card_secret, card_id, key_kind),
            )
        except (TypeError, ValueError) as exc:
            raise CardDamagedError from exc
        return VirtualCardSession(app.certificate, key)

    def sign(self, card_id: str, kind: str, secret: str, data: bytes) -> bytes:
        """Open a session with ``secret`` and sign ``data`` (PKCS#1 v1.5, SHA-256)."""
        return self.open_session(card_id, kind, secret).sign(data)

    # -- issuance and the municipality's operations -----------------------------------

    def _require_card(self, card_id: str) -> None:
        """Refuse ids that are not card ids (they name files) or name no card."""
        if not (
            cardfile.is_card_id(card_id) and cardfile.card_path(self.card_dir, card_id).is_file()
        ):
            raise CardNotFoundError

    def insert(self, card: VirtualCard) -> CardSummary:
        """Write a newly issued card into the reader (refuses to overwrite one)."""
        with cardfile.locked(self.card_dir, card.card_id):
            if cardfile.card_path(self.card_dir, card.card_id).exists():
                msg = f"card {card.card_id} already exists"
                raise FileExistsError(msg)
            card.save(self.card_dir, self._card_secret)
        return card.summary()

    def replace_signing(
        self,
        card_id: str,
        *,
        key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        password: str,
        surface: CardSurface,
    ) -> CardSummary:
        """Write a re-issued signing key, certificate and password onto the card."""
        validate_secret(KeyKind.SIGN, password)
        self._require_card(card_id)
        with cardfile.locked(self.card_dir, card_id):
            card = self.load(card_id).with_new_signing_key(
                key=key,
                certificate=certificate,
                password=password,
                card_secret=self._card_secret,
                surface=surface,
                pin_work_factor=self._pin_work_factor,
            )
            card.save(self.card_dir, self._card_secret)
        return card.summary()

    def reset_secret(self, card_id: str, kind: str, new_secret: str) -> CardSummary:
        """Set a new PIN or password for ``kind`` and unlock it (counter to zero)."""
        key_kind = KeyKind(kind)
        validate_secret(key_kind, new_secret)
        self._require_card(card_id)
        with cardfile.locked(self.card_dir, card_id):
            card = self.load(card_id).with_new_secret(
                key_kind, new_secret, self._card_secret, self._pin_work_factor
            )
            card.save(self.card_dir, self._card_secret)
        return card.summary()
