"""Usage statistics (利用状況): the public dashboard and its open data (deck p. 15).

Figures are asked of each context's public counting functions, suppressed where small
(``domain``), kept briefly per process (``cache``, held by the composition root) and
served as a page with SVG charts, JSON and CSV (``views``). Other contexts import
nothing from here.
"""

from myna.stats.cache import DashboardCache
from myna.stats.domain import DEFAULT_THRESHOLD, Dashboard, Figure
from myna.stats.service import compute

__all__ = ["DEFAULT_THRESHOLD", "Dashboard", "DashboardCache", "Figure", "compute"]
