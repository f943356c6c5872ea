"""Pure rules of the hub (情報提供ネットワークシステム): link codes, messages, limits.

Messages between agencies and the hub are JWS compact serialisations (RFC 7515 §7.1)
signed with ES256 (RFC 7518 §3.4) by the sender's organisation key, whose certificate
from the government CA travels in the ``x5c`` header (RFC 7515 §4.1.6); a hybrid one
carries an ML-DSA-65 signature of the same payload beside it (ADR 0010). This module
holds the shapes and the rules; signing and verifying live in ``messages.py``.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from myna.network.transparency.domain import Outcome
from myna.platform.errors import N_, MynaError

__all__ = ["Outcome"]  # re-exported: the hub's outcomes are the log's outcomes

HUB = "hub"
PORTAL = "portal"
SELF_DISCLOSURE = "self-disclosure"
# How far a message's time may be from the hub's clock, and how long request ids are
# remembered to refuse a replay.
MAX_CLOCK_SKEW = timedelta(minutes=5)
LINK_CODE_BYTES = 20
MAX_PURPOSE = 200
# Records one update may carry (a household moves together; one request per person).
MAX_UPDATE_RECORDS = 16


def new_link_code() -> str:
    """A link code (機関別符号): 160 random bits in base32, meaningless outside the hub."""
    return base64.b32encode(secrets.token_bytes(LINK_CODE_BYTES)).decode("ascii").rstrip("=")


def new_request_id() -> str:
    """A unique identifier for one exchange request."""
    return str(uuid.uuid4())


def _query_json(message: ExchangeRequest | ProviderQuery) -> bytes:
    # The fields as they are (asdict would deep-copy each), the optional ones when set.
    body = {f.name: getattr(message, f.name) for f in fields(message)}
    for optional in ("purpose", "actor"):
        if body.get(optional, "") is None:
            del body[optional]
    body["items"] = list(message.items)
    body["issued_at"] = message.issued_at.isoformat()
    return canonical(body)


def _query_fields(data: bytes, names: tuple[str, ...]) -> dict[str, Any]:
    """The text fields ``names`` plus ``items`` and ``issued_at``, checked."""
    body = json_object(data)
    try:
        items = body["items"]
        if not isinstance(items, list):
            raise TypeError
        fields: dict[str, Any] = {name: bounded_text(body[name], 64) for name in names}
        fields["items"] = tuple(bounded_text(i, 64) for i in items)
        fields["issued_at"] = datetime.fromisoformat(bounded_text(body["issued_at"], 40))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
    return fields


@dataclass(frozen=True, slots=True)
class ExchangeRequest:
    """An agency asks the hub for items about a person it knows by its own link code."""

    request_id: str
    requester: str
    procedure: str
    subject: str
    items: tuple[str, ...]
    issued_at: datetime
    # Why, in words the resident reads in やりとり履歴 (e.g. the organisation a consent
    # was given to); optional, and absent from the signed JSON when not set.
    purpose: str | None = None
    # Who acts for the person when not they themselves: a proxy (代理人) at the portal,
    # as the requester vouches by signing; the hub writes it beside the subject in the
    # exchange log. Optional, and absent from the signed JSON when not set.
    actor: str | None = None

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return _query_json(self)

    @classmethod
    def from_json(cls, data: bytes) -> ExchangeRequest:
        """Parse and check the shape; MalformedMessageError on anything else."""
        fields = _query_fields(data, ("request_id", "requester", "procedure", "subject"))
        body = json_object(data)
        for name, limit in (("purpose", MAX_PURPOSE), ("actor", 64)):
            value = body.get(name)
            if value is not None:
                try:
                    fields[name] = bounded_text(value, limit)
                except (TypeError, ValueError) as exc:
                    raise MalformedMessageError from exc
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class ProviderQuery:
    """The hub asks one provider for items about a person by the provider's link code."""

    request_id: str
    requester: str
    procedure: str
    provider: str
    link_code: str
    items: tuple[str, ...]
    issued_at: datetime

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return _query_json(self)

    @classmethod
    def from_json(cls, data: bytes) -> ProviderQuery:
        """Parse and check the shape; MalformedMessageError on anything else."""
        names = ("request_id", "requester", "procedure", "provider", "link_code")
        return cls(**_query_fields(data, names))


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One replica record a provider returns."""

    item: str
    provider: str
    payload: dict[str, Any]
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """The record as it goes into a message (the payload as is: it is only written
        out, so ``asdict``'s deep copy of it would be wasted)."""
        return {
            "item": self.item,
            "provider": self.provider,
            "payload": self.payload,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """A provider's answer to a ProviderQuery."""

    request_id: str
    provider: str
    records: tuple[ItemRecord, ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return canonical(
            {
                "request_id": self.request_id,
                "provider": self.provider,
                "records": [r.to_dict() for r in self.records],
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> ProviderAnswer:
        """Parse and check the shape; MalformedMessageError on anything else."""
        body = json_object(data)
        try:
            records = body["records"]
            if not isinstance(records, list):
                raise TypeError
            parsed = []
            for r in records:
                if not isinstance(r, dict) or not isinstance(r["payload"], dict):
                    raise TypeError
                parsed.append(
                    ItemRecord(
                        item=bounded_text(r["item"], 64),
                        provider=bounded_text(r["provider"], 64),
                        payload=r["payload"],
                        updated_at=bounded_text(r["updated_at"], 40),
                    )
                )
            return cls(
                request_id=bounded_text(body["request_id"], 64),
                provider=bounded_text(body["provider"], 64),
                records=tuple(parsed),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """One record to write into the owner's replica store (副本の更新).

    ``key`` tells apart records of one item (a certificate per receipt number); the
    owner validates ``payload`` against the item's schema before it writes anything. A
    record without a payload withdraws the person's records of the item (an account
    deleted).
    """

    item: str
    payload: dict[str, Any] | None  # None: withdraw the person's records of the item
    source: str
    valid_from: date
    key: str = ""


def _updates_json(records: tuple[RecordUpdate, ...]) -> list[dict[str, Any]]:
    return [{**asdict(r), "valid_from": r.valid_from.isoformat()} for r in records]


def _updates(body: dict[str, Any]) -> tuple[RecordUpdate, ...]:
    records = body["records"]
    if not isinstance(records, list) or not records or len(records) > MAX_UPDATE_RECORDS:
        raise TypeError
    parsed: list[RecordUpdate] = []
    for r in records:
        if not isinstance(r, dict) or not isinstance(r["payload"], dict | None):
            raise TypeError
        key = r.get("key", "")
        if not isinstance(key, str) or len(key) > 64:
            raise TypeError
        parsed.append(
            RecordUpdate(
                item=bounded_text(r["item"], 64),
                payload=r["payload"],
                source=bounded_text(r["source"], 128),
                valid_from=date.fromisoformat(bounded_text(r["valid_from"], 10)),
                key=key,
            )
        )
    return tuple(parsed)


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """An agency asks the hub to write records about a person into ``owner``'s store.

    The publisher knows the person by its own link code (``subject``); the hub maps it
    to the owner's, checks the update table and delivers a :class:`ProviderUpdate`.
    The owner may be the publisher itself (its own replica store on its own node).
    """

    request_id: str
    publisher: str
    owner: str
    procedure: str
    subject: str
    records: tuple[RecordUpdate, ...]
    issued_at: datetime

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return _update_json(self)

    @classmethod
    def from_json(cls, data: bytes) -> UpdateRequest:
        """Parse and check the shape; MalformedMessageError on anything else."""
        names = ("request_id", "publisher", "owner", "procedure", "subject")
        return cls(**_update_fields(data, names))


@dataclass(frozen=True, slots=True)
class ProviderUpdate:
    """The hub delivers an update to the owner, by the owner's link code of the person."""

    request_id: str
    publisher: str
    owner: str
    procedure: str
    link_code: str
    records: tuple[RecordUpdate, ...]
    issued_at: datetime

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return _update_json(self)

    @classmethod
    def from_json(cls, data: bytes) -> ProviderUpdate:
        """Parse and check the shape; MalformedMessageError on anything else."""
        names = ("request_id", "publisher", "owner", "procedure", "link_code")
        return cls(**_update_fields(data, names))


def _update_json(message: UpdateRequest | ProviderUpdate) -> bytes:
    body = asdict(message)
    body["records"] = _updates_json(message.records)
    body["issued_at"] = message.issued_at.isoformat()
    return canonical(body)


def _update_fields(data: bytes, names: tuple[str, ...]) -> dict[str, Any]:
    body = json_object(data)
    try:
        fields: dict[str, Any] = {name: bounded_text(body[name], 64) for name in names}
        fields["records"] = _updates(body)
        fields["issued_at"] = datetime.fromisoformat(bounded_text(body["issued_at"], 40))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessageError from exc
    return fields


@dataclass(frozen=True, slots=True)
class UpdateReceipt:
    """The owner's signed word that it wrote the records of one :class:`ProviderUpdate`."""

    request_id: str
    owner: str
    items: tuple[str, ...]

    def to_json(self) -> bytes:
        """Canonical JSON for signing."""
        return canonical(
            {"request_id": self.request_id, "owner": self.owner, "items": list(self.items)}
        )

    @classmethod
    def from_json(cls, data: bytes) -> UpdateReceipt:
        """Parse and check the shape; MalformedMessageError on anything else."""
        body = json_object(data)
        try:
            items = body["items"]
            if not isinstance(items, list):
                raise TypeError
            return cls(
                request_id=bounded_text(body["request_id"], 64),
                owner=bounded_text(body["owner"], 64),
                items=tuple(bounded_text(i, 64) for i in items),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError from exc


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What the hub tells the requester about one (item, provider) pair."""

    item: str
    provider: str
    outcome: Outcome
    records: tuple[ItemRecord, ...] = ()
    detail: str | None = None


def exchange_response_json(request_id: str, results: tuple[ItemResult, ...]) -> bytes:
    """The hub's answer to a requester, as canonical JSON for signing."""
    return canonical(
        {
            "request_id": request_id,
            "results": [
                {
                    "item": r.item,
                    "provider": r.provider,
                    "outcome": r.outcome.value,
                    "detail": r.detail,
                    "records": [record.to_dict() for record in r.records],
                }
                for r in results
            ],
        }
    )


def canonical(value: Any) -> bytes:
    """Sorted-key, compact UTF-8 JSON: the bytes that are signed and logged."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def is_fresh(issued_at: datetime, now: datetime) -> bool:
    """Whether a message's time is within the allowed clock skew of ``now``."""
    if issued_at.tzinfo is None:
        return False
    return abs(now - issued_at) <= MAX_CLOCK_SKEW


def json_object(data: bytes) -> dict[str, Any]:
    """A message body: a JSON object, or MalformedMessageError."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessageError from exc
    if not isinstance(body, dict):
        raise MalformedMessageError
    return body


def bounded_text(value: object, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters without NUL, or ValueError."""
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise ValueError
    return value


class ExchangeError(MynaError, code="exchange_failed"):
    """An exchange the hub refuses or cannot complete."""

    message = N_("The exchange could not be completed. Please try again later.")


class MalformedMessageError(ExchangeError, code="malformed_message"):
    message = N_("The message is not a well-formed exchange message. Check its format.")


class UnsignedMessageError(ExchangeError, code="unsigned_message", status_code=401):
    message = N_("The message is not signed. Sign it with your agency key (JWS, ES256).")


class BadMessageSignatureError(ExchangeError, code="bad_message_signature", status_code=401):
    message = N_(
        "The message signature does not verify with the sender's certificate. "
        "Sign it again with the key of that certificate."
    )


class MissingPqSignatureError(ExchangeError, code="missing_pq_signature", status_code=401):
    message = N_(
        "The message carries no ML-DSA-65 signature, which this receiver requires. "
        "Sign it with your ML-DSA-65 key as well as with ES256."
    )


class BadPqSignatureError(ExchangeError, code="bad_pq_signature", status_code=401):
    message = N_(
        "The message's ML-DSA-65 signature does not verify with the sender's post-quantum "
        "certificate. Sign it again with the key of that certificate."
    )


class UntrustedPqCertificateError(ExchangeError, code="untrusted_pq_certificate", status_code=401):
    message = N_(
        "The sender's ML-DSA-65 certificate is not one the post-quantum government CA "
        "issued and still vouches for ({reason})."
    )


class UpdateNotAllowedError(ExchangeError, code="update_not_allowed", status_code=403):
    message = N_(
        "The agency {publisher} may not write {item} into the records of {owner} "
        "under this procedure. Check the update table."
    )


class UpdateFailedError(ExchangeError, code="update_failed", status_code=502):
    message = N_(
        "The records of {owner} could not be updated ({reason}). Nothing was changed; "
        "please try again later."
    )


class UnknownAgencyError(ExchangeError, code="unknown_agency", status_code=403):
    message = N_("The agency {agency} is not part of the network.")


class SenderMismatchError(ExchangeError, code="sender_mismatch", status_code=403):
    message = N_("The message names {claimed} as sender but is signed by {signer}.")


class StaleMessageError(ExchangeError, code="stale_message"):
    message = N_("The message time is too far from the hub's clock. Check your clock and resend.")


class ReplayedMessageError(ExchangeError, code="replayed_message", status_code=409):
    message = N_("This request was already received. Send a new request with a new id.")


class UnknownLinkCodeError(ExchangeError, code="unknown_link_code", status_code=404):
    message = N_("The link code is not known to the hub for your agency.")
