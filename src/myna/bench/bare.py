"""A bare FastAPI app with one trivial route: the yardstick for Myna's own request cost.

`myna bench login` serves it exactly as it serves the portal (same uvicorn options, same
client) and measures its ``/healthz`` beside the portal's, so the routing and middleware
Myna adds show as a ratio that does not depend on the machine.
"""

from __future__ import annotations

from fastapi import FastAPI


def create_bare_app() -> FastAPI:
    """FastAPI with a single ``GET /healthz``, no middleware."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
