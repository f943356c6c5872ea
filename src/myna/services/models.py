"""Service tables: e-application drafts; back-office tables live in office_models."""

from myna.platform.db import Base
from myna.services import office_models  # noqa: F401 - registers the back-office tables

__all__ = ["Base"]
