"""Consent pages: consent, receipts, the list of consents, revocation (being built)."""

# No `from __future__ import annotations`: FastAPI reads the closures' annotations.

from typing import Any

from fastapi import APIRouter


def make_router(*, resident_session: Any, check_csrf: Any, cookie_name: str) -> APIRouter:
    """The pages, over the portal's login session."""
    del resident_session, check_csrf, cookie_name
    return APIRouter(include_in_schema=False)
