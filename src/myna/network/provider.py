"""The provider side of an exchange: what an agency's intermediate server does with a
query or an update from the hub. Used in-process (embedded) and by an agency node
(distributed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from myna import agencies
from myna.network.corrections import (
    MAX_CORRECTION_MESSAGE_BYTES,
    CorrectionReceipt,
    ProviderCorrection,
)
from myna.network.credentials import credential_for
from myna.network.domain import (
    HUB,
    ItemRecord,
    ProviderAnswer,
    ProviderQuery,
    ProviderUpdate,
    UpdateReceipt,
)
from myna.network.messages import Credential, open_message, sign
from myna.platform.settings import Settings


def answer(
    *, session: Session, settings: Settings, token: str, provider: str, credential: Credential
) -> str:
    """Verify the hub's signed query with the JPKI tables, then :func:`respond` (embedded)."""
    opened = open_message(token, session=session, settings=settings, expected_sender=HUB)
    query = ProviderQuery.from_json(opened.payload)
    return respond(session=session, query=query, provider=provider, credential=credential)


def respond(
    *, session: Session, query: ProviderQuery, provider: str, credential: Credential
) -> str:
    """情報提供: read the replica store for a verified query and sign the answer."""
    if query.provider != provider:
        raise agencies.ItemNotProvidedError(item=",".join(query.items), agency=provider)
    records = agencies.answer_query(
        session=session, agency_code=provider, link_code=query.link_code, items=query.items
    )
    reply = ProviderAnswer(
        request_id=query.request_id,
        provider=provider,
        records=tuple(
            ItemRecord(
                item=r.item_code,
                provider=provider,
                payload=dict(r.payload),
                updated_at=r.updated_at.isoformat(),
            )
            for r in records
        ),
    )
    return sign(reply.to_json(), credential)


def apply_update(
    *, session: Session, update: ProviderUpdate, owner: str, credential: Credential
) -> str:
    """副本の更新: write a verified update into the owner's store and sign the receipt.

    Every payload is checked against its item's schema before anything is written; a
    record without a payload withdraws the person's records of that item.
    """
    if update.owner != owner:
        raise agencies.ItemNotProvidedError(item=update.records[0].item, agency=owner)
    writes = [r for r in update.records if r.payload is not None]
    agencies.upsert_records(
        session=session,
        agency_code=owner,
        records=[
            agencies.RecordWrite(
                link_code=update.link_code,
                item_code=r.item,
                key=r.key,
                payload=r.payload or {},
                source=r.source,
                valid_from=r.valid_from,
            )
            for r in writes
        ],
    )
    withdrawn = [r.item for r in update.records if r.payload is None]
    if withdrawn:
        agencies.remove_records(
            session=session, agency_code=owner, link_code=update.link_code, items=withdrawn
        )
    items = tuple(dict.fromkeys(r.item for r in update.records))
    receipt = UpdateReceipt(request_id=update.request_id, owner=owner, items=items)
    return sign(receipt.to_json(), credential)


def receive_correction(
    *, session: Session, correction: ProviderCorrection, owner: str, credential: Credential
) -> str:
    """訂正の申出: queue a verified correction request and sign the receipt."""
    if correction.owner != owner:
        raise agencies.ItemNotProvidedError(item=correction.item, agency=owner)
    evidence = correction.evidence
    reference = agencies.receive_correction(
        session=session,
        agency_code=owner,
        request=agencies.IncomingCorrection(
            request_id=correction.request_id,
            requester=correction.requester,
            link_code=correction.link_code,
            item=correction.item,
            field=correction.field,
            current=correction.current,
            proposed=correction.proposed,
            reason=correction.reason,
            evidence_name=evidence.filename if evidence else None,
            evidence_type=evidence.media_type if evidence else None,
            evidence=evidence.content if evidence else None,
        ),
    )
    receipt = CorrectionReceipt(request_id=correction.request_id, owner=owner, reference=reference)
    return sign(receipt.to_json(), credential)


@dataclass
class InProcessTransport:
    """Embedded mode: every agency answers in this process, over the same session.

    Same messages, same signatures as over HTTP; only the delivery differs. The session
    is the hub's own, because in embedded mode the replica stores share its database.
    """

    session: Session
    settings: Settings

    def query(self, provider: str, signed_query: str) -> str:
        """Deliver ``signed_query`` to ``provider`` and return its signed answer."""
        credential = credential_for(session=self.session, settings=self.settings, code=provider)
        return answer(
            session=self.session,
            settings=self.settings,
            token=signed_query,
            provider=provider,
            credential=credential,
        )

    def publish(self, owner: str, signed_update: str) -> str:
        """Deliver ``signed_update`` to ``owner``'s store; its signed receipt."""
        opened = open_message(
            signed_update, session=self.session, settings=self.settings, expected_sender=HUB
        )
        credential = credential_for(session=self.session, settings=self.settings, code=owner)
        return apply_update(
            session=self.session,
            update=ProviderUpdate.from_json(opened.payload),
            owner=owner,
            credential=credential,
        )

    def correct(self, owner: str, signed_correction: str) -> str:
        """Deliver ``signed_correction`` to ``owner``'s queue; its signed receipt."""
        opened = open_message(
            signed_correction,
            session=self.session,
            settings=self.settings,
            expected_sender=HUB,
            max_bytes=MAX_CORRECTION_MESSAGE_BYTES,
        )
        credential = credential_for(session=self.session, settings=self.settings, code=owner)
        return receive_correction(
            session=self.session,
            correction=ProviderCorrection.from_json(opened.payload),
            owner=owner,
            credential=credential,
        )
