"""Coroutines run from synchronous code, with or without a running event loop.

Each case runs in a fresh thread, which has no event loop of its own: the test process's
main thread may run one (Playwright's, after a browser test).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from myna.platform import coroutines

T = TypeVar("T")


def _in_a_fresh_thread(function: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="caller") as pool:
        return pool.submit(function).result()


async def _thread_name(value: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return value, threading.current_thread().name


async def _fail() -> None:
    await asyncio.sleep(0)
    raise KeyError("missing")


def test_without_a_running_loop_it_runs_in_this_thread() -> None:
    def call() -> tuple[tuple[int, str], str]:
        return coroutines.run(_thread_name(7)), threading.current_thread().name

    (value, ran_in), caller = _in_a_fresh_thread(call)
    assert value == 7
    assert ran_in == caller


def test_inside_a_running_loop_it_runs_in_a_thread_of_its_own() -> None:
    async def caller() -> tuple[int, str]:
        # Synchronous code called from a coroutine: asyncio.run would refuse here.
        return coroutines.run(_thread_name(8))

    value, thread = _in_a_fresh_thread(lambda: asyncio.run(caller()))
    assert value == 8
    assert thread.startswith("myna-coroutine")


def test_the_coroutines_exception_reaches_the_caller_either_way() -> None:
    with pytest.raises(KeyError, match="missing"):
        _in_a_fresh_thread(lambda: coroutines.run(_fail()))

    async def caller() -> None:
        coroutines.run(_fail())

    with pytest.raises(KeyError, match="missing"):
        _in_a_fresh_thread(lambda: asyncio.run(caller()))
