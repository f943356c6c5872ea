"""Acting for another resident through the pages: parents, appointed proxies, the limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import card, jpki, network, registry
from myna.app import create_app
from myna.applications import submission
from myna.applications.models import Application, ApplicationEvent
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.platform.clock import JST, today_in_japan
from myna.platform.settings import Settings
from myna.proxy import NotARepresentativeError
from myna.proxy.models import ProxyActivity, ProxyAppointment
from myna.reader import client as login_client
from myna.registry.models import Resident as Resident_
from tests.integration.applications.filing import PASSWORD, VALID_DISASTER

PORTAL = "http://testserver"
PIN = "4321"
FORM = "/apply/131016/disaster-certificate"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, text[:500]
    return found.group(1)


class Resident:
    """A persona with a card and a browser of their own."""

    def __init__(
        self, client: TestClient, resident_id: int, card_id: str, reader: card.VirtualCardReader
    ) -> None:
        self.client = client
        self.id = resident_id
        self.card_id = card_id
        self.reader = reader

    def login(self) -> Resident:
        login_client.login(self.client, PORTAL, self.reader.open_session(self.card_id, "auth", PIN))
        return self

    def csrf(self, path: str = "/proxy") -> str:
        return _csrf(self.client.get(path).text)

    def act(self, grant: str) -> int:
        page = self.client.post(
            "/proxy/act",
            data={"csrf_token": _csrf(self.client.get("/home").text), "grant": grant},
            follow_redirects=False,
        )
        return page.status_code

    def stop(self) -> None:
        answer = self.client.post(
            "/proxy/stop",
            data={"csrf_token": _csrf(self.client.get("/home").text)},
            follow_redirects=False,
        )
        assert answer.status_code == 303


@pytest.fixture
def people(
    container: Container, session: Session, settings: Settings
) -> Iterator[Callable[[str], Resident]]:
    registry.ensure_municipalities(session=session)
    personas = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    session.commit()
    app = create_app(container)
    clients: list[TestClient] = []

    def person(key: str) -> Resident:
        resident = personas[key]
        summary = card.issue_card(
            session=session, settings=settings, resident_id=resident.id, pin=PIN, password=PASSWORD
        )
        session.commit()
        client = TestClient(app, base_url=PORTAL)
        client.__enter__()
        clients.append(client)
        return Resident(client, resident.id, summary.card_id, reader).login()

    yield person
    for client in clients:
        client.__exit__(None, None, None)


def _at(container: Container, day: date, hour: int = 12) -> None:
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=JST).astimezone(UTC)
    container.proxy_clock = lambda: moment


# --- 法定代理人: a parent and their child under 15 ------------------------------------


def test_a_parent_acts_for_their_child_at_once(
    people: Callable[[str], Resident], session: Session
) -> None:
    taro, haruto_id = people("taro"), registry.ensure_personas(session=session)["haruto"].id
    page = taro.client.get("/proxy")
    assert "山田 陽翔" in page.text
    assert taro.act(f"legal:{haruto_id}") == 303
    home = taro.client.get("/home")
    assert "山田 陽翔さんの代理で操作しています。" in home.text
    assert "自分のポータルに戻る" in home.text
    # The child's notices, with the banner; the parent's own pages refuse the session.
    notices = taro.client.get("/notices")
    assert notices.status_code == 200
    assert "代理で操作しています" in notices.text
    for own in ("/exchanges", "/account", "/proxy", "/moves"):
        refused = taro.client.get(own)
        assert refused.status_code == 403, own
        assert "代理で操作している間はこのページを使えません" in refused.text
    # わたしの情報 through the hub: logged with the child as subject and the parent as actor.
    retrieved = taro.client.post(
        "/my-info", data={"csrf_token": _csrf(home.text), "category": "local-tax"}
    )
    assert retrieved.status_code == 200
    session.expire_all()
    entries = session.scalars(
        select(LogEntryRow).where(LogEntryRow.subject == str(haruto_id))
    ).all()
    assert entries
    assert {e.actor for e in entries} == {str(taro.id)}
    assert {e.purpose for e in entries} == {"代理人による自己情報の確認"}
    taro.stop()
    assert (
        "ようこそ" in taro.client.get("/home").text or "山田 太郎" in taro.client.get("/home").text
    )
    assert "代理で操作しています" not in taro.client.get("/home").text


def test_the_child_sees_what_the_parent_did(
    people: Callable[[str], Resident], session: Session
) -> None:
    taro, haruto = people("taro"), people("haruto")
    assert taro.act(f"legal:{haruto.id}") == 303
    taro.client.post("/my-info", data={"csrf_token": taro.csrf("/home"), "category": "local-tax"})
    taro.stop()
    activity = haruto.client.get("/proxy/activity")
    assert activity.status_code == 200
    assert "山田 太郎" in activity.text
    assert "代理での操作を始めました" in activity.text
    assert "代理人による自己情報の確認" in activity.text
    history = haruto.client.get("/exchanges")
    assert "代理人 山田 太郎 による" in history.text


def test_the_parent_of_a_15_year_old_is_refused(
    people: Callable[[str], Resident], session: Session, container: Container
) -> None:
    taro, haruto_id = people("taro"), registry.ensure_personas(session=session)["haruto"].id
    _at(container, date(2031, 6, 20), hour=0)
    assert "山田 陽翔" not in taro.client.get("/proxy").text
    answer = taro.client.post(
        "/proxy/act", data={"csrf_token": taro.csrf("/home"), "grant": f"legal:{haruto_id}"}
    )
    assert answer.status_code == 403
    assert "権限は終了しました" in answer.text


def test_a_parent_already_acting_is_stopped_on_the_15th_birthday(
    people: Callable[[str], Resident], session: Session, container: Container
) -> None:
    taro, haruto_id = people("taro"), registry.ensure_personas(session=session)["haruto"].id
    _at(container, date(2031, 6, 19), hour=23)
    assert taro.act(f"legal:{haruto_id}") == 303
    assert taro.client.get("/notices").status_code == 200
    _at(container, date(2031, 6, 20), hour=0)
    refused = taro.client.get("/notices")
    assert refused.status_code == 403
    assert "権限は終了しました" in refused.text
    # The acting ended with it: the parent's own pages are theirs again.
    assert taro.client.get("/exchanges").status_code == 200
    assert "代理で操作しています" not in taro.client.get("/home").text


def test_a_stranger_cannot_act_for_someone(
    people: Callable[[str], Resident], session: Session
) -> None:
    misaki, haruto_id = people("misaki"), registry.ensure_personas(session=session)["haruto"].id
    for grant in (f"legal:{haruto_id}", "appointment:1", "legal:999999"):
        answer = misaki.client.post(
            "/proxy/act", data={"csrf_token": misaki.csrf("/home"), "grant": grant}
        )
        assert answer.status_code == 403, grant
    malformed = misaki.client.post(
        "/proxy/act", data={"csrf_token": misaki.csrf("/home"), "grant": "owner:<script>"}
    )
    assert malformed.status_code == 422
    assert "代理で操作しています" not in misaki.client.get("/home").text


# --- 任意代理人: appointed, accepted, used, revoked, expired ---------------------------


def _appoint(principal: Resident, proxy: Resident, scopes: list[str], until: date) -> int:
    shown = proxy.client.post("/proxy/code", data={"csrf_token": proxy.csrf()})
    code = re.search(r'id="proxy-code">([0-9A-Z-]+)<', shown.text)
    assert code, shown.text
    answer = principal.client.post(
        "/proxy/appoint",
        data={
            "csrf_token": principal.csrf("/proxy/appoint"),
            "code": code.group(1).lower(),
            "scope": scopes,
            "until": until.isoformat(),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    pending = proxy.client.get("/proxy")
    accept = re.search(r'action="/proxy/appointments/(\d+)/accept"', pending.text)
    assert accept
    accepted = proxy.client.post(
        f"/proxy/appointments/{accept.group(1)}/accept",
        data={"csrf_token": _csrf(pending.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    return int(accept.group(1))


def test_an_appointed_proxy_acts_within_the_scopes_only(
    people: Callable[[str], Resident],
) -> None:
    ichiro, misaki = people("ichiro"), people("misaki")
    until = today_in_japan() + timedelta(days=30)
    appointment = _appoint(ichiro, misaki, ["notices"], until)
    assert misaki.act(f"appointment:{appointment}") == 303
    assert "鈴木 一郎さんの代理で操作しています。" in misaki.client.get("/notices").text
    for beyond in ("/my-info", FORM, "/applications"):
        refused = misaki.client.get(beyond)
        assert refused.status_code == 403, beyond
        assert "このページの利用は任されていません" in refused.text
    # The menu offers only what was granted.
    menu = misaki.client.get("/home").text
    assert 'href="/notices"' in menu
    assert 'href="/my-info"' not in menu


def test_a_revoked_proxy_is_refused_at_once_even_mid_session(
    people: Callable[[str], Resident], session: Session
) -> None:
    ichiro, misaki = people("ichiro"), people("misaki")
    appointment = _appoint(
        ichiro, misaki, ["notices", "my_info"], today_in_japan() + timedelta(days=7)
    )
    assert misaki.act(f"appointment:{appointment}") == 303
    assert misaki.client.get("/notices").status_code == 200
    confirm = ichiro.client.get(f"/proxy/appointments/{appointment}/revoke")
    assert confirm.status_code == 200
    assert "今すぐ取り消す" in confirm.text
    # Without the form's token nothing is revoked.
    forged = ichiro.client.post(
        f"/proxy/appointments/{appointment}/revoke", data={"csrf_token": "x"}
    )
    assert forged.status_code == 403
    assert misaki.client.get("/notices").status_code == 200
    done = ichiro.client.post(
        f"/proxy/appointments/{appointment}/revoke",
        data={"csrf_token": _csrf(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    refused = misaki.client.get("/notices")
    assert refused.status_code == 403
    assert "代理で操作しています" not in misaki.client.get("/home").text
    again = misaki.client.post(
        "/proxy/act",
        data={"csrf_token": misaki.csrf("/home"), "grant": f"appointment:{appointment}"},
    )
    assert again.status_code == 403
    session.expire_all()
    row = session.get(ProxyAppointment, appointment)
    assert row is not None and row.revoked_at is not None


def test_another_resident_cannot_revoke_or_accept_an_appointment(
    people: Callable[[str], Resident],
) -> None:
    ichiro, misaki, taro = people("ichiro"), people("misaki"), people("taro")
    appointment = _appoint(ichiro, misaki, ["notices"], today_in_japan() + timedelta(days=7))
    assert taro.client.get(f"/proxy/appointments/{appointment}/revoke").status_code == 404
    answer = taro.client.post(
        f"/proxy/appointments/{appointment}/revoke", data={"csrf_token": taro.csrf()}
    )
    assert answer.status_code == 404
    assert misaki.act(f"appointment:{appointment}") == 303


def test_an_expired_proxy_is_refused_including_a_session_already_acting(
    people: Callable[[str], Resident], container: Container
) -> None:
    ichiro, misaki = people("ichiro"), people("misaki")
    until = today_in_japan() + timedelta(days=3)
    appointment = _appoint(ichiro, misaki, ["notices"], until)
    _at(container, until, hour=23)
    assert misaki.act(f"appointment:{appointment}") == 303
    assert misaki.client.get("/notices").status_code == 200
    _at(container, until + timedelta(days=1), hour=0)
    assert misaki.client.get("/notices").status_code == 403
    assert "鈴木 一郎" not in misaki.client.get("/proxy").text.split("あなたが任命した代理人")[0]


def test_a_proxy_never_re_delegates(people: Callable[[str], Resident]) -> None:
    ichiro, misaki, taro = people("ichiro"), people("misaki"), people("taro")
    appointment = _appoint(
        ichiro, misaki, ["notices", "my_info", "apply"], today_in_japan() + timedelta(days=7)
    )
    assert misaki.act(f"appointment:{appointment}") == 303
    token = misaki.csrf("/home")
    for path, data in (
        ("/proxy/code", {}),
        ("/proxy/appoint", {"code": "7K3M-Q9TD-2HXA", "scope": "notices", "until": "2030-01-01"}),
        ("/proxy/act", {"grant": f"legal:{taro.id}"}),
    ):
        answer = misaki.client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
    assert misaki.client.get("/proxy/appoint").status_code == 403


@pytest.mark.parametrize(
    ("code", "scopes", "until", "message"),
    [
        ("ZZZZ-ZZZZ-ZZZZ", ["notices"], 10, "この任命コードは無効です"),
        ("not a code", ["notices"], 10, "この任命コードは無効です"),
        (None, [], 10, "一つ以上選んでください"),
        (None, ["everything"], 10, "一つ以上選んでください"),
        (None, ["notices"], 0, "最終日は明日以降"),
        (None, ["notices"], 400, "最終日は明日以降"),
        (None, ["notices"], None, "最終日は明日以降"),
    ],
)
def test_bad_appointments_are_refused_with_the_reason(
    people: Callable[[str], Resident],
    session: Session,
    code: str | None,
    scopes: list[str],
    until: int | None,
    message: str,
) -> None:
    ichiro, misaki = people("ichiro"), people("misaki")
    if code is None:
        shown = misaki.client.post("/proxy/code", data={"csrf_token": misaki.csrf()})
        found = re.search(r'id="proxy-code">([0-9A-Z-]+)<', shown.text)
        assert found
        code = found.group(1)
    answer = ichiro.client.post(
        "/proxy/appoint",
        data={
            "csrf_token": ichiro.csrf("/proxy/appoint"),
            "code": code,
            "scope": scopes,
            "until": ""
            if until is None
            else (today_in_japan() + timedelta(days=until)).isoformat(),
        },
    )
    assert answer.status_code == 422
    assert message in answer.text
    session.expire_all()
    assert session.scalars(select(ProxyAppointment)).all() == []


def test_a_code_works_once_and_never_for_oneself(people: Callable[[str], Resident]) -> None:
    ichiro, misaki, taro = people("ichiro"), people("misaki"), people("taro")
    shown = misaki.client.post("/proxy/code", data={"csrf_token": misaki.csrf()})
    code = re.search(r'id="proxy-code">([0-9A-Z-]+)<', shown.text)
    assert code
    until = (today_in_japan() + timedelta(days=5)).isoformat()
    own = misaki.client.post(
        "/proxy/appoint",
        data={
            "csrf_token": misaki.csrf(),
            "code": code.group(1),
            "scope": "notices",
            "until": until,
        },
    )
    assert own.status_code == 422
    assert "自分自身を代理人に任命することはできません" in own.text
    first = ichiro.client.post(
        "/proxy/appoint",
        data={
            "csrf_token": ichiro.csrf(),
            "code": code.group(1),
            "scope": "notices",
            "until": until,
        },
        follow_redirects=False,
    )
    assert first.status_code == 303
    second = taro.client.post(
        "/proxy/appoint",
        data={"csrf_token": taro.csrf(), "code": code.group(1), "scope": "notices", "until": until},
    )
    assert second.status_code == 422


# --- signing is never delegated ----------------------------------------------------


def _prepare_as_proxy(parent: Resident) -> str:
    """The parent, acting, fills and checks the form and presses 署名して提出."""
    csrf = _csrf(parent.client.get(FORM).text)
    data = {k: ("on" if v is True else str(v)) for k, v in VALID_DISASTER.items()}
    review = parent.client.post(f"{FORM}/check", data={**data, "csrf_token": csrf})
    assert review.status_code == 200
    assert "代理人（ご自身のカードで署名）" in review.text
    key = re.search(r'name="submission_key" value="([^"]+)"', review.text)
    assert key
    answer = parent.client.post(
        f"{FORM}/sign",
        data={"csrf_token": csrf, "submission_key": key.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return str(answer.headers["location"]).rsplit("/", 1)[1]


def test_a_proxy_cannot_sign_as_the_principal(
    people: Callable[[str], Resident], session: Session, container: Container
) -> None:
    taro, haruto = people("taro"), people("haruto")
    assert taro.act(f"legal:{haruto.id}") == 303
    request_id = _prepare_as_proxy(taro)
    content = submission.request_for_reader(session=session, request_id=request_id).content
    with_childs_card = haruto.reader.open_session(haruto.card_id, "sign", PASSWORD).sign_cms(
        content
    )
    with pytest.raises(submission.ProxySignedAsPrincipalError):
        submission.complete(
            session=session,
            procedures=container.procedures,
            settings=container.settings,
            request_id=request_id,
            signature=with_childs_card,
        )
    session.rollback()
    assert session.scalars(select(Application)).all() == []


def test_a_proxy_signs_with_their_own_card_as_proxy(
    people: Callable[[str], Resident], session: Session, container: Container
) -> None:
    taro, haruto = people("taro"), people("haruto")
    assert taro.act(f"legal:{haruto.id}") == 303
    request_id = _prepare_as_proxy(taro)
    content = submission.request_for_reader(session=session, request_id=request_id).content
    signature = taro.reader.open_session(taro.card_id, "sign", PASSWORD).sign_cms(content)
    filed = submission.complete(
        session=session,
        procedures=container.procedures,
        settings=container.settings,
        request_id=request_id,
        signature=signature,
    )
    session.commit()
    application = session.scalars(select(Application)).one()
    assert application.resident_id == haruto.id
    assert application.proxy_id == taro.id
    assert application.signer_name == "山田 太郎"
    document = submission._parse(content)
    assert document["applicant"] == {"name": "山田 陽翔"}
    assert document["proxy"] == {"name": "山田 太郎"}
    events = session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
    ).all()
    assert [e.actor for e in events] == [f"proxy:{taro.id}"]
    acts = session.scalars(
        select(ProxyActivity).where(ProxyActivity.principal_id == haruto.id)
    ).all()
    assert any(a.action == "applied" and filed.receipt_number in (a.detail or "") for a in acts)
    # The child sees the filing among their applications and in what proxies did.
    assert filed.receipt_number in haruto.client.get("/applications").text
    assert filed.receipt_number in haruto.client.get("/proxy/activity").text


def test_a_signature_after_the_authority_ended_files_nothing(
    people: Callable[[str], Resident], session: Session, container: Container
) -> None:
    taro, haruto = people("taro"), people("haruto")
    assert taro.act(f"legal:{haruto.id}") == 303
    request_id = _prepare_as_proxy(taro)
    content = submission.request_for_reader(session=session, request_id=request_id).content
    # The household changes before the card answers: the parent no longer represents.
    child = session.get(Resident_, haruto.id)
    assert child is not None
    child.relation = "同居人"
    session.commit()
    signature = taro.reader.open_session(taro.card_id, "sign", PASSWORD).sign_cms(content)
    with pytest.raises(NotARepresentativeError):
        submission.complete(
            session=session,
            procedures=container.procedures,
            settings=container.settings,
            request_id=request_id,
            signature=signature,
        )
    session.rollback()
    assert session.scalars(select(Application)).all() == []
