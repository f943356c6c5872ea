"""The first-segment route index: the same answers as FastAPI's own walk, only cheaper."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from myna.platform.routing import first_segment, index_routes


def _app() -> FastAPI:
    app = FastAPI()
    office = APIRouter()
    anything = APIRouter()
    services = APIRouter()

    @office.get("/office/applications/{number}")
    def office_application(number: int) -> dict[str, object]:
        return {"router": "office", "number": number}

    @office.post("/office/login")
    def office_login() -> dict[str, str]:
        return {"router": "office"}

    @anything.get("/{page}/help")
    def help_page(page: str) -> dict[str, str]:
        return {"router": "anything", "page": page}

    @services.get("/services")
    def search() -> dict[str, str]:
        return {"router": "services"}

    for router in (office, anything, services):
        app.include_router(router)
    index_routes(app)
    return app


def test_the_first_segment_of_a_path() -> None:
    assert first_segment("/office/applications/1") == "office"
    assert first_segment("/") == ""
    assert first_segment("/healthz") == "healthz"


def test_each_route_is_still_found_behind_the_index() -> None:
    client = TestClient(_app())
    assert client.get("/office/applications/7").json() == {"router": "office", "number": 7}
    assert client.get("/services").json() == {"router": "services"}
    # A router with a parameter as its first segment is always asked.
    assert client.get("/office/help").json() == {"router": "anything", "page": "office"}
    assert client.get("/services/help").json() == {"router": "anything", "page": "services"}


def test_unknown_paths_and_wrong_methods_answer_as_before() -> None:
    client = TestClient(_app())
    assert client.get("/nowhere").status_code == 404
    assert client.get("/office/login").status_code == 405
    assert client.get("/office/applications/x").status_code == 422


def test_routes_added_after_indexing_are_found() -> None:
    app = _app()
    late = APIRouter()

    @late.get("/late")
    def later() -> dict[str, str]:
        return {"router": "late"}

    app.include_router(late)
    index_routes(app)
    assert TestClient(app).get("/late").json() == {"router": "late"}


def test_routes_added_to_an_indexed_router_after_requests_are_found() -> None:
    app = FastAPI()
    flat = APIRouter()
    outer = APIRouter()
    inner = APIRouter()

    @flat.get("/flat/one")
    def one() -> dict[str, str]:
        return {"route": "one"}

    @inner.get("/nested/one")
    def nested_one() -> dict[str, str]:
        return {"route": "nested one"}

    outer.include_router(inner)
    app.include_router(flat)
    app.include_router(outer)
    index_routes(app)
    client = TestClient(app)
    assert client.get("/flat/one").json() == {"route": "one"}
    assert client.get("/nested/one").json() == {"route": "nested one"}
    assert client.get("/second/two").status_code == 404

    @flat.get("/second/two")
    def two() -> dict[str, str]:
        return {"route": "two"}

    @inner.get("/third/three")
    def three() -> dict[str, str]:
        return {"route": "three"}

    # Indexed before, asked again: the new first segments are seen in both routers.
    assert client.get("/second/two").json() == {"route": "two"}
    assert client.get("/third/three").json() == {"route": "three"}
