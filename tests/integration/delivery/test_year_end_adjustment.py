"""年末調整: an employee hands 控除証明書 to the employer, which collects them signed.

The employee's side (the service and the pages of the box) and the employer's side (the
sender API), and every door an employer might try: another employer, a sender that is
no employer, a withdrawn hand-over, an unlinked employee, odd ids and years.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from myna.delivery import SalaryWithholdingSlip, handovers, service
from myna.delivery.errors import (
    AlreadyHandedOverError,
    EmployerNotLinkedError,
    HandoverCollectedError,
    HandoverNotFoundError,
    NotHandableError,
    NothingToHandOverError,
)
from myna.delivery.identity import SenderIdentity
from myna.delivery.models import Delivery, Handover, HandoverDocument
from myna.registry.models import Resident
from tests.integration.delivery.conftest import (
    YEAR_END,
    Nencho,
    World,
    deliver,
    earthquake_certificate,
    life_certificate,
    register,
)

PAGE = "/delivery/year-end-adjustment"


def _salary_slip(sender: SenderIdentity, recipient: str) -> bytes:
    return SalaryWithholdingSlip(
        document_id="GS-2025-0001",
        issued_on=date(2026, 1, 20),
        sender_code=sender.organization_code,
        sender_name=sender.name,
        recipient=recipient,
        year=2025,
        payer_name=sender.name,
        payer_address="東京都千代田区丸の内1-2-3",
        payee="山田 太郎",
        payment_amount=5_200_000,
        income_after_employment_deduction=3_720_000,
        total_deductions=1_460_000,
        withholding_tax=131_100,
        social_insurance=780_000,
    ).to_xml()


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def _handover_count(world: World) -> int:
    return int(world.session.scalar(select(func.count()).select_from(Handover)) or 0)


# -- the employer's side -----------------------------------------------------------------


def test_the_employer_collects_the_certificates_as_their_issuers_signed_them(
    nencho: Nencho,
) -> None:
    handover_id = nencho.hand_over()
    listed = nencho.listing()
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["sender"] == "minato-denki"
    assert body["year"] == 2025
    [summary] = body["handovers"]
    assert summary["handover_id"] == handover_id
    assert summary["recipient"] == nencho.recipient  # the id of the employer's own link
    assert summary["status"] == "ready"
    assert summary["collected_at"] is None
    assert sorted(d["kind"] for d in summary["documents"]) == ["TEG800", "TEG810"]
    assert all("xml" not in d for d in summary["documents"])  # a listing holds no content

    collected = nencho.collect(handover_id)
    assert collected.status_code == 200, collected.text
    answer = collected.json()
    assert answer["status"] == "collected"
    assert answer["recipient"] == nencho.recipient
    stored = {
        row.document_id: row.xml
        for row in nencho.world.session.scalars(
            select(Delivery).where(Delivery.id.in_([nencho.life, nencho.quake]))
        )
    }
    assert {d["document_id"] for d in answer["documents"]} == {"LI-2025-0001", "EQ-2025-0001"}
    for document in answer["documents"]:
        xml = base64.b64decode(document["xml"])
        assert xml == stored[document["document_id"]]  # unchanged, byte for byte
        assert hashlib.sha256(xml).hexdigest() == document["sha256"]
        assert b"<ds:Signature" in xml
    by_issuer = {d["issuer"]: d["issuer_name"] for d in answer["documents"]}
    assert by_issuer == {
        "sakura-life": "さくら生命保険株式会社",
        "minato-fire": "みなと損害保険株式会社",
    }

    again = nencho.listing().json()["handovers"][0]
    assert again["status"] == "collected"
    assert again["collected_at"] is not None


def test_the_answers_never_carry_the_employees_my_number(nencho: Nencho) -> None:
    taro = nencho.world.session.get(Resident, nencho.world.taro.resident_id)
    assert taro is not None
    handover_id = nencho.hand_over()
    listed = nencho.listing()
    collected = nencho.collect(handover_id)
    for text in (listed.text, collected.text):
        assert taro.my_number not in text
    for document in collected.json()["documents"]:
        assert taro.my_number.encode() not in base64.b64decode(document["xml"])


def test_each_hand_over_and_each_collection_is_logged_in_the_box(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    assert nencho.collect(handover_id).status_code == 200
    assert nencho.collect(handover_id).status_code == 200  # collected again: logged again
    tail = nencho.actions()[-3:]
    assert tail == [
        ("handed_over", "minato-denki", handover_id),
        ("collected", "minato-denki", handover_id),
        ("collected", "minato-denki", handover_id),
    ]
    box = service.box(session=nencho.world.session, resident_id=nencho.world.taro.resident_id)
    assert [entry.action for entry in box.log[:3]] == ["collected", "collected", "handed_over"]
    assert box.log[0].sender_name == "みなと電機株式会社"
    assert box.log[0].handover_id == handover_id


def test_the_list_holds_only_the_year_asked_for(nencho: Nencho) -> None:
    nencho.hand_over()
    listed = nencho.listing(year=2024)
    assert listed.status_code == 200, listed.text
    assert listed.json()["handovers"] == []


def test_another_employer_sees_nothing_handed_to_this_one(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    other = nencho.other_employer  # 太郎 links it too: only the hand-over is not for it
    listed = nencho.listing(other)
    assert listed.status_code == 200, listed.text
    assert listed.json()["handovers"] == []
    _refused(nencho.collect(handover_id, other), 404, "handover_not_found")
    assert "collected" not in [action for action, _s, _h in nencho.actions()]


def test_a_sender_that_is_no_employer_gets_no_hand_over(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    _refused(nencho.listing(nencho.world.sakura), 403, "not_an_employer")
    _refused(nencho.collect(handover_id, nencho.world.sakura), 403, "not_an_employer")


def test_an_employer_the_employee_did_not_link_gets_nothing(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    stranger = register(
        nencho.world.session, nencho.world.settings, "hinode-kogyo", "日の出工業", "employer"
    )
    assert nencho.listing(stranger).json()["handovers"] == []
    _refused(nencho.collect(handover_id, stranger), 404, "handover_not_found")


def test_a_withdrawn_hand_over_is_gone_for_the_employer(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    year = handovers.withdraw(
        session=nencho.world.session,
        resident_id=nencho.world.taro.resident_id,
        handover_id=handover_id,
    )
    assert year == 2025
    assert nencho.listing().json()["handovers"] == []
    _refused(nencho.collect(handover_id), 410, "handover_withdrawn")
    assert nencho.actions()[-1] == ("withdrawn", "minato-denki", handover_id)


def test_unlinking_the_employer_withdraws_what_it_has_not_collected(nencho: Nencho) -> None:
    collected_id = nencho.hand_over(nencho.life)
    assert nencho.collect(collected_id).status_code == 200
    waiting_id = nencho.hand_over(nencho.quake)
    service.unlink(
        session=nencho.world.session,
        resident_id=nencho.world.taro.resident_id,
        sender_code="minato-denki",
    )
    assert nencho.listing().json()["handovers"] == []
    _refused(nencho.collect(waiting_id), 410, "handover_withdrawn")
    _refused(nencho.collect(collected_id), 403, "recipient_not_linked")
    assert nencho.actions()[-2:] == [
        ("unlinked", "minato-denki", None),
        ("withdrawn", "minato-denki", waiting_id),
    ]
    # Linking again does not bring the withdrawn hand-over back.
    nencho.world.link(nencho.world.taro, nencho.employer)
    assert [h["handover_id"] for h in nencho.listing().json()["handovers"]] == [collected_id]
    _refused(nencho.collect(waiting_id), 410, "handover_withdrawn")


@pytest.mark.parametrize(
    ("path_id", "status", "code"),
    [
        ("x" * 65, 422, "invalid_request"),  # longer than any id
        ("9" * 40, 404, "handover_not_found"),  # a huge number is just an unknown id
        ("a.b~c", 404, "handover_not_found"),  # not the shape of a Myna id
        ("no-such-handover-id", 404, "handover_not_found"),
    ],
)
def test_a_huge_or_malformed_id_is_a_clear_refusal(
    nencho: Nencho, path_id: str, status: int, code: str
) -> None:
    nencho.hand_over()
    _refused(nencho.collect(path_id), status, code)


def test_a_request_signed_for_another_id_or_year_is_refused(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    api = nencho.world.api
    for_other = nencho.employer.collect_request("another-id")
    response = api.get(f"{YEAR_END}/{handover_id}", headers={"authorization": f"JWS {for_other}"})
    _refused(response, 400, "malformed_message")
    for_2024 = nencho.employer.handovers_request(2024)
    response = api.get(
        YEAR_END, params={"year": 2025}, headers={"authorization": f"JWS {for_2024}"}
    )
    _refused(response, 400, "malformed_message")
    as_text = nencho.employer.request("handovers", year="2025")
    response = api.get(YEAR_END, params={"year": 2025}, headers={"authorization": f"JWS {as_text}"})
    _refused(response, 400, "malformed_message")
    # A delivery request's signature does not open the hand-overs either.
    receipt = nencho.employer.receipt_request(handover_id)
    response = api.get(f"{YEAR_END}/{handover_id}", headers={"authorization": f"JWS {receipt}"})
    _refused(response, 400, "wrong_message_type")
    assert nencho.world.session.get(Handover, handover_id).collected_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("year", ["99999", "-1", "1999", "abc", ""])
def test_an_odd_year_is_refused_before_anything_else(nencho: Nencho, year: str) -> None:
    response = nencho.world.api.get(
        YEAR_END,
        params={"year": year},
        headers={"authorization": f"JWS {nencho.employer.handovers_request(2025)}"},
    )
    _refused(response, 422, "invalid_request")


def test_unsigned_and_replayed_requests_are_refused(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    api = nencho.world.api
    _refused(api.get(YEAR_END, params={"year": 2025}), 401, "unsigned_message")
    _refused(
        api.get(f"{YEAR_END}/{handover_id}", headers={"authorization": "JWS not-a-token"}),
        401,
        "unsigned_message",
    )
    token = nencho.employer.collect_request(handover_id)
    headers = {"authorization": f"JWS {token}"}
    assert api.get(f"{YEAR_END}/{handover_id}", headers=headers).status_code == 200
    _refused(api.get(f"{YEAR_END}/{handover_id}", headers=headers), 409, "replayed_message")


def test_the_employer_api_is_described_in_openapi(nencho: Nencho) -> None:
    schema = nencho.world.api.get("/api/openapi.json").json()
    listing = schema["paths"][YEAR_END]["get"]
    collect = schema["paths"][YEAR_END + "/{handover_id}"]["get"]
    assert listing["tags"] == collect["tags"] == ["delivery"]
    assert "HandoverListRead" in str(listing["responses"]["200"])
    assert "HandoverRead" in str(collect["responses"]["200"])
    year = next(p for p in listing["parameters"] if p["name"] == "year")
    assert year["schema"]["maximum"] == 2100
    assert {"Authorization"} <= {p["name"] for p in collect["parameters"]}


# -- the employee's side -----------------------------------------------------------------


def test_only_certificates_of_the_box_of_the_year_go_to_a_linked_employer(
    nencho: Nencho,
) -> None:
    world = nencho.world
    at_hanako = world.link(world.hanako, world.sakura)
    hanakos = deliver(
        world,
        world.sakura,
        at_hanako,
        life_certificate(world.sakura, at_hanako, document_id="LI-2025-0002"),
    )
    at_minato = world.link(world.taro, world.minato)
    of_2024 = deliver(
        world,
        world.minato,
        at_minato,
        earthquake_certificate(
            world.minato,
            at_minato,
            document_id="EQ-2024-0001",
            year=2024,
            issued_on=date(2024, 10, 20),
            certified_as_of=date(2024, 10, 1),
        ),
    )
    slip = deliver(
        world, nencho.employer, nencho.recipient, _salary_slip(nencho.employer, nencho.recipient)
    )

    def attempt(sender_code: str, *delivery_ids: str) -> None:
        handovers.hand_over(
            session=world.session,
            resident_id=world.taro.resident_id,
            sender_code=sender_code,
            year=2025,
            delivery_ids=list(delivery_ids),
        )

    for foreign in (hanakos, of_2024, slip, "no-such-document", "x" * 500):
        with pytest.raises(NotHandableError):
            attempt("minato-denki", nencho.life, foreign)
    with pytest.raises(EmployerNotLinkedError):
        attempt("sakura-life", nencho.life)  # linked, but an insurer
    with pytest.raises(EmployerNotLinkedError):
        attempt("nobody", nencho.life)
    service.unlink(
        session=world.session, resident_id=world.taro.resident_id, sender_code="yamato-shoji"
    )
    with pytest.raises(EmployerNotLinkedError):
        attempt("yamato-shoji", nencho.life)  # an employer no longer linked
    with pytest.raises(NothingToHandOverError):
        attempt("minato-denki")
    with pytest.raises(NothingToHandOverError):
        attempt("minato-denki", *(f"id{n}" for n in range(21)))
    assert _handover_count(world) == 0


def test_a_certificate_goes_once_to_each_employer_until_withdrawn(nencho: Nencho) -> None:
    first = nencho.hand_over(nencho.life)
    with pytest.raises(AlreadyHandedOverError):
        nencho.hand_over(nencho.life, nencho.quake)
    nencho.hand_over(nencho.life, sender=nencho.other_employer)  # another employer may have it
    handovers.withdraw(
        session=nencho.world.session, resident_id=nencho.world.taro.resident_id, handover_id=first
    )
    nencho.hand_over(nencho.life, nencho.quake)  # withdrawn: it may go again
    assert _handover_count(nencho.world) == 3
    page = handovers.year_end_adjustment(
        session=nencho.world.session, resident_id=nencho.world.taro.resident_id
    )
    assert page.year == 2025
    assert [employer.code for employer in page.employers] == ["minato-denki", "yamato-shoji"]
    handed = {c.delivery_id: c.handed_to for c in page.certificates}
    assert handed == {
        nencho.life: frozenset({"minato-denki", "yamato-shoji"}),
        nencho.quake: frozenset({"minato-denki"}),
    }
    assert sorted(h.status.value for h in page.handovers) == ["ready", "ready", "withdrawn"]


def test_a_collected_hand_over_cannot_be_withdrawn(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    assert nencho.collect(handover_id).status_code == 200
    with pytest.raises(HandoverCollectedError):
        handovers.withdraw(
            session=nencho.world.session,
            resident_id=nencho.world.taro.resident_id,
            handover_id=handover_id,
        )


def test_another_resident_cannot_withdraw_a_hand_over(nencho: Nencho) -> None:
    handover_id = nencho.hand_over()
    for odd in (handover_id, "x" * 500, ""):
        with pytest.raises(HandoverNotFoundError):
            handovers.withdraw(
                session=nencho.world.session,
                resident_id=nencho.world.hanako.resident_id,
                handover_id=odd,
            )
    page = handovers.year_end_adjustment(
        session=nencho.world.session, resident_id=nencho.world.hanako.resident_id
    )
    assert page.handovers == []
    assert page.certificates == []
    assert page.employers == []


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_employee_chooses_confirms_and_withdraws_on_the_pages(nencho: Nencho) -> None:
    client = nencho.world.login(nencho.world.taro)
    assert "/delivery/year-end-adjustment" in client.get("/delivery").text
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    assert "みなと電機株式会社" in page.text
    assert "生命保険料控除証明書（一般・新制度）" in page.text
    assert "地震保険料控除証明書" in page.text
    token = _csrf(page.text)
    chosen = {
        "csrf_token": token,
        "sender": "minato-denki",
        "year": "2025",
        "document": [nencho.life, nencho.quake],
    }
    confirm = client.post(f"{PAGE}/confirm", data=chosen)
    assert confirm.status_code == 200, confirm.text
    assert "みなと電機株式会社に渡す" in confirm.text
    assert confirm.text.count('name="document"') == 2
    assert _handover_count(nencho.world) == 0  # nothing is handed over before confirming

    done = client.post(PAGE, data=chosen, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?year=2025&done=handed_over"
    shown = client.get(done.headers["location"])
    assert "受け渡しました" in shown.text
    assert "勤務先の受取待ち" in shown.text
    assert "この勤務先に渡し済み" in shown.text
    [handover_id] = nencho.world.session.scalars(select(Handover.id)).all()
    assert sorted(
        nencho.world.session.scalars(
            select(HandoverDocument.delivery_id).where(HandoverDocument.handover_id == handover_id)
        )
    ) == sorted([nencho.life, nencho.quake])
    assert "年末調整のため控除証明書を渡しました" in client.get("/delivery").text

    withdrawn = client.post(
        f"{PAGE}/{handover_id}/withdraw", data={"csrf_token": token}, follow_redirects=True
    )
    assert withdrawn.status_code == 200
    assert "受け渡しを取り消しました" in withdrawn.text
    assert "取消し済み" in withdrawn.text
    _refused(nencho.collect(handover_id), 410, "handover_withdrawn")


def test_the_forms_need_the_csrf_token(nencho: Nencho) -> None:
    handover_id = nencho.hand_over(nencho.life)
    client = nencho.world.login(nencho.world.taro)
    chosen = {"sender": "minato-denki", "year": "2025", "document": [nencho.quake]}
    assert client.post(f"{PAGE}/confirm", data=chosen).status_code in (400, 403)
    assert client.post(PAGE, data={**chosen, "csrf_token": "forged"}).status_code in (400, 403)
    assert client.post(f"{PAGE}/{handover_id}/withdraw", data={}).status_code in (400, 403)
    assert _handover_count(nencho.world) == 1
    nencho.world.session.expire_all()
    assert nencho.world.session.get(Handover, handover_id).withdrawn_at is None  # type: ignore[union-attr]


def test_a_forged_form_gets_a_page_that_says_why(nencho: Nencho) -> None:
    world = nencho.world
    at_hanako = world.link(world.hanako, world.sakura)
    hanakos = deliver(
        world,
        world.sakura,
        at_hanako,
        life_certificate(world.sakura, at_hanako, document_id="LI-2025-0002"),
    )
    client = world.login(world.taro)
    token = _csrf(client.get(PAGE).text)
    base = {"csrf_token": token, "sender": "minato-denki", "year": "2025"}
    refused = client.post(PAGE, data={**base, "document": [hanakos]})
    assert refused.status_code == 422
    assert "選んだ年分の控除証明書" in refused.text
    refused = client.post(PAGE, data={**base, "sender": "sakura-life", "document": [nencho.life]})
    assert refused.status_code == 403
    assert "連携している勤務先にだけ" in refused.text
    refused = client.post(PAGE, data={**base, "document": []})
    assert refused.status_code == 422
    for year in ("20x5", "99999", "1999", ""):
        answer = client.post(
            f"{PAGE}/confirm", data={**base, "year": year, "document": [nencho.life]}
        )
        assert answer.status_code == 400, year
    assert client.post(f"{PAGE}/{'x' * 65}/withdraw", data={"csrf_token": token}).status_code == 422
    assert client.post(f"{PAGE}/unknown-id/withdraw", data={"csrf_token": token}).status_code == 404
    assert _handover_count(world) == 0


def test_the_page_takes_a_bounded_year_and_needs_a_login(nencho: Nencho) -> None:
    assert nencho.world.api.get(PAGE, follow_redirects=False).status_code in (302, 303, 401)
    client = nencho.world.login(nencho.world.taro)
    assert client.get(PAGE, params={"year": "99999999999"}).status_code == 422
    empty = client.get(PAGE, params={"year": 2024})
    assert empty.status_code == 200
    assert "この年分の控除証明書はまだ届いていません" in empty.text
