"""The apps' routes as the attack tests walk them (behind FastAPI's included routers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from myna.platform.sessions.web import resident_browser, resident_cookie, staff_browser

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Route:
    """One method of one route, with what the walk needs to know of it."""

    method: str
    path: str
    dependant: Dependant
    in_schema: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return [p.name for p in self.dependant.path_params]

    @property
    def cookie_session(self) -> bool:
        """Whether the route reads a browser session (the resident's or the staff's).

        Looked up before the route, or loaded by the route from the cookie it declares.
        """
        return _depends_on(self.dependant, (resident_browser, resident_cookie, staff_browser))

    @property
    def form_fields(self) -> list[str]:
        return [p.alias for p in self.dependant.body_params]


def _depends_on(dependant: Dependant, calls: tuple[object, ...]) -> bool:
    return any(d.call in calls or _depends_on(d, calls) for d in dependant.dependencies)


def walk(app: FastAPI) -> Iterator[Route]:
    """Every (method, path) of ``app``'s API routes."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            yield Route(method, str(context.path), context.dependant, context.include_in_schema)
