"""Coroutines run from synchronous code, with or without a running event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from myna.platform import coroutines


async def _thread_name(value: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return value, threading.current_thread().name


async def _fail() -> None:
    await asyncio.sleep(0)
    raise KeyError("missing")


def test_without_a_running_loop_it_runs_in_this_thread() -> None:
    assert coroutines.run(_thread_name(7)) == (7, threading.current_thread().name)


def test_inside_a_running_loop_it_runs_in_a_thread_of_its_own() -> None:
    async def caller() -> tuple[int, str]:
        # Synchronous code called from a coroutine: asyncio.run would refuse here.
        return coroutines.run(_thread_name(8))

    value, thread = asyncio.run(caller())
    assert value == 8
    assert thread.startswith("myna-coroutine")


def test_the_coroutines_exception_reaches_the_caller_either_way() -> None:
    with pytest.raises(KeyError, match="missing"):
        coroutines.run(_fail())

    async def caller() -> None:
        coroutines.run(_fail())

    with pytest.raises(KeyError, match="missing"):
        asyncio.run(caller())
