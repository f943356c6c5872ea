"""The portal's side of the public-fund receiving account (公金受取口座).

The registry keeps the account; the portal writes it through the hub into the Digital
Agency's register (デジタル庁, agency ``digital``, its replica store under its own link
code) — an update logged like every exchange, and delivered to the agency's node in a
distributed deployment — so that わたしの情報 and the agencies paying benefits read it
through the hub.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna import network, registry
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow

DIGITAL_AGENCY = "digital"
ACCOUNT_ITEM = "public-fund-account"
SOURCE = "公金受取口座登録簿"
REGISTRATION = "public-fund-account-registration"


def _publish(
    session: Session, hub: network.Hub, resident_id: int, account: registry.AccountRead | None
) -> None:
    """The portal writes (or withdraws) the account in the Digital Agency's register."""
    payload = None
    if account is not None:
        payload = {
            "bank_code": account.bank_code,
            "bank_name": account.bank_name,
            "branch_code": account.branch_code,
            "branch_name": account.branch_name,
            "account_type": account.account_type.value,
            "account_number": account.number,
            "holder_kana": account.holder_kana,
            # The day in Japan: after 15:00 UTC the UTC date is still the day before.
            "registered_on": today_in_japan(account.updated_at).isoformat(),
        }
    network.update_records(
        session=session,
        hub=hub,
        publisher=network.PORTAL,
        owner=DIGITAL_AGENCY,
        resident_id=resident_id,
        procedure=REGISTRATION,
        records=[
            network.RecordUpdate(
                item=ACCOUNT_ITEM,
                payload=payload,
                source=SOURCE,
                valid_from=today_in_japan(account.updated_at if account else utcnow()),
            )
        ],
    )


def save_account(
    *, session: Session, hub: network.Hub, resident_id: int, form: registry.AccountForm
) -> registry.AccountRead:
    """Register the resident's account, or replace the one registered, and publish it."""
    if registry.get_account(session=session, resident_id=resident_id) is None:
        account = registry.register_account(session=session, resident_id=resident_id, form=form)
    else:
        account = registry.change_account(session=session, resident_id=resident_id, form=form)
    _publish(session, hub, resident_id, account)
    return account


def remove_account(*, session: Session, hub: network.Hub, resident_id: int) -> None:
    """Delete the resident's account and withdraw it from the Digital Agency's register."""
    registry.delete_account(session=session, resident_id=resident_id)
    _publish(session, hub, resident_id, None)
