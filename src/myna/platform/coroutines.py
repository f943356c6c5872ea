"""Coroutines run to completion from synchronous code.

Some libraries offer only coroutines (pyHanko's signing and validation). Synchronous
code calls them through :func:`run`: in its own thread when that thread runs no event
loop (a request handler's worker thread, a command), else in a thread of its own, since
``asyncio.run`` refuses to start inside a running loop (an async caller, or a process
whose main thread keeps one, as Playwright's synchronous API does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion and return its result (or raise its exception)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="myna-coroutine") as pool:
        return pool.submit(asyncio.run, coroutine).result()
