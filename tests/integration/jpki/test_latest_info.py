"""最新4情報提供 end to end with virtual cards: re-issue, consent, query, log, refusals."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.card.cms import detached_signed_data
from myna.jpki import verifiers
from myna.jpki.models import LatestInfoConsent, VerifierUsage
from myna.jpki.verifier_domain import BillingMonth
from myna.network import transparency
from tests.integration.jpki.conftest import IssueFn
from tests.integration.jpki.latest import NEW_PASSWORD, PASSWORD, PURPOSE, Latest
from tests.integration.jpki.test_verifiers import hex_serial


def refused(response: Any, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert words in body["message"]


def _consents(session: Session) -> list[LatestInfoConsent]:
    return list(session.scalars(select(LatestInfoConsent)))


# --- the whole journey ------------------------------------------------------------


def test_a_consented_verifier_follows_two_reissues_to_the_newest_info(latest: Latest) -> None:
    first = latest.sign_cert(latest.taro_card)
    registered = latest.consent(latest.taro_card)
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert (body["verifier"], body["purpose"]) == ("mirai-bank", PURPOSE)
    assert body["certificate_serial"] == hex_serial(first)

    # While the certificate stands, the answer is "valid" and nothing else.
    (item,) = latest.ask([hex_serial(first)]).json()["items"]
    assert (item["status"], item["latest"]) == ("valid", None)

    # A move revokes it; before the counter re-issues, the verifier learns only that.
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    (item,) = latest.ask([hex_serial(first)]).json()["items"]
    assert (item["status"], item["reason"]) == ("revoked", "basic_info_change")
    assert item["latest"] == {
        "outcome": "not_reissued",
        "certificate_serial": None,
        "certificate_status": None,
        "not_before": None,
        "not_after": None,
        "basic_info": None,
    }

    second = latest.reissue(latest.taro_card)
    answer = latest.ask([hex_serial(first)]).json()
    news = answer["items"][0]["latest"]
    assert news["outcome"] == "provided"
    assert news["certificate_serial"] == hex_serial(second)
    assert news["certificate_status"] == "valid"
    assert news["basic_info"]["address"].endswith("永田町一丁目7番1号")
    assert news["basic_info"]["name"] == latest.taro.full_name
    assert news["basic_info"]["birth_date"] == latest.taro.birth_date.isoformat()
    assert (answer["status_items"], answer["provided_items"]) == (1, 1)
    assert answer["amount_yen"] == 20 + 10

    # A second move and re-issue: both old serials lead to the newest certificate.
    latest.move(latest.taro, "平河町二丁目3番4号", latest.taro_card)
    third = latest.reissue(latest.taro_card)
    assert jpki.successor_chain(session=latest.session, serial=first.serial_number) == [
        second.serial_number,
        third.serial_number,
    ]
    items = latest.ask([hex_serial(first), hex_serial(second)]).json()["items"]
    for item in items:
        assert item["latest"]["certificate_serial"] == hex_serial(third)
        assert item["latest"]["basic_info"]["address"].endswith("平河町二丁目3番4号")

    # Every provision is in the holder's exchange history, with the verifier and purpose.
    entries = transparency.entries_for_subject(
        session=latest.session, subject=str(latest.taro.id)
    ).items
    provided = [entry for entry in entries if entry.procedure == jpki.LOG_PROCEDURE]
    assert len(provided) == 3
    assert {(e.requester, e.provider, e.item, e.purpose) for e in provided} == {
        ("jv-mirai-bank", jpki.LOG_PROVIDER, jpki.LOG_ITEM, PURPOSE)
    }
    # And on the verifier's statement, a line of its own.
    month = str(BillingMonth.of(datetime.now(UTC)))
    statement = verifiers.statement(session=latest.session, code="mirai-bank", month=month)
    lines = {line.item.value: line for line in statement.lines}
    assert lines["latest_info"].count == 3
    assert lines["latest_info"].amount_yen == 30


def test_the_reissued_card_signs_with_the_new_key_and_password_auth_untouched(
    latest: Latest,
) -> None:
    auth_before = latest.reader.read_certificate(latest.taro_card, "auth")
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    new = latest.reissue(latest.taro_card)
    assert latest.reader.read_certificate(latest.taro_card, "auth") == auth_before
    with pytest.raises(card.WrongPinError):
        latest.signing(latest.taro_card, PASSWORD)
    signed = jpki.verify_detached_signature(
        session=latest.session,
        settings=latest.settings,
        signature=latest.signing(latest.taro_card, NEW_PASSWORD).sign_cms(b"x"),
        content=b"x",
    )
    assert signed.certificate.serial == new.serial_number
    assert signed.basic_info.address.endswith("永田町一丁目7番1号")
    surface = latest.reader.load(latest.taro_card).surface
    assert surface.address.endswith("永田町一丁目7番1号")


# --- without or after consent -----------------------------------------------------


def test_without_consent_the_verifier_learns_only_revoked(latest: Latest) -> None:
    first = latest.sign_cert(latest.taro_card)
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    latest.reissue(latest.taro_card)
    answer = latest.ask([hex_serial(first)]).json()
    (item,) = answer["items"]
    assert (item["status"], item["reason"]) == ("revoked", "basic_info_change")
    assert item["latest"] is None
    assert answer["provided_items"] == 0
    # A consent for another verifier unlocks nothing for this one.
    assert latest.consent(latest.hanako_card, who=latest.other_bank).status_code == 201
    assert latest.ask([hex_serial(first)]).json()["items"][0]["latest"] is None


def test_after_withdrawal_the_verifier_learns_only_revoked(latest: Latest) -> None:
    first = latest.sign_cert(latest.taro_card)
    consent_id = latest.consent(latest.taro_card).json()["id"]
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    latest.reissue(latest.taro_card)
    assert latest.ask([hex_serial(first)]).json()["items"][0]["latest"]["outcome"] == "provided"
    jpki.withdraw_consent(session=latest.session, holder_id=latest.taro.id, consent_id=consent_id)
    (item,) = latest.ask([hex_serial(first)]).json()["items"]
    assert (item["status"], item["latest"]) == ("revoked", None)


def test_another_residents_consent_does_not_unlock_this_residents_info(latest: Latest) -> None:
    first = latest.sign_cert(latest.taro_card)
    assert latest.consent(latest.hanako_card).status_code == 201  # hanako's own consent
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    latest.reissue(latest.taro_card)
    assert latest.ask([hex_serial(first)]).json()["items"][0]["latest"] is None


# --- refused consents -------------------------------------------------------------


def test_a_consent_signed_by_another_card_under_this_certificate_is_refused(
    latest: Latest,
) -> None:
    statement = latest.statement()
    forged = detached_signed_data(
        statement, latest.sign_cert(latest.taro_card), latest.signing(latest.hanako_card).sign
    )
    refused(
        latest.consent(latest.taro_card, statement=statement, signature=forged),
        400,
        "invalid_consent_signature",
        "bad_signature",
    )
    assert _consents(latest.session) == []


def _listing(*statements: bytes) -> bytes:
    """A signed document of the authentication app's shape, listing fingerprints."""
    digests = [hashlib.sha256(statement).hexdigest() for statement in statements]
    return json.dumps({"data": {"client_id": "aa-x", "digests": digests}}).encode()


