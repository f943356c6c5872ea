"""Cross-cutting plumbing: settings, database, migrations, logging, i18n, dates, and the
OAuth/JOSE core both authorization servers build on (:mod:`myna.platform.oauth`)."""

from myna.platform.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
