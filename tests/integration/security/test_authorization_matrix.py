"""Another owner's object is refused exactly like one that does not exist.

Every route with a path parameter is listed here: in ``MATRIX`` (a real object of
resident A / 千代田区 is requested by resident B, by 横浜市's staff and by 横浜市's
filing client, and each answer must equal, in status and body shape, the answer for a
random id of the same format), in ``PUBLIC`` (no owner, with the reason), or in
``NOT_IN_MATRIX_YET`` (owned objects this matrix does not build yet). A new route with a
path parameter fails ``test_every_route_with_an_id_is_listed`` until it is placed.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import counters, network, notices, registry
from myna.applications import service as applications
from myna.applications import submission
from myna.partners import consents, organizations
from myna.partners.models import Organization
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.proxy import service as proxy
from tests.integration.applications.filing import file_application, filing_api_headers, signer_for
from tests.integration.security.conftest import YOKOHAMA, World
from tests.integration.security.routes import walk

JSON = {"accept": "application/json"}
CHIYODA = "131016"
CHIYODA_AGENCY = "muni-131016"
RECEIPT = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4})+")
PROCEDURE = "disaster-certificate"
ORGANIZATION = "client-minato-bank"
PDF = b"%PDF-1.7\n" + b"0" * 64

MATRIX = {
    "GET /applications/{receipt}": "resident",
    "GET /applications/{receipt}/application.{extension}": "resident",
    "GET /office/applications/{receipt_number}": "staff",
    "GET /office/applications/{receipt_number}/export.zip": "staff",
    "POST /office/applications/{receipt_number}/status": "staff",
    "POST /office/applications/{receipt_number}/comments": "staff",
    "GET /api/municipality/applications/{receipt_number}": "filing client",
    "POST /api/municipality/applications/{receipt_number}/status": "filing client",
    "GET /office/applications/{receipt_number}/attachments/{attachment_id}": "staff",
    "GET /api/municipality/applications/{receipt_number}/attachments/{attachment_id}": (
        "filing client"
    ),
    "GET /notices/{notice_id}": "resident",
    "POST /notices/{notice_id}/archive": "resident",
    "GET /notices/{notice_id}/attachments/{attachment_id}": "resident",
    "GET /office/counters/shelters/{shelter_id}": "staff",
    "GET /office/counters/shelters/{shelter_id}/card": "staff",
    "POST /office/counters/shelters/{shelter_id}/pin": "staff",
    "POST /office/counters/shelters/{shelter_id}/face": "staff",
    "POST /office/counters/shelters/{shelter_id}/checkins": "staff",
    "GET /office/counters/shelters/{shelter_id}/roster.csv": "staff",
    "GET /office/counters/shelters/{shelter_id}/roster.json": "staff",
    "GET /office/staff/{staff_id}/cards": "staff",
    "POST /office/staff/{staff_id}/cards/challenge": "staff",
    "POST /office/staff/{staff_id}/cards": "staff",
    "POST /proxy/appointments/{appointment_id}/accept": "resident",
    "GET /proxy/appointments/{appointment_id}/revoke": "resident",
    "POST /proxy/appointments/{appointment_id}/revoke": "resident",
    "GET /consents/{consent_id}": "resident",
    "GET /consents/{consent_id}/receipt": "resident",
    "POST /consents/{consent_id}/revoke": "resident",
    "POST /apply/{municipality}/{code}/attachments/{attachment_id}/delete": "resident",
    # An organisation's registration: platform administrators only, not a municipality's.
    "GET /office/partners/{client_id}": "staff",
    "POST /office/partners/{client_id}/review": "staff",
    "POST /office/partners/{client_id}/suspend": "staff",
    "POST /office/partners/{client_id}/resume": "staff",
}

# Routes that act on the caller's own objects only: another's id is answered exactly like
# a missing one, without an error, and the test checks the owner's object is untouched.
CHANGES_NOTHING = {
    "POST /apply/{municipality}/{code}/attachments/{attachment_id}/delete": (
        "a file comes off the caller's own draft; another's id removes nothing"
    ),
}
# Path parameters that name a place, not an object: the same in both requests.
PLACES = frozenset({"municipality", "code"})

PUBLIC = {
    "GET /jpki/ca/{name}.crt": "the CA certificates are published",
    "GET /jpki/crl/{name}.crl": "the CRLs are published",
    "GET /jpki/ocsp/{encoded:path}": "OCSP answers anyone (RFC 6960)",
    "GET /api/jpki/v1/crl/{kind}": "the CRLs, to signed verifier requests",
    "GET /api/jpki/v1/statements/{month}": "a verifier's own statement, by its signed request",
    "GET /transparency/tree-heads/{tree_size}": "the exchange log is public",
    "GET /transparency/tree-heads/{tree_size}/cosignatures": "the exchange log is public",
    "GET /exchanges/{index}/proof.json": "inclusion proofs of the public log",
    "GET /vaccination/issuers/{municipality_code}/.well-known/jwks.json": "issuer keys",
    "GET /stats/{table}.csv": "the usage statistics are open data",
    "GET /api/kiosk/v1/sessions/{session_id}": (
        "a kiosk session: its id is an unguessable capability of the kiosk that opened it, "
        "and only the card that answered its nonce is served (tests/integration/certificates)"
    ),
    "DELETE /api/kiosk/v1/sessions/{session_id}": (
        "a kiosk session: its id is an unguessable capability of the kiosk that opened it, "
        "and only the card that answered its nonce is served (tests/integration/certificates)"
    ),
    "POST /api/kiosk/v1/sessions/{session_id}/card": (
        "a kiosk session: its id is an unguessable capability of the kiosk that opened it, "
        "and only the card that answered its nonce is served (tests/integration/certificates)"
    ),
    "POST /api/kiosk/v1/sessions/{session_id}/certificates": (
        "a kiosk session: its id is an unguessable capability of the kiosk that opened it, "
        "and only the card that answered its nonce is served (tests/integration/certificates)"
    ),
    "GET /services/{municipality}/{code}": "the procedure catalog is public",
    "GET /api/services/{municipality}/{code}": "the procedure catalog is public",
    "GET /apply/{municipality}/{code}": "a procedure's form, by municipality and code",
    "POST /apply/{municipality}/{code}/prefill": "the caller's own draft of a procedure",
    "POST /apply/{municipality}/{code}/attachments": "the caller's own draft of a procedure",
    "POST /apply/{municipality}/{code}/sign": "the caller's own draft of a procedure",
    "POST /apply/{municipality}/{code}/draft": "the caller's own draft of a procedure",
    "POST /apply/{municipality}/{code}/check": "the caller's own draft of a procedure",
    "POST /apply/{municipality}/{code}/lookup": "the caller's own draft of a procedure",
    "GET /tax/{year}": "the caller's own return of a year",
    "POST /tax/{year}/start": "the caller's own return of a year",
    "GET /tax/{year}/gather": "the caller's own return of a year",
    "POST /tax/{year}/gather": "the caller's own return of a year",
    "POST /tax/{year}/fields/{field_id}": "a field of the caller's own return",
    "POST /tax/{year}/self-medication": "the caller's own return of a year",
    "POST /tax/{year}/medical-choice": "the caller's own return of a year",
    "GET /tax/{year}/corrections": "the caller's own return of a year",
    "POST /tax/{year}/sign": "the caller's own return of a year",
    "GET /tax/{year}/return.pdf": "the caller's own return of a year",
    "GET /tax/{year}/return.xml": "the caller's own return of a year",
    "GET /tax/{year}/signed.{extension}": "the caller's own return of a year",
    "GET /vaccination/certificates/{slug}": "a kind of certificate, of the caller's own record",
    "GET /api/login/challenges/{challenge_id}": "a login challenge: 128 random bits, no owner yet",
    "POST /api/login/challenges/{challenge_id}/response": "answered with a card's signature",
    "GET /login/qr/{challenge_id}.svg": "the QR of a challenge bound to this browser's session",
    "GET /login/status/{challenge_id}": "a challenge bound to this browser's session",
    "GET /office/login/card/qr/{challenge_id}.svg": "a challenge bound to this session",
    "GET /office/login/card/status/{challenge_id}": "a challenge bound to this session",
    "GET /api/signing-requests/{request_id}": "a signing request: 128 random bits, read by "
    "the card reader, answered only with the resident's card",
    "POST /api/signing-requests/{request_id}/response": "answered with the card's signature",
}

NOT_IN_MATRIX_YET = {
    "GET /api/phone/issuances/{issuance_id}",
    "POST /api/phone/issuances/{issuance_id}/keys",
    "GET /latest-info-consents/{consent_id}/withdraw",
    "POST /latest-info-consents/{consent_id}/withdraw",
    "GET /apply/sign/{request_id}",
    "GET /apply/sign/{request_id}/qr.svg",
    "GET /apply/sign/{request_id}/status",
    "POST /delivery/year-end-adjustment/{handover_id}/withdraw",
    "GET /delivery/{delivery_id}",
    "GET /delivery/{delivery_id}/original.xml",
    "GET /tax/{year}/sign/{request_id}",
    "GET /consent/{pending_id}",
    "POST /consent/{pending_id}",
    "GET /api/delivery/v1/documents/{document_id}",
    "GET /api/delivery/v1/year-end-adjustment/{handover_id}",
    "GET /authapp/api/v1/sign-requests/{request_id}",
    "GET /authapp/consent/{authorization_id}",
    "POST /authapp/consent/{authorization_id}",
    "POST /authapp/consent/{authorization_id}/sign",
    "GET /authapp/consent/{authorization_id}/signing",
    "GET /authapp/sign/{request_id}",
    "POST /authapp/sign/{request_id}",
    "GET /authapp/sign/{request_id}/signing",
    "GET /office/moves/{move_id}",
    "POST /office/moves/{move_id}/complete",
    "GET /office/corrections/{correction_id}",
    "GET /office/corrections/{correction_id}/evidence",
    "POST /office/corrections/{correction_id}/answer",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}/status",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}/qr.svg",
    "POST /office/staff/{staff_id}/cards/{card_id}/remove",
    "POST /office/counters/shelters/{shelter_id}/checkins/{checkin_id}/checkout",
}


def test_every_route_with_an_id_is_listed(world: World) -> None:
    with_ids = {route.key for route in walk(world.app) if "{" in route.path}
    listed = set(MATRIX) | set(PUBLIC) | NOT_IN_MATRIX_YET
    assert with_ids - listed == set(), "place each new route in the matrix or an allow-list"
    assert listed - with_ids == set(), "listed routes that no longer exist"
    assert not set(MATRIX) & set(PUBLIC) and not (set(MATRIX) | set(PUBLIC)) & NOT_IN_MATRIX_YET
    assert set(CHANGES_NOTHING) <= set(MATRIX)


def _shape(response: httpx.Response) -> tuple[int, Any]:
    """What a refusal shows: its status and its body's keys and error code (not wording)."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.headers.get("content-type")
    if isinstance(body, dict):
        return response.status_code, (sorted(body), body.get("error"))
    return response.status_code, type(body).__name__