def test_a_consent_signed_inside_a_document_listing_its_fingerprint_is_registered(
    latest: Latest,
) -> None:
    statement = latest.statement()
    document = _listing(b"the account application", statement)
    signature = latest.signing(latest.taro_card).sign_cms(document)
    token = latest.bank.consent_request(statement, signature, document)
    registered = latest.post("/latest-info/consents", token)
    assert registered.status_code == 201, registered.text
    [consent] = _consents(latest.session)
    assert consent.holder_id == latest.taro.id


@pytest.mark.parametrize(
    "document",
    [
        _listing(b"the account application"),  # the statement's fingerprint is absent
        b"[1, 2]",
        b"\xff\xfe",
        json.dumps({"data": {"digests": "not a list"}}).encode(),
    ],
)
def test_a_document_without_the_statements_fingerprint_is_refused(
    latest: Latest, document: bytes
) -> None:
    statement = latest.statement()
    signature = latest.signing(latest.taro_card).sign_cms(document)
    token = latest.bank.consent_request(statement, signature, document)
    refused(latest.post("/latest-info/consents", token), 400, "consent_not_in_document")
    assert _consents(latest.session) == []


def test_a_document_listing_the_statement_but_signed_over_other_bytes_is_refused(
    latest: Latest,
) -> None:
    statement = latest.statement()
    document = _listing(statement)
    signature = latest.signing(latest.taro_card).sign_cms(statement)  # not over the document
    token = latest.bank.consent_request(statement, signature, document)
    refused(
        latest.post("/latest-info/consents", token),
        400,
        "invalid_consent_signature",
        "bad_signature",
    )
    assert _consents(latest.session) == []


