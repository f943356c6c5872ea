"""Back-office (申請管理) tables: staff accounts."""

from myna.platform.db import Base

__all__ = ["Base"]
