"""Back-office pages for moves: reservations of move-in and their completion (転入予約)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
