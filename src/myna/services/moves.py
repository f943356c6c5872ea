"""Moves (転出届・転入予約): one submission, two municipalities (being built)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna.services.models import Application

MOVE_OUT = "moving-out"


def on_filed(session: Session, application: Application) -> None:
    """Called in the filing transaction for every application; acts on moves only."""
    del session, application
