"""Cheap route matching: each context's router refuses a foreign path by its first segment.

FastAPI (0.12x and later) keeps every included router as one entry of the app's routes
and matches a request by asking each in turn, each walking all of its own routes with
their per-route bookkeeping. With a dozen contexts, a request for the last one paid for
every route of every context before it — about half of the server time of a trivial
request. :func:`index_routes` gives each included router the set of first path segments
its routes can match (``/office/...`` → ``office``), so a request whose first segment is
not among them is refused at once. A router with a route whose first segment is a path
parameter keeps the full walk. Matching order, 405s and redirects are unchanged: a
router skipped here could not have matched the path.

Written here because FastAPI offers no route index; it leans on the one internal type,
``fastapi.routing._IncludedRouter``, and does nothing where that type is absent.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

try:
    from fastapi.routing import _IncludedRouter, iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens routes at inclusion
    _IncludedRouter = None  # type: ignore[assignment,misc]

__all__ = ["first_segment", "index_routes"]


def first_segment(path: str) -> str:
    """``/office/applications/1`` → ``office``; ``/`` → ``""``."""
    return path.split("/", 2)[1] if path.startswith("/") else ""


if _IncludedRouter is not None:

    class _SegmentIndexedRouter(_IncludedRouter):
        """An included router that knows which first path segments its routes serve."""

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            segments = self._first_segments()
            if segments is not None and first_segment(get_route_path(scope)) not in segments:
                return Match.NONE, {}
            return super().matches(scope)

        def _first_segments(self) -> frozenset[str] | None:
            version = self._version()
            cached: tuple[int, frozenset[str] | None] | None = self.__dict__.get("_segments")
            if cached is not None and cached[0] == version:
                return cached[1]
            found = {first_segment(str(c.path or "")) for c in iter_route_contexts([self])}
            segments = None if any("{" in s for s in found) else frozenset(found)
            self.__dict__["_segments"] = (version, segments)
            return segments

        def _version(self) -> int:
            """The routes' version: the router's own counter while it includes no router.

            FastAPI's ``_get_routes_version`` walks every route of the router to add up
            the versions of the routers it includes; asked of every included router on
            every request, that walk was most of the cost of matching. A router that
            includes none is changed only through its own counter (including a router
            into it bumps that too), so the counter alone says whether the index holds.
            """
            router = self.original_router
            nested: bool | None = self.__dict__.get("_nested")
            if nested is None or router._routes_version != self.__dict__.get("_own_version"):
                nested = any(isinstance(r, _IncludedRouter) for r in router.routes)
                self.__dict__["_nested"] = nested
                self.__dict__["_own_version"] = router._routes_version
            return router._get_routes_version() if nested else router._routes_version


def index_routes(app: FastAPI) -> None:
    """Give every router included in ``app`` its first-segment index (see the module)."""
    if _IncludedRouter is None:  # pragma: no cover
        return
    routes: list[BaseRoute] = app.router.routes
    for route in routes:
        if type(route) is _IncludedRouter:
            route.__class__ = _SegmentIndexedRouter
