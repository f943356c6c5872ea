"""Cross-cutting plumbing: settings, database, migrations, logging, i18n, dates."""

from myna.platform.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
