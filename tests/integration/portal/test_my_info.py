"""わたしの情報 and やりとり履歴 in the portal, for the logged-in resident only."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import network
from myna.network import transparency
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue

PORTAL = "http://testserver"


@pytest.fixture
def logged_in(portal: TestClient, taro_card: IssuedCard, session: Session) -> TestClient:
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _retrieve(client: TestClient, fmt: str = "html", categories: tuple[str, ...] = ()) -> str:
    page = client.get("/my-info")
    assert page.status_code == 200
    chosen = categories or tuple(re.findall(r'name="category" value="([^"]+)"', page.text))
    response = client.post(
        "/my-info", data={"csrf_token": _csrf(page.text), "category": list(chosen), "format": fmt}
    )
    assert response.status_code == 200, response.text
    return response.text


def test_a_resident_sees_their_information_with_source_and_date(logged_in: TestClient) -> None:
    page = _retrieve(logged_in)
    assert "住民税" in page
    assert "千代田区" in page  # the providing municipality, by name
    assert "令和" in page  # dates in 和暦


def test_the_information_downloads_as_json_and_csv(logged_in: TestClient) -> None:
    document = logged_in.post(
        "/my-info",
        data={
            "csrf_token": _csrf(logged_in.get("/my-info").text),
            "category": ["local-tax"],
            "format": "json",
        },
    )
    assert document.headers["content-disposition"].startswith("attachment")
    records = [r for c in document.json()["categories"] for r in c["records"]]
    assert records and all(r["provider"] and r["updated_at"] for r in records)
    exported = _retrieve(logged_in, "csv", ("local-tax",))
    # UTF-8 with a byte order mark: how Excel knows the file is UTF-8.
    assert exported.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert rows[0][0] == "分類"
    assert len(rows) > 1


def test_years_are_shown_without_thousands_separators(logged_in: TestClient) -> None:
    page = _retrieve(logged_in, categories=("local-tax",))
    assert "2026年度" in page and "2025年" in page
    assert "2,026" not in page and "2,025" not in page
    assert re.search(r"[0-9]{1,3},[0-9]{3},[0-9]{3}円", page)
    exported = _retrieve(logged_in, "csv", ("local-tax",))
    rows = list(csv.reader(io.StringIO(exported.removeprefix("\ufeff"))))
    values = {row[4]: row[5] for row in rows[1:]}
    assert values["課税年度"] == "2026年度"
    assert values["所得の年分"] == "2025年"
    document = logged_in.post(
        "/my-info",
        data={
            "csrf_token": _csrf(logged_in.get("/my-info").text),
            "category": ["local-tax"],
            "format": "json",
        },
    ).json()
    tax = next(r for c in document["categories"] for r in c["records"])
    assert tax["data"]["assessment_year"] == 2026  # a number in JSON, never "2,026"


def test_retrieval_needs_the_pages_csrf_token(logged_in: TestClient) -> None:
    response = logged_in.post("/my-info", data={"csrf_token": "forged", "category": ["tax"]})
    assert response.status_code == 403


def test_my_information_needs_a_login(portal: TestClient) -> None:
    response = portal.get("/my-info", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmy-info"


def test_the_exchange_history_lists_the_retrievals_and_proves_them(
    logged_in: TestClient, session: Session, settings: Settings
) -> None:
    _retrieve(logged_in, categories=("local-tax",))
    pending = logged_in.get("/exchanges")
    assert "住民税" in pending.text
    assert "次のツリーヘッドを待っています" in pending.text
    # Not yet sequenced: in the export too, without a leaf index.
    waiting = list(csv.reader(io.StringIO(logged_in.get("/exchanges.csv").text.lstrip("\ufeff"))))
    assert len(waiting) >= 2
    assert {row[0] for row in waiting[1:]} == {""}
    head = transparency.publish_tree_head(session=session, signer=network.load_log_signer(settings))
    session.commit()
    proven = logged_in.get("/exchanges")
    index = re.search(r"/exchanges/(\d+)/proof\.json", proven.text)
    assert index, proven.text
    bundle = logged_in.get(f"/exchanges/{index.group(1)}/proof.json").json()
    parsed = transparency.InclusionBundle.from_json(bundle)
    transparency.verify_entry_inclusion(entry=parsed.entry, proof=parsed.proof, head=parsed.head)
    public = transparency.public_key(network.load_log_signer(settings).public_jwk)
    transparency.verify_tree_head(parsed.head, public)
    assert parsed.head.tree_size == head.tree_size
    download = logged_in.get("/exchanges.csv").content
    assert download.startswith(b"\xef\xbb\xbf")
    exported = list(csv.reader(io.StringIO(download.decode("utf-8-sig"))))
    assert exported[0][0] == "index"
    assert len(exported) >= 2


def test_the_history_shows_one_card_per_exchange_and_what_each_agency_answered(
    logged_in: TestClient,
) -> None:
    _retrieve(logged_in, categories=("welfare",))
    _retrieve(logged_in, categories=("local-tax",))
    page = logged_in.get("/exchanges").text
    cards = re.findall(r'<li class="exchange card-panel">(.*?)</details>', page, re.S)
    assert len(cards) == 2
    newest, oldest = cards
    assert "住民税" in newest
    assert "住民税" not in oldest
    # Taro receives no public assistance: the municipality answered that it holds none.
    assistance = re.search(
        r"生活保護</dd>\s*<dt>情報提供者</dt><dd>[^<]+</dd>\s*"
        r'<dt>結果</dt><dd class="outcome outcome-(\w+)">([^<]+)</dd>',
        oldest,
    )
    assert assistance, oldest
    assert assistance.groups() == ("no_record", "該当なし")
    summary = re.search(r"<summary>(.*?)</summary>", oldest, re.S)
    assert summary
    assert re.search(r"該当なし：\d+件", summary.group(1))
    assert "ご本人による請求（自己情報開示）" in summary.group(1)
    assert "マイナポータル" in summary.group(1)


def test_one_resident_can_never_see_anothers_entries_or_proofs(
    logged_in: TestClient, session: Session, settings: Settings
) -> None:
    _retrieve(logged_in, categories=("local-tax",))
    transparency.publish_tree_head(session=session, signer=network.load_log_signer(settings))
    session.commit()
    index = re.search(r"/exchanges/(\d+)/proof\.json", logged_in.get("/exchanges").text)
    assert index
    misaki = issue(session, settings, _reader(settings), "misaki")
    other = TestClient(logged_in.app, base_url=PORTAL)
    login_client.login(other, PORTAL, misaki.reader.open_session(misaki.card_id, "auth", PIN))
    assert "該当するやりとりはありません" in other.get("/exchanges").text
    assert other.get(f"/exchanges/{index.group(1)}/proof.json").status_code == 404


def _reader(settings: Settings):  # type: ignore[no-untyped-def]
    from myna import card  # noqa: PLC0415

    return card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())


@pytest.mark.parametrize(
    "path",
    [
        "/api/me",
        "/home",
        "/my-info",
        "/exchanges",
        "/exchanges.csv",
        "/notices",
        "/applications",
        "/account",
        "/consents",
        "/moves",
    ],
)
def test_personal_answers_are_never_stored_by_a_browser_or_a_proxy(
    logged_in: TestClient, path: str
) -> None:
    response = logged_in.get(path)
    assert response.status_code == 200, path
    assert response.headers["cache-control"] == "no-store"


def test_static_files_may_be_cached(portal: TestClient) -> None:
    response = portal.get("/static/myna.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/exchanges", "/exchanges.csv"])
@pytest.mark.parametrize(
    "query", ["until=9999-12-31", "since=0001-01-01", "since=1899-12-31", "until=2101-01-01"]
)
def test_an_absurd_date_filter_is_refused_with_the_range_it_may_take(
    logged_in: TestClient, path: str, query: str
) -> None:
    response = logged_in.get(f"{path}?{query}")
    assert response.status_code == 422
    assert "日付は1900-01-01から2100-12-31までの範囲で指定してください" in response.text


def test_the_widest_date_filter_still_lists_the_history(logged_in: TestClient) -> None:
    _retrieve(logged_in, categories=("local-tax",))
    response = logged_in.get("/exchanges?since=1900-01-01&until=2100-12-31")
    assert response.status_code == 200
    assert "住民税" in response.text


@pytest.mark.parametrize("index", [2**31, 2**63 - 1])
def test_a_proof_of_a_large_but_possible_index_is_not_found(
    logged_in: TestClient, index: int
) -> None:
    assert logged_in.get(f"/exchanges/{index}/proof.json").status_code == 404


@pytest.mark.parametrize("index", [2**63, 10**30])
def test_a_proof_index_no_log_can_reach_is_refused(logged_in: TestClient, index: int) -> None:
    response = logged_in.get(f"/exchanges/{index}/proof.json")
    assert response.status_code == 422
    assert "リクエストの内容が正しくありません" in response.text