def _random_like(value: str) -> str:
    """An id of the same format that names nothing: a receipt number's digits redrawn, a
    row id far above any this test creates, a random token of the same length."""
    if value.isdigit() and len(value) < 9:
        return str(2**30 + secrets.randbelow(2**30))
    if not RECEIPT.fullmatch(value):
        return secrets.token_urlsafe(len(value))[: len(value)]
    digits = iter(secrets.choice("0123456789") for _ in value)
    return "".join(next(digits) if c.isdigit() else c for c in value)


def _owned(session: Session, world: World) -> dict[str, dict[str, str]]:
    """Resident A's and 千代田区's objects, as the path parameters that name them.

    Keyed by path prefix: an ``attachment_id`` is an application's under the office and
    the filing API, a notice's under /notices.
    """
    settings = world.container.settings
    taro = signer_for(session, settings, "taro")
    submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code=PROCEDURE,
        name="写真.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    application = file_application(session, settings, taro)
    (file,) = applications.attachments(session=session, application_id=application.id)
    draft = submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code=PROCEDURE,
        name="下書き.pdf",
        media_type="application/pdf",
        data=PDF,
    )
    code = network.link_code_for_resident(
        session=session, resident_id=world.resident_a.subject_id, agency_code=CHIYODA_AGENCY
    )
    notice = notices.send_notice(
        session=session,
        sender=CHIYODA_AGENCY,
        audience=notices.ToResident(code),
        content=notices.NoticeCreate.model_validate(
            {
                "title": "太郎さんへ",
                "body": "本文です。",
                "category": notices.Category.PROCEDURE,
                "attachments": [{"name": "案内.pdf", "media_type": "application/pdf", "data": PDF}],
            }
        ),
    )
    # Resident A appoints 花子 as a proxy (pending her acceptance): B is neither.
    hanako = registry.ensure_personas(session=session)["hanako"]
    proxy_code, _ = proxy.issue_code(session=session, resident_id=hanako.id)
    appointment = proxy.appoint(
        session=session,
        principal_id=world.resident_a.subject_id,
        code=proxy_code,
        scopes=frozenset({proxy.Scope.NOTICES}),
        until=today_in_japan() + timedelta(days=30),
    )
    consent = _consent(session, world)
    counters.ensure_facilities(session=session, municipality_code=CHIYODA)
    shelter = counters.shelters_of(session=session, municipality_code=CHIYODA)[0]
    session.commit()
    receipt = application.receipt_number
    return {
        "/": {
            "receipt": receipt,
            "receipt_number": receipt,
            "attachment_id": str(file.id),
            "shelter_id": str(shelter.id),
            "staff_id": str(world.staff_x.subject_id),
            "appointment_id": str(appointment.appointment.id),
            "consent_id": consent,
            "client_id": ORGANIZATION,
        },
        "/apply/": {
            "municipality": CHIYODA,
            "code": PROCEDURE,
            "attachment_id": str(draft.id),
        },
        "/notices/": {
            "notice_id": str(notice.id),
            "attachment_id": str(notice.attachments[0].id),
        },
    }


