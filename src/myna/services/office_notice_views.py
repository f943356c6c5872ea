"""Back-office pages for notices: compose, target, preview, schedule and send (お知らせ配信)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
