"""services tables."""

from myna.platform.db import Base

__all__ = ["Base"]
