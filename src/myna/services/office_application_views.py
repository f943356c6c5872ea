"""Back-office application pages: list, detail, status changes, comments, export (申請管理)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
