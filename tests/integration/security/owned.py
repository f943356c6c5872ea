"""Resident A's and 千代田区's objects: one of each kind a route of the apps names by id.

Built once for the authorization matrix with the services and pages that make them in
use (an application filed and another waiting for the card, a return to sign, a phone
issuance, deliveries and a hand-over, consents, a move-in, a correction request, a staff
card...), with the builders the other tests use. Beside the objects: the organisations
that own some of them — the sender that delivered a document, the employer it was handed
to, the business that asked for a login or a signature — and one of each kind that owns
none of them, to try them with.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import authapp, card, cardlogin, counters, network, notices, phone, registry
from myna.applications import forms, submission
from myna.applications import service as applications
from myna.corrections import service as corrections
from myna.counters import service as shelters
from myna.delivery import handovers
from myna.delivery import service as delivery
from myna.delivery.identity import SenderIdentity
from myna.jpki.consent_statement import consent_statement
from myna.moves import service as moves
from myna.office import staff_cards
from myna.office.models import StaffCard
from myna.partners import authorization, consents, organizations
from myna.partners.models import Organization
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.platform.encoding import b64url_sha256
from myna.platform.sessions import RESIDENT, STAFF
from myna.platform.settings import Settings
from myna.proxy import service as proxy
from myna.tax import filing
from myna.tax import service as tax
from tests.integration.applications.filing import (
    PROCEDURES,
    VALID_DISASTER,
    Signer,
    file_application,
    signer_for,
)
from tests.integration.applications.staffcards import challenge_id_of, register_staff_card
from tests.integration.authapp.conftest import REDIRECT_URI as BUSINESS_REDIRECT
from tests.integration.authapp.conftest import Business, public_jwks
from tests.integration.delivery.conftest import life_certificate
from tests.integration.delivery.conftest import register as register_sender
from tests.integration.jpki.latest import API as VERIFIER_API
from tests.integration.jpki.latest import JOSE, PURPOSE
from tests.integration.jpki.latest import register as register_verifier
from tests.integration.portal.conftest import issue
from tests.integration.security.conftest import CHIYODA, YOKOHAMA, World

CHIYODA_AGENCY = "muni-131016"
YOKOHAMA_AGENCY = "muni-141003"
PROCEDURE = "disaster-certificate"
ORGANIZATION = "client-minato-bank"
ORGANIZATION_REDIRECT = "https://minato-bank.example/callback"
TAX_YEAR = 2025
PDF = b"%PDF-1.7\n" + b"0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Owned:
    """The objects, as the path parameters that name them, and the organisations."""

    values: dict[str, dict[str, str]]
    """By path prefix: an ``attachment_id`` is an application's under the office and the
    filing API, a notice's under /notices; a ``request_id`` is the card's signing request
    of an application under /apply, of a return under /tax, a business's under /authapp;
    a ``challenge_id`` is a card login's under /login and /office/login, a staff card
    registration's under /office/staff."""
    insurer: SenderIdentity
    """Delivered resident A's 控除証明書."""
    employer: SenderIdentity
    """Was handed it for 年末調整."""
    other_employer: SenderIdentity
    """Linked by resident A too, handed nothing."""
    business: Business
    """Asked resident A for a login and a signature (the authentication app)."""
    other_business: Business
    callers_own: dict[str, dict[str, str]]
    """The same containers of the callers who try them (by path prefix): resident B's
    notice, 横浜市's staff member, shelter and application."""

    def of(self, path: str) -> dict[str, str]:
        """The values that fill ``path``'s parameters."""
        return _by_prefix(self.values, path)

    def theirs(self, path: str) -> dict[str, str]:
        """The callers' own containers among ``path``'s parameters."""
        return _by_prefix(self.callers_own, path)


def _by_prefix(table: dict[str, dict[str, str]], path: str) -> dict[str, str]:
    values = dict(table["/"])
    for prefix, more in table.items():
        if path.startswith(prefix):
            values.update(more)
    return values


