"""`myna authapp register-client | clients`, on a database of its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from myna.cli.authapp import app
from myna.platform.settings import get_settings
from tests.integration.authapp.conftest import public_jwks

runner = CliRunner()


@pytest.fixture
def cli_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MYNA_DEFAULT_LOCALE", "ja")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _register(jwks: Path, *extra: str) -> str:
    result = runner.invoke(
        app,
        ["register-client", "--name", "さくら証券株式会社",
         "--redirect-uri", "https://broker.example/callback", "--jwks", str(jwks), *extra],
    )  # fmt: skip
    return result.output if result.exit_code == 0 else f"exit {result.exit_code}: {result.output}"


def test_register_client_is_idempotent_and_keeps_the_client_id(cli_environment: Path) -> None:
    jwks = cli_environment / "jwks.json"
    keys = public_jwks(ECKey.generate_key("P-256"), ECKey.generate_key("P-256"))
    jwks.write_text(json.dumps(keys), encoding="utf-8")
    first = _register(jwks)
    again = _register(jwks, "--scope", "openid", "--scope", "sign")
    ids = [re.search(r"aa-[A-Za-z0-9_-]{22}", text) for text in (first, again)]
    assert ids[0] is not None and ids[1] is not None
    assert ids[0].group(0) == ids[1].group(0)
    assert "openid sign" in again
    listed = runner.invoke(app, ["clients"])
    assert listed.exit_code == 0
    assert listed.output.count(ids[0].group(0)) == 1


def test_a_key_set_without_an_encryption_key_is_refused_in_japanese(
    cli_environment: Path,
) -> None:
    jwks = cli_environment / "jwks.json"
    signing = ECKey.generate_key("P-256").as_dict(private=False, kid="s", use="sig")
    jwks.write_text(json.dumps({"keys": [signing]}), encoding="utf-8")
    output = _register(jwks)
    assert output.startswith("exit 1")
    assert "暗号化用の鍵" in output
