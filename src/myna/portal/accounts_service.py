"""The portal's side of the public-fund receiving account (公金受取口座).

The registry keeps the account; the Digital Agency (デジタル庁, agency ``digital``)
publishes it in its replica store under its own link code, so that わたしの情報 and
the agencies paying benefits read it through the hub, logged like every exchange.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna import agencies, network, registry

DIGITAL_AGENCY = "digital"
ACCOUNT_ITEM = "public-fund-account"
SOURCE = "公金受取口座登録簿"


def _publish(session: Session, resident_id: int, account: registry.AccountRead) -> None:
    link_code = network.link_code_for_resident(
        session=session, resident_id=resident_id, agency_code=DIGITAL_AGENCY
    )
    agencies.upsert_records(
        session=session,
        agency_code=DIGITAL_AGENCY,
        records=[
            agencies.RecordWrite(
                link_code=link_code,
                item_code=ACCOUNT_ITEM,
                payload={
                    "bank_code": account.bank_code,
                    "bank_name": account.bank_name,
                    "branch_code": account.branch_code,
                    "account_type": account.account_type.value,
                    "account_number": account.number,
                    "holder_kana": account.holder_kana,
                    "registered_on": account.updated_at.date().isoformat(),
                },
                source=SOURCE,
                valid_from=account.updated_at.date(),
            )
        ],
    )


def save_account(
    *, session: Session, resident_id: int, form: registry.AccountForm
) -> registry.AccountRead:
    """Register the resident's account, or replace the one registered, and publish it."""
    if registry.get_account(session=session, resident_id=resident_id) is None:
        account = registry.register_account(session=session, resident_id=resident_id, form=form)
    else:
        account = registry.change_account(session=session, resident_id=resident_id, form=form)
    _publish(session, resident_id, account)
    return account


def remove_account(*, session: Session, resident_id: int) -> None:
    """Delete the resident's account and withdraw it from the Digital Agency's store."""
    registry.delete_account(session=session, resident_id=resident_id)
    link_code = network.link_code_for_resident(
        session=session, resident_id=resident_id, agency_code=DIGITAL_AGENCY
    )
    agencies.remove_records(
        session=session, agency_code=DIGITAL_AGENCY, link_code=link_code, items=[ACCOUNT_ITEM]
    )
