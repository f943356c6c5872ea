"""`myna jpki register-verifier | suspend-verifier | verifiers | statement`, on its own database."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from myna import jpki
from myna.bootstrap import build_container
from myna.cli.jpki import app
from myna.jpki.models import VerifierUsage
from myna.jpki.verifier_domain import BillingMonth
from myna.jpki.verifier_identity import load_identity
from myna.platform.db import unit_of_work, utcnow
from myna.platform.settings import get_settings

runner = CliRunner()


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


def _register(out: Path, code: str, kind: str, *extra: str) -> str:
    result = runner.invoke(
        app,
        ["register-verifier", "--code", code, "--name", f"{code} 株式会社", "--kind", kind,
         "--out", str(out), *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def test_register_verifier_writes_a_key_and_a_certificate_that_verifies(
    cli_environment: Path,
) -> None:
    out = cli_environment / "verifiers"
    output = _register(out, "mirai-bank", "both")
    assert "organization\tjv-mirai-bank" in output
    assert "not encrypted" in output
    folder = out / "mirai-bank"
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    identity = load_identity(folder)
    assert (identity.code, identity.kind, identity.platform) == ("mirai-bank", "both", None)
    key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert identity.certificate.public_key() == key.public_key()
    chain = x509.load_pem_x509_certificates((folder / "chain.pem").read_bytes())
    identity.certificate.verify_directly_issued_by(chain[0])
    container = build_container(get_settings())
    try:
        with unit_of_work(container.session_factory) as session:
            verified = jpki.verify_organization_certificate(
                session=session, settings=container.settings, certificate=identity.certificate
            )
    finally:
        container.engine.dispose()
    assert verified.organization_code == "jv-mirai-bank"

    # Never over the files of a verifier: a second registration leaves them untouched.
    again = runner.invoke(
        app,
        ["register-verifier", "--code", "mirai-bank", "--name", "x", "--kind", "both",
         "--out", str(out)],
    )  # fmt: skip
    assert again.exit_code == 1
    assert "verifier_files_exist" in again.output
    assert load_identity(folder).certificate == identity.certificate
    elsewhere = runner.invoke(
        app,
        ["register-verifier", "--code", "mirai-bank", "--name", "x", "--kind", "both",
         "--out", str(cli_environment / "elsewhere")],
    )  # fmt: skip
    assert elsewhere.exit_code == 1
    assert "verifier_exists" in elsewhere.output
    assert not (cli_environment / "elsewhere" / "mirai-bank").exists()


def test_a_service_provider_registers_under_its_platform(cli_environment: Path) -> None:
    out = cli_environment / "verifiers"
    _register(out, "pf-ninsho", "both")
    output = _register(out, "chiisana-shoken", "signature", "--platform", "pf-ninsho")
    assert "platform\tpf-ninsho" in output
    refused = runner.invoke(
        app,
        ["register-verifier", "--code", "orphan", "--name", "x", "--kind", "signature",
         "--out", str(out), "--platform", "nobody"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "invalid_platform" in refused.output
    assert not (out / "orphan").exists()
    bad_kind = runner.invoke(
        app,
        ["register-verifier", "--code", "x", "--name", "x", "--kind", "signing",
         "--out", str(out)],
    )  # fmt: skip
    assert bad_kind.exit_code != 0

    listed = runner.invoke(app, ["verifiers"])
    assert listed.exit_code == 0, listed.output
    assert "chiisana-shoken\tsignature\tpf-ninsho\tactive" in listed.output
    suspended = runner.invoke(app, ["suspend-verifier", "pf-ninsho"])
    assert suspended.exit_code == 0, suspended.output
    assert "pf-ninsho\tboth\t\tsuspended" in runner.invoke(app, ["verifiers"]).output
    assert runner.invoke(app, ["resume-verifier", "pf-ninsho"]).exit_code == 0
    unknown = runner.invoke(app, ["suspend-verifier", "nobody"])
    assert unknown.exit_code == 1
    assert "unknown_verifier" in unknown.output


def test_statement_prints_the_month_as_the_api_would(cli_environment: Path) -> None:
    out = cli_environment / "verifiers"
    _register(out, "pf-ninsho", "both")
    _register(out, "chiisana-shoken", "signature", "--platform", "pf-ninsho")
    container = build_container(get_settings())
    try:
        with unit_of_work(container.session_factory) as session:
            month = BillingMonth.of(utcnow())
            # Usage as the status API writes it: 3 signing statuses by the provider.
            session.add(
                VerifierUsage(
                    verifier_code="chiisana-shoken",
                    month=str(month),
                    kind="sign_status",
                    request_id="r-1",
                    items=3,
                    unit_price_yen=20,
                    amount_yen=60,
                    at=utcnow(),
                )
            )
    finally:
        container.engine.dispose()

    printed = runner.invoke(app, ["statement", "--verifier", "pf-ninsho", "--month", str(month)])
    assert printed.exit_code == 0, printed.output
    assert "chiisana-shoken:sign_status" in printed.output
    assert "total\t60円" in printed.output
    as_json = runner.invoke(
        app, ["statement", "--verifier", "chiisana-shoken", "--month", str(month), "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    statement = json.loads(as_json.output)
    assert (statement["billed_to"], statement["total_yen"]) == ("pf-ninsho", 60)
    assert statement["lines"][0]["count"] == 3

    for month_text in ("2026-13", "99999999-01"):
        bad = runner.invoke(app, ["statement", "--verifier", "pf-ninsho", "--month", month_text])
        assert bad.exit_code == 1
        assert "invalid_month" in bad.output
    nobody = runner.invoke(app, ["statement", "--verifier", "nobody", "--month", "2026-12"])
    assert nobody.exit_code == 1
    assert "unknown_verifier" in nobody.output
