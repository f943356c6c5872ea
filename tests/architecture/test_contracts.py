"""The architecture holds: import contracts (pyproject's [tool.importlinter])."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold() -> None:
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        assert lint_imports(no_cache=True) == 0
    finally:
        os.chdir(previous)
