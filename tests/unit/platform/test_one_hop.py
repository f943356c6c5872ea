"""``one_hop``: a sync route's body in one worker thread, its answer checked on the loop."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator

from myna.platform.web import one_hop

# Where FastAPI validated each answer against the response model.
validated_in: list[str] = []


class Answer(BaseModel):
    thread: str
    count: int

    @field_validator("count")
    @classmethod
    def _note_the_thread(cls, value: int) -> int:
        validated_in.append(threading.current_thread().name)
        return value


def test_the_route_runs_in_a_worker_thread_and_its_answer_is_checked_on_the_loop() -> None:
    app = FastAPI()

    # Answers as dictionaries: FastAPI checks them against the model (the check watched).
    @app.get("/answer", response_model=Answer)
    @one_hop
    def answer(response: Response, count: int = 1) -> dict[str, object]:
        response.headers["x-made-by"] = "route"
        return {"thread": threading.current_thread().name, "count": count}

    @app.get("/answer-as-fastapi-runs-it", response_model=Answer)
    def plain(count: int = 1) -> dict[str, object]:
        return {"thread": threading.current_thread().name, "count": count}

    validated_in.clear()
    with TestClient(app) as client:
        loop = client.portal.call(threading.current_thread).name  # type: ignore[union-attr]
        answer = client.get("/answer", params={"count": 3})
        refused = client.get("/answer", params={"count": "many"})
        client.get("/answer-as-fastapi-runs-it")
    assert answer.json()["count"] == 3
    assert answer.headers["x-made-by"] == "route"
    assert answer.json()["thread"] != loop  # the body: in a worker thread
    assert refused.status_code == 422  # the parameters are FastAPI's as before
    # one_hop's answer was checked on the event loop; a plain sync route's in a second hop.
    assert validated_in[0] == loop
    assert validated_in[1] != loop
