"""The authorization server's endpoints: discovery, JWKS, PAR, authorize, token (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["authorization server"])