def _consent(session: Session, world: World) -> str:
    """Resident A's consent to an approved organisation, with its signed receipt."""
    session.add(
        Organization(
            client_id=ORGANIZATION,
            name="みなと銀行",
            purpose="住宅ローンの審査",
            contact="api@minato-bank.example",
            retention="審査終了後1年",
            status="approved",
            redirect_uris=["https://minato-bank.example/callback"],
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
        settings=world.container.settings,
        resident_id=world.resident_a.subject_id,
        client=organizations.get_client(session=session, client_id=ORGANIZATION),
        scopes=["openid", "name"],
        chosen=["name:name"],
    )
    return given.id


def _values(owned: dict[str, dict[str, str]], path: str) -> dict[str, str]:
    values = dict(owned["/"])
    for prefix, more in owned.items():
        if path.startswith(prefix):
            values.update(more)
    return values


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    path = path.replace("{extension}", "pdf")
    assert "{" not in path, f"no object for {path}"
    return path


def _request(client: TestClient, key: str, path: str, **kwargs: Any) -> httpx.Response:
    method = key.split(" ", 1)[0]
    return client.request(method, path, **kwargs)


def test_another_owner_gets_what_a_missing_id_gets(world: World, session: Session) -> None:
    owned = _owned(session, world)
    filing_client = TestClient(world.app, base_url="http://testserver")
    filing = filing_api_headers(filing_client, session, YOKOHAMA)
    callers = {
        "resident": (world.resident_b.client, world.resident_b.csrf_token, {}),
        "staff": (world.staff_y.client, world.staff_y.csrf_token, {}),
        "filing client": (filing_client, "", filing),
    }
    failures = []
    for key, kind in MATRIX.items():
        client, csrf, headers = callers[kind]
        path_of = key.split(" ", 1)[1]
        values = _values(owned, path_of)
        missing = {
            name: value if name in PLACES else _random_like(value) for name, value in values.items()
        }
        assert missing != values
        data = {"csrf_token": csrf, "status": "accepted", "note": "x", "comment": "x"}
        answers = []
        for chosen in (values, missing):
            kwargs: dict[str, Any] = {"headers": {**JSON, **headers}}
            if key.startswith("POST"):
                kwargs["data" if kind != "filing client" else "json"] = data
            answers.append(_request(client, key, _fill(path_of, chosen), **kwargs))
        theirs, absent = answers
        refused = theirs.status_code >= 400 or key in CHANGES_NOTHING
        if not refused or _shape(theirs) != _shape(absent):
            failures.append(f"{key} as {kind}: {_shape(theirs)} vs {_shape(absent)}")
    filing_client.close()
    assert failures == [], "\n".join(failures)
    drafted = _values(owned, "/apply/")
    still = submission.draft_attachments(
        session=session,
        resident_id=world.resident_a.subject_id,
        municipality_code=CHIYODA,
        code=PROCEDURE,
    )
    assert [str(a.id) for a in still] == [drafted["attachment_id"]]
    # The owners still reach them: the refusals are about the caller, not a broken route.
    mine = _values(owned, "/")
    notice = _values(owned, "/notices/")
    assert world.resident_a.client.get(f"/applications/{mine['receipt']}").status_code == 200
    assert world.resident_a.client.get(f"/notices/{notice['notice_id']}").status_code == 200
    assert world.resident_a.client.get(f"/consents/{mine['consent_id']}").status_code == 200
    for path in (
        f"/office/applications/{mine['receipt']}",
        f"/office/counters/shelters/{mine['shelter_id']}",
        f"/office/staff/{mine['staff_id']}/cards",
    ):
        assert world.staff_x.client.get(path).status_code == 200, path
