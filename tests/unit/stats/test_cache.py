"""The dashboard cache: reused while fresh, recomputed after, age bands of the registry."""

from __future__ import annotations

import pytest

from myna.registry import age_band
from myna.stats import Dashboard, DashboardCache
from myna.stats.domain import AGE_BAND_STARTS, age_band_label


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_figures_are_reused_until_they_are_too_old() -> None:
    clock = Clock()
    cache = DashboardCache(max_age_seconds=60, clock=clock)
    made: list[object] = []

    def compute() -> Dashboard:
        made.append(object())
        return made[-1]  # type: ignore[return-value]

    first = cache.get(compute)
    clock.now += 59
    assert cache.get(compute) is first
    clock.now += 2
    assert cache.get(compute) is not first
    assert len(made) == 2
    cache.clear()
    cache.get(compute)
    assert len(made) == 3


def test_age_bands_start_at_zero_and_end_open() -> None:
    assert age_band(0, AGE_BAND_STARTS) == 0
    assert age_band(9, AGE_BAND_STARTS) == 0
    assert age_band(10, AGE_BAND_STARTS) == 10
    assert age_band(104, AGE_BAND_STARTS) == 80
    assert age_band_label(0) == "0–9"
    assert age_band_label(80) == "80+"
    with pytest.raises(ValueError, match="start at 0"):
        age_band(5, (10, 20))
