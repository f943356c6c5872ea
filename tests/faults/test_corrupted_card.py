"""A virtual card file damaged on disk (docs/card-format.md): refused, and left as it is.

The card is issued in this process; ``myna card info`` and ``myna card sign`` then run
as processes of their own over the damaged file. Each must say, in Japanese and without
a trace, that the card failed its integrity check; write no signature; and leave the
file byte for byte as it was (no try counted, nothing "repaired").
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from myna import card, registry
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from tests.faults.conftest import portal_environment, prepared
from tests.integration.network.nodekit import myna_command

pytestmark = pytest.mark.slow

PIN = "2468"
PASSWORD = "FAULT2026"
DAMAGED = "完全性の検査に失敗"  # the card failed its integrity check


def _truncated(text: bytes) -> bytes:
    return text[: len(text) // 2]


def _counter_edited(text: bytes) -> bytes:
    content = json.loads(text)
    content["applications"]["sign"]["failures"] = 0
    content["applications"]["sign"]["limit"] = 99  # more tries than the chip allows
    return json.dumps(content).encode()


def _garbage(text: bytes) -> bytes:
    return b"\xff\xfe" + text[::-1]


def _myna(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        myna_command(*arguments), env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _refused(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert DAMAGED in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_damaged_card_file_is_refused_clearly_and_left_unchanged(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    settings = prepared(tmp_path, database_url)
    container = build_container(settings)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        issued = card.issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password=PASSWORD
        )
    container.engine.dispose()
    card_file = settings.card_dir / f"{issued.card_id}.json"
    original = card_file.read_bytes()
    document = tmp_path / "document.txt"
    document.write_text("申請書", encoding="utf-8")
    env = {**os.environ, **portal_environment(tmp_path, database_url)}

    damages: list[Callable[[bytes], bytes]] = [_truncated, _counter_edited]
    for damage in damages:
        card_file.write_bytes(damage(original))
        damaged = card_file.read_bytes()
        _refused(_myna(env, "card", "sign", issued.card_id, str(document), "--password", PASSWORD))
        assert not (tmp_path / "document.txt.p7s").exists()
        assert card_file.read_bytes() == damaged, damage.__name__
    card_file.write_bytes(_garbage(original))
    damaged = card_file.read_bytes()
    _refused(_myna(env, "card", "info", issued.card_id))
    assert card_file.read_bytes() == damaged
    # The same file, undamaged, still signs: the refusals were the damage's doing.
    card_file.write_bytes(original)
    done = _myna(env, "card", "sign", issued.card_id, str(document), "--password", PASSWORD)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "document.txt.p7s").stat().st_size > 0
