"""Reading a Myna service's JSON answers in its client apps (the clinic counter, the kiosk).

A success is a JSON object, read into the client's own pydantic model; a refusal is
``{"error": code, "message": localized text}``, raised as the client's refusal error so
the person at the screen reads the service's own words; anything else is unreadable.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError


class Refusal(Protocol):
    """How a client builds its refusal error from the service's answer."""

    def __call__(self, *, error: str, text: str, status_code: int) -> Exception: ...


def json_answer(
    response: httpx.Response, *, refused: Refusal, unreadable: type[Exception]
) -> dict[str, Any]:
    """The answer's JSON object; a refusal raised with the service's message."""
    try:
        body = response.json()
    except ValueError as exc:
        raise unreadable from exc
    if not isinstance(body, dict):
        raise unreadable
    if not response.is_success:
        message = body.get("message")
        if not isinstance(message, str) or not message:
            raise unreadable
        raise refused(
            error=str(body.get("error", "error")), text=message, status_code=response.status_code
        )
    return body


Read = TypeVar("Read", bound=BaseModel)


def read_answer(model: type[Read], body: dict[str, Any], *, unreadable: type[Exception]) -> Read:
    """``body`` read into ``model``; a shape the client does not know is unreadable."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise unreadable from exc
