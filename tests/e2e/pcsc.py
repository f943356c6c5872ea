"""pcscd with vsmartcard's vpcd reader for the end-to-end PC/SC test.

A running pcscd is used as it is. Otherwise one is started and, once the test is done,
stopped by its PID. pcscd is started as a daemon because only then does it say when it
is ready: its first process exits once the daemon has created its socket and set up its
readers (in the foreground it logs "ready" before the socket exists). The test process
adopts the daemon (a Linux child subreaper, for that one start) so that it can reap
what it stopped.

Whatever makes PC/SC impossible here — no pyscard, no pcscd, no vpcd driver, a pcscd
that cannot start — skips the test with the reason, never fails it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# vpcd's first slot: pcscd names it so, and it waits for its card on 127.0.0.1:35963.
VPCD_READER = "Virtual PCD 00 00"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
SECONDS = 30
PR_SET_CHILD_SUBREAPER = 36  # prctl(2)


def _readers() -> list[str] | str:
    """The readers of a running pcscd, or why no pcscd answers."""
    from smartcard.System import readers  # noqa: PLC0415 - pyscard is checked first

    try:
        return [str(reader) for reader in readers()]
    except Exception as exc:  # pyscard raises unrelated classes for "no service"
        return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _adopting_orphans() -> Iterator[None]:
    """While inside, a descendant whose parent exits becomes this process's child."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        pytest.skip(f"prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _start_pcscd(pcscd: str) -> int:
    """Start pcscd as a daemon; its PID once it is ready (it is then our child)."""
    with _adopting_orphans():
        started = subprocess.run(
            [pcscd], capture_output=True, text=True, timeout=SECONDS, check=False
        )
    if started.returncode != 0:
        pytest.skip(
            f"pcscd cannot run here (exit {started.returncode}): "
            f"{(started.stdout + started.stderr).strip() or 'see syslog'}"
        )
    pid = int(PCSCD_PID_FILE.read_text(encoding="ascii").strip("\0\n "))
    try:
        adopted = os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        adopted = False
    assert adopted, f"pcscd {pid} is not the daemon this test started"
    return pid


def _stop_pcscd(pid: int) -> None:
    """Stop the pcscd this test started and reap it."""
    os.kill(pid, signal.SIGTERM)
    handle = os.pidfd_open(pid)
    try:
        ended, _writable, _failed = select.select([handle], [], [], SECONDS)
        if not ended:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(handle)
    os.waitpid(pid, 0)


@contextlib.contextmanager
def vpcd_reader() -> Iterator[str]:
    """The name of vpcd's reader in a running pcscd (started here if need be)."""
    pytest.importorskip("smartcard", reason="pyscard is not installed: pip install 'myna[pcsc]'")
    pcscd = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin")
    if pcscd is None:
        pytest.skip("pcscd is not installed (Debian: pcscd; scripts/test-prerequisites)")
    if not VPCD_DRIVER.exists():
        pytest.skip("vpcd is not installed (Debian: vsmartcard-vpcd)")
    running = _readers()
    if isinstance(running, list):
        if VPCD_READER not in running:
            pytest.skip(f"the running pcscd has no {VPCD_READER!r} reader: {running}")
        yield VPCD_READER
        return
    pid = _start_pcscd(pcscd)
    try:
        names = _readers()
        if not isinstance(names, list) or VPCD_READER not in names:
            pytest.skip(f"the pcscd started here has no {VPCD_READER!r} reader: {names}")
        yield VPCD_READER
    finally:
        _stop_pcscd(pid)
