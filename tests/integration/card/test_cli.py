"""``myna card ...`` end to end over a SQLite file database, checked with openssl."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from myna import jpki
from myna.card import KeyKind, VirtualCardReader
from myna.cli.card import app
from myna.platform.db import make_engine
from myna.platform.settings import get_settings

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.card.test_cli")

PIN = "1234"
PASSWORD = "MYNA2026"
runner = CliRunner()


@dataclass(frozen=True)
class Deployment:
    """A throwaway Myna configured through MYNA_ environment variables."""

    root: Path
    database_url: str
    card_id: str

    @property
    def reader(self) -> VirtualCardReader:
        return VirtualCardReader.from_settings(get_settings())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("cli")
    database_url = f"sqlite:///{root / 'myna.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MYNA_ENVIRONMENT", "development")
        env.setenv("MYNA_DATABASE_URL", database_url)
        env.setenv("MYNA_DATA_DIR", str(root / "var"))
        env.setenv("MYNA_CARD_SECRET", "cli-test-card-secret")
        env.setenv("MYNA_CA_SECRET", "cli-test-ca-secret")
        env.setenv("MYNA_DEFAULT_LOCALE", "ja")
        get_settings.cache_clear()
        result = runner.invoke(
            app, ["issue", "--persona", "taro", "--pin", PIN, "--password", PASSWORD]
        )
        assert result.exit_code == 0, result.output
        (summary,) = VirtualCardReader.from_settings(get_settings()).list_cards()
        assert summary.card_id in result.stdout
        yield Deployment(root=root, database_url=database_url, card_id=summary.card_id)
    get_settings.cache_clear()


@pytest.fixture
def db(deployment: Deployment) -> Iterator[Session]:
    engine = make_engine(deployment.database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def test_issue_prints_the_card_and_list_shows_it(deployment: Deployment) -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert deployment.card_id in result.stdout
    assert "山田" in result.stdout
    assert "残り3回" in result.stdout


def test_info_shows_both_certificates_in_wareki_and_iso(deployment: Deployment) -> None:
    result = runner.invoke(app, ["info", deployment.card_id])
    assert result.exit_code == 0, result.output
    for kind in KeyKind:
        certificate = deployment.reader.read_certificate(deployment.card_id, kind)
        assert f"{certificate.serial_number:X}" in result.stdout
        assert certificate.not_valid_after_utc.isoformat() in result.stdout
    assert "利用者証明用電子証明書" in result.stdout
    assert "令和" in result.stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl binary")
def test_sign_writes_a_cms_signature_that_openssl_verifies(
    deployment: Deployment, db: Session, tmp_path: Path
) -> None:
    document = tmp_path / "application.txt"
    document.write_bytes("転入届\r\nbinary \x00 content\n".encode())
    result = runner.invoke(app, ["sign", deployment.card_id, str(document), "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    signature = tmp_path / "application.txt.p7s"
    chain = tmp_path / "chain.pem"
    chain.write_bytes(
        _pem(jpki.ca_certificate(session=db, kind="root"))
        + _pem(jpki.ca_certificate(session=db, kind="sign"))
    )
    verify = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
        "-content", str(document), "-CAfile", str(chain), "-out", "/dev/null",
    ]  # fmt: skip
    verified = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    document.write_bytes(b"a different application")
    tampered = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert tampered.returncode != 0


def test_sign_writes_where_out_says(deployment: Deployment, tmp_path: Path) -> None:
    document = tmp_path / "form.json"
    document.write_text("{}")
    out = tmp_path / "signed" / "form.p7s"
    out.parent.mkdir()
    result = runner.invoke(
        app, ["sign", deployment.card_id, str(document), "--out", str(out)], input=f"{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:1] == b"\x30"  # a DER SEQUENCE
    assert PASSWORD not in result.output


def test_a_wrong_password_prints_the_localized_message_and_fails(
    deployment: Deployment, tmp_path: Path
) -> None:
    document = tmp_path / "doc.txt"
    document.write_text("x")
    result = runner.invoke(app, ["sign", deployment.card_id, str(document), "--password", "WRONG1"])
    assert result.exit_code == 1
    assert "署名用パスワードが違います。あと4回" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "doc.txt.p7s").exists()
    reset = runner.invoke(
        app, ["reset-pin", deployment.card_id, "--kind", "sign", "--new-pin", PASSWORD]
    )
    assert reset.exit_code == 0, reset.output
    assert deployment.reader.summary(deployment.card_id).sign_tries_left == 5


def test_a_malformed_pin_is_refused_before_issuing(deployment: Deployment) -> None:
    cards_before = len(deployment.reader.list_cards())
    result = runner.invoke(
        app, ["issue", "--persona", "hanako", "--pin", "12", "--password", PASSWORD]
    )
    assert result.exit_code == 1
    assert "数字4桁" in result.stderr
    assert len(deployment.reader.list_cards()) == cards_before


def test_issue_needs_exactly_one_way_to_name_the_resident(deployment: Deployment) -> None:
    cards_before = len(deployment.reader.list_cards())
    result = runner.invoke(app, ["issue", "--pin", PIN, "--password", PASSWORD])
    assert result.exit_code == 1
    assert "--persona" in result.stderr
    assert len(deployment.reader.list_cards()) == cards_before


def test_an_unknown_card_is_reported_without_a_traceback(deployment: Deployment) -> None:
    result = runner.invoke(app, ["info", "0" * 20])
    assert result.exit_code == 1
    assert "カードリーダーにありません" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_report_lost_revokes_both_certificates(deployment: Deployment, db: Session) -> None:
    hanako = runner.invoke(
        app, ["issue", "--persona", "hanako", "--pin", "4321", "--password", "HANAKO01"]
    )
    assert hanako.exit_code == 0, hanako.output
    card_id = next(
        summary.card_id
        for summary in deployment.reader.list_cards()
        if summary.card_id in hanako.stdout
    )
    result = runner.invoke(app, ["report-lost", card_id, "--yes"])
    assert result.exit_code == 0, result.output
    for kind in KeyKind:
        serial = deployment.reader.read_certificate(card_id, kind).serial_number
        record = jpki.certificate_status(session=db, serial=serial)
        assert record.status == jpki.CertificateStatus.REVOKED
        assert record.revocation_reason == jpki.RevocationReason.LOSS
    taro_serial = deployment.reader.read_certificate(deployment.card_id, KeyKind.AUTH).serial_number
    assert jpki.certificate_status(session=db, serial=taro_serial).status != (
        jpki.CertificateStatus.REVOKED
    )


def test_reissue_signing_puts_a_new_certificate_on_a_card_whose_info_changed(
    deployment: Deployment, db: Session
) -> None:
    issued = runner.invoke(
        app, ["issue", "--persona", "misaki", "--pin", "4321", "--password", "MISAKI01"]
    )
    assert issued.exit_code == 0, issued.output
    card_id = next(
        summary.card_id
        for summary in deployment.reader.list_cards()
        if summary.card_id in issued.stdout
    )
    auth = deployment.reader.read_certificate(card_id, KeyKind.AUTH)
    old = deployment.reader.read_certificate(card_id, KeyKind.SIGN)
    # Nothing changed yet: the counter refuses, and the card stays as it was.
    refused = runner.invoke(app, ["reissue-signing", card_id, "--password", "MISAKI02"])
    assert refused.exit_code == 1
    assert "再発行の必要はありません" in refused.stderr
    assert deployment.reader.read_certificate(card_id, KeyKind.SIGN) == old
    # A change of the 4 info revokes the signing certificate; the counter re-issues it.
    jpki.revoke_for_card(
        session=db,
        card_id=card_id,
        kinds=[jpki.CertificateKind.SIGN],
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    db.commit()
    result = runner.invoke(app, ["reissue-signing", card_id, "--password", "MISAKI02"])
    assert result.exit_code == 0, result.output
    new = deployment.reader.read_certificate(card_id, KeyKind.SIGN)
    assert new.serial_number != old.serial_number
    assert f"{new.serial_number:X}" in result.stdout
    assert deployment.reader.read_certificate(card_id, KeyKind.AUTH) == auth
    assert jpki.successor_chain(session=db, serial=old.serial_number) == [new.serial_number]
    deployment.reader.open_session(card_id, "sign", "MISAKI02")