def test_a_consent_for_another_verifier_is_refused(latest: Latest) -> None:
    statement = latest.statement("kawa-bank")
    refused(
        latest.consent(latest.taro_card, statement=statement),
        403,
        "consent_verifier_mismatch",
        "kawa-bank",
    )
    assert _consents(latest.session) == []


def test_a_tampered_statement_is_refused(latest: Latest) -> None:
    signed = latest.statement()
    signature = latest.signing(latest.taro_card).sign_cms(signed)
    tampered = signed.replace("預金口座".encode(), "与信審査".encode())
    refused(
        latest.consent(latest.taro_card, statement=tampered, signature=signature),
        400,
        "invalid_consent_signature",
        "bad_signature",
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s + b"\n",
        lambda s: s.replace(b"\n", b"\r\n"),
        lambda s: s.replace(b"purpose: ", b"purpose:  "),
        lambda s: s.replace(b"myna-jpki-latest-info-consent-v1", b"myna-jpki-consent-v0"),
        lambda s: b"\xff" + s,
    ],
)
def test_a_statement_not_in_the_canonical_form_is_refused(latest: Latest, change: Any) -> None:
    statement = change(latest.statement())
    refused(
        latest.consent(latest.taro_card, statement=statement),
        400,
        "invalid_consent_statement",
    )


def test_a_consent_from_a_revoked_certificate_is_refused(latest: Latest) -> None:
    statement = latest.statement()
    signature = latest.signing(latest.taro_card).sign_cms(statement)
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    refused(
        latest.consent(latest.taro_card, statement=statement, signature=signature),
        400,
        "invalid_consent_signature",
        "revoked",
    )


def test_an_old_statement_and_a_reused_consent_id_are_refused(latest: Latest) -> None:
    old = latest.statement(issued_at=datetime.now(UTC) - timedelta(days=31))
    refused(latest.consent(latest.taro_card, statement=old), 400, "consent_out_of_time")
    statement = latest.statement(consent_id="C-0001")
    assert latest.consent(latest.taro_card, statement=statement).status_code == 201
    again = latest.statement(consent_id="C-0001")
    refused(latest.consent(latest.taro_card, statement=again), 409, "consent_exists")
    assert len(_consents(latest.session)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("statement", "not base64!"), ("signature", ""), ("signature", 12), ("statement", None)],
)
def test_unreadable_consent_fields_are_refused(latest: Latest, field: str, value: object) -> None:
    statement = latest.statement()
    body = {
        "statement": base64.b64encode(statement).decode(),
        "signature": base64.b64encode(b"0").decode(),
        field: value,
    }
    token = latest.bank.request("latest_info_consent", **body)
    refused(latest.post("/latest-info/consents", token), 400, "malformed_request", field)


# --- refused verifiers and batches --------------------------------------------------


def test_an_unregistered_verifier_is_refused(
    latest: Latest, issue_org: IssueFn, org_keys: dict[str, Any]
) -> None:
    ghost = dataclasses.replace(
        latest.bank,
        code="ghost",
        organization_code="jv-ghost",
        private_key=org_keys["p256"],
        certificate=issue_org("jv-ghost", name="幽霊株式会社"),
    )
    refused(latest.ask(["1"], who=ghost), 403, "unregistered_verifier")
    refused(latest.consent(latest.taro_card, who=ghost), 403, "unregistered_verifier")


def test_a_suspended_verifier_is_refused(latest: Latest) -> None:
    verifiers.suspend_verifier(session=latest.session, code="mirai-bank")
    refused(latest.ask(["1"]), 403, "unregistered_verifier")
    refused(latest.consent(latest.taro_card), 403, "unregistered_verifier")


def test_a_verifier_of_user_authentication_certificates_is_refused(latest: Latest) -> None:
    refused(latest.ask(["1"], who=latest.shop), 403, "certificate_kind_not_permitted")


