"""The browser flow without a browser: portal pages, the reader app and CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from myna.bootstrap import Container
from myna.reader.app import create_reader_app
from tests.integration.portal.conftest import PIN, IssuedCard

PORTAL = "http://testserver"


@pytest.fixture
def reader_app(container: Container, portal: TestClient) -> Iterator[TestClient]:
    # The reader talks to the portal over HTTP; here that HTTP is the portal's test client.
    api = TestClient(portal.app, base_url=PORTAL)
    with TestClient(create_reader_app(container, http_client=api), base_url="http://reader") as c:
        yield c


def _start_login(browser: TestClient) -> tuple[str, str, str]:
    page = browser.get("/login")
    assert page.status_code == 200
    challenge = re.search(r'data-challenge="([^"]+)"', page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    link = re.search(r'href="(http://[^"]+/authorize\?request_uri=[^"]+)"', page.text)
    assert challenge and csrf and link
    request_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]
    return challenge.group(1), csrf.group(1), request_uri


def _reader_csrf(page_text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert found
    return found.group(1)


def test_a_resident_logs_in_through_the_virtual_card_reader(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard
) -> None:
    challenge_id, csrf, request_uri = _start_login(portal)
    assert portal.get(f"/login/status/{challenge_id}").json()["status"] == "pending"
    assert (
        portal.get(f"/login/qr/{challenge_id}.svg")
        .headers["content-type"]
        .startswith("image/svg+xml")
    )

    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    assert form.status_code == 200
    assert "http://testserver" in form.text
    done = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": taro_card.card_id,
            "pin": PIN,
            "csrf_token": _reader_csrf(form.text),
        },
    )
    assert done.status_code == 200, done.text
    assert 'id="reader-done"' in done.text

    assert portal.get(f"/login/status/{challenge_id}").json()["status"] == "verified"
    home = portal.post(
        "/login/complete",
        data={"challenge_id": challenge_id, "csrf_token": csrf},
        follow_redirects=True,
    )
    assert home.status_code == 200
    assert "山田 太郎" in home.text
    assert "昭和60年4月12日" in home.text


def test_a_wrong_pin_shows_the_tries_left_and_the_card_locks_after_three(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard
) -> None:
    _, _, request_uri = _start_login(portal)
    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    token = _reader_csrf(form.text)
    texts = []
    for _ in range(3):
        response = reader_app.post(
            "/authorize",
            data={
                "request_uri": request_uri,
                "card_id": taro_card.card_id,
                "pin": "0000",
                "csrf_token": token,
            },
        )
        assert response.status_code == 400
        texts.append(response.text)
    assert "2" in texts[0] and "1" in texts[1]
    locked = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": taro_card.card_id,
            "pin": PIN,
            "csrf_token": token,
        },
    )
    assert locked.status_code == 400
    assert "ロック" in locked.text
    assert "市区町村" in locked.text


def test_the_reader_refuses_a_portal_it_does_not_trust(reader_app: TestClient) -> None:
    response = reader_app.get(
        "/authorize", params={"request_uri": "https://evil.example/api/login/challenges/x"}
    )
    assert response.status_code == 400
    assert "evil.example" in response.text
    assert "暗証番号を入力しないでください" in response.text


def test_the_reader_refuses_a_form_without_its_csrf_token(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard
) -> None:
    _, _, request_uri = _start_login(portal)
    response = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": taro_card.card_id,
            "pin": PIN,
            "csrf_token": "forged",
        },
    )
    assert response.status_code == 403


def test_completing_a_login_needs_the_pages_csrf_token(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    challenge_id, _, _ = _start_login(portal)
    response = portal.post(
        "/login/complete", data={"challenge_id": challenge_id, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert "再読み込み" in response.text


def test_completing_before_the_card_answered_says_so(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    challenge_id, csrf, _ = _start_login(portal)
    response = portal.post(
        "/login/complete", data={"challenge_id": challenge_id, "csrf_token": csrf}
    )
    assert response.status_code == 409
    assert "カードリーダー" in response.text


def test_another_browser_cannot_see_or_complete_the_login(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    challenge_id, _, _ = _start_login(portal)
    other = TestClient(portal.app, base_url=PORTAL)
    other.get("/login")
    # Another browser's challenge is answered as an unknown one: nothing says it exists.
    theirs = other.get(f"/login/status/{challenge_id}", headers={"Accept": "application/json"})
    unknown = other.get(
        "/login/status/" + "A" * len(challenge_id), headers={"Accept": "application/json"}
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert theirs.json()["error"] == "challenge_not_found"
    assert other.get(f"/login/qr/{challenge_id}.svg").status_code == 404


def test_the_status_without_a_session_answers_the_documented_error(
    portal: TestClient, taro_card: IssuedCard
) -> None:
    challenge_id, _, _ = _start_login(portal)
    stranger = TestClient(portal.app, base_url=PORTAL)  # no cookie at all
    for language, message in (
        (
            "ja",
            "このログイン要求は別のブラウザで開始されました。このブラウザでログインをやり直してください。",
        ),
        ("en", "This login request was started in another browser. Please start again here."),
    ):
        refused = stranger.get(
            f"/login/status/{challenge_id}", headers={"Accept-Language": language}
        )
        assert refused.status_code == 403
        assert refused.json() == {"error": "challenge_wrong_session", "message": message}


def test_home_sends_visitors_to_the_login(portal: TestClient) -> None:
    response = portal.get("/home", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fhome"


def test_pages_carry_a_strict_content_security_policy(portal: TestClient) -> None:
    response = portal.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_language_switch_shows_english(portal: TestClient) -> None:
    assert "マイナンバーカードでログイン" in portal.get("/").text
    switched = portal.get("/language", params={"lang": "en", "next": "/"}, follow_redirects=True)
    assert "Log in with your MyNumber card" in switched.text
    assert '<html lang="en">' in switched.text


def test_the_language_switch_never_redirects_elsewhere(portal: TestClient) -> None:
    response = portal.get(
        "/language", params={"lang": "en", "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_unknown_pages_get_a_localized_page_not_a_trace(portal: TestClient) -> None:
    response = portal.get("/no-such-page")
    assert response.status_code == 404
    assert "このページは存在しません" in response.text


def _answer_with_the_card(reader_app: TestClient, request_uri: str, card_id: str) -> None:
    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    done = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": card_id,
            "pin": PIN,
            "csrf_token": _reader_csrf(form.text),
        },
    )
    assert done.status_code == 200, done.text


@pytest.mark.parametrize(
    ("asked", "landed"),
    [
        ("/applications", "/applications"),
        ("//evil.example/x", "/home"),
        ("https://evil.example/", "/home"),
        ("/\\evil.example", "/home"),
    ],
)
def test_the_login_returns_to_the_page_that_asked_for_it_on_this_site_only(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard, asked: str, landed: str
) -> None:
    page = portal.get("/login", params={"next": asked})
    assert page.status_code == 200
    challenge = re.search(r'data-challenge="([^"]+)"', page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    link = re.search(r'href="(http://[^"]+/authorize\?request_uri=[^"]+)"', page.text)
    assert challenge and csrf and link
    request_uri = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["request_uri"][0]
    _answer_with_the_card(reader_app, request_uri, taro_card.card_id)
    hidden = re.search(r'name="next" value="([^"]*)"', page.text)
    assert hidden
    done = portal.post(
        "/login/complete",
        data={"challenge_id": challenge.group(1), "csrf_token": csrf.group(1), "next": asked},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == landed


@pytest.mark.parametrize(
    "path",
    [
        "/api/login/challenges/../../partners/x",
        "/api/login/challenges/x/response",
        "/api/login/challenges/x?next=/y",
        "/api/login/challenges/",
    ],
)
def test_the_reader_fetches_only_one_challenge_of_a_trusted_portal(
    reader_app: TestClient, path: str
) -> None:
    response = reader_app.get("/authorize", params={"request_uri": f"{PORTAL}{path}"})
    assert response.status_code == 400
    assert "暗証番号を入力しないでください" in response.text


def test_switching_the_reader_to_english_keeps_the_pending_login(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard
) -> None:
    _, _, request_uri = _start_login(portal)
    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    link = re.search(r'href="(/language\?lang=en&amp;next=[^"]+)"', form.text)
    assert link
    english = reader_app.get(link.group(1).replace("&amp;", "&"))
    assert english.status_code == 200
    assert english.url.params["request_uri"] == request_uri
    assert 'name="pin"' in english.text
    assert "does not trust" not in english.text
    assert "http://testserver" in english.text


def test_a_form_answered_with_a_wrong_pin_switches_language_to_the_same_request(
    portal: TestClient, reader_app: TestClient, taro_card: IssuedCard
) -> None:
    _, _, request_uri = _start_login(portal)
    form = reader_app.get("/authorize", params={"request_uri": request_uri})
    wrong = reader_app.post(
        "/authorize",
        data={
            "request_uri": request_uri,
            "card_id": taro_card.card_id,
            "pin": "0000" if PIN != "0000" else "1111",
            "csrf_token": _reader_csrf(form.text),
        },
    )
    assert wrong.status_code == 400
    link = re.search(r'href="/language\?lang=en&amp;next=([^"]+)"', wrong.text)
    assert link
    english = reader_app.get(f"/language?lang=en&next={link.group(1)}")
    assert 'name="pin"' in english.text
    assert "does not trust" not in english.text


def test_the_reader_opened_without_a_request_says_so_and_warns_of_no_site(
    reader_app: TestClient,
) -> None:
    page = reader_app.get("/authorize")
    assert "ポータルからの要求なしに開かれました" in page.text
    assert "信頼していないサイト" not in page.text
