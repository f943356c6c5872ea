"""`myna jpki ...`: init, crl, revoke and status against a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from myna import jpki
from myna.bootstrap import build_container
from myna.jpki.cli import app
from myna.platform.db import unit_of_work
from myna.platform.settings import get_settings

runner = CliRunner()


def _rows(output: str) -> list[str]:
    """The command's tab-separated table, without any log lines."""
    return [line for line in output.splitlines() if "\t" in line]


@pytest.fixture
def cli_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI reads settings from the environment: point it at a fresh SQLite file."""
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MYNA_PORTAL_URL", "http://testserver")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_cli_creates_publishes_revokes_and_reports(
    cli_environment: Path, card_keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["init"])
    assert _rows(again.output) == _rows(first.output)  # idempotent: the same fingerprints
    assert [row.split("\t")[0] for row in _rows(first.output)] == ["root", "sign", "auth"]

    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        certificate = jpki.issue_certificate(
            session=session,
            settings=container.settings,
            kind=jpki.CertificateKind.AUTH,
            public_key=card_keys["auth"].public_key(),
            holder_id=3,
            card_id="cli-card",
            birth_date=date(2001, 4, 1),
            basic_info=None,
        )
    container.engine.dispose()
    serial = f"{certificate.serial_number:#x}"

    revoked = runner.invoke(app, ["revoke", serial, "--reason", "loss"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output

    status = runner.invoke(app, ["status", str(certificate.serial_number)])
    assert status.exit_code == 0, status.output
    assert "status\trevoked" in status.output
    assert "reason\tloss" in status.output

    out = cli_environment / "auth.crl"
    written = runner.invoke(app, ["crl", "--kind", "auth", "--out", str(out)])
    assert written.exit_code == 0, written.output
    crl = x509.load_der_x509_crl(out.read_bytes())
    assert [entry.serial_number for entry in crl] == [certificate.serial_number]


def test_the_cli_explains_an_unknown_serial(cli_environment: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["status", "0x1234"])
    assert result.exit_code == 1
    assert "certificate_not_found" in result.output
    unreadable = runner.invoke(app, ["revoke", "not-a-serial", "--reason", "death"])
    assert unreadable.exit_code == 1
    assert "invalid_serial" in unreadable.output
