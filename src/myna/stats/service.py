"""The usage statistics computed from the running system (deck p. 15, 利用状況).

Each figure is asked of the context that owns it, through its public counting function;
no table of another context is read here. The counts are suppressed (``domain``) before
they leave :func:`compute`, so nothing downstream — the cache, the pages, the open
data — ever holds a small count.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from myna import agencies, authapp, delivery, jpki, medical, network, notices, partners, registry
from myna.applications import service as applications
from myna.applications.domain import ApplicationStatus
from myna.catalog.loader import shipped_catalog
from myna.platform.clock import JST, today_in_japan
from myna.portal import service as portal
from myna.stats.domain import (
    AGE_BAND_STARTS,
    ORGANIZATION_TYPES,
    Dashboard,
    login_days,
    published_cards,
    published_counts,
    published_cross_table,
)

if TYPE_CHECKING:
    # Sessions are handed through to the contexts; the statistics read nothing themselves.
    from sqlalchemy.orm import Session


def compute(*, session: Session, threshold: int, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard as of ``now`` (default: this moment), suppressed."""
    now = now or datetime.now(UTC)
    today = today_in_japan(now)
    residents = registry.residents_by_municipality_and_age_band(
        session=session, on=today, band_starts=AGE_BAND_STARTS
    )
    holders = registry.residents_by_municipality_and_age_band(
        session=session,
        on=today,
        band_starts=AGE_BAND_STARTS,
        among=jpki.card_holders(session=session, at=now),
    )
    days = login_days(today)
    since = datetime.combine(days[0], time(), tzinfo=JST)
    logins = portal.logins_per_day(session=session, since=since, until=now + timedelta(seconds=1))
    exchanges = network.transparency.exchanges_by_procedure(session=session)
    by_category = notices.counts_by_category(session=session)
    categories = [category.value for category in notices.Category]
    applied = applications.counts_by_procedure_and_status(session=session)
    procedures = sorted({code for code, _ in applied})
    statuses = [status.value for status in ApplicationStatus]
    return Dashboard(
        as_of=now,
        threshold=threshold,
        cards=published_cards(residents, holders, threshold),
        logins=published_counts(days, logins, threshold),
        exchanges=published_counts(sorted(exchanges), exchanges, threshold),
        notices_sent=published_counts(
            categories, {c.value: n.sent for c, n in by_category.items()}, threshold
        ),
        notices_read=published_counts(
            categories, {c.value: n.read for c, n in by_category.items()}, threshold
        ),
        applications=published_cross_table(
            procedures,
            statuses,
            {(code, status.value): count for (code, status), count in applied.items()},
            threshold,
        ),
        api_uses=published_counts(list(ORGANIZATION_TYPES), api_uses(session=session), threshold),
        municipality_names={
            m.code: m.full_name
            for m in registry.list_municipalities(session=session)
            if m.code in {code for code, _ in residents}
        },
        exchange_names=_exchange_names(exchanges),
        application_names=_application_names(procedures),
    )


def api_uses(*, session: Session) -> dict[str, int]:
    """Uses of the platform's APIs by organisation type (keys of ``ORGANIZATION_TYPES``)."""
    uses = {
        "partner-api": partners.count_api_uses(session=session),
        "authapp": authapp.count_signed_transactions(session=session),
        "medical": medical.count_eligibility_confirmations(session=session),
    }
    for kind, count in jpki.verifier_requests_by_kind(session=session).items():
        uses[f"jpki-{kind.value}"] = count
    for sender_kind, count in delivery.deliveries_by_sender_kind(session=session).items():
        uses[f"delivery-{sender_kind.value}"] = count
    return uses


def _exchange_names(codes: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Japanese and English names of the exchanges' procedures (事務), the code if unknown."""
    known = agencies.load_catalog().procedures
    names = {code: (p.name_ja, p.name_en) for code, p in known.items() if code in codes}
    if jpki.LOG_PROCEDURE in codes:
        names[jpki.LOG_PROCEDURE] = ("最新4情報の提供", "Provision of the latest 4 info")
    return names


def _application_names(codes: list[str]) -> dict[str, tuple[str, str]]:
    """Japanese and English names of the applications' procedures (手続)."""
    catalog = shipped_catalog()
    names: dict[str, tuple[str, str]] = {}
    for code in codes:
        procedure = catalog.get(code)
        if procedure is not None:
            names[code] = (procedure.name_ja, procedure.name_en)
    return names
