"""The usage statistics from a known world: figures, suppression, open data, no one's data."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna.bootstrap import Container
from myna.portal.models import AuthEvent
from myna.stats import compute
from tests.integration.stats.conftest import EMPTY_TOWN, TOWN_A, TOWN_B, World


def test_it_publishes_the_seeded_figures_and_withholds_the_small_ones(
    session: Session, world: World
) -> None:
    dashboard = compute(session=session, threshold=10)
    cards = dashboard.cards
    assert cards.municipalities == (TOWN_A, TOWN_B)
    # Residents: A's thirties (24) and everyone (39) are shown; B's 3 are withheld, and
    # so are enough other cells that 3 cannot be worked out from the totals.
    assert cards.cells[TOWN_A, 30].residents.value == 24
    assert cards.cells[None, None].residents.value == 39
    assert cards.cells[TOWN_B, 40].residents.suppressed
    assert cards.cells[TOWN_B, None].residents.suppressed
    assert cards.cells[TOWN_A, None].residents.suppressed
    assert cards.cells[TOWN_A, 0].residents.suppressed
    # Holders: 13 in all, shown with their rate; B's one holder hides every other cell.
    assert cards.cells[None, None].holders.value == 13
    assert cards.cells[None, None].rate == round(13 / 39, 4)
    assert cards.cells[TOWN_B, 40].holders.suppressed
    assert cards.cells[TOWN_A, 30].holders.suppressed
    assert cards.cells[TOWN_A, 30].rate is None
    # Logins: 12 today and 3 yesterday; 3 is withheld and so is 12, the total stays.
    assert dashboard.logins.total.value == 15
    assert dashboard.logins.figures[dashboard.logins.keys[-1]].suppressed
    assert dashboard.logins.figures[dashboard.logins.keys[-2]].suppressed
    assert dashboard.logins.figures[dashboard.logins.keys[0]].value == 0
    assert len(dashboard.logins.keys) == 30
    # Exchanges: 11 self-disclosures, 2 child-allowance ones: both hidden, total 13.
    assert dashboard.exchanges.keys == ("child-allowance", "self-disclosure")
    assert dashboard.exchanges.figures["child-allowance"].suppressed
    assert dashboard.exchanges.figures["self-disclosure"].suppressed
    assert dashboard.exchanges.total.value == 13
    assert dashboard.notices_sent.figures["tax"].value == 12
    assert dashboard.notices_read.figures["tax"].value == 11
    assert dashboard.notices_sent.total.value == 12
    applications = dashboard.applications
    # 12 received and 2 completed: 2 is withheld, and 12 with it (else 14 − 12 tells).
    assert applications.figures["child-allowance-claim", "completed"].suppressed
    assert applications.figures["child-allowance-claim", "received"].suppressed
    assert applications.figures[None, "received"].suppressed
    assert applications.figures["child-allowance-claim", None].value == 14
    assert applications.figures[None, None].value == 14
    assert applications.figures[None, "rejected"].value == 0
    assert dashboard.api_uses.figures["partner-api"].value == 10
    assert dashboard.api_uses.total.value == 10


def test_the_json_has_every_table_and_no_ones_data(client: TestClient, world: World) -> None:
    response = client.get("/stats/data.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    data = response.json()
    assert data["threshold"] == 10
    assert set(data) >= {"cards", "logins", "exchanges", "notices", "applications", "api_uses"}
    total = next(
        r for r in data["cards"] if r["municipality_code"] is None and r["age_band"] is None
    )
    assert total["card_holders"] == {"value": 13, "suppressed": False}
    small = next(
        r for r in data["cards"] if r["municipality_code"] == TOWN_B and r["age_band"] == "40-49"
    )
    assert small["residents"] == {"value": None, "suppressed": True}
    assert small["issuance_rate"] is None
    assert len(data["logins"]) == 31
    assert data["logins"][-1] == {"day": None, "logins": {"value": 15, "suppressed": False}}
    uses = {r["organization_type"]: r for r in data["api_uses"]}
    assert uses["partner-api"]["label_ja"] != uses["partner-api"]["label_en"]
    text = response.text
    for private in world.private:
        assert private not in text
    for resident_id in world.residents["forties"]:
        assert f'"{resident_id}"' not in text


def test_the_openapi_document_describes_the_json(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/stats/data.json"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/StatsRead")
    assert "FigureRead" in spec["components"]["schemas"]
    assert "/stats/{table}.csv" in spec["paths"]


def test_each_csv_is_utf8_with_a_suppressed_flag(client: TestClient, world: World) -> None:
    for table in ("cards", "logins", "exchanges", "notices", "applications", "api_uses"):
        response = client.get(f"/stats/{table}.csv")
        assert response.status_code == 200, table
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
        assert rows, table
    cards = list(csv.DictReader(io.StringIO(client.get("/stats/cards.csv").text)))
    assert list(cards[0]) == [
        "municipality_code",
        "municipality_name",
        "age_band",
        "residents",
        "residents_suppressed",
        "card_holders",
        "card_holders_suppressed",
        "issuance_rate",
    ]
    small = next(r for r in cards if r["municipality_code"] == TOWN_B and r["age_band"] == "40-49")
    assert small["residents"] == ""
    assert small["residents_suppressed"] == "true"
    assert small["municipality_name"] == "東京都中央区"
    total = cards[-1]
    assert (total["municipality_code"], total["age_band"], total["card_holders"]) == ("", "", "13")
    for private in world.private:
        assert private not in client.get("/stats/cards.csv").text


def test_a_filter_to_a_small_municipality_shows_nothing_small(
    client: TestClient, world: World
) -> None:
    data = client.get(f"/stats/data.json?municipality={TOWN_B}").json()
    assert {r["municipality_code"] for r in data["cards"]} == {TOWN_B}
    for row in data["cards"]:
        for name in ("residents", "card_holders"):
            assert row[name]["value"] in (None, 0), row
    page = client.get(f"/stats?municipality={TOWN_B}")
    assert page.status_code == 200
    assert "この市区町村は人数が少ないため" in page.text
    csv_rows = list(
        csv.DictReader(io.StringIO(client.get(f"/stats/cards.csv?municipality={TOWN_B}").text))
    )
    assert {r["residents"] for r in csv_rows} <= {"", "0"}


def test_it_refuses_a_filter_it_cannot_answer(client: TestClient, world: World) -> None:
    unknown = client.get(f"/stats/data.json?municipality={EMPTY_TOWN}")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "stats_municipality_not_found"
    assert "市区町村" in unknown.json()["message"]
    bad = client.get("/stats/data.json?municipality=13101x")
    assert bad.status_code == 422
    assert client.get("/stats/residents.csv").status_code == 422
    assert client.get(f"/stats?municipality={EMPTY_TOWN}").status_code == 404


def test_the_page_draws_a_chart_and_a_table_per_figure(client: TestClient, world: World) -> None:
    response = client.get("/stats")
    assert response.status_code == 200
    html = response.text
    assert html.count('role="img"') == 8
    assert html.count("<table") == 8
    assert "style=" not in html
    assert "<script" not in html
    assert "<13" not in html
    assert "&lt;10" in html
    assert "令和" in html
    client.cookies.set("myna_lang", "en")
    english = client.get("/stats")
    assert "Usage statistics" in english.text
    assert "Reiwa" in english.text
    for private in world.private:
        assert private not in html


def test_the_figures_are_reused_while_fresh(
    client: TestClient, container: Container, session: Session, world: World
) -> None:
    first = client.get("/stats/data.json").json()
    session.add(AuthEvent(occurred_at=datetime.now(UTC), event="login", outcome="ok"))
    session.commit()
    assert client.get("/stats/data.json").json() == first
    container.stats_cache.clear()
    assert client.get("/stats/data.json").json()["logins"][-1]["logins"]["value"] == 16
