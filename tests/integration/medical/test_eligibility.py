"""オンライン資格確認 at a clinic's counter, over the institution API."""

from __future__ import annotations

import base64
import json

from sqlalchemy import update

from myna import agencies, jpki, network
from myna.medical import service
from myna.medical.models import Visit
from myna.platform.db import utcnow
from tests.integration.medical.conftest import Clinic, register


def _result(world: Clinic, visit_id: str) -> dict:
    response = world.post("/visits/result", world.clinic.sign("result", visit_id=visit_id))
    assert response.status_code == 200, response.text
    return response.json()


def _oqs_entries(world: Clinic, persona: str) -> list:
    page = network.transparency.entries_for_subject(
        session=world.session, subject=str(world.residents[persona].id), page_size=200
    )
    return [e for e in page.items if e.requester == service.OQS]


def test_the_card_with_pin_and_full_consent_gives_coverage_medicines_and_checkups(
    clinic: Clinic,
) -> None:
    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=True, checkup=True, limit=True)
    answer = _result(clinic, visit["visit_id"])
    assert answer["status"] == "valid"
    assert answer["method"] == "pin"
    coverage = answer["coverage"]
    assert coverage["name"]
    assert len(coverage["branch"]) == 2
    assert coverage["limit_category"] is not None
    assert answer["medications"] is not None
    assert answer["checkups"] is not None
    entries = _oqs_entries(clinic, "taro")
    asked = {e.item for e in entries if "みなと内科クリニック" in (e.purpose or "")}
    assert {"health-insurance", "medication", "specific-checkup", "clinical-record"} <= asked


def test_consent_refused_gives_eligibility_only_and_asks_the_insurer_for_nothing_more(
    clinic: Clinic,
) -> None:
    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=False, checkup=False, limit=False)
    answer = _result(clinic, visit["visit_id"])
    assert answer["coverage"]["limit_category"] is None
    assert answer["medications"] is None
    assert answer["clinical"] is None
    assert answer["checkups"] is None
    latest = [e for e in _oqs_entries(clinic, "taro") if "資格確認のみ" in (e.purpose or "")]
    assert {e.item for e in latest} == {"health-insurance"}


def test_an_unregistered_card_is_told_to_register_or_use_the_certificate(clinic: Clinic) -> None:
    visit = clinic.visit()
    token = clinic.clinic.sign("card", **clinic.card_answer("hanako", visit, clinic.clinic))
    response = clinic.post("/visits/card", token)
    assert response.status_code == 404
    assert response.json()["error"] == "card_not_registered"
    assert "資格確認書" in response.json()["message"]


def test_a_revoked_card_certificate_is_refused(clinic: Clinic) -> None:
    clinic.enrol("taro")
    certificate = clinic.reader.read_certificate(clinic.cards["taro"], "auth")
    jpki.revoke_certificate(
        session=clinic.session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.LOSS,
    )
    visit = clinic.visit()
    token = clinic.clinic.sign("card", **clinic.card_answer("taro", visit, clinic.clinic))
    response = clinic.post("/visits/card", token)
    assert response.status_code == 400
    assert response.json()["error"] == "revoked"
    assert "失効" in response.json()["message"]


