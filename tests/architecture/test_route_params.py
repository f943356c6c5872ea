"""Every integer a URL carries into a route has an upper bound the database can hold.

Without one, ``/attachments/99999999999`` reaches PostgreSQL as an INTEGER it refuses
(or SQLite as a number it cannot bind) and the answer is a 500, not a 404 or a 422.
Routes take :mod:`myna.platform.params` types (``RowId``, ``LogIndex``, ``PageNumber``)
or an explicit ``le=``; this test walks every route of the built app to hold them to it.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import httpx
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts

from myna.app import create_app
from myna.bootstrap import Container
from myna.counter.app import create_counter_app
from myna.platform.params import INT64_MAX
from myna.reader.app import create_reader_app


def _integer(annotation: Any) -> bool:
    """``int``, or ``int | None`` and the like (``bool`` is an int, but not a number here)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_integer(arg) for arg in get_args(annotation))
    return annotation is int


def _upper_bound(metadata: list[Any]) -> int | None:
    bounds = [
        bound
        for item in metadata
        for bound in (getattr(item, "le", None), getattr(item, "lt", None))
        if bound is not None
    ]
    return min(bounds) if bounds else None


def _integer_parameters(container: Container) -> dict[tuple[str, str], int | None]:
    """(route, parameter) → its upper bound, for every integer parameter of every route.

    The apps: the portal, the card reader and the clinic counter. Query models
    (``Annotated[Model, Query()]``) are flattened into their fields, as FastAPI reads them.
    """
    with httpx.Client() as http:
        apps = [
            create_app(container),
            create_reader_app(container, http_client=http),
            create_counter_app(container, http_client=http),
        ]
    found: dict[tuple[str, str], int | None] = {}
    for app in apps:
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute):
                continue
            methods = ",".join(sorted(route.methods or ()))
            for param in get_flat_params(route.dependant):
                if _integer(param.field_info.annotation):
                    key = (f"{methods} {route.path}", param.alias)
                    found[key] = _upper_bound(param.field_info.metadata)
    return found


def test_every_integer_path_and_query_parameter_has_an_upper_bound(
    container: Container,
) -> None:
    found = _integer_parameters(container)
    unbounded = sorted(key for key, bound in found.items() if bound is None)
    assert unbounded == [], "integer parameters without an upper bound (use myna.platform.params)"
    too_large = sorted(key for key, bound in found.items() if bound and bound > INT64_MAX)
    assert too_large == [], "upper bounds beyond a BIGINT"


def test_the_walk_sees_the_routes_behind_included_routers(container: Container) -> None:
    found = _integer_parameters(container)
    assert {
        ("GET /exchanges/{index}/proof.json", "index"),
        ("GET /exchanges", "page"),
        (
            "GET /api/municipality/applications/{receipt_number}/attachments/{attachment_id}",
            "attachment_id",
        ),
        ("GET /office/applications/{receipt_number}/attachments/{attachment_id}", "attachment_id"),
        ("GET /office/moves/{move_id}", "move_id"),
    } <= set(found)
