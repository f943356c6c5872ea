"""Benchmarks drive their own event loops (``asyncio.run``).

In a test process where the browser tests' Playwright keeps a loop running in the main
thread, ``asyncio.run`` refuses to start; each benchmark therefore runs in a thread of
its own, as the `myna bench` command runs in a process of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import pytest

P = ParamSpec("P")
T = TypeVar("T")


def _off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@pytest.fixture
def off_loop() -> Callable[..., object]:
    return _off_loop
