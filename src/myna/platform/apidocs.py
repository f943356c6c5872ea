"""The OpenAPI browser at ``/api/docs``: Swagger UI served by the portal itself.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script, both
refused by the portal's Content-Security-Policy (``script-src 'self'``). Here the
assets come from the ``fastapi-offline`` package (a maintained bundle of Swagger UI),
served under ``/static/swagger-ui/``, and Swagger UI is started by a static script of
ours (``/static/js/api-docs.js``) that reads the OpenAPI address from the page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/api/docs"
ASSETS_PREFIX = "/static/swagger-ui"
SWAGGER_UI_ASSETS = Path(fastapi_offline.__file__).with_name("static")

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — API reference</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{openapi_url}"></main>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI for the app's OpenAPI at :data:`DOCS_PATH`, assets included.

    Call it before the platform's ``/static`` mount: the first matching mount wins.
    """
    page = _PAGE.format(
        title=escape(app.title), assets=ASSETS_PREFIX, openapi_url=escape(app.openapi_url or "")
    )
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_PATH, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    app.include_router(router)
    app.mount(ASSETS_PREFIX, StaticFiles(directory=SWAGGER_UI_ASSETS), name="swagger-ui")
