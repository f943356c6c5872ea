"""Municipality filing API (申請データ取得API): token, list, fetch, status update."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["municipalities"])
