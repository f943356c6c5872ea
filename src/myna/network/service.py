"""Use cases of the network for the rest of Myna: asking (情報照会), updating (副本の更新)
and corrections (訂正の申出).

An agency acting in this process (a municipality's back office, the portal, the license
system) signs its own message with its own credential and knows the person only by its
own link code; the hub does the rest and logs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from myna.network.corrections import (
    CorrectionAnswer,
    CorrectionReceipt,
    CorrectionRequest,
    Evidence,
)
from myna.network.credentials import credential_for
from myna.network.domain import (
    PORTAL,
    SELF_DISCLOSURE,
    ExchangeRequest,
    RecordUpdate,
    UpdateRequest,
    new_request_id,
)
from myna.network.hub import ExchangeOutcome, Hub
from myna.network.linkcodes import link_code_for_resident
from myna.network.messages import Credential, sign
from myna.platform.db import utcnow

PORTAL_NAME = "マイナポータル"


def request_self_information(
    *,
    session: Session,
    hub: Hub,
    resident_id: int,
    items: Sequence[str],
    procedure: str = SELF_DISCLOSURE,
    purpose: str | None = None,
    actor_id: int | None = None,
) -> ExchangeOutcome:
    """自己情報開示: the portal asks, through the hub, for the logged-in resident's items.

    The portal signs as an agency of its own, under the self-disclosure procedure or a
    self-only procedure of the same kind (pre-filling an e-application), and only ever
    with the link code of the resident whose session it serves. ``actor_id`` is the
    proxy (代理人) who asks for the resident, written beside them in the exchange log.
    """
    return ask(
        session=session,
        hub=hub,
        requester=PORTAL,
        resident_id=resident_id,
        procedure=procedure,
        items=items,
        purpose=purpose,
        actor=None if actor_id is None else str(actor_id),
    )


def ask(
    *,
    session: Session,
    hub: Hub,
    requester: str,
    resident_id: int,
    procedure: str,
    items: Sequence[str],
    purpose: str | None = None,
    actor: str | None = None,
) -> ExchangeOutcome:
    """情報照会: ``requester`` asks the hub for items about a person it knows."""
    return ask_about(
        session=session,
        hub=hub,
        requester=requester,
        subject=link_code_for_resident(
            session=session, resident_id=resident_id, agency_code=requester
        ),
        procedure=procedure,
        items=items,
        purpose=purpose,
        actor=actor,
    )


def ask_about(
    *,
    session: Session,
    hub: Hub,
    requester: str,
    subject: str,
    procedure: str,
    items: Sequence[str],
    purpose: str | None = None,
    actor: str | None = None,
) -> ExchangeOutcome:
    """情報照会 about the person behind ``requester``'s own link code ``subject``."""
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=requester,
        procedure=procedure,
        subject=subject,
        items=tuple(items),
        issued_at=utcnow(),
        purpose=purpose,
        actor=actor,
    )
    token = sign(request.to_json(), _credential(session, hub, requester))
    return hub.exchange(session=session, token=token)


def update_records(
    *,
    session: Session,
    hub: Hub,
    publisher: str,
    owner: str,
    resident_id: int,
    procedure: str,
    records: Sequence[RecordUpdate],
) -> ExchangeOutcome:
    """副本の更新: ``publisher`` writes records about a person into ``owner``'s store.

    Raises :class:`~myna.network.domain.UpdateFailedError` (or the refusal) unless the
    owner wrote every record, so the caller's transaction can roll back as a whole.
    """
    request = UpdateRequest(
        request_id=new_request_id(),
        publisher=publisher,
        owner=owner,
        procedure=procedure,
        subject=link_code_for_resident(
            session=session, resident_id=resident_id, agency_code=publisher
        ),
        records=tuple(records),
        issued_at=utcnow(),
    )
    token = sign(request.to_json(), _credential(session, hub, publisher))
    return hub.update(session=session, token=token)


def request_correction(
    *,
    session: Session,
    hub: Hub,
    resident_id: int,
    owner: str,
    item: str,
    field: str,
    current: str,
    proposed: str,
    reason: str,
    evidence: Evidence | None = None,
) -> tuple[str, CorrectionReceipt]:
    """訂正の申出: the portal passes the logged-in resident's request to the item's holder.

    Returns the request id and the holder's receipt; raises if the hub or the holder
    refuses, so the caller records nothing.
    """
    request = CorrectionRequest(
        request_id=new_request_id(),
        requester=PORTAL,
        owner=owner,
        subject=link_code_for_resident(
            session=session, resident_id=resident_id, agency_code=PORTAL
        ),
        item=item,
        field=field,
        current=current,
        proposed=proposed,
        reason=reason,
        evidence=evidence,
        issued_at=utcnow(),
    )
    token = sign(request.to_json(), _credential(session, hub, PORTAL))
    return request.request_id, hub.request_correction(session=session, token=token)


def answer_correction(
    *,
    session: Session,
    hub: Hub,
    owner: str,
    request_id: str,
    item: str,
    corrected: bool,
    reason: str,
) -> CorrectionAnswer:
    """The holder (acting in this process) answers a correction request through the hub."""
    answer = CorrectionAnswer(
        answer_id=new_request_id(),
        request_id=request_id,
        owner=owner,
        item=item,
        corrected=corrected,
        reason=reason,
        issued_at=utcnow(),
    )
    token = sign(answer.to_json(), _credential(session, hub, owner))
    return hub.answer_correction(session=session, token=token)


def _credential(session: Session, hub: Hub, code: str) -> Credential:
    name = PORTAL_NAME if code == PORTAL else None
    return credential_for(session=session, settings=hub.settings, code=code, name=name)
