"""`make test` stops in its first seconds, naming the command to run, when a tool is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[3] / "scripts" / "test-prerequisites"


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Not root: the script may only say what to install, never install it.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")
    (fake / "id").chmod(0o755)
    return subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_machine_without_chromium_is_told_the_one_command(tmp_path: Path) -> None:
    done = _run(tmp_path, MYNA_CHROMIUM=str(tmp_path / "no-chromium"))
    assert done.returncode == 1
    assert "chromium" in done.stderr
    assert "sudo apt-get install -y chromium" in done.stderr


def test_a_machine_with_everything_passes(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
