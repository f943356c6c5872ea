"""Fixtures of the agencies' unit tests."""

from __future__ import annotations

import pytest

from myna.agencies import ResidentFacts
from tests.unit.agencies.population import population_facts


@pytest.fixture(scope="session")
def sample() -> list[ResidentFacts]:
    """5,000 residents."""
    return population_facts(5_000, seed=11)
