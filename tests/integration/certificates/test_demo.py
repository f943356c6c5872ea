"""`myna demo` starts the certificate kiosk beside the portal and prints its URL."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from myna import runtime
from myna.cli import _settings_for


def test_the_demo_prints_the_kiosk_and_the_verification_page() -> None:
    out = io.StringIO()
    runtime.print_demo(
        Console(file=out, width=200),
        [runtime.DemoCard("taro", "山田 太郎", "c1", "1234", "ABC123")],
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8002",
        kiosk="http://127.0.0.1:8003",
    )
    text = out.getvalue()
    assert "Certificate kiosk / コンビニ交付端末: http://127.0.0.1:8003" in text
    assert "http://127.0.0.1:8000/certificates/verify" in text


def test_the_kiosk_listens_after_the_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYNA_KIOSK_URL", raising=False)
    assert _settings_for("127.0.0.1", 9000).kiosk_url == "http://127.0.0.1:9003"
