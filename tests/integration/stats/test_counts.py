"""Each context's counting function for the statistics: counts only, as the data stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from myna import authapp, delivery, jpki, medical, network, notices, partners, registry
from myna.applications import service as applications
from myna.applications.domain import ApplicationStatus
from myna.authapp.models import AuthAppSignRequest
from myna.delivery.models import Delivery, DeliveryLink, Sender
from myna.jpki.domain import CertificateKind, RevocationReason
from myna.jpki.models import Verifier, VerifierUsage
from myna.medical.models import Institution, Visit
from myna.platform.clock import JST
from myna.platform.settings import Settings
from myna.portal import service as portal
from myna.portal.models import AuthEvent
from myna.stats.domain import AGE_BAND_STARTS
from tests.integration.stats.conftest import TOWN_A, TOWN_B, World

NOW = datetime.now(UTC)


def test_the_registry_counts_residents_by_municipality_and_age_band(
    session: Session, world: World
) -> None:
    today = NOW.astimezone(JST).date()
    everyone = registry.residents_by_municipality_and_age_band(
        session=session, on=today, band_starts=AGE_BAND_STARTS
    )
    assert everyone == {(TOWN_A, 30): 24, (TOWN_A, 0): 12, (TOWN_B, 40): 3}
    some = registry.residents_by_municipality_and_age_band(
        session=session,
        on=today,
        band_starts=AGE_BAND_STARTS,
        among=[*world.residents["thirties"][:2], world.residents["forties"][0], 10**9],
    )
    assert some == {(TOWN_A, 30): 2, (TOWN_B, 40): 1}
    # Many ids (more than ten queries' worth) are counted in one pass over the register.
    many = [*world.residents["children"], *range(10**8, 10**8 + 6000)]
    assert registry.residents_by_municipality_and_age_band(
        session=session, on=today, band_starts=AGE_BAND_STARTS, among=many
    ) == {(TOWN_A, 0): 12}


def test_the_jpki_counts_each_card_holder_once_and_only_cards_in_use(
    session: Session, settings: Settings, world: World
) -> None:
    now = datetime.now(UTC)
    assert len(jpki.card_holders(session=session, at=now)) == 13
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()

    def card(holder: int, card_id: str) -> None:
        jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=CertificateKind.AUTH,
            public_key=key,
            holder_id=holder,
            card_id=card_id,
            birth_date=registry.get_resident(session=session, resident_id=holder).birth_date,
            basic_info=None,
        )

    # A second card of the same holder does not make two holders; a new holder does.
    card(world.residents["thirties"][0], "second")
    card(world.residents["children"][0], "child")
    assert len(jpki.card_holders(session=session, at=datetime.now(UTC))) == 14
    jpki.revoke_for_card(session=session, card_id="child", reason=RevocationReason.LOSS)
    jpki.revoke_for_card(session=session, card_id="second", reason=RevocationReason.LOSS)
    now = datetime.now(UTC)
    holders = jpki.card_holders(session=session, at=now)
    assert len(holders) == 13
    assert world.residents["thirties"][0] in holders
    assert world.residents["children"][0] not in holders
    # Certificates last until the 5th birthday after issue: in 30 years, none is in use.
    assert jpki.card_holders(session=session, at=now + timedelta(days=365 * 30)) == frozenset()


def test_the_portal_counts_logins_per_day_in_japan(session: Session, world: World) -> None:
    # 23:30 and 00:30 Japan time fall on two days, whatever the day in UTC.
    evening = datetime(2026, 11, 30, 23, 30, tzinfo=JST)
    for moment in (evening, evening + timedelta(hours=1)):
        session.add(AuthEvent(occurred_at=moment, event="login", outcome="ok", resident_id=1))
    session.add(AuthEvent(occurred_at=evening, event="logout", outcome="ok", resident_id=1))
    session.flush()
    counts = portal.logins_per_day(
        session=session, since=evening - timedelta(days=1), until=evening + timedelta(days=1)
    )
    assert counts == {evening.date(): 1, (evening + timedelta(hours=1)).date(): 1}


def test_the_exchange_log_counts_exchanges_by_procedure(session: Session, world: World) -> None:
    assert network.transparency.exchanges_by_procedure(session=session) == {
        "self-disclosure": 11,
        "child-allowance": 2,
    }


def test_notices_and_applications_are_counted(session: Session, world: World) -> None:
    counted = notices.counts_by_category(session=session)
    assert counted == {notices.Category.TAX: notices.CategoryCounts(sent=12, read=11)}
    assert applications.counts_by_procedure_and_status(session=session) == {
        ("child-allowance-claim", ApplicationStatus.RECEIVED): 12,
        ("child-allowance-claim", ApplicationStatus.COMPLETED): 2,
    }


def test_api_uses_are_counted_per_kind_of_organisation(session: Session, world: World) -> None:
    assert partners.count_api_uses(session=session) == 10  # the failed use is not one
    session.add(
        Verifier(
            code="jv-1",
            name="銀行",
            kind="signature",
            organization_code="org-jv-1",
            registered_at=NOW,
        )
    )
    session.flush()
    for n in range(3):
        session.add(
            VerifierUsage(
                verifier_code="jv-1",
                month="2026-12",
                kind="status",
                request_id=f"r{n}",
                items=1,
                unit_price_yen=20,
                amount_yen=20,
                at=NOW,
            )
        )
    session.add(
        Sender(
            code="s1",
            name="生命保険",
            kind="life-insurer",
            organization_code="org-s1",
            registered_at=NOW,
        )
    )
    session.flush()
    link = DeliveryLink(sender_code="s1", resident_id=1, recipient_id="rcpt-1", linked_at=NOW)
    session.add(link)
    session.flush()
    session.add(
        Delivery(
            id="d1",
            sender_code="s1",
            document_id="doc",
            link_id=link.id,
            kind="life",
            year=2026,
            title="t",
            sha256="0" * 64,
            xml=b"<x/>",
            received_at=NOW,
        )
    )
    session.add(
        Institution(code="1312345678", name="医院", organization_code="mi-1", registered_at=NOW)
    )
    session.flush()
    for n, identified in enumerate((NOW, None)):
        session.add(
            Visit(
                id=f"v{n}",
                institution_code="1312345678",
                nonce="n",
                status="open",
                created_at=NOW,
                expires_at=NOW,
                identified_at=identified,
            )
        )
    for n, signed in enumerate((NOW, None)):
        session.add(
            AuthAppSignRequest(
                id=f"sr{n}",
                client_id="c",
                title="t",
                digests=[],
                return_url="https://example.test/",
                created_at=NOW,
                expires_at=NOW,
                signed_at=signed,
            )
        )
    session.flush()
    assert jpki.verifier_requests_by_kind(session=session) == {jpki.VerifierKind.SIGNATURE: 3}
    assert delivery.deliveries_by_sender_kind(session=session) == {
        delivery.SenderKind.LIFE_INSURER: 1
    }
    assert medical.count_eligibility_confirmations(session=session) == 1
    assert authapp.count_signed_transactions(session=session) == 1
