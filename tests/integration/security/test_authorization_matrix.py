"""Another owner's object is refused exactly like one that does not exist.

Every route with a path parameter is listed here: in ``MATRIX`` or in ``PUBLIC`` (no
owner, with the reason). A new route with a path parameter fails
``test_every_route_with_an_id_is_listed`` until it is placed.

For each route of ``MATRIX``, a real object of resident A / 千代田区 (built in
:mod:`tests.integration.security.owned`) is requested by whoever of its kind does not own
it — resident B, 横浜市's staff, 横浜市's filing client, a delivery sender, a business of
the authentication app — and the answer must be a refusal equal, in status and body
shape, to the answer for a random id of the same format: nothing tells that the object
exists. Where the route names a container the caller may hold one of too (an
application, a notice, a shelter, a staff member), it is tried again inside the caller's
own. The same request by the object's owner must then get another answer than the random
id's, so no refusal is about a malformed request rather than about the object. And an id
that cannot be one — a huge number, a negative one, a long or non-ASCII string — is a
clean refusal (404 or 422), never a server error.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import registry
from myna.applications import submission
from myna.delivery.identity import SenderIdentity
from myna.office import service as office
from myna.platform.sessions import RESIDENT, STAFF
from tests.integration.applications.filing import filing_api_headers
from tests.integration.security.conftest import CHIYODA, YOKOHAMA, World, new_staff
from tests.integration.security.owned import build
from tests.integration.security.routes import walk

JSON = {"accept": "application/json"}
RECEIPT = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4})+")
HEX = re.compile(r"[0-9a-f]+")
# What a page says about itself: its title, headings and alerts (not its links or forms,
# which carry the path asked for and the session's token).
PAGE_TEXT = re.compile(r'<(?:title|h1|h2)[^>]*>(.*?)</|role="alert"[^>]*>(.*?)</', re.S)
B64 = "A" * 24  # base64url, long enough for any field of the phone's keys

# Route → the kind of caller that tries it: "resident", "staff", "filing client",
# "sender" (a delivery sender's signed request), "business" (the authentication app's).
# An object's routes that change it come after those that read it: the owners' pass
# (see the test) goes through them in this order.
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
    "GET /apply/sign/{request_id}": "resident",
    "GET /apply/sign/{request_id}/qr.svg": "resident",
    "GET /apply/sign/{request_id}/status": "resident",
    "POST /apply/{municipality}/{code}/attachments/{attachment_id}/delete": "resident",
    "GET /tax/{year}/sign/{request_id}": "resident",
    "GET /notices/{notice_id}": "resident",
    "GET /notices/{notice_id}/attachments/{attachment_id}": "resident",
    "POST /notices/{notice_id}/archive": "resident",
    "GET /api/phone/issuances/{issuance_id}": "resident",
    "POST /api/phone/issuances/{issuance_id}/keys": "resident",
    "GET /latest-info-consents/{consent_id}/withdraw": "resident",
    "POST /latest-info-consents/{consent_id}/withdraw": "resident",
    "GET /delivery/{delivery_id}": "resident",
    "GET /delivery/{delivery_id}/original.xml": "resident",
    "GET /api/delivery/v1/documents/{document_id}": "sender",
    "GET /api/delivery/v1/year-end-adjustment/{handover_id}": "sender",
    "POST /delivery/year-end-adjustment/{handover_id}/withdraw": "resident",
    "GET /proxy/appointments/{appointment_id}/revoke": "resident",
    "POST /proxy/appointments/{appointment_id}/accept": "resident",
    "POST /proxy/appointments/{appointment_id}/revoke": "resident",
    "GET /consents/{consent_id}": "resident",
    "GET /consents/{consent_id}/receipt": "resident",
    "POST /consents/{consent_id}/revoke": "resident",
    "GET /consent/{pending_id}": "resident",
    "POST /consent/{pending_id}": "resident",
    "GET /authapp/consent/{authorization_id}": "resident",
    "POST /authapp/consent/{authorization_id}/sign": "resident",
    "GET /authapp/consent/{authorization_id}/signing": "resident",
    "POST /authapp/consent/{authorization_id}": "resident",
    "GET /authapp/api/v1/sign-requests/{request_id}": "business",
    "GET /authapp/sign/{request_id}": "resident",
    "POST /authapp/sign/{request_id}": "resident",
    "GET /authapp/sign/{request_id}/signing": "resident",
    "GET /office/counters/shelters/{shelter_id}": "staff",
    "GET /office/counters/shelters/{shelter_id}/card": "staff",
    "POST /office/counters/shelters/{shelter_id}/pin": "staff",
    "POST /office/counters/shelters/{shelter_id}/face": "staff",
    "POST /office/counters/shelters/{shelter_id}/checkins": "staff",
    "GET /office/counters/shelters/{shelter_id}/roster.csv": "staff",
    "GET /office/counters/shelters/{shelter_id}/roster.json": "staff",
    "POST /office/counters/shelters/{shelter_id}/checkins/{checkin_id}/checkout": "staff",
    "GET /office/moves/{move_id}": "staff",
    "POST /office/moves/{move_id}/complete": "staff",
    "GET /office/corrections/{correction_id}": "staff",
    "GET /office/corrections/{correction_id}/evidence": "staff",
    "POST /office/corrections/{correction_id}/answer": "staff",
    # A card login's challenge is the browser session's that started it.
    "GET /login/status/{challenge_id}": "resident",
    "GET /login/qr/{challenge_id}.svg": "resident",
    "GET /office/login/card/status/{challenge_id}": "staff",
    "GET /office/login/card/qr/{challenge_id}.svg": "staff",
    "GET /office/staff/{staff_id}/cards": "staff",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}": "staff",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}/status": "staff",
    "GET /office/staff/{staff_id}/cards/present/{challenge_id}/qr.svg": "staff",
    "POST /office/staff/{staff_id}/cards/challenge": "staff",
    "POST /office/staff/{staff_id}/cards": "staff",
    "POST /office/staff/{staff_id}/cards/{card_id}/remove": "staff",
    # An organisation's registration: platform administrators only, not a municipality's.
    "GET /office/partners/{client_id}": "staff",
    "POST /office/partners/{client_id}/review": "staff",
    "POST /office/partners/{client_id}/suspend": "staff",
    "POST /office/partners/{client_id}/resume": "staff",
}

# What a route takes besides the session's CSRF token, so that its answer is about the
# object and not about a form no page sends (the owners' pass proves it).
FORM = {"status": "under-review", "comment": "x"}
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/phone/issuances/{issuance_id}/keys": {
        "sign_public_key": B64,
        "sign_proof": B64,
        "auth_public_key": B64,
        "auth_proof": B64,
        "registration": {
            "credential_id": B64,
            "client_data_json": B64,
            "attestation_object": B64,
        },
    },
    "POST /api/municipality/applications/{receipt_number}/status": {"status": "under-review"},
    "POST /consent/{pending_id}": {"decision": "refuse"},
    "POST /authapp/consent/{authorization_id}": {"decision": "refuse"},
    "POST /office/counters/shelters/{shelter_id}/pin": {"card_id": "no-such-card", "pin": "0000"},
    "POST /office/counters/shelters/{shelter_id}/face": {
        "card_id": "no-such-card",
        "face_matches": "yes",
    },
    "POST /office/counters/shelters/{shelter_id}/checkins": {"token": "no-such-presentation"},
    "POST /office/staff/{staff_id}/cards": {"challenge_id": "no-such-challenge"},
}
# The routes whose body is JSON (the others take a form).
JSON_BODIES = frozenset(
    {
        "POST /api/phone/issuances/{issuance_id}/keys",
        "POST /api/municipality/applications/{receipt_number}/status",
    }
)

# Routes that act on the caller's own objects only: another's id is answered exactly like
# a missing one, without an error, and the test checks the owner's object is untouched.
CHANGES_NOTHING = {
    "POST /apply/{municipality}/{code}/attachments/{attachment_id}/delete": (
        "a file comes off the caller's own draft; another's id removes nothing"
    ),
}
# Path parameters that name a place or a year, not an object: the same in both requests.
PLACES = frozenset({"municipality", "code", "year"})
# Path parameters that name a container the caller may hold one of too: a route naming
# one and another object is tried once more with the caller's own container, as a
# caller who knows (or guesses) the other's object id would.
CONTAINERS = frozenset({"receipt_number", "notice_id", "shelter_id", "staff_id"})
# Who uses a route where that is not the object's holder of the route's kind.
USED_BY = {
    "POST /proxy/appointments/{appointment_id}/accept": "the proxy A appointed",
    "GET /office/partners/{client_id}": "a platform administrator",
    "POST /office/partners/{client_id}/review": "a platform administrator",
    "POST /office/partners/{client_id}/suspend": "a platform administrator",
    "POST /office/partners/{client_id}/resume": "a platform administrator",
}

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
    "GET /api/signing-requests/{request_id}": "a signing request: 128 random bits, read by "
    "the card reader, answered only with the resident's card",
    "POST /api/signing-requests/{request_id}/response": "answered with the card's signature",
}


def test_every_route_with_an_id_is_listed(world: World) -> None:
    with_ids = {route.key for route in walk(world.app) if "{" in route.path}
    listed = set(MATRIX) | set(PUBLIC)
    assert with_ids - listed == set(), "place each new route in the matrix or an allow-list"
    assert listed - with_ids == set(), "listed routes that no longer exist"
    assert not set(MATRIX) & set(PUBLIC)
    assert set(CHANGES_NOTHING) | set(USED_BY) | set(BODIES) <= set(MATRIX)
    assert JSON_BODIES.issubset(BODIES)


def _shape(response: httpx.Response) -> tuple[int, Any]:
    """What a refusal shows: its status and its body's keys and error code (not wording);
    of a page, its title, headings and alerts."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type")
        if kind is None or not kind.startswith("text/html"):
            return response.status_code, kind
        return response.status_code, (kind, *PAGE_TEXT.findall(response.text))
    if isinstance(body, dict):
        return response.status_code, (sorted(body), body.get("error"))
    return response.status_code, type(body).__name__