def build(session: Session, world: World, api: TestClient) -> Owned:
    """Every object; ``api`` is a client of the app without cookies (the organisations')."""
    settings = world.container.settings
    a = world.resident_a.subject_id
    taro = signer_for(session, settings, "taro")
    network.seed_agency_data(session=session, seed=1)
    submission.add_attachment(
        session=session,
        resident_id=a,
        municipality_code=CHIYODA,
        code=PROCEDURE,
        name="写真.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    application = file_application(session, settings, taro)
    (file,) = applications.attachments(session=session, application_id=application.id)
    waiting = _waiting_for_the_card(session, taro)
    draft = submission.add_attachment(
        session=session,
        resident_id=a,
        municipality_code=CHIYODA,
        code=PROCEDURE,
        name="下書き.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    notice = _notice(session, a, CHIYODA_AGENCY)
    appointment = _appointment(session, a)
    consent = _consent(session, settings, a)
    counters.ensure_facilities(session=session, municipality_code=CHIYODA)
    shelter = counters.shelters_of(session=session, municipality_code=CHIYODA)[0]
    checkin = _checked_in(session, world, shelter, taro)
    hub = world.container.hub_for(session)
    tax.start_return(session=session, hub=hub, resident_id=a, year=TAX_YEAR)
    tax_signing = filing.prepare_filing(
        session=session,
        hub=hub,
        resident_id=a,
        year=TAX_YEAR,
        submission_key=submission.new_submission_key(),
    )
    serial = taro.reader.read_certificate(taro.card_id, "auth").serial_number
    issuance = phone.start_issuance(
        session=session, settings=settings, resident_id=a, login_serial=serial
    )
    correction = corrections.file_correction(
        session=session,
        hub=hub,
        resident_id=a,
        draft=corrections.CorrectionDraft(
            owner=CHIYODA_AGENCY,
            item="resident-tax",
            field="",
            current="",
            proposed="4,120,000",
            reason="令和7年の源泉徴収票の金額と違います。",
            evidence=corrections.EvidenceUpload("gensen.png", PNG),
        ),
    )
    move = _move_in(session, settings)
    pending = _pending_authorization(session, a)
    session.commit()
    latest = _latest_info_consent(session, settings, api, taro)
    boxed = _delivered_and_handed_over(session, settings, a)
    staff_card, challenge = _staff_card(session, world)
    login, transaction, business, other_business = _authapp(session, world, api)
    logins = _login_challenges(session, world)
    callers_own = _callers_own(session, world)
    receipt = application.receipt_number
    return Owned(
        values={
            "/": {
                "receipt": receipt,
                "receipt_number": receipt,
                "attachment_id": str(file.id),
                "shelter_id": str(shelter.id),
                "checkin_id": str(checkin),
                "staff_id": str(world.staff_x.subject_id),
                "card_id": str(staff_card),
                "appointment_id": str(appointment),
                "consent_id": consent,
                "client_id": ORGANIZATION,
                "move_id": str(move),
                "correction_id": str(correction.id),
                "pending_id": pending,
            },
            "/apply/": {
                "municipality": CHIYODA,
                "code": PROCEDURE,
                "attachment_id": str(draft.id),
                "request_id": waiting,
            },
            "/notices/": {
                "notice_id": str(notice.id),
                "attachment_id": str(notice.attachments[0].id),
            },
            "/tax/": {"year": str(TAX_YEAR), "request_id": tax_signing.id},
            "/api/phone/": {"issuance_id": issuance.issuance_id},
            "/latest-info-consents/": {"consent_id": str(latest)},
            "/delivery/": {"delivery_id": boxed.delivery_id, "handover_id": boxed.handover_id},
            "/api/delivery/v1/": {
                "document_id": boxed.document_id,
                "handover_id": boxed.handover_id,
            },
            "/authapp/": {"authorization_id": login, "request_id": transaction},
            "/office/staff/": {"challenge_id": challenge},
            "/login/": {"challenge_id": logins[RESIDENT.name]},
            "/office/login/": {"challenge_id": logins[STAFF.name]},
        },
        insurer=boxed.insurer,
        employer=boxed.employer,
        other_employer=boxed.other_employer,
        business=business,
        other_business=other_business,
        callers_own=callers_own,
    )


def _waiting_for_the_card(session: Session, signer: Signer) -> str:
    """An application signed by no card yet: its signing request's id."""
    forms.save_draft(
        session=session,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=PROCEDURE,
        data=dict(VALID_DISASTER),
    )
    return submission.prepare(
        session=session,
        procedures=PROCEDURES,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=PROCEDURE,
        submission_key=submission.new_submission_key(),
    ).id


def _notice(session: Session, resident_id: int, agency: str) -> notices.NoticeRead:
    code = network.link_code_for_resident(
        session=session, resident_id=resident_id, agency_code=agency
    )
    return notices.send_notice(
        session=session,
        sender=agency,
        audience=notices.ToResident(code),
        content=notices.NoticeCreate.model_validate(
            {
                "title": "ご案内",
                "body": "本文です。",
                "category": notices.Category.PROCEDURE,
                "attachments": [{"name": "案内.pdf", "media_type": "application/pdf", "data": PDF}],
            }
        ),
    )


def _appointment(session: Session, principal_id: int) -> int:
    """Resident A appoints 花子 as a proxy (pending her acceptance): B is neither."""
    hanako = registry.ensure_personas(session=session)["hanako"]
    code, _ = proxy.issue_code(session=session, resident_id=hanako.id)
    return proxy.appoint(
        session=session,
        principal_id=principal_id,
        code=code,
        scopes=frozenset({proxy.Scope.NOTICES}),
        until=today_in_japan() + timedelta(days=30),
    ).appointment.id


def _consent(session: Session, settings: Settings, resident_id: int) -> str:
    """Resident A's consent to an approved organisation, with its signed receipt."""
    session.add(
        Organization(
            client_id=ORGANIZATION,
            name="みなと銀行",
            purpose="住宅ローンの審査",
            contact="api@minato-bank.example",
            retention="審査終了後1年",
            status="approved",
            redirect_uris=[ORGANIZATION_REDIRECT],
            jwks={"keys": []},
            jwks_uri=None,
            requested_scopes=[],
            approved_scopes=["openid", "name"],
            created_at=utcnow(),
        )
    )
    session.flush()
    given = consents.create_consent(
        session=session,
        settings=settings,
        resident_id=resident_id,
        client=organizations.get_client(session=session, client_id=ORGANIZATION),
        scopes=["openid", "name"],
        chosen=["name:name"],
    )
    return given.id


def _pending_authorization(session: Session, resident_id: int) -> str:
    """The organisation's pushed request, opened in resident A's browser: its pending id."""
    client = organizations.get_client(session=session, client_id=ORGANIZATION)
    pushed = authorization.push_request(
        session=session,
        client=client,
        params={
            "client_id": ORGANIZATION,
            "response_type": "code",
            "redirect_uri": ORGANIZATION_REDIRECT,
            "scope": "openid name",
            "state": "st-1",
            "nonce": "n-1",
            "code_challenge": b64url_sha256(secrets.token_urlsafe(48)),
            "code_challenge_method": "S256",
        },
    )
    pending_id = authorization.open_request(
        session=session, client_id=ORGANIZATION, request_uri=pushed.request_uri
    )
    # What the consent page does when A opens it.
    authorization.pending_request(session=session, pending_id=pending_id, resident_id=resident_id)
    return pending_id


def _checked_in(
    session: Session, world: World, shelter: counters.FacilityView, signer: Signer
) -> int:
    """Resident A checked in at the shelter by 千代田区's staff (face confirmed)."""
    identified = shelters.identify_by_face(
        session=session,
        settings=world.container.settings,
        reader=world.container.counter_reader,
        card_id=signer.card_id,
        confirmed=True,
        staff_name="attack-x",
    )
    now = datetime.now(UTC)
    presentation = shelters.present_at_shelter(
        session=session,
        settings=world.container.settings,
        shelter=shelter,
        staff_id=world.staff_x.subject_id,
        holder=identified,
        at=now,
    )
    (made,) = shelters.check_in(
        session=session,
        settings=world.container.settings,
        shelter=shelter,
        presentation=presentation,
        with_members=[],
        include_presenter=True,
        staff_name="attack-x",
        at=now,
    )
    return made.id


def _move_in(session: Session, settings: Settings) -> int:
    """一郎 (札幌市) moves to 千代田区: the move-in reservation 千代田区 completes."""
    ichiro = signer_for(session, settings, "ichiro")
    today = today_in_japan()
    file_application(
        session,
        settings,
        ichiro,
        code=moves.MOVE_OUT,
        data={
            "move_out_date": today.isoformat(),
            "new_municipality_code": CHIYODA,
            "new_address": "神田神保町一丁目1番1号",
            "move_in_date": today.isoformat(),
            "movers": "self",
            "phone": "011-123-4567",
            "declaration": True,
        },
    )
    (move,) = moves.moves_of_resident(session=session, resident_id=ichiro.resident_id)
    return move.id


def _latest_info_consent(
    session: Session, settings: Settings, api: TestClient, signer: Signer
) -> int:
    """Resident A's consent to 最新4情報提供, signed with the card, registered by the bank."""
    bank = register_verifier(session, settings, "mirai-bank", "signature")
    session.commit()
    statement = consent_statement(
        verifier=bank.code,
        purpose=PURPOSE,
        consent_id=str(uuid.uuid4()),
        issued_at=datetime.now(UTC),
    )
    registered = api.post(
        f"{VERIFIER_API}/latest-info/consents",
        content=bank.consent_request(statement, signer.sign(statement)),
        headers=JOSE,
    )
    assert registered.status_code == 201, registered.text
    return int(registered.json()["id"])


@dataclass
class _Boxed:
    """What the box holds of resident A, and who sent and received it."""

    insurer: SenderIdentity
    employer: SenderIdentity
    other_employer: SenderIdentity
    delivery_id: str
    document_id: str
    handover_id: str


def _delivered_and_handed_over(session: Session, settings: Settings, resident_id: int) -> _Boxed:
    """A 生命保険料控除証明書 in resident A's box, handed over to A's employer."""
    insurer = register_sender(
        session, settings, "sakura-life", "さくら生命保険株式会社", "life-insurer"
    )
    employer = register_sender(session, settings, "minato-denki", "みなと電機株式会社", "employer")
    other = register_sender(session, settings, "yamato-shoji", "大和商事株式会社", "employer")
    for sender in (employer, other):
        delivery.link(session=session, resident_id=resident_id, sender_code=sender.code)
    recipient = delivery.link(session=session, resident_id=resident_id, sender_code=insurer.code)
    assert recipient.recipient_id is not None
    xml = life_certificate(insurer, recipient.recipient_id)
    delivered = delivery.deliver(
        session=session,
        settings=settings,
        token=insurer.delivery(recipient.recipient_id, insurer.sign_document(xml)),
    )
    handover_id = handovers.hand_over(
        session=session,
        resident_id=resident_id,
        sender_code=employer.code,
        year=TAX_YEAR,
        delivery_ids=[delivered.delivery_id],
    )
    session.commit()
    return _Boxed(
        insurer, employer, other, delivered.delivery_id, delivered.document_id, handover_id
    )


def _staff_card(session: Session, world: World) -> tuple[int, str]:
    """花子's card registered as 千代田区's staff X's 職員証, and a registration waiting for a
    card: the registration's id and the waiting challenge's."""
    settings = world.container.settings
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    hanako = issue(session, settings, reader, "hanako")
    x = world.staff_x
    assert register_staff_card(x.client, x.subject_id, hanako).status_code == 303
    registered = session.scalars(select(StaffCard.id).where(StaffCard.staff_id == x.subject_id))
    (card_id,) = registered.all()
    started = x.client.post(
        f"/office/staff/{x.subject_id}/cards/challenge", data={"csrf_token": x.csrf_token}
    )
    assert started.status_code == 303, started.text
    waiting = x.client.get(started.headers["location"])
    assert waiting.status_code == 200, waiting.text
    return card_id, challenge_id_of(waiting.text)


def _authapp(
    session: Session, world: World, api: TestClient
) -> tuple[str, str, Business, Business]:
    """A business asks resident A for a login with the basic 4 info and for a signature;
    A opens both and starts the card's signatures. Another business asks nothing."""
    businesses = []
    for name, redirect in (
        ("さくら証券株式会社", BUSINESS_REDIRECT),
        ("あおば信託銀行", "https://trust.example/cb"),
    ):
        signing_key, encryption_key = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
        client = authapp.register_client(
            session=session,
            name=name,
            redirect_uris=[redirect],
            jwks=public_jwks(signing_key, encryption_key),
        )
        businesses.append(Business(api, client.client_id, signing_key, encryption_key))
    session.commit()
    business, other = businesses
    a = world.resident_a
    asked = a.client.get(business.authorize_url("openid name address"))
    assert asked.status_code == 303, asked.text
    consent_path = asked.headers["location"]
    assert a.client.get(consent_path).status_code == 200
    signing = a.client.post(consent_path + "/sign", data={"csrf_token": a.csrf_token})
    assert signing.status_code == 303, signing.text
    created = api.post(
        "/authapp/api/v1/sign-requests",
        json={
            "title": "口座開設申込書",
            "digests": [hashlib.sha256(PDF).hexdigest()],
            "return_url": "https://broker.example/signed",
        },
        headers={"Authorization": f"Bearer {business.sign_token()}"},
    )
    assert created.status_code == 201, created.text
    transaction = created.json()["id"]
    sign_path = f"/authapp/sign/{transaction}"
    assert a.client.get(sign_path).status_code == 200
    started = a.client.post(sign_path, data={"csrf_token": a.csrf_token})
    assert started.status_code == 303, started.text
    return consent_path.rsplit("/", 1)[1], transaction, business, other


def _login_challenges(session: Session, world: World) -> dict[str, str]:
    """A card login started in resident A's browser, and one in staff X's: their ids."""
    settings = world.container.settings
    a, x = world.resident_a.client, world.staff_x.client
    resident = cardlogin.start_challenge(
        session=session, settings=settings, session_token=a.cookies[RESIDENT.cookie]
    )
    staff = staff_cards.start_login(
        session=session, settings=settings, session_token=x.cookies[STAFF.cookie]
    )
    session.commit()
    return {RESIDENT.name: resident.challenge_id, STAFF.name: staff.challenge_id}


def _callers_own(session: Session, world: World) -> dict[str, dict[str, str]]:
    """Resident B's notice; 横浜市's staff member, shelter and an application filed there."""
    settings = world.container.settings
    misaki = signer_for(session, settings, "misaki")
    filed = file_application(session, settings, misaki)
    notice = _notice(session, world.resident_b.subject_id, YOKOHAMA_AGENCY)
    counters.ensure_facilities(session=session, municipality_code=YOKOHAMA)
    shelter = counters.shelters_of(session=session, municipality_code=YOKOHAMA)[0]
    session.commit()
    return {
        "/": {
            "receipt_number": filed.receipt_number,
            "staff_id": str(world.staff_y.subject_id),
            "shelter_id": str(shelter.id),
        },
        "/notices/": {"notice_id": str(notice.id)},
    }
