"""The counter's re-issue of a signing certificate (署名用電子証明書の再発行).

After a move or a change of name the signing certificate of the resident's card is
revoked; at the municipality's counter a clerk puts a new one onto the same card
(:func:`myna.card.reissue_signing`): the resident presents the card and sets a new
signing password. Only a resident of the clerk's own municipality is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from myna import card
from myna.office import service as office
from myna.office.service import OfficeError
from myna.platform.errors import N_
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)


class PasswordsDifferError(OfficeError):
    """The new signing password and its confirmation differ."""

    code = "passwords_differ"
    message = N_(
        "The new signing password and its confirmation are not the same. Let the resident "
        "enter them again."
    )
    status_code = 400


@dataclass(frozen=True, slots=True)
class Reissued:
    """What the counter tells the resident once the new certificate is on the card."""

    card_id: str
    holder_name: str
    sign_not_after: datetime | None


def reissue_at_counter(
    *,
    session: Session,
    settings: Settings,
    staff_id: int,
    card_id: str,
    password: str,
    confirmation: str,
) -> Reissued:
    """Re-issue the signing certificate of ``card_id`` at ``staff_id``'s municipality."""
    staff = office.get_staff(session=session, staff_id=staff_id)
    if password != confirmation:
        raise PasswordsDifferError
    summary = card.reissue_signing(
        session=session,
        settings=settings,
        card_id=card_id,
        password=password,
        municipality_code=staff.municipality_code,
    )
    log.info("office.signing_reissued", card_id=card_id, staff=staff.login_id)
    return Reissued(summary.card_id, summary.holder_name, summary.sign_not_after)
