"""The common error body and its declaration in the OpenAPI, shared by every route.

Every refusal the app renders (``myna.app.error_response``) is ``{"error", "message"}``:
JSON for API callers, an HTML page for people. :func:`error_responses` declares those
answers for the statuses a route or a router really gives, so the published OpenAPI
says what clients get (the fuzzing test checks every answer against it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["PLATFORM_ERRORS", "ErrorRead", "error_responses"]


class ErrorRead(BaseModel):
    """Every API error: a stable code and a message in the caller's language."""

    error: str
    message: str


_DESCRIPTIONS = {
    400: "The request is not valid (invalid_request or a more precise code).",
    401: "No valid credentials (login, token or signature).",
    403: "The caller may not do this.",
    404: "Not found, or not the caller's to see.",
    405: "The method is not allowed here.",
    409: "The request conflicts with the object's state.",
    410: "Gone: expired or already used.",
    413: "The request is too large.",
    415: "The body's media type is not the one this operation takes.",
    422: "The request's parameters or body are not valid (invalid_request).",
    429: "Too many attempts (rate_limited).",
    503: "Not ready: a part of the platform is not set up or not reachable.",
}


def error_responses(
    *statuses: int, model: type[BaseModel] = ErrorRead, pages: bool = False
) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for ``statuses``, each with the error body ``model``.

    ``pages`` adds ``text/html``: a route people open in a browser answers them with the
    error page instead of JSON.
    """
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer: dict[str, Any] = {"model": model, "description": _DESCRIPTIONS[status]}
        if pages:
            answer["content"] = {"text/html": {}}
        declared[status] = answer
    return declared


# What the platform itself may answer to any request, before or after its route: a NUL
# in the path or query or a bad parameter (400, 422) and a body over the size limit (413).
PLATFORM_ERRORS = error_responses(400, 413, 422, pages=True)
