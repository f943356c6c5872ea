"""The JPKI verifier API over HTTP: statuses by batch, every refusal, fees and statements."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import jpki
from myna.app import create_app
from myna.bootstrap import Container
from myna.jpki import verifiers
from myna.jpki.models import VerifierUsage
from myna.jpki.verifier_domain import BillingMonth, InvalidPlatformError, VerifierExistsError
from myna.jpki.verifier_identity import VerifierIdentity
from myna.platform.ratelimit import RateLimiter
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import IssueFn

API = "/api/jpki/v1"
JOSE = {"content-type": "application/jose"}
SIGN = jpki.CertificateKind.SIGN
AUTH = jpki.CertificateKind.AUTH


def register(
    session: Session,
    settings: Settings,
    code: str,
    kind: str,
    *,
    name: str | None = None,
    platform: str | None = None,
) -> VerifierIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = verifiers.register_verifier(
        session=session,
        settings=settings,
        code=code,
        name=name or f"{code} 株式会社",
        kind=kind,
        platform=platform,
        public_key=key.public_key(),
    )
    return VerifierIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        platform=found.platform,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )


def hex_serial(certificate: x509.Certificate) -> str:
    return f"{certificate.serial_number:x}"


def sign_raw(identity: VerifierIdentity, payload: bytes) -> str:
    """Sign any bytes as ``identity`` (what a careless or hostile client could send)."""
    der = identity.certificate.public_bytes(serialization.Encoding.DER)
    header = {
        "alg": "ES256",
        "kid": identity.organization_code,
        "x5c": [base64.b64encode(der).decode("ascii")],
    }
    return jws.serialize_compact(header, payload, ECKey.import_key(identity.private_key))


@dataclass
class World:
    """Verifiers of each kind, a platform and its provider, card certificates, the portal."""

    api: TestClient
    session: Session
    container: Container
    bank: VerifierIdentity  # both kinds
    notary: VerifierIdentity  # signing certificates only
    shop: VerifierIdentity  # user-authentication certificates only
    platform: VerifierIdentity  # a platform operator (both)
    provider: VerifierIdentity  # a service provider under it (signing)
    sign_good: x509.Certificate
    sign_revoked: x509.Certificate
    auth_good: x509.Certificate

    def status(self, token: str, *, headers: dict[str, str] | None = None) -> Any:
        self.session.commit()
        return self.api.post(f"{API}/status", content=token, headers={**JOSE, **(headers or {})})

    def ask(self, who: VerifierIdentity, kind: str, serials: list[object]) -> Any:
        return self.status(who.status_request(kind, serials))

    def statement(self, who: VerifierIdentity, month: str, *, token: str | None = None) -> Any:
        self.session.commit()
        signed = token if token is not None else who.statement_request(month)
        return self.api.get(f"{API}/statements/{month}", headers={"authorization": f"JWS {signed}"})

    def crl(self, who: VerifierIdentity, kind: str) -> Any:
        self.session.commit()
        return self.api.get(
            f"{API}/crl/{kind}", headers={"authorization": f"JWS {who.crl_request(kind)}"}
        )

    def settle(self, **changes: object) -> None:
        """Change the deployment's settings (fees, limits) from now on."""
        self.container.settings = self.container.settings.model_copy(update=changes)


@pytest.fixture
def world(
    session: Session, settings: Settings, container: Container, issue: IssueFn
) -> Iterator[World]:
    bank = register(session, settings, "mirai-bank", "both", name="みらい銀行株式会社")
    notary = register(session, settings, "denshi-keiyaku", "signature")
    shop = register(session, settings, "kaden-shop", "authentication")
    platform = register(session, settings, "pf-ninsho", "both", name="ぴーえふ認証株式会社")
    provider = register(session, settings, "chiisana-shoken", "signature", platform="pf-ninsho")
    sign_good = issue(SIGN, holder_id=1, card_id="card-a")
    sign_revoked = issue(SIGN, holder_id=2, card_id="card-b")
    auth_good = issue(AUTH, holder_id=1, card_id="card-a")
    jpki.revoke_certificate(
        session=session, serial=sign_revoked.serial_number, reason=jpki.RevocationReason.LOSS
    )
    session.commit()
    with TestClient(create_app(container), base_url="http://testserver") as api:
        yield World(
            api,
            session,
            container,
            bank,
            notary,
            shop,
            platform,
            provider,
            sign_good,
            sign_revoked,
            auth_good,
        )


