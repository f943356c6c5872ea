"""The clinic's counter app: reception, the card on the reader, consents, the result.

The counter talks to the eligibility service over HTTP; here that HTTP is the portal
app's test client (the real institution API) or, for the screens after the service's
answers, a fake service speaking the documented JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, network, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.counter.app import create_counter_app
from myna.medical import service as medical
from myna.platform.settings import Settings
from myna.runtime import register_institution
from tests.integration.counter.answers import BUNDLE, CLINIC, COVERAGE, PHARMACY, RESULT

PIN = "1234"
PASSWORD = "ABC123"
PORTAL = "http://testserver"


@dataclass
class Counter:
    """The counter's browser, its world, and the personas' cards."""

    browser: TestClient
    session: Session
    settings: Settings
    cards: dict[str, str]
    residents: dict[str, registry.ResidentRead]

    def csrf(self, page: httpx.Response) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def start(self, code: str = CLINIC) -> str:
        """Start a reception; the reader screen's path."""
        page = self.browser.get(f"/{code}/")
        assert page.status_code == 200, page.text
        started = self.browser.post(
            f"/{code}/visits", data={"csrf_token": self.csrf(page)}, follow_redirects=False
        )
        assert started.status_code == 303, started.text
        return started.headers["location"]

    def place(self, visit: str, persona: str) -> httpx.Response:
        page = self.browser.get(visit)
        assert 'id="place-card"' in page.text
        placed = self.browser.post(
            f"{visit}/card",
            data={"csrf_token": self.csrf(page), "card_id": self.cards[persona]},
            follow_redirects=True,
        )
        assert placed.status_code == 200, placed.text
        return placed

    def enrol(self, persona: str) -> None:
        hub = network.build_hub(session=self.session, settings=self.settings, remote=None)
        medical.enrol(session=self.session, hub=hub, resident_id=self.residents[persona].id)
        self.session.commit()


def _world(
    session: Session, settings: Settings, institutions: bool = True
) -> tuple[dict[str, str], dict[str, registry.ResidentRead]]:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    cards = {
        key: card.issue_card(
            session=session,
            settings=settings,
            resident_id=residents[key].id,
            pin=PIN,
            password=PASSWORD,
        ).card_id
        for key in ("taro", "hanako")
    }
    if institutions:
        register_institution(
            session, settings, CLINIC, "みなと内科クリニック", settings.institution_dir
        )
        register_institution(
            session, settings, PHARMACY, "さくら薬局 港店", settings.institution_dir
        )
    session.commit()
    return cards, residents


def _counter_over(session: Session, settings: Settings, http: httpx.Client) -> Iterator[Counter]:
    cards, residents = _world(session, settings)
    app = create_counter_app(settings, http_client=http)
    with TestClient(app, base_url="http://counter") as browser:
        yield Counter(browser, session, settings, cards, residents)


@pytest.fixture
def counter(session: Session, settings: Settings, container: Container) -> Iterator[Counter]:
    with TestClient(create_app(container), base_url=PORTAL) as portal:
        yield from _counter_over(session, settings, portal)