def test_garbage_serials_are_answered_item_by_item(latest: Latest) -> None:
    good = hex_serial(latest.sign_cert(latest.taro_card))
    auth = hex_serial(latest.reader.read_certificate(latest.taro_card, "auth"))
    response = latest.ask([good, "zz", 7, "0", "f" * 41, good, "7" * 40, auth, None])
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["status"] for item in items] == [
        "valid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "unknown",
        "unknown",  # a user-authentication certificate is not a signing certificate
        "invalid",
    ]
    assert [item["problem"] for item in items if item["status"] == "invalid"] == [
        "not_hex",
        "not_a_string",
        "zero",
        "too_long",
        "duplicate",
        "not_a_string",
    ]
    assert response.json()["status_items"] == 1


def test_an_oversized_or_empty_batch_is_refused(latest: Latest) -> None:
    latest.container.settings = latest.settings.model_copy(update={"jpki_status_max_serials": 3})
    refused(latest.ask(["1", "2", "3", "4"]), 413, "too_many_serials", "3")
    refused(latest.ask([]), 400, "malformed_request", "serials")
    session = latest.session
    assert session.scalars(select(VerifierUsage)).all() == []


# --- re-issue refusals ------------------------------------------------------------


def test_a_valid_certificate_with_current_info_is_not_reissued(latest: Latest) -> None:
    before = latest.sign_cert(latest.taro_card)
    with pytest.raises(jpki.ReissueNotNeededError):
        latest.reissue(latest.taro_card)
    assert latest.sign_cert(latest.taro_card) == before


def test_a_changed_name_left_in_force_is_revoked_and_reissued(latest: Latest) -> None:
    # The registry changed (a move recorded) but no revocation reached J-LIS yet.
    first = latest.sign_cert(latest.taro_card)
    history = registry.address_history(session=latest.session, resident_id=latest.taro.id)
    registry.record_move(
        session=latest.session,
        resident_id=latest.taro.id,
        municipality_code=latest.taro.municipality_code,
        address="永田町一丁目7番1号",
        moved_on=max(entry.valid_from for entry in history) + timedelta(days=1),
    )
    second = latest.reissue(latest.taro_card)
    old = jpki.certificate_status(session=latest.session, serial=first.serial_number)
    assert old.status is jpki.CertificateStatus.REVOKED
    assert old.revocation_reason is jpki.RevocationReason.BASIC_INFO_CHANGE
    assert jpki.successor_chain(session=latest.session, serial=first.serial_number) == [
        second.serial_number
    ]


def test_a_lost_card_gets_no_new_signing_certificate(latest: Latest) -> None:
    card.report_lost(session=latest.session, settings=latest.settings, card_id=latest.taro_card)
    latest.session.commit()
    before = latest.sign_cert(latest.taro_card)
    with pytest.raises(jpki.CardLostError):
        latest.reissue(latest.taro_card)
    assert latest.sign_cert(latest.taro_card) == before


@pytest.mark.parametrize("password", ["short", "lower-case-1", "A" * 17])
def test_a_new_password_against_the_rules_is_refused(latest: Latest, password: str) -> None:
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    with pytest.raises(card.InvalidPinFormatError):
        card.reissue_signing(
            session=latest.session,
            settings=latest.settings,
            card_id=latest.taro_card,
            password=password,
        )


def test_another_municipalitys_counter_is_refused(latest: Latest) -> None:
    latest.move(latest.taro, "永田町一丁目7番1号", latest.taro_card)
    with pytest.raises(card.OtherMunicipalityCardError):
        card.reissue_signing(
            session=latest.session,
            settings=latest.settings,
            card_id=latest.taro_card,
            password=NEW_PASSWORD,
            municipality_code="141003",
        )


def test_the_new_endpoints_are_described_in_openapi(latest: Latest) -> None:
    spec = latest.api.get("/api/openapi.json").json()
    consents = spec["paths"]["/api/jpki/v1/latest-info/consents"]["post"]
    assert "application/jose" in consents["requestBody"]["content"]
    assert consents["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ConsentRegisteredRead"
    )
    query = spec["paths"]["/api/jpki/v1/latest-info"]["post"]
    assert query["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "LatestInfoRead"
    )
    assert "basic_info" in spec["components"]["schemas"]["LatestNewsRead"]["properties"]
