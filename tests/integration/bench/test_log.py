"""`myna bench log`: appends, a head every second, the log verified; a used log refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from myna.cli import app


def test_the_log_benchmark_appends_signs_heads_and_verifies_then_refuses_a_used_log(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{(tmp_path / 'log.db').as_posix()}"
    out = tmp_path / "log.json"
    arguments = ["bench", "log", "--duration", "1", "--threads", "2", "--subject-entries", "50",
                 "--database-url", url]  # fmt: skip
    result = off_loop(CliRunner().invoke, app, [*arguments, "--json", str(out)])
    assert result.exit_code == 0, result.output
    details = json.loads(out.read_text(encoding="utf-8"))["details"]
    assert details["entries_appended"] > 0
    assert details["append_errors"] == 0
    assert details["tree_heads_published"] >= 1
    assert details["last_head_covers_all"] is True
    assert details["verify_log_ok"] is True
    assert details["process_cpu_ms_per_entry"] > 0
    # The same database again: its log is no longer empty, and the command says what to do.
    again = off_loop(CliRunner().invoke, app, arguments)
    assert again.exit_code == 1
    assert "not empty" in again.output
    assert "--database-url" in again.output
    assert "Traceback" not in again.output