def test_the_card_with_pin_and_consents_shows_the_insurer_and_the_medicines(
    counter: Counter,
) -> None:
    counter.enrol("taro")
    visit = counter.start()
    identify = counter.place(visit, "taro")
    assert "山田 太郎" in identify.text
    done = counter.browser.post(
        f"{visit}/pin",
        data={"csrf_token": counter.csrf(identify), "pin": PIN},
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text
    assert "当院に提供することに同意しますか" in done.text
    result = counter.browser.post(
        f"{visit}/consents",
        data={
            "csrf_token": counter.csrf(done),
            "medication": "yes",
            "checkup": "yes",
            "limit": "no",
        },
        follow_redirects=True,
    )
    assert result.status_code == 200, result.text
    assert 'id="eligibility-status"' in result.text
    assert "有効" in result.text
    assert "保険者" in result.text
    assert "薬剤情報" in result.text
    assert "限度額区分" not in result.text
    assert "次の患者" in result.text
    bundle = counter.browser.get(f"{visit}/result.fhir.json")
    assert bundle.status_code == 200, bundle.text
    assert bundle.headers["content-type"].startswith("application/fhir+json")
    kinds = {entry["resource"]["resourceType"] for entry in bundle.json()["entry"]}
    assert {"Patient", "Coverage", "MedicationDispense"} <= kinds


def test_a_wrong_pin_shows_the_tries_left_and_the_card_locks_after_three(
    counter: Counter,
) -> None:
    visit = counter.start()
    page = counter.place(visit, "taro")
    token = counter.csrf(page)
    texts = []
    for _ in range(3):
        wrong = counter.browser.post(f"{visit}/pin", data={"csrf_token": token, "pin": "0000"})
        assert wrong.status_code == 400
        assert 'role="alert"' in wrong.text
        texts.append(wrong.text)
    assert "あと2回" in texts[0] and "あと1回" in texts[1]
    locked = counter.browser.post(f"{visit}/pin", data={"csrf_token": token, "pin": PIN})
    assert locked.status_code == 400
    assert "ロック" in locked.text


def test_the_face_path_needs_the_staff_confirmation_and_a_name(counter: Counter) -> None:
    visit = counter.start()
    page = counter.place(visit, "taro")
    token = counter.csrf(page)
    unchecked = counter.browser.post(
        f"{visit}/face", data={"csrf_token": token, "staff_name": "佐藤"}
    )
    assert unchecked.status_code == 400
    assert 'href="#field-face_matches"' in unchecked.text
    assert 'value="佐藤"' in unchecked.text
    nameless = counter.browser.post(
        f"{visit}/face", data={"csrf_token": token, "face_matches": "yes", "staff_name": " "}
    )
    assert nameless.status_code == 400
    assert 'href="#field-staff_name"' in nameless.text
    assert 'href="#field-face_matches"' not in nameless.text


def test_the_service_refusal_is_shown_in_its_own_words_in_the_counter_language(
    counter: Counter,
) -> None:
    # hanako's card is not registered as a health insurance card: the service says so,
    # with what to do next, and the counter shows that message, not a trace.
    visit = counter.start()
    page = counter.place(visit, "hanako")
    refused = counter.browser.post(
        f"{visit}/face",
        data={"csrf_token": counter.csrf(page), "face_matches": "yes", "staff_name": "佐藤"},
    )
    assert refused.status_code == 404
    assert "資格確認書" in refused.text
    assert 'id="counter-problem"' in refused.text
    assert "Traceback" not in refused.text
    counter.browser.cookies.set("myna_lang", "en")
    visit = counter.start()
    page = counter.place(visit, "hanako")
    refused = counter.browser.post(
        f"{visit}/face",
        data={"csrf_token": counter.csrf(page), "face_matches": "yes", "staff_name": "Sato"},
    )
    assert "not registered for use as a health insurance card" in refused.text
    assert '<html lang="en">' in refused.text


def test_a_form_without_its_csrf_token_is_refused(counter: Counter) -> None:
    refused = counter.browser.post(f"/{CLINIC}/visits", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert "もう一度" in refused.text
    visit = counter.start()
    page = counter.browser.get(visit)
    counter.browser.cookies.clear()
    refused = counter.browser.post(
        f"{visit}/card",
        data={"csrf_token": counter.csrf(page), "card_id": counter.cards["taro"]},
    )
    assert refused.status_code == 403


def test_an_unknown_reception_gets_a_clear_page(counter: Counter) -> None:
    page = counter.browser.get(f"/{CLINIC}/visits/no-such-visit")
    assert page.status_code == 404
    assert "受付" in page.text
    assert f'href="/{CLINIC}/"' in page.text
    unknown = counter.browser.get("/9999999999/")
    assert unknown.status_code == 404
    assert "9999999999" in unknown.text
    nowhere = counter.browser.get("/nowhere/at/all")
    assert nowhere.status_code == 404
    assert "<html" in nowhere.text


def test_several_institutions_are_offered_by_name_and_code(counter: Counter) -> None:
    page = counter.browser.get("/")
    assert page.status_code == 200
    assert "みなと内科クリニック" in page.text and CLINIC in page.text
    assert "さくら薬局 港店" in page.text and "薬局" in page.text


def test_without_an_institution_the_operator_is_told_to_register_one(
    session: Session, settings: Settings
) -> None:
    with httpx.Client() as http:
        app = create_counter_app(settings, http_client=http)
        with TestClient(app, base_url="http://counter") as browser:
            page = browser.get("/")
    assert page.status_code == 200
    assert "myna medical register" in page.text
    assert 'id="no-institution"' in page.text


def test_pages_carry_a_strict_content_security_policy(counter: Counter) -> None:
    page = counter.browser.get(f"/{CLINIC}/")
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "<script" not in page.text and "style=" not in page.text


# ---- the screens after the service's answers, over a fake service ---------------------


BY_NUMBER = {
    **RESULT,
    "method": "by-number",
    "visit_id": None,
    "consents": None,
    "medications": None,
    "clinical": None,
    "checkups": None,
    "coverage": {**COVERAGE, "limit_category": None},
}
JSON_ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "/visits": (
        201,
        {
            "visit_id": "v1",
            "institution_code": CLINIC,
            "nonce": "n1",
            "expires_at": "2999-01-01T00:00:00+00:00",
        },
    ),
    "/visits/card": (200, {"visit_id": "v1", "method": "pin"}),
    "/visits/consents": (200, RESULT["consents"]),
    "/visits/result": (200, RESULT),
    "/eligibility/by-number": (200, BY_NUMBER),
}


def _fake_service(fhir: bool) -> Callable[[httpx.Request], httpx.Response]:
    """The institution API's documented answers (a fake: no signature checked here)."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/medical/v1")
        assert request.headers["content-type"] == "application/jose"
        wants_fhir = request.headers.get("accept") == "application/fhir+json"
        if fhir and wants_fhir and path in ("/visits/result", "/eligibility/by-number"):
            return httpx.Response(
                200, content=json.dumps(BUNDLE), headers={"content-type": "application/fhir+json"}
            )
        status, body = JSON_ANSWERS.get(path, (404, {"error": "not_found", "message": "?"}))
        return httpx.Response(status, json=body)

    return handle


def _fake_counter(session: Session, settings: Settings, *, fhir: bool) -> Iterator[Counter]:
    http = httpx.Client(transport=httpx.MockTransport(_fake_service(fhir)), base_url=PORTAL)
    with http:
        yield from _counter_over(session, settings, http)


@pytest.fixture
def fake_counter(session: Session, settings: Settings) -> Iterator[Counter]:
    yield from _fake_counter(session, settings, fhir=True)


@pytest.fixture
def counter_before_fhir(session: Session, settings: Settings) -> Iterator[Counter]:
    yield from _fake_counter(session, settings, fhir=False)


def _through_to_consents(counter: Counter) -> tuple[str, httpx.Response]:
    visit = counter.start()
    page = counter.place(visit, "taro")
    consents = counter.browser.post(
        f"{visit}/pin", data={"csrf_token": counter.csrf(page), "pin": PIN}, follow_redirects=True
    )
    assert consents.status_code == 200, consents.text
    return visit, consents


def test_the_consent_questions_have_no_default_and_each_needs_an_answer(
    fake_counter: Counter,
) -> None:
    visit = fake_counter.start()
    assert "カードをカードリーダーに置いてください" in fake_counter.browser.get(visit).text
    visit, page = _through_to_consents(fake_counter)
    assert "過去の診療・薬剤情報を当院に提供することに同意しますか" in page.text
    assert "特定健診情報を当院に提供することに同意しますか" in page.text
    assert "限度額情報を当院に提供することに同意しますか" in page.text
    assert "checked" not in page.text
    assert page.text.count("<legend>") == 3
    missing = fake_counter.browser.post(
        f"{visit}/consents", data={"csrf_token": fake_counter.csrf(page), "medication": "yes"}
    )
    assert missing.status_code == 400
    assert 'href="#field-checkup"' in missing.text and 'href="#field-limit"' in missing.text
    assert 'href="#field-medication"' not in missing.text


def test_the_result_screen_shows_coverage_in_wareki_medicines_and_checkups(
    fake_counter: Counter,
) -> None:
    visit, page = _through_to_consents(fake_counter)
    result = fake_counter.browser.post(
        f"{visit}/consents",
        data={
            "csrf_token": fake_counter.csrf(page),
            "medication": "yes",
            "checkup": "yes",
            "limit": "yes",
        },
        follow_redirects=True,
    )
    assert result.status_code == 200, result.text
    text = result.text
    assert "有効" in text
    assert "昭和60年4月12日" in text
    assert "みなと健康保険組合" in text and "06132013" in text
    assert "12・345（00）" in text
    assert "本人" in text and "3割" in text
    assert "限度額区分" in text and "ウ" in text
    assert "アムロジピン錠5mg" in text and "1 錠" in text and "1日1回朝食後" in text
    assert "142 mmHg ▲" in text and "55 mg/dL ▲" not in text
    assert "診療情報の記録はありません" in text
    assert 'id="view-until"' in text
    assert "FHIR（JSON）" in text
    assert 'href="/1310110018/visits/v1/result.fhir.json"' in text


def test_the_fhir_download_passes_the_services_bundle_through(fake_counter: Counter) -> None:
    visit, page = _through_to_consents(fake_counter)
    fake_counter.browser.post(
        f"{visit}/consents",
        data={
            "csrf_token": fake_counter.csrf(page),
            "medication": "no",
            "checkup": "no",
            "limit": "no",
        },
    )
    download = fake_counter.browser.get(f"{visit}/result.fhir.json")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/fhir+json")
    assert "attachment" in download.headers["content-disposition"]
    assert download.json() == BUNDLE


def test_without_fhir_from_the_service_the_download_says_so(
    counter_before_fhir: Counter,
) -> None:
    visit, page = _through_to_consents(counter_before_fhir)
    counter_before_fhir.browser.post(
        f"{visit}/consents",
        data={
            "csrf_token": counter_before_fhir.csrf(page),
            "medication": "no",
            "checkup": "no",
            "limit": "no",
        },
    )
    download = counter_before_fhir.browser.get(f"{visit}/result.fhir.json")
    assert download.status_code == 406
    assert "FHIR" in download.text and 'role="alert"' in download.text


def test_not_consented_parts_say_so(fake_counter: Counter) -> None:
    visit, page = _through_to_consents(fake_counter)
    fake_counter.browser.post(
        f"{visit}/consents",
        data={
            "csrf_token": fake_counter.csrf(page),
            "medication": "no",
            "checkup": "no",
            "limit": "no",
        },
    )
    # The fake answers as if everything were consented; what the service leaves out is
    # shown as not consented: check with a by-number lookup, which carries nothing else.
    form = fake_counter.browser.get(f"/{CLINIC}/by-number")
    result = fake_counter.browser.post(
        f"/{CLINIC}/by-number",
        data={
            "csrf_token": fake_counter.csrf(form),
            "insurer_number": "０６１３２０１３",
            "symbol": "12",
            "number": "345",
            "branch": "00",
            "birth_date": "1985-04-12",
        },
        follow_redirects=True,
    )
    assert result.status_code == 200, result.text
    assert "資格確認書" in result.text
    assert "薬剤情報" not in result.text
    assert "限度額区分" not in result.text


def test_the_fallback_form_names_each_field_that_is_not_right(fake_counter: Counter) -> None:
    form = fake_counter.browser.get(f"/{CLINIC}/by-number")
    assert form.status_code == 200
    wrong = fake_counter.browser.post(
        f"/{CLINIC}/by-number",
        data={
            "csrf_token": fake_counter.csrf(form),
            "insurer_number": "12345",
            "number": "",
            "branch": "0",
            "birth_date": "2999-01-01",
        },
    )
    assert wrong.status_code == 400
    for name in ("insurer_number", "number", "branch", "birth_date"):
        assert f'href="#field-{name}"' in wrong.text
        assert f'id="{name}-error"' in wrong.text
    assert 'href="#field-symbol"' not in wrong.text
    assert 'value="12345"' in wrong.text
