"""Use cases of the network for the rest of Myna (the portal's self-information)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from myna.network.credentials import credential_for
from myna.network.domain import PORTAL, SELF_DISCLOSURE, ExchangeRequest, new_request_id
from myna.network.hub import ExchangeOutcome, Hub
from myna.network.linkcodes import link_code_for_resident
from myna.network.messages import sign
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
) -> ExchangeOutcome:
    """自己情報開示: the portal asks, through the hub, for the logged-in resident's items.

    The portal signs as an agency of its own, under the self-disclosure procedure or a
    self-only procedure of the same kind (pre-filling an e-application), and only ever
    with the link code of the resident whose session it serves.
    """
    credential = credential_for(
        session=session, settings=hub.settings, code=PORTAL, name=PORTAL_NAME
    )
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=PORTAL,
        procedure=procedure,
        subject=link_code_for_resident(
            session=session, resident_id=resident_id, agency_code=PORTAL
        ),
        items=tuple(items),
        issued_at=utcnow(),
        purpose=purpose,
    )
    return hub.exchange(session=session, token=sign(request.to_json(), credential))
