"""`myna jpki ...`: init, crl, revoke and status against a database of its own."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from myna import jpki
from myna.bootstrap import build_container
from myna.cli.jpki import app
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
    assert [row.split("\t")[0] for row in _rows(first.output)] == [
        "root",
        "sign",
        "auth",
        "gov",
        "pq-root",
        "pq-gov",
    ]

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


def _verify_file(path: Path) -> jpki.VerifiedOrganization:
    container = build_container(get_settings())
    try:
        with unit_of_work(container.session_factory) as session:
            return jpki.verify_organization_certificate(
                session=session,
                settings=container.settings,
                certificate=path.read_bytes(),
            )
    finally:
        container.engine.dispose()


def test_org_issue_writes_a_private_key_and_a_certificate_that_verifies(
    cli_environment: Path,
) -> None:
    out = cli_environment / "keys"
    result = runner.invoke(
        app, ["org-issue", "--code", "nta", "--name", "国税庁", "--key-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "not encrypted" in result.output  # the warning about an unencrypted key
    key_path, cert_path = out / "nta.key.pem", out / "nta.crt.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert certificate.public_key() == key.public_key()
    verified = _verify_file(cert_path)
    assert (verified.organization_code, verified.organization_name) == ("nta", "国税庁")
    chain = x509.load_pem_x509_certificates((out / "gov-chain.pem").read_bytes())
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=Myna Government CA,O=Myna JPKI,C=JP",
        "CN=Myna JPKI Root CA,O=Myna JPKI,C=JP",
    ]
    certificate.verify_directly_issued_by(chain[0])

    again = runner.invoke(
        app, ["org-issue", "--code", "nta", "--name", "国税庁", "--key-out", str(out)]
    )
    assert again.exit_code == 1
    assert "key_file_exists" in again.output
    assert x509.load_pem_x509_certificate(cert_path.read_bytes()) == certificate  # untouched

    serial = f"{certificate.serial_number:#x}"
    refused = runner.invoke(app, ["revoke", serial, "--reason", "loss"])
    assert refused.exit_code == 1
    assert "revocation_reason_mismatch" in refused.output
    revoked = runner.invoke(app, ["revoke", serial, "--reason", "key_compromise"])
    assert revoked.exit_code == 0, revoked.output
    status = runner.invoke(app, ["status", serial])
    assert "kind\torganization" in status.output
    assert "organization_code\tnta" in status.output
    assert "reason\tkey_compromise" in status.output
    with pytest.raises(jpki.VerificationError, match="revoked"):
        _verify_file(cert_path)


def test_org_issue_encrypts_the_key_with_the_passphrase_from_the_environment(
    cli_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = cli_environment / "keys"
    missing = runner.invoke(
        app,
        ["org-issue", "--code", "jps", "--name", "日本年金機構", "--key-out", str(out),
         "--passphrase-env", "MYNA_TEST_ORG_PASSPHRASE"],
    )  # fmt: skip
    assert missing.exit_code == 1
    assert "passphrase_missing" in missing.output
    assert not (out / "jps.key.pem").exists()

    monkeypatch.setenv("MYNA_TEST_ORG_PASSPHRASE", "correct horse battery staple")
    result = runner.invoke(
        app,
        ["org-issue", "--code", "jps", "--name", "日本年金機構", "--key-out", str(out),
         "--passphrase-env", "MYNA_TEST_ORG_PASSPHRASE"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not encrypted" not in result.output
    pem = (out / "jps.key.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, password=None)
    key = serialization.load_pem_private_key(pem, password=b"correct horse battery staple")
    certificate = x509.load_pem_x509_certificate((out / "jps.crt.pem").read_bytes())
    assert certificate.public_key() == key.public_key()


def test_org_issue_refuses_a_code_that_is_no_file_name(cli_environment: Path) -> None:
    out = cli_environment / "keys"
    result = runner.invoke(
        app, ["org-issue", "--code", "../nta", "--name", "国税庁", "--key-out", str(out)]
    )
    assert result.exit_code == 1
    assert "invalid_organization" in result.output
    assert not out.exists()