def _redrawn(c: str) -> str:
    for alphabet in (string.digits, string.ascii_uppercase, string.ascii_lowercase):
        if c in alphabet:
            return secrets.choice(alphabet)
    return c


def _random_like(value: str) -> str:
    """An id of the same format that names nothing: a row id far above any this test
    creates, a receipt number's digits redrawn, hex for hex, else each letter and digit
    redrawn in its class (a token, a document number)."""
    if value.isdigit() and len(value) < 9:
        return str(2**30 + secrets.randbelow(2**30))
    if RECEIPT.fullmatch(value):
        return "".join(secrets.choice(string.digits) if c.isdigit() else c for c in value)
    if HEX.fullmatch(value):
        return secrets.token_hex(len(value))[: len(value)]
    return "".join(_redrawn(c) for c in value)


def _path(key: str) -> str:
    return key.split(" ", 1)[1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    path = path.replace("{extension}", "json")
    assert "{" not in path, f"no object for {path}"
    return path


@dataclass
class Party:
    """Who asks: a browser with its session's CSRF token, or an API client with its
    credential (a bearer token, or a delivery sender's key signing each request)."""

    client: TestClient
    csrf_token: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    sender: SenderIdentity | None = None

    def ask(self, key: str, values: dict[str, str]) -> httpx.Response:
        method, path = key.split(" ", 1)
        headers = {**JSON, **self.headers}
        if self.sender is not None:
            signed = (
                self.sender.receipt_request(values["document_id"])
                if "{document_id}" in key
                else self.sender.collect_request(values["handover_id"])
            )
            headers["authorization"] = f"JWS {signed}"
        kwargs: dict[str, Any] = {"headers": headers}
        if method == "POST" and key in JSON_BODIES:
            kwargs["json"] = BODIES[key]
        elif method == "POST":
            kwargs["data"] = {"csrf_token": self.csrf_token, **FORM, **BODIES.get(key, {})}
        return self.client.request(method, _fill(path, values), **kwargs)


def _browser(caller: Any) -> Party:
    return Party(caller.client, caller.csrf_token)


def test_another_owner_gets_what_a_missing_id_gets(world: World, session: Session) -> None:
    api = world.client()
    owned = build(session, world, api)
    others = {
        "resident": _browser(world.resident_b),
        "staff": _browser(world.staff_y),
        "filing client": Party(api, headers=filing_api_headers(api, session, YOKOHAMA)),
        "sender": Party(api, sender=owned.other_employer),
        "business": Party(api, headers=_bearer(owned.other_business.sign_token())),
    }
    failures, missing_shapes = [], {}
    for key, kind in MATRIX.items():
        values = owned.of(_path(key))
        missing = {
            name: value if name in PLACES else _random_like(value) for name, value in values.items()
        }
        assert missing != values
        tries = [("", values, missing)]
        named = set(re.findall(r"\{(\w+)\}", _path(key)))
        own = {k: v for k, v in owned.theirs(_path(key)).items() if k in named}
        if own and named - PLACES - CONTAINERS - {"extension"}:
            tries.append((" in their own", {**values, **own}, {**missing, **own}))
        for where, real, unknown in tries:
            theirs = others[kind].ask(key, real)
            absent = others[kind].ask(key, unknown)
            missing_shapes.setdefault(key, _shape(absent))
            refused = theirs.status_code >= 400 or key in CHANGES_NOTHING
            if not refused or _shape(theirs) != _shape(absent):
                failures.append(f"{key} as {kind}{where}: {_shape(theirs)} vs {_shape(absent)}")
    assert failures == [], "\n".join(failures)
    drafted = owned.of("/apply/")
    still = submission.draft_attachments(
        session=session,
        resident_id=world.resident_a.subject_id,
        municipality_code=CHIYODA,
        code=drafted["code"],
    )
    assert [str(a.id) for a in still] == [drafted["attachment_id"]]
    # The owners reach them with the same requests: the refusals are about the caller.
    owners = {
        **_owners(world, session, api),
        "business": Party(api, headers=_bearer(owned.business.sign_token())),
    }
    for key, kind in MATRIX.items():
        if key in CHANGES_NOTHING:
            continue
        if kind == "sender":  # the sender that delivered the document, the employer
            owner = Party(api, sender=owned.insurer if "{document_id}" in key else owned.employer)
        else:
            owner = owners[USED_BY.get(key, kind)]
        mine = owner.ask(key, owned.of(_path(key)))
        if _shape(mine) == missing_shapes[key]:
            failures.append(f"{key}: its owner is refused too {_shape(mine)}")
    assert failures == [], "\n".join(failures)


def _owners(world: World, session: Session, api: TestClient) -> dict[str, Party]:
    """The owner of each kind: resident A, 千代田区's staff and filing client; and those who
    use a route without holding its object."""
    settings = world.container.settings
    hanako = world.log_in(
        session, RESIDENT.name, registry.ensure_personas(session=session)["hanako"].id
    )
    platform = world.log_in(
        session,
        STAFF.name,
        new_staff(session, settings, CHIYODA, "attack-platform", office.StaffRole.PLATFORM_ADMIN),
    )
    session.commit()
    return {
        "resident": _browser(world.resident_a),
        "staff": _browser(world.staff_x),
        "filing client": Party(api, headers=filing_api_headers(api, session, CHIYODA)),
        "the proxy A appointed": _browser(hanako),
        "a platform administrator": _browser(platform),
    }


def _clean(refusal: httpx.Response) -> bool:
    """The app's common error (JSON, or its page), or an empty 404 (an image's)."""
    kind = refusal.headers.get("content-type", "")
    if kind.startswith("application/json"):
        return {"error", "message"} <= set(refusal.json())
    return kind.startswith("text/html") or (refusal.status_code == 404 and not refusal.content)


MALFORMED = ("9" * 30, "-1", "0", "x" * 300, "%E3%81%82" * 8, "a.b")


def test_a_malformed_id_is_a_clean_refusal(world: World, session: Session) -> None:
    api = world.client()
    # The routes' own users, so that no role check comes before the id's; the sender and
    # the business without their signed request or token: the id is checked first, or
    # the request is refused as unsigned (401) before anything is looked up.
    callers = {**_owners(world, session, api), "sender": Party(api), "business": Party(api)}
    unclean = []
    for key, kind in MATRIX.items():
        named = set(re.findall(r"\{(\w+)\}", _path(key))) - PLACES - {"extension"}
        fixed = {"municipality": CHIYODA, "code": "disaster-certificate", "year": "2025"}
        for bad in MALFORMED:
            caller = callers[USED_BY.get(key, kind)]
            answer = caller.ask(key, {**fixed, **dict.fromkeys(named, bad)})
            expected = (401, 404, 422) if kind in ("sender", "business") else (404, 422)
            if answer.status_code not in expected or not _clean(answer):
                unclean.append(f"{key} [{bad[:12]}]: {answer.status_code} {answer.text[:80]!r}")
    assert unclean == [], "\n".join(unclean)