def refused(response: Any, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert words in body["message"]


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _this_month() -> str:
    return str(BillingMonth.of(datetime.now(UTC)))


# --- answers ------------------------------------------------------------------------


def test_a_batch_is_answered_item_by_item_as_of_the_crl_it_names(world: World) -> None:
    unknown = "7" * 40
    response = world.ask(
        world.bank,
        "sign",
        [hex_serial(world.sign_good), hex_serial(world.sign_revoked), unknown],
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verifier"] == "mirai-bank"
    assert answer["certificate_kind"] == "sign"
    good, revoked, missing = answer["items"]
    assert (good["index"], good["serial"], good["status"]) == (
        0,
        hex_serial(world.sign_good),
        "good",
    )
    assert good["not_after"] is not None and good["reason"] is None
    assert revoked["status"] == "revoked"
    assert (revoked["reason"], revoked["crl_reason"]) == ("loss", "keyCompromise")
    assert revoked["revoked_at"] is not None
    assert missing == {**missing, "status": "unknown", "serial": unknown, "not_after": None}
    # The CRL named is the one published: the same number, time and revoked entry.
    published = x509.load_der_x509_crl(world.api.get("/jpki/crl/sign.crl").content)
    assert answer["crl_number"] == _crl_number(published)
    assert datetime.fromisoformat(answer["crl_this_update"]) == published.last_update_utc
    entry = published.get_revoked_certificate_by_serial_number(world.sign_revoked.serial_number)
    assert entry is not None
    assert datetime.fromisoformat(revoked["revoked_at"]) == entry.revocation_date_utc
    assert published.get_revoked_certificate_by_serial_number(world.sign_good.serial_number) is None
    # Good and revoked are billed; unknown is not.
    assert (answer["billed_items"], answer["unit_price_yen"], answer["amount_yen"]) == (2, 20, 40)


def test_a_revocation_shows_in_the_next_answer_with_a_newer_crl(world: World) -> None:
    serial = hex_serial(world.sign_good)
    before = world.ask(world.notary, "sign", [serial]).json()
    assert before["items"][0]["status"] == "good"
    jpki.revoke_certificate(
        session=world.session,
        serial=world.sign_good.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    after = world.ask(world.notary, "sign", [serial]).json()
    assert after["items"][0]["status"] == "revoked"
    assert after["items"][0]["crl_reason"] == "affiliationChanged"
    assert after["crl_number"] > before["crl_number"]


def test_serials_are_read_in_any_case_and_with_leading_zeros(world: World) -> None:
    serial = hex_serial(world.sign_good)
    answer = world.ask(world.bank, "sign", [serial.upper().rjust(40, "0")]).json()
    assert answer["items"][0]["status"] == "good"


def test_a_serial_of_the_other_ca_is_unknown_to_a_question_about_this_one(world: World) -> None:
    answer = world.ask(world.bank, "sign", [hex_serial(world.auth_good)]).json()
    assert answer["items"][0]["status"] == "unknown"
    asked_auth = world.ask(world.bank, "auth", [hex_serial(world.auth_good)]).json()
    assert asked_auth["items"][0]["status"] == "good"
    assert asked_auth["unit_price_yen"] == 2  # the 利用者証明用 tariff


def test_garbage_serials_are_answered_per_item_and_not_billed(world: World) -> None:
    good = hex_serial(world.sign_good)
    sent: list[object] = [
        good,
        "zz-not-hex",
        12345,
        None,
        "",
        "0",
        "000",
        "f" * 41,
        "e" * 1000,
        good.upper(),  # the same serial again
        {"serial": good},
    ]
    response = world.ask(world.bank, "sign", sent)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["index"] for item in items] == list(range(len(sent)))
    assert [(item["status"], item["problem"]) for item in items] == [
        ("good", None),
        ("invalid", "not_hex"),
        ("invalid", "not_a_string"),
        ("invalid", "not_a_string"),
        ("invalid", "not_hex"),
        ("invalid", "zero"),
        ("invalid", "zero"),
        ("invalid", "too_long"),
        ("invalid", "too_long"),
        ("invalid", "duplicate"),
        ("invalid", "not_a_string"),
    ]
    assert items[8]["serial"] is None  # a long string is not echoed back
    assert items[9]["serial"] == good.upper()
    assert response.json()["billed_items"] == 1


def test_a_batch_over_the_limit_is_refused_whole(world: World) -> None:
    world.settle(jpki_status_max_serials=3)
    serials = [hex_serial(world.sign_good), "1", "2"]
    assert world.ask(world.bank, "sign", serials).status_code == 200
    refused(world.ask(world.bank, "sign", [*serials, "3"]), 413, "too_many_serials", "3")
    assert world.ask(world.bank, "sign", []).json()["error"] == "malformed_request"
    refused(
        world.status(world.bank.request("status", certificate_kind="sign", serials="abc")),
        400,
        "malformed_request",
        "serials",
    )


def test_a_body_larger_than_any_batch_or_of_another_type_is_refused(world: World) -> None:
    world.settle(jpki_status_max_serials=10)
    huge = world.bank.status_request("sign", ["a" * 40] * 2000)
    refused(world.status(huge), 413, "request_too_large")
    response = world.api.post(
        f"{API}/status",
        content=world.bank.status_request("sign", ["1"]),
        headers={"content-type": "application/json"},
    )
    refused(response, 415, "unsupported_media_type")
    refused(world.status(""), 401, "unsigned_message")
    refused(world.status("not.a.jws"), 400, "malformed_message")


# --- who may ask ----------------------------------------------------------------------


def test_a_verifier_is_held_to_the_kind_it_was_approved_for(world: World) -> None:
    refused(
        world.ask(world.shop, "sign", [hex_serial(world.sign_good)]),
        403,
        "certificate_kind_not_permitted",
        "sign",
    )
    refused(
        world.ask(world.notary, "auth", [hex_serial(world.auth_good)]),
        403,
        "certificate_kind_not_permitted",
    )
    assert world.ask(world.shop, "auth", [hex_serial(world.auth_good)]).status_code == 200
    refused(
        world.status(world.bank.request("status", certificate_kind="organization", serials=["1"])),
        400,
        "malformed_request",
        "certificate_kind",
    )


def test_an_organisation_that_is_not_a_registered_verifier_is_refused(
    world: World, issue_org: IssueFn, org_keys: dict[str, Any]
) -> None:
    # A genuine government-CA certificate naming jv-ghost, but no registration.
    certificate = issue_org("jv-ghost", name="幽霊株式会社")
    ghost = dataclasses.replace(
        world.bank,
        code="ghost",
        organization_code="jv-ghost",
        private_key=org_keys["p256"],
        certificate=certificate,
    )
    refused(
        world.ask(ghost, "sign", [hex_serial(world.sign_good)]),
        403,
        "unregistered_verifier",
        "myna jpki register-verifier",
    )


def test_a_suspended_verifier_is_refused_and_may_be_resumed(world: World) -> None:
    verifiers.suspend_verifier(session=world.session, code="mirai-bank")
    refused(world.ask(world.bank, "sign", ["1"]), 403, "unregistered_verifier")
    verifiers.resume_verifier(session=world.session, code="mirai-bank")
    assert world.ask(world.bank, "sign", ["1"]).status_code == 200


def test_a_suspended_platform_stops_its_service_providers(world: World) -> None:
    assert world.ask(world.provider, "sign", ["1"]).status_code == 200
    verifiers.suspend_verifier(session=world.session, code="pf-ninsho")
    refused(world.ask(world.provider, "sign", ["1"]), 403, "unregistered_verifier")


def test_a_revoked_verifier_certificate_is_refused(world: World) -> None:
    jpki.revoke_certificate(
        session=world.session,
        serial=world.bank.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    refused(
        world.ask(world.bank, "sign", [hex_serial(world.sign_good)]),
        403,
        "verifier_certificate_revoked",
        "失効",
    )


def test_one_verifier_cannot_sign_for_another(world: World) -> None:
    # The notary's key and certificate, naming the bank in the request.
    impostor = dataclasses.replace(
        world.notary, code="mirai-bank", kind="both", name=world.bank.name
    )
    refused(world.ask(impostor, "sign", ["1"]), 403, "verifier_mismatch", "jv-denshi-keiyaku")


def test_a_replayed_request_is_refused(world: World) -> None:
    token = world.bank.status_request("sign", [hex_serial(world.sign_good)])
    assert world.status(token).status_code == 200
    refused(world.status(token), 409, "replayed_message")


def test_a_stale_or_future_request_is_refused(world: World) -> None:
    for skew in (timedelta(minutes=-10), timedelta(minutes=10)):
        token = world.bank.request(
            "status",
            certificate_kind="sign",
            serials=["1"],
            issued_at=(datetime.now(UTC) + skew).isoformat(),
        )
        refused(world.status(token), 400, "stale_message")


def test_absurd_times_and_numbers_are_clear_refusals(world: World) -> None:
    for issued_at in ("99999-01-01T00:00:00+00:00", "2026-12-04T09:00:00", "0", 10**30):
        token = world.bank.request(
            "status", certificate_kind="sign", serials=["1"], issued_at=issued_at
        )
        refused(world.status(token), 400, "malformed_request", "issued_at")
    # An integer of 5,000 digits, where a serial number should be: not even read.
    payload = (
        '{"type":"status","request_id":"r-huge","verifier":"mirai-bank",'
        f'"issued_at":"{datetime.now(UTC).isoformat()}","certificate_kind":"sign",'
        f'"serials":[{"9" * 5000}]}}'
    )
    refused(world.status(sign_raw(world.bank, payload.encode())), 400, "malformed_request")
    # JSON nested deeper than the parser's recursion: refused, not a crash.
    refused(
        world.status(sign_raw(world.bank, b"[" * 20_000 + b"]" * 20_000)), 400, "malformed_request"
    )
    refused(world.status(sign_raw(world.bank, b"\xff\xfe")), 400, "malformed_request")


def test_a_request_made_for_another_endpoint_is_refused(world: World) -> None:
    refused(world.status(world.bank.statement_request("2026-12")), 400, "wrong_message_type")


def test_a_flood_of_requests_gets_a_clear_429(world: World) -> None:
    world.container.rate_limiter = RateLimiter.from_settings(
        world.container.settings.model_copy(update={"jpki_verifier_rate_limit": "2/minute"})
    )
    assert world.status("x").status_code == 401
    assert world.status("x").status_code == 401
    refused(world.status("x"), 429, "rate_limited")


def test_an_english_verifier_gets_english_messages(world: World) -> None:
    response = world.status(
        world.shop.status_request("sign", ["1"]), headers={"accept-language": "en"}
    )
    assert response.status_code == 403
    assert "approved for auth certificates only" in response.json()["message"]


# --- fees and statements --------------------------------------------------------------


def _usage_rows(session: Session, code: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(VerifierUsage)
            .where(VerifierUsage.verifier_code == code)
        )
        or 0
    )


def test_the_statement_counts_each_billed_status_at_the_tariff_of_its_time(world: World) -> None:
    month = _this_month()
    sign = [hex_serial(world.sign_good), hex_serial(world.sign_revoked)]
    world.ask(world.bank, "sign", sign)  # 2 × 20
    world.ask(world.bank, "sign", [*sign, "abc"])  # 2 × 20, the unknown one free
    world.ask(world.bank, "auth", [hex_serial(world.auth_good)])  # 1 × 2
    world.settle(jpki_fee_sign_status_yen=25, jpki_fee_auth_status_yen=3)
    world.ask(world.bank, "sign", sign[:1])  # 1 × 25
    refused(world.ask(world.bank, "sign", ["1"] * 1001), 413, "too_many_serials")  # not billed

    response = world.statement(world.bank, month)
    assert response.status_code == 200, response.text
    statement = response.json()
    assert (statement["verifier"], statement["month"], statement["billed_to"]) == (
        "mirai-bank",
        month,
        "mirai-bank",
    )
    lines = [
        (line["item"], line["unit_price_yen"], line["requests"], line["count"], line["amount_yen"])
        for line in statement["lines"]
    ]
    assert lines == [
        ("auth_status", 2, 1, 1, 2),
        ("sign_status", 20, 2, 4, 80),
        ("sign_status", 25, 1, 1, 25),
    ]
    assert statement["lines"][1]["label"].startswith("署名用電子証明書")
    assert (statement["amount_yen"], statement["total_yen"], statement["final"]) == (
        107,
        107,
        False,
    )
    assert statement["currency"] == "JPY"
    # Asking for a statement costs nothing and changes nothing.
    assert _usage_rows(world.session, "mirai-bank") == 4
    assert world.statement(world.bank, month).json()["total_yen"] == 107


def test_a_refused_request_is_not_billed(world: World) -> None:
    world.ask(world.shop, "sign", [hex_serial(world.sign_good)])
    token = world.bank.status_request("sign", [hex_serial(world.sign_good)])
    world.status(token)
    world.status(token)  # replayed
    assert _usage_rows(world.session, "kaden-shop") == 0
    assert _usage_rows(world.session, "mirai-bank") == 1


def test_a_verifier_never_sees_another_verifiers_statement(world: World) -> None:
    month = _this_month()
    world.ask(world.bank, "sign", [hex_serial(world.sign_good)])
    # The notary signs a statement request naming the bank: refused.
    naming_the_bank = dataclasses.replace(world.notary, code="mirai-bank")
    refused(
        world.statement(world.notary, month, token=naming_the_bank.statement_request(month)),
        403,
        "verifier_mismatch",
    )
    # Its own statement holds its own usage only.
    own = world.statement(world.notary, month).json()
    assert (own["verifier"], own["lines"], own["total_yen"]) == ("denshi-keiyaku", [], 0)
    # The month of the path and of the signed request must agree.
    other_month = world.notary.statement_request("2026-01")
    refused(world.statement(world.notary, month, token=other_month), 400, "malformed_request")


def test_a_platform_statement_carries_its_service_providers(world: World) -> None:
    month = _this_month()
    world.ask(world.provider, "sign", [hex_serial(world.sign_good)])  # 20
    world.ask(world.platform, "auth", [hex_serial(world.auth_good)])  # 2
    platform = world.statement(world.platform, month).json()
    assert platform["amount_yen"] == 2
    assert [(p["code"], p["amount_yen"]) for p in platform["service_providers"]] == [
        ("chiisana-shoken", 20)
    ]
    assert platform["total_yen"] == 22
    provider = world.statement(world.provider, month).json()
    assert (provider["billed_to"], provider["total_yen"], provider["service_providers"]) == (
        "pf-ninsho",
        20,
        [],
    )


def test_absurd_months_are_clear_refusals(world: World) -> None:
    for month in ("2026-13", "2026-00", "1999-12", "2101-01", "99999-01", "2026-1", "abcd-ef"):
        refused(world.statement(world.bank, month), 400, "invalid_month")
    refused(world.statement(world.bank, "9" * 40), 422, "invalid_request")
    token = world.bank.request("statement", month=10**30)
    refused(world.statement(world.bank, "2026-12", token=token), 400, "invalid_month")
    assert world.api.get(f"{API}/statements/2026-12").json()["error"] == "unsigned_message"


def test_a_past_month_is_final(world: World) -> None:
    response = world.statement(world.bank, "2026-01")
    assert response.status_code == 200, response.text
    assert (response.json()["final"], response.json()["lines"]) == (True, [])


# --- CRLs through the verifier API ------------------------------------------------------


def test_a_crl_through_the_api_is_the_public_one_and_free_by_default(world: World) -> None:
    response = world.crl(world.bank, "sign")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pkix-crl"
    assert response.content == world.api.get("/jpki/crl/sign.crl").content
    refused(world.crl(world.shop, "sign"), 403, "certificate_kind_not_permitted")
    mismatched = world.bank.crl_request("auth")
    refused(
        world.api.get(f"{API}/crl/sign", headers={"authorization": f"JWS {mismatched}"}),
        400,
        "malformed_request",
    )
    world.settle(jpki_fee_crl_yen=100)
    assert world.crl(world.bank, "auth").status_code == 200
    lines = world.statement(world.bank, _this_month()).json()["lines"]
    assert [(line["item"], line["unit_price_yen"], line["count"]) for line in lines] == [
        ("crl", 0, 1),
        ("crl", 100, 1),
    ]


# --- registration -----------------------------------------------------------------------


def test_registration_refuses_a_taken_code_and_platforms_that_cannot_take_a_provider(
    world: World,
) -> None:
    session, settings = world.session, world.container.settings
    with pytest.raises(VerifierExistsError):
        register(session, settings, "mirai-bank", "both")
    for platform, kind in (
        ("no-such-platform", "signature"),
        ("chiisana-shoken", "signature"),  # a service provider is no platform
        ("denshi-keiyaku", "both"),  # a platform for signing cannot take authentication
    ):
        with pytest.raises(InvalidPlatformError):
            register(session, settings, f"new-{kind}", kind, platform=platform)
    verifiers.suspend_verifier(session=session, code="pf-ninsho")
    with pytest.raises(InvalidPlatformError):
        register(session, settings, "late-provider", "signature", platform="pf-ninsho")


def test_an_unsigned_crl_or_statement_request_is_refused(world: World) -> None:
    for path in (f"{API}/crl/sign", f"{API}/statements/2026-12"):
        refused(world.api.get(path, headers={"authorization": "Bearer x"}), 401, "unsigned_message")
        refused(world.api.get(path, headers={"authorization": "JWS "}), 401, "unsigned_message")
    assert world.api.get(f"{API}/crl/organization").status_code == 422


def test_the_payload_is_read_as_json_strictly(world: World) -> None:
    refused(
        world.status(sign_raw(world.bank, json.dumps([1, 2]).encode())), 400, "malformed_request"
    )


def test_a_batch_of_nothing_but_garbage_is_answered_and_costs_nothing(world: World) -> None:
    response = world.ask(world.bank, "sign", ["xyz", 7])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [item["problem"] for item in answer["items"]] == ["not_hex", "not_a_string"]
    assert (answer["billed_items"], answer["amount_yen"]) == (0, 0)
    assert answer["crl_number"] >= 1