def test_a_signature_made_for_another_counter_does_not_verify(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.visit()
    answer = clinic.card_answer("taro", visit, clinic.pharmacy)  # signed for the pharmacy
    response = clinic.post("/visits/card", clinic.clinic.sign("card", **answer))
    assert response.status_code == 401
    assert response.json()["error"] == "bad_card_answer"


def test_face_confirmation_needs_a_named_staff_member_and_is_recorded(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.visit()
    answer = clinic.card_answer("taro", visit, clinic.clinic)
    del answer["signature"]
    answer["method"] = "face"
    refused = clinic.post("/visits/card", clinic.clinic.sign("card", **answer))
    assert refused.status_code == 400
    answer["confirmed_by"] = "受付 佐藤"
    accepted = clinic.post("/visits/card", clinic.clinic.sign("card", **answer))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["method"] == "face"
    row = clinic.session.get(Visit, visit["visit_id"])
    assert row is not None
    assert row.confirmed_by == "受付 佐藤"


def test_an_unregistered_institution_is_refused(clinic: Clinic) -> None:
    stranger = register(clinic.session, clinic.settings, "1310110026", "未登録医院")
    from myna.medical.models import Institution  # noqa: PLC0415 - the row under test

    clinic.session.execute(
        update(Institution).where(Institution.code == stranger.code).values(suspended_at=utcnow())
    )
    response = clinic.post("/visits", stranger.sign("visit"))
    assert response.status_code == 403
    assert response.json()["error"] == "unregistered_institution"


def test_an_agency_key_cannot_speak_for_an_institution(clinic: Clinic) -> None:
    agency = network.credential_for(
        session=clinic.session, settings=clinic.settings, code="muni-131016"
    )
    impostor = type(clinic.clinic)(clinic.clinic.code, agency)
    response = clinic.post("/visits", impostor.sign("visit"))
    assert response.status_code == 403


def test_a_replayed_request_is_refused(clinic: Clinic) -> None:
    token = clinic.clinic.sign("visit")
    assert clinic.post("/visits", token).status_code == 201
    again = clinic.post("/visits", token)
    assert again.status_code == 409
    assert again.json()["error"] == "replayed_message"


def test_a_message_for_another_step_is_refused(clinic: Clinic) -> None:
    response = clinic.post("/visits", clinic.clinic.sign("result", visit_id="x"))
    assert response.status_code == 400
    assert response.json()["error"] == "wrong_message_type"


def test_another_institutions_visit_is_unknown(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=True, checkup=True, limit=True)
    response = clinic.post(
        "/visits/result", clinic.pharmacy.sign("result", visit_id=visit["visit_id"])
    )
    assert response.status_code == 404
    assert response.json()["error"] == "visit_not_found"


def test_after_24_hours_the_visit_can_no_longer_be_read(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=True, checkup=True, limit=True)
    clinic.session.execute(
        update(Visit).where(Visit.id == visit["visit_id"]).values(view_until=utcnow())
    )
    response = clinic.post(
        "/visits/result", clinic.clinic.sign("result", visit_id=visit["visit_id"])
    )
    assert response.status_code == 410
    assert response.json()["error"] == "visit_expired"


def test_a_card_twice_for_one_visit_is_out_of_order(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.visit()
    answer = clinic.card_answer("taro", visit, clinic.clinic)
    assert clinic.post("/visits/card", clinic.clinic.sign("card", **answer)).status_code == 200
    again = clinic.post("/visits/card", clinic.clinic.sign("card", **answer))
    assert again.status_code == 409


def test_consents_before_the_card_are_out_of_order(clinic: Clinic) -> None:
    visit = clinic.visit()
    response = clinic.post(
        "/visits/consents",
        clinic.clinic.sign(
            "consent", visit_id=visit["visit_id"], medication=True, checkup=True, limit=True
        ),
    )
    assert response.status_code == 409


def test_lost_coverage_says_so_with_the_date(clinic: Clinic) -> None:
    clinic.enrol("taro")
    # The insurer records the loss of coverage (資格喪失) in its own store.
    taro = clinic.residents["taro"].id
    insurer, record = _coverage_record(clinic, taro)
    payload = dict(record.payload, lost_on="2026-04-01")
    agencies.upsert_records(
        session=clinic.session,
        agency_code=insurer,
        records=[
            agencies.RecordWrite(
                link_code=_insurer_link(clinic, taro, insurer),
                item_code="health-insurance",
                key=record.key,
                payload=payload,
                source=record.source,
                valid_from=record.valid_from,
            )
        ],
    )
    visit = clinic.through_consents("taro", medication=False, checkup=False, limit=False)
    answer = _result(clinic, visit["visit_id"])
    assert answer["status"] == "lost"
    assert answer["coverage"]["lost_on"] == "2026-04-01"


def _insurer_link(world: Clinic, resident_id: int, insurer: str) -> str:
    return network.link_code_for_resident(
        session=world.session, resident_id=resident_id, agency_code=insurer
    )


def _coverage_record(world: Clinic, resident_id: int) -> tuple[str, agencies.ItemRecord]:
    for agency in agencies.agency_directory(session=world.session):
        if agency.kind != "insurer":
            continue
        found = agencies.answer_query(
            session=world.session,
            agency_code=agency.code,
            link_code=_insurer_link(world, resident_id, agency.code),
            items=["health-insurance"],
        )
        if found:
            return agency.code, found[0]
    raise AssertionError("no coverage")


def test_the_fallback_by_number_and_birth_date_gives_eligibility_only(clinic: Clinic) -> None:
    _, record = _coverage_record(clinic, clinic.residents["hanako"].id)
    body = {
        "insurer_number": record.payload["insurer_number"],
        "symbol": record.payload.get("insured_symbol", ""),
        "number": record.payload["insured_number"],
        "branch": record.payload["insured_branch"],
        "birth_date": record.payload["birth_date"],
    }
    response = clinic.post("/eligibility/by-number", clinic.clinic.sign("by-number", **body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["method"] == "by-number"
    assert answer["medications"] is None
    assert answer["coverage"]["limit_category"] is None
    wrong = dict(body, birth_date="1901-01-01")
    refused = clinic.post("/eligibility/by-number", clinic.clinic.sign("by-number", **wrong))
    assert refused.status_code == 404
    assert refused.json()["error"] == "not_insured"


def test_a_malformed_insurer_number_gets_a_clear_reason(clinic: Clinic) -> None:
    body = {
        "insurer_number": "06135129",
        "symbol": "",
        "number": "1",
        "branch": "00",
        "birth_date": "1980-01-01",
    }
    response = clinic.post("/eligibility/by-number", clinic.clinic.sign("by-number", **body))
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_insurance_number"


def test_garbage_bodies_are_refused_cleanly(clinic: Clinic) -> None:
    for body in ("", "not-a-jws", base64.b64encode(b"x" * 100).decode()):
        response = clinic.post("/visits", body)
        assert response.status_code in (400, 401), body
        assert "error" in response.json()


def test_enrolling_twice_is_refused(clinic: Clinic) -> None:
    clinic.enrol("taro")
    try:
        clinic.enrol("taro")
    except service.AlreadyEnrolledError:
        return
    raise AssertionError("enrolled twice")


def test_the_answer_comes_as_a_fhir_bundle_that_validates(clinic: Clinic) -> None:
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - only this test needs it

    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=True, checkup=True, limit=False)
    response = clinic.post(
        "/visits/result",
        clinic.clinic.sign("result", visit_id=visit["visit_id"]),
        accept="application/fhir+json",
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    document = response.json()
    Bundle.model_validate(document)
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    assert kinds.count("Patient") == 1
    assert "Coverage" in kinds
    assert "MedicationDispense" in kinds
    assert "Observation" in kinds
    coverage = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Coverage"
    )
    # No consent to 限度額情報: the category is not in the Bundle.
    assert "coverage-limit-category" not in json.dumps(coverage)


def test_without_consent_the_bundle_holds_coverage_only(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.through_consents("taro", medication=False, checkup=False, limit=False)
    response = clinic.post(
        "/visits/result",
        clinic.clinic.sign("result", visit_id=visit["visit_id"]),
        accept="application/fhir+json",
    )
    kinds = {entry["resource"]["resourceType"] for entry in response.json()["entry"]}
    assert kinds == {"Patient", "Organization", "Coverage"}


def test_the_answer_is_about_the_cards_holder_only(clinic: Clinic) -> None:
    clinic.enrol("taro")
    clinic.enrol("hanako")
    visit = clinic.through_consents("hanako", medication=True, checkup=True, limit=True)
    answer = _result(clinic, visit["visit_id"])
    hanako = clinic.residents["hanako"]
    assert answer["coverage"]["name"] == hanako.full_name
    assert answer["coverage"]["birth_date"] == hanako.birth_date.isoformat()
    taro_entries = [e for e in _oqs_entries(clinic, "taro") if "みなと内科" in (e.purpose or "")]
    assert taro_entries == []


def test_the_face_door_still_needs_a_registered_card(clinic: Clinic) -> None:
    visit = clinic.visit()
    answer = clinic.card_answer("hanako", visit, clinic.clinic)
    del answer["signature"]
    answer.update(method="face", confirmed_by="受付 佐藤")
    response = clinic.post("/visits/card", clinic.clinic.sign("card", **answer))
    assert response.status_code == 404
    assert response.json()["error"] == "card_not_registered"


def test_a_reception_left_waiting_expires(clinic: Clinic) -> None:
    clinic.enrol("taro")
    visit = clinic.visit()
    clinic.session.execute(
        update(Visit).where(Visit.id == visit["visit_id"]).values(expires_at=utcnow())
    )
    token = clinic.clinic.sign("card", **clinic.card_answer("taro", visit, clinic.clinic))
    response = clinic.post("/visits/card", token)
    assert response.status_code == 410
    assert response.json()["error"] == "visit_expired"


def test_errors_come_in_english_when_asked(clinic: Clinic) -> None:
    response = clinic.post("/visits", "garbage", **{"accept-language": "en"})
    assert response.status_code == 401
    assert response.json()["message"].isascii()
